// The client side of the national SDK's REST dialect (SDKVXP 2.0.1), for the link up to the
// national axis: every call is what the real SDK sends (docs/national-sdk.md, "What the SDK
// sends"), since that is what the axis accepts in production. Answers are read as tolerantly as
// the SDK reads them: `status`, `ErrorCode`, `ErrorDesc` and the call's own fields as strings,
// anything else ignored. Each outcome is a value: ok, refused by the axis (FAIL), our credentials
// refused, or the axis unavailable (not answering, 5xx, unreadable), which the caller retries.
import { z } from 'zod';
import { formatSdkTimestamp, sdkHashFile, sdkSignedHeaders } from '../http/sdk-signature.js';

/** Sent beside the signed headers by the SDK, unsigned. */
const SDK_AGENT = { 'User-Agent': 'JAVASDKAgent/1.0.0 XRoad/VPCP', 'XroadVnpt-version': '3.0.201608' };
const JSON_TYPE = 'application/json';
const RAW_TYPE = 'application/octet-stream';

export type VxpOutcome<T> =
  | { kind: 'ok'; value: T }
  /** The axis answered FAIL: `errorCode`/`errorDesc` are its own. */
  | { kind: 'refused'; httpStatus: number; errorCode: string; errorDesc: string }
  /** The axis does not take our systemId or secret (HTTP 401/403). */
  | { kind: 'unauthenticated'; httpStatus: number; errorCode: string; errorDesc: string }
  /** No answer, a 5xx, or an answer that is not the dialect's JSON: try again later. */
  | { kind: 'unavailable'; reason: string };

/** A waiting item of getReceivedEdocList, as the SDK reads it (Knobstick): only docId is needed. */
export interface ReceivedItem { docId: string; messageType: string; from: string }

export interface NationalDirectoryEntry { id: string; pid: string; code: string; name: string; mail: string; oldCode: string }

export interface VxpClient {
  sendEdoc(p: { bytes: Buffer; from: string; to: readonly string[]; messageType: 'edoc' | 'status' }): Promise<VxpOutcome<{ docId: string }>>;
  getReceivedEdocList(messageType: 'edoc' | 'status'): Promise<VxpOutcome<ReceivedItem[]>>;
  getEdoc(docId: string): Promise<VxpOutcome<Buffer>>;
  /** `reason` (why a package was refused) is signed after `status`, as the SDK puts any further parameter. */
  updateStatus(docId: string, status: 'done' | 'fail', reason?: string): Promise<VxpOutcome<void>>;
  getAgenciesList(): Promise<VxpOutcome<NationalDirectoryEntry[]>>;
}

/** A string as gson's getAsString reads a JSON primitive: numbers and booleans as text; absent or null as ''. */
/** Reads a call's own fields from an OK answer; undefined when they are missing. */
type Reader<T> = (answer: Record<string, unknown>) => { value: T } | undefined;

const Text = z.union([z.string(), z.number(), z.boolean(), z.null()]).optional().transform((v) => (v === undefined || v === null ? '' : String(v)));
const Answer = z.object({ status: Text, ErrorCode: Text, ErrorDesc: Text }).loose();
const Item = z.object({ docId: Text, messageType: Text, from: Text }).loose();
const DirectoryItem = z.object({ id: Text, pid: Text, code: Text, name: Text, mail: Text, oldCode: Text }).loose();

export function vxpClient(opts: {
  endpoint: string; systemId: string; secret: Buffer; clock: () => Date; timeoutMs: number;
  /** Told of every call's outcome (metrics, link health). */
  observe?: (call: string, outcome: VxpOutcome<unknown>['kind']) => void;
}): VxpClient {
  const base = opts.endpoint.replace(/\/+$/, '');

  /**
   * One call: the SDK's header map for it (systemid first, the call's parameters, timestamp,
   * Content-Type, then any parameter the SDK puts after them), signed.
   */
  const call = async <T>(
    name: string, params: readonly (readonly [string, string])[], body: { type: string; bytes: Buffer } | null,
    read: Reader<T>, after: readonly (readonly [string, string])[] = [],
  ): Promise<VxpOutcome<T>> => {
    const contentType = body?.type ?? JSON_TYPE;
    const entries = [['systemid', opts.systemId] as const, ...params, ['timestamp', formatSdkTimestamp(opts.clock())] as const, ['Content-Type', contentType] as const, ...after];
    const headers = { ...sdkSignedHeaders(opts.secret, entries), ...SDK_AGENT, 'Content-Type': contentType };
    const outcome = await send(`${base}/${name}`, headers, body?.bytes ?? Buffer.alloc(0), opts.timeoutMs, read);
    opts.observe?.(name, outcome.kind);
    return outcome;
  };

  const empty = null;
  const braces = { type: JSON_TYPE, bytes: Buffer.from('{}') };
  return {
    sendEdoc: ({ bytes, from, to, messageType }) => call('sendEdoc', [
      ['servicetype', 'eDoc'], ['messagetype', messageType], ['hash-file', sdkHashFile(bytes)], ['from', from], ['to', JSON.stringify(to)],
    // The SDK's "multipart" writes the file's bytes and a CRLF, nothing else.
    ], { type: RAW_TYPE, bytes: Buffer.concat([bytes, Buffer.from('\r\n')]) }, (a) => {
      const docId = Text.parse(a.DocId);
      return docId === '' ? undefined : { value: { docId } };
    }),
    getReceivedEdocList: (messageType) => call('getReceivedEdocList', [['servicetype', 'eDoc'], ['messagetype', messageType]], empty, (a) => {
      const data = z.array(Item).safeParse(a.data ?? []);
      return data.success ? { value: data.data.filter((i) => i.docId !== '') } : undefined;
    }),
    getEdoc: (docId) => call('getEdoc', [['docId', docId]], braces, (a) => {
      const data = Text.parse(a.data);
      return data === '' ? undefined : { value: Buffer.from(data, 'base64') };
    }),
    updateStatus: (docId, status, reason) => call('updateStatus', [['docId', docId]], braces, () => ({ value: undefined }), [
      ['status', status], ...(reason === undefined ? [] : [['reason', reason.replace(/[\r\n\t]+/g, ' ').slice(0, 256)] as const]),
    ]),
    getAgenciesList: () => call('getAgenciesList', [], empty, (a) => {
      const data = z.array(DirectoryItem).safeParse(a.data ?? []);
      return data.success ? { value: data.data.filter((e) => e.code !== '') } : undefined;
    }),
  };
}

async function send<T>(
  url: string, headers: Record<string, string>, body: Buffer, timeoutMs: number, read: Reader<T>,
): Promise<VxpOutcome<T>> {
  let res: Response;
  let text: string;
  try {
    res = await fetch(url, { method: 'POST', headers, body: body.length === 0 ? null : new Uint8Array(body), signal: AbortSignal.timeout(timeoutMs) });
    text = await res.text();
  } catch (err) {
    return { kind: 'unavailable', reason: `no answer from ${url}: ${(err as Error).message}` };
  }
  if (res.status >= 500) return { kind: 'unavailable', reason: `${url} answered HTTP ${res.status}` };
  const answer = Answer.safeParse(parseJson(text));
  if (!answer.success) return { kind: 'unavailable', reason: `${url} answered HTTP ${res.status} with something that is not the dialect's JSON` };
  const { status, ErrorCode: errorCode, ErrorDesc: errorDesc } = answer.data;
  if (res.status === 401 || res.status === 403) return { kind: 'unauthenticated', httpStatus: res.status, errorCode, errorDesc };
  // As the SDK: FAIL, or an ErrorCode other than 0, is a refusal whatever the HTTP status.
  if (status.toUpperCase() === 'FAIL' || (errorCode !== '' && errorCode !== '0') || res.status >= 400) {
    return { kind: 'refused', httpStatus: res.status, errorCode, errorDesc };
  }
  const fields = read(answer.data);
  return fields === undefined
    ? { kind: 'unavailable', reason: `${url} answered OK without the fields the call returns` }
    : { kind: 'ok', value: fields.value };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    if (err instanceof SyntaxError) return undefined;
    throw err;
  }
}
