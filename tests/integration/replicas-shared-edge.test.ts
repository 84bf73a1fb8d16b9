// The HTTP edge's state across two replicas of a hub (`sharedState.redisUrl`, the real Redis):
// an agency's rate limit is one budget whichever replica its calls reach, and a /vxp request
// replayed to the other replica is refused as REPLAYED.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeAgent, type Agent } from '../helpers/agent.js';
import { startTestNetwork, type TestNetwork } from '../helpers/network.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { expectSdkFail, sdkClient } from '../helpers/sdk-client.js';

const REDIS_URL = process.env.LGSP_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const BURST = 6;
let db: TestDatabase;
let n: TestNetwork;
let replicas: [Agent, Agent];

beforeAll(async () => {
  db = await createTestDatabase();
  n = await startTestNetwork({
    replicas: 2, ledgerUrl: db.url,
    configFor: (_hubId, config) => ({
      ...config,
      sharedState: { redisUrl: REDIS_URL },
      // A slow refill, so that the burst alone decides within the test.
      http: { ...config.http, rateLimit: { perSecond: 0.01, burst: BURST } },
      sdk: { ...config.sdk, strict: { ...config.sdk.strict, agencies: config.agencies.filter((a) => a.code.startsWith('000.07.05.')).map((a) => a.code) } },
    }),
  });
  const commune = n.agent('000.07.05.');
  // The commune hub is hub 2; its second replica is hub 5.
  replicas = [makeAgent(commune.agency, n.hubs[2]!.url), makeAgent(commune.agency, n.hubs[5]!.url)];
}, 120_000);
afterAll(async () => {
  await n?.close();
  await db?.drop();
});

describe('the HTTP edge shared by two replicas through Redis', () => {
  it('refuses a /vxp request replayed to the other replica', async () => {
    const [a, b] = replicas;
    const first = sdkClient(`${a.url}/vxp`, a.agency.code, a.agency.apiKey);
    const second = sdkClient(`${b.url}/vxp`, b.agency.code, b.agency.apiKey);
    const signed = first.sign({ servicetype: 'eDoc', messagetype: 'edoc' });
    expect((await first.send('POST', 'getReceivedEdocList', signed)).json.status).toBe('OK');
    expectSdkFail(await second.send('POST', 'getReceivedEdocList', signed), 401, '14', 'REPLAYED');
  });

  it('spends one rate limit budget across both replicas', async () => {
    // One /vxp call above took a token; the rest of the burst goes, alternating replicas, then both refuse.
    const statuses: number[] = [];
    for (let i = 0; i < BURST + 1; i++) statuses.push((await replicas[i % 2]!.request('GET', '/api/v1/edocs/received')).status);
    expect(statuses).toEqual([...Array<number>(BURST - 1).fill(200), 429, 429]);
    const refused = await replicas[1].request('GET', '/api/v1/edocs/received');
    expect(refused).toMatchObject({ status: 429, json: { error: { code: 'RATE_LIMITED' } } });
  });
});
