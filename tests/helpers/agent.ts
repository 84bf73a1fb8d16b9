// An agency's document system as a test or benchmark sees it: HTTP calls with its API key, and
// its signing key for packages it writes.
import fs from 'node:fs';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import type { DemoAgency } from '../../src/demo/network.js';
import { emitEdoc, emitStatus, type StatusInput } from '../../src/edxml/emit.js';
import type { StatusCode } from '../../src/edxml/header.js';
import { signPackage } from '../../src/trust/sign.js';

export interface Agent {
  agency: DemoAgency;
  url: string;
  request: (method: string, path: string, body?: Buffer | object, contentType?: string) => Promise<{ status: number; json: any; bytes: Buffer }>;
  submit: (bytes: Buffer) => Promise<{ status: number; json: any }>;
  sign: (bytes: Buffer) => Buffer;
}

export function makeAgent(agency: DemoAgency, url: string): Agent {
  const key = createPrivateKey(fs.readFileSync(agency.keyFile));
  const certificates = [new X509Certificate(fs.readFileSync(agency.certFile))];
  const request: Agent['request'] = async (method, p, body, contentType) => {
    const headers: Record<string, string> = { authorization: `Bearer ${agency.apiKey}` };
    let payload: Buffer | string | undefined;
    if (Buffer.isBuffer(body)) { payload = body; headers['content-type'] = contentType ?? 'application/xml'; }
    else if (body !== undefined) { payload = JSON.stringify(body); headers['content-type'] = 'application/json'; }
    const res = await fetch(url + p, { method, headers, body: payload });
    const bytes = Buffer.from(await res.arrayBuffer());
    const json = (res.headers.get('content-type') ?? '').includes('json') ? JSON.parse(bytes.toString('utf8')) : undefined;
    return { status: res.status, json, bytes };
  };
  return {
    agency, url, request,
    submit: async (bytes) => { const r = await request('POST', '/api/v1/edocs', bytes); return { status: r.status, json: r.json }; },
    sign: (bytes) => {
      const signed = signPackage(bytes, { key, certificates });
      if (!signed.ok) throw new Error(signed.error.message);
      return signed.value;
    },
  };
}

let serial = 0;

/** A signed document from one agency to others. */
export function signedDocument(from: Agent, to: readonly Agent[], subject = 'Công văn thử nghiệm', attachment: Buffer = Buffer.from('nội dung')): Buffer {
  return from.sign(emitEdoc({
    from: { OrganId: from.agency.code, OrganName: from.agency.name },
    to: to.map((t) => ({ OrganId: t.agency.code, OrganName: t.agency.name })),
    codeNumber: String(++serial), codeNotation: 'UBND-VP', promulgationDate: new Date(), subject,
    attachments: [{ contentId: 'att1', name: 'vanban.pdf', contentType: 'application/pdf', data: attachment }], at: new Date(),
  }));
}

export function signedStatus(from: Agent, code: StatusCode, responseFor: StatusInput['responseFor'], description?: string): Buffer {
  return from.sign(emitStatus({
    from: { OrganId: from.agency.code, OrganName: from.agency.name }, responseFor, statusCode: code,
    description: description ?? `trạng thái ${code}`, at: new Date(),
  }));
}
