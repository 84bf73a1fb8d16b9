// A throwaway PKI for one test file: a CA, agency certificates in every state, a CRL, on disk
// (for xmlsec1 and the CLI) and in memory (for the core).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { createCrl, createDevCa, issueCertificate, serialOf, type KeyAndCert } from '../../src/pki/dev-pki.js';
import type { SigningCredential } from '../../src/trust/sign.js';
import { loadCrl } from '../../src/trust/crl.js';
import { buildTrustSnapshot, type Registration, type TrustSnapshot } from '../../src/trust/store.js';

export const AGENCY = '000.00.00.H41';
const DAY = 86_400_000;

export interface TestPki {
  dir: string;
  now: Date;
  ca: KeyAndCert;
  caFile: string;
  crlFile: string;
  /** Signing credentials by role, each also written as <role>.key.pem / <role>.cert.pem. */
  creds: Record<Role, SigningCredential & { keyFile: string; certFile: string }>;
  trust: (opts?: { crl?: boolean; registrations?: Registration[] }) => Promise<TrustSnapshot>;
  cleanup: () => void;
}

export type Role = 'agency' | 'expired' | 'notYetValid' | 'revoked' | 'noSigningUsage' | 'rogue';

export async function createTestPki(now = new Date()): Promise<TestPki> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lgsp-pki-'));
  const ca = createDevCa('Test CA', new Date(now.getTime() - DAY), new Date(now.getTime() + 3650 * DAY));
  const issue = (from: number, to: number, signing = true) => issueCertificate({
    ca, commonName: 'UBND Tỉnh Nghệ An', agency: AGENCY,
    notBefore: new Date(now.getTime() + from * DAY), notAfter: new Date(now.getTime() + to * DAY), signing,
  });
  const pairs: Record<Role, KeyAndCert> = {
    agency: issue(-1, 365),
    expired: issue(-400, -35),
    notYetValid: issue(10, 400),
    revoked: issue(-1, 365),
    noSigningUsage: issue(-1, 365, false),
    rogue: createDevCa('Test CA', new Date(now.getTime() - DAY), new Date(now.getTime() + 365 * DAY)),
  };
  const caFile = write(dir, 'ca.cert.pem', ca.certPem);
  const crlPem = await createCrl(ca, [{ serialNumber: serialOf(pairs.revoked.certPem), revokedAt: now }], now,
    new Date(now.getTime() + 7 * DAY));
  const crlFile = write(dir, 'crl.pem', crlPem);
  const creds = Object.fromEntries(Object.entries(pairs).map(([role, p]) => [role, {
    key: createPrivateKey(p.keyPem),
    certificates: [new X509Certificate(p.certPem)],
    keyFile: write(dir, `${role}.key.pem`, p.keyPem),
    certFile: write(dir, `${role}.cert.pem`, p.certPem),
  }])) as TestPki['creds'];
  const anchors = [new X509Certificate(ca.certPem)];
  const crl = await loadCrl(crlPem, anchors);
  if (!crl.ok) throw new Error(crl.error.message);
  return {
    dir, now, ca, caFile, crlFile, creds,
    trust: async (opts = {}) => buildTrustSnapshot({
      anchors, crls: opts.crl === false ? [] : [crl.value], registrations: opts.registrations,
    }),
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

function write(dir: string, name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}
