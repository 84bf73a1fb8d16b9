// The publisher tells a message that cannot be published from a channel that closed (issue 14,
// item 2): amqplib's encode error (a header table over its 64 KiB buffer) is refused at once,
// while a message published across a lost connection waits and goes out after the reconnect, and
// a message the broker nacks (as a quorum queue does while it has no leader) is published again
// until the broker takes it.
// Against the real broker; the connection is closed with rabbitmqctl (ours only).
import { DEFAULT_CONFIRM_TIMEOUT_MS } from '../../src/config.js';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectBus, type BusConnection } from '../../src/bus/connection.js';
import { createPublisher, PublishRefused, type Publisher } from '../../src/bus/publisher.js';
import { createRootLogger } from '../../src/logger.js';
import { AMQP_URL, eventually } from '../helpers/network.js';

const name = `lgsp test publisher ${randomUUID()}`;
const queue = `lgsp-test-publisher-${randomUUID()}`;
let bus: BusConnection;
let publisher: Publisher;

beforeAll(async () => {
  bus = await connectBus(AMQP_URL, createRootLogger('silent'), { name });
  await bus.withChannel(async (ch) => { await ch.assertQueue(queue, { durable: false, autoDelete: false }); });
  publisher = await createPublisher(bus, createRootLogger('silent'), DEFAULT_CONFIRM_TIMEOUT_MS);
});
afterAll(async () => {
  await bus?.withChannel(async (ch) => { await ch.deleteQueue(queue); });
  await publisher?.close();
  await bus?.close();
});

const take = async (from = queue) => {
  const conn = await amqp.connect(AMQP_URL);
  try {
    const ch = await conn.createChannel();
    const msg = await ch.get(from, { noAck: true });
    return msg === false ? undefined : msg.content.toString('utf8');
  } finally {
    await conn.close();
  }
};

describe('publisher', () => {
  it('refuses a message whose headers amqplib cannot encode at once, and keeps publishing', async () => {
    const huge = { 'x-lgsp-subject': 's'.repeat(70_000) };
    const refused = await publisher.publish({ queue, body: Buffer.from('too big'), headers: huge, messageId: 'huge' }).then(() => null, (err: unknown) => err);
    expect(refused).toBeInstanceOf(PublishRefused);
    expect((refused as Error).message).toContain('exceeds');
    await publisher.publish({ queue, body: Buffer.from('after'), headers: {}, messageId: 'after' });
    expect(await take()).toBe('after');
  });

  it('holds a message published while the connection is gone and sends it once reconnected', async () => {
    const line = execFileSync('rabbitmqctl', ['list_connections', '--quiet', '--no-table-headers', 'pid', 'client_properties'], { encoding: 'utf8' })
      .split('\n').find((l) => l.includes(name));
    if (line === undefined) throw new Error(`no broker connection named ${name}`);
    execFileSync('rabbitmqctl', ['close_connection', line.split('\t')[0]!, 'test: the connection is lost'], { stdio: 'ignore' });
    await eventually(async () => (bus.isConnected() ? undefined : true), 'the lost connection noticed');
    await publisher.publish({ queue, body: Buffer.from('across the outage'), headers: {}, messageId: 'across' });
    expect(bus.isConnected()).toBe(true);
    expect(await take()).toBe('across the outage');
  });

  it('publishes a nacked message again, on a new channel, until the broker takes it', async () => {
    // A queue that holds one message and nacks the next: refusing is all it can do while full.
    const full = `lgsp-test-publisher-full-${randomUUID()}`;
    await bus.withChannel(async (ch) => { await ch.assertQueue(full, { durable: false, arguments: { 'x-max-length': 1, 'x-overflow': 'reject-publish' } }); });
    try {
      await publisher.publish({ queue: full, body: Buffer.from('first'), headers: {}, messageId: 'first' });
      let confirmed = false;
      const second = publisher.publish({ queue: full, body: Buffer.from('second'), headers: {}, messageId: 'second' }).then(() => { confirmed = true; });
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(confirmed).toBe(false);
      expect(await take(full)).toBe('first');
      await second;
      expect(await take(full)).toBe('second');
    } finally {
      await bus.withChannel(async (ch) => { await ch.deleteQueue(full); });
    }
  });
});
