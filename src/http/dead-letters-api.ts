// Dead letters (role operator to act, any admin role to read): list with filters, inspect,
// replay to the original queue (the hop check runs again there), delete, bulk actions, CSV.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { fail } from '../errors.js';
import type { AdminRole } from '../config.js';
import type { DeadLetter, Ledger } from '../ledger/store.js';
import { authenticateAdmin, type AdminTokens, type AgencyKeys } from './auth.js';
import { replyError } from './errors.js';
import { parseInput } from './input.js';

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

export async function deadLettersApi(app: FastifyInstance, deps: DeadLettersDeps): Promise<void> {
  const { ledger } = deps;
  const admin = (request: FastifyRequest, roles: readonly AdminRole[]) => authenticateAdmin(request, deps.admins, deps.agencyKeys, roles);

  const act = deadLetterActions(deps);

  app.get('/api/admin/dead-letters', async (request, reply) => {
    const who = admin(request, READ);
    if (!who.ok) return replyError(reply, who.error);
    const q = parseInput(ListQuery, request.query, 'query');
    if (!q.ok) return replyError(reply, q.error);
    return ledger.deadLetters(withoutUndefined(q.value));
  });

  app.get('/api/admin/dead-letters.csv', async (request, reply) => {
    const who = admin(request, READ);
    if (!who.ok) return replyError(reply, who.error);
    const q = parseInput(ListQuery, request.query, 'query');
    if (!q.ok) return replyError(reply, q.error);
    const { items } = await ledger.deadLetters(withoutUndefined({ ...q.value, limit: 1000 }));
    return reply.type('text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="dead-letters.csv"').send(toCsv(items));
  });

  app.get('/api/admin/dead-letters/:id', async (request, reply) => {
    const who = admin(request, READ);
    if (!who.ok) return replyError(reply, who.error);
    const p = parseInput(IdParam, request.params, 'path');
    if (!p.ok) return replyError(reply, p.error);
    const dead = await ledger.deadLetter(p.value.id);
    if (dead === null) return replyError(reply, fail('NOT_FOUND', `no dead letter ${p.value.id}`).error);
    const { body, ...rest } = dead;
    return { ...rest, preview: body.subarray(0, 4096).toString('utf8') };
  });

  for (const action of ['replay', 'delete'] as const) {
    const one = async (request: FastifyRequest, reply: FastifyReply) => {
      const who = admin(request, OPERATOR);
      if (!who.ok) return replyError(reply, who.error);
      const p = parseInput(IdParam, request.params, 'path');
      if (!p.ok) return replyError(reply, p.error);
      return (await act(p.value.id, action, who.value.name)) ? { id: p.value.id, [action === 'replay' ? 'replayed' : 'deleted']: true }
        : replyError(reply, fail('NOT_FOUND', `no dead letter ${p.value.id}`).error);
    };
    if (action === 'replay') app.post('/api/admin/dead-letters/:id/replay', one);
    else app.delete('/api/admin/dead-letters/:id', one);
    app.post(`/api/admin/dead-letters/${action}`, async (request, reply) => {
      const who = admin(request, OPERATOR);
      if (!who.ok) return replyError(reply, who.error);
      const body = parseInput(Bulk, request.body, 'body');
      if (!body.ok) return replyError(reply, body.error);
      const done: number[] = [];
      const missing: number[] = [];
      for (const id of body.value.ids) ((await act(id, action, who.value.name)) ? done : missing).push(id);
      return { [action === 'replay' ? 'replayed' : 'deleted']: done, notFound: missing };
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

function withoutUndefined<T extends Record<string, unknown>>(v: T): T {
  return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined)) as T;
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
