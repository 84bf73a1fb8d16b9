// A hub that cannot start makes `lgsp start` and `lgsp demo` exit 2 with the coded error, within
// seconds, leaving nothing behind: no process (the spawned CLI exits by itself), no broker
// connection and no queue consumer of any hub of the run (the hubs started before the failing
// one are closed too). Each way a start fails as a new operator meets it: a port already taken,
// an unreachable broker (refusing, or nodes that misbehave at the handshake: a single `--hub`
// on them exited 13, Node's unsettled top-level await, before), a broker that goes away while
// the demo sets up, a ledger that cannot be opened.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildDemoNetwork, deleteNetworkQueues, type DemoNetwork } from '../../src/demo/network.js';
import { brokerUsersFor, deleteBrokerUsers } from '../../src/demo/broker-users.js';
import { rabbitmqctl } from '../helpers/broker-control.js';
import { amqpProxy, QUEUE_DECLARE } from '../helpers/amqp-proxy.js';
import { freePort } from '../helpers/free-port.js';
import { AMQP_URL } from '../helpers/network.js';
import { ROOT, tempDir, type Run } from '../helpers/tools.js';

const CLI = path.join(ROOT, 'dist/src/cli/lgsp.js');
// Far above a failed start (a few seconds) and below the test's timeout: a CLI still running by
// then is killed, and its status (-1) fails the test.
const BOUND_MS = 45_000;
const CLOSED_PORT_BROKER = 'amqp://guest:guest@127.0.0.1:1';

const tmp = tempDir();
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups) await c();
  tmp.cleanup();
});

const cli = (...args: string[]) => cliWith({}, ...args);

function cliWith(env: Record<string, string>, ...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: BOUND_MS, killSignal: 'SIGKILL', env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      resolve({ status: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr });
    });
  });
}

/** What the broker still holds of a run's hubs (their queues and connections all name the province). */
async function leftOnBroker(province: string): Promise<string[]> {
  const consumers = (await rabbitmqctl('list_consumers', 'queue_name')).split('\n').filter((l) => l.includes(`.${province}.`));
  const connections = (await rabbitmqctl('list_connections', 'client_properties')).split('\n').filter((l) => l.includes(`.${province}`));
  return [...consumers, ...connections];
}

/** A start configuration for a fresh three-hub network, `change`d for one hub. */
async function startConfig(name: string, change: (config: Record<string, unknown>, net: DemoNetwork) => void): Promise<{ file: string; province: string; hubs: string[] }> {
  const dir = path.join(tmp.dir, name);
  const province = nextProvince('F');
  const ports: [number, number, number] = [await freePort(), await freePort(), await freePort()];
  const network = await buildDemoNetwork({ dir, province, ports, amqpUrl: AMQP_URL, now: new Date() });
  cleanups.push(() => deleteNetworkQueues(AMQP_URL, network));
  const config = structuredClone(network.config);
  change(config, network);
  const file = path.join(dir, 'config.json');
  fs.writeFileSync(file, JSON.stringify(config));
  return { file, province, hubs: network.hubs.map((h) => h.id) };
}

/** A province for `lgsp demo` (its hubs' ids), whose queues and broker users are removed after the tests. */
function demoProvince(letter: string): string {
  const province = nextProvince(letter);
  const hubs = ['000.00.00.', '000.00.05.', '000.07.05.'].map((x) => ({ id: `${x}${province}`, name: '', port: 0, parentId: null }));
  cleanups.push(async () => {
    await deleteNetworkQueues(AMQP_URL, { hubs });
    deleteBrokerUsers(brokerUsersFor(hubs));
  });
  return province;
}

// Each test's own province, no two alike: the tests run at once, and their hubs must not meet.
let provinceNo = Math.floor(Math.random() * 90);
function nextProvince(letter: string): string {
  return `${letter}${10 + (provinceNo++ % 90)}`;
}

const hubEntry = (config: Record<string, unknown>, index: number) => (config.hubs as Record<string, unknown>[])[index]!;

// Timed, so alone: the others run at once (each mostly waits on its CLI's retries and exit).
describe('a hub that cannot start, within seconds', () => {
  it('lgsp start: a port already taken exits 2 with UNAVAILABLE within seconds, and the hub started before it is closed', async () => {
    // The district hub's HTTP port is taken: the province hub has started (its broker connection,
    // its consumers) when the district's listen fails.
    let port = 0;
    const { file, province } = await startConfig('port', (config) => { port = hubEntry(config, 1).port as number; });
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(port, '127.0.0.1', resolve));
    try {
      const started = Date.now();
      const r = await cli('start', '--config', file, '--log-level', 'silent', '--json');
      expect(r.status, r.stdout + r.stderr).toBe(2);
      expect(JSON.parse(r.stdout)).toEqual({ ok: false, code: 'UNAVAILABLE', message: expect.stringContaining('EADDRINUSE') });
      expect(Date.now() - started).toBeLessThan(15_000);
    } finally {
      taken.close();
    }
    expect(await leftOnBroker(province)).toEqual([]);
  });
});

describe.concurrent('a hub that cannot start', () => {
  it('lgsp demo: a port already taken exits 2 with UNAVAILABLE, and the hub started before it is closed', async () => {
    const province = demoProvince('G');
    const port = await freePort();
    // The district hub's port (the demo's second) is taken: the province hub starts, then the district fails.
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(port + 1, '127.0.0.1', resolve));
    try {
      const r = await cli('demo', '--once', '--port', String(port), '--dir', path.join(tmp.dir, 'demo'), '--province', province);
      expect(r.status, r.stdout + r.stderr).toBe(2);
      expect(r.stderr).toMatch(/^UNAVAILABLE: .*EADDRINUSE/m);
    } finally {
      taken.close();
    }
    expect(await leftOnBroker(province)).toEqual([]);
  });

  it('lgsp demo: a broker that goes away while the network is set up (its first queue declared) exits 2 with UNAVAILABLE', async () => {
    const province = demoProvince('E');
    const proxy = await amqpProxy(AMQP_URL);
    cleanups.push(() => proxy.close());
    // An administrator's connection declares the queues where rabbitmqctl can make the hubs'
    // users, else the hubs do as they start: the cut comes in either.
    proxy.cutAt(QUEUE_DECLARE);
    const r = await cliWith({ AMQP_URL: proxy.url }, 'demo', '--once', '--port', String(await freePort()), '--dir', path.join(tmp.dir, 'demo-cut'), '--province', province);
    expect(r.status, r.stdout + r.stderr).toBe(2);
    expect(r.stderr).toMatch(/^UNAVAILABLE: /m);
  });

  it('lgsp start: an unreachable broker exits 2 with UNAVAILABLE and closes the connection it had opened', async () => {
    // The district hub's broker is unreachable: the province hub has connected to its own broker
    // and set up its queues when it fails to open its link to the district's.
    const { file, province } = await startConfig('broker', (config) => { hubEntry(config, 1).amqpUrl = CLOSED_PORT_BROKER; });
    const r = await cli('start', '--config', file, '--log-level', 'silent', '--json');
    expect(r.status, r.stdout + r.stderr).toBe(2);
    expect(JSON.parse(r.stdout)).toEqual({ ok: false, code: 'UNAVAILABLE', message: expect.stringMatching(/^hub 000\.00\.00\.\w+: no broker at amqp:\/\/\*\*\*@127\.0\.0\.1:1/) });
    expect(await leftOnBroker(province)).toEqual([]);
  });

  it('lgsp start --hub: alone, a hub whose broker refuses exits 2 with UNAVAILABLE after its retries (not 13 on an empty event loop)', async () => {
    // Nothing else holds the process while the first connection waits between its rounds.
    const { file, hubs } = await startConfig('alone', (config) => { hubEntry(config, 2).amqpUrl = CLOSED_PORT_BROKER; });
    const r = await cli('start', '--config', file, '--hub', hubs[2]!, '--log-level', 'silent', '--json');
    expect(r.status, r.stdout + r.stderr).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, code: 'UNAVAILABLE' });
  });

  it('lgsp start --hub: cluster nodes that accept and then close, reset, or answer the protocol header and drop exit 2 with UNAVAILABLE', async () => {
    const servers = ['close', 'reset', 'header'].map((behaviour) => net.createServer((socket) => {
      socket.on('error', () => {}); // the client resetting in turn
      if (behaviour === 'close') socket.end();
      else if (behaviour === 'reset') socket.resetAndDestroy();
      else socket.once('data', () => socket.end(Buffer.from('AMQP\x00\x00\x09\x01', 'latin1')));
    }));
    const nodes = await Promise.all(servers.map((s) => new Promise<string>((resolve) => {
      s.listen(0, '127.0.0.1', () => resolve(`amqp://guest:guest@127.0.0.1:${(s.address() as net.AddressInfo).port}`));
    })));
    try {
      const { file, hubs } = await startConfig('nodes', (config) => { hubEntry(config, 2).amqpUrls = nodes; });
      const r = await cli('start', '--config', file, '--hub', hubs[2]!, '--log-level', 'silent', '--json');
      expect(r.status, r.stdout + r.stderr).toBe(2);
      expect(JSON.parse(r.stdout)).toEqual({ ok: false, code: 'UNAVAILABLE', message: expect.stringContaining(`no broker at ${nodes.map((n) => n.replace('guest:guest', '***')).join(', ')}`) });
    } finally {
      for (const s of servers) s.close();
    }
  });

  it('lgsp start: a ledger that cannot be opened exits 2 with UNAVAILABLE, and the hubs started before it are closed', async () => {
    // The commune hub's PostgreSQL ledger is on a closed port: the province and district hubs start first.
    const { file, province } = await startConfig('ledger', (config) => { hubEntry(config, 2).ledger = { url: 'postgresql://postgres@127.0.0.1:1/lgsp' }; });
    const r = await cli('start', '--config', file, '--log-level', 'silent', '--json');
    expect(r.status, r.stdout + r.stderr).toBe(2);
    expect(JSON.parse(r.stdout)).toEqual({ ok: false, code: 'UNAVAILABLE', message: expect.stringContaining('ledger') });
    expect(await leftOnBroker(province)).toEqual([]);
  });
});
