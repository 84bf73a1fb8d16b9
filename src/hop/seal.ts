// The hub seal: each hub signs (package digest, doc id, trace) so the next hub can tell who
// checked what. The component holding the key exposes functions, never the key (the X-Road
// signer split): createHubSigner closes over it.
import { createPrivateKey, createPublicKey, sign, verify, type X509Certificate } from 'node:crypto';
import { fail, ok, type Result } from '../errors.js';
import { signPackage } from '../trust/sign.js';
import { fingerprintOf } from '../trust/x509.js';

export type HopVerdictName = 'accepted' | 'rejected';

/** One hop's entry in a document's trace. */
export interface HopRecord {
  hub: string;
  at: string;
  verdict: HopVerdictName;
  /** Each check's outcome: 'ok' or the error code. */
  checks: Record<string, string>;
  ms?: number;
}

export interface SealInput { digest: string; docId: string; trace: readonly HopRecord[] }

export interface HubSigner {
  hubId: string;
  certificate: X509Certificate;
  fingerprint: string;
  seal: (input: SealInput) => string;
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
  const spki = (k: ReturnType<typeof createPublicKey>) => k.export({ type: 'spki', format: 'der' });
  if (!spki(createPublicKey(key)).equals(spki(certificate.publicKey))) {
    return fail('USAGE', `hub ${hubId}: the seal key does not match the seal certificate`);
  }
  return ok({
    hubId,
    certificate,
    fingerprint: fingerprintOf(certificate),
    seal: (input) => sign('sha256', sealPayload(input), key).toString('base64'),
    signPackage: (bytes) => signPackage(bytes, { key, certificates: [certificate] }),
  });
}

export function verifySeal(input: SealInput, seal: string, certificate: X509Certificate): boolean {
  return verify('sha256', sealPayload(input), certificate.publicKey, Buffer.from(seal, 'base64'));
}

// A fixed, unambiguous encoding of what the seal covers.
function sealPayload(input: SealInput): Buffer {
  return Buffer.from(JSON.stringify(['lgsp-seal-v1', input.digest, input.docId, input.trace]), 'utf8');
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
      signPackage: (bytes) => current.signPackage(bytes),
    },
    swap: (next) => { current = next; },
  };
}
