// A stand-in for the national document axis (VXP), written from the real SDK's wire format
// (docs/national-sdk.md, "What the SDK sends", and the decompiled SDKVXP 2.0.1), independently
// of the hub's own /vxp code: it checks the HMAC over the literal sign-header it received,
// takes parameters from the signed headers only, takes sendEdoc's body raw (file + CRLF),
// keeps an inbox per registered system and a record of every updateStatus. A "system" is one
// registered account (a province, a ministry) that sends and receives for the codes it owns.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface AxisSystem { secret: string; owns: (code: string) => boolean }
export interface AxisDirectoryEntry { id: string; pid: string; code: string; name: string; mail: string; oldCode: string }

/** One request as the axis received it: the call, the raw headers, the body, the signed parameters. */
export interface AxisRequest { call: string; method: string; headers: http.IncomingHttpHeaders; body: Buffer; signed: Record<string, string>; systemId: string | null; answer: number }

export interface AxisDocument { docId: string; from: string; to: string[]; messageType: string; bytes: Buffer; sentBy: string }

export interface StandInAxis {
  url: string;
  requests: AxisRequest[];
  /** Every document sent through the axis (sendEdoc), in order. */
  sent: AxisDocument[];
  updates: { systemId: string; docId: string; status: string; reason?: string }[];
  directory: AxisDirectoryEntry[];
  systems: Map<string, AxisSystem>;
  /** Documents waiting for each system (docIds), until updateStatus done|fail. */
  inbox: Map<string, AxisDocument[]>;
  /** While true, every call's connection is cut without an answer. */
  down: boolean;
  /** While true, updateStatus answers 503 (the hub cannot acknowledge). */
  updateStatusDown: boolean;
  /** The next sendEdoc is refused with this FAIL (then cleared). */
  refuseNext: { ErrorCode: string; ErrorDesc: string } | null;
  /** Puts a package into the inboxes of the systems owning its recipients, as if `from`'s system had sent it. */
  handOver(d: { from: string; to: string[]; messageType: 'edoc' | 'status'; bytes: Buffer }): string;
  close(): Promise<void>;
}

const PREFIX = 'xroadvnpt-';

export async function startStandInAxis(systems: Map<string, AxisSystem>, directory: AxisDirectoryEntry[]): Promise<StandInAxis> {
  const axis = {
    requests: [] as AxisRequest[], sent: [] as AxisDocument[], updates: [] as StandInAxis['updates'], directory, systems,
    inbox: new Map<string, AxisDocument[]>(), down: false, updateStatusDown: false, refuseNext: null as StandInAxis['refuseNext'],
  };
  const deliver = (d: AxisDocument) => {
    for (const [id, s] of systems) {
      if (id !== d.sentBy && d.to.some((code) => s.owns(code))) axis.inbox.set(id, [...(axis.inbox.get(id) ?? []), d]);
    }
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (axis.down) {
        req.socket.destroy();
        return;
      }
      const body = Buffer.concat(chunks);
      const call = (req.url ?? '').replace(/^\/vxp\//, '').replace(/\?.*$/, '');
      const record: AxisRequest = { call, method: req.method ?? '', headers: req.headers, body, signed: {}, systemId: null, answer: 0 };
      axis.requests.push(record);
      const answer = (status: number, json: Record<string, unknown>) => {
        record.answer = status;
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json));
      };
      const failWith = (status: number, code: string, desc: string) => answer(status, { status: 'FAIL', ErrorCode: code, ErrorDesc: desc });
      const auth = authenticate(req.headers, systems);
      if ('error' in auth) return failWith(401, '401', auth.error);
      record.signed = auth.signed;
      record.systemId = auth.systemId;
      const p = auth.signed;
      const ok = (extra: Record<string, unknown>) => answer(200, { status: 'OK', ErrorCode: '0', ErrorDesc: '', ...extra });
      switch (call) {
        case 'sendEdoc': {
          if (req.headers['content-type'] !== 'application/octet-stream') return failWith(200, '400', 'sendEdoc takes the raw file');
          // The SDK writes the file's bytes and one CRLF.
          if (body.length < 2 || body.subarray(-2).toString() !== '\r\n') return failWith(200, '400', 'no CRLF after the file');
          const file = body.subarray(0, -2);
          if (p['hash-file'] !== javaHex(createHash('sha256').update(file).digest())) return failWith(200, '400', 'hash-file does not match the file');
          const to = JSON.parse(p.to ?? '[]') as string[];
          if (!Array.isArray(to) || to.length === 0 || p.from === undefined || p.servicetype !== 'eDoc' || !['edoc', 'status'].includes(p.messagetype ?? '')) {
            return failWith(200, '400', 'from, to, servicetype=eDoc and messagetype are required');
          }
          if (axis.refuseNext !== null) {
            const refusal = axis.refuseNext;
            axis.refuseNext = null;
            return failWith(200, refusal.ErrorCode, refusal.ErrorDesc);
          }
          const unknown = to.find((code) => ![...systems.values()].some((s) => s.owns(code)));
          if (unknown !== undefined) return failWith(200, '404', `unknown agency ${unknown}`);
          const doc: AxisDocument = { docId: randomBytes(16).toString('hex'), from: p.from, to, messageType: p.messagetype!, bytes: Buffer.from(file), sentBy: auth.systemId };
          axis.sent.push(doc);
          deliver(doc);
          return ok({ DocId: doc.docId });
        }
        case 'getReceivedEdocList': {
          const waiting = (axis.inbox.get(auth.systemId) ?? []).filter((d) => p.messagetype === undefined || d.messageType === p.messagetype);
          return ok({ data: waiting.map((d) => ({ docId: d.docId, serviceType: 'eDoc', messageType: d.messageType, from: d.from, to: JSON.stringify(d.to), status: 'sent', status_desc: '', created_time: '', updated_time: '' })) });
        }
        case 'getEdoc': {
          const doc = (axis.inbox.get(auth.systemId) ?? []).find((d) => d.docId === p.docId);
          return doc === undefined ? failWith(200, '404', `no document ${p.docId}`) : ok({ data: doc.bytes.toString('base64') });
        }
        case 'updateStatus': {
          if (axis.updateStatusDown) return failWith(503, '503', 'updateStatus is unavailable');
          const waiting = axis.inbox.get(auth.systemId) ?? [];
          if (p.docId === undefined || p.status === undefined || !waiting.some((d) => d.docId === p.docId)) return failWith(200, '404', `no document ${p.docId}`);
          axis.updates.push({ systemId: auth.systemId, docId: p.docId, status: p.status, ...(p.reason === undefined ? {} : { reason: p.reason }) });
          if (p.status === 'done' || p.status === 'fail') axis.inbox.set(auth.systemId, waiting.filter((d) => d.docId !== p.docId));
          return ok({});
        }
        case 'getAgenciesList':
          return ok({ data: axis.directory });
        default:
          return failWith(404, '404', `no call ${call}`);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/vxp`;
  return Object.assign(axis, {
    url,
    handOver(d: { from: string; to: string[]; messageType: 'edoc' | 'status'; bytes: Buffer }) {
      const sentBy = [...systems].find(([, s]) => s.owns(d.from))?.[0] ?? 'unknown';
      const doc = { ...d, docId: randomBytes(16).toString('hex'), sentBy };
      axis.sent.push(doc);
      deliver(doc);
      return doc.docId;
    },
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  });
}

/**
 * The axis's check of a request: the three signing headers; the HMAC of the sign-header, as the
 * bytes received, under the system's secret; each name of sign-header-key sent as
 * `XroadVnpt-<name>` with the value the sign-header gives it.
 */
function authenticate(headers: http.IncomingHttpHeaders, systems: Map<string, AxisSystem>): { systemId: string; signed: Record<string, string> } | { error: string } {
  const keys = headers[`${PREFIX}sign-header-key`];
  const signHeader = headers[`${PREFIX}sign-header`];
  const hash = headers[`${PREFIX}hash-header`];
  if (typeof keys !== 'string' || typeof signHeader !== 'string' || typeof hash !== 'string') return { error: 'signing headers missing' };
  const bytes = Buffer.from(signHeader, 'latin1');
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
  } catch {
    return { error: 'sign-header is not JSON' };
  }
  const signed: Record<string, string> = {};
  for (const name of keys.split(';')) {
    const value = json[`XroadVnpt-${name}`];
    const sent = headers[`${PREFIX}${name.toLowerCase()}`];
    if (typeof value !== 'string' || typeof sent !== 'string' || Buffer.from(sent, 'latin1').toString('utf8') !== value) return { error: `${name} is not signed as sent` };
    signed[name] = value;
  }
  const systemId = signed.systemid;
  const system = systemId === undefined ? undefined : systems.get(systemId);
  if (system === undefined || systemId === undefined) return { error: `unknown system ${systemId}` };
  const expected = createHmac('sha256', system.secret).update(bytes).digest();
  const given = Buffer.from(hash, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { error: 'hash-header does not match' };
  return { systemId, signed };
}

/** Java's Integer.toHexString per byte, as the SDK spells hash-file. */
function javaHex(digest: Buffer): string {
  let out = '';
  for (const b of digest) out += (b & 0xff).toString(16);
  return out;
}
