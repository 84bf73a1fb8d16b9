// Dead letters (role operator to act, any admin role to read): list with filters, inspect,
// replay to the original queue (the hop check runs again there), delete, bulk actions, CSV.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { fail } from '../errors.js';
import type { AdminRole } from '../config.js';
import { deadLetterActions, toCsv, type DeadLetterActionDeps } from '../admin/dead-letters.js';
import { authenticateAdmin, type AdminTokens, type AgencyKeys } from './auth.js';
import { replyError } from './errors.js';
import { parseInput } from './input.js';

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

function withoutUndefined<T extends Record<string, unknown>>(v: T): T {
  return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined)) as T;
}
