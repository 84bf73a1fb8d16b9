// The national SDK dialect of the agency API (CONTRACT.md, "National SDK dialect, base /vxp"):
// the calls document systems already make to the national axis, mapped onto the same pipeline
// and ledger as /api/v1, so the hop check, sender binding, routing and dedupe are those of
// POST /api/v1/edocs. Callers sign with the XroadVnpt-* headers (sdk-auth.ts): an agency, or a
// system account acting for many (sdk-scope.ts says whose documents each reads); answers are
// {"status": "OK"|"FAIL", "ErrorCode", "ErrorDesc", …} (sdk-error-codes.ts). docs/national-sdk.md.
import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Registry } from '../agency/registry.js';
import { oldCodesOf } from '../agency/directory.js';
import type { Ledger } from '../ledger/store.js';
import type { Pipeline } from '../pipeline/hop-pipeline.js';
import type { ErrorCode } from '../errors.js';
import { createSdkAuth, unsignedParameter, type SdkAuthDeps, type SdkCaller, type SdkFreshness, type SdkResult } from './sdk-auth.js';
import { sdkError } from './sdk-error-codes.js';
import { formatSdkTimestamp, hashFileMatches, sdkJsonText } from './sdk-signature.js';
import { replySdkError, type SdkFailShape } from './errors.js';
import { maySendFor, scopeOf } from './sdk-scope.js';
import type { AgencyLimiter } from './rate-limit.js';
import { parseInput } from './input.js';
import { Bytes } from './route-schema.js';

export const SDK_BASE = '/vxp';

export interface SdkDialectDeps {
  hubId: string;
  pipeline: Pipeline;
  ledger: Ledger;
  registry: Pick<Registry, 'agencies'>;
  /** Agency code → API key, for this hub's agencies with an apiKeyFile (sdk-auth.ts). */
  secrets: ReadonlyMap<string, Buffer>;
  /** The system accounts this hub serves (sdk.systems), with their secrets. */
  systems: SdkAuthDeps['systems'];
  /** Live: whether an agency's key signs in here now (a closed agency's only during its grace period). */
  signsIn: SdkAuthDeps['signsIn'];
  /** True once the hub has begun to shut down: every call then answers UNAVAILABLE in its FAIL shape. */
  shuttingDown: () => boolean;
  /** config.sdk: how old a timestamp may be, and which agencies are held to the strict rules. */
  freshness: SdkFreshness;
  /** The hub's policy.maxBytes: the largest package sendEdoc may carry. */
  maxBytes: number;
  clock: () => Date;
  /** The per-agency rate limit, shared with /api/v1. */
  limiter: AgencyLimiter;
}

const SERVICE_TYPE = 'eDoc';
const FILE_PART = 'file_doc';
/** Bodies other than sendEdoc's are a few parameters (updateStatus); nothing near a package's size. */
const SMALL_BODY_LIMIT = 64 * 1024;
/** sendEdoc's raw body: the package, and the CRLF the SDK writes after it. */
const RAW_TYPES = ['application/octet-stream', 'application/xml', 'text/xml'];
const SDK_TRAILER = Buffer.from('\r\n');

const EdocKind = z.enum(['edoc', 'status']);
// Header values as signed; the SDK writes servicetype "eDoc", read here without regard to case.
const ServiceType = z.string().refine((s) => s.toLowerCase() === SERVICE_TYPE.toLowerCase(), `must be ${SERVICE_TYPE}`);
const SendHeaders = z.object({
  from: z.string().optional(), servicetype: ServiceType.optional(), messagetype: EdocKind.optional(), 'hash-file': z.string().optional(),
});
const ListHeaders = z.object({ servicetype: ServiceType.optional(), messagetype: EdocKind.optional() });
const DocParams = z.object({ docId: z.string() });
/** A JSON or form body's fields (anything else carries no parameters). */
const BodyFields = z.record(z.string(), z.unknown());
const DocId = /^[0-9a-f]{32}$/;
const ListQuery = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) });
/** processing says the document system is working on it: not an acknowledgement (docs/national-sdk.md). */
const UpdateStatusParams = z.object({ status: z.enum(['done', 'fail', 'processing']), reason: z.string().max(2000).optional() });

// The OpenAPI description of the calls (openapi.ts). Validation stays in the handlers, which
// read parameters from the signed headers first and answer in the dialect's FAIL shape.
const header = (what: string) => z.string().describe(what);
const SIGNED = {
  'xroadvnpt-systemid': header('the calling agency\'s code, or a system account\'s id (sdk.systems)'),
  'xroadvnpt-timestamp': header('ddMMyyyy\'T\'HHmmss+SSSS, Vietnam time'),
  'xroadvnpt-sign-header-key': header('the signed header names, comma-separated'),
  'xroadvnpt-sign-header': header('JSON of the signed XroadVnpt-* headers: the HMAC input'),
  'xroadvnpt-hash-header': header('HMAC-SHA256 of the sign-header under the agency\'s API key (a system account\'s secret)'),
};
const optionalHeader = (what: string) => header(what).optional();
const KIND_HEADERS = { 'xroadvnpt-servicetype': optionalHeader('eDoc'), 'xroadvnpt-messagetype': optionalHeader('edoc or status') };
const DOC_HEADER = { 'xroadvnpt-docid': optionalHeader('the doc id (here or in the body as docId)') };
const SdkOk = (fields: z.ZodRawShape = {}) => z.object({ status: z.literal('OK'), ErrorCode: z.literal('0'), ErrorDesc: z.literal(''), ...fields });
const SdkFail = z.object({
  status: z.literal('FAIL'), ErrorCode: z.string().describe('the dialect\'s numeric code (docs/national-sdk.md)'), ErrorDesc: z.string().describe('the hub\'s code or reason, then the message'),
}).describe('The national SDK dialect\'s FAIL shape (docs/national-sdk.md), with the HTTP status of the hub\'s code');
const SendFail = SdkFail.extend({ DocId: z.literal('') });
/** The statuses a call can fail with: authentication, rate, parameters, and the hub's own. */
const FAIL_STATUSES = [400, 401, 403, 404, 409, 413, 415, 422, 429, 503];
/** Every failure, 503 while the hub shuts down included, comes in the dialect's FAIL shape. */
const failsAs = (schema: z.ZodType) => Object.fromEntries(FAIL_STATUSES.map((s) => [s, schema]));
const DOWNLOAD_FAIL = failsAs(z.null().describe('FAIL: no body (the SDK would save one as the document); the FAIL object (docs/national-sdk.md) is in the XroadVnpt-result header'));
const DocParamBody = z.object({ docId: z.string().optional() }).describe('form or JSON fields, each also accepted as a signed header');
const ListItems = SdkOk({ data: z.array(z.record(z.string(), z.unknown())) });
const Docs = { headers: { ...DOC_HEADER }, body: DocParamBody };

interface RouteOptions {
  summary: string;
  description?: string;
  failShape?: SdkFailShape;
  bodyLimit?: number;
  /** Raw body media types (sendEdoc). */
  consumes?: string[];
  headers?: z.ZodRawShape;
  body?: z.ZodType;
  querystring?: z.ZodType;
  ok?: z.ZodType | { description: string; content: Record<string, { schema: z.ZodType }> };
}

/** A call's OpenAPI description: the signed headers, its parameters, its OK and FAIL answers. */
function callSchema(options: RouteOptions) {
  const { summary, description, consumes, body, querystring, failShape = 'json' } = options;
  return {
    tags: ['national SDK dialect (/vxp)'], security: [{ xroadVnpt: [] }], summary,
    ...(description === undefined ? {} : { description }), ...(consumes === undefined ? {} : { consumes }),
    ...(body === undefined ? {} : { body }), ...(querystring === undefined ? {} : { querystring }),
    headers: z.object({ ...SIGNED, ...options.headers }),
    response: { 200: options.ok ?? SdkOk(), ...(failShape === 'download' ? DOWNLOAD_FAIL : failsAs(failShape === 'sendEdoc' ? SendFail : SdkFail)) },
  };
}

/** What a call answers: the fields beside status/ErrorCode/ErrorDesc, or raw package bytes. */
type Answer = SdkResult<Record<string, string | number | object[]> | Buffer>;
type Call = (caller: SdkCaller, request: FastifyRequest) => Promise<Answer>;

const failed = (code: ErrorCode, message: string): SdkResult<never> => ({ ok: false, error: { code, message } });
const answer = (value: Record<string, string | number | object[]>): Answer => ({ ok: true, value });
/** Optional text the SDK reads with getAsString: "" when absent, never null. */
const text = (value: string | null | undefined): string => value ?? '';

const headersOf = <T extends z.ZodType>(schema: T, caller: SdkCaller) => parseInput(schema, Object.fromEntries(caller.headers), 'signed headers');
/** A JSON or form body's fields; none for a raw or multipart body. */
function bodyFieldsOf(request: FastifyRequest): Record<string, unknown> {
  const fields = Buffer.isBuffer(request.body) ? null : BodyFields.safeParse(request.body);
  return fields?.success === true ? fields.data : {};
}
/**
 * A call's parameters: the signed headers first (the SDK sends them there, accumulated over
 * the calls of one service object), then the body's JSON or form fields. A state-changing call
 * asks unsignedParameter first: without a replay guard, its parameters must be signed.
 */
function paramsOf<T extends z.ZodType>(schema: T, caller: SdkCaller, request: FastifyRequest, names: readonly string[]) {
  const body = bodyFieldsOf(request);
  const params: Record<string, unknown> = {};
  for (const name of names) params[name] = caller.headers.get(name.toLowerCase()) ?? body[name];
  return parseInput(schema, params, 'signed headers or body');
}
function docIdOf(caller: SdkCaller, request: FastifyRequest): SdkResult<string> {
  const p = paramsOf(DocParams, caller, request, ['docId']);
  if (!p.ok) return p;
  // Not a doc id of ours is no document of the caller's: NOT_FOUND, as /api/v1 answers.
  return DocId.test(p.value.docId) ? { ok: true, value: p.value.docId } : failed('NOT_FOUND', `no document ${p.value.docId} for agency ${caller.agency}`);
}
const time = (iso: string) => formatSdkTimestamp(new Date(iso));

export async function sdkDialect(app: FastifyInstance, deps: SdkDialectDeps): Promise<void> {
  const authenticate = createSdkAuth(deps);
  const callers = new WeakMap<FastifyRequest, SdkCaller>();

  await app.register(async (vxp) => {
    // Only the bodies the dialect uses are read, and only once the caller is known (onRequest
    // below): the raw package or multipart for sendEdoc, small JSON or form parameters otherwise.
    const json = vxp.getDefaultJsonParser('error', 'error');
    vxp.removeAllContentTypeParsers();
    // Limits of the multipart parser (it does not apply fastify's bodyLimit): one file of at most
    // the hub's maxBytes, and a few small fields.
    await vxp.register(multipart, { limits: { fileSize: deps.maxBytes, files: 1, fields: 16, fieldSize: 4096, parts: 17, headerPairs: 100 } });
    // The SDK posts calls without parameters with an empty body or {}: both are no parameters.
    vxp.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: SMALL_BODY_LIMIT }, (request, body, done) => {
      const t = body.toString();
      return t === '' ? done(null, {}) : json(request, t, done);
    });
    vxp.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: SMALL_BODY_LIMIT }, (_request, body, done) =>
      done(null, Object.fromEntries(new URLSearchParams(body.toString()))));
    // sendEdoc's route raises the limit to the package's; other calls have no use for raw bytes.
    vxp.addContentTypeParser(RAW_TYPES, { parseAs: 'buffer', bodyLimit: SMALL_BODY_LIMIT }, (_request, body, done) => done(null, body));

    const shapes = new Map<string, SdkFailShape>(); // route url → how its failures are answered
    const shapeOf = (request: FastifyRequest): SdkFailShape => shapes.get(request.routeOptions.url ?? '') ?? 'json';
    vxp.setErrorHandler((err: Error & { statusCode?: number }, request, reply) => {
      const status = err.statusCode ?? 500;
      if (status >= 500) {
        request.log.error({ err }, 'sdk request failed');
        return replySdkError(reply, { code: 'UNAVAILABLE', message: 'the hub could not complete the request; nothing was accepted, retry later' }, shapeOf(request));
      }
      // 406 is the multipart parser's "not multipart"; 413 its file, part and field limits.
      const code: ErrorCode = status === 413 ? 'PAYLOAD_TOO_LARGE' : status === 415 || status === 406 ? 'UNSUPPORTED_MEDIA_TYPE' : 'SCHEMA_INVALID';
      return replySdkError(reply, { code, message: code === 'PAYLOAD_TOO_LARGE' ? `${err.message} (at most ${deps.maxBytes} bytes)` : err.message }, shapeOf(request));
    });
    vxp.setNotFoundHandler((request, reply) => replySdkError(reply, { code: 'NOT_FOUND', message: `no call ${request.method} ${request.url}` }));

    // The schemas document the calls; the handlers check the parameters, as the dialect answers.
    vxp.setValidatorCompiler(() => () => true);
    const route = (method: 'GET' | 'POST', name: string, call: Call, options: RouteOptions) => {
      shapes.set(`${SDK_BASE}/${name}`, options.failShape ?? 'json');
      return vxp.route({
        method, url: `/${name}`, schema: callSchema(options),
        ...(options.bodyLimit === undefined ? {} : { bodyLimit: options.bodyLimit }),
        // From the headers alone, before any body is read: who is calling, and within its rate.
        onRequest: async (request: FastifyRequest, reply: FastifyReply) => {
          // Shutting down: the SDK's shape here too (server.ts leaves /vxp to the dialect), and no
          // downloadEdoc body, which the SDK would save as the document.
          if (deps.shuttingDown()) {
            const unavailable = { code: 'UNAVAILABLE' as const, message: 'the hub is shutting down: nothing was accepted, retry later' };
            return replySdkError(reply.header('connection', 'close'), unavailable, shapeOf(request));
          }
          const caller = await authenticate(request.headers);
          if (!caller.ok) {
            request.log.info({ code: caller.error.reason ?? caller.error.code }, 'sdk request refused');
            return replySdkError(reply, caller.error, shapeOf(request));
          }
          const limited = await deps.limiter.check(caller.value.agency);
          if (limited !== null) return replySdkError(reply.header('retry-after', String(limited.retryAfterSeconds)), limited.error, shapeOf(request));
          callers.set(request, caller.value);
          // The SDK's sendEdoc may come without a content-type: that body is the raw package too.
          if (name === 'sendEdoc' && request.headers['content-type'] === undefined) request.headers['content-type'] = RAW_TYPES[0];
          return undefined;
        },
        handler: async (request: FastifyRequest, reply: FastifyReply) => {
          const result = await call(callers.get(request)!, request);
          if (!result.ok) return replySdkError(reply, result.error, shapeOf(request));
          if (Buffer.isBuffer(result.value)) return reply.type('application/xml').send(result.value);
          return reply.code(200).type('application/json; charset=utf-8').send(sdkJsonText({ status: 'OK', ErrorCode: '0', ErrorDesc: '', ...result.value }));
        },
      });
    };

    sendingCalls(route, deps);
    mailboxCalls(route, deps);
    directoryCalls(route, deps);
  }, { prefix: SDK_BASE });

}

const DELIVERY_DESC: Record<string, string> = {
  queued: 'accepted by the hub, not yet sent on', in_transit: 'on its way between hubs', delivered: 'in the recipient\'s mailbox',
  acked: 'acknowledged done by the recipient', failed: 'acknowledged fail by the recipient',
};

/**
 * sendEdoc's package: the raw body (as the SDK sends it, with the one CRLF it writes after the
 * file removed) or the multipart file part file_doc. When hash-file is signed, it must name the
 * package's SHA-256; a raw body whose own last bytes are CRLF (a client that adds none) is
 * recognised by it and kept whole.
 */
async function packageOf(request: FastifyRequest, maxBytes: number, hashFile: string | undefined): Promise<SdkResult<Buffer>> {
  let doc: Buffer;
  let whole: Buffer | null = null; // the raw body before the SDK's trailer was removed
  if (request.isMultipart()) {
    const part = await readFileDoc(request);
    if (!part.ok) return part;
    doc = part.value;
  } else if (Buffer.isBuffer(request.body)) {
    const body = request.body;
    const trailed = body.length >= SDK_TRAILER.length && body.subarray(body.length - SDK_TRAILER.length).equals(SDK_TRAILER);
    doc = trailed ? body.subarray(0, body.length - SDK_TRAILER.length) : body;
    if (trailed) whole = body;
  } else {
    return failed('UNSUPPORTED_MEDIA_TYPE', `send the package as the body (${RAW_TYPES.join(', ')} or no content-type) or as multipart/form-data in the part ${FILE_PART}`);
  }
  if (hashFile !== undefined && !hashFileMatches(hashFile, doc)) {
    if (whole === null || !hashFileMatches(hashFile, whole)) {
      return { ok: false, error: sdkError('HASH_FILE_MISMATCH', `XroadVnpt-hash-file ${hashFile} is not the SHA-256 of the package sent (${doc.length} bytes)`) };
    }
    doc = whole;
  }
  if (doc.length > maxBytes) return failed('PAYLOAD_TOO_LARGE', `the package is ${doc.length} bytes, at most ${maxBytes}`);
  return { ok: true, value: doc };
}

/** The one file part file_doc of a multipart body: the package bytes, at most maxBytes (the parser's limit). */
async function readFileDoc(request: FastifyRequest): Promise<SdkResult<Buffer>> {
  let doc: Buffer | null = null;
  let other: string | null = null;
  for await (const part of request.parts()) {
    if (part.type !== 'file') continue; // form fields carry nothing the hub needs
    const bytes = await part.toBuffer(); // read even when misnamed, so the request ends cleanly
    if (part.fieldname === FILE_PART) doc = bytes;
    else other = part.fieldname;
  }
  if (doc === null) return failed('SCHEMA_INVALID', `no file part ${FILE_PART}${other === null ? '' : ` (got ${other})`}`);
  return { ok: true, value: doc };
}

/** Registers one call of the dialect (its route, schema, authentication and answer). */
type Route = (method: 'GET' | 'POST', name: string, call: Call, options: RouteOptions) => unknown;

/** sendEdoc and what the sender sees of its documents (getSentEdocList). */
function sendingCalls(route: Route, deps: SdkDialectDeps): void {
  route('POST', 'sendEdoc', async (caller, request) => {
    const h = headersOf(SendHeaders, caller);
    if (!h.ok) return h;
    const { from } = h.value;
    if (caller.system !== null && (from === undefined || !maySendFor(caller, from))) {
      return { ok: false, error: sdkError('OUTSIDE_SYSTEM', from === undefined
        ? `system ${caller.agency} must sign XroadVnpt-from, the agency it sends for`
        : `system ${caller.agency} does not send for ${from} (it sends for ${caller.system.sendsFor.join(', ')})`) };
    }
    if (from !== undefined && !maySendFor(caller, from)) {
      return failed('SENDER_MISMATCH', `XroadVnpt-from is ${from} but XroadVnpt-systemid is ${caller.agency}`);
    }
    const file = await packageOf(request, deps.maxBytes, h.value['hash-file']);
    if (!file.ok) return file;
    // A system sends for the agency named in from; the pipeline checks that the package's From is it.
    const submitted = await deps.pipeline.submit(file.value, from ?? caller.agency, h.value.messagetype);
    return submitted.ok ? answer({ DocId: submitted.value.docId }) : submitted;
  }, {
    summary: 'Send a package (raw body, or multipart part file_doc)', failShape: 'sendEdoc', bodyLimit: deps.maxBytes + SDK_TRAILER.length,
    description: `The package as the raw body (${RAW_TYPES.join(', ')} or no content-type; one trailing CRLF is the SDK's and is dropped) or as multipart/form-data in the part ${FILE_PART}.`,
    consumes: [...RAW_TYPES, 'multipart/form-data'],
    headers: { 'xroadvnpt-from': optionalHeader('the sender: the systemid, or for a system account an agency it sends for (required then)'), ...KIND_HEADERS, 'xroadvnpt-hash-file': optionalHeader('SHA-256 of the package') },
    ok: SdkOk({ DocId: z.string() }),
  });

  route('POST', 'getSentEdocList', async (caller, request) => {
    const q = parseInput(ListQuery, request.query, 'query');
    if (!q.ok) return q;
    const sent = await scopeOf(caller, deps.ledger).sent(q.value.limit);
    // One row per document and recipient: each recipient has its own delivery and business status.
    return answer({
      data: sent.flatMap((doc) => doc.recipients.map((r) => ({
        // The fields the SDK reads (StatusResult), all strings.
        senderDocId: doc.docId, receiverDocId: doc.docId, fromCode: doc.sender, toCode: r.organId,
        sendStatus: r.delivery, sendStatusDesc: DELIVERY_DESC[r.delivery],
        receiveStatus: text(r.status), receiveStatusDesc: r.status === undefined ? '' : `business status ${r.status}`,
        title: text(doc.subject), notation: '', sentTime: time(doc.sentAt), receivedTime: '',
        serviceType: SERVICE_TYPE, messageType: doc.kind,
        // The hub's own fields, as before.
        docId: doc.docId, from: doc.sender, to: r.organId,
        status: r.delivery, status_desc: r.status === undefined ? r.delivery : `${r.delivery}, business status ${r.status}`,
        created_time: time(doc.sentAt), updated_time: time(doc.sentAt),
        ...(doc.subject === undefined ? {} : { subject: doc.subject }), ...(r.status === undefined ? {} : { statusCode: r.status }),
      }))),
    });
  }, { summary: 'Documents the caller sent: one row per document and recipient', querystring: ListQuery, ok: ListItems });
}

/** The caller's mailbox: the list, the count, the package (JSON or raw) and its acknowledgement. */
function mailboxCalls(route: Route, deps: SdkDialectDeps): void {
  route('POST', 'getReceivedEdocList', async (caller, request) => {
    const h = headersOf(ListHeaders, caller);
    if (!h.ok) return h;
    const q = parseInput(ListQuery, request.query, 'query');
    if (!q.ok) return q;
    const items = await scopeOf(caller, deps.ledger).received(h.value.messagetype, q.value.limit);
    return answer({
      data: items.map((i) => ({
        docId: i.docId, serviceType: SERVICE_TYPE, messageType: i.kind, from: i.from, to: i.to,
        status: 'delivered', status_desc: 'in the mailbox, waiting for updateStatus',
        created_time: time(i.receivedAt), updated_time: time(i.receivedAt),
        ...(i.subject === undefined ? {} : { subject: i.subject }), ...(i.statusCode === undefined ? {} : { statusCode: i.statusCode }),
      })),
    });
  }, { summary: 'Documents waiting in the caller\'s mailbox', headers: KIND_HEADERS, querystring: ListQuery, ok: ListItems });

  route('POST', 'countReceiveEdoc', async (caller) => {
    const h = headersOf(ListHeaders, caller);
    if (!h.ok) return h;
    const n = await scopeOf(caller, deps.ledger).count(h.value.messagetype);
    return answer({ count: n, data: n }); // count is what the SDK reads; data as before
  }, { summary: 'How many documents wait in the mailbox', headers: KIND_HEADERS, ok: SdkOk({ count: z.number().int(), data: z.number().int() }) });

  route('POST', 'getEdoc', async (caller, request) => {
    const bytes = await downloadFor(deps.ledger, caller, request);
    return bytes.ok ? answer({ DocId: bytes.value.docId, data: bytes.value.bytes.toString('base64') }) : bytes;
  }, { summary: 'A received package, base64 in data', ...Docs, ok: SdkOk({ DocId: z.string(), data: z.string().describe('the package, base64') }) });

  // The SDK saves whatever body comes as the document: a FAIL has none (replySdkError 'download').
  route('GET', 'downloadEdoc', async (caller, request) => {
    const bytes = await downloadFor(deps.ledger, caller, request);
    return bytes.ok ? { ok: true, value: bytes.value.bytes } : bytes;
  }, {
    summary: 'A received package as the body', failShape: 'download', headers: DOC_HEADER,
    ok: { description: 'the package', content: { 'application/xml': { schema: Bytes } } },
  });

  route('POST', 'updateStatus', async (caller, request) => {
    // Before anything is looked up: a caller whose requests can be replayed signs what it changes.
    const unsigned = unsignedParameter(caller, 'updateStatus', ['docId', 'status'], ['reason'], bodyFieldsOf(request));
    if (unsigned !== null) return { ok: false, error: unsigned };
    const docId = docIdOf(caller, request);
    if (!docId.ok) return docId;
    const p = paramsOf(UpdateStatusParams, caller, request, ['status', 'reason']);
    if (!p.ok) return p;
    const { status, reason } = p.value;
    // A system acknowledges the package for each of its agencies holding it; the first refusal is the answer.
    const holders = await scopeOf(caller, deps.ledger).holders(docId.value);
    if (holders.length === 0) return failed('NOT_FOUND', `no document ${docId.value} for system ${caller.agency}`);
    const results = [];
    for (const agency of holders) {
      results.push(status === 'processing'
        ? await stillOpen(deps.ledger, agency, docId.value)
        : await deps.pipeline.acknowledge(agency, docId.value, status, reason));
    }
    return results.find((r) => !r.ok) ?? answer({ DocId: docId.value });
  }, {
    summary: 'Acknowledge a document (done, fail) or say it is being processed',
    description: 'docId and status must be signed headers (reason too, when sent), as the SDK sends them: the HMAC does not cover the body. Only an agency or system in sdk.strict (fresh timestamps, replay guard) may send them in the body instead; anyone else gets HEADERS_INVALID and nothing changes.',
    headers: {
      ...DOC_HEADER, 'xroadvnpt-status': optionalHeader('done, fail or processing (in the body only for sdk.strict callers)'),
      'xroadvnpt-reason': optionalHeader('why (fail); in the body only for sdk.strict callers'),
    },
    body: DocParamBody.extend({ status: z.enum(['done', 'fail', 'processing']).optional(), reason: z.string().max(2000).optional() })
      .describe('docId, status, reason as form or JSON fields: accepted only from callers in sdk.strict'),
    ok: SdkOk({ DocId: z.string() }),
  });
}

/** The network's agencies; registering and deleting them is the admin API's. */
function directoryCalls(route: Route, deps: SdkDialectDeps): void {
  // The fields the SDK reads (Agency), all strings: id and code are the agency code, pid its parent's.
  route('POST', 'getAgenciesList', async () => answer({
    data: [...deps.registry.agencies.values()].sort((a, b) => a.code.localeCompare(b.code))
      // oldCode: the closed codes routed to the agency, as the national directory carries them.
      .map((a) => ({ id: a.code, pid: text(a.parent), code: a.code, name: a.name, mail: '', oldCode: oldCodesOf(deps.registry, a.code).join(','), hubId: a.hubId, ...(a.parent === null ? {} : { parent: a.parent }) })),
  }), { summary: 'The agencies of the network', ok: ListItems });

  // An agency's credential does not administer the registry (least privilege).
  for (const name of ['registerAgency', 'deleteAgency']) {
    route('POST', name, async () => ({
      ok: false,
      error: sdkError('USE_ADMIN_API', `${name} is not open to agencies: an administrator with the security role registers agencies through POST /api/admin/agencies`),
    }), { summary: `Always FAIL (USE_ADMIN_API): the registry is the admin API's (POST /api/admin/agencies)` });
  }
}
/**
 * updateStatus processing: the document system is working on the document. It changes nothing
 * (the document stays in the list, its sender sees it delivered); after a final acknowledgement
 * it contradicts the one that stands, so it is ACK_CONFLICT like any different second one.
 */
async function stillOpen(ledger: Ledger, agency: string, docId: string): Promise<SdkResult<void>> {
  const entry = (await ledger.mailboxEntries(docId)).find((e) => e.agency === agency);
  if (entry === undefined) return failed('NOT_FOUND', `no document ${docId} for agency ${agency}`);
  if (entry.ackResult !== undefined) return failed('ACK_CONFLICT', `document ${docId} was already acknowledged ${entry.ackResult} by agency ${agency}; that acknowledgement stands, processing cannot follow it`);
  return { ok: true, value: undefined };
}

async function downloadFor(ledger: Ledger, caller: SdkCaller, request: FastifyRequest): Promise<SdkResult<{ docId: string; bytes: Buffer }>> {
  const docId = docIdOf(caller, request);
  if (!docId.ok) return docId;
  const [holder] = await scopeOf(caller, ledger).holders(docId.value);
  const bytes = holder === undefined ? null : await ledger.download(holder, docId.value);
  const whose = caller.system === null ? 'agency' : 'system';
  if (bytes === null) return failed('NOT_FOUND', `no document ${docId.value} for ${whose} ${caller.agency}`);
  if (bytes === 'gone') return failed('GONE', `the package of document ${docId.value} was removed by retention (retention.packagesAfterAck)`);
  return { ok: true, value: { docId: docId.value, bytes } };
}
