// The one path builder: a signer reaches a trusted CA directly or through the intermediate CAs it
// carries, each link a CA whose key verifies it. Registration uses it as the hop check does, so a
// signer under an intermediate CA is accepted by both or by neither.
import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildPath } from '../../../src/trust/chain.js';
import { createDevCa, issueCertificate, type KeyAndCert } from '../../../src/pki/dev-pki.js';
import { validateRegistration, validateSealKey } from '../../../src/admin/trust-changes.js';
import type { Registry } from '../../../src/agency/registry.js';

const DAY = 86_400_000;
const now = new Date();
const from = new Date(now.getTime() - DAY);
const to = new Date(now.getTime() + 365 * DAY);
const AGENCY = '000.00.00.H41';
const root = createDevCa('Root CA', from, to);
const intermediate = createDevCa('Intermediate CA', from, to, root);
const underIntermediate = issueCertificate({ ca: intermediate, commonName: 'Signer', agency: AGENCY, notBefore: from, notAfter: to });
const underRoot = issueCertificate({ ca: root, commonName: 'Signer', agency: AGENCY, notBefore: from, notAfter: to });
// Same name as the intermediate, another key: it cannot vouch for what the real one issued.
const impostor = createDevCa('Intermediate CA', from, to, root);
// A signer's certificate used as if it were a CA (basicConstraints cA is not set).
const underLeaf = issueCertificate({ ca: underRoot, commonName: 'Signer', agency: AGENCY, notBefore: from, notAfter: to });

const x = (k: KeyAndCert) => new X509Certificate(k.certPem);
const subjects = (path: X509Certificate[] | null) => path?.map((c) => c.subject.split('\n').find((l) => l.startsWith('CN='))) ?? null;

describe('buildPath', () => {
  it('reaches a trusted CA directly, or through a carried intermediate CA', () => {
    expect(subjects(buildPath(x(underRoot), [], [x(root)]))).toEqual(['CN=Signer', 'CN=Root CA']);
    expect(subjects(buildPath(x(underIntermediate), [x(intermediate)], [x(root)]))).toEqual(['CN=Signer', 'CN=Intermediate CA', 'CN=Root CA']);
  });

  it('finds no path without the intermediate, through an impostor, or through a certificate that is not a CA', () => {
    expect(buildPath(x(underIntermediate), [], [x(root)])).toBeNull();
    expect(buildPath(x(underIntermediate), [x(impostor)], [x(root)])).toBeNull();
    expect(buildPath(x(underLeaf), [x(underRoot)], [x(root)])).toBeNull();
    expect(buildPath(x(underRoot), [], [x(intermediate)])).toBeNull();
  });
});

describe('registration and the hop check agree on intermediates', () => {
  const registry = { agencies: new Map([[AGENCY, {}]]) } as unknown as Registry;
  const code = (r: { ok: boolean; error?: { code: string } }) => (r.ok ? 'ok' : r.error!.code);

  it('registers a signer whose intermediate CA follows it in the PEM bundle, and only then', () => {
    const bundle = underIntermediate.certPem + intermediate.certPem;
    const registered = validateRegistration(bundle, AGENCY, [x(root)], registry, now, 'admin');
    expect(registered).toMatchObject({ ok: true, value: { fingerprint: x(underIntermediate).fingerprint256.replaceAll(':', '').toLowerCase(), pem: x(underIntermediate).toString() } });
    expect(code(validateRegistration(underIntermediate.certPem, AGENCY, [x(root)], registry, now, 'admin'))).toBe('CERT_UNTRUSTED');
    expect(code(validateRegistration(underIntermediate.certPem + impostor.certPem, AGENCY, [x(root)], registry, now, 'admin'))).toBe('CERT_UNTRUSTED');
  });

  it('accepts a seal certificate under an intermediate CA the same way', () => {
    const seal = issueCertificate({ ca: intermediate, commonName: AGENCY, agency: AGENCY, notBefore: from, notAfter: to });
    expect(code(validateSealKey(seal.keyPem, seal.certPem + intermediate.certPem, AGENCY, [x(root)], now))).toBe('ok');
    expect(code(validateSealKey(seal.keyPem, seal.certPem, AGENCY, [x(root)], now))).toBe('CERT_UNTRUSTED');
    expect(code(validateSealKey(underRoot.keyPem, seal.certPem + intermediate.certPem, AGENCY, [x(root)], now))).toBe('SCHEMA_INVALID');
  });
});
