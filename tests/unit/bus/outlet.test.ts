// The transport port's RabbitMQ adapters: which queue each next hop means, the header bound, and
// a further adapter for a new kind of next hop, all without a broker (the publisher records).
import { describe, expect, it } from 'vitest';
import { hubOutlet, hopHandler, type Adapter } from '../../../src/bus/outlet.js';
import { fromAmqp, MAX_HEADER_BYTES, toHeaders } from '../../../src/bus/message.js';
import type { Outgoing, Publisher } from '../../../src/bus/publisher.js';
import { hubQueues } from '../../../src/bus/topology.js';
import type { HopMessage } from '../../../src/hop/trace.js';
import type { HubError } from '../../../src/errors.js';

const HUB = '000.00.05.H41';
const message: HopMessage = {
  body: Buffer.from('<edXMLEnvelope/>'), kind: 'edoc', docId: 'd'.repeat(32), originHub: '000.07.05.H41', sender: '000.07.05.H41',
  recipients: ['000.00.12.H41'], trace: [], seal: 'c2VhbA==', sealHub: HUB,
};

function recording(): { publisher: Publisher; sent: Outgoing[] } {
  const sent: Outgoing[] = [];
  return { sent, publisher: { publish: async (m) => { sent.push(m); }, close: async () => {} } };
}

describe('the RabbitMQ outlet', () => {
  it('sends the mailbox stage to deliver, a neighbour on another broker to its outbox, any other hub to its ingress', async () => {
    const { publisher, sent } = recording();
    const outlet = hubOutlet({ hubId: HUB, publisher, viaOutbox: ['000.00.00.H41'], available: () => true });
    await outlet.send('mailbox', message);
    await outlet.send({ hub: '000.00.00.H41' }, message);
    await outlet.send({ hub: '000.07.05.H41' }, message);
    expect(sent.map((m) => m.queue)).toEqual([hubQueues(HUB).deliver, hubQueues(HUB).outbox('000.00.00.H41'), hubQueues('000.07.05.H41').ingress]);
    expect(fromAmqp(sent[0]!.body, sent[0]!.headers)).toEqual(message);
  });

  it('hands a hub with an adapter of its own (a new kind of next hop) to that adapter', async () => {
    const { publisher, sent } = recording();
    const taken: HopMessage[] = [];
    const gateway: Adapter = async (m) => { taken.push(m); };
    const outlet = hubOutlet({ hubId: HUB, publisher, viaOutbox: [], available: () => true, adapters: new Map([['000.00.00.H01', gateway]]) });
    await outlet.send({ hub: '000.00.00.H01' }, message);
    expect(taken).toEqual([message]);
    expect(sent).toEqual([]);
  });

  it('refuses a message whose headers would be over MAX_HEADER_BYTES, and only that', () => {
    const outlet = hubOutlet({ hubId: HUB, publisher: recording().publisher, viaOutbox: [], available: () => true });
    expect(outlet.refuses(message)).toBeUndefined();
    const many = { ...message, recipients: Array.from({ length: 2000 }, (_, i) => `000.00.${String(i % 100).padStart(2, '0')}.H41`) };
    expect(outlet.refuses(many)).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    expect(JSON.stringify(toHeaders(many)).length).toBeGreaterThan(MAX_HEADER_BYTES);
  });

  it('dead-letters a message whose headers cannot be read before the pipeline sees it, as it arrived', async () => {
    const handled: HopMessage[] = [];
    const dead: { headers: unknown; reason: HubError }[] = [];
    const handler = hopHandler(async ({ message: m }) => { handled.push(m); }, async (_body, headers, reason) => { dead.push({ headers, reason }); });
    const broken = { ...toHeaders(message), 'x-lgsp-trace': 'not json' };
    expect(await handler(message.body, broken)).toBe('ack');
    expect(await handler(message.body, toHeaders(message))).toBe('ack');
    expect(handled).toEqual([message]);
    expect(dead).toEqual([{ headers: broken, reason: { code: 'POLICY_VIOLATION', message: expect.stringContaining('x-lgsp-trace') } }]);
  });
});
