// Documents as a hub saw them (any admin role): search by agency, period, business status and
// delivery state; a document's page with its recipients, mailbox entries and its trace as a
// timeline across hubs, each check's verdict and timing.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { fail } from '../errors.js';
import type { AdminRole } from '../config.js';
import { DELIVERY_STATES, type Ledger } from '../ledger/store.js';
import { authenticateAdmin, type AdminTokens, type AgencyKeys } from './auth.js';
import { replyError } from './errors.js';
import { parseInput } from './input.js';

export interface DocumentsDeps { admins: AdminTokens; agencyKeys: AgencyKeys; ledger: Ledger }

const READ: readonly AdminRole[] = ['observer', 'operator', 'security'];
const Iso = z.iso.datetime({ offset: true });
const Search = z.object({
  organ: z.string().optional(), since: Iso.optional(), until: Iso.optional(),
  status: z.string().regex(/^\d{2}$/, 'a two-digit status code').optional(), delivery: z.enum(DELIVERY_STATES).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100), offset: z.coerce.number().int().min(0).default(0),
});
const DocParam = z.object({ docId: z.string().regex(/^[0-9a-f]{32}$/, 'a 32-character doc id') });

export async function documentsApi(app: FastifyInstance, deps: DocumentsDeps): Promise<void> {
  const { ledger } = deps;
  app.get('/api/admin/edocs', async (request, reply) => {
    const who = authenticateAdmin(request, deps.admins, deps.agencyKeys, READ);
    if (!who.ok) return replyError(reply, who.error);
    const q = parseInput(Search, request.query, 'query');
    if (!q.ok) return replyError(reply, q.error);
    const f = Object.fromEntries(Object.entries(q.value).filter(([, v]) => v !== undefined)) as typeof q.value;
    return ledger.searchDocuments(f);
  });

  app.get('/api/admin/edocs/:docId', async (request, reply) => {
    const who = authenticateAdmin(request, deps.admins, deps.agencyKeys, READ);
    if (!who.ok) return replyError(reply, who.error);
    const p = parseInput(DocParam, request.params, 'path');
    if (!p.ok) return replyError(reply, fail('NOT_FOUND', p.error.message).error);
    const { docId } = p.value;
    const trace = await ledger.trace(docId);
    if (trace.length === 0) return replyError(reply, fail('NOT_FOUND', `this hub has no document ${docId}`).error);
    const submission = await ledger.submission(docId);
    const started = Date.parse(trace[0]!.at);
    return {
      docId,
      ...(submission ? { kind: submission.kind, sender: submission.sender, subject: submission.subject, submittedAt: submission.submittedAt, recipients: submission.recipients } : {}),
      mailbox: await ledger.mailboxEntries(docId),
      timeline: trace.map((h) => ({ ...h, sinceFirstMs: Date.parse(h.at) - started })),
    };
  });
}
