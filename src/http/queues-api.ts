// GET /api/admin/queues (any admin role): the hub's queues with ready messages and consumers, read
// without touching any message; ?scope=all lists every hub's queues on the broker (with the
// management API configured). GET /api/admin/queues/:name/messages browses what a working queue
// holds, from the hub's journal: no message is fetched, redelivered, counted or reordered.
// POST …/pause and …/resume (operator, audited) hold a lane: its queue keeps every message.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AdminRole } from '../config.js';
import { authenticateAdmin, type AdminTokens, type AgencyKeys } from './auth.js';
import { replyError } from './errors.js';
import { fail } from '../errors.js';
import { parseInput } from './input.js';
import type { QueueStat } from '../bus/queue-stats.js';
import { BROWSE_MAX, type JournalView } from '../bus/journal-index.js';
import { actOnLane, type Lanes } from '../admin/lanes.js';

const READ: readonly AdminRole[] = ['observer', 'operator', 'security'];
const OPERATOR: readonly AdminRole[] = ['operator'];
const Iso = z.iso.datetime({ offset: true });
const Browse = z.object({
  docId: z.string().optional(), agency: z.string().optional(), since: Iso.optional(), until: Iso.optional(),
  reason: z.string().min(1).optional(),
  after: z.coerce.number().int().min(0).optional(),
  limit: z.coerce.number().int().min(1).max(BROWSE_MAX).default(50),
});

export interface QueuesDeps {
  admins: AdminTokens;
  agencyKeys: AgencyKeys;
  queues: () => Promise<QueueStat[]>;
  allQueues: () => Promise<QueueStat[] | null>;
  journal: JournalView;
  lanes: Lanes;
}

export async function queuesApi(app: FastifyInstance, deps: QueuesDeps): Promise<void> {
  app.get('/api/admin/queues', async (request, reply) => {
    const who = authenticateAdmin(request, deps.admins, deps.agencyKeys, READ);
    if (!who.ok) return replyError(reply, who.error);
    if ((request.query as Record<string, string | undefined>).scope === 'all') {
      const all = await deps.allQueues();
      if (all === null) return replyError(reply, fail('UNAVAILABLE', 'listing every hub\'s queues needs managementUrl (RabbitMQ\'s management API)').error);
      return { scope: 'all', items: all };
    }
    return { scope: 'hub', items: await deps.queues() };
  });

  app.get('/api/admin/queues/:name/messages', async (request, reply) => {
    const who = authenticateAdmin(request, deps.admins, deps.agencyKeys, READ);
    if (!who.ok) return replyError(reply, who.error);
    const { name } = request.params as { name: string };
    if (!deps.journal.queues.includes(name)) {
      return replyError(reply, fail('NOT_FOUND', `${name} is not a working queue of this hub (browsable: ${deps.journal.queues.join(', ')})`).error);
    }
    const q = parseInput(Browse, request.query, 'query');
    if (!q.ok) return replyError(reply, q.error);
    const filter = Object.fromEntries(Object.entries(q.value).filter(([, v]) => v !== undefined)) as typeof q.value;
    const page = deps.journal.index.browse({ ...filter, queue: name });
    const depth = (await deps.queues()).find((s) => s.queue === name);
    return {
      queue: name,
      // Ready plus unacked, from the broker: the index should hold as many (it lags by up to a
      // fraction of a second, and a message older than the journal's retention is not in it).
      depth: depth === undefined ? null : depth.messages + (depth.unacked ?? 0),
      complete: deps.journal.caughtUp(),
      ...page,
    };
  });

  for (const action of ['pause', 'resume'] as const) {
    app.post(`/api/admin/queues/:name/${action}`, async (request, reply) => {
      const who = authenticateAdmin(request, deps.admins, deps.agencyKeys, OPERATOR);
      if (!who.ok) return replyError(reply, who.error);
      const { name } = request.params as { name: string };
      const done = await actOnLane(deps.lanes, name, action, who.value.name);
      return done.ok ? { queue: name, paused: done.value.paused() } : replyError(reply, done.error);
    });
  }
  // Whether each lane is paused, beside the broker's figures.
  app.get('/api/admin/lanes', async (request, reply) => {
    const who = authenticateAdmin(request, deps.admins, deps.agencyKeys, READ);
    if (!who.ok) return replyError(reply, who.error);
    return { items: [...deps.lanes.consumers].map(([queue, c]) => ({ queue, paused: c.paused() })) };
  });
}
