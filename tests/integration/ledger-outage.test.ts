// The ledger away (issue 18, item 4): the province hub's ledger is a PostgreSQL server of this
// test's own, stopped mid-run while packages travel to it from the commune. Submissions to the
// province answer 503 UNAVAILABLE; its consumers hold what they were given instead of returning
// it (no redelivery, so no delivery count used and nothing dead-lettered); when the server is
// back, everything held is delivered by itself, submissions are accepted again, and the hub
// leads its once-per-hub work again.
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestNetwork, type Agent, type TestNetwork } from '../helpers/network.js';
import { startPrivatePostgres, type PrivatePostgres } from '../helpers/private-postgres.js';

interface LogLine { hub?: string; msg?: string; queue?: string }
const lines: LogLine[] = [];
let pg: PrivatePostgres;
let n: TestNetwork;
let commune: Agent, department: Agent;
let province: string;

beforeAll(async () => {
  pg = await startPrivatePostgres();
  const log = pino({ level: 'info' }, { write: (text: string) => { lines.push(JSON.parse(text) as LogLine); } });
  n = await startTestNetwork({
    log,
    configFor: (hubId, c) => (hubId.startsWith('000.00.00.') ? { ...c, hubs: c.hubs.map((h) => (h.id === hubId ? { ...h, ledger: { url: pg.url } } : h)) } : c),
  });
  province = n.hubs[0]!.id;
  commune = n.agent('000.07.05.');
  department = n.agent('000.00.12.');
}, 120_000);
afterAll(async () => {
  await n?.close();
  pg?.destroy();
});

const received = async () => (await department.request('GET', '/api/v1/edocs/received?limit=1000')).json.items as { docId: string }[];
const fromProvince = (msg: string) => lines.filter((l) => l.hub === province && l.msg === msg);

describe('the ledger away', () => {
  it('answers 503 to submissions, holds what is in flight without using its delivery count, and resumes by itself', async () => {
    const first = await commune.submit(n.document(commune, [department], 'Trước sự cố'));
    expect(first.status).toBe(202);
    await eventually(async () => ((await received()).some((i) => i.docId === first.json.docId) ? true : undefined), 'delivery before the outage', 30_000);

    pg.stop();
    const refused = await department.submit(n.document(department, [commune], 'Trong sự cố'));
    expect(refused).toMatchObject({ status: 503, json: { error: { code: 'UNAVAILABLE' } } });
    expect((await fetch(`${n.hubs[0]!.url}/readyz`)).status).toBe(503);

    // Packages whose next hop needs the missing ledger: accepted at the commune, held at the province.
    const sent: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await commune.submit(n.document(commune, [department], `Trong sự cố ${i}`));
      expect(r.status).toBe(202);
      sent.push(r.json.docId as string);
    }
    await eventually(async () => (fromProvince('a dependency is unreachable: holding messages and retrying them, taking no more').length > 0 ? true : undefined),
      'the province holding its messages', 15_000);
    // Longer than the old way needed to spend five deliveries and dead-letter a package.
    await new Promise((r) => setTimeout(r, 4000));

    pg.start();
    await eventually(async () => {
      const inbox = await received().catch(() => []);
      return sent.every((id) => inbox.some((i) => i.docId === id)) ? true : undefined;
    }, 'every held package delivered after the ledger returned', 60_000);
    expect(fromProvince('the outage is over: messages flow again').length).toBeGreaterThan(0);
    expect(fromProvince('handler failed; message returned to its queue')).toEqual([]);
    expect(fromProvince('message redelivered')).toEqual([]);
    const dead = await n.admin(0, 'GET', '/api/admin/dead-letters');
    expect(dead).toMatchObject({ status: 200, json: { total: 0 } });
    expect((await department.submit(n.document(department, [commune], 'Sau sự cố'))).status).toBe(202);
    // The once-per-hub work: its lead went with the server's connection and is taken again.
    expect(fromProvince('lost the lead; another replica takes it over').length).toBeGreaterThan(0);
    await eventually(async () => (fromProvince('took the lead').length >= 2 ? true : undefined), 'the lead taken again', 10_000);
  }, 150_000);
});
