// Documents as a hub saw them (any admin role): search by agency, period, business status and
// delivery state; a document's page with its recipients, mailbox entries and its trace as a
// timeline across hubs, each check's verdict and timing (admin/document-detail.ts, as the console shows it).
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { fail } from '../errors.js';
import type { AdminRole } from '../config.js';
import { DELIVERY_STATES, type Ledger } from '../ledger/store.js';
import { documentDetail } from '../admin/document-detail.js';
import { adminCaller, type AdminTokens, type AgencyKeys } from './auth.js';
import { replyError } from './errors.js';
import { ADMIN_ERRORS, DocId, errorsOf, givenOnly, HopEntry, RecipientState } from './route-schema.js';

export interface DocumentsDeps { admins: AdminTokens; agencyKeys: AgencyKeys; ledger: Ledger }

const READ: readonly AdminRole[] = ['observer', 'operator', 'security'];
const Iso = z.iso.datetime({ offset: true });
const Search = z.object({
  organ: z.string().optional(), since: Iso.optional(), until: Iso.optional(),
  status: z.string().regex(/^\d{2}$/, 'a two-digit status code').optional(), delivery: z.enum(DELIVERY_STATES).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100), offset: z.coerce.number().int().min(0).default(0),
});
const Found = z.object({
  items: z.array(z.object({
    docId: z.string(), firstSeen: z.string(), role: z.enum(['origin', 'destination', 'transit']),
    kind: z.string().optional(), sender: z.string().optional(), subject: z.string().optional(), rejected: z.boolean(),
  })),
  total: z.number().int(),
});
const Detail = z.object({
  docId: z.string(), kind: z.string().optional(), sender: z.string().optional(), subject: z.string().optional(), submittedAt: z.string().optional(),
  recipients: z.array(RecipientState).optional(),
  mailbox: z.array(z.object({ agency: z.string(), receivedAt: z.string(), ackedAt: z.string().optional(), ackResult: z.string().optional() })),
  timeline: z.array(HopEntry.extend({ sinceFirstMs: z.number() })),
});

export async function documentsApi(app: FastifyInstance, deps: DocumentsDeps): Promise<void> {
  const { ledger } = deps;
  const api = app.withTypeProvider<ZodTypeProvider>();
  const onRequest = adminCaller(deps.admins, deps.agencyKeys, READ);
  const tags = ['documents'];
  api.get('/api/admin/edocs', {
    onRequest, schema: { tags, summary: 'Search the documents this hub saw', querystring: Search, response: { 200: Found, ...errorsOf(...ADMIN_ERRORS, 'SCHEMA_INVALID') } },
  }, async (request) => ledger.searchDocuments(givenOnly(request.query)));

  api.get('/api/admin/edocs/:docId', {
    onRequest, config: { badPathIsNotFound: true },
    schema: { tags, summary: 'A document: recipients, mailbox and its timeline across hubs', params: z.object({ docId: DocId }), response: { 200: Detail, ...errorsOf(...ADMIN_ERRORS, 'NOT_FOUND') } },
  }, async (request, reply) => {
    const detail = await documentDetail(ledger, request.params.docId);
    return detail ?? replyError(reply, fail('NOT_FOUND', `this hub has no document ${request.params.docId}`).error);
  });
}
