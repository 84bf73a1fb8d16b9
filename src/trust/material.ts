// The trust material a configuration names: CAs, CRLs, the agencies' registered certificates and
// every hub's seal certificate, read once at start to seed the ledger's trust store. Files are
// read through `read` (the caller's I/O), so that this stays free of the file system.
import type { X509Certificate } from 'node:crypto';
import { fail, ok, type Result } from '../errors.js';
import { loadCrl, type RevocationList } from './crl.js';
import { pemToDer, readCertificates } from './x509.js';

export interface TrustMaterial {
  anchors: X509Certificate[];
  crls: { list: RevocationList; der: Buffer }[];
  /** Agencies' certificates from the configuration, to seed the trust store. */
  seed: { agency: string; cert: X509Certificate }[];
  hubCertificates: Map<string, X509Certificate>;
}

export interface TrustFiles {
  caFiles: readonly string[];
  crlFiles: readonly string[];
  agencies: readonly { code: string; certFiles: readonly string[] }[];
  hubs: readonly { id: string; sealCertFile: string }[];
}

export async function loadTrustMaterial(files: TrustFiles, read: (file: string) => string): Promise<Result<TrustMaterial>> {
  const certsIn = (file: string) => readCertificates(read(file), file);
  const anchors: X509Certificate[] = [];
  for (const file of files.caFiles) {
    const certs = certsIn(file);
    if (!certs.ok) return certs;
    anchors.push(...certs.value);
  }
  const crls: TrustMaterial['crls'] = [];
  for (const file of files.crlFiles) {
    const text = read(file);
    const crl = await loadCrl(text, anchors);
    if (!crl.ok) return fail('USAGE', `${file}: ${crl.error.message}`);
    crls.push({ list: crl.value, der: pemToDer(text) });
  }
  const seed: TrustMaterial['seed'] = [];
  for (const a of files.agencies) {
    for (const file of a.certFiles) {
      const certs = certsIn(file);
      if (!certs.ok) return certs;
      seed.push({ agency: a.code, cert: certs.value[0]! });
    }
  }
  const hubCertificates = new Map<string, X509Certificate>();
  for (const h of files.hubs) {
    const certs = certsIn(h.sealCertFile);
    if (!certs.ok) return certs;
    hubCertificates.set(h.id, certs.value[0]!);
  }
  return ok({ anchors, crls, seed, hubCertificates });
}
