// A 3-node RabbitMQ cluster on this host, from the installed rabbitmq-server, beside the system
// broker (which it never touches): nodes n1@localhost..n3@localhost on AMQP ports 5681–5683 and
// distribution ports 25681–25683, each with its own data, logs, configuration file (the system's
// rabbitmq.conf would bind 5672) and environment file (the system's names the node rabbit@),
// run as the `rabbitmq` user so that they share its Erlang cookie. Everything lives under one
// fixed folder, so that a run killed half-way is cleaned up by the next one.
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { eventually } from './network.js';
import { alive } from './broker-control.js';

const run = promisify(execFile);
const BASE = path.join(os.tmpdir(), 'lgsp-rabbit-cluster');
const NODES = [1, 2, 3] as const;
const STARTUP_TIMEOUT_MS = 120_000;

export interface ClusterNode {
  name: string;
  amqpUrl: string;
  port: number;
}

export interface RabbitCluster {
  nodes: ClusterNode[];
  amqpUrls: string[];
  /** `rabbitmqctl` (or `rabbitmq-queues`, …) against one node, as the rabbitmq user. */
  ctl(tool: 'rabbitmqctl' | 'rabbitmq-queues', node: string, ...args: string[]): Promise<string>;
  /** `kill -9` of a node's Erlang VM; resolves once it is gone. */
  kill(node: string): Promise<void>;
  /** Starts a killed node again and waits until it is back in the cluster. */
  restart(node: string): Promise<void>;
  /** Stops every node and deletes their folders. */
  stop(): Promise<void>;
}

/** Whether this host can run the cluster (rabbitmq-server installed, a rabbitmq user, root to switch to it). */
export async function canRunCluster(): Promise<boolean> {
  if (process.getuid?.() !== 0) return false;
  return run('id', ['-u', 'rabbitmq']).then(() => fs.existsSync('/usr/sbin/rabbitmq-server') || fs.existsSync('/usr/lib/rabbitmq/bin/rabbitmq-server'), () => false);
}

const node = (i: number): ClusterNode => ({ name: `n${i}@localhost`, port: 5680 + i, amqpUrl: `amqp://guest:guest@127.0.0.1:${5680 + i}` });
const dirOf = (name: string) => path.join(BASE, name.split('@')[0]!);
const pidFile = (name: string) => path.join(dirOf(name), 'beam.pid');

async function ctl(tool: 'rabbitmqctl' | 'rabbitmq-queues', nodeName: string, ...args: string[]): Promise<string> {
  try {
    return (await run('runuser', ['-u', 'rabbitmq', '--', tool, '-q', '-n', nodeName, ...args], { timeout: 120_000 })).stdout;
  } catch (err) {
    const e = err as Error & { stderr?: string };
    throw new Error(`${tool} -n ${nodeName} ${args.join(' ')}: ${e.stderr?.trim() || e.message}`);
  }
}

/** The node's VM pid, from the pid file rabbitmq-server writes (RABBITMQ_PID_FILE). */
function pidOf(name: string): number | null {
  try {
    const pid = Number(fs.readFileSync(pidFile(name), 'utf8').trim());
    return Number.isInteger(pid) && pid > 1 ? pid : null;
  } catch {
    return null; // no pid file: the node never started (or its folder is gone)
  }
}

async function killNode(name: string): Promise<void> {
  const pid = pidOf(name);
  if (pid === null || !alive(pid)) return;
  process.kill(pid, 'SIGKILL');
  await eventually(async () => (alive(pid) ? undefined : true), `${name} (pid ${pid}) gone`, 30_000);
}

function launch(n: ClusterNode): void {
  const dir = dirOf(n.name);
  const env = {
    PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: '/var/lib/rabbitmq',
    RABBITMQ_NODENAME: n.name,
    RABBITMQ_NODE_PORT: String(n.port),
    RABBITMQ_DIST_PORT: String(n.port + 20_000),
    RABBITMQ_MNESIA_BASE: path.join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: path.join(dir, 'log'),
    RABBITMQ_PID_FILE: pidFile(n.name),
    RABBITMQ_ENABLED_PLUGINS_FILE: path.join(dir, 'enabled_plugins'),
    RABBITMQ_CONFIG_FILE: path.join(dir, 'rabbitmq.conf'),
    RABBITMQ_CONF_ENV_FILE: path.join(dir, 'rabbitmq-env.conf'),
    RABBITMQ_ADVANCED_CONFIG_FILE: path.join(dir, 'advanced.config'),
    ERL_EPMD_ADDRESS: '127.0.0.1',
    ERL_FLAGS: '-kernel inet_dist_use_interface {127,0,0,1}',
  };
  const child = spawn('runuser', ['-u', 'rabbitmq', '--', 'env', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), 'rabbitmq-server'], {
    stdio: ['ignore', fs.openSync(path.join(dir, 'stdout.log'), 'a'), fs.openSync(path.join(dir, 'stdout.log'), 'a')],
    detached: true,
  });
  child.unref();
}

async function awaitNode(name: string): Promise<void> {
  // await_startup needs the VM registered with epmd first, which takes a few seconds.
  await eventually(() => ctl('rabbitmqctl', name, 'ping').then(() => true, () => undefined), `${name} up`, STARTUP_TIMEOUT_MS);
  await ctl('rabbitmqctl', name, 'await_startup', '--timeout', String(STARTUP_TIMEOUT_MS / 1000));
}

/** Starts the three nodes (after removing any left by an earlier run) and clusters n2 and n3 with n1. */
export async function startRabbitCluster(): Promise<RabbitCluster> {
  const nodes = NODES.map(node);
  for (const n of nodes) await killNode(n.name);
  fs.rmSync(BASE, { recursive: true, force: true });
  for (const n of nodes) {
    const dir = dirOf(n.name);
    for (const sub of ['mnesia', 'log']) fs.mkdirSync(path.join(dir, sub), { recursive: true });
    fs.writeFileSync(path.join(dir, 'enabled_plugins'), '[].\n');
    fs.writeFileSync(path.join(dir, 'rabbitmq.conf'), `listeners.tcp.local = 127.0.0.1:${n.port}\n`);
    fs.writeFileSync(path.join(dir, 'rabbitmq-env.conf'), '');
    fs.writeFileSync(path.join(dir, 'advanced.config'), '[].\n');
  }
  await run('chown', ['-R', 'rabbitmq:rabbitmq', BASE]);
  fs.chmodSync(BASE, 0o755);
  const cluster: RabbitCluster = {
    nodes,
    amqpUrls: nodes.map((n) => n.amqpUrl),
    ctl,
    kill: killNode,
    async restart(name) {
      launch(nodes.find((n) => n.name === name)!);
      await awaitNode(name);
    },
    async stop() {
      for (const n of nodes) await killNode(n.name);
      fs.rmSync(BASE, { recursive: true, force: true });
    },
  };
  try {
    for (const n of nodes) launch(n);
    for (const n of nodes) await awaitNode(n.name);
    for (const n of nodes.slice(1)) {
      await ctl('rabbitmqctl', n.name, 'stop_app');
      await ctl('rabbitmqctl', n.name, 'join_cluster', nodes[0]!.name);
      await ctl('rabbitmqctl', n.name, 'start_app');
    }
    return cluster;
  } catch (err) {
    await cluster.stop();
    throw err;
  }
}
