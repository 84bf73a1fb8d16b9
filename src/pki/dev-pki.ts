// The development PKI: a CA, agency signing certificates and CRLs for demos and tests.
// Tooling only, never on the hop path: node-forge builds certificates (keys come from
// node:crypto, which is ~100x faster), @peculiar/x509 builds CRLs (node-forge cannot).
import { generateKeyPairSync, randomBytes, webcrypto, X509Certificate } from 'node:crypto';
import forge from 'node-forge';
import { pemToDer, px } from '../trust/x509.js';

export interface KeyAndCert { keyPem: string; certPem: string }

export interface IssueOptions {
  ca: KeyAndCert;
  commonName: string;
  /** The agency code, written as the subject's OU. */
  agency?: string;
  notBefore: Date;
  notAfter: Date;
  /** false issues a certificate whose key usage does not allow signing (for negative tests). */
  signing?: boolean;
}

const ORGANIZATION = 'LGSP development PKI';

/** A root CA, or with `issuer` an intermediate CA that `issuer` certifies. */
export function createDevCa(commonName: string, notBefore: Date, notAfter: Date, issuer?: KeyAndCert): KeyAndCert {
  const { keyPem, key } = newKey();
  const cert = newCertificate(key, notBefore, notAfter);
  const name = subject(commonName);
  const parent = issuer === undefined ? undefined : forge.pki.certificateFromPem(issuer.certPem);
  cert.setSubject(name);
  cert.setIssuer(parent?.subject.attributes ?? name);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
    ...(parent === undefined ? [] : [{ name: 'authorityKeyIdentifier', keyIdentifier: parent.generateSubjectKeyIdentifier().getBytes() }]),
  ]);
  cert.sign(issuer === undefined ? key.privateKey : forge.pki.privateKeyFromPem(issuer.keyPem), forge.md.sha256.create());
  return { keyPem, certPem: forge.pki.certificateToPem(cert) };
}

export function issueCertificate(options: IssueOptions): KeyAndCert {
  const caKey = forge.pki.privateKeyFromPem(options.ca.keyPem);
  const caCert = forge.pki.certificateFromPem(options.ca.certPem);
  const { keyPem, key } = newKey();
  const cert = newCertificate(key, options.notBefore, options.notAfter);
  cert.setSubject(subject(options.commonName, options.agency));
  cert.setIssuer(caCert.subject.attributes);
  const signing = options.signing ?? true;
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: signing, nonRepudiation: signing, keyEncipherment: !signing, critical: true },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  return { keyPem, certPem: forge.pki.certificateToPem(cert) };
}

/**
 * An ECDSA P-256 certificate from the RSA development CA, for hub seals: a hub signs several
 * seals per document, and P-256 signs ~20x faster than RSA-2048. Built with @peculiar/x509
 * (node-forge has no EC keys).
 */
export async function issueEcCertificate(options: IssueOptions): Promise<KeyAndCert> {
  const pair = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
  const caCert = new px.X509Certificate(options.ca.certPem);
  const serial = randomBytes(16);
  serial[0] = serial[0]! & 0x7f | 0x10;
  const cert = await px.X509CertificateGenerator.create({
    serialNumber: serial.toString('hex'),
    subject: `CN=${options.commonName}${options.agency ? `, OU=${options.agency}` : ''}, O=${ORGANIZATION}, C=VN`,
    issuer: caCert.subjectName,
    notBefore: options.notBefore,
    notAfter: options.notAfter,
    publicKey: pair.publicKey,
    signingKey: await importCaKey(options.ca.keyPem),
    signingAlgorithm: CA_SIGNING,
    extensions: [
      new px.BasicConstraintsExtension(false, undefined, true),
      new px.KeyUsagesExtension(px.KeyUsageFlags.digitalSignature | px.KeyUsageFlags.nonRepudiation, true),
      await px.SubjectKeyIdentifierExtension.create(pair.publicKey),
      await px.AuthorityKeyIdentifierExtension.create(caCert),
    ],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', pair.privateKey)).toString('base64');
  return { keyPem: `-----BEGIN PRIVATE KEY-----\n${pkcs8.replace(/.{64}/g, '$&\n')}\n-----END PRIVATE KEY-----\n`, certPem: cert.toString('pem') + '\n' };
}

const CA_SIGNING = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };

function importCaKey(keyPem: string): Promise<webcrypto.CryptoKey> {
  return webcrypto.subtle.importKey('pkcs8', pemToDer(keyPem), CA_SIGNING, false, ['sign']);
}

export interface RevokedEntry { serialNumber: string; revokedAt: Date }

export async function createCrl(ca: KeyAndCert, revoked: readonly RevokedEntry[], thisUpdate: Date, nextUpdate: Date): Promise<string> {
  const signingAlgorithm = CA_SIGNING;
  const signingKey = await importCaKey(ca.keyPem);
  const crl = await px.X509CrlGenerator.create({
    issuer: new px.X509Certificate(ca.certPem).subjectName,
    thisUpdate,
    nextUpdate,
    entries: revoked.map((r) => ({ serialNumber: r.serialNumber, revocationDate: r.revokedAt })),
    signingAlgorithm,
    signingKey,
  });
  return crl.toString('pem') + '\n';
}

export function serialOf(certPem: string): string {
  return new X509Certificate(certPem).serialNumber.toLowerCase();
}

function newKey(): { keyPem: string; key: forge.pki.rsa.KeyPair } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const forgeKey = forge.pki.privateKeyFromPem(keyPem) as forge.pki.rsa.PrivateKey;
  return { keyPem, key: { privateKey: forgeKey, publicKey: forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e) } };
}

function newCertificate(key: forge.pki.rsa.KeyPair, notBefore: Date, notAfter: Date): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = key.publicKey;
  // A positive 16-byte serial (the high bit cleared so DER does not read it as negative).
  const serial = randomBytes(16);
  serial[0] = serial[0]! & 0x7f | 0x10;
  cert.serialNumber = serial.toString('hex');
  cert.validity.notBefore = notBefore;
  cert.validity.notAfter = notAfter;
  return cert;
}

function subject(commonName: string, agency?: string): forge.pki.CertificateField[] {
  // UTF8String, so that Vietnamese names survive (forge defaults to PrintableString).
  const utf8 = (value: string) => ({ value, valueTagClass: forge.asn1.Type.UTF8 as number });
  const fields: forge.pki.CertificateField[] = [{ name: 'commonName', ...utf8(commonName) }];
  if (agency !== undefined) fields.push({ shortName: 'OU', ...utf8(agency) });
  fields.push({ name: 'organizationName', value: ORGANIZATION }, { name: 'countryName', value: 'VN' });
  return fields;
}
