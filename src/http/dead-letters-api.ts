// Dead letters (role operator to act, any admin role to read): list with filters, inspect,
// replay to the original queue (the hop check runs again there), delete, bulk actions, CSV.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { fail, type ErrorCode } from '../errors.js';
import type { AdminRole } from '../config.js';
import { deadLetterActions, toCsv, type DeadLetterActionDeps } from '../admin/dead-letters.js';
import { adminCaller, type AdminTokens, type AgencyKeys } from './auth.js';
import { replyError } from './errors.js';
import { ADMIN_ERRORS, errorsOf, givenOnly } from './route-schema.js';

export interface DeadLettersDeps extends DeadLetterActionDeps {
  admins: AdminTokens;
  agencyKeys: AgencyKeys;
}

const READ: readonly AdminRole[] = ['observer', 'operator', 'security'];
const OPERATOR: readonly AdminRole[] = ['operator'];
const Iso = z.iso.datetime({ offset: true });
const ListQuery = z.object({
  reason: z.string().optional(), agency: z.string().optional(), docId: z.string().optional(),
  since: Iso.optional(), until: Iso.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100), offset: z.coerce.number().int().min(0).default(0),
});
const IdParam = z.object({ id: z.coerce.number().int().positive() });
const Bulk = z.object({ ids: z.array(z.number().int().positive()).min(1).max(1000) });

const DeadLetterItem = z.object({
  id: z.number().int(), docId: z.string(), kind: z.string(), sender: z.string(), reasonCode: z.string(), reason: z.string(),
  deadAt: z.string(), headers: z.record(z.string(), z.string()), size: z.number().int(), replayedAt: z.string().optional(),
});
const Id = z.number().int();
const Ids = z.array(Id);
const DONE = {
  replay: { one: z.object({ id: Id, replayed: z.literal(true) }), bulk: z.object({ replayed: Ids, notFound: Ids }) },
  delete: { one: z.object({ id: Id, deleted: z.literal(true) }), bulk: z.object({ deleted: Ids, notFound: Ids }) },
};

export async function deadLettersApi(app: FastifyInstance, deps: DeadLettersDeps): Promise<void> {
  const { ledger } = deps;
  const api = app.withTypeProvider<ZodTypeProvider>();
  // The caller and its role, before any body is read or schema checked: request.admin.
  const reader = adminCaller(deps.admins, deps.agencyKeys, READ);
  const operator = adminCaller(deps.admins, deps.agencyKeys, OPERATOR);
  const tags = ['dead letters'];
  const errors = (...codes: ErrorCode[]) => errorsOf(...ADMIN_ERRORS, ...codes);

  const act = deadLetterActions(deps);

  api.get('/api/admin/dead-letters', {
    onRequest: reader,
    schema: { tags, summary: 'Dead letters, filtered', querystring: ListQuery, response: { 200: z.object({ items: z.array(DeadLetterItem), total: z.number().int() }), ...errors('SCHEMA_INVALID') } },
  }, async (request) => ledger.deadLetters(givenOnly(request.query)));

  api.get('/api/admin/dead-letters.csv', {
    onRequest: reader,
    schema: {
      tags, summary: 'Dead letters as CSV (at most 1000)', querystring: ListQuery,
      response: { 200: { content: { 'text/csv': { schema: z.string() } } }, ...errors('SCHEMA_INVALID') },
    },
  }, async (request, reply) => {
    const { items } = await ledger.deadLetters(givenOnly({ ...request.query, limit: 1000 }));
    return reply.type('text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="dead-letters.csv"').send(toCsv(items));
  });

  api.get('/api/admin/dead-letters/:id', {
    onRequest: reader,
    schema: {
      tags, summary: 'A dead letter, with the first 4 KiB of its body', params: IdParam,
      response: { 200: DeadLetterItem.extend({ preview: z.string() }), ...errors('SCHEMA_INVALID', 'NOT_FOUND') },
    },
  }, async (request, reply) => {
    const dead = await ledger.deadLetter(request.params.id);
    if (dead === null) return replyError(reply, fail('NOT_FOUND', `no dead letter ${request.params.id}`).error);
    const { body, ...rest } = dead;
    return { ...rest, preview: body.subarray(0, 4096).toString('utf8') };
  });

  for (const action of ['replay', 'delete'] as const) {
    api.route({
      method: action === 'replay' ? 'POST' : 'DELETE', url: action === 'replay' ? '/api/admin/dead-letters/:id/replay' : '/api/admin/dead-letters/:id',
      onRequest: operator,
      schema: {
        tags, summary: action === 'replay' ? 'Send a dead letter back to the queue it came from (audited)' : 'Delete a dead letter (audited)', params: IdParam,
        response: { 200: DONE[action].one, ...errors('SCHEMA_INVALID', 'NOT_FOUND') },
      },
      handler: async (request, reply) => {
        const { id } = request.params;
        if (!(await act(id, action, request.admin))) return replyError(reply, fail('NOT_FOUND', `no dead letter ${id}`).error);
        return action === 'replay' ? { id, replayed: true as const } : { id, deleted: true as const };
      },
    });
    api.post(`/api/admin/dead-letters/${action}`, {
      onRequest: operator,
      schema: {
        tags, summary: `${action === 'replay' ? 'Replay' : 'Delete'} several dead letters (audited)`, body: Bulk,
        response: { 200: DONE[action].bulk, ...errors('SCHEMA_INVALID', 'UNSUPPORTED_MEDIA_TYPE', 'PAYLOAD_TOO_LARGE') },
      },
    }, async (request) => {
      const ids: number[] = [];
      const missing: number[] = [];
      for (const id of request.body.ids) ((await act(id, action, request.admin)) ? ids : missing).push(id);
      return action === 'replay' ? { replayed: ids, notFound: missing } : { deleted: ids, notFound: missing };
    });
  }
}
