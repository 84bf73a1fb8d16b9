// The broker connection. A hub names one broker, or the nodes of one RabbitMQ cluster: it
// connects to the first node that answers and, when that connection dies, to the next one, round
// after round, never giving up once it has connected. Every component that owns a channel
// registers a setup here, and all setups run again, in order, on each new connection (its
// queues and exchanges re-declared, its consumers started, its unconfirmed messages republished).
// noDelay: with Nagle on, awaiting single 10 KB confirms drops from ~880 to ~22 messages/s on
// this machine. Hubs on other sites reach their broker over TLS (amqps://): the CA (and a client
// certificate, for brokers that verify peers) come from the configuration.
import amqp, { type Channel, type ChannelModel } from 'amqplib';
import type { Logger } from 'pino';
import { redactUrl } from '../config.js';
import { wakeableSleeps } from './wakeable-sleep.js';

export type Setup = (model: ChannelModel) => Promise<void>;

/**
 * Rounds of the first connection (every node once per round) before a hub's start fails
 * (backoff 100, 200, 400, 800, 1600 ms between rounds: about 3 s against brokers that refuse).
 * Once connected, reconnects never give up.
 */
export const FIRST_CONNECT_RETRIES = 5;
/**
 * No round of the first connection starts after this: against nodes that accept and never answer
 * (each attempt timing out after CONNECT_TIMEOUT_MS) a start fails in about 20 s, not a minute.
 */
export const FIRST_CONNECT_WITHIN_MS = 15_000;
/** The pause before reconnecting after a loss, and between the first two rounds (doubling after). */
const FIRST_DELAY_MS = 100;
/** The longest wait between two rounds of reconnects. */
const MAX_DELAY_MS = 5_000;
/** A node that neither accepts nor refuses (a machine gone) is given up on after this. */
const CONNECT_TIMEOUT_MS = 10_000;

export interface BusConnection {
  /** Runs `setup` once connected and again after every reconnect. */
  onConnect(setup: Setup): Promise<void>;
  isConnected(): boolean;
  /** Runs `fn` on a short-lived channel of the current connection (for inspection, not traffic). */
  withChannel<T>(fn: (ch: Channel) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** TLS material for an amqps:// broker, as PEM bytes. */
export interface BusTls { ca: Buffer; cert?: Buffer; key?: Buffer }

export interface BusOptions {
  /** Shown by the broker (rabbitmqctl list_connections client_properties, the management UI). */
  name?: string;
  /** Used for amqps:// URLs only. */
  tls?: BusTls | undefined;
  /** Told each time an established connection is lost (before the reconnects begin). */
  onLost?: () => void;
}

/** Connects to one of `urls` (a single broker, or the nodes of one cluster). */
export async function connectBus(urls: string | readonly string[], log: Logger, options: BusOptions = {}): Promise<BusConnection> {
  const nodes = typeof urls === 'string' ? [urls] : [...urls];
  if (nodes.length === 0) throw new Error('no broker URL');
  const setups: Setup[] = [];
  let current: ChannelModel | null = null;
  let closed = false;
  let reconnecting = false;
  let next = 0; // the node tried first on the next (re)connect
  // The pauses between rounds hold a timer like any other work of the process: unref'd, a hub
  // whose only pending work is this loop (the first connect, before anything else holds the
  // loop) left Node an empty event loop, and `lgsp start` exited 13 with its start unsettled.
  // close() ends them instead.
  const pauses = wakeableSleeps();

  const attach = (m: ChannelModel, index: number) => {
    current = m;
    log.info({ node: redactUrl(nodes[index]!) }, 'broker connected');
    m.on('close', (err?: Error) => {
      if (current !== m) return;
      current = null;
      if (closed) return;
      log.warn({ err: err?.message, node: redactUrl(nodes[index]!) }, 'broker connection lost; reconnecting');
      options.onLost?.();
      // The node that dropped us is the likeliest to be down: the others are tried first.
      next = (index + 1) % nodes.length;
      void connectLoop(Infinity, FIRST_DELAY_MS).catch((loopErr: Error) => log.error({ err: loopErr.message }, 'broker reconnection gave up'));
    });
  };

  /** Tries every node in turn, then waits and tries again, up to `rounds` rounds, none starting after `until` (ms since the epoch). */
  const connectLoop = async (rounds: number, firstDelayMs = 0, until = Infinity): Promise<void> => {
    if (reconnecting) return;
    reconnecting = true;
    try {
      let lastError: Error = new Error('not connected');
      for (let round = 0; round < rounds && (round === 0 || Date.now() < until); round++) {
        await pauses.sleep(round === 0 ? firstDelayMs : Math.min(FIRST_DELAY_MS * 2 ** (round - 1), MAX_DELAY_MS));
        for (let tried = 0; tried < nodes.length; tried++) {
          if (closed) return;
          const index = next;
          try {
            const m = await openNode(nodes[index]!, setups, options, log);
            if (closed) {
              await closeAmqp(m);
              return;
            }
            attach(m, index);
            return;
          } catch (err) {
            lastError = err as Error;
            log.warn({ err: lastError.message, node: redactUrl(nodes[index]!) }, 'broker node not reachable');
            next = (index + 1) % nodes.length;
          }
        }
      }
      throw lastError;
    } finally {
      reconnecting = false;
    }
  };

  await connectLoop(FIRST_CONNECT_RETRIES + 1, 0, Date.now() + FIRST_CONNECT_WITHIN_MS);
  return {
    async onConnect(setup) {
      setups.push(setup);
      if (current !== null) await setup(current);
    },
    isConnected: () => current !== null,
    async withChannel(fn) {
      if (current === null) throw new Error('the broker is not connected');
      const ch = await current.createChannel();
      ch.on('error', (err: Error) => log.debug({ err: err.message }, 'inspection channel closed'));
      try {
        return await fn(ch);
      } finally {
        await closeAmqp(ch).catch((err: Error) => log.debug({ err: err.message }, 'inspection channel already closed'));
      }
    },
    async close() {
      closed = true;
      pauses.wakeAll();
      const m = current;
      current = null;
      if (m !== null) await closeAmqp(m).catch((err: Error) => log.debug({ err: err.message }, 'broker connection already closed'));
    },
  };
}

/**
 * Connects to one node and runs every setup on the new connection. One that fails a setup, or
 * closes while they run, is closed again and the start of it fails.
 */
async function openNode(url: string, setups: readonly Setup[], options: BusOptions, log: Logger): Promise<ChannelModel> {
  const m = await amqp.connect(url, {
    ...(url.startsWith('amqps:') && options.tls !== undefined ? tlsOptions(options.tls) : {}),
    ...(options.name ? { clientProperties: { connection_name: options.name } } : {}),
    noDelay: true,
    timeout: CONNECT_TIMEOUT_MS,
  });
  // Without a listener, an 'error' (a setup channel the broker closes, a quorum queue whose
  // leader is still being elected answering 404) would crash the process; the 'close' that
  // follows it is what starts a reconnect.
  m.on('error', (err: Error) => log.warn({ err: err.message, node: redactUrl(url) }, 'broker connection error'));
  let lost = false;
  m.once('close', () => { lost = true; });
  try {
    // A live list: a setup registered while these run is run here too, once.
    for (const setup of setups) await setup(m);
    // Closed while the setups ran, after the last one used it: as good as refused.
    if (lost) throw new Error('the connection closed while it was being set up');
  } catch (err) {
    await closeAmqp(m).catch((closeErr: Error) => log.debug({ err: closeErr.message }, 'connection already closed'));
    throw err;
  }
  return m;
}

function tlsOptions(t: BusTls) {
  return { ca: [t.ca], ...(t.cert ? { cert: t.cert } : {}), ...(t.key ? { key: t.key } : {}) };
}

/**
 * Closes an amqplib channel or connection. amqplib settles close() on the broker's CloseOk only:
 * when the socket dies first (a broker stopped while a hub starts or stops) it emits 'close' and
 * never calls back, and whoever awaits the close waits forever (a start that neither fails nor
 * completes; a stop that never ends). This settles on whichever comes first.
 */
export function closeAmqp(thing: Channel | ChannelModel): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const gone = () => resolve();
    thing.once('close', gone);
    thing.close().then(resolve, reject).finally(() => thing.off('close', gone));
  });
}

/**
 * Runs `fn` on a connection of its own, for set-up work outside a hub (the demo's clean-up and
 * provisioning): the connect is bounded, the connection is closed whatever happens, and a broker
 * that goes away mid-way makes `fn` fail with the connection's error (the 'Channel ended' of its
 * pending call would say less; unheard, the 'error' event would end the process).
 */
export async function withConnection<T>(url: string, fn: (m: ChannelModel) => Promise<T>): Promise<T> {
  const m = await amqp.connect(url, { timeout: CONNECT_TIMEOUT_MS });
  let broke: Error | undefined;
  m.on('error', (err: Error) => { broke = err; });
  try {
    return await fn(m);
  } catch (err) {
    throw broke ?? err;
  } finally {
    if (broke === undefined) await closeAmqp(m); // a broken connection is closed already
  }
}
