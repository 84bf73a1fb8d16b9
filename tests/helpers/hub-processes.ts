// A three-hub network (province, district, commune) on the real broker with each hub in a process
// of its own, started as deployed (`lgsp start --config --hub ID`, the built CLI), so that a test
// can kill -9 one and start it again on the same port, ledger and queues.
// spawnLoggedHub: one hub's process whose JSON log the test reads instead.
// startOnBrokerUsers: every hub of a configuration in one `lgsp start`, on the broker users
// LGSP_BROKER_USER_SECRET gives them.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { buildDemoNetwork, type DemoNetwork } from '../../src/demo/network.js';
import { makeAgent, type Agent } from './agent.js';
import { freePort } from './free-port.js';
import { AMQP_URL, eventually, purge } from './network.js';

const CLI = fileURLToPath(new URL('../../dist/src/cli/lgsp.js', import.meta.url));
const READY_TIMEOUT_MS = 60_000;

export interface HubProcessesOptions {
  /** Adjusts the raw configuration one hub's process reads (e.g. a hub on another broker). */
  configFor?: (hubId: string, config: Record<string, unknown>, net: DemoNetwork) => Record<string, unknown>;
  /** Adds to the environment a hub's first process starts with (e.g. a test fault hook). */
  envFor?: (hubId: string) => Record<string, string>;
}

export interface Exit { code: number | null; signal: NodeJS.Signals | null }

export interface HubProcesses {
  net: DemoNetwork;
  /** The hubs' ids: province, district, commune. */
  ids: readonly [string, string, string];
  url(hubId: string): string;
  running(hubId: string): boolean;
  agent(codePrefix: string): Agent;
  ledgerFile(hubId: string): string;
  /** Starts a hub's process (again) and waits until it is ready; `env` adds to the environment. */
  start(hubId: string, env?: Record<string, string>): Promise<void>;
  /** Resolves when the hub's current process exits, however it dies: an exit the test awaits, not a crash. */
  exited(hubId: string): Promise<Exit>;
  /** Sends a signal to the hub's process (by its pid) and waits for it to exit. */
  kill(hubId: string, signal?: NodeJS.Signals): Promise<Exit>;
  /** Hubs that died without being told to, each with the end of its log. */
  crashes(): readonly string[];
  /** The end of a hub's log (level warn and above), for a failure's message. */
  logTail(hubId: string): string;
  /** Stops every hub (SIGTERM: they drain), removes their queues and files. */
  close(): Promise<void>;
}

export async function startHubProcesses(options: HubProcessesOptions = {}): Promise<HubProcesses> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lgsp-chaos-'));
  const province = `C${String(10 + Math.floor(Math.random() * 90))}`;
  const ports: [number, number, number] = [await freePort(), await freePort(), await freePort()];
  const net = await buildDemoNetwork({ dir, province, ports, amqpUrl: AMQP_URL, now: new Date() });
  await purge(net);
  const ids = [net.hubs[0]!.id, net.hubs[1]!.id, net.hubs[2]!.id] as const;
  const configFile = (hubId: string) => path.join(dir, `config-${hubId}.json`);
  for (const id of ids) fs.writeFileSync(configFile(id), JSON.stringify(options.configFor?.(id, net.config, net) ?? net.config));

  const children = new Map<string, { child: ChildProcess; exit: Promise<Exit> }>();
  const told = new Set<ChildProcess>();
  const crashes: string[] = [];
  const url = (hubId: string) => `http://127.0.0.1:${net.hubs.find((h) => h.id === hubId)!.port}`;
  const logFile = (hubId: string) => path.join(dir, `hub-${hubId}.log`);
  const tail = (hubId: string) => fs.readFileSync(logFile(hubId), 'utf8').split('\n').slice(-80).join('\n');

  const start = async (hubId: string, env: Record<string, string> = {}) => {
    if (children.has(hubId)) throw new Error(`hub ${hubId} is already running`);
    const log = fs.openSync(logFile(hubId), 'a');
    // The configuration names every broker itself: AMQP_URL would override it.
    const { AMQP_URL: _ignored, ...inherited } = process.env;
    const child = spawn(process.execPath, [CLI, 'start', '--config', configFile(hubId), '--hub', hubId, '--log-level', 'warn'], {
      stdio: ['ignore', log, log], env: { ...inherited, ...env },
    });
    fs.closeSync(log);
    const exit = new Promise<Exit>((resolve) => child.once('exit', (code, signal) => {
      children.delete(hubId);
      if (!told.has(child)) crashes.push(`hub ${hubId} exited (code ${code}, signal ${signal}):\n${tail(hubId)}`);
      resolve({ code, signal });
    }));
    children.set(hubId, { child, exit });
    let died: Exit | undefined;
    void exit.then((e) => { died = e; });
    await eventually(async () => {
      if (died !== undefined) throw new Error(`hub ${hubId} exited while starting (${JSON.stringify(died)}):\n${tail(hubId)}`);
      const ready = await fetch(`${url(hubId)}/readyz`).then((r) => r.ok, (err: Error) => (err.name === 'TypeError' ? false : Promise.reject(err)));
      return ready ? true : undefined;
    }, `hub ${hubId} ready`, READY_TIMEOUT_MS);
  };

  const exited = (hubId: string): Promise<Exit> => {
    const running = children.get(hubId);
    if (running === undefined) throw new Error(`hub ${hubId} is not running`);
    told.add(running.child);
    return running.exit;
  };

  const closeAll = async () => {
    await Promise.all([...children.values()].map(({ child, exit }) => {
      told.add(child);
      child.kill('SIGTERM');
      return exit;
    }));
    for (const c of crashes) console.error(c);
    await purge(net);
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const id of ids) await start(id, options.envFor?.(id));
  } catch (err) {
    // The caller gets no handle to close: those already started are stopped here.
    await closeAll();
    throw err;
  }
  return {
    net, ids, url,
    running: (hubId) => children.has(hubId),
    agent: (prefix) => {
      const agency = net.agencies.find((a) => a.code.startsWith(prefix))!;
      return makeAgent(agency, url(agency.hubId));
    },
    ledgerFile: (hubId) => path.join(dir, 'ledger', hubId, 'ledger.sqlite'),
    start,
    exited,
    async kill(hubId, signal = 'SIGKILL') {
      const exit = exited(hubId);
      children.get(hubId)!.child.kill(signal);
      return exit;
    },
    crashes: () => crashes,
    logTail: tail,
    close: closeAll,
  };
}

/** A hub's process whose JSON log (level info, on stdout) the test reads line by line. */
export interface LoggedHub<L extends { msg?: string }> {
  child: ChildProcess;
  lines: L[];
  /** The "hub started" line (with its `url`); rejects if the process exits before it. */
  started: Promise<L>;
  exit: Promise<number | null>;
}

/** Starts `lgsp start --config F --hub ID` (and `args`, e.g. --port N) on AMQP_URL, reading its log. */
export function spawnLoggedHub<L extends { msg?: string }>(configFile: string, hubId: string, args: string[] = []): LoggedHub<L> {
  const child = spawn(process.execPath, [CLI, 'start', '--config', configFile, '--hub', hubId, ...args, '--log-level', 'info'], {
    stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, AMQP_URL },
  });
  const lines: L[] = [];
  const started = new Promise<L>((resolve, reject) => {
    readline.createInterface({ input: child.stdout! }).on('line', (text) => {
      const line = JSON.parse(text) as L;
      lines.push(line);
      if (line.msg === 'hub started') resolve(line);
    });
    child.once('exit', (code) => reject(new Error(`hub ${hubId} ${args.join(' ')} exited with ${code} before it started`)));
  });
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, lines, started, exit };
}

/** One `lgsp start --config F` for all of a file's hubs, each connecting as its own broker user. */
export interface NetworkProcess {
  child: ChildProcess;
  /** Everything it printed so far (at trace level). */
  output: () => string;
  /** SIGTERM, then its exit. */
  stop: () => Promise<void>;
}

/**
 * Starts `lgsp start --config F` with LGSP_BROKER_USER_SECRET and without AMQP_URL(S) (the file
 * names the brokers, with guest, which the secret replaces) and waits until every URL in
 * `hubUrls` answers /readyz; rejects with the output's tail if the process exits first.
 */
export async function startOnBrokerUsers(configFile: string, secret: string, hubUrls: readonly string[]): Promise<NetworkProcess> {
  const { AMQP_URL: _file, AMQP_URLS: _nodes, ...inherited } = process.env;
  const child = spawn(process.execPath, [CLI, 'start', '--config', configFile, '--log-level', 'trace'], {
    stdio: ['ignore', 'pipe', 'pipe'], env: { ...inherited, LGSP_BROKER_USER_SECRET: secret },
  });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => { output += c.toString(); });
  child.stderr!.on('data', (c: Buffer) => { output += c.toString(); });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  };
  try {
    for (const url of hubUrls) {
      await eventually(async () => {
        if (child.exitCode !== null) throw new Error(`lgsp start exited ${child.exitCode}:\n${output.slice(-3000)}`);
        return fetch(`${url}/readyz`).then((r) => (r.ok ? true : undefined), () => undefined);
      }, `hub ${url} ready`, 45_000);
    }
  } catch (err) {
    await stop(); // nobody else holds the process yet
    throw err;
  }
  return { child, output: () => output, stop };
}
