// Every first-hop error code of CONTRACT.md over HTTP, each with its status and nothing
// accepted: the recipient's inbox stays empty.
import fs from 'node:fs';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createDevCa, issueCertificate } from '../../src/pki/dev-pki.js';
import { signPackage } from '../../src/trust/sign.js';
import { sample } from '../helpers/packages.js';
import type { Agent, TestNetwork } from '../helpers/network.js';
import { useTestNetwork } from '../helpers/shared-network.js';

let n: TestNetwork;
let commune: Agent, department: Agent, district: Agent;
const MAX_BYTES = 256 * 1024;

useTestNetwork({ configFor: (_id, c) => ({ ...c, policy: { ...c.policy, maxBytes: MAX_BYTES } }) }, (started, a) => {
  n = started;
  ({ commune, department, district } = a);
});

const post = (a: Agent, body: Buffer, type = 'application/xml') => a.request('POST', '/api/v1/edocs', body, type);
const expectError = (r: { status: number; json: any }, status: number, code: string) => {
  expect(r.status, JSON.stringify(r.json)).toBe(status);
  expect(r.json.error.code).toBe(code);
  expect(r.json.error.message).toBeTruthy();
};
const signWith = (bytes: Buffer, keyPem: string, certPem: string) => {
  const s = signPackage(bytes, { key: createPrivateKey(keyPem), certificates: [new X509Certificate(certPem)] });
  if (!s.ok) throw new Error(s.error.message);
  return s.value;
};
const DAY = 86_400_000;

describe('first-hop errors over HTTP', () => {
  it('UNAUTHENTICATED: no key, or an unknown key', async () => {
    const res = await fetch(`${commune.url}/api/v1/edocs/received`);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('UNAUTHENTICATED');
    const wrong = await fetch(`${commune.url}/api/v1/edocs/received`, { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
  });

  it('an agency key works only at the hub that serves the agency', async () => {
    const res = await fetch(`${department.url}/api/v1/edocs/received`, { headers: { authorization: `Bearer ${commune.agency.apiKey}` } });
    expect(res.status).toBe(401);
  });

  it('SENDER_MISMATCH: signed as another agency', async () => {
    expectError(await post(district, n.document(commune, [department])), 403, 'SENDER_MISMATCH');
  });

  it('MALFORMED_XML, POLICY_VIOLATION, SCHEMA_INVALID with line and path', async () => {
    expectError(await post(commune, Buffer.from('<edXML><oops></edXML>')), 400, 'MALFORMED_XML');
    expectError(await post(commune, Buffer.from('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>')), 400, 'POLICY_VIOLATION');
    const invalid = Buffer.from(n.document(commune, [department]).toString().replace(/<edXML:Subject>.*?<\/edXML:Subject>/, ''));
    const r = await post(commune, invalid);
    expectError(r, 400, 'SCHEMA_INVALID');
    expect(r.json.error.details[0]).toMatchObject({ line: expect.any(Number), path: expect.stringContaining('MessageHeader') });
  });

  it('SIGNATURE_MISSING and SIGNATURE_INVALID', async () => {
    expectError(await post(commune, sample('status_inbox_01.edxml')), 422, 'SIGNATURE_MISSING');
    const tampered = Buffer.from(n.document(commune, [department], 'Nguyên bản').toString().replace('Nguyên bản', 'Đã sửa'));
    expectError(await post(commune, tampered), 422, 'SIGNATURE_INVALID');
  });

  it('CERT_UNTRUSTED, CERT_EXPIRED and CERT_NOT_BOUND', async () => {
    const unsigned = Buffer.from(n.document(commune, [department]).toString().replace(/<Signature xmlns="http:\/\/www\.w3\.org\/2000\/09\/xmldsig#">[\s\S]*<\/Signature>/, ''));
    const rogue = createDevCa('Rogue', new Date(Date.now() - DAY), new Date(Date.now() + DAY));
    expectError(await post(commune, signWith(unsigned, rogue.keyPem, rogue.certPem)), 422, 'CERT_UNTRUSTED');
    const ca = { keyPem: fs.readFileSync(n.net.caKeyFile, 'utf8'), certPem: fs.readFileSync(n.net.caFile, 'utf8') };
    const expired = issueCertificate({ ca, commonName: 'old', agency: commune.agency.code, notBefore: new Date(Date.now() - 400 * DAY), notAfter: new Date(Date.now() - DAY) });
    expectError(await post(commune, signWith(unsigned, expired.keyPem, expired.certPem)), 422, 'CERT_EXPIRED');
    const unregistered = issueCertificate({ ca, commonName: 'new', agency: commune.agency.code, notBefore: new Date(Date.now() - DAY), notAfter: new Date(Date.now() + DAY) });
    expectError(await post(commune, signWith(unsigned, unregistered.keyPem, unregistered.certPem)), 422, 'CERT_NOT_BOUND');
  });

  it('UNKNOWN_RECIPIENT names the code', async () => {
    const toNowhere = n.document(commune, [{ agency: { code: '000.00.00.G22', name: 'VPCP' } } as Agent]);
    const r = await post(commune, toNowhere);
    expectError(r, 422, 'UNKNOWN_RECIPIENT');
    expect(r.json.error.message).toContain('000.00.00.G22');
  });

  it('NOT_FOUND: another agency\'s document, or none', async () => {
    const r = await commune.submit(n.document(commune, [department]));
    expect(r.status).toBe(202);
    expectError(await district.request('GET', `/api/v1/edocs/${r.json.docId}`), 404, 'NOT_FOUND');
    expectError(await district.request('GET', `/api/v1/edocs/${r.json.docId}/trace`), 404, 'NOT_FOUND');
    expectError(await district.request('POST', `/api/v1/edocs/${r.json.docId}/ack`, { result: 'done' }), 404, 'NOT_FOUND');
    expectError(await district.request('GET', '/api/v1/edocs/nonsense'), 404, 'NOT_FOUND');
  });

  it('PAYLOAD_TOO_LARGE and UNSUPPORTED_MEDIA_TYPE', async () => {
    expectError(await post(commune, Buffer.alloc(MAX_BYTES + 1, 0x20)), 413, 'PAYLOAD_TOO_LARGE');
    expectError(await post(commune, n.document(commune, [department]), 'text/plain'), 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('a bad acknowledgement body is refused with details', async () => {
    const r = await commune.request('POST', '/api/v1/edocs/0123456789abcdef0123456789abcdef/ack', { result: 'maybe' });
    expectError(r, 400, 'SCHEMA_INVALID');
  });
});
