// The network statistics on the shared PostgreSQL ledger (issue 20): every hub keeps its ledger in
// its own schema of one database; the top hub's report reads them all, a hub below only its
// subtree, and the same counts come back after every hub restarts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestNetwork, type TestNetwork } from '../helpers/network.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';

let db: TestDatabase;
let n: TestNetwork;

beforeAll(async () => {
  db = await createTestDatabase();
  n = await startTestNetwork({ configFor: (_hubId, config) => ({ ...config, ledger: { url: db.url } }) });
}, 60_000);
afterAll(async () => {
  await n?.close();
  await db?.drop();
});

describe('network statistics on the shared PostgreSQL ledger', () => {
  it('reads every hub\'s schema at the top, the subtree below it, and counts nothing twice', async () => {
    const commune = n.agent('000.07.05.');
    const department = n.agent('000.00.12.');
    const district = n.agent('000.08.05.');
    for (const to of [department, district]) expect((await commune.submit(n.document(commune, [to], 'Qua PostgreSQL'))).status).toBe(202);
    await eventually(async () => ((await department.request('GET', '/api/v1/edocs/received')).json.items.length === 1 ? true : undefined), 'the department\'s delivery');
    await eventually(async () => ((await district.request('GET', '/api/v1/edocs/received')).json.items.length === 1 ? true : undefined), 'the district agency\'s delivery');

    const day = new Date(Date.now() + 7 * 3_600_000).toISOString().slice(0, 10);
    const report = async (hub: number) => (await n.admin(hub, 'GET', `/api/admin/stats?from=${day}&to=${day}&groupBy=hub`)).json;
    const [provinceHub, districtHub, communeHub] = n.hubs.map((h) => h.id);
    const top = await report(0);
    expect(top.totals).toMatchObject({ sent: 2, received: 2, unreadHubs: [], hubs: [provinceHub, districtHub, communeHub].sort() });
    expect(top.rows.map((r: { key: string; sent: number; received: number }) => [r.key, r.sent, r.received]).sort()).toEqual([
      [provinceHub, 0, 1], [districtHub, 0, 1], [communeHub, 2, 0],
    ].sort());
    const middle = await report(1);
    expect(middle.rows.map((r: { key: string }) => r.key)).toEqual([districtHub, communeHub].sort());
    expect(middle.totals).toMatchObject({ sent: 2, received: 1 });

    await n.restart();
    expect(await report(0)).toEqual(top);
  });
});
