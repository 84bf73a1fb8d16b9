// A district abolished: its hub retires into the province hub while documents are in flight, and
// nothing is lost or handed over twice; then it is stopped and the rest of the network carries on.
// Through the CLI (lgsp hub retire, lgsp agency close, lgsp agency import), on the real broker.
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hubQueues } from '../../src/bus/topology.js';
import { makeAgent } from '../helpers/agent.js';
import { AMQP_URL, eventually, startTestNetwork, type Agent, type TestNetwork } from '../helpers/network.js';
import { lgspAsync, tempDir } from '../helpers/tools.js';

let n: TestNetwork;
let commune: Agent, school: Agent, district: Agent, otherCommune: Agent, department: Agent;
let env: Record<string, string>;
const tmp = tempDir();
let districtStopped = false;

beforeAll(async () => {
  // A quick sweep, so that a document written into a mailbox just as the hub retired is carried on soon.
  n = await startTestNetwork({ configFor: (_id, c) => ({ ...c, directory: { ...c.directory, sweepIntervalMs: 300 } }) });
  commune = n.agent('000.07.05.');
  school = n.agent('001.07.05.');
  district = n.agent('000.00.05.');
  otherCommune = n.agent('000.08.05.');
  department = n.agent('000.00.12.');
  env = { LGSP_URL: n.hubs[0]!.url, LGSP_ADMIN_TOKEN: n.net.adminToken };
}, 60_000);
afterAll(async () => {
  if (districtStopped) n.hubs.splice(1, 1); // closed already
  await n?.close();
  tmp.cleanup();
});

const cli = async (...args: string[]) => {
  const r = await lgspAsync(env, ...args, '--json');
  return { status: r.status, json: JSON.parse(r.stdout || '{}') as any, stderr: r.stderr };
};
const receivedBy = async (a: Agent) => ((await a.request('GET', '/api/v1/edocs/received?limit=1000')).json.items as { docId: string }[]).map((i) => i.docId);

describe('retiring a hub', () => {
  it('retires the district hub into the province hub with documents in flight: lost 0, duplicates 0', async () => {
    // Waiting in the district hub's mailboxes before anything happens.
    const before = await Promise.all([0, 1, 2].map(() => department.submit(n.document(department, [otherCommune], 'Chờ ở huyện'))));
    await eventually(async () => ((await receivedBy(otherCommune)).length === 3 ? true : undefined), 'three waiting at the district hub');

    // In flight: commune → district agencies and the department, department → commune, while the hub retires.
    const sends: Promise<{ status: number; json: any }>[] = [];
    for (let i = 0; i < 20; i++) {
      sends.push(commune.submit(n.document(commune, [otherCommune, district, department], `Đang gửi ${i}`)));
      sends.push(department.submit(n.document(department, [district, school], `Đang gửi xuống ${i}`)));
      if (i === 8) {
        const retired = await cli('hub', 'retire', n.hubs[1]!.id, '--into', n.hubs[0]!.id);
        expect(retired, retired.stderr).toMatchObject({ status: 0, json: { ok: true, hubId: n.hubs[1]!.id, into: n.hubs[0]!.id } });
        expect(retired.json.agencies).toEqual([district.agency.code, otherCommune.agency.code].sort());
        expect(retired.json.hubs).toEqual([n.hubs[2]!.id]);
      }
    }
    const accepted = await Promise.all(sends);
    for (const a of accepted) expect(a.status, JSON.stringify(a.json)).toBe(202);

    // The district's agencies now sign in at the province hub, and everything addressed to them is there once.
    const atProvince = (a: Agent) => makeAgent(a.agency, n.hubs[0]!.url);
    const expected = new Map<Agent, string[]>([
      [atProvince(otherCommune), [...before.map((b) => b.json.docId as string), ...accepted.filter((_, i) => i % 2 === 0).map((a) => a.json.docId as string)]],
      [atProvince(district), accepted.map((a) => a.json.docId as string)],
      [department, accepted.filter((_, i) => i % 2 === 0).map((a) => a.json.docId as string)],
      [school, accepted.filter((_, i) => i % 2 === 1).map((a) => a.json.docId as string)],
    ]);
    for (const [agent, docIds] of expected) {
      const got = await eventually(async () => {
        const r = await receivedBy(agent);
        return docIds.every((d) => r.includes(d)) ? r : undefined;
      }, `every document for ${agent.agency.code}`, 30_000);
      expect(got.length - new Set(got).size, `duplicates for ${agent.agency.code}`).toBe(0);
      expect(got.filter((d) => !docIds.includes(d)), `unexpected documents for ${agent.agency.code}`).toEqual([]);
    }
    // Every sender sees every recipient delivered.
    for (const sender of [commune, department]) {
      await eventually(async () => {
        const sent = (await sender.request('GET', '/api/v1/edocs/sent?limit=1000')).json.items as { recipients: { delivery: string }[] }[];
        return sent.every((d) => d.recipients.every((r) => r.delivery === 'delivered')) ? true : undefined;
      }, `every receipt back at ${sender.agency.code}`, 30_000);
    }

    // The retired hub has drained: its queues are empty, so it can be stopped.
    const conn = await amqp.connect(AMQP_URL);
    try {
      const ch = await conn.createChannel();
      const q = hubQueues(n.hubs[1]!.id);
      await eventually(async () => {
        let waiting = 0;
        // All three hubs share this broker: the district hub has no outboxes, only its ingress and mailbox stage.
        for (const name of [q.ingress, q.deliver, q.dead]) waiting += (await ch.checkQueue(name)).messageCount;
        return waiting === 0 ? true : undefined;
      }, 'the retired hub\'s queues empty');
    } finally {
      await conn.close();
    }
    // Nothing was refused on the way: receipts the district hub sent before it retired are still believed.
    for (const hub of [0, 1, 2]) expect((await n.admin(hub, 'GET', '/api/admin/dead-letters')).json.total, `dead letters at hub ${hub}`).toBe(0);
    await n.hubs[1]!.close();
    districtStopped = true;
    const after = await commune.submit(n.document(commune, [otherCommune], 'Sau khi bỏ cấp huyện'));
    expect(after.json.recipients).toEqual([{ organId: otherCommune.agency.code, route: 'parent' }]);
    await eventually(async () => ((await receivedBy(atProvince(otherCommune))).includes(after.json.docId) ? true : undefined), 'straight to the province hub');
  }, 120_000);

  it('closes an agency and checks a plan through the CLI', async () => {
    const closed = await cli('agency', 'close', school.agency.code, '--into', commune.agency.code, '--from', '2025-07-01T00:00:00+07:00');
    expect(closed).toMatchObject({ status: 0, json: { ok: true, code: school.agency.code, successor: commune.agency.code, from: '2025-06-30T17:00:00.000Z' } });
    expect(await cli('agency', 'close', commune.agency.code, '--into', school.agency.code)).toMatchObject({ status: 1, json: { ok: false, code: 'DIRECTORY_CONFLICT' } });
    expect(await cli('agency', 'close', commune.agency.code)).toMatchObject({ status: 2, json: { ok: false, code: 'USAGE' } });
    expect(await cli('agency', 'move', department.agency.code, '--hub', n.hubs[2]!.id)).toMatchObject({ status: 0, json: { ok: true, hubId: n.hubs[2]!.id, from: n.hubs[0]!.id } });
    // The retired hub takes no agency.
    expect(await cli('agency', 'move', department.agency.code, '--hub', n.hubs[1]!.id)).toMatchObject({ status: 1, json: { ok: false, code: 'DIRECTORY_CONFLICT' } });

    const p = n.hubs[0]!.id.slice(-3);
    const plan = tmp.file('plan.csv', [
      'code,name,hubId,successor,from', `000.31.07.${p},UBND xã Mới,${n.hubs[2]!.id},,`, `000.32.07.${p},UBND xã Cũ,${n.hubs[2]!.id},000.31.07.${p},`, `000.33.07.${p},,,,`,
    ].join('\n'));
    const refused = await cli('agency', 'import', plan, '--dry-run');
    expect(refused).toMatchObject({ status: 1, json: { ok: false, code: 'SCHEMA_INVALID', details: [{ line: 4, reason: expect.stringContaining('needs a name') }] } });
    const good = tmp.file('good.csv', ['code,name,hubId,successor,from', `000.31.07.${p},UBND xã Mới,${n.hubs[2]!.id},,`, `000.32.07.${p},UBND xã Cũ,${n.hubs[2]!.id},000.31.07.${p},`].join('\n'));
    const dry = await lgspAsync(env, 'agency', 'import', good, '--dry-run');
    expect(dry.status, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('3 change(s) would be made (nothing applied)');
    expect(dry.stdout).toContain(`close 000.32.07.${p} into 000.31.07.${p}`);
    const applied = await cli('agency', 'import', good);
    expect(applied, JSON.stringify(applied.json) + applied.stderr).toMatchObject({ status: 0, json: { ok: true, dryRun: false } });
    expect(Object.keys(applied.json.apiKeys).sort()).toEqual([`000.31.07.${p}`, `000.32.07.${p}`]);
  });
});
