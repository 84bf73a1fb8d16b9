// Queue statistics, read without touching any message. AMQP's queue.declare passive gives ready
// messages and consumers (authoritative, immediate); RabbitMQ's management API, where configured,
// adds unacked counts and publish/deliver rates (collected every few seconds).
import { z } from 'zod';
import type { Logger } from 'pino';
import type { BusConnection } from './connection.js';
import { managementCall, vhostOf } from './management.js';

export interface QueueStat {
  queue: string;
  messages: number;
  consumers: number;
  /** From the management API, where configured. */
  unacked?: number;
  publishPerSec?: number;
  deliverPerSec?: number;
}

const ManagementQueue = z.object({
  messages_unacknowledged: z.number().default(0),
  message_stats: z.object({
    publish_details: z.object({ rate: z.number() }).optional(),
    deliver_get_details: z.object({ rate: z.number() }).optional(),
  }).optional(),
});

const ManagementListed = z.array(ManagementQueue.extend({
  name: z.string(), messages_ready: z.number().default(0), consumers: z.number().default(0),
}));

export function queueStats(opts: { conn: BusConnection; amqpUrl: string; managementUrl?: string | undefined; names: () => readonly string[]; log: Logger }) {
  const vhost = vhostOf(opts.amqpUrl);
  /** A GET on the management API, credentials taken from managementUrl. */
  const management = async (path: string): Promise<unknown> => {
    const res = await managementCall(opts.managementUrl!, path);
    if (!res.ok) throw new Error(`management API answered ${res.status} for ${path}`);
    return res.json();
  };
  const fromManagement = async (): Promise<Map<string, Pick<QueueStat, 'unacked' | 'publishPerSec' | 'deliverPerSec'>> | null> => {
    if (opts.managementUrl === undefined) return null;
    try {
      const stats = new Map<string, Pick<QueueStat, 'unacked' | 'publishPerSec' | 'deliverPerSec'>>();
      for (const name of opts.names()) {
        const q = ManagementQueue.parse(await management(`/api/queues/${vhost}/${encodeURIComponent(name)}`));
        stats.set(name, {
          unacked: q.messages_unacknowledged,
          publishPerSec: q.message_stats?.publish_details?.rate ?? 0, deliverPerSec: q.message_stats?.deliver_get_details?.rate ?? 0,
        });
      }
      return stats;
    } catch (err) {
      opts.log.warn({ err: (err as Error).message }, 'management API unavailable; queue stats without unacked counts and rates');
      return null;
    }
  };
  const fromAmqp = async (): Promise<QueueStat[]> => !opts.conn.isConnected() ? [] : opts.conn.withChannel(async (ch) => {
    const stats: QueueStat[] = [];
    for (const name of opts.names()) {
      const s = await ch.checkQueue(name);
      stats.push({ queue: name, messages: s.messageCount, consumers: s.consumerCount });
    }
    return stats;
  });
  const own = async (): Promise<QueueStat[]> => {
    const [base, extra] = await Promise.all([fromAmqp(), fromManagement()]);
    return base.map((q) => ({ ...q, ...extra?.get(q.queue) }));
  };
  /** Every hub's queues on this broker's vhost (lgsp.*), from the management API; null without it. */
  const all = async (): Promise<QueueStat[] | null> => {
    if (opts.managementUrl === undefined) return null;
    try {
      return ManagementListed.parse(await management(`/api/queues/${vhost}?columns=name,messages_ready,messages_unacknowledged,consumers,message_stats`)).filter((q) => q.name.startsWith('lgsp.')).map((q) => ({
        queue: q.name, messages: q.messages_ready, consumers: q.consumers, unacked: q.messages_unacknowledged,
        publishPerSec: q.message_stats?.publish_details?.rate ?? 0, deliverPerSec: q.message_stats?.deliver_get_details?.rate ?? 0,
      })).sort((a, b) => a.queue.localeCompare(b.queue));
    } catch (err) {
      opts.log.warn({ err: (err as Error).message }, 'management API unavailable; only this hub\'s queues are listed');
      return null;
    }
  };
  return { own, all };
}
