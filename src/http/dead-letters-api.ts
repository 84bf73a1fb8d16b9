// Dead letters (role operator to act, any admin role to read): list with filters, inspect,
// replay to the original queue (the hop check runs again there), delete, bulk actions, CSV.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { fail, type ErrorCode } from '../errors.js';
import type { AdminRole } from '../config.js';
import type { DeadLetter, Ledger } from '../ledger/store.js';
import { adminCaller, type AdminTokens, type AgencyKeys } from './auth.js';
import { replyError } from './errors.js';
import { ADMIN_ERRORS, errorsOf, givenOnly } from './route-schema.js';

export interface DeadLettersDeps {
  admins: AdminTokens;
  agencyKeys: AgencyKeys;
  ledger: Ledger;
  /** Sends a dead letter back to the queue it came from, with its original headers. */
  replay: (body: Buffer, headers: Record<string, string>) => Promise<void>;
  clock: () => Date;
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

/** Replay (to the queue it came from; the hop check runs again there) or delete, audited. */
export function deadLetterActions(deps: Pick<DeadLettersDeps, 'ledger' | 'replay' | 'clock'>) {
  return async (id: number, action: 'replay' | 'delete', actor: string): Promise<boolean> => {
    const dead = await deps.ledger.deadLetter(id);
    if (dead === null) return false;
    const at = deps.clock().toISOString();
    if (action === 'replay') {
      await deps.replay(dead.body, dead.headers);
      await deps.ledger.markDeadLetter(id, 'replayed', at);
    }
    await deps.ledger.markDeadLetter(id, 'deleted', at); // replayed ones leave the list too, kept for the audit
    await deps.ledger.audit(actor, `dead-letter.${action}`, { id, docId: dead.docId, reasonCode: dead.reasonCode });
    return true;
  };
}

/**
 * One CSV cell, quoted. A text starting with = + - @ tab or CR is a formula to a spreadsheet,
 * and the sender and reason come from AMQP headers anyone on the broker can write: such a cell
 * gets a leading ' so it stays text (OWASP, CSV injection).
 */
export function csvCell(v: string | number): string {
  const text = String(v);
  return `"${(/^[=+\-@\t\r]/.test(text) ? `'${text}` : text).replaceAll('"', '""')}"`;
}

export function toCsv(items: DeadLetter[]): string {
  const rows = items.map((d) => [d.id, d.deadAt, d.docId, d.kind, d.sender, d.reasonCode, d.reason, d.size].map(csvCell).join(','));
  return ['id,deadAt,docId,kind,sender,reasonCode,reason,bytes', ...rows].join('\r\n') + '\r\n';
}
