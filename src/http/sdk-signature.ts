// The national SDK's request signing, pure: the XroadVnpt-* headers, the HMAC over the
// sign-header string and the SDK's timestamp (CONTRACT.md, "National SDK dialect"). No I/O,
// no clock: callers pass the time in.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

export const SDK_HEADER_PREFIX = 'XroadVnpt-';
export const SIGN_HEADER_KEY = 'XroadVnpt-sign-header-key';
export const SIGN_HEADER = 'XroadVnpt-sign-header';
export const HASH_HEADER = 'XroadVnpt-hash-header';
const META = [SIGN_HEADER_KEY, SIGN_HEADER, HASH_HEADER].map((h) => h.toLowerCase());

/** Asia/Ho_Chi_Minh has been UTC+7, without daylight saving, since 1975. */
const VIETNAM_OFFSET_MS = 7 * 3_600_000;
/**
 * The SDK stamps in its JVM's default zone, which is Asia/Ho_Chi_Minh or UTC on the servers seen:
 * a stamp read as Vietnam time may name an instant up to this much earlier than the one meant.
 */
export const SDK_ZONE_SPREAD_MS = VIETNAM_OFFSET_MS;
const MAX_SIGN_HEADER_CHARS = 8192;

/** Why a request's signing headers were refused (each has its own ErrorCode, sdk-error-codes.ts). */
export type SigningProblem = 'HEADERS_INVALID' | 'HMAC_MISMATCH';

export type Signing<T> = { ok: true; value: T } | { ok: false; problem: SigningProblem; message: string };

/** A request's signing headers, read but not yet verified (verifyHmac, then bindSentHeaders). */
export interface SignedRequest {
  /** Logical header name (lowercase: `systemid`, `timestamp`, `docid`, …) → its value in the sign-header JSON. */
  headers: ReadonlyMap<string, string>;
  /** The sign-header as the client sent it: the HMAC input. */
  signHeader: Buffer;
  /** The hash-header, lowercased. */
  hashHeader: string;
}

type RawHeaders = Readonly<Record<string, string | string[] | undefined>>;

const SignHeaderJson = z.record(z.string(), z.string());
const PREFIXED = /^XroadVnpt-([A-Za-z0-9][A-Za-z0-9_-]*)$/i;
const BARE = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;
/** Sent by the SDK beside the signed headers, never signed (it is not in its header map). */
const UNSIGNED_ALLOWED = ['xroadvnpt-version'];

const problem = (message: string): Signing<never> => ({ ok: false, problem: 'HEADERS_INVALID', message });

/** A header's value as the client sent it: Node reads header bytes as latin1, the client sent UTF-8. */
const sentHeader = (raw: RawHeaders, name: string): string | undefined => {
  const v = raw[name.toLowerCase()];
  return typeof v === 'string' ? Buffer.from(v, 'latin1').toString('utf8') : undefined;
};

/**
 * Reads the signing headers of a request (names as Node gives them, lowercased): the names in
 * sign-header-key, bare (`systemid`, as the real SDK lists them) or prefixed (`XroadVnpt-systemid`),
 * and the sign-header, a JSON object whose keys are exactly the `XroadVnpt-` forms of those names
 * (the SDK's gson escapes `<>&='` as \u003c…, which JSON.parse reads back). The HMAC is checked
 * over the sign-header as received (verifyHmac), and only then are its values bound to the
 * headers actually sent (bindSentHeaders).
 */
export function parseSignedHeaders(raw: RawHeaders): Signing<SignedRequest> {
  const keyList = sentHeader(raw, SIGN_HEADER_KEY);
  const signHeaderRaw = raw[SIGN_HEADER.toLowerCase()];
  const hash = sentHeader(raw, HASH_HEADER);
  if (keyList === undefined || typeof signHeaderRaw !== 'string' || hash === undefined) {
    return problem(`send ${SIGN_HEADER_KEY}, ${SIGN_HEADER} and ${HASH_HEADER} (once each)`);
  }
  if (!/^[0-9a-fA-F]{64}$/.test(hash)) return problem(`${HASH_HEADER} is not 64 hex digits (HMAC-SHA256)`);
  if (signHeaderRaw.length > MAX_SIGN_HEADER_CHARS) return problem(`${SIGN_HEADER} is over ${MAX_SIGN_HEADER_CHARS} characters`);

  const names = keyList.split(';').map((n) => n.trim());
  const jsonKeys = new Map<string, string>(); // logical name → its key in the sign-header JSON
  for (const name of names) {
    const prefixed = PREFIXED.exec(name);
    if (prefixed === null && !BARE.test(name)) return problem(`${SIGN_HEADER_KEY}: "${name}" is not a header name`);
    const logical = (prefixed === null ? name : prefixed[1]!).toLowerCase();
    if (META.includes(`${SDK_HEADER_PREFIX.toLowerCase()}${logical}`)) return problem(`${SIGN_HEADER_KEY}: ${name} cannot be signed`);
    if (jsonKeys.has(logical)) return problem(`${SIGN_HEADER_KEY}: ${name} is listed twice`);
    jsonKeys.set(logical, prefixed === null ? `${SDK_HEADER_PREFIX}${name}` : name);
  }

  const signHeader = Buffer.from(signHeaderRaw, 'latin1');
  const signed = SignHeaderJson.safeParse(parseJson(signHeader.toString('utf8')));
  if (!signed.success) return problem(`${SIGN_HEADER} is not a JSON object of string values`);
  const keys = Object.keys(signed.data);
  if (keys.length !== jsonKeys.size || ![...jsonKeys.values()].every((k) => Object.hasOwn(signed.data, k))) {
    return problem(`${SIGN_HEADER} must have exactly the keys ${[...jsonKeys.values()].join(';')} (from ${SIGN_HEADER_KEY}), has ${keys.join(';')}`);
  }
  const values = new Map([...jsonKeys].map(([logical, key]) => [logical, signed.data[key]!]));
  return { ok: true, value: { headers: values, signHeader, hashHeader: hash.toLowerCase() } };
}

/**
 * Binds the signed values to the headers actually sent: each signed header was sent as
 * `XroadVnpt-<name>` with the signed value, and no other `XroadVnpt-*` header was sent except
 * `XroadVnpt-version`, which the SDK adds unsigned and the hub ignores.
 */
export function bindSentHeaders(raw: RawHeaders, request: Pick<SignedRequest, 'headers'>): Signing<void> {
  for (const [logical, value] of request.headers) {
    const name = `${SDK_HEADER_PREFIX}${logical}`;
    const sent = sentHeader(raw, name);
    if (sent === undefined) return problem(`${name} is signed but not sent`);
    if (sent !== value) return problem(`${name} differs from its value in ${SIGN_HEADER}`);
  }
  const prefix = SDK_HEADER_PREFIX.toLowerCase();
  const unsigned = Object.keys(raw).find((n) => n.startsWith(prefix) && !META.includes(n) && !UNSIGNED_ALLOWED.includes(n)
    && !request.headers.has(n.slice(prefix.length)));
  if (unsigned !== undefined) return problem(`${unsigned} is sent but not listed in ${SIGN_HEADER_KEY}`);
  return { ok: true, value: undefined };
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

/**
 * Whether hash-file names these bytes' SHA-256, in either spelling: lowercase hex, or the SDK's
 * (sdkHashFile).
 */
export function hashFileMatches(hashFile: string, bytes: Uint8Array): boolean {
  const given = hashFile.toLowerCase();
  return given === createHash('sha256').update(bytes).digest('hex') || given === sdkHashFile(bytes);
}

/** The SDK's hash-file: SHA-256 written with Java's Integer.toHexString per byte (the leading zero of each byte below 0x10 dropped). */
export function sdkHashFile(bytes: Uint8Array): string {
  return [...createHash('sha256').update(bytes).digest()].map((b) => b.toString(16)).join('');
}

/** Compact JSON as the SDK's gson writes it: HTML-safe, `<>&='` as \u003c, \u003e, \u0026, \u003d, \u0027. */
export function gsonJson(value: unknown): string {
  // Those characters occur only inside strings in JSON text, so escaping them anywhere is safe.
  return JSON.stringify(value).replace(/[<>&=']/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * The signing headers of a request as the real SDK makes them from its header map (entries in
 * map order, bare names): `XroadVnpt-<name>` for each entry, `sign-header-key` listing the bare
 * names, the gson sign-header and the hex HMAC of it under `secret`. Values are UTF-8 written
 * as latin1 characters, which is how an HTTP header carries the bytes the SDK sends.
 */
export function sdkSignedHeaders(secret: Uint8Array, entries: readonly (readonly [string, string])[]): Record<string, string> {
  const signHeader = gsonJson(Object.fromEntries(entries.map(([name, value]) => [`${SDK_HEADER_PREFIX}${name}`, value])));
  const wire = (text: string) => Buffer.from(text, 'utf8').toString('latin1');
  return {
    ...Object.fromEntries(entries.map(([name, value]) => [`${SDK_HEADER_PREFIX}${name}`, wire(value)])),
    [SIGN_HEADER_KEY]: entries.map(([name]) => name).join(';'),
    [SIGN_HEADER]: wire(signHeader),
    [HASH_HEADER]: hmacHex(secret, Buffer.from(signHeader, 'utf8')),
  };
}

/** JSON with every non-ASCII character escaped: the SDK reads sendEdoc's answer as US-ASCII. */
export function sdkJsonText(value: unknown): string {
  return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
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
