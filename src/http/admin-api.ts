// The admin API of CONTRACT.md (base /api/admin): certificates and CRLs (role security; reading
// for any admin role) and the audit log. Every change is validated here, applied to this hub and
// broadcast to every hub, and audited where it is applied.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { fail, type ErrorCode, type Result } from '../errors.js';
import type { AdminRole } from '../config.js';
import type { Registry } from '../agency/registry.js';
import type { Ledger } from '../ledger/store.js';
import { loadCrl } from '../trust/crl.js';
import { certState, validateCa, validateRegistration, type TrustChange, type TrustChangeBody } from '../admin/trust-changes.js';
import { derOf, fingerprintOf, validityOf } from '../trust/x509.js';
import type { TrustState } from '../admin/trust-state.js';
import { adminCaller, hashApiKey, type AdminTokens, type AgencyKeys } from './auth.js';
import { randomBytes } from 'node:crypto';
import { parseAgencyCode } from '../agency/code.js';
import { resolveAgency } from '../agency/registry.js';
import { replyError } from './errors.js';
import { ADMIN_ERRORS, errorsOf } from './route-schema.js';
import { oldCodesOf } from '../agency/directory.js';
import { directoryActions } from '../admin/directory-actions.js';
import { checkPlan, parsePlan } from '../agency/plan.js';

export interface AdminApiDeps {
  hubId: string;
  admins: AdminTokens;
  agencyKeys: AgencyKeys;
  ledger: Ledger;
  registry: Registry;
  trust: TrustState;
  /** Applies a change here, then broadcasts it to every hub; STALE_CHANGE if a newer change to what it changes stands. */
  changeTrust: (change: TrustChange) => Promise<Result<void>>;
  /** Publishes a new seal certificate and switches to its key once every neighbour trusts it. */
  rotateSealKey: (keyPem: string, certPem: string, actor: string) => Promise<Result<{ fingerprint: string; trustedBy: string[] }>>;
  activeSeal: () => string;
  clock: () => Date;
}

const READ: readonly AdminRole[] = ['observer', 'operator', 'security'];
const SECURITY: readonly AdminRole[] = ['security'];
const Duration = z.string().regex(/^\d+d$/, 'a number of days such as 60d').transform((s) => Number.parseInt(s, 10) * 86_400_000);
const Iso = z.iso.datetime({ offset: true });
const CertQuery = z.object({ agency: z.string().optional(), expiring: Duration.optional() });
const CertBody = z.object({ agency: z.string(), pem: z.string(), retireOthersAt: Iso.optional() });
const Fingerprint = z.object({ fingerprint: z.string().regex(/^[0-9a-f]{64}$/, 'lowercase hex SHA-256, no colons') });
const RetireBody = z.object({ at: Iso.optional() }).default({});
const RevokeBody = z.object({ reason: z.string().max(500).optional() }).default({});
const RotateBody = z.object({ keyPem: z.string(), certPem: z.string() });
const CaBody = z.object({ pem: z.string() });
const AgencyBody = z.object({ code: z.string(), name: z.string().min(1), parent: z.string().optional(), hubId: z.string().optional() });
const AuditQuery = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) });
const CertItem = z.object({
  fingerprint: z.string(), agency: z.string(), subject: z.string(), notBefore: z.string(), notAfter: z.string(),
  state: z.enum(['active', 'retiring', 'retired', 'revoked', 'expired']), retireAt: z.string().optional(),
});
const FingerprintOnly = z.object({ fingerprint: z.string() });
const Agency = z.object({ code: z.string(), name: z.string(), parent: z.string().nullable(), hubId: z.string() });
const DirectoryAgency = Agency.extend({
  successor: z.object({ code: z.string(), from: z.string().nullable() }).optional().describe('closed into this agency (from a time, or null: at once)'),
  oldCodes: z.array(z.string()).describe('the closed codes routed to this agency'),
});
const Items = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item) });
/** A CRL's media types: DER or PEM. */
const CRL_TYPES = ['application/pkix-crl', 'application/x-pem-file'];

export async function adminApi(app: FastifyInstance, deps: AdminApiDeps & { crlMaxBytes: number }): Promise<void> {
  // A CRL arrives as DER (application/pkix-crl) or PEM (application/x-pem-file).
  app.addContentTypeParser(CRL_TYPES, { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  app.addContentTypeParser(CSV_TYPES, { parseAs: 'string', bodyLimit: PLAN_MAX_BYTES }, (_req, body, done) => done(null, body));
  const routes = shared(app, deps);
  certificateRoutes(routes, deps);
  trustRoutes(routes, deps);
  registryRoutes(routes, deps);
  directoryRoutes(routes, deps);
}

/** What the admin API's route groups share. */
function shared(app: FastifyInstance, deps: AdminApiDeps) {
  const errors = (...codes: ErrorCode[]) => errorsOf(...ADMIN_ERRORS, ...codes);
  return {
    api: app.withTypeProvider<ZodTypeProvider>(),
    // The caller and its role, from the headers, before any body is read or schema checked: request.admin.
    reader: adminCaller(deps.admins, deps.agencyKeys, READ),
    security: adminCaller(deps.admins, deps.agencyKeys, SECURITY),
    /** Applies a change here and broadcasts it, in the caller's name. */
    change: (who: string, c: TrustChangeBody) => deps.changeTrust({ ...c, actor: who, at: deps.clock().toISOString(), origin: deps.hubId }),
    errors,
    /** A JSON body's route: also its schema, media type and size. */
    jsonErrors: (...codes: ErrorCode[]) => errors('SCHEMA_INVALID', 'UNSUPPORTED_MEDIA_TYPE', 'PAYLOAD_TOO_LARGE', ...codes),
  };
}
type Shared = ReturnType<typeof shared>;
const certTags = ['certificates and CRLs'];

/** Agencies' signing certificates: list, register, retire, revoke. */
function certificateRoutes({ api, reader, security, change, errors, jsonErrors }: Shared, deps: AdminApiDeps): void {
  const { ledger } = deps;

  api.get('/api/admin/certs', {
    onRequest: reader,
    schema: { tags: certTags, summary: 'Registered signing certificates; ?expiring=60d lists those expiring within 60 days', querystring: CertQuery, response: { 200: Items(CertItem), ...errors('SCHEMA_INVALID') } },
  }, async (request) => {
    const q = request.query;
    const now = deps.clock();
    const horizon = q.expiring === undefined ? null : new Date(now.getTime() + q.expiring).toISOString();
    const items = (await ledger.certificates())
      .filter((c) => q.agency === undefined || c.agency === q.agency)
      .map((c) => ({ fingerprint: c.fingerprint, agency: c.agency, subject: c.subject, notBefore: c.notBefore, notAfter: c.notAfter,
        state: certState(c, now), ...(c.retireAt ? { retireAt: c.retireAt } : {}) }))
      .filter((c) => horizon === null || (c.notAfter <= horizon && c.state !== 'revoked' && c.state !== 'retired'));
    return { items };
  });

  api.post('/api/admin/certs', {
    onRequest: security,
    schema: { tags: certTags, summary: 'Register an agency\'s signing certificate (PEM)', body: CertBody, response: { 201: FingerprintOnly, ...jsonErrors('CERT_UNTRUSTED', 'STALE_CHANGE') } },
  }, async (request, reply) => {
    const body = request.body;
    const record = validateRegistration(body.pem, body.agency, deps.trust.anchors(), deps.registry, deps.clock(), request.admin);
    if (!record.ok) return replyError(reply, record.error);
    const made = await change(request.admin, { kind: 'cert.add', record: record.value, ...(body.retireOthersAt ? { retireOthersAt: body.retireOthersAt } : {}) });
    if (!made.ok) return replyError(reply, made.error);
    return reply.code(201).send({ fingerprint: record.value.fingerprint });
  });

  api.post('/api/admin/certs/:fingerprint/retire', {
    onRequest: security, preValidation: registered,
    schema: {
      tags: certTags, summary: 'Retire a certificate (now, or at a given time)', params: Fingerprint, body: RetireBody,
      response: { 200: z.object({ fingerprint: z.string(), retired: z.literal(true) }), ...jsonErrors('NOT_FOUND', 'STALE_CHANGE') },
    },
  }, async (request, reply) => {
    const { fingerprint } = request.params;
    const made = await change(request.admin, { kind: 'cert.retire', fingerprint, retireAt: request.body.at ?? deps.clock().toISOString() });
    return made.ok ? { fingerprint, retired: true as const } : replyError(reply, made.error);
  });

  api.post('/api/admin/certs/:fingerprint/revoke', {
    onRequest: security, preValidation: registered,
    schema: {
      tags: certTags, summary: 'Revoke a certificate', params: Fingerprint, body: RevokeBody,
      response: { 200: z.object({ fingerprint: z.string(), revoked: z.literal(true) }), ...jsonErrors('NOT_FOUND', 'STALE_CHANGE') },
    },
  }, async (request, reply) => {
    const { fingerprint } = request.params;
    const { reason } = request.body;
    const made = await change(request.admin, { kind: 'cert.revoke', fingerprint, at: deps.clock().toISOString(), ...(reason ? { reason } : {}) });
    return made.ok ? { fingerprint, revoked: true as const } : replyError(reply, made.error);
  });

  /**
   * Before the body's schema: an unknown certificate is NOT_FOUND whatever the body (a malformed
   * fingerprint is left to the path's schema, SCHEMA_INVALID).
   */
  async function registered(request: FastifyRequest, reply: FastifyReply) {
    const path = Fingerprint.safeParse(request.params);
    if (!path.success || (await ledger.certificates()).some((c) => c.fingerprint === path.data.fingerprint)) return undefined;
    return replyError(reply, fail('NOT_FOUND', `no registered certificate ${path.data.fingerprint}`).error);
  }
}

/** Trust anchors, CRLs and the hub's own seal. */
function trustRoutes({ api, reader, security, change, errors, jsonErrors }: Shared, deps: AdminApiDeps & { crlMaxBytes: number }): void {
  api.post('/api/admin/crls', {
    onRequest: security, bodyLimit: deps.crlMaxBytes,
    schema: {
      tags: certTags, summary: 'Import a CRL signed by a trusted CA', consumes: CRL_TYPES,
      description: 'The CRL as DER (application/pkix-crl) or PEM (application/x-pem-file), at most http.crlMaxBytes.',
      response: { 200: z.object({ revoked: z.number().int(), issuer: z.string(), nextUpdate: z.string().nullable() }), ...errors('SCHEMA_INVALID', 'UNSUPPORTED_MEDIA_TYPE', 'PAYLOAD_TOO_LARGE', 'CERT_UNTRUSTED') },
    },
  }, async (request, reply) => {
    if (!Buffer.isBuffer(request.body)) {
      return replyError(reply, fail('UNSUPPORTED_MEDIA_TYPE', 'send the CRL as application/pkix-crl (DER) or application/x-pem-file (PEM)').error);
    }
    const der = derOf(request.body);
    const crl = await loadCrl(der, deps.trust.anchors());
    if (!crl.ok) return replyError(reply, crl.error.code === 'USAGE' ? fail('SCHEMA_INVALID', crl.error.message).error : crl.error);
    // A CRL has no subject (admin/trust-versions.ts): the ledger keeps the newest by its thisUpdate, so this is never STALE_CHANGE.
    const made = await change(request.admin, { kind: 'crl.import', issuerFingerprint: crl.value.issuerFingerprint, der: der.toString('base64'), thisUpdate: crl.value.thisUpdate.toISOString() });
    if (!made.ok) return replyError(reply, made.error);
    return { revoked: crl.value.serials.size, issuer: crl.value.issuer, nextUpdate: crl.value.nextUpdate?.toISOString() ?? null };
  });

  api.get('/api/admin/cas', {
    onRequest: reader,
    schema: { tags: certTags, summary: 'The trusted CAs', response: { 200: Items(z.object({ fingerprint: z.string(), subject: z.string(), notAfter: z.string() })), ...errors() } },
  }, async () => ({ items: deps.trust.anchors().map((ca) => ({ fingerprint: fingerprintOf(ca), subject: ca.subject.replaceAll('\n', ', '), notAfter: validityOf(ca).notAfter.toISOString() })) }));

  api.post('/api/admin/cas', {
    onRequest: security,
    schema: { tags: certTags, summary: 'Trust a CA (PEM)', body: CaBody, response: { 201: FingerprintOnly, ...jsonErrors('CERT_UNTRUSTED', 'CERT_EXPIRED', 'STALE_CHANGE') } },
  }, async (request, reply) => {
    const ca = validateCa(request.body.pem, deps.clock());
    if (!ca.ok) return replyError(reply, ca.error);
    const made = await change(request.admin, { kind: 'ca.add', fingerprint: ca.value.fingerprint, pem: ca.value.pem });
    if (!made.ok) return replyError(reply, made.error);
    return reply.code(201).send({ fingerprint: ca.value.fingerprint });
  });

  api.post('/api/admin/cas/:fingerprint/remove', {
    onRequest: security,
    schema: {
      tags: certTags, summary: 'Stop trusting a CA (not the last one)', params: Fingerprint,
      response: { 200: z.object({ fingerprint: z.string(), removed: z.literal(true) }), ...errors('SCHEMA_INVALID', 'NOT_FOUND', 'STALE_CHANGE') },
    },
  }, async (request, reply) => {
    const { fingerprint } = request.params;
    const anchors = deps.trust.anchors();
    if (!anchors.some((ca) => fingerprintOf(ca) === fingerprint)) return replyError(reply, fail('NOT_FOUND', `no trusted CA ${fingerprint}`).error);
    // Without any CA every signer is untrusted: add the new CA before removing the last old one.
    if (anchors.length === 1) return replyError(reply, fail('SCHEMA_INVALID', 'this is the only trusted CA: add its successor first').error);
    const made = await change(request.admin, { kind: 'ca.remove', fingerprint });
    return made.ok ? { fingerprint, removed: true as const } : replyError(reply, made.error);
  });

  api.post('/api/admin/hub-key/rotate', {
    onRequest: security,
    schema: {
      tags: certTags, summary: 'Publish a new seal certificate; the hub switches once every neighbour trusts it', body: RotateBody,
      response: { 200: z.object({ fingerprint: z.string(), trustedBy: z.array(z.string()) }), ...jsonErrors('CERT_UNTRUSTED', 'CERT_EXPIRED', 'CERT_NOT_YET_VALID', 'STALE_CHANGE') },
    },
  }, async (request, reply) => {
    const rotated = await deps.rotateSealKey(request.body.keyPem, request.body.certPem, request.admin);
    return rotated.ok ? rotated.value : replyError(reply, rotated.error);
  });

  api.get('/api/admin/hub-certs', {
    onRequest: reader,
    schema: {
      tags: certTags, summary: 'The hubs\' seal certificates, and this hub\'s active one',
      response: { 200: z.object({ hub: z.string(), activeSeal: z.string(), items: z.array(z.object({ hubId: z.string(), fingerprint: z.string(), addedAt: z.string() })) }), ...errors() },
    },
  }, async () => ({
    hub: deps.hubId, activeSeal: deps.activeSeal(),
    items: (await deps.ledger.hubCertificates()).map(({ hubId, fingerprint, addedAt }) => ({ hubId, fingerprint, addedAt })),
  }));
}

/** The agencies of the network, and the audit log. */
function registryRoutes({ api, reader, security, change, errors, jsonErrors }: Shared, deps: AdminApiDeps): void {
  const regTags = ['agencies'];
  api.get('/api/admin/agencies', {
    onRequest: reader, schema: { tags: regTags, summary: 'The agencies of the network, with closed ones\' successors and each successor\'s old codes', response: { 200: Items(DirectoryAgency), ...errors() } },
  }, async () => ({
    items: [...deps.registry.agencies.values()].sort((a, b) => a.code.localeCompare(b.code)).map((a) => ({ ...a, oldCodes: oldCodesOf(deps.registry, a.code) })),
  }));

  api.post('/api/admin/agencies', {
    onRequest: security,
    schema: {
      tags: regTags, summary: 'Register an agency; its API key is shown once', body: AgencyBody,
      response: { 201: Agency.extend({ apiKey: z.string() }), ...jsonErrors('STALE_CHANGE') },
    },
  }, async (request, reply) => {
    const { code, name, parent, hubId } = request.body;
    const parsedCode = parseAgencyCode(code);
    if (!parsedCode.ok) return replyError(reply, fail('SCHEMA_INVALID', parsedCode.reason).error);
    if (deps.registry.agencies.has(code)) return replyError(reply, fail('SCHEMA_INVALID', `agency ${code} is registered already`).error);
    const agency = resolveAgency(deps.registry, { code, name, ...(parent ? { parent } : {}), ...(hubId ? { hubId } : {}) });
    if (agency === null) return replyError(reply, fail('SCHEMA_INVALID', `no hub of this network serves ${code}${hubId ? ` (no hub ${hubId})` : ''}`).error);
    const apiKey = randomBytes(24).toString('base64url'); // shown once; only its hash is kept
    const made = await change(request.admin, { kind: 'agency.add', code, name, parent: agency.parent, hubId: agency.hubId, apiKeyHash: hashApiKey(apiKey) });
    if (!made.ok) return replyError(reply, made.error);
    return reply.code(201).send({ ...agency, apiKey });
  });

  api.get('/api/admin/audit', {
    onRequest: reader,
    schema: {
      tags: ['audit'], summary: 'The audit log, newest first', querystring: AuditQuery,
      response: { 200: Items(z.object({ at: z.string(), actor: z.string(), action: z.string(), detail: z.record(z.string(), z.unknown()) })), ...errors('SCHEMA_INVALID') },
    },
  }, async (request) => ({ items: await deps.ledger.auditLog(request.query.limit) }));
}

const CodeParams = z.object({ code: z.string() });
const SuccessorBody = z.object({ successor: z.string(), from: Iso.optional().describe('when the closure takes effect; now if absent') });
const MoveBody = z.object({ hubId: z.string() });
const RetireParams = z.object({ id: z.string() });
const HubRetireBody = z.object({ into: z.string() });
const ImportQuery = z.object({ dryRun: z.enum(['true', 'false']).default('false').transform((v) => v === 'true') });
const CSV_TYPES = ['text/csv'];
const PLAN_MAX_BYTES = 4 * 1024 * 1024;

/**
 * The directory after a restructuring (docs/directory.md): close an agency into its successor,
 * move it to another hub, retire a hub into its parent, apply a whole plan. Each is checked here
 * against the registry, then applied and broadcast like a trust change, and audited.
 */
function directoryRoutes({ api, security, change, jsonErrors }: Shared, deps: AdminApiDeps): void {
  const tags = ['agencies'];
  const actions = directoryActions(deps);
  api.post('/api/admin/agencies/:code/successor', {
    onRequest: security,
    schema: {
      tags, summary: 'Close an agency into its successor: documents and statuses for it go to the successor', params: CodeParams, body: SuccessorBody,
      response: { 200: z.object({ code: z.string(), successor: z.string(), from: z.string() }), ...jsonErrors('NOT_FOUND', 'DIRECTORY_CONFLICT', 'STALE_CHANGE') },
    },
  }, async (request, reply) => {
    const closed = await actions.close(request.admin, request.params.code, request.body.successor, request.body.from);
    return closed.ok ? closed.value : replyError(reply, closed.error);
  });

  api.post('/api/admin/agencies/:code/move', {
    onRequest: security,
    schema: {
      tags, summary: 'Move an agency to another hub: new documents go there, and its waiting mailbox follows', params: CodeParams, body: MoveBody,
      response: { 200: z.object({ code: z.string(), hubId: z.string(), from: z.string() }), ...jsonErrors('NOT_FOUND', 'DIRECTORY_CONFLICT', 'STALE_CHANGE') },
    },
  }, async (request, reply) => {
    const moved = await actions.move(request.admin, request.params.code, request.body.hubId);
    return moved.ok ? moved.value : replyError(reply, moved.error);
  });

  api.post('/api/admin/hubs/:id/retire', {
    onRequest: security,
    schema: {
      tags, summary: 'Retire a hub into another (its parent): its agencies and child hubs go there, and what waits in it drains through it',
      params: RetireParams, body: HubRetireBody,
      response: { 200: z.object({ hubId: z.string(), into: z.string(), agencies: z.array(z.string()), hubs: z.array(z.string()) }), ...jsonErrors('NOT_FOUND', 'DIRECTORY_CONFLICT', 'STALE_CHANGE') },
    },
  }, async (request, reply) => {
    const retired = await actions.retire(request.admin, request.params.id, request.body.into);
    return retired.ok ? retired.value : replyError(reply, retired.error);
  });

  api.post('/api/admin/agencies/import', {
    onRequest: security, bodyLimit: PLAN_MAX_BYTES,
    schema: {
      tags, summary: 'Apply a restructuring plan (CSV code,name,hubId,successor,from) as one change, or only check it (?dryRun=true)', consumes: CSV_TYPES,
      description: 'The whole file is checked first: one bad line refuses it, every bad line listed in details with its line number. New agencies\' API keys are shown once.',
      querystring: ImportQuery,
      response: {
        200: z.object({
          dryRun: z.boolean(), changes: z.array(z.string()).describe('what the plan does, one line a change'),
          apiKeys: z.record(z.string(), z.string()).describe('each new agency\'s API key, shown once (empty on a dry run)'),
        }),
        ...jsonErrors('NOT_FOUND', 'DIRECTORY_CONFLICT', 'STALE_CHANGE'),
      },
    },
  }, async (request, reply) => {
    if (typeof request.body !== 'string') return replyError(reply, fail('UNSUPPORTED_MEDIA_TYPE', 'send the plan as text/csv').error);
    const lines = parsePlan(request.body);
    if (!lines.ok) return replyError(reply, lines.error);
    const plan = checkPlan(deps.registry, lines.value);
    if (!plan.ok) return replyError(reply, plan.error);
    const { add, changes, summary } = plan.value;
    if (request.query.dryRun) return { dryRun: true, changes: summary, apiKeys: {} };
    const apiKeys = Object.fromEntries(add.map((a) => [a.code, randomBytes(24).toString('base64url')]));
    const now = deps.clock().toISOString();
    const made = await change(request.admin, {
      kind: 'agency.plan', add: add.map((a) => ({ ...a, apiKeyHash: hashApiKey(apiKeys[a.code]!) })),
      changes: changes.map((c) => (c.successor !== null && c.from === null ? { ...c, from: now } : c)),
    });
    if (!made.ok) return replyError(reply, made.error);
    return { dryRun: false, changes: summary, apiKeys };
  });
}
