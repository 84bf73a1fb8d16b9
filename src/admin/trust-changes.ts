// Changes to a hub's trust store, as values: validated once where an operator makes them, then
// applied (idempotently) by every hub that receives them, so that all hubs converge.
import { createPrivateKey, type KeyObject, type X509Certificate } from 'node:crypto';
import { z } from 'zod';
import { fail, ok, type Result } from '../errors.js';
import type { Registry } from '../agency/registry.js';
import { verifyChange } from '../hop/seal.js';
import { CERT_STATES, type CertRecord, type Ledger } from '../ledger/store.js';
import { buildPath } from '../trust/chain.js';
import { fingerprintOf, keyMatchesCertificate, mayDigitallySign, readCertificates, validityOf } from '../trust/x509.js';

const Iso = z.iso.datetime({ offset: true });
const CertRecordSchema = z.object({
  fingerprint: z.string().regex(/^[0-9a-f]{64}$/), agency: z.string(), pem: z.string(), subject: z.string(),
  notBefore: Iso, notAfter: Iso, state: z.enum(CERT_STATES), retireAt: Iso.optional(), revokedAt: Iso.optional(),
  reason: z.string().optional(), addedAt: Iso, addedBy: z.string(),
});

const AgencyAdd = z.object({ code: z.string(), name: z.string(), parent: z.string().nullable(), hubId: z.string(), apiKeyHash: z.string().regex(/^[0-9a-f]{64}$/) });
const DirectoryChange = z.object({ code: z.string(), successor: z.string().nullable(), from: Iso.nullable(), hubId: z.string().nullable() });

export const TrustChangeBody = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('cert.add'), record: CertRecordSchema, retireOthersAt: Iso.optional() }),
  // `retireAt`, not `at`: every change's `at` is when it was made (ChangeMeta), and a retirement may be set for later.
  z.object({ kind: z.literal('cert.retire'), fingerprint: z.string(), retireAt: Iso }),
  z.object({ kind: z.literal('cert.revoke'), fingerprint: z.string(), at: Iso, reason: z.string().optional() }),
  z.object({ kind: z.literal('crl.import'), issuerFingerprint: z.string(), der: z.string(), thisUpdate: Iso }),
  // Hub seal key rotation: the new certificate is published first; each hub that now accepts it
  // says so, and the rotating hub switches once all its neighbours have.
  z.object({ kind: z.literal('ca.add'), fingerprint: z.string(), pem: z.string() }),
  z.object({ kind: z.literal('ca.remove'), fingerprint: z.string() }),
  AgencyAdd.extend({ kind: z.literal('agency.add') }),
  z.object({ kind: z.literal('hub.cert.add'), hubId: z.string(), fingerprint: z.string(), pem: z.string() }),
  z.object({ kind: z.literal('hub.cert.trusted'), hubId: z.string(), fingerprint: z.string(), by: z.string() }),
  // The hub now seals with the key of this certificate: its other replicas swap to it too.
  z.object({ kind: z.literal('hub.key.activate'), hubId: z.string(), fingerprint: z.string() }),
  // An operator paused or resumed a lane of the hub (kept in its ledger): its other replicas follow.
  z.object({ kind: z.literal('hub.lane'), hubId: z.string(), queue: z.string(), paused: z.boolean() }),
  // The agency directory after a restructuring (agency/directory.ts): checked where an operator
  // makes them, applied alike by every hub.
  z.object({ kind: z.literal('agency.successor'), code: z.string(), successor: z.string(), from: Iso.nullable() }),
  z.object({ kind: z.literal('agency.move'), code: z.string(), hubId: z.string() }),
  z.object({ kind: z.literal('hub.retire'), hubId: z.string(), into: z.string() }),
  z.object({ kind: z.literal('agency.plan'), add: z.array(AgencyAdd), changes: z.array(DirectoryChange) }),
]);
export type TrustChangeBody = z.output<typeof TrustChangeBody>;
/** `replica`: the replica of `origin` that made the change (which alone skips it on receipt). */
const ChangeMeta = z.object({ actor: z.string(), at: Iso, origin: z.string(), replica: z.string().optional() });
export const TrustChange = TrustChangeBody.and(ChangeMeta);
export type TrustChange = TrustChangeBody & z.output<typeof ChangeMeta>;

/** A trust change as it arrives from the broker; one no hub can read is a coded error, never a throw. */
export function readTrustChange(body: Buffer): Result<TrustChange> {
  let raw: unknown;
  try {
    raw = JSON.parse(body.toString('utf8'));
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    return fail('POLICY_VIOLATION', `unreadable trust change: not JSON (${err.message})`);
  }
  const change = TrustChange.safeParse(raw);
  if (!change.success) return fail('POLICY_VIOLATION', `unreadable trust change: ${change.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return ok(change.data);
}

/** The headers a trust change travels with: the signature of the hub that made it, and that hub. */
export const CHANGE_SIGNATURE = 'x-lgsp-seal';
export const CHANGE_SIGNER = 'x-lgsp-seal-hub';

/**
 * A trust change from the broker, acted on only if the hub that made it (its `origin`) signed it
 * with a seal key this hub trusts. A hub may announce seal certificates, and confirm them, only
 * for itself. Anything else is refused with a code (and dead-lettered by the caller).
 */
export function verifiedTrustChange(
  body: Buffer, headers: Readonly<Record<string, string>>, hubCertificates: (hubId: string) => readonly X509Certificate[],
): Result<TrustChange> {
  // Read first (reading acts on nothing), so that an unreadable change says so whoever sent it.
  const change = readTrustChange(body);
  if (!change.ok) return change;
  const by = headers[CHANGE_SIGNER];
  const signature = headers[CHANGE_SIGNATURE];
  if (by === undefined || signature === undefined) return fail('SIGNATURE_INVALID', 'unsigned trust change: no hub signature in its headers');
  if (!hubCertificates(by).some((cert) => verifyChange(body, signature, cert))) {
    return fail('SIGNATURE_INVALID', `the trust change's signature does not verify with a seal certificate of hub ${by.slice(0, 64)}`);
  }
  const c = change.value;
  if (c.origin !== by) return fail('SIGNATURE_INVALID', `the trust change says it comes from hub ${c.origin} but hub ${by} signed it`);
  const about = c.kind === 'hub.cert.add' || c.kind === 'hub.key.activate' || c.kind === 'hub.lane' ? c.hubId : c.kind === 'hub.cert.trusted' ? c.by : by;
  if (about !== by) return fail('SIGNATURE_INVALID', `hub ${by} signed a ${c.kind} for hub ${about}: a hub speaks only for its own seal key and lanes`);
  return change;
}

const AGENCY_CODE_IN_SUBJECT = /\b\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}\b/g;

/** Checks a certificate an operator registers for an agency (rotation adds it beside the old). */
export function validateRegistration(
  pem: string, agency: string, anchors: readonly X509Certificate[], registry: Registry, now: Date, actor: string,
): Result<CertRecord> {
  if (!registry.agencies.has(agency)) return fail('NOT_FOUND', `no agency ${agency} in the registry`);
  const certs = readCertificates(pem, 'the request');
  if (!certs.ok) return fail('SCHEMA_INVALID', `pem: ${certs.error.message}`);
  // The first certificate is the one registered; any after it are its intermediate CAs, used
  // only to reach a trusted CA (the signer's packages carry them again in KeyInfo).
  const [cert, ...intermediates] = certs.value as [X509Certificate, ...X509Certificate[]];
  if (buildPath(cert, intermediates, anchors) === null) return fail('CERT_UNTRUSTED', `the certificate "${cert.subject.replaceAll('\n', ', ')}" does not chain to a trusted CA`);
  const { notBefore, notAfter } = validityOf(cert);
  if (notAfter <= now) return fail('CERT_EXPIRED', `the certificate expired at ${notAfter.toISOString()}`);
  if (notBefore > now) return fail('CERT_NOT_YET_VALID', `the certificate is valid only from ${notBefore.toISOString()}: register it once it is`);
  const maySign = mayDigitallySign(cert);
  if (maySign === null) return fail('CERT_UNTRUSTED', 'the certificate\'s key usage extension cannot be read');
  if (!maySign) return fail('CERT_UNTRUSTED', 'the certificate\'s key usage allows neither digitalSignature nor nonRepudiation');
  // A certificate whose subject names agency codes must name this one.
  const named: string[] = cert.subject.match(AGENCY_CODE_IN_SUBJECT) ?? [];
  if (named.length > 0 && !named.includes(agency)) {
    return fail('CERT_NOT_BOUND', `the certificate is issued to ${named.join(', ')}, not to ${agency}`);
  }
  return ok(certRecord(cert, agency, now, actor));
}

export function certRecord(cert: X509Certificate, agency: string, now: Date, addedBy: string): CertRecord {
  const { notBefore, notAfter } = validityOf(cert);
  return {
    fingerprint: fingerprintOf(cert), agency, pem: cert.toString(), subject: cert.subject.replaceAll('\n', ', '),
    notBefore: notBefore.toISOString(), notAfter: notAfter.toISOString(), state: 'active', addedAt: now.toISOString(), addedBy,
  };
}

/** Checks a CA certificate an operator adds to the trust anchors. */
export function validateCa(pem: string, now: Date): Result<{ fingerprint: string; pem: string }> {
  const certs = readCertificates(pem, 'the request');
  if (!certs.ok) return fail('SCHEMA_INVALID', `pem: ${certs.error.message}`);
  const ca = certs.value[0]!;
  if (!ca.ca) return fail('CERT_UNTRUSTED', 'not a CA certificate (basicConstraints cA is not set)');
  const { notBefore, notAfter } = validityOf(ca);
  if (notAfter <= now) return fail('CERT_EXPIRED', `the CA certificate expired at ${notAfter.toISOString()}`);
  if (notBefore > now) return fail('CERT_NOT_YET_VALID', `the CA certificate is valid only from ${notBefore.toISOString()}`);
  return ok({ fingerprint: fingerprintOf(ca), pem: ca.toString() });
}

/** Checks a new seal key and certificate for hub `hubId`. */
export function validateSealKey(
  keyPem: string, certPem: string, hubId: string, anchors: readonly X509Certificate[], now: Date,
): Result<{ cert: X509Certificate; fingerprint: string }> {
  const certs = readCertificates(certPem, 'the request');
  if (!certs.ok) return fail('SCHEMA_INVALID', `certPem: ${certs.error.message}`);
  const [cert, ...intermediates] = certs.value as [X509Certificate, ...X509Certificate[]];
  let key: KeyObject;
  try {
    key = createPrivateKey(keyPem);
  } catch (err) {
    return fail('SCHEMA_INVALID', `keyPem: not a readable private key (${(err as Error).message})`);
  }
  if (!keyMatchesCertificate(key, cert)) return fail('SCHEMA_INVALID', 'the key does not match the certificate');
  if (buildPath(cert, intermediates, anchors) === null) {
    return fail('CERT_UNTRUSTED', 'the seal certificate does not chain to a trusted CA');
  }
  if (validityOf(cert).notAfter <= now) return fail('CERT_EXPIRED', 'the seal certificate has expired');
  if (mayDigitallySign(cert) !== true) return fail('CERT_UNTRUSTED', 'the seal certificate\'s key usage does not allow signing, or cannot be read');
  const named: string[] = cert.subject.match(AGENCY_CODE_IN_SUBJECT) ?? [];
  if (!named.includes(hubId)) return fail('CERT_NOT_BOUND', `the seal certificate is issued to ${named.join(', ') || 'no agency code'}, not to hub ${hubId}`);
  return ok({ cert, fingerprint: fingerprintOf(cert) });
}

/**
 * Applies a change to a hub's ledger; applying it again changes nothing. `audited` false: a
 * replica catching up with a change its hub's lane records (the audit log keeps one entry).
 */
export async function applyTrustChange(ledger: Ledger, change: TrustChange, audited = true): Promise<void> {
  switch (change.kind) {
    case 'cert.add': {
      await ledger.addCertificate(change.record);
      if (change.retireOthersAt !== undefined) {
        // Only the certificates registered before the change was made: applied again (a redelivery,
        // a replay of the newest change to this certificate), it must not retire one registered since.
        const others = (await ledger.certificates()).filter((c) => c.agency === change.record.agency && c.fingerprint !== change.record.fingerprint
          && Date.parse(c.addedAt) <= Date.parse(change.at)
          && c.state === 'active' && (c.retireAt === undefined || c.retireAt > change.retireOthersAt!));
        for (const c of others) await ledger.updateCertificate(c.fingerprint, { retireAt: change.retireOthersAt });
      }
      break;
    }
    case 'cert.retire':
      await ledger.updateCertificate(change.fingerprint, { retireAt: change.retireAt });
      break;
    case 'cert.revoke':
      await ledger.updateCertificate(change.fingerprint, { state: 'revoked', revokedAt: change.at, ...(change.reason ? { reason: change.reason } : {}) });
      break;
    case 'crl.import':
      await ledger.putCrl({ issuerFingerprint: change.issuerFingerprint, der: Buffer.from(change.der, 'base64'), thisUpdate: change.thisUpdate, importedAt: change.at, importedBy: change.actor });
      break;
    case 'ca.remove':
      await ledger.removeTrustedCa(change.fingerprint);
      break;
    case 'agency.add':
      await ledger.addAgency({ code: change.code, name: change.name, parent: change.parent, hubId: change.hubId, apiKeyHash: change.apiKeyHash }, change.at, change.actor);
      break;
    case 'ca.add':
      await ledger.addTrustedCa(change.fingerprint, change.pem, change.at, change.actor);
      break;
    case 'hub.cert.add':
      await ledger.addHubCertificate(change.hubId, change.fingerprint, change.pem, change.at);
      break;
    case 'hub.cert.trusted':
    case 'hub.key.activate':
    case 'hub.lane':
      return; // a confirmation, an activation or a pause the replica that made it recorded: nothing to store or audit
    case 'agency.successor':
      await ledger.putDirectoryEntries([{ code: change.code, successor: change.successor, from: change.from, hubId: null }]);
      break;
    case 'agency.move':
      await ledger.putDirectoryEntries([{ code: change.code, successor: null, from: null, hubId: change.hubId }]);
      break;
    case 'hub.retire':
      await ledger.retireHub(change.hubId, change.into, change.at);
      break;
    case 'agency.plan':
      for (const a of change.add) await ledger.addAgency(a, change.at, change.actor);
      await ledger.putDirectoryEntries(change.changes);
      break;
  }
  if (!audited) return;
  const { kind, actor, origin, at, replica: _replica, ...detail } = change;
  await ledger.audit(actor, kind, { ...summarize(detail), origin, at });
}

function summarize(detail: Record<string, unknown>): Record<string, unknown> {
  const out = { ...detail };
  if ('record' in out) {
    const r = out.record as CertRecord;
    out.record = { fingerprint: r.fingerprint, agency: r.agency, subject: r.subject, notAfter: r.notAfter };
  }
  if ('der' in out) delete out.der;
  if ('pem' in out) delete out.pem;
  if ('apiKeyHash' in out) delete out.apiKeyHash;
  // A plan is audited whole, as one change: what it adds and changes, without the keys' hashes.
  if ('add' in out) out.add = (out.add as { code: string; hubId: string }[]).map(({ code, hubId }) => ({ code, hubId }));
  return out;
}

/** The state an operator sees: revoked, retired, expired, retiring or active. */
export function certState(c: CertRecord, now: Date): 'active' | 'retiring' | 'retired' | 'revoked' | 'expired' {
  if (c.state === 'revoked') return 'revoked';
  const at = now.toISOString();
  if (c.state === 'retired' || (c.retireAt !== undefined && c.retireAt <= at)) return 'retired';
  if (c.notAfter <= at) return 'expired';
  return c.retireAt !== undefined ? 'retiring' : 'active';
}
