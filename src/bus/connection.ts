// The broker connection. amqplib's opt-in recovery restores only the connection, so every
// component that owns a channel registers a setup here, and all setups run again, in order,
// after each reconnect. noDelay: with Nagle on, awaiting single 10 KB confirms drops from ~880
// to ~22 messages/s on this machine. Hubs on other sites reach their broker over TLS (amqps://):
// the CA (and a client certificate, for brokers that verify peers) come from the configuration.
import amqp, { type Channel, type ChannelModel, type RecoveringChannelModel } from 'amqplib';
import type { Logger } from 'pino';

export type Setup = (model: ChannelModel) => Promise<void>;

/**
 * Tries of the first connection before a hub's start fails (backoff 100, 200, 400, 800, 1600 ms:
 * about 3 s against a broker that refuses). Once connected, reconnects never give up.
 */
export const FIRST_CONNECT_RETRIES = 5;

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
}

export async function connectBus(url: string, log: Logger, options: BusOptions = {}): Promise<BusConnection> {
  const setups: Setup[] = [];
  let current: ChannelModel | null = null;
  const tls = url.startsWith('amqps:') && options.tls !== undefined
    ? { ca: [options.tls.ca], ...(options.tls.cert ? { cert: options.tls.cert } : {}), ...(options.tls.key ? { key: options.tls.key } : {}) }
    : {};
  const model: RecoveringChannelModel = await amqp.connect(url, {
    ...tls,
    ...(options.name ? { clientProperties: { connection_name: options.name } } : {}),
    noDelay: true,
    recovery: {
      initialDelay: 100,
      maxDelay: 5_000,
      initialMaxRetries: FIRST_CONNECT_RETRIES,
      async setup(m: ChannelModel) {
        // amqplib listens on a new connection only once every setup has run. Until then, a setup
        // channel the broker closes (a quorum queue whose home node is still starting answers a
        // declare with 404) would raise an 'error' nobody hears and crash the process; logged
        // here, the setup fails instead and recovery tries again.
        m.on('error', (err: Error) => log.warn({ err: err.message }, 'broker connection error during setup'));
        current = m;
        for (const setup of setups) await setup(m);
      },
    },
  });
  model.on('disconnect', (err: Error) => {
    current = null;
    log.warn({ err: err.message }, 'broker connection lost; reconnecting');
  });
  model.on('connect', () => log.info('broker connected'));
  model.on('reconnect-failed', (err: Error) => log.error({ err: err.message }, 'broker reconnection gave up'));
  model.on('error', (err: Error) => log.warn({ err: err.message }, 'broker connection error'));
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
        await ch.close().catch((err: Error) => log.debug({ err: err.message }, 'inspection channel already closed'));
      }
    },
    close: () => model.close(),
  };
}
