// The hub's HTTP server: the agency API plus health, with fastify's own errors (media type,
// body size, malformed JSON) mapped onto CONTRACT.md codes in the same error shape. Every caller
// is known from the headers before a body is read, and each route reads no more than it needs.
// Each route declares its schemas in zod, from which the OpenAPI documents are made (openapi.ts).
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import helmet from '@fastify/helmet';
import type { Logger } from 'pino';
import { fail, type ErrorCode } from '../errors.js';
import { ADMIN_ROLES, type Config } from '../config.js';
import { agencyApi, type AgencyApiDeps } from './agency-api.js';
import { adminApi, type AdminApiDeps } from './admin-api.js';
import { metricsRoute } from './metrics.js';
import type { HubMetrics } from '../metrics/hub-metrics.js';
import type { QueueStat } from '../bus/queue-stats.js';
import { queuesApi, type QueuesDeps } from './queues-api.js';
import { deadLettersApi, type DeadLettersDeps } from './dead-letters-api.js';
import { statsApi, type StatsApiDeps } from './stats-api.js';
import { documentsApi } from './documents-api.js';
import { replyError } from './errors.js';
import { SDK_BASE, sdkDialect, type SdkDialectDeps } from './sdk-dialect.js';
import { authenticateAdmin, authenticateAgency, decorateCallers } from './auth.js';
import { ErrorBody, errorsOf, jsonSerializer, validationError, zodValidator } from './route-schema.js';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ADMIN_DOC, AGENCY_DOC, collectOpenApi, serveOpenApi } from './openapi.js';
import { answerClientError } from './client-errors.js';
import { createAgencyLimiter, inProcessBuckets, rateLimitAgencies, type BucketStore } from './rate-limit.js';

export interface ServerDeps extends AgencyApiDeps {
  /** The national SDK dialect (/vxp). */
  sdk: Omit<SdkDialectDeps, 'limiter' | 'signsIn' | 'shuttingDown'>;
  admin: AdminApiDeps;
  metrics: HubMetrics;
  queues: () => Promise<QueueStat[]>;
  /** Every hub's queues on the broker (management API), or null. */
  allQueues: () => Promise<QueueStat[] | null>;
  journal: QueuesDeps['journal'];
  lanes: QueuesDeps['lanes'];
  /** The web console (console/), registered here but built by the composition root: http does not import it. */
  console: (app: FastifyInstance) => Promise<void>;
  deadLetters: DeadLettersDeps;
  stats: StatsApiDeps;
  log: Logger;
  /** Timeouts and rate limits at the HTTP edge. */
  http: Config['http'];
  clock: () => Date;
  ready: () => Promise<{
    broker: boolean; ledger: boolean; staleCrls: { issuer: string; nextUpdate: string }[];
    /** At the gateway to the national axis: when it last answered, and whether that is longer ago than upstream.staleAfterMs. */
    upstream?: { lastAnswerAt: string | null; stale: boolean };
  }>;
  /** The rate limits' buckets shared by the hub's replicas (http/shared-state.ts); by default this process's own. */
  sharedBuckets?: BucketStore;
}

const FASTIFY_ERRORS: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'SCHEMA_INVALID',
  FST_ERR_CTP_INVALID_JSON_BODY: 'SCHEMA_INVALID',
  FST_ERR_CTP_EMPTY_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'PAYLOAD_TOO_LARGE',
  // A console form without a valid CSRF token (or its secret cookie).
  FST_CSRF_INVALID_TOKEN: 'FORBIDDEN',
  FST_CSRF_MISSING_SECRET: 'FORBIDDEN',
};

const CSRF_REFUSED = 'this console form has no valid CSRF token (_csrf) for your session: reload the page and submit it again';

export async function createServer(deps: ServerDeps): Promise<FastifyInstance> {
  const logger: FastifyBaseLogger = deps.log;
  const app = Fastify({
    loggerInstance: logger, bodyLimit: deps.maxBytes, trustProxy: deps.http.trustProxy,
    requestTimeout: deps.http.requestTimeoutMs,
    http: { headersTimeout: deps.http.headersTimeoutMs, connectionsCheckingInterval: deps.http.timeoutCheckMs },
    clientErrorHandler: answerClientError,
    // While closing, new requests get UNAVAILABLE in our error shape (below), not fastify's own 503.
    return503OnClosing: false,
  });
  // Route schemas are zod (route-schema.ts); the same schemas make the OpenAPI documents.
  app.setValidatorCompiler(zodValidator);
  app.setSerializerCompiler(jsonSerializer);
  decorateCallers(app);
  await collectOpenApi(app);
  let closing = false;
  app.addHook('preClose', async () => { closing = true; });
  app.addHook('onRequest', async (request, reply) => {
    // The /vxp calls answer it in the national SDK's shape themselves (sdk-dialect.ts).
    if (closing && !request.routeOptions.url?.startsWith(`${SDK_BASE}/`)) {
      return replyError(reply.header('connection', 'close'), fail('UNAVAILABLE', 'the hub is shutting down: nothing was accepted, retry later').error);
    }
  });
  // One budget per agency, whichever face of the agency API it calls (/api/v1 or /vxp).
  const buckets = deps.sharedBuckets ?? inProcessBuckets(deps.http.rateLimit, () => deps.clock().getTime());
  const limiter = createAgencyLimiter(deps.http.rateLimit, buckets, (agency) => deps.metrics.rateLimited(agency));
  rateLimitAgencies(app, {
    limiter,
    // By the matched route, not the raw URL, which may spell the same route differently (/api/%761/…).
    // (The agency API's OpenAPI document is public.)
    caller: (request) => (request.routeOptions.url?.startsWith('/api/v1/') && request.routeOptions.url !== AGENCY_DOC ? authenticateAgency(request, deps.keys) : null),
  });
  // Admin routes: an admin token (any role; each route then checks its own) before any body is
  // read, so a stranger cannot make the hub buffer one. The console checks its session the same way.
  app.addHook('onRequest', async (request, reply) => {
    // The admin API's OpenAPI document is public, like the agency API's.
    if (!request.routeOptions.url?.startsWith('/api/admin/') || request.routeOptions.url === ADMIN_DOC) return;
    const who = authenticateAdmin(request, deps.admin.admins, deps.admin.agencyKeys, ADMIN_ROLES);
    if (!who.ok) return replyError(reply, who.error);
  });
  // A request no route takes (a wrong path or method) is answered without its body. fastify reads
  // the body of a 404 whose content type some route parses, up to the application's limit
  // (policy.maxBytes), before the not-found handler runs: anyone could make the hub buffer 50 MiB.
  // Without the content type no parser runs and the 404 handler of the request's own side (the
  // agency API's or /vxp's shape) answers at once; the connection then closes, the body unread.
  app.addHook('onRequest', async (request, reply) => {
    const { 'content-length': length, 'transfer-encoding': chunked } = request.headers;
    if (!request.is404 || (chunked === undefined && (length === undefined || length === '0'))) return;
    delete request.headers['content-type'];
    reply.header('connection', 'close');
  });
  // Admin JSON and console forms are small; only the agency API (policy.maxBytes) and a CRL
  // import (http.crlMaxBytes, set on its route) take more.
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith('/api/admin/') || route.url === '/admin' || route.url.startsWith('/admin/')) route.bodyLimit ??= deps.http.adminBodyBytes;
  });
  // Security headers on every answer; the console's pages run no script and load only their own stylesheet.
  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: { defaultSrc: ["'none'"], styleSrc: ["'self'"], imgSrc: ["'self'"], formAction: ["'self'"], frameAncestors: ["'none'"], baseUri: ["'none'"] },
    },
    // Not helmet's no-referrer: under it a browser posts a form with "Origin: null", and the
    // console's origin check needs the real one.
    referrerPolicy: { policy: 'same-origin' },
  });
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const invalid = validationError(err, request);
    if (invalid !== null) return replyError(reply, invalid);
    const code = err.code === undefined ? undefined : FASTIFY_ERRORS[err.code];
    if (code !== undefined) return replyError(reply, { code, message: err.code!.startsWith('FST_CSRF_') ? CSRF_REFUSED : err.message });
    if ((err.statusCode ?? 500) < 500) return replyError(reply, { code: 'SCHEMA_INVALID', message: err.message });
    request.log.error({ err }, 'request failed');
    return replyError(reply, { code: 'UNAVAILABLE', message: 'the hub could not complete the request; nothing was accepted, retry later' });
  });
  app.setNotFoundHandler((request, reply) => replyError(reply, { code: 'NOT_FOUND', message: `no route ${request.method} ${request.url}` }));
  const ops = app.withTypeProvider<ZodTypeProvider>();
  ops.get('/healthz', { schema: { tags: ['operations'], summary: 'Liveness (public)', security: [], response: { 200: z.object({ status: z.literal('ok') }), ...errorsOf('UNAVAILABLE') } } },
    async () => ({ status: 'ok' as const }));
  const Ready = z.object({
    status: z.enum(['ready', 'ready, with warnings', 'not ready']), broker: z.boolean(), ledger: z.boolean(),
    staleCrls: z.array(z.object({ issuer: z.string(), nextUpdate: z.string() })),
    upstream: z.object({ lastAnswerAt: z.string().nullable(), stale: z.boolean() }).optional().describe('the link to the national axis, at the gateway hub'),
  });
  ops.get('/readyz', { schema: { tags: ['operations'], summary: 'Readiness: broker and ledger (public)', security: [], response: { 200: Ready, 503: Ready.or(ErrorBody) } } }, async (_request, reply) => {
    const parts = await deps.ready();
    const ready = parts.broker && parts.ledger;
    // A stale CRL, or a national axis silent for too long, does not stop the hub (packages wait
    // in their queues), but it is reported loudly here.
    const warn = parts.staleCrls.length > 0 || parts.upstream?.stale === true;
    const status = !ready ? 'not ready' : warn ? 'ready, with warnings' : 'ready';
    return reply.code(ready ? 200 : 503).send({ status, ...parts });
  });
  await agencyApi(app, deps);
  // An agency's key signs in on /vxp while it does on /api/v1: deps.keys drops a closed agency's after its grace.
  await sdkDialect(app, { ...deps.sdk, limiter, signsIn: (agency) => signsIn(deps.keys, agency), shuttingDown: () => closing });
  await adminApi(app, { ...deps.admin, crlMaxBytes: deps.http.crlMaxBytes });
  await metricsRoute(app, deps.metrics, { tokenHash: deps.http.metricsTokenHash, admins: deps.admin.admins });
  await queuesApi(app, { admins: deps.deadLetters.admins, agencyKeys: deps.deadLetters.agencyKeys, queues: deps.queues, allQueues: deps.allQueues, journal: deps.journal, lanes: deps.lanes });
  await deps.console(app);
  await deadLettersApi(app, deps.deadLetters);
  await statsApi(app, deps.stats);
  await documentsApi(app, { admins: deps.deadLetters.admins, agencyKeys: deps.deadLetters.agencyKeys, ledger: deps.ledger });
  await serveOpenApi(app);
  return app;
}

/** Whether `agency` is among the agencies whose keys sign in here now (keys: key hash → agency code). */
function signsIn(keys: AgencyApiDeps['keys'], agency: string): boolean {
  for (const code of keys.values()) if (code === agency) return true;
  return false;
}
