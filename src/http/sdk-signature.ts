// The national SDK's request signing, pure: the XroadVnpt-* headers, the HMAC over the
// sign-header string and the SDK's timestamp (CONTRACT.md, "National SDK dialect"). No I/O,
// no clock: callers pass the time in.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

export const SDK_HEADER_PREFIX = 'XroadVnpt-';
export const SIGN_HEADER_KEY = 'XroadVnpt-sign-header-key';
export const SIGN_HEADER = 'XroadVnpt-sign-header';
export const HASH_HEADER = 'XroadVnpt-hash-header';
const META = [SIGN_HEADER_KEY, SIGN_HEADER, HASH_HEADER].map((h) => h.toLowerCase());

/** Asia/Ho_Chi_Minh has been UTC+7, without daylight saving, since 1975. */
const VIETNAM_OFFSET_MS = 7 * 3_600_000;
const MAX_SIGN_HEADER_CHARS = 8192;

/** Why a request's signing headers were refused (each has its own ErrorCode, sdk-error-codes.ts). */
export type SigningProblem = 'HEADERS_INVALID' | 'HMAC_MISMATCH';

export type Signing<T> = { ok: true; value: T } | { ok: false; problem: SigningProblem; message: string };

/** A request's signed logical headers (names lowercased, without the prefix) and what was signed. */
export interface SignedRequest {
  /** Logical header name (lowercase: `systemid`, `timestamp`, `docid`, …) → value. */
  headers: ReadonlyMap<string, string>;
  /** The sign-header as the client sent it: the HMAC input. */
  signHeader: Buffer;
  /** The hash-header, lowercased. */
  hashHeader: string;
}

type RawHeaders = Readonly<Record<string, string | string[] | undefined>>;

const SignHeaderJson = z.record(z.string(), z.string());
const NAME = /^XroadVnpt-([A-Za-z0-9][A-Za-z0-9_-]*)$/i;

const problem = (message: string): Signing<never> => ({ ok: false, problem: 'HEADERS_INVALID', message });

/**
 * Reads the XroadVnpt-* headers of a request (names as Node gives them, lowercased) and binds
 * the signed JSON to the headers actually sent: every name listed in sign-header-key is a key of
 * the sign-header object whose value equals that header, and no XroadVnpt-* header goes
 * unsigned. The HMAC is checked separately (verifyHmac), once the caller knows the secret.
 */
export function parseSignedHeaders(raw: RawHeaders): Signing<SignedRequest> {
  const header = (name: string): string | undefined => {
    const v = raw[name.toLowerCase()];
    // Node reads header bytes as latin1; the client sent UTF-8, which this restores.
    return typeof v === 'string' ? Buffer.from(v, 'latin1').toString('utf8') : undefined;
  };
  const keyList = header(SIGN_HEADER_KEY);
  const signHeaderRaw = raw[SIGN_HEADER.toLowerCase()];
  const hash = header(HASH_HEADER);
  if (keyList === undefined || typeof signHeaderRaw !== 'string' || hash === undefined) {
    return problem(`send ${SIGN_HEADER_KEY}, ${SIGN_HEADER} and ${HASH_HEADER} (once each)`);
  }
  if (!/^[0-9a-fA-F]{64}$/.test(hash)) return problem(`${HASH_HEADER} is not 64 hex digits (HMAC-SHA256)`);
  if (signHeaderRaw.length > MAX_SIGN_HEADER_CHARS) return problem(`${SIGN_HEADER} is over ${MAX_SIGN_HEADER_CHARS} characters`);

  const names = keyList.split(';').map((n) => n.trim());
  const logical = new Map<string, string>();
  for (const name of names) {
    const m = NAME.exec(name);
    if (m === null) return problem(`${SIGN_HEADER_KEY}: "${name}" is not an ${SDK_HEADER_PREFIX}<name> header`);
    if (META.includes(name.toLowerCase())) return problem(`${SIGN_HEADER_KEY}: ${name} cannot be signed`);
    if (logical.has(m[1]!.toLowerCase())) return problem(`${SIGN_HEADER_KEY}: ${name} is listed twice`);
    logical.set(m[1]!.toLowerCase(), name);
  }

  const signHeader = Buffer.from(signHeaderRaw, 'latin1');
  const json = parseJson(signHeader.toString('utf8'));
  const signed = SignHeaderJson.safeParse(json);
  if (!signed.success) return problem(`${SIGN_HEADER} is not a JSON object of string values`);
  const keys = Object.keys(signed.data);
  if (keys.length !== names.length || !names.every((n) => Object.hasOwn(signed.data, n))) {
    return problem(`${SIGN_HEADER} must have exactly the keys of ${SIGN_HEADER_KEY} (${names.join(';')}), has ${keys.join(';')}`);
  }
  const values = new Map<string, string>();
  for (const [name, original] of logical) {
    const sent = header(original);
    if (sent === undefined) return problem(`${original} is signed but not sent`);
    if (sent !== signed.data[original]) return problem(`${original} differs from its value in ${SIGN_HEADER}`);
    values.set(name, sent);
  }
  const unsigned = Object.keys(raw).find((n) => n.startsWith(SDK_HEADER_PREFIX.toLowerCase()) && !META.includes(n)
    && !logical.has(n.slice(SDK_HEADER_PREFIX.length)));
  if (unsigned !== undefined) return problem(`${unsigned} is sent but not listed in ${SIGN_HEADER_KEY}`);
  return { ok: true, value: { headers: values, signHeader, hashHeader: hash.toLowerCase() } };
}

/** Lowercase hex HMAC-SHA256(secret, data). */
export function hmacHex(secret: Uint8Array, data: Uint8Array): string {
  return createHmac('sha256', secret).update(data).digest('hex');
}

/** The hash-header against the HMAC of the sign-header, in constant time. */
export function verifyHmac(secret: Uint8Array, request: Pick<SignedRequest, 'signHeader' | 'hashHeader'>): Signing<void> {
  const expected = Buffer.from(hmacHex(secret, request.signHeader), 'hex');
  const given = Buffer.from(request.hashHeader, 'hex'); // 32 bytes: parseSignedHeaders checked 64 hex digits
  return given.length === expected.length && timingSafeEqual(given, expected)
    ? { ok: true, value: undefined }
    : { ok: false, problem: 'HMAC_MISMATCH', message: `${HASH_HEADER} does not match the HMAC of ${SIGN_HEADER} under this agency's key` };
}

/** The SDK's timestamp: Java `ddMMyyyy'T'HHmmss+SSSS`, Asia/Ho_Chi_Minh local time, SSSS = milliseconds. */
export function formatSdkTimestamp(at: Date): string {
  const local = new Date(at.getTime() + VIETNAM_OFFSET_MS);
  const p = (n: number, width = 2) => String(n).padStart(width, '0');
  return `${p(local.getUTCDate())}${p(local.getUTCMonth() + 1)}${p(local.getUTCFullYear(), 4)}T`
    + `${p(local.getUTCHours())}${p(local.getUTCMinutes())}${p(local.getUTCSeconds())}+${p(local.getUTCMilliseconds(), 4)}`;
}

/** The instant of an SDK timestamp, or null when it is not one (wrong shape or no such date). */
export function parseSdkTimestamp(text: string): Date | null {
  const m = /^(\d{2})(\d{2})(\d{4})T(\d{2})(\d{2})(\d{2})\+(\d{4})$/.exec(text);
  if (m === null) return null;
  const [day, month, year, hour, minute, second, ms] = m.slice(1).map(Number) as [number, number, number, number, number, number, number];
  const at = new Date(Date.UTC(year, month - 1, day, hour, minute, second, ms) - VIETNAM_OFFSET_MS);
  // Date.UTC rolls 31 February over into March: the round trip refuses what is no real date.
  return formatSdkTimestamp(at) === text ? at : null;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    if (err instanceof SyntaxError) return undefined; // no schema accepts undefined: reported as not JSON
    throw err;
  }
}
