// Faults scripted on the local RabbitMQ for the chaos suite: stop and start the app, kill -9 the
// broker and start it again, and a second "broker" (a vhost) whose links can be cut. Every call
// is asynchronous, so the load and the mailbox readers keep running while the broker is away.
// Whoever stops or kills the broker holds `flock -x /tmp/lgsp-broker.lock` and calls
// ensureBrokerRunning() in afterAll, whatever happened.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { eventually } from './network.js';

const run = promisify(execFile);
const STARTUP_TIMEOUT_S = '120';

/** Faults need the local broker (rabbitmqctl), not one at AMQP_URL. */
export async function hasLocalBroker(): Promise<boolean> {
  if (process.env.AMQP_URL) return false;
  return run('rabbitmqctl', ['-q', 'status']).then(() => true, () => false);
}

export async function rabbitmqctl(...args: string[]): Promise<string> {
  try {
    return (await run('rabbitmqctl', ['-q', ...args], { timeout: 180_000 })).stdout;
  } catch (err) {
    const e = err as Error & { stderr?: string };
    throw new Error(`rabbitmqctl ${args.join(' ')}: ${e.stderr?.trim() || e.message}`);
  }
}

/** The broker's Erlang VM (beam.smp) process id, from the broker itself. */
async function brokerPid(): Promise<number> {
  const out = await rabbitmqctl('eval', 'list_to_integer(os:getpid()).');
  const pid = Number(out.trim());
  if (!Number.isInteger(pid) || pid <= 1) throw new Error(`unexpected broker pid: ${out}`);
  return pid;
}

/** Whether a process of that id still exists (signal 0: a check, nothing sent). */
export const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
};

/** `kill -9` of the broker's VM (by its pid, nothing else), then a fresh start. */
export async function killBroker(): Promise<void> {
  const pid = await brokerPid();
  process.kill(pid, 'SIGKILL');
  await eventually(async () => (alive(pid) ? undefined : true), `broker pid ${pid} gone`, 30_000);
}

export async function startBroker(): Promise<void> {
  await run('rabbitmq-server', ['-detached']);
  // -detached returns at once; await_startup needs the node's VM up and reachable first.
  await eventually(() => rabbitmqctl('ping').then(() => true, () => undefined), 'the broker node up', 120_000);
  await rabbitmqctl('await_startup', '--timeout', STARTUP_TIMEOUT_S);
}

export const stopApp = () => rabbitmqctl('stop_app');
export const startApp = () => rabbitmqctl('start_app');

/** Leaves the broker running: starts the app, or the whole broker if its VM is gone. */
export async function ensureBrokerRunning(): Promise<void> {
  const up = await rabbitmqctl('await_startup', '--timeout', '5').then(() => true, () => false);
  if (up) return;
  const nodeUp = await rabbitmqctl('ping').then(() => true, () => false);
  if (nodeUp) await startApp();
  else await startBroker();
  await rabbitmqctl('await_startup', '--timeout', STARTUP_TIMEOUT_S);
}

/**
 * A second broker, modelled as a vhost of the local one, and a user of its own for the links
 * between the two, so that a link outage cuts the links and nothing else.
 */
export interface OtherBroker {
  /** A hub's own URL on the other broker. */
  url: string;
  /** The link user's URLs: to the other broker, and back to the main one. */
  linkTo: string;
  linkBack: string;
  vhost: string;
  /** The link user's name. */
  user: string;
  /** Revokes the link user's access and closes its connections; restore() gives it back. */
  cut(): Promise<void>;
  restore(): Promise<void>;
  remove(): Promise<void>;
}

export async function createOtherBroker(mainUrl: string): Promise<OtherBroker> {
  const id = randomBytes(4).toString('hex');
  const vhost = `lgsp-chaos-${id}`;
  const user = `lgsp-link-${id}`;
  const password = randomBytes(12).toString('hex');
  const main = new URL(mainUrl);
  const withUser = (u: string, p: string, vh: string) => {
    const url = new URL(main.href);
    url.username = u;
    url.password = p;
    url.pathname = vh === '/' ? '' : `/${encodeURIComponent(vh)}`;
    return url.href.replace(/\/$/, '');
  };
  await rabbitmqctl('add_vhost', vhost);
  await rabbitmqctl('set_permissions', '-p', vhost, main.username, '.*', '.*', '.*');
  await rabbitmqctl('add_user', user, password);
  const grant = async () => {
    for (const vh of [vhost, '/']) await rabbitmqctl('set_permissions', '-p', vh, user, '.*', '.*', '.*');
  };
  await grant();
  return {
    url: withUser(decodeURIComponent(main.username), decodeURIComponent(main.password), vhost),
    linkTo: withUser(user, password, vhost),
    linkBack: withUser(user, password, '/'),
    vhost,
    user,
    async cut() {
      for (const vh of [vhost, '/']) await rabbitmqctl('clear_permissions', '-p', vh, user);
      // Closed until none is left, so that the outage is in effect when cut() returns.
      await eventually(async () => {
        const connections = await connectionsOf(user);
        for (const { pid } of connections) await rabbitmqctl('close_connection', pid, 'chaos: link outage');
        return connections.length === 0 ? true : undefined;
      }, `no connection of ${user} left after the cut`, 30_000);
    },
    restore: grant,
    async remove() {
      await rabbitmqctl('delete_user', user);
      await rabbitmqctl('delete_vhost', vhost);
    },
  };
}

/** The connections a user holds now. */
export async function connectionsOf(user: string): Promise<{ pid: string; vhost: string; state: string }[]> {
  return (await rabbitmqctl('list_connections', '--no-table-headers', 'user', 'pid', 'vhost', 'state'))
    .split('\n').map((l) => l.split('\t')).filter(([u, pid]) => u === user && pid)
    .map(([, pid, vhost, state]) => ({ pid: pid!, vhost: vhost ?? '', state: state ?? '' }));
}

/** Messages in a queue, ready and unacknowledged (rabbitmqctl's count: no management plugin needed). */
export async function queueDepth(vhost: string, queue: string): Promise<number> {
  const lines = (await rabbitmqctl('list_queues', '-p', vhost, '--no-table-headers', 'name', 'messages')).split('\n');
  const row = lines.map((l) => l.split('\t')).find(([name]) => name === queue);
  if (row === undefined) throw new Error(`no queue ${queue} in vhost ${vhost}`);
  return Number(row[1]);
}
