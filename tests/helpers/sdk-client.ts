// A national-SDK client written from the dialect's description alone (the issue and CONTRACT.md),
// not from the hub's code: its own HMAC signing, its own timestamp (through Intl's time-zone
// data rather than a fixed offset), its own multipart body (FormData), and a polling loop.
import { createHmac } from 'node:crypto';
import { eventually } from './network.js';

export interface SdkReply { status: number; json: any; bytes: Buffer }

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
    return { status: res.status, json, bytes };
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
