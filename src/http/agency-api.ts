// The agency API of CONTRACT.md (base /api/v1): a fastify plugin whose dependencies come in as
// options. Bodies and query strings are checked by zod; errors go through http/errors.ts.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { fail } from '../errors.js';
import type { Ledger } from '../ledger/store.js';
import type { Pipeline } from '../pipeline/hop-pipeline.js';
import { authenticateAgency, type AgencyKeys } from './auth.js';
import { replyError } from './errors.js';
import { parseInput } from './input.js';

export interface AgencyApiDeps { pipeline: Pipeline; ledger: Ledger; keys: AgencyKeys; maxBytes: number }

const XML_TYPES = ['application/xml', 'text/xml', 'application/edxml+xml'];
const Limit = z.coerce.number().int().min(1).max(1000).default(100);
const ReceivedQuery = z.object({ kind: z.enum(['edoc', 'status']).optional(), limit: Limit });
const SentQuery = z.object({ limit: Limit });
const DocParams = z.object({ docId: z.string().regex(/^[0-9a-f]{32}$/, 'a 32-character doc id') });
const AckBody = z.object({ result: z.enum(['done', 'fail']), reason: z.string().max(2000).optional() });

export async function agencyApi(app: FastifyInstance, deps: AgencyApiDeps): Promise<void> {
  const { pipeline, ledger, keys } = deps;
  const parse = parseInput;
  const caller = (request: FastifyRequest) => authenticateAgency(request, keys);

  // The package arrives as raw bytes; the size limit is enforced while reading (fastify bodyLimit).
  // Only XML is parsed as a package: fastify's own text/plain parser would hand it a string.
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser(XML_TYPES, { parseAs: 'buffer', bodyLimit: deps.maxBytes }, (_req, body, done) => done(null, body));

  app.post('/api/v1/edocs', async (request, reply) => {
    const agency = caller(request);
    if (!agency.ok) return replyError(reply, agency.error);
    if (!Buffer.isBuffer(request.body)) {
      return replyError(reply, fail('UNSUPPORTED_MEDIA_TYPE', `send the package as ${XML_TYPES.join(' or ')}`).error);
    }
    const result = await pipeline.submit(request.body, agency.value);
    if (!result.ok) return replyError(reply, result.error);
    const { existing, ...body } = result.value;
    return reply.code(existing ? 200 : 202).send(body);
  });

  app.get('/api/v1/edocs/received', async (request, reply) => {
    const agency = caller(request);
    if (!agency.ok) return replyError(reply, agency.error);
    const query = parse(ReceivedQuery, request.query, 'query');
    if (!query.ok) return replyError(reply, query.error);
    return { items: await ledger.received(agency.value, query.value.kind, query.value.limit) };
  });

  app.get('/api/v1/edocs/sent', async (request, reply) => {
    const agency = caller(request);
    if (!agency.ok) return replyError(reply, agency.error);
    const query = parse(SentQuery, request.query, 'query');
    if (!query.ok) return replyError(reply, query.error);
    return { items: await ledger.sent(agency.value, query.value.limit) };
  });

  app.get('/api/v1/edocs/:docId', async (request, reply) => {
    const agency = caller(request);
    if (!agency.ok) return replyError(reply, agency.error);
    const params = parse(DocParams, request.params, 'path');
    if (!params.ok) return replyError(reply, fail('NOT_FOUND', params.error.message).error);
    const bytes = await ledger.download(agency.value, params.value.docId);
    if (bytes === null) return replyError(reply, fail('NOT_FOUND', `no document ${params.value.docId} for agency ${agency.value}`).error);
    return reply.type('application/xml').send(bytes);
  });

  app.post('/api/v1/edocs/:docId/ack', async (request, reply) => {
    const agency = caller(request);
    if (!agency.ok) return replyError(reply, agency.error);
    const params = parse(DocParams, request.params, 'path');
    if (!params.ok) return replyError(reply, fail('NOT_FOUND', params.error.message).error);
    const body = parse(AckBody, request.body, 'body');
    if (!body.ok) return replyError(reply, body.error);
    const acked = await pipeline.acknowledge(agency.value, params.value.docId, body.value.result, body.value.reason);
    if (!acked.ok) return replyError(reply, acked.error);
    return { docId: params.value.docId, result: body.value.result };
  });

  app.get('/api/v1/edocs/:docId/trace', async (request, reply) => {
    const agency = caller(request);
    if (!agency.ok) return replyError(reply, agency.error);
    const params = parse(DocParams, request.params, 'path');
    if (!params.ok) return replyError(reply, fail('NOT_FOUND', params.error.message).error);
    const { docId } = params.value;
    const sent = await ledger.submission(docId);
    const isSender = sent !== null && sent.sender === agency.value;
    if (!isSender && !(await ledger.isRecipient(agency.value, docId))) {
      return replyError(reply, fail('NOT_FOUND', `no document ${docId} for agency ${agency.value}`).error);
    }
    return { docId, hops: await ledger.trace(docId), deliveries: isSender ? sent.recipients : [] };
  });
}
