// A broker that goes away at a chosen moment, without touching the shared one: a TCP proxy to
// it that reads the AMQP frames a client sends and, once armed, cuts every connection (and stops
// listening, so that reconnects are refused) just before forwarding the frame it was told to
// wait for, e.g. the first queue.declare of a start or the first channel.close of a stop.
// restore() listens again on the same port: the broker is back.
import net from 'node:net';

/** An AMQP method, by class and method id (AMQP 0-9-1 spec): the frame that triggers the cut. */
export interface AmqpMethod { classId: number; methodId: number }

export const QUEUE_DECLARE: AmqpMethod = { classId: 50, methodId: 10 };
export const CHANNEL_CLOSE: AmqpMethod = { classId: 20, methodId: 40 };

export interface AmqpProxy {
  /** amqp://guest:guest@127.0.0.1:PORT */
  url: string;
  /** Cuts at the `nth` frame of `method` a client sends from now on (counted over all connections). */
  cutAt(method: AmqpMethod, nth?: number): void;
  /** Resolves once the proxy has cut. */
  cut: Promise<void>;
  /** Listens again: the broker is back. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

const PROTOCOL_HEADER_BYTES = 8;
const FRAME_HEADER_BYTES = 7; // type (1), channel (2), payload size (4); the payload and a frame-end octet follow
const METHOD_FRAME = 1;

/** A proxy to the broker at `brokerUrl` (amqp://); its own URL logs in as guest. */
export async function amqpProxy(brokerUrl: string): Promise<AmqpProxy> {
  const target = new URL(brokerUrl);
  const sockets = new Set<net.Socket>();
  let trigger: { method: AmqpMethod; left: number } | null = null;
  let cutDone!: () => void;
  const cut = new Promise<void>((resolve) => { cutDone = resolve; });
  const server = net.createServer((client) => {
    const broker = net.connect(Number(target.port || 5672), target.hostname);
    for (const s of [client, broker]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      // The other side of a cut or a dead peer: the pair goes down together.
      s.on('error', () => { client.destroy(); broker.destroy(); });
    }
    client.on('close', () => broker.destroy());
    broker.on('close', () => client.destroy());
    broker.pipe(client);
    let pending = Buffer.alloc(0);
    let headerSeen = false;
    client.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      if (!headerSeen) {
        if (pending.length < PROTOCOL_HEADER_BYTES) return;
        broker.write(pending.subarray(0, PROTOCOL_HEADER_BYTES));
        pending = pending.subarray(PROTOCOL_HEADER_BYTES);
        headerSeen = true;
      }
      while (pending.length >= FRAME_HEADER_BYTES) {
        const end = FRAME_HEADER_BYTES + pending.readUInt32BE(3) + 1;
        if (pending.length < end) return;
        const frame = pending.subarray(0, end);
        pending = pending.subarray(end);
        if (trigger !== null && frame[0] === METHOD_FRAME && frame.readUInt16BE(7) === trigger.method.classId
          && frame.readUInt16BE(9) === trigger.method.methodId && --trigger.left === 0) {
          trigger = null;
          cutNow();
          return;
        }
        broker.write(frame);
      }
    });
  });
  const listen = (port: number) => new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const cutNow = () => {
    server.close();
    for (const s of sockets) s.destroy();
    cutDone();
  };
  await listen(0);
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `amqp://guest:guest@127.0.0.1:${port}`,
    cutAt(method, nth = 1) { trigger = { method, left: nth }; },
    cut,
    restore: () => listen(port),
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      if (!server.listening) return resolve();
      server.close(() => resolve());
    }),
  };
}
