// SIGTERM drains: three hubs, each a process of its own as deployed (`lgsp start --hub`), carry
// a stream of documents while the commune hub (taking the submissions) and then the district hub
// (mid-route) are stopped with SIGTERM and started again. Each exits 0 after finishing what it
// had in hand; every accepted document arrives exactly once, every receipt comes back, every
// stopped consumer finished all it was given, and no mailbox absorbs a duplicate: nothing was
// left unacknowledged or sent twice by a clean stop.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDemoNetwork, type DemoNetwork } from '../../src/demo/network.js';
import { makeAgent, signedDocument, type Agent } from '../helpers/agent.js';
import { AMQP_URL, eventually, purge } from '../helpers/network.js';
import { spawnLoggedHub, type LoggedHub } from '../helpers/hub-processes.js';

const DOCUMENTS = 300;
const CLIENTS = 6;

interface LogLine { level?: number; msg?: string; err?: string; url?: string; queue?: string; deliveryCount?: number; delivered?: number; finished?: number }
interface HubRun extends LoggedHub<LogLine> { hubId: string; url: Promise<string> }

let dir: string;
let net: DemoNetwork;
let configFile: string;
const runs: HubRun[] = [];

/** Starts `lgsp start --hub ID` and reads its JSON log; its URL comes from the "hub started" line. */
function startHub(hubId: string): HubRun {
  const hub = spawnLoggedHub<LogLine>(configFile, hubId);
  const run = { hubId, ...hub, url: hub.started.then((l) => l.url!) };
  runs.push(run);
  return run;
}

/** SIGTERM, then the exit status (the test's timeout catches a hub that never exits). */
async function stop(run: HubRun): Promise<number | null> {
  run.child.kill('SIGTERM');
  return run.exit;
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lgsp-shutdown-'));
  net = await buildDemoNetwork({ dir, province: `S${String(10 + Math.floor(Math.random() * 90))}`, ports: [0, 0, 0], amqpUrl: AMQP_URL, now: new Date() });
  configFile = path.join(dir, 'config.json');
  fs.writeFileSync(configFile, JSON.stringify(net.config));
  await purge(net);
}, 60_000);
afterAll(async () => {
  await Promise.all(runs.filter((r) => r.child.exitCode === null && r.child.signalCode === null).map(stop));
  await purge(net);
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('graceful shutdown', () => {
  it('drains on SIGTERM: exit 0, nothing lost, nothing left unacknowledged, nothing handled twice', async () => {
    const [provinceId, districtId, communeId] = net.hubs.map((h) => h.id) as [string, string, string];
    const province = startHub(provinceId);
    let district = startHub(districtId);
    let commune = startHub(communeId);
    const agencyOf = (prefix: string) => net.agencies.find((a) => a.code.startsWith(prefix))!;
    const department = makeAgent(agencyOf('000.00.12.'), await province.url);
    await district.url;
    let sender = makeAgent(agencyOf('000.07.05.'), await commune.url);

    // Clients submit until each package is accepted: while the commune hub is down or closing,
    // a refused connection or a 503 UNAVAILABLE means "not accepted, try again".
    const accepted: string[] = [];
    const packages = Array.from({ length: DOCUMENTS }, (_, i) => signedDocument(sender, [department], `Gói ${i}`));
    const retries: Record<string, number> = {};
    const submit = (bytes: Buffer) => eventually(async () => {
      const r = await sender.submit(bytes).catch((err: Error) => {
        if (err.name !== 'TypeError') throw err; // fetch's "fetch failed": the hub is not listening
        return { status: 0, json: undefined };
      });
      if (r.status === 202 || r.status === 200) return r.json.docId as string;
      if (r.status !== 0 && r.status !== 503) throw new Error(`refused: ${r.status} ${JSON.stringify(r.json)}`);
      const why = r.status === 0 ? 'not listening' : '503 UNAVAILABLE';
      retries[why] = (retries[why] ?? 0) + 1;
      return undefined;
    }, 'acceptance', 60_000);
    let next = 0;
    const load = Promise.all(Array.from({ length: CLIENTS }, async () => {
      for (let i = next++; i < DOCUMENTS; i = next++) accepted.push(await submit(packages[i]!));
    }));
    const reached = (n: number) => eventually(async () => (accepted.length >= n ? true : undefined), `${n} accepted`, 60_000);

    // The commune hub stops while submissions are in flight, and comes back on a new port.
    await reached(DOCUMENTS / 4);
    expect(accepted.length).toBeLessThan(DOCUMENTS / 2);
    expect(await stop(commune)).toBe(0);
    expect(commune.lines.some((l) => l.msg === 'hub stopped')).toBe(true);
    commune = startHub(communeId);
    sender = makeAgent(agencyOf('000.07.05.'), await commune.url);

    // The district hub stops mid-stream, with packages in its hands, and comes back.
    await reached(DOCUMENTS / 2);
    expect(accepted.length).toBeLessThan(DOCUMENTS);
    expect(await stop(district)).toBe(0);
    expect(district.lines.some((l) => l.msg === 'hub stopped')).toBe(true);
    district = startHub(districtId);
    await district.url;
    await load;
    expect(Object.values(retries).reduce((a, b) => a + b, 0)).toBeGreaterThan(0); // clients did meet the stopped hub

    // Every accepted document arrives, exactly once, and its receipt comes back to the sender.
    expect(new Set(accepted).size).toBe(DOCUMENTS);
    const inbox = await eventually(async () => {
      const items = (await department.request('GET', '/api/v1/edocs/received?limit=1000')).json.items as { docId: string }[];
      return accepted.every((id) => items.some((i) => i.docId === id)) ? items : undefined;
    }, 'every accepted document in the inbox', 60_000);
    expect(inbox.filter((i) => accepted.includes(i.docId))).toHaveLength(DOCUMENTS);
    await eventually(async () => {
      const sent = (await sender.request('GET', '/api/v1/edocs/sent?limit=1000')).json.items as { docId: string; recipients: { delivery: string }[] }[];
      return accepted.every((id) => sent.find((s) => s.docId === id)?.recipients[0]?.delivery === 'delivered') ? true : undefined;
    }, 'every delivery receipt back at the sender', 60_000);

    // Nothing was left unacknowledged by the clean stops, nor sent twice. Each stopped consumer
    // finished every message it was given. A quorum queue may still return a message that was on
    // its way to a consumer as it was cancelled (RabbitMQ's cancel race: the consumer never saw
    // it), so a redelivery is allowed only as that: returned once, and never processed twice,
    // which the recipient hub's duplicate count below would show.
    const stopped = runs.filter((r) => r.child.exitCode === 0).flatMap((r) => r.lines.filter((l) => l.msg === 'consumer stopped'));
    // The hubs' warnings and errors, to say why if a consumer did not finish what it was given.
    const trouble = runs.flatMap((r) => r.lines.filter((l) => (l.level ?? 0) >= 40).map((l) => `${r.hubId}: ${l.msg} ${l.err ?? ''}`));
    expect(stopped.length).toBeGreaterThanOrEqual(2 * 4); // two hubs stopped, four consumers or more each
    expect(stopped.filter((l) => l.delivered !== l.finished), trouble.join('\n')).toEqual([]);
    const redelivered = runs.flatMap((r) => r.lines.filter((l) => l.msg === 'message redelivered').map((l) => `${r.hubId} ${l.queue} ${l.deliveryCount}`));
    expect(redelivered.filter((r) => !r.endsWith(' 1'))).toEqual([]);
    const metrics = await (await fetch(`${await province.url}/metrics`, { headers: { authorization: `Bearer ${net.adminToken}` } })).text();
    const absorbed = Number(/lgsp_documents_total\{stage="deliver",result="duplicate",hub="[^"]+"\} (\d+)/.exec(metrics)?.[1] ?? 0);
    console.log(`graceful-shutdown: ${DOCUMENTS} documents, 2 SIGTERM restarts, retries ${JSON.stringify(retries)}, ` +
      `${redelivered.length} redelivered, ${absorbed} duplicates absorbed at the recipient's hub`);
    expect(absorbed).toBe(0);
  });
});
