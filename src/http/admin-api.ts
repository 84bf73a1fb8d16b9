// The admin API of CONTRACT.md (base /api/admin): certificates and CRLs (role security; reading
// for any admin role) and the audit log. Every change is validated here, applied to this hub and
// broadcast to every hub, and audited where it is applied.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { fail, type Result } from '../errors.js';
import type { AdminRole } from '../config.js';
import type { Registry } from '../agency/registry.js';
import type { Ledger } from '../ledger/store.js';
import { loadCrl } from '../trust/crl.js';
import { certState, validateCa, validateRegistration, type TrustChange, type TrustChangeBody } from '../admin/trust-changes.js';
import { derOf, fingerprintOf, validityOf } from '../trust/x509.js';
import type { TrustState } from '../admin/trust-state.js';
import { authenticateAdmin, hashApiKey, type AdminTokens, type AgencyKeys } from './auth.js';
import { randomBytes } from 'node:crypto';
import { parseAgencyCode } from '../agency/code.js';
import { resolveAgency } from '../agency/registry.js';
import { replyError } from './errors.js';
import { parseInput } from './input.js';

export interface AdminApiDeps {
  hubId: string;
  admins: AdminTokens;
  agencyKeys: AgencyKeys;
  ledger: Ledger;
  registry: Registry;
  trust: TrustState;
  /** Applies a change here, then broadcasts it to every hub. */
  changeTrust: (change: TrustChange) => Promise<void>;
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

export async function adminApi(app: FastifyInstance, deps: AdminApiDeps & { crlMaxBytes: number }): Promise<void> {
  const { ledger } = deps;
  const admin = (request: FastifyRequest, roles: readonly AdminRole[]) => authenticateAdmin(request, deps.admins, deps.agencyKeys, roles);
  const parse = parseInput;
  const change = (who: string, c: TrustChangeBody) =>
    deps.changeTrust({ ...c, actor: who, at: deps.clock().toISOString(), origin: deps.hubId });

  // A CRL arrives as DER (application/pkix-crl) or PEM (application/x-pem-file).
  app.addContentTypeParser(['application/pkix-crl', 'application/x-pem-file'], { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.get('/api/admin/certs', async (request, reply) => {
    const who = admin(request, READ);
    if (!who.ok) return replyError(reply, who.error);
    const q = parse(CertQuery, request.query, 'query');
    if (!q.ok) return replyError(reply, q.error);
    const now = deps.clock();
    const horizon = q.value.expiring === undefined ? null : new Date(now.getTime() + q.value.expiring).toISOString();
    const items = (await ledger.certificates())
      .filter((c) => q.value.agency === undefined || c.agency === q.value.agency)
      .map((c) => ({ fingerprint: c.fingerprint, agency: c.agency, subject: c.subject, notBefore: c.notBefore, notAfter: c.notAfter,
        state: certState(c, now), ...(c.retireAt ? { retireAt: c.retireAt } : {}) }))
      .filter((c) => horizon === null || (c.notAfter <= horizon && c.state !== 'revoked' && c.state !== 'retired'));
    return { items };
  });

  app.post('/api/admin/certs', async (request, reply) => {
    const who = admin(request, SECURITY);
    if (!who.ok) return replyError(reply, who.error);
    const body = parse(CertBody, request.body, 'body');
    if (!body.ok) return replyError(reply, body.error);
    const record = validateRegistration(body.value.pem, body.value.agency, deps.trust.anchors(), deps.registry, deps.clock(), who.value.name);
    if (!record.ok) return replyError(reply, record.error);
    await change(who.value.name, { kind: 'cert.add', record: record.value, ...(body.value.retireOthersAt ? { retireOthersAt: body.value.retireOthersAt } : {}) });
    return reply.code(201).send({ fingerprint: record.value.fingerprint });
  });

  for (const action of ['retire', 'revoke'] as const) {
    app.post(`/api/admin/certs/:fingerprint/${action}`, async (request, reply) => {
      const who = admin(request, SECURITY);
      if (!who.ok) return replyError(reply, who.error);
      const params = parse(Fingerprint, request.params, 'path');
      if (!params.ok) return replyError(reply, params.error);
      const { fingerprint } = params.value;
      if (!(await ledger.certificates()).some((c) => c.fingerprint === fingerprint)) {
        return replyError(reply, fail('NOT_FOUND', `no registered certificate ${fingerprint}`).error);
      }
      const at = deps.clock().toISOString();
      if (action === 'retire') {
        const body = parse(RetireBody, request.body ?? {}, 'body');
        if (!body.ok) return replyError(reply, body.error);
        await change(who.value.name, { kind: 'cert.retire', fingerprint, at: body.value.at ?? at });
      } else {
        const body = parse(RevokeBody, request.body ?? {}, 'body');
        if (!body.ok) return replyError(reply, body.error);
        await change(who.value.name, { kind: 'cert.revoke', fingerprint, at, ...(body.value.reason ? { reason: body.value.reason } : {}) });
      }
      return { fingerprint, [action === 'retire' ? 'retired' : 'revoked']: true };
    });
  }

  app.post('/api/admin/crls', { bodyLimit: deps.crlMaxBytes }, async (request, reply) => {
    const who = admin(request, SECURITY);
    if (!who.ok) return replyError(reply, who.error);
    if (!Buffer.isBuffer(request.body)) {
      return replyError(reply, fail('UNSUPPORTED_MEDIA_TYPE', 'send the CRL as application/pkix-crl (DER) or application/x-pem-file (PEM)').error);
    }
    const der = derOf(request.body);
    const crl = await loadCrl(der, deps.trust.anchors());
    if (!crl.ok) return replyError(reply, crl.error.code === 'USAGE' ? fail('SCHEMA_INVALID', crl.error.message).error : crl.error);
    await change(who.value.name, { kind: 'crl.import', issuerFingerprint: crl.value.issuerFingerprint, der: der.toString('base64'), thisUpdate: crl.value.thisUpdate.toISOString() });
    return { revoked: crl.value.serials.size, issuer: crl.value.issuer, nextUpdate: crl.value.nextUpdate?.toISOString() ?? null };
  });

  app.get('/api/admin/agencies', async (request, reply) => {
    const who = admin(request, READ);
    if (!who.ok) return replyError(reply, who.error);
    return { items: [...deps.registry.agencies.values()].sort((a, b) => a.code.localeCompare(b.code)) };
  });

  app.post('/api/admin/agencies', async (request, reply) => {
    const who = admin(request, SECURITY);
    if (!who.ok) return replyError(reply, who.error);
    const body = parse(AgencyBody, request.body, 'body');
    if (!body.ok) return replyError(reply, body.error);
    const { code, name, parent, hubId } = body.value;
    const parsedCode = parseAgencyCode(code);
    if (!parsedCode.ok) return replyError(reply, fail('SCHEMA_INVALID', parsedCode.reason).error);
    if (deps.registry.agencies.has(code)) return replyError(reply, fail('SCHEMA_INVALID', `agency ${code} is registered already`).error);
    const agency = resolveAgency(deps.registry, { code, name, ...(parent ? { parent } : {}), ...(hubId ? { hubId } : {}) });
    if (agency === null) return replyError(reply, fail('SCHEMA_INVALID', `no hub of this network serves ${code}${hubId ? ` (no hub ${hubId})` : ''}`).error);
    const apiKey = randomBytes(24).toString('base64url'); // shown once; only its hash is kept
    await change(who.value.name, { kind: 'agency.add', code, name, parent: agency.parent, hubId: agency.hubId, apiKeyHash: hashApiKey(apiKey) });
    return reply.code(201).send({ ...agency, apiKey });
  });

  app.get('/api/admin/cas', async (request, reply) => {
    const who = admin(request, READ);
    if (!who.ok) return replyError(reply, who.error);
    return { items: deps.trust.anchors().map((ca) => ({ fingerprint: fingerprintOf(ca), subject: ca.subject.replaceAll('\n', ', '), notAfter: validityOf(ca).notAfter.toISOString() })) };
  });

  app.post('/api/admin/cas', async (request, reply) => {
    const who = admin(request, SECURITY);
    if (!who.ok) return replyError(reply, who.error);
    const body = parse(CaBody, request.body, 'body');
    if (!body.ok) return replyError(reply, body.error);
    const ca = validateCa(body.value.pem, deps.clock());
    if (!ca.ok) return replyError(reply, ca.error);
    await change(who.value.name, { kind: 'ca.add', fingerprint: ca.value.fingerprint, pem: ca.value.pem });
    return reply.code(201).send({ fingerprint: ca.value.fingerprint });
  });

  app.post('/api/admin/cas/:fingerprint/remove', async (request, reply) => {
    const who = admin(request, SECURITY);
    if (!who.ok) return replyError(reply, who.error);
    const params = parse(Fingerprint, request.params, 'path');
    if (!params.ok) return replyError(reply, params.error);
    const anchors = deps.trust.anchors();
    if (!anchors.some((ca) => fingerprintOf(ca) === params.value.fingerprint)) {
      return replyError(reply, fail('NOT_FOUND', `no trusted CA ${params.value.fingerprint}`).error);
    }
    // Without any CA every signer is untrusted: add the new CA before removing the last old one.
    if (anchors.length === 1) return replyError(reply, fail('SCHEMA_INVALID', 'this is the only trusted CA: add its successor first').error);
    await change(who.value.name, { kind: 'ca.remove', fingerprint: params.value.fingerprint });
    return { fingerprint: params.value.fingerprint, removed: true };
  });

  app.post('/api/admin/hub-key/rotate', async (request, reply) => {
    const who = admin(request, SECURITY);
    if (!who.ok) return replyError(reply, who.error);
    const body = parse(RotateBody, request.body, 'body');
    if (!body.ok) return replyError(reply, body.error);
    const rotated = await deps.rotateSealKey(body.value.keyPem, body.value.certPem, who.value.name);
    return rotated.ok ? rotated.value : replyError(reply, rotated.error);
  });

  app.get('/api/admin/hub-certs', async (request, reply) => {
    const who = admin(request, READ);
    if (!who.ok) return replyError(reply, who.error);
    return {
      hub: deps.hubId, activeSeal: deps.activeSeal(),
      items: (await ledger.hubCertificates()).map(({ hubId, fingerprint, addedAt }) => ({ hubId, fingerprint, addedAt })),
    };
  });

  app.get('/api/admin/audit', async (request, reply) => {
    const who = admin(request, READ);
    if (!who.ok) return replyError(reply, who.error);
    const q = parse(AuditQuery, request.query, 'query');
    if (!q.ok) return replyError(reply, q.error);
    return { items: await ledger.auditLog(q.value.limit) };
  });
}
