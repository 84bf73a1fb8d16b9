// npm run bench (e2e part): signed packages through three hubs (commune → district → province)
// on the real broker, at 10 KB, 100 KB and 1 MB, each hub in a process of its own as deployed
// (`lgsp start --hub ID`). Throughput: many clients submit at once, timed
// until the last package is in the recipient's mailbox. Latency: submit → mailbox (the
// destination hub's received time), at half the measured rate. Baseline in the same run: raw
// RabbitMQ with the same message size, a quorum queue, windowed confirms and manual acks.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import amqp from 'amqplib';
import { buildDemoNetwork } from '../src/demo/network.js';
import { AMQP_URL, purge } from '../tests/helpers/network.js';
import { makeAgent, signedDocument, type Agent } from '../tests/helpers/agent.js';
import { freePort } from '../tests/helpers/free-port.js';

const SIZES = { '10KB': 10 * 1024, '100KB': 100 * 1024, '1MB': 1024 * 1024 } as const;
const COUNT = { '10KB': 1500, '100KB': 600, '1MB': 120 } as const;
const CLIENTS = 32;
type Size = keyof typeof SIZES;

const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Arrival times (the destination hub's clock); the recipient acknowledges each as it sees it, as a document system does. */
async function waitForInbox(agent: Agent, docIds: Set<string>): Promise<Map<string, number>> {
  const seen = new Map<string, number>();
  for (let idle = 0; seen.size < docIds.size; idle++) {
    const r = await agent.request('GET', '/api/v1/edocs/received?limit=1000');
    const fresh = (r.json.items as { docId: string; receivedAt: string }[]).filter((i) => docIds.has(i.docId) && !seen.has(i.docId));
    for (const item of fresh) seen.set(item.docId, Date.parse(item.receivedAt));
    await Promise.all(fresh.map((item) => agent.request('POST', `/api/v1/edocs/${item.docId}/ack`, { result: 'done' })));
    if (idle > 3000) throw new Error(`only ${seen.size} of ${docIds.size} packages arrived`);
    await sleep(20);
  }
  return seen;
}

async function throughput(from: Agent, to: Agent, packages: Buffer[]): Promise<number> {
  const started = Date.now();
  const ids = new Set<string>();
  const queue = [...packages];
  await Promise.all(Array.from({ length: CLIENTS }, async () => {
    for (let p = queue.pop(); p !== undefined; p = queue.pop()) {
      const r = await from.submit(p);
      if (r.status !== 202) throw new Error(`submit: ${r.status} ${JSON.stringify(r.json)}`);
      ids.add(r.json.docId);
    }
  }));
  const arrived = await waitForInbox(to, ids);
  return packages.length / ((Math.max(...arrived.values()) - started) / 1000);
}

async function latency(from: Agent, to: Agent, packages: Buffer[], rate: number): Promise<{ p50: number; p99: number }> {
  const sentAt = new Map<string, number>();
  const interval = 1000 / rate;
  const t0 = Date.now();
  await Promise.all(packages.map(async (p, i) => {
    await sleep(Math.max(0, t0 + i * interval - Date.now()));
    const at = Date.now();
    const r = await from.submit(p);
    if (r.status !== 202) throw new Error(`submit: ${r.status}`);
    sentAt.set(r.json.docId, at);
  }));
  const arrived = await waitForInbox(to, new Set(sentAt.keys()));
  const ms = [...arrived].map(([id, at]) => at - sentAt.get(id)!);
  return { p50: percentile(ms, 0.5), p99: percentile(ms, 0.99) };
}

async function rawAmqp(size: number, count: number): Promise<number> {
  const conn = await amqp.connect(AMQP_URL, { noDelay: true });
  const pub = await conn.createConfirmChannel();
  const sub = await conn.createChannel();
  const queue = `lgsp.bench.raw.${randomBytes(4).toString('hex')}`;
  await pub.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  await sub.prefetch(200);
  const body = randomBytes(size);
  let received = 0;
  const done = new Promise<void>((resolve) => {
    void sub.consume(queue, (m) => {
      if (m === null) return;
      sub.ack(m);
      if (++received === count) resolve();
    });
  });
  const started = Date.now();
  for (let i = 0; i < count; i += 1000) {
    for (let j = i; j < Math.min(count, i + 1000); j++) pub.sendToQueue(queue, body, { persistent: true });
    await pub.waitForConfirms();
  }
  await done;
  const rate = count / ((Date.now() - started) / 1000);
  await pub.deleteQueue(queue);
  await conn.close();
  return rate;
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lgsp-bench-'));
  const ports: [number, number, number] = [await freePort(), await freePort(), await freePort()];
  const network = await buildDemoNetwork({ dir, province: 'B77', ports, amqpUrl: AMQP_URL, now: new Date() });
  const configFile = path.join(dir, 'config.json');
  // The benchmark measures the hub, not the per-agency rate limit: one agency sends everything.
  fs.writeFileSync(configFile, JSON.stringify({ ...network.config, http: { rateLimit: { perSecond: 1e6, burst: 1e6 } } }));
  await purge(network);
  const cli = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'lgsp.js');
  const processes: ChildProcess[] = network.hubs.map((h) =>
    spawn(process.execPath, [...(process.env.LGSP_BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.LGSP_BENCH_PROFILE}`] : []), cli, 'start', '--config', configFile, '--hub', h.id, '--log-level', 'warn'], { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, AMQP_URL } }));
  const urlOf = (hubId: string) => `http://127.0.0.1:${network.hubs.find((h) => h.id === hubId)!.port}`;
  for (const h of network.hubs) {
    for (let i = 0; ; i++) {
      const ready = await fetch(`${urlOf(h.id)}/readyz`).then((r) => r.ok, () => false);
      if (ready) break;
      if (i > 300) throw new Error(`hub ${h.id} did not become ready`);
      await sleep(100);
    }
  }
  const agentOf = (prefix: string) => {
    const agency = network.agencies.find((a) => a.code.startsWith(prefix))!;
    return makeAgent(agency, urlOf(agency.hubId));
  };
  const from = agentOf('000.07.05.');
  const to = agentOf('000.00.12.');
  const results: Record<string, { docsPerSec: number; p50Ms: number; p99Ms: number; rawAmqpMsgsPerSec: number; ratioToRaw: number }> = {};
  try {
    const only = process.env.LGSP_BENCH_SIZES?.split(',');
    for (const size of (Object.keys(SIZES) as Size[]).filter((s) => only === undefined || only.includes(s))) {
      const payload = Math.max(1, SIZES[size] - 6000);
      const make = (count: number) => Array.from({ length: count }, () => signedDocument(from, [to], `bench ${size}`, randomBytes(Math.floor(payload * 0.75))));
      await throughput(from, to, make(20)); // warm up
      const docsPerSec = await throughput(from, to, make(COUNT[size]));
      const { p50, p99 } = await latency(from, to, make(Math.min(COUNT[size], Math.ceil(docsPerSec * 4))), docsPerSec / 2);
      const raw = await rawAmqp(SIZES[size], Math.max(COUNT[size] * 4, 2000));
      results[size] = { docsPerSec: round(docsPerSec), p50Ms: p50, p99Ms: p99, rawAmqpMsgsPerSec: round(raw), ratioToRaw: Math.round((docsPerSec / raw) * 10_000) / 10_000 };
      console.log(`${size.padEnd(5)} ${docsPerSec.toFixed(0).padStart(5)} docs/s through 3 hubs   p50 ${p50} ms  p99 ${p99} ms (at half rate)   raw AMQP ${raw.toFixed(0)} msg/s   ratio ${(docsPerSec / raw).toFixed(3)}`);
    }
  } finally {
    await Promise.all(processes.map((p) => new Promise((resolve) => { p.once('exit', resolve); p.kill('SIGTERM'); })));
    await purge(network);
    fs.rmSync(dir, { recursive: true, force: true });
  }
  console.log(JSON.stringify({ e2e: results }));
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}

await main();
