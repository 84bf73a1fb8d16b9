// The hop check: the same pure function at every hop, cheapest checks first.
//
//   claim check (large attachments set aside) → prescanPolicy → parse (libxml2, once)
//   → structure limits → XSD → edXML rules → signature profile
//   → certificate chain, validity, revocation, usage, binding → XML-DSig signature + digest
//
// Canonicalization, the one step whose cost is not linear in the input, comes last: only a
// package within the structure limits, signed with a trusted certificate registered for its
// sender, gets there. Its result is a value. The package bytes are only read, never changed.
import { createHash } from 'node:crypto';
import type { HubError } from '../errors.js';
import { parsePackage } from '../edxml/package.js';
import type { PackageHeader } from '../edxml/header.js';
import type { PackageKind } from '../edxml/schema.js';
import { checkSignatureProfile } from '../trust/dsig-profile.js';
import { verifyXmlSignature } from '../trust/dsig.js';
import { checkCertificate, rememberSigner, resolveSigner, type Signer } from '../trust/certs.js';
import type { TrustSnapshot } from '../trust/store.js';
import { DEFAULT_LIMITS, type StructureLimits } from '../edxml/limits.js';

export const HOP_STAGES = ['policy', 'parse', 'schema', 'profile', 'certificate', 'signature'] as const;
export type HopStage = (typeof HOP_STAGES)[number];

export interface HopContext {
  trust: TrustSnapshot;
  /** Receipt time: certificates must be valid at this moment. */
  now: Date;
  /** Accept rsa-sha1/sha1 and the national samples' c14n URI (marked as legacy). */
  allowLegacy: boolean;
  /** Hub policy for unsigned packages (default: rejected). */
  requireSignature: boolean;
  /** The hub's policy structure limits; DEFAULT_LIMITS where not given (the CLI). */
  limits?: StructureLimits;
}

export type HopVerdict =
  | {
      ok: true;
      kind: PackageKind;
      header: PackageHeader;
      /** Lowercase hex SHA-256 of the package bytes, as received. */
      digest: string;
      signer: Signer | null;
      legacy: string[];
    }
  | { ok: false; stage: HopStage; error: HubError };

const STAGE_OF_PARSE_ERROR: Partial<Record<HubError['code'], HopStage>> = {
  POLICY_VIOLATION: 'policy',
  MALFORMED_XML: 'parse',
  SCHEMA_INVALID: 'schema',
};

export function checkHop(bytes: Uint8Array, ctx: HopContext): HopVerdict {
  const limits = ctx.limits ?? DEFAULT_LIMITS;
  const parsed = parsePackage(bytes, { limits });
  if (!parsed.ok) {
    const stage = STAGE_OF_PARSE_ERROR[parsed.error.code] ?? 'schema';
    return { ok: false, stage, error: parsed.error };
  }
  const { doc, kind, header, headerElement, signatures, claims } = parsed.value;
  try {
    const digest = createHash('sha256').update(bytes).digest('hex');
    const profile = checkSignatureProfile(headerElement, signatures, {
      allowLegacy: ctx.allowLegacy, maxInclusivePrefixes: limits.maxNamespacesInScope,
    });
    if (!profile.ok) {
      if (profile.error.code === 'SIGNATURE_MISSING' && !ctx.requireSignature) {
        return { ok: true, kind, header, digest, signer: null, legacy: [] };
      }
      return { ok: false, stage: 'profile', error: profile.error };
    }
    const known = resolveSigner(profile.value.certificateTexts, ctx.trust);
    if (!known.ok) return { ok: false, stage: 'certificate', error: known.error };
    const sender = header.MessageHeader.From.OrganId;
    const signer = checkCertificate(known.value, ctx.trust, ctx.now, sender);
    if (!signer.ok) return { ok: false, stage: 'certificate', error: signer.error };

    const signature = verifyXmlSignature(doc, profile.value, known.value.publicKey, claims);
    if (!signature.ok) return { ok: false, stage: 'signature', error: signature.error };
    rememberSigner(known.value, ctx.trust);
    return { ok: true, kind, header, digest, signer: signer.value, legacy: profile.value.legacy };
  } finally {
    doc.dispose();
  }
}
