// GET /api/admin/queues (any admin role): the hub's queues with ready messages and consumers, read
// without touching any message; ?scope=all lists every hub's queues on the broker (with the
// management API configured). GET /api/admin/queues/:name/messages browses what a working queue
// holds, from the hub's journal: no message is fetched, redelivered, counted or reordered.
// POST …/pause and …/resume (operator, audited) hold a lane: its queue keeps every message.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AdminRole } from '../config.js';
import { adminCaller, type AdminTokens, type AgencyKeys } from './auth.js';
import { replyError } from './errors.js';
import { fail } from '../errors.js';
import type { QueueStat } from '../bus/queue-stats.js';
import { ADMIN_ERRORS, errorsOf, givenOnly } from './route-schema.js';
import { BROWSE_MAX, JournalPut, type JournalView } from '../bus/journal-index.js';
import type { Lanes } from '../admin/lanes.js';

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

const QueueItem = z.object({
  queue: z.string(), messages: z.number().int(), consumers: z.number().int(),
  unacked: z.number().int().optional(), publishPerSec: z.number().optional(), deliverPerSec: z.number().optional(),
}).describe('unacked and the rates come from the management API, where configured');
const QueueName = z.object({ name: z.string() });
const BrowsedMessage = JournalPut.omit({ kind: true }).extend({ seq: z.number().int().describe('the browse cursor: pass the page\'s next as after') });

export async function queuesApi(app: FastifyInstance, deps: QueuesDeps): Promise<void> {
  const api = app.withTypeProvider<ZodTypeProvider>();
  // The caller and its role, before any body is read or schema checked: request.admin.
  const reader = adminCaller(deps.admins, deps.agencyKeys, READ);
  const operator = adminCaller(deps.admins, deps.agencyKeys, OPERATOR);
  const tags = ['queues'];
  api.get('/api/admin/queues', {
    onRequest: reader,
    schema: {
      tags, summary: 'The hub\'s queues; ?scope=all every hub\'s (needs managementUrl)',
      // Any other value, repeated ones too, is this hub's list, as before the schema.
      querystring: z.object({ scope: z.union([z.string(), z.array(z.string())]).optional().describe('all: every hub\'s queues on the broker; anything else: this hub\'s') }),
      response: { 200: z.object({ scope: z.enum(['hub', 'all']), items: z.array(QueueItem) }), ...errorsOf(...ADMIN_ERRORS) },
    },
  }, async (request, reply) => {
    if (request.query.scope === 'all') {
      const all = await deps.allQueues();
      if (all === null) return replyError(reply, fail('UNAVAILABLE', 'listing every hub\'s queues needs managementUrl (RabbitMQ\'s management API)').error);
      return { scope: 'all' as const, items: all };
    }
    return { scope: 'hub' as const, items: await deps.queues() };
  });

  api.get('/api/admin/queues/:name/messages', {
    onRequest: reader,
    // Before the query's schema: another hub's queue is NOT_FOUND whatever the filters.
    preValidation: async (request, reply) => {
      const { name } = request.params;
      if (deps.journal.queues.includes(name)) return undefined;
      return replyError(reply, fail('NOT_FOUND', `${name} is not a working queue of this hub (browsable: ${deps.journal.queues.join(', ')})`).error);
    },
    schema: {
      tags, summary: 'Browse what a working queue holds, from the journal (no message is touched)', params: QueueName, querystring: Browse,
      response: {
        200: z.object({
          queue: z.string(), depth: z.number().int().nullable(), complete: z.boolean(),
          items: z.array(BrowsedMessage), matched: z.number().int(), next: z.number().int().nullable(),
        }),
        ...errorsOf(...ADMIN_ERRORS, 'SCHEMA_INVALID', 'NOT_FOUND'),
      },
    },
  }, async (request) => {
    const { name } = request.params;
    const page = deps.journal.index.browse({ ...givenOnly(request.query), queue: name });
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
    api.post(`/api/admin/queues/:name/${action}`, {
      onRequest: operator,
      schema: {
        tags, summary: action === 'pause' ? 'Hold a lane: its queue keeps every message (audited)' : 'Resume a held lane (audited)', params: QueueName,
        response: { 200: z.object({ queue: z.string(), paused: z.boolean() }), ...errorsOf(...ADMIN_ERRORS, 'NOT_FOUND', 'SCHEMA_INVALID', 'UNSUPPORTED_MEDIA_TYPE', 'PAYLOAD_TOO_LARGE') },
      },
    }, async (request, reply) => {
      const { name } = request.params;
      const done = await deps.lanes.act(name, action, request.admin);
      return done.ok ? { queue: name, paused: done.value.paused } : replyError(reply, done.error);
    });
  }
  // Whether each lane is paused, beside the broker's figures.
  api.get('/api/admin/lanes', {
    onRequest: reader,
    schema: { tags, summary: 'Whether each lane is paused', response: { 200: z.object({ items: z.array(z.object({ queue: z.string(), paused: z.boolean() })) }), ...errorsOf(...ADMIN_ERRORS) } },
  }, async () => {
    // The hub's word, which every replica follows, not this one's consumers (a notice may be on its way).
    const paused = await deps.lanes.paused();
    return { items: [...deps.lanes.consumers.keys()].map((queue) => ({ queue, paused: paused.has(queue) })) };
  });
}
