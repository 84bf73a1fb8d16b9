import { describe, expect, it } from 'vitest';
import { addressOf, brokerPermissions, hubQueues } from '../../../src/bus/topology.js';
import { trustExchange, trustQueue, replicaQueue } from '../../../src/bus/broadcast.js';

const [province, district, commune, other] = ['000.00.00.H41', '000.00.05.H41', '000.07.05.H41', '000.00.06.H41'];

describe('topology', () => {
  it('addresses a hub\'s ingress and journal through its inbound exchange, its other queues through its own', () => {
    const q = hubQueues(district);
    expect(addressOf(q.ingress)).toEqual({ exchange: `lgsp.${district}.in`, routingKey: q.ingress });
    expect(addressOf(q.journal)).toEqual({ exchange: `lgsp.${district}.in`, routingKey: q.journal });
    for (const name of [q.deliver, q.dead, q.outbox(province)]) expect(addressOf(name)).toEqual({ exchange: `lgsp.${district}.own`, routingKey: name });
    expect(addressOf('some-other-queue')).toEqual({ exchange: '', routingKey: 'some-other-queue' });
  });

  it('grants a hub\'s broker user its own queues, its neighbours\' inbound exchanges and the broadcast, nothing else', () => {
    const p = brokerPermissions(commune, [district], trustExchange(province));
    const may = (pattern: string, name: string) => new RegExp(pattern).test(name);
    expect(may(p.configure, hubQueues(commune).ingress)).toBe(false);
    for (const name of [`lgsp.${commune}.own`, `lgsp.${commune}.in`, `lgsp.${district}.in`, trustExchange(province)]) expect(may(p.write, name), name).toBe(true);
    for (const name of [`lgsp.${province}.in`, `lgsp.${district}.own`, `lgsp.${other}.in`, 'amq.default', hubQueues(district).ingress, trustQueue(province)]) {
      expect(may(p.write, name), name).toBe(false);
    }
    const mine = hubQueues(commune);
    for (const name of [mine.ingress, mine.deliver, mine.dead, mine.journal, mine.outbox(district), trustQueue(commune)]) expect(may(p.read, name), name).toBe(true);
    for (const name of [hubQueues(district).ingress, hubQueues(district).deliver, trustQueue(province), `lgsp.${commune}X.ingress`]) expect(may(p.read, name), name).toBe(false);
  });

  it('lets each replica of a hub declare, bind and read its own broadcast queue, and no other hub\'s', () => {
    const p = brokerPermissions(commune, [district], trustExchange(province));
    const may = (pattern: string, name: string) => new RegExp(pattern).test(name);
    const own = replicaQueue(commune, '0a1b2c3d');
    for (const kind of ['configure', 'write', 'read'] as const) expect(may(p[kind], own), kind).toBe(true);
    expect(may(p.read, trustExchange(province)), 'bind from the broadcast').toBe(true);
    for (const name of [replicaQueue(district, '0a1b2c3d'), trustQueue(commune), `${trustQueue(commune)}.x.y`, hubQueues(commune).ingress]) {
      expect(may(p.configure, name), name).toBe(false);
    }
  });
});
