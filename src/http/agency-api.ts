// The agency API of CONTRACT.md (base /api/v1): a fastify plugin whose dependencies come in as
// options. Each route declares its path, query, body and answers in zod (route-schema.ts); the
// caller is authenticated before any of it is read (agencyCaller); errors go through http/errors.ts.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { fail } from '../errors.js';
import type { Ledger } from '../ledger/store.js';
import type { Pipeline } from '../pipeline/hop-pipeline.js';
import { agencyCaller, type AgencyKeys } from './auth.js';
import { replyError } from './errors.js';
import { AGENCY_ERRORS, Bytes, DocId, errorsOf, HopEntry, RecipientState } from './route-schema.js';

export interface AgencyApiDeps { pipeline: Pipeline; ledger: Ledger; keys: AgencyKeys; maxBytes: number }

const XML_TYPES = ['application/xml', 'text/xml', 'application/edxml+xml'];
const Limit = z.coerce.number().int().min(1).max(1000).default(100);
const Kind = z.enum(['edoc', 'status']);
const ReceivedQuery = z.object({ kind: Kind.optional(), limit: Limit });
const SentQuery = z.object({ limit: Limit });
const DocParams = z.object({ docId: DocId });
const AckBody = z.object({ result: z.enum(['done', 'fail']), reason: z.string().max(2000).optional() });
/**
 * An acknowledgement's body: a result and at most 2,000 characters of reason (12 KB even with every
 * character escaped), so 64 KiB, as /vxp's small bodies. Without a limit of its own the route took
 * the package's (policy.maxBytes): any agency could make the hub buffer and parse 50 MiB of JSON.
 */
const ACK_BODY_BYTES = 64 * 1024;
const Submitted = z.object({
  docId: z.string(), kind: Kind,
  recipients: z.array(z.object({
    organId: z.string(), route: z.string().describe('how the hub reaches the recipient'),
    redirectedTo: z.string().optional().describe('the successor a closed recipient\'s package goes to (docs/directory.md)'),
  })),
});
const Received = z.object({
  items: z.array(z.object({
    docId: z.string(), kind: Kind, from: z.string(), subject: z.string().optional(), statusCode: z.string().optional(), receivedAt: z.string(),
    addressedTo: z.string().optional().describe('the closed code the package named, when it was redirected to the caller'),
  })),
});
const Sent = z.object({
  items: z.array(z.object({ docId: z.string(), kind: Kind, subject: z.string().optional(), sentAt: z.string(), recipients: z.array(RecipientState) })),
});
const Xml = { content: { 'application/xml': { schema: Bytes.describe('the edXML package as the hub received it') } } };

export async function agencyApi(app: FastifyInstance, deps: AgencyApiDeps): Promise<void> {
  const { pipeline, ledger } = deps;
  const api = app.withTypeProvider<ZodTypeProvider>();
  // From the headers alone, before any body is read or schema checked: request.agency.
  const onRequest = agencyCaller(deps.keys);
  const tags = ['agency API'];
  const notFound = { badPathIsNotFound: true };

  // The package arrives as raw bytes; the size limit is enforced while reading (fastify bodyLimit).
  // Only XML is parsed as a package: fastify's own text/plain parser would hand it a string.
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser(XML_TYPES, { parseAs: 'buffer', bodyLimit: deps.maxBytes }, (_req, body, done) => done(null, body));

  api.post('/api/v1/edocs', {
    onRequest,
    schema: {
      tags, summary: 'Submit a signed edXML package', consumes: XML_TYPES,
      description: `The package as raw bytes (${XML_TYPES.join(', ')}), at most policy.maxBytes. 202 when accepted, 200 when the same package was accepted before.`,
      response: {
        202: Submitted, 200: Submitted,
        ...errorsOf(...AGENCY_ERRORS, 'MALFORMED_XML', 'SCHEMA_INVALID', 'SENDER_MISMATCH', 'SIGNATURE_MISSING', 'PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE'),
      },
    },
  }, async (request, reply) => {
    if (!Buffer.isBuffer(request.body)) {
      return replyError(reply, fail('UNSUPPORTED_MEDIA_TYPE', `send the package as ${XML_TYPES.join(' or ')}`).error);
    }
    const result = await pipeline.submit(request.body, request.agency);
    if (!result.ok) return replyError(reply, result.error);
    const { existing, ...body } = result.value;
    return reply.code(existing ? 200 : 202).send(body);
  });

  api.get('/api/v1/edocs/received', {
    onRequest,
    schema: { tags, summary: 'Documents waiting in the caller\'s mailbox', querystring: ReceivedQuery, response: { 200: Received, ...errorsOf(...AGENCY_ERRORS, 'SCHEMA_INVALID') } },
  }, async (request) => ({ items: await ledger.received(request.agency, request.query.kind, request.query.limit) }));

  api.get('/api/v1/edocs/sent', {
    onRequest,
    schema: { tags, summary: 'Documents the caller sent, with each recipient\'s state', querystring: SentQuery, response: { 200: Sent, ...errorsOf(...AGENCY_ERRORS, 'SCHEMA_INVALID') } },
  }, async (request) => ({ items: await ledger.sent(request.agency, request.query.limit) }));

  api.get('/api/v1/edocs/:docId', {
    onRequest, config: notFound,
    schema: { tags, summary: 'Download a received package', params: DocParams, response: { 200: Xml, ...errorsOf(...AGENCY_ERRORS, 'NOT_FOUND', 'GONE') } },
  }, async (request, reply) => {
    const bytes = await ledger.download(request.agency, request.params.docId);
    if (bytes === null) return replyError(reply, fail('NOT_FOUND', `no document ${request.params.docId} for agency ${request.agency}`).error);
    if (bytes === 'gone') return replyError(reply, fail('GONE', `the package of document ${request.params.docId} was acknowledged long ago and removed by retention (retention.packagesAfterAck); its trace is kept`).error);
    return reply.type('application/xml').send(bytes);
  });

  api.post('/api/v1/edocs/:docId/ack', {
    onRequest, config: notFound, bodyLimit: ACK_BODY_BYTES,
    schema: {
      tags, summary: 'Acknowledge a received document (done or fail)', params: DocParams, body: AckBody,
      response: { 200: z.object({ docId: z.string(), result: z.enum(['done', 'fail']) }), ...errorsOf(...AGENCY_ERRORS, 'NOT_FOUND', 'SCHEMA_INVALID', 'ACK_CONFLICT', 'UNSUPPORTED_MEDIA_TYPE', 'PAYLOAD_TOO_LARGE') },
    },
  }, async (request, reply) => {
    const { docId } = request.params;
    const acked = await pipeline.acknowledge(request.agency, docId, request.body.result, request.body.reason);
    if (!acked.ok) return replyError(reply, acked.error);
    return { docId, result: request.body.result };
  });

  api.get('/api/v1/edocs/:docId/trace', {
    onRequest, config: notFound,
    schema: {
      tags, summary: 'A document\'s hops, and for its sender each recipient\'s state', params: DocParams,
      response: { 200: z.object({ docId: z.string(), hops: z.array(HopEntry), deliveries: z.array(RecipientState) }), ...errorsOf(...AGENCY_ERRORS, 'NOT_FOUND') },
    },
  }, async (request, reply) => {
    const { docId } = request.params;
    const sent = await ledger.submission(docId);
    const isSender = sent !== null && sent.sender === request.agency;
    if (!isSender && !(await ledger.isRecipient(request.agency, docId))) {
      return replyError(reply, fail('NOT_FOUND', `no document ${docId} for agency ${request.agency}`).error);
    }
    return { docId, hops: await ledger.trace(docId), deliveries: isSender ? sent.recipients : [] };
  });
}
