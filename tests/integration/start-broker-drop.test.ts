// A broker that goes away while `lgsp start --hub ID` starts or stops its hub (the chaos suite
// stops the shared broker; here a proxy in front of it is cut at a chosen AMQP frame, so the
// shared broker is never touched). The process must never end with Node's exit 13 (its start
// left pending on an empty event loop) nor hang: a start cut short is tried again a bounded
// number of times and comes up if the broker is back, else exits 2 with UNAVAILABLE; a stop
// whose broker goes away mid-close ends with status 0 (docs/reliability.md). `lgsp demo` starts
// its hubs the same way (its own set-up cut short: tests/integration/failed-start.test.ts).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildDemoNetwork, deleteNetworkQueues } from '../../src/demo/network.js';
import { amqpProxy, CHANNEL_CLOSE, QUEUE_DECLARE, type AmqpProxy } from '../helpers/amqp-proxy.js';
import { freePort } from '../helpers/free-port.js';
import { AMQP_URL } from '../helpers/network.js';
import { ROOT, tempDir } from '../helpers/tools.js';

const CLI = path.join(ROOT, 'dist/src/cli/lgsp.js');
// Far above a start (a few seconds) plus its retries, and below the tests' timeout: a CLI still
// running by then is killed, and its status (-1) fails the test.
const BOUND_MS = 45_000;
const TEST_TIMEOUT_MS = 60_000;

const tmp = tempDir();
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups) await c();
  tmp.cleanup();
});

interface Cli {
  /** Resolves when the hub has logged that it started. */
  started: Promise<void>;
  exit: Promise<{ status: number; output: string }>;
  stop(): void;
}

/** `lgsp start --hub` of the commune hub of a fresh network, on the broker behind `proxy`. */
async function startThrough(proxy: AmqpProxy, name: string): Promise<Cli> {
  const dir = path.join(tmp.dir, name);
  const province = `D${10 + Math.floor(Math.random() * 90)}`;
  const network = await buildDemoNetwork({ dir, province, ports: [await freePort(), await freePort(), await freePort()], amqpUrl: AMQP_URL, now: new Date() });
  cleanups.push(() => deleteNetworkQueues(AMQP_URL, network));
  const file = path.join(dir, 'config.json');
  fs.writeFileSync(file, JSON.stringify(network.config));
  return cli(['start', '--config', file, '--hub', network.hubs[2]!.id, '--log-level', 'info'], { AMQP_URLS: proxy.url });
}

function cli(args: string[], env: Record<string, string>): Cli {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let onStarted!: () => void;
  const started = new Promise<void>((resolve) => { onStarted = resolve; });
  child.stdout.on('data', (d: Buffer) => {
    output += d.toString();
    if (output.includes('"msg":"hub started"')) onStarted();
  });
  child.stderr.on('data', (d: Buffer) => { output += d.toString(); });
  const bound = setTimeout(() => child.kill('SIGKILL'), BOUND_MS);
  const exit = new Promise<{ status: number; output: string }>((resolve) => child.once('exit', (code) => {
    clearTimeout(bound);
    resolve({ status: code ?? -1, output });
  }));
  return { started, exit, stop: () => child.kill('SIGTERM') };
}

async function proxyToBroker(): Promise<AmqpProxy> {
  const proxy = await amqpProxy(AMQP_URL);
  cleanups.push(() => proxy.close());
  return proxy;
}

/** Resolves with whichever comes first. */
const first = <A, B>(a: Promise<A>, b: Promise<B>) => Promise.race([a.then((v) => ({ a: v })), b.then((v) => ({ b: v }))]);

describe('a broker that goes away while a hub starts or stops', () => {
  it('mid-topology, for good: the start is tried again, then exits 2 with UNAVAILABLE', async () => {
    const proxy = await proxyToBroker();
    proxy.cutAt(QUEUE_DECLARE);
    const run = await startThrough(proxy, 'gone');
    const { status, output } = await run.exit;
    expect(status, output).toBe(2);
    expect(output).toMatch(/starting it again/);
    expect(output).toMatch(/^UNAVAILABLE: hub \S+: no broker at amqp:\/\/\*\*\*@127\.0\.0\.1:\d+/m);
  }, TEST_TIMEOUT_MS);

  it('mid-topology, back a second later: the start is tried again and the hub comes up', async () => {
    const proxy = await proxyToBroker();
    proxy.cutAt(QUEUE_DECLARE);
    const run = await startThrough(proxy, 'back');
    await proxy.cut;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await proxy.restore();
    const came = await first(run.started, run.exit);
    expect('a' in came, JSON.stringify(came)).toBe(true);
    run.stop();
    const { status, output } = await run.exit;
    expect(status, output).toBe(0);
    expect(output).toMatch(/starting it again/);
  }, TEST_TIMEOUT_MS);

  it('mid-stop, as the first channel closes: the stop ends with status 0', async () => {
    const proxy = await proxyToBroker();
    const run = await startThrough(proxy, 'stop');
    const came = await first(run.started, run.exit);
    expect('a' in came, JSON.stringify(came)).toBe(true);
    proxy.cutAt(CHANNEL_CLOSE);
    run.stop();
    const { status, output } = await run.exit;
    expect(status, output).toBe(0);
    expect(output).toMatch(/"msg":"hub stopped"/);
  }, TEST_TIMEOUT_MS);
});
