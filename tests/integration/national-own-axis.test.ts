// Our hub as the national axis (issue 17, item 7 and its proof "the same flows between two of our
// own networks"): a national node of ours (one hub serving ministry 000.00.00.G22, with a /vxp
// system account per province) and two province networks, each province's top hub linked up to
// the national hub's /vxp through its `upstream` with its account's secret. On the real broker:
// commune (A) → ministry → status back, and commune (A) → commune (B) → status back.
//
// What the national node knows (src/demo/national.ts): the provinces' agencies in its registry
// (routed into mailboxes their province's account reads, and listed by getAgenciesList, the
// directory each province reads), the provinces' CAs as trust anchors (their signers bound by the
// code in the certificate's subject), and each province trusts the national CA and the other's.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRootLogger } from '../../src/logger.js';
import { parseConfig } from '../../src/config.js';
import { startHub, type RunningHub } from '../../src/hub.js';
import { buildDemoNetwork, deleteNetworkQueues, type DemoNetwork } from '../../src/demo/network.js';
import { buildNationalNode, linkedUp, type NationalNode } from '../../src/demo/national.js';
import { AMQP_URL, eventually, type Agent } from '../helpers/network.js';
import { makeAgent, signedDocument, signedStatus } from '../helpers/agent.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lgsp-own-axis-'));
const log = createRootLogger(process.env.LGSP_TEST_LOG ?? 'silent');
// Codes of their own, so that their queues meet no other test's.
// One draw: A and B are 45 apart, never the same (each unit drew its own number once: 1 in 90 collided).
const seed = Math.floor(Math.random() * 90);
const unit = (letter: string, n: number) => `${letter}${String(10 + (n % 90))}`;
const [A, B] = [unit('P', seed), unit('P', seed + 45)];
const AXIS = unit('V', seed);

let national: NationalNode;
let provinces: DemoNetwork[];
const running: RunningHub[] = [];
let ministry: Agent, communeA: Agent, communeB: Agent;

async function start(config: Record<string, unknown>, netDir: string): Promise<RunningHub[]> {
  const parsed = parseConfig(config, netDir, {});
  if (!parsed.ok) throw new Error(parsed.error.message);
  const hubs: RunningHub[] = [];
  for (const h of parsed.value.hubs) {
    const hub = await startHub(parsed.value, h, { log, clock: () => new Date() });
    if (!hub.ok) throw new Error(hub.error.message);
    hubs.push(hub.value);
    running.push(hub.value);
  }
  return hubs;
}
const urlOf = (hubId: string) => running.find((h) => h.id === hubId)!.url;
const agentOf = (net: DemoNetwork, prefix: string) => {
  const a = net.agencies.find((x) => x.code.startsWith(prefix))!;
  return makeAgent(a, urlOf(a.hubId));
};

beforeAll(async () => {
  const now = new Date();
  provinces = await Promise.all([A, B].map((p) => buildDemoNetwork({ dir: path.join(dir, p), province: p, ports: [0, 0, 0], amqpUrl: AMQP_URL, now })));
  national = await buildNationalNode({ dir: path.join(dir, 'national'), axis: AXIS, port: 0, amqpUrl: AMQP_URL, now, provinces });
  for (const net of [national, ...provinces]) await deleteNetworkQueues(AMQP_URL, net);
  const [axisHub] = await start(national.config, national.dir);
  for (const p of provinces) await start(linkedUp(p, national, `${axisHub!.url}/vxp`, provinces.filter((o) => o !== p), 200), p.dir);
  ministry = makeAgent(national.ministry, axisHub!.url);
  communeA = agentOf(provinces[0]!, '000.07.05.');
  communeB = agentOf(provinces[1]!, '000.07.05.');
  // Each province's commune hub knows the national directory once its top hub has read it from our /vxp.
  for (const [from, to] of [[communeA, ministry], [communeB, communeA]] as const) {
    await eventually(async () => {
      const r = await from.submit(signedDocument(from, [to], 'Khởi động'));
      return r.status === 202 ? true : undefined;
    }, `the national directory at ${from.agency.hubId}`, 30_000);
  }
}, 120_000);
afterAll(async () => {
  for (const h of running.reverse()) await h.close();
  for (const net of [national, ...(provinces ?? [])]) if (net) await deleteNetworkQueues(AMQP_URL, net);
  fs.rmSync(dir, { recursive: true, force: true });
});

type Hop = { hub: string; verdict: string; checks: Record<string, string> };
const received = (a: Agent, docId: string) => eventually(async () =>
  ((await a.request('GET', '/api/v1/edocs/received')).json.items as { docId: string; from: string }[]).find((i) => i.docId === docId),
`${docId} at ${a.agency.code}`, 30_000);
const documentIdOf = (bytes: Buffer) => /<edXML:DocumentId>([^<]+)</.exec(bytes.toString('utf8'))![1]!;
const adminTimeline = async (hubUrl: string, token: string, docId: string) => {
  const res = await fetch(`${hubUrl}/api/admin/edocs/${docId}`, { headers: { authorization: `Bearer ${token}` } });
  return ((await res.json()) as { timeline: Hop[] }).timeline;
};

/** Sends, checks the one delivery and the traces, answers 03 and waits for it in the sender's sent list. */
async function roundTrip(to: Agent, subject: string, receiverNet: { hubs: { id: string }[]; adminToken: string }) {
  const bytes = signedDocument(communeA, [to], subject);
  const submitted = await communeA.submit(bytes);
  expect(submitted.status, JSON.stringify(submitted.json)).toBe(202);
  expect(submitted.json.recipients).toEqual([{ organId: to.agency.code, route: 'national' }]);
  const docId: string = submitted.json.docId;

  expect(await received(to, docId)).toMatchObject({ from: communeA.agency.code });
  const waiting = async () => ((await to.request('GET', '/api/v1/edocs/received')).json.items as { docId: string }[]).filter((i) => i.docId === docId);
  expect(await waiting()).toHaveLength(1);
  expect((await to.request('GET', `/api/v1/edocs/${docId}`)).bytes.equals(bytes)).toBe(true);
  expect((await to.request('POST', `/api/v1/edocs/${docId}/ack`, { result: 'done' })).status).toBe(200);

  const answer = signedStatus(to, '03', { OrganId: communeA.agency.code, DocumentId: documentIdOf(bytes) }, 'Đã tiếp nhận');
  const answered = await to.submit(answer);
  expect(answered.status).toBe(202);
  const item = await eventually(async () => {
    const sent = (await communeA.request('GET', '/api/v1/edocs/sent')).json.items.find((i: { docId: string }) => i.docId === docId);
    return sent?.recipients[0]?.status === '03' ? sent : undefined;
  }, 'status 03 in the sender\'s sent list', 30_000);
  expect(item.recipients).toEqual([expect.objectContaining({ organId: to.agency.code, delivery: 'delivered', status: '03' })]);

  // Once: acknowledged, nothing waits again for the recipient (a second copy would).
  expect(await waiting()).toEqual([]);

  // The sender's trace: commune, district and province hubs, then the axis's OK with its DocId.
  const hops = (await communeA.request('GET', `/api/v1/edocs/${docId}/trace`)).json.hops as Hop[];
  const provinceA = provinces[0]!;
  expect(hops.filter((h) => h.verdict === 'accepted').map((h) => h.hub)).toEqual([...provinceA.hubs.map((h) => h.id).reverse(), 'national']);
  // Our axis names the package as every hub does: by the digest of its bytes.
  expect(hops.find((h) => h.hub === 'national')?.checks.national).toBe(docId);
  // At the axis: checked once, the commune bound by its province's CA through the code in its subject.
  const atAxis = await adminTimeline(urlOf(national.hubs[0]!.id), national.adminToken, docId);
  expect(atAxis.map((h) => [h.hub, h.verdict])).toEqual([[national.hubs[0]!.id, 'accepted']]);
  expect(atAxis[0]!.checks).toMatchObject({ certificate: 'ok', binding: 'ca-subject-code' });
  // The answer came down into A as from outside: its signer bound by the code in its subject, from a CA A trusts.
  const answerAtA = await adminTimeline(urlOf(provinceA.hubs[0]!.id), provinceA.adminToken, answered.json.docId);
  expect(answerAtA[0]).toMatchObject({ hub: provinceA.hubs[0]!.id, verdict: 'accepted', checks: { binding: 'ca-subject-code', national: answered.json.docId } });
  return { docId, receiverTimeline: () => adminTimeline(urlOf(receiverNet.hubs[0]!.id), receiverNet.adminToken, docId) };
}

describe('our hub as the national axis between two of our provinces', () => {
  it('commune (A) → ministry: delivered once at the axis, the answer 03 back in the commune\'s sent list', async () => {
    await roundTrip(ministry, 'Báo cáo lên Bộ qua trục của chúng ta', national);
  });

  it('commune (A) → commune (B): through the axis, checked at every hop of B, the answer 03 back', async () => {
    const provinceB = provinces[1]!;
    const { receiverTimeline } = await roundTrip(communeB, 'Công văn giữa hai tỉnh', provinceB);
    // Down B's tree, each hop binding A's commune by A's CA.
    const atB = await receiverTimeline();
    const accepted = atB.filter((h) => h.verdict === 'accepted');
    expect(accepted.map((h) => h.hub)).toEqual(expect.arrayContaining(provinceB.hubs.map((h) => h.id)));
    for (const h of accepted) expect(h.checks.binding).toBe('ca-subject-code');
  });

});
