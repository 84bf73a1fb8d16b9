// The XML-DSig algorithm allow-list of the signature profile. Anything not listed is refused.
// Legacy entries (rsa-sha1, sha1, the national samples' non-standard exc-c14n URI) are accepted
// only when the caller explicitly allows the legacy profile.
import { XmlC14NMode } from 'libxml2-wasm';

export type C14nMode = (typeof XmlC14NMode)[keyof typeof XmlC14NMode];
export interface C14nAlgorithm { mode: C14nMode; exclusive: boolean; legacy: boolean }
export interface SignatureAlgorithm { hash: 'sha256' | 'sha1'; key: 'rsa' | 'ec'; legacy: boolean }
export interface DigestAlgorithm { hash: 'sha256' | 'sha1'; legacy: boolean }

export const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';
export const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
export const C14N_10 = 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315';
export const LEGACY_EXC_C14N = 'http://www.w3.org/TR/xml-exc-c14n#';
export const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
export const ECDSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256';
export const RSA_SHA1 = 'http://www.w3.org/2000/09/xmldsig#rsa-sha1';
export const SHA256 = 'http://www.w3.org/2001/04/xmlenc#sha256';
export const SHA1 = 'http://www.w3.org/2000/09/xmldsig#sha1';

export const C14N_ALGORITHMS: Readonly<Record<string, C14nAlgorithm>> = {
  [EXC_C14N]: { mode: XmlC14NMode.XML_C14N_EXCLUSIVE_1_0, exclusive: true, legacy: false },
  [C14N_10]: { mode: XmlC14NMode.XML_C14N_1_0, exclusive: false, legacy: false },
  [LEGACY_EXC_C14N]: { mode: XmlC14NMode.XML_C14N_EXCLUSIVE_1_0, exclusive: true, legacy: true },
};

export const SIGNATURE_ALGORITHMS: Readonly<Record<string, SignatureAlgorithm>> = {
  [RSA_SHA256]: { hash: 'sha256', key: 'rsa', legacy: false },
  [ECDSA_SHA256]: { hash: 'sha256', key: 'ec', legacy: false },
  [RSA_SHA1]: { hash: 'sha1', key: 'rsa', legacy: true },
};

export const DIGEST_ALGORITHMS: Readonly<Record<string, DigestAlgorithm>> = {
  [SHA256]: { hash: 'sha256', legacy: false },
  [SHA1]: { hash: 'sha1', legacy: true },
};
