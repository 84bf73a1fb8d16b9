// The hub seal: each hub signs the package digest and every header that decides routing or
// delivery (kind, doc id, origin hub, sender, recipients, trace, status code, DocumentId, subject,
// the hub it is addressed to), so that whoever can publish on the broker can neither forge a
// message nor re-route a sealed one, and the next hub can tell who checked what. Trust changes
// are signed with the same key (their own payload prefix, so neither passes for the other). The component holding the key exposes functions, never the key (the X-Road
// signer split): createHubSigner closes over it.
import { createPrivateKey, sign, verify, type X509Certificate } from 'node:crypto';
import { fail, ok, type Result } from '../errors.js';
import { signPackage } from '../trust/sign.js';
import { fingerprintOf, keyMatchesCertificate } from '../trust/x509.js';
import type { HopRecord } from './trace.js';

export interface SealInput {
  /** The hub the message is addressed to: the next hop, or the sealing hub itself for its mailbox stage. */
  to: string;
  /** The hub that seals. */
  sealHub: string;
  digest: string;
  kind: string;
  docId: string;
  originHub: string;
  sender: string;
  recipients: readonly string[];
  trace: readonly HopRecord[];
  statusCode?: string | undefined;
  documentId?: string | undefined;
  subject?: string | undefined;
}

export interface HubSigner {
  hubId: string;
  certificate: X509Certificate;
  fingerprint: string;
  seal: (input: SealInput) => string;
  /** Signs a trust change's bytes as they travel (verified with verifyChange). */
  signChange: (body: Uint8Array) => string;
  /** Signs a package the hub itself emits (a 02 rejection status). */
  signPackage: (bytes: Uint8Array) => Result<Buffer>;
}

export function createHubSigner(hubId: string, keyPem: string, certificate: X509Certificate): Result<HubSigner> {
  let key;
  try {
    key = createPrivateKey(keyPem);
  } catch (err) {
    return fail('USAGE', `hub ${hubId}: unreadable seal key (${(err as Error).message})`);
  }
  if (!keyMatchesCertificate(key, certificate)) {
    return fail('USAGE', `hub ${hubId}: the seal key does not match the seal certificate`);
  }
  return ok({
    hubId,
    certificate,
    fingerprint: fingerprintOf(certificate),
    seal: (input) => sign('sha256', sealPayload(input), key).toString('base64'),
    signChange: (body) => sign('sha256', changePayload(body), key).toString('base64'),
    signPackage: (bytes) => signPackage(bytes, { key, certificates: [certificate] }),
  });
}

export function verifySeal(input: SealInput, seal: string, certificate: X509Certificate): boolean {
  return verify('sha256', sealPayload(input), certificate.publicKey, Buffer.from(seal, 'base64'));
}

export function verifyChange(body: Uint8Array, signature: string, certificate: X509Certificate): boolean {
  return verify('sha256', changePayload(body), certificate.publicKey, Buffer.from(signature, 'base64'));
}

// A fixed, unambiguous encoding of what the seal covers: a JSON array in a fixed order, absent
// optional fields as null (JSON escapes every string, so no field can spill into the next).
function sealPayload(i: SealInput): Buffer {
  return Buffer.from(JSON.stringify([
    'lgsp-seal-v2', i.to, i.sealHub, i.digest, i.kind, i.docId, i.originHub, i.sender, i.recipients, i.trace,
    i.statusCode ?? null, i.documentId ?? null, i.subject ?? null,
  ]), 'utf8');
}

function changePayload(body: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from('lgsp-trust-change-v1\n', 'utf8'), body]);
}

/** A signer whose key can be swapped (seal key rotation); callers keep the same object. */
export function rotatingSigner(first: HubSigner): { signer: HubSigner; swap(next: HubSigner): void } {
  let current = first;
  return {
    signer: {
      hubId: first.hubId,
      get certificate() { return current.certificate; },
      get fingerprint() { return current.fingerprint; },
      seal: (input) => current.seal(input),
      signChange: (body) => current.signChange(body),
      signPackage: (bytes) => current.signPackage(bytes),
    },
    swap: (next) => { current = next; },
  };
}
