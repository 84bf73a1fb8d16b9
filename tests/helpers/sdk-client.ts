// A national-SDK client written from the dialect's description alone (the issue and CONTRACT.md),
// not from the hub's code: its own HMAC signing, its own timestamp (through Intl's time-zone
// data rather than a fixed offset), its own multipart body (FormData), and a polling loop.
import { createHash, createHmac } from 'node:crypto';
import { expect } from 'vitest';
import { eventually } from './network.js';

export interface SdkReply { status: number; json: any; bytes: Buffer; call: string; headers: Headers }

export interface SignOptions {
  /** When the request claims to be made (default: now). */
  at?: Date;
  /** The HMAC key (default: the client's secret). */
  secret?: string;
}

export interface SdkClient {
  systemId: string;
  /** The XroadVnpt-* headers for these logical headers, plus systemid and timestamp. */
  sign(logical: Record<string, string>, options?: SignOptions): Record<string, string>;
  /** One call with headers as given (signed or not). */
  send(method: 'GET' | 'POST', call: string, headers: Record<string, string>, body?: Body): Promise<SdkReply>;
  /** One call signed now. */
  call(method: 'GET' | 'POST', call: string, logical?: Record<string, string>, body?: Body, options?: SignOptions): Promise<SdkReply>;
  sendEdoc(bytes: Buffer, messagetype: 'edoc' | 'status', options?: SignOptions): Promise<SdkReply>;
  /** Polls getReceivedEdocList until a row matches, as an SDK integration's timer loop does. */
  pollReceived(messagetype: 'edoc' | 'status', match: (row: ReceivedRow) => boolean): Promise<ReceivedRow>;
}

/** Multipart, form parameters, raw bytes (with a content-type header of the caller's), or a JSON object. */
export type Body = FormData | URLSearchParams | Buffer | object;

export interface ReceivedRow {
  docId: string; serviceType: string; messageType: string; from: string; to: string;
  status: string; status_desc: string; created_time: string; updated_time: string; statusCode?: string; subject?: string;
}

/** `ddMMyyyy'T'HHmmss+SSSS` in Asia/Ho_Chi_Minh, as the SDK's Java SimpleDateFormat writes it. */
export function sdkTimestamp(at: Date): string {
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-GB', {
    timeZone: 'Asia/Ho_Chi_Minh', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
  }).formatToParts(at).map((p) => [p.type, p.value]));
  return `${parts.day}${parts.month}${parts.year}T${parts.hour}${parts.minute}${parts.second}+${String(at.getUTCMilliseconds()).padStart(4, '0')}`;
}

export function sdkClient(vxpUrl: string, systemId: string, secret: string): SdkClient {
  // The HMAC covers the headers only, so two calls with the same headers in the same millisecond
  // would be one signed request to the hub (refused as a replay): each gets a later millisecond.
  let lastMs = 0;
  const fresh = () => new Date(lastMs = Math.max(Date.now(), lastMs + 1));
  const sign: SdkClient['sign'] = (logical, options = {}) => {
    const sent: Record<string, string> = {};
    for (const [k, v] of Object.entries({ systemid: systemId, timestamp: sdkTimestamp(options.at ?? fresh()), ...logical })) sent[`XroadVnpt-${k}`] = v;
    const signHeader = JSON.stringify(sent);
    return {
      ...sent,
      'XroadVnpt-sign-header-key': Object.keys(sent).join(';'),
      'XroadVnpt-sign-header': signHeader,
      'XroadVnpt-hash-header': createHmac('sha256', options.secret ?? secret).update(signHeader, 'utf8').digest('hex'),
    };
  };
  const send: SdkClient['send'] = async (method, call, headers, body) => {
    const init: RequestInit = { method, headers: { ...headers } };
    // fetch writes the multipart boundary and the form content-type itself.
    if (body instanceof FormData || body instanceof URLSearchParams || Buffer.isBuffer(body)) init.body = body;
    else if (body !== undefined) {
      init.body = JSON.stringify(body);
      (init.headers as Record<string, string>)['content-type'] = 'application/json';
    }
    const res = await fetch(`${vxpUrl}/${call}`, init);
    const bytes = Buffer.from(await res.arrayBuffer());
    const json = (res.headers.get('content-type') ?? '').includes('json') ? JSON.parse(bytes.toString('utf8')) : undefined;
    return { status: res.status, json, bytes, call, headers: res.headers };
  };
  const call: SdkClient['call'] = (method, name, logical = {}, body, options) => send(method, name, sign(logical, options), body);
  return {
    systemId, sign, send, call,
    sendEdoc: (bytes, messagetype, options) => {
      const form = new FormData();
      form.append('file_doc', new Blob([bytes], { type: 'application/octet-stream' }), 'goi-tin.edxml');
      return call('POST', 'sendEdoc', { from: systemId, servicetype: 'eDoc', messagetype }, form, options);
    },
    pollReceived: (messagetype, match) => eventually(async () => {
      const r = await call('POST', 'getReceivedEdocList', { servicetype: 'eDoc', messagetype });
      if (r.json?.status !== 'OK') throw new Error(`getReceivedEdocList failed: ${r.status} ${r.bytes.toString()}`);
      return (r.json.data as ReceivedRow[]).find(match);
    }, `a ${messagetype} in ${systemId}'s getReceivedEdocList`),
  };
}

// ---------------------------------------------------------------------------------------------
// The real SDK (SDKVXP 2.0.1, the Java library document systems embed), emulated from what its
// code does and what it puts on the wire (issue 15), not from the hub's code:
// - one header map per service object, created with `timestamp` (the JVM's default zone, pattern
//   ddMMyyyy'T'HHmmss+SSSS, set once and never refreshed) and `systemid`; every call puts its
//   Content-Type and its JSON parameters into the same map, so entries accumulate across calls;
// - each entry goes out as `XroadVnpt-<name>`, Content-Type also plain; sign-header-key lists the
//   bare names joined by `;` in the map's (Java HashMap) order; sign-header is the compact JSON of
//   the `XroadVnpt-` names (gson, HTML-escaped as the issue describes: \u003c…); hash-header is
//   hex HMAC-SHA256 over it; `User-Agent` and `XroadVnpt-version` go unsigned;
// - sendEdoc: Content-Type application/octet-stream, `hash-file` = SHA-256 of the file with
//   Integer.toHexString per byte (leading zeros dropped), `to` as a JSON array string, the body
//   the file's bytes followed by CRLF; the answer is read only on HTTP 200/201;
// - other calls: POST with the body `{}` (getEdoc, countReceiveEdoc, updateStatus) or empty
//   (getReceivedEdocList, getSentEdocList, getAgenciesList); downloadEdoc is a GET whose body is
//   saved as the document whatever the HTTP status, and is SUCCESS when it is not empty;
// - answers are read with gson's getAsString: a missing field or a JSON null throws.

/** One HTTP exchange as the SDK made it. */
export interface WireCall { method: string; path: string; headers: Record<string, string>; body: Buffer; reply: SdkReply }

export interface JavaSdkOptions {
  /** The JVM's clock (read once, when the service object is built). */
  clock?: () => Date;
  /** The JVM's default time zone. */
  zone?: 'UTC' | 'Asia/Ho_Chi_Minh';
  /** gson's HTML escaping of the sign-header (default true). */
  htmlSafe?: boolean;
}

/** Java's String.hashCode, then HashMap.hash's spreading of the high bits. */
function javaHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h ^ (h >>> 16);
}

/** A java.util.HashMap<String, String>'s iteration order: by bucket, then by insertion. */
class JavaHashMap {
  private readonly entries = new Map<string, string>();
  put(key: string, value: string): void { this.entries.set(key, value); }
  get(key: string): string | undefined { return this.entries.get(key); }
  ordered(): [string, string][] {
    let capacity = 16;
    while (this.entries.size > capacity * 0.75) capacity *= 2;
    const keys = [...this.entries.keys()];
    return keys.map((k, i) => ({ k, i, bucket: javaHash(k) & (capacity - 1) }))
      .sort((a, b) => a.bucket - b.bucket || a.i - b.i).map(({ k }) => [k, this.entries.get(k)!]);
  }
}

/** gson's JsonObject.toString() of string properties, with its HTML-safe escapes. */
function gsonJson(entries: [string, string][], htmlSafe: boolean): string {
  const text = JSON.stringify(Object.fromEntries(entries));
  return htmlSafe ? text.replace(/[<>&=']/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) : text;
}

/** SimpleDateFormat("ddMMyyyy'T'HHmmss+SSSS") in a JVM whose default zone is `zone`. */
export function javaTimestamp(at: Date, zone: 'UTC' | 'Asia/Ho_Chi_Minh'): string {
  const local = new Date(at.getTime() + (zone === 'UTC' ? 0 : 7 * 3_600_000));
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(local.getUTCDate())}${p(local.getUTCMonth() + 1)}${local.getUTCFullYear()}T${p(local.getUTCHours())}${p(local.getUTCMinutes())}${p(local.getUTCSeconds())}+${p(local.getUTCMilliseconds(), 4)}`;
}

/** gson's JsonElement.getAsString on a field: throws where the SDK's parse throws (missing, null, not a primitive). */
function asString(o: any, key: string): string {
  const v = o?.[key];
  if (v === undefined) throw new Error(`the SDK would crash: no field ${key} (NullPointerException)`);
  if (v === null) throw new Error(`the SDK would crash: ${key} is JSON null (UnsupportedOperationException)`);
  if (typeof v === 'object') throw new Error(`the SDK would crash: ${key} is not a primitive`);
  return String(v);
}

export interface SdkBasicResult { status: string; errorCode: string; errorDesc: string }

export class JavaSdkService {
  private readonly map = new JavaHashMap();
  /** Every exchange this service object made, in order. */
  readonly wire: WireCall[] = [];
  private readonly htmlSafe: boolean;

  constructor(private readonly endpoint: string, readonly systemId: string, private readonly secret: string, options: JavaSdkOptions = {}) {
    this.map.put('timestamp', javaTimestamp((options.clock ?? (() => new Date()))(), options.zone ?? 'Asia/Ho_Chi_Minh'));
    this.map.put('systemid', systemId);
    this.htmlSafe = options.htmlSafe ?? true;
  }

  /** The header map as it stands (what the next call sends, before that call's own entries). */
  header(name: string): string | undefined { return this.map.get(name); }

  private headers(): Record<string, string> {
    const out: Record<string, string> = {};
    const entries = this.map.ordered();
    const json: [string, string][] = [];
    for (const [k, v] of entries) {
      if (k === 'Content-Type') out['Content-Type'] = v;
      out[`XroadVnpt-${k}`] = v;
      json.push([`XroadVnpt-${k}`, v]);
    }
    const signHeader = gsonJson(json, this.htmlSafe);
    out['XroadVnpt-sign-header-key'] = entries.map(([k]) => k).join(';');
    out['XroadVnpt-sign-header'] = signHeader;
    out['XroadVnpt-hash-header'] = createHmac('sha256', this.secret).update(signHeader, 'utf8').digest('hex');
    out['User-Agent'] = 'JAVASDKAgent/1.0.0 XRoad/VPCP';
    out['XroadVnpt-version'] = '3.0.201608';
    return out;
  }

  private put(contentType: string, params: Record<string, unknown>, toAsJson = false): void {
    this.map.put('Content-Type', contentType);
    for (const [k, v] of Object.entries(params)) this.map.put(k, toAsJson && k === 'to' ? JSON.stringify(v) : String(v));
  }

  private async exchange(method: 'GET' | 'POST', call: string, body: Buffer | null): Promise<SdkReply> {
    const headers = this.headers();
    // Header values travel as UTF-8 bytes; fetch wants a ByteString, one char per byte.
    const wireHeaders = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, Buffer.from(v, 'utf8').toString('latin1')]));
    const res = await fetch(`${this.endpoint}/${call}`, { method, headers: wireHeaders, ...(body === null ? {} : { body }) });
    const bytes = Buffer.from(await res.arrayBuffer());
    const reply: SdkReply = { status: res.status, json: undefined, bytes, call, headers: res.headers };
    if ((res.headers.get('content-type') ?? '').includes('json')) reply.json = JSON.parse(bytes.toString('utf8'));
    this.wire.push({ method, path: `/${call}`, headers, body: body ?? Buffer.alloc(0), reply });
    return reply;
  }

  private basic(reply: SdkReply): SdkBasicResult {
    const o = JSON.parse(reply.bytes.toString('utf8'));
    return { status: asString(o, 'status'), errorCode: asString(o, 'ErrorCode'), errorDesc: asString(o, 'ErrorDesc') };
  }

  async sendEdoc(jsonHeaders: Record<string, unknown>, file: Buffer): Promise<SdkBasicResult & { docId: string }> {
    this.put('application/octet-stream', jsonHeaders, true);
    this.map.put('hash-file', [...createHash('sha256').update(file).digest()].map((b) => b.toString(16)).join(''));
    const reply = await this.exchange('POST', 'sendEdoc', Buffer.concat([file, Buffer.from('\r\n')]));
    // MultipartUtility.finish: only 200 and 201 are read from the input stream.
    if (reply.status >= 300 && reply.status < 400) throw new Error(`the SDK cannot read HTTP ${reply.status}`);
    if (reply.status > 201 && reply.status < 300) throw new Error(`the SDK would crash on HTTP ${reply.status} (no error stream)`);
    const o = JSON.parse(reply.bytes.toString('ascii')); // read as US-ASCII
    return { ...this.basic(reply), docId: asString(o, 'DocId') };
  }

  /** A list call: POST with an empty body; on ErrorCode 0 the SDK reads these fields of each `data` item. */
  private async list(call: string, jsonHeaders: Record<string, unknown>, fields: readonly string[]): Promise<SdkBasicResult & { items: Record<string, string>[] }> {
    this.put('application/json', jsonHeaders);
    const reply = await this.exchange('POST', call, Buffer.alloc(0));
    const r = this.basic(reply);
    if (r.errorCode !== '0') return { ...r, items: [] };
    const data = JSON.parse(reply.bytes.toString('utf8')).data as any[];
    return { ...r, items: data.map((d) => readFields(d, fields)) };
  }

  async getReceivedEdocList(jsonHeaders: Record<string, unknown>): Promise<SdkBasicResult & { knobsticks: Record<string, string>[] }> {
    const { items, ...r } = await this.list('getReceivedEdocList', jsonHeaders, ['docId', 'serviceType', 'messageType', 'created_time', 'updated_time', 'from', 'to', 'status', 'status_desc']);
    return { ...r, knobsticks: items };
  }

  async countReceiveEdoc(jsonHeaders: Record<string, unknown>): Promise<SdkBasicResult & { count?: number }> {
    this.put('application/json', jsonHeaders);
    const reply = await this.exchange('POST', 'countReceiveEdoc', Buffer.from('{}'));
    const r = this.basic(reply);
    if (r.status === 'FAIL') return r;
    const count = Number(asString(JSON.parse(reply.bytes.toString('utf8')), 'count')); // getAsInt
    if (!Number.isInteger(count)) throw new Error('the SDK would crash: count is not an int');
    return { ...r, count };
  }

  async getEdoc(jsonHeaders: Record<string, unknown>): Promise<SdkBasicResult & { data?: Buffer }> {
    this.put('application/json', jsonHeaders);
    const reply = await this.exchange('POST', 'getEdoc', Buffer.from('{}'));
    const r = this.basic(reply);
    if (r.status === 'FAIL') return r;
    return { ...r, data: Buffer.from(asString(JSON.parse(reply.bytes.toString('utf8')), 'data'), 'base64') };
  }

  /** What the SDK saves as <docId>.edxml (the body, whatever the status), and whether it says SUCCESS. */
  async downloadEdoc(jsonHeaders: Record<string, unknown>): Promise<{ status: 'SUCCESS' | 'FAIL'; saved: Buffer; reply: SdkReply }> {
    this.put('application/json', jsonHeaders);
    const reply = await this.exchange('GET', 'downloadEdoc', null);
    return { status: reply.bytes.length > 0 ? 'SUCCESS' : 'FAIL', saved: reply.bytes, reply };
  }

  async updateStatus(jsonHeaders: Record<string, unknown>): Promise<SdkBasicResult> {
    this.put('application/json', jsonHeaders);
    return this.basic(await this.exchange('POST', 'updateStatus', Buffer.from('{}')));
  }

  async getSentEdocList(jsonHeaders: Record<string, unknown>): Promise<SdkBasicResult & { statusResult: Record<string, string>[] }> {
    const { items, ...r } = await this.list('getSentEdocList', jsonHeaders, SENT_FIELDS);
    return { ...r, statusResult: items };
  }

  async getAgenciesList(jsonHeaders: Record<string, unknown>): Promise<SdkBasicResult & { agencies: Record<string, string>[] }> {
    const { items, ...r } = await this.list('getAgenciesList', jsonHeaders, ['code', 'id', 'mail', 'name', 'pid', 'oldCode']);
    return { ...r, agencies: items };
  }
}

/** The fields the SDK reads from a getSentEdocList item (StatusResult). */
export const SENT_FIELDS = ['serviceType', 'receiverDocId', 'toCode', 'receiveStatus', 'title', 'messageType', 'notation', 'receivedTime',
  'sentTime', 'sendStatus', 'sendStatusDesc', 'senderDocId', 'fromCode', 'receiveStatusDesc'];

/** The SDK reads each of these fields when it is present (`get(k) != null` is true for JSON null, which then throws). */
function readFields(item: any, fields: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of fields) if (item[f] !== undefined) out[f] = asString(item, f);
  return out;
}

/**
 * A /vxp FAIL as the dialect answers it: status, ErrorCode and ErrorDesc "<NAME>: …"; sendEdoc's
 * with an empty DocId; downloadEdoc's with no body, the FAIL object in XroadVnpt-result.
 */
export function expectSdkFail(r: SdkReply, http: number, errorCode: string, name: string): void {
  expect(r.status, r.bytes.toString()).toBe(http);
  const fail = { status: 'FAIL', ErrorCode: errorCode, ErrorDesc: expect.stringMatching(new RegExp(`^${name}: `)) };
  if (r.call === 'downloadEdoc') {
    expect(r.bytes.length).toBe(0);
    expect(JSON.parse(r.headers.get('xroadvnpt-result')!)).toEqual(fail);
  } else {
    expect(r.json).toEqual(r.call === 'sendEdoc' ? { ...fail, DocId: '' } : fail);
  }
}
