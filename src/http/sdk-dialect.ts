// The national SDK dialect of the agency API (CONTRACT.md, "National SDK dialect, base /vxp"):
// the calls document systems already make to the national axis, mapped onto the same pipeline
// and ledger as /api/v1, so the hop check, sender binding, routing and dedupe are those of
// POST /api/v1/edocs. Callers sign with the XroadVnpt-* headers (sdk-auth.ts); answers are
// {"status": "OK"|"FAIL", "ErrorCode", "ErrorDesc", …} (sdk-error-codes.ts). docs/national-sdk.md.
import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Registry } from '../agency/registry.js';
import type { Ledger } from '../ledger/store.js';
import type { Pipeline } from '../pipeline/hop-pipeline.js';
import type { ErrorCode } from '../errors.js';
import { createSdkAuth, type SdkCaller, type SdkResult } from './sdk-auth.js';
import { sdkError } from './sdk-error-codes.js';
import { formatSdkTimestamp } from './sdk-signature.js';
import { replySdkError } from './errors.js';
import type { AgencyLimiter } from './rate-limit.js';
import { parseInput } from './input.js';

export const SDK_BASE = '/vxp';

export interface SdkDialectDeps {
  hubId: string;
  pipeline: Pipeline;
  ledger: Ledger;
  registry: Pick<Registry, 'agencies'>;
  /** Agency code → API key, for this hub's agencies with an apiKeyFile (sdk-auth.ts). */
  secrets: ReadonlyMap<string, Buffer>;
  /** The hub's policy.maxBytes: the largest package file_doc may carry. */
  maxBytes: number;
  clock: () => Date;
  /** The per-agency rate limit, shared with /api/v1. */
  limiter: AgencyLimiter;
}

const SERVICE_TYPE = 'eDoc';
const FILE_PART = 'file_doc';
/** Bodies other than sendEdoc's are a few parameters (updateStatus); nothing near a package's size. */
const SMALL_BODY_LIMIT = 64 * 1024;

const EdocKind = z.enum(['edoc', 'status']);
// Header values as signed; the SDK writes servicetype "eDoc", read here without regard to case.
const ServiceType = z.string().refine((s) => s.toLowerCase() === SERVICE_TYPE.toLowerCase(), `must be ${SERVICE_TYPE}`);
const SendHeaders = z.object({ from: z.string().optional(), servicetype: ServiceType.optional(), messagetype: EdocKind.optional() });
const ListHeaders = z.object({ servicetype: ServiceType.optional(), messagetype: EdocKind.optional() });
const DocHeaders = z.object({ docid: z.string() });
const DocId = /^[0-9a-f]{32}$/;
const ListQuery = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) });
const UpdateStatusBody = z.object({ status: z.enum(['done', 'fail']), reason: z.string().max(2000).optional() });

/** What a call answers: the fields beside status/ErrorCode/ErrorDesc, or raw package bytes. */
type Answer = SdkResult<Record<string, unknown> | Buffer>;
type Call = (caller: SdkCaller, request: FastifyRequest) => Promise<Answer>;

const failed = (code: ErrorCode, message: string): SdkResult<never> => ({ ok: false, error: { code, message } });
const answer = <T extends Record<string, unknown>>(value: T): Answer => ({ ok: true, value });

export async function sdkDialect(app: FastifyInstance, deps: SdkDialectDeps): Promise<void> {
  const { pipeline, ledger } = deps;
  const authenticate = createSdkAuth(deps);
  const headersOf = <T extends z.ZodType>(schema: T, caller: SdkCaller) => parseInput(schema, Object.fromEntries(caller.headers), 'signed headers');
  const docIdOf = (caller: SdkCaller): SdkResult<string> => {
    const h = headersOf(DocHeaders, caller);
    if (!h.ok) return h;
    // Not a doc id of ours is no document of the caller's: NOT_FOUND, as /api/v1 answers.
    return DocId.test(h.value.docid) ? { ok: true, value: h.value.docid } : failed('NOT_FOUND', `no document ${h.value.docid} for agency ${caller.agency}`);
  };
  const time = (iso: string) => formatSdkTimestamp(new Date(iso));

  await app.register(async (vxp) => {
    // Only the bodies the dialect uses are read, so nothing large is buffered before the caller is
    // known: multipart for sendEdoc, small JSON or form parameters for the other calls.
    const json = vxp.getDefaultJsonParser('error', 'error');
    vxp.removeAllContentTypeParsers();
    // Limits of the multipart parser (it does not apply fastify's bodyLimit): one file of at most
    // the hub's maxBytes, and a few small fields.
    await vxp.register(multipart, { limits: { fileSize: deps.maxBytes, files: 1, fields: 16, fieldSize: 4096, parts: 17, headerPairs: 100 } });
    // SDK clients post calls without parameters with an empty body: that is {}.
    vxp.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: SMALL_BODY_LIMIT }, (request, body, done) => {
      const text = body.toString();
      return text === '' ? done(null, {}) : json(request, text, done);
    });
    vxp.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: SMALL_BODY_LIMIT }, (_request, body, done) =>
      done(null, Object.fromEntries(new URLSearchParams(body.toString()))));

    vxp.setErrorHandler((err: Error & { statusCode?: number }, request, reply) => {
      const status = err.statusCode ?? 500;
      if (status >= 500) {
        request.log.error({ err }, 'sdk request failed');
        return replySdkError(reply, { code: 'UNAVAILABLE', message: 'the hub could not complete the request; nothing was accepted, retry later' });
      }
      // 406 is the multipart parser's "not multipart"; 413 its file, part and field limits.
      const code: ErrorCode = status === 413 ? 'PAYLOAD_TOO_LARGE' : status === 415 || status === 406 ? 'UNSUPPORTED_MEDIA_TYPE' : 'SCHEMA_INVALID';
      return replySdkError(reply, { code, message: code === 'PAYLOAD_TOO_LARGE' ? `${err.message} (at most ${deps.maxBytes} bytes)` : err.message });
    });
    vxp.setNotFoundHandler((request, reply) => replySdkError(reply, { code: 'NOT_FOUND', message: `no call ${request.method} ${request.url}` }));

    const route = (method: 'GET' | 'POST', name: string, call: Call) => vxp.route({
      method, url: `/${name}`,
      handler: async (request: FastifyRequest, reply: FastifyReply) => {
        const caller = authenticate(request.headers);
        if (!caller.ok) {
          request.log.info({ code: caller.error.reason ?? caller.error.code }, 'sdk request refused');
          return replySdkError(reply, caller.error);
        }
        // Limited once the HMAC has named the agency, so no one can spend another agency's budget;
        // before sendEdoc's package is read (multipart is read in the call).
        const limited = deps.limiter.check(caller.value.agency);
        if (limited !== null) return replySdkError(reply.header('retry-after', String(limited.retryAfterSeconds)), limited.error);
        const result = await call(caller.value, request);
        if (!result.ok) return replySdkError(reply, result.error);
        if (Buffer.isBuffer(result.value)) return reply.type('application/xml').send(result.value);
        return reply.type('application/json').send({ status: 'OK', ErrorCode: '0', ErrorDesc: '', ...result.value });
      },
    });

    route('POST', 'sendEdoc', async (caller, request) => {
      const h = headersOf(SendHeaders, caller);
      if (!h.ok) return h;
      if (h.value.from !== undefined && h.value.from !== caller.agency) {
        return failed('SENDER_MISMATCH', `XroadVnpt-from is ${h.value.from} but XroadVnpt-systemid is ${caller.agency}`);
      }
      const file = await readFileDoc(request);
      if (!file.ok) return file;
      const submitted = await pipeline.submit(file.value, caller.agency, h.value.messagetype);
      return submitted.ok ? answer({ DocId: submitted.value.docId }) : submitted;
    });

    route('POST', 'getReceivedEdocList', async (caller, request) => {
      const h = headersOf(ListHeaders, caller);
      if (!h.ok) return h;
      const q = parseInput(ListQuery, request.query, 'query');
      if (!q.ok) return q;
      const items = await ledger.received(caller.agency, h.value.messagetype, q.value.limit);
      return answer({
        data: items.map((i) => ({
          docId: i.docId, serviceType: SERVICE_TYPE, messageType: i.kind, from: i.from, to: caller.agency,
          status: 'delivered', status_desc: 'in the mailbox, waiting for updateStatus',
          created_time: time(i.receivedAt), updated_time: time(i.receivedAt),
          ...(i.subject === undefined ? {} : { subject: i.subject }), ...(i.statusCode === undefined ? {} : { statusCode: i.statusCode }),
        })),
      });
    });

    route('POST', 'countReceiveEdoc', async (caller) => {
      const h = headersOf(ListHeaders, caller);
      if (!h.ok) return h;
      return answer({ data: await ledger.countReceived(caller.agency, h.value.messagetype) });
    });

    route('POST', 'getEdoc', async (caller) => {
      const bytes = await downloadFor(caller);
      return bytes.ok ? answer({ DocId: caller.headers.get('docid'), data: bytes.value.toString('base64') }) : bytes;
    });

    route('GET', 'downloadEdoc', downloadFor);

    route('POST', 'updateStatus', async (caller, request) => {
      const docId = docIdOf(caller);
      if (!docId.ok) return docId;
      const body = parseInput(UpdateStatusBody, request.body, 'body');
      if (!body.ok) return body;
      const acked = await pipeline.acknowledge(caller.agency, docId.value, body.value.status, body.value.reason);
      return acked.ok ? answer({ DocId: docId.value }) : acked;
    });

    route('POST', 'getSentEdocList', async (caller, request) => {
      const q = parseInput(ListQuery, request.query, 'query');
      if (!q.ok) return q;
      const sent = await ledger.sent(caller.agency, q.value.limit);
      // One row per document and recipient: each recipient has its own delivery and business status.
      return answer({
        data: sent.flatMap((doc) => doc.recipients.map((r) => ({
          docId: doc.docId, serviceType: SERVICE_TYPE, messageType: doc.kind, from: caller.agency, to: r.organId,
          status: r.delivery, status_desc: r.status === undefined ? r.delivery : `${r.delivery}, business status ${r.status}`,
          created_time: time(doc.sentAt), updated_time: time(doc.sentAt),
          ...(doc.subject === undefined ? {} : { subject: doc.subject }), ...(r.status === undefined ? {} : { statusCode: r.status }),
        }))),
      });
    });

    route('POST', 'getAgenciesList', async () => answer({
      data: [...deps.registry.agencies.values()].sort((a, b) => a.code.localeCompare(b.code))
        .map((a) => ({ code: a.code, name: a.name, parent: a.parent, hubId: a.hubId })),
    }));

    // An agency's credential does not administer the registry (least privilege).
    for (const name of ['registerAgency', 'deleteAgency']) {
      route('POST', name, async () => ({
        ok: false,
        error: sdkError('USE_ADMIN_API', `${name} is not open to agencies: an administrator with the security role registers agencies through POST /api/admin/agencies`),
      }));
    }
  }, { prefix: SDK_BASE });

  async function downloadFor(caller: SdkCaller): Promise<SdkResult<Buffer>> {
    const docId = docIdOf(caller);
    if (!docId.ok) return docId;
    const bytes = await ledger.download(caller.agency, docId.value);
    return bytes === null ? failed('NOT_FOUND', `no document ${docId.value} for agency ${caller.agency}`) : { ok: true, value: bytes };
  }
}

/** The one file part file_doc of a multipart body: the package bytes, at most maxBytes (the parser's limit). */
async function readFileDoc(request: FastifyRequest): Promise<SdkResult<Buffer>> {
  if (!request.isMultipart()) return failed('UNSUPPORTED_MEDIA_TYPE', `send the package as multipart/form-data in the part ${FILE_PART}`);
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
