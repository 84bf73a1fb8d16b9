// Who is calling the national SDK dialect (/vxp): the signed `systemid` names an agency served
// by this hub, the HMAC under that agency's secret verifies over the sign-header as received,
// the signed values are the headers sent, and the timestamp passes the agency's freshness rule.
//
// Freshness (docs/national-sdk.md, "Freshness and replay"): the real SDK stamps a service object
// once, when it is built, and sends the same signed headers on every call of it, for as long as
// the integration's process lives. So by default the timestamp is only checked against
// sdk.timestampWindow (default off) and nothing is refused as a replay. Agencies whose clients
// stamp each call can be put in sdk.strict: a window of minutes and a replay guard.
//
// The secret is the agency's API key itself. The hub keeps only hashes of API keys, so an agency
// can use /vxp only when its configuration has an apiKeyFile: read once at start-up, checked
// against apiKeyHash, held in memory for this hub's agencies only, and never logged.
//
// A system account (config sdk.systems, issue 17) is a systemid of its own with a secret file: a
// whole province as one system, acting for the agencies whose codes match its patterns.
import fs from 'node:fs';
import { fail, ok, type Result } from '../errors.js';
import type { Registry } from '../agency/registry.js';
import { hashApiKey } from './auth.js';
import { sdkError, type SdkError } from './sdk-error-codes.js';
import { bindSentHeaders, formatSdkTimestamp, parseSignedHeaders, parseSdkTimestamp, SDK_ZONE_SPREAD_MS, verifyHmac } from './sdk-signature.js';

export type SdkResult<T> = { ok: true; value: T } | { ok: false; error: SdkError };

/** A system account: the agencies it sends for and those whose mailboxes (at this hub) it reads. */
export interface SdkSystem {
  sendsFor: readonly string[];
  receivesFor: readonly string[];
}

export interface SdkCaller {
  /** The signed systemid: the calling agency's code, or a system account's id. */
  agency: string;
  /** The system account, when the systemid is one (sdk.systems); null for an agency's own account. */
  system: SdkSystem | null;
  /** The signed logical headers (lowercase names): the only header values a call may use. */
  headers: ReadonlyMap<string, string>;
  /**
   * True when this request passed the strict rules (sdk.strict: a fresh timestamp, accepted once),
   * so it cannot be a replay; false for everyone else, whose signed headers anyone who captured
   * them can send again, with any body (signedParameters).
   */
  replayGuarded: boolean;
}

/** The freshness rules (config.ts `sdk`), windows in ms. */
export interface SdkFreshness {
  /** How far a timestamp may be from the hub's clock, read in Vietnam time or UTC; null: any. */
  timestampWindowMs: number | null;
  /** Agencies whose clients stamp each call: Vietnam time within this window, and no request twice. */
  strict: { agencies: ReadonlySet<string>; timestampWindowMs: number };
}

export interface SdkAuthDeps {
  hubId: string;
  /** Live: agencies registered at run time appear here (they have no secret, so they get NO_SECRET). */
  registry: Pick<Registry, 'agencies'>;
  /** Agency code → its API key's bytes, for the agencies this hub serves that have an apiKeyFile. */
  secrets: ReadonlyMap<string, Buffer>;
  /**
   * Live: whether an agency's key signs in at this hub now, as on /api/v1. A closed agency's key
   * does only during directory.closedKeyGrace (docs/directory.md); its secret stays loaded.
   */
  signsIn: (agency: string) => boolean;
  /** systemid → the system accounts this hub serves, with their secrets. */
  systems: ReadonlyMap<string, SdkSystem & { secret: Buffer }>;
  freshness: SdkFreshness;
  clock: () => Date;
  /** Where the strict agencies' accepted requests are remembered; by default in this process (one replica). */
  replay?: ReplayGuard;
}

/**
 * Remembers each accepted request (an agency's hash-header) until `untilMs`, after which the
 * window check refuses it anyway: the first use of a key is true, any other false. In this
 * process by default; shared by a hub's replicas in Redis (http/shared-state.ts).
 */
export interface ReplayGuard { firstUse(key: string, untilMs: number): Promise<boolean> }

type RawHeaders = Readonly<Record<string, string | string[] | undefined>>;

export function createSdkAuth(deps: SdkAuthDeps): (headers: RawHeaders) => Promise<SdkResult<SdkCaller>> {
  const { strict } = deps.freshness;
  const replay = deps.replay ?? inProcessReplayGuard(deps.clock, strict.timestampWindowMs);
  const refuse = (error: SdkError): SdkResult<never> => ({ ok: false, error });
  return async (raw) => {
    const signed = parseSignedHeaders(raw);
    if (!signed.ok) return refuse(sdkError(signed.problem, signed.message));
    const systemId = signed.value.headers.get('systemid');
    const timestamp = signed.value.headers.get('timestamp');
    if (systemId === undefined || timestamp === undefined) {
      return refuse(sdkError('HEADERS_INVALID', 'sign XroadVnpt-systemid (the agency code) and XroadVnpt-timestamp'));
    }
    const system = deps.systems.get(systemId);
    if (system === undefined && deps.registry.agencies.get(systemId)?.hubId !== deps.hubId) {
      return refuse({ code: 'UNAUTHENTICATED', message: `systemid ${systemId} is neither an agency served by hub ${deps.hubId} nor a system account of it` });
    }
    // The /vxp secret is the agency's API key: closed longer ago than its grace, it is unknown here too.
    if (system === undefined && deps.secrets.has(systemId) && !deps.signsIn(systemId)) {
      return refuse({ code: 'UNAUTHENTICATED', message: `agency ${systemId} is closed into a successor and its key's grace period (directory.closedKeyGrace) has ended: it no longer signs in at hub ${deps.hubId}` });
    }
    const secret = system?.secret ?? deps.secrets.get(systemId);
    if (secret === undefined) {
      return refuse(sdkError('NO_SECRET', `agency ${systemId} has no apiKeyFile at hub ${deps.hubId}, so it cannot sign for /vxp; it can use /api/v1 with its API key`));
    }
    const hmac = verifyHmac(secret, signed.value);
    if (!hmac.ok) return refuse(sdkError(hmac.problem, hmac.message));
    const bound = bindSentHeaders(raw, signed.value);
    if (!bound.ok) return refuse(sdkError(bound.problem, bound.message));
    const at = parseSdkTimestamp(timestamp);
    if (at === null) return refuse(sdkError('TIMESTAMP_REFUSED', `XroadVnpt-timestamp "${timestamp}" is not ddMMyyyy'T'HHmmss+SSSS`));
    const now = deps.clock();
    if (strict.agencies.has(systemId)) {
      const skewMs = at.getTime() - now.getTime();
      if (Math.abs(skewMs) > strict.timestampWindowMs) {
        return refuse(sdkError('TIMESTAMP_REFUSED', `XroadVnpt-timestamp ${timestamp} is ${Math.round(skewMs / 1000)} s from the hub's clock (${formatSdkTimestamp(now)}, Asia/Ho_Chi_Minh); agency ${systemId} is in sdk.strict: at most ±${strict.timestampWindowMs / 1000} s`));
      }
      let first: boolean;
      try {
        first = await replay.firstUse(`${systemId}:${signed.value.hashHeader}`, at.getTime() + strict.timestampWindowMs);
      } catch (err) {
        // The guard cannot tell: refused (retry later), never let through.
        return refuse({ code: 'UNAVAILABLE', message: `the replay guard's store is unreachable (${(err as Error).message}): nothing was accepted, retry later` });
      }
      if (!first) {
        return refuse(sdkError('REPLAYED', `this signed request was already received; agency ${systemId} is in sdk.strict: sign each request with a fresh timestamp`));
      }
    } else if (deps.freshness.timestampWindowMs !== null) {
      // The stamp names an instant between its reading as Vietnam time and as UTC (7 h later).
      const windowMs = deps.freshness.timestampWindowMs;
      const tooOld = now.getTime() - (at.getTime() + SDK_ZONE_SPREAD_MS) > windowMs;
      if (tooOld || at.getTime() - now.getTime() > windowMs) {
        return refuse(sdkError('TIMESTAMP_REFUSED', `XroadVnpt-timestamp ${timestamp} is more than sdk.timestampWindow (${windowMs / 1000} s) from the hub's clock (${formatSdkTimestamp(now)}, Asia/Ho_Chi_Minh); the SDK stamps a service object when it is built, so build a new one`));
      }
    }
    return {
      ok: true,
      value: {
        agency: systemId, headers: signed.value.headers, replayGuarded: strict.agencies.has(systemId),
        system: system === undefined ? null : { sendsFor: system.sendsFor, receivesFor: system.receivesFor },
      },
    };
  };
}

/**
 * A state-changing call's parameters, from a caller without a replay guard: each must be signed.
 * The HMAC covers the headers, not the body, and such a caller's signed headers stay valid for
 * as long as its key: a captured header set (the SDK's getEdoc of a document: docId signed, no
 * status) sent again to updateStatus with {"status": "fail"} in the body would otherwise
 * acknowledge that document for its recipient, and the first acknowledgement stands. So
 * `required` must be signed headers, and an `optional` one may not come from the body alone.
 * A strict caller's request is fresh and accepted once, so its body parameters stay accepted.
 * Returns the refusal (HEADERS_INVALID, naming the parameter), or null.
 */
export function unsignedParameter(
  caller: SdkCaller, call: string, required: readonly string[], optional: readonly string[], body: Readonly<Record<string, unknown>>,
): SdkError | null {
  if (caller.replayGuarded) return null;
  const signed = (name: string) => caller.headers.has(name.toLowerCase());
  const missing = required.find((name) => !signed(name)) ?? optional.find((name) => !signed(name) && body[name] !== undefined);
  if (missing === undefined) return null;
  const where = body[missing] === undefined ? 'it was not sent' : 'it came only in the body, which the HMAC does not cover';
  return sdkError('HEADERS_INVALID', `${call} changes a document's state, and ${caller.system === null ? 'agency' : 'system'} ${caller.agency} is not in sdk.strict (no replay guard): `
    + `sign XroadVnpt-${missing} (${where}); ${required.join(' and ')}${optional.length === 0 ? '' : ` (and ${optional.join(', ')} when sent)`} must be signed headers, or a captured request could be replayed with another body. Nothing was changed`);
}

/** The replay guard of one process: replicas of one hub do not share it (docs/replicas.md). */
export function inProcessReplayGuard(clock: () => Date, sweepEveryMs: number): ReplayGuard {
  const seen = new Map<string, number>(); // key → until when it can still pass the window check
  let nextSweepMs = 0;
  return {
    async firstUse(key, untilMs) {
      const nowMs = clock().getTime();
      if (nowMs >= nextSweepMs) {
        for (const [k, until] of seen) if (until < nowMs) seen.delete(k);
        nextSweepMs = nowMs + sweepEveryMs;
      }
      if ((seen.get(key) ?? -Infinity) >= nowMs) return false;
      seen.set(key, untilMs);
      return true;
    },
  };
}

/**
 * The API keys of the agencies a hub serves that have an apiKeyFile. A file that cannot be read,
 * is empty, or holds a key whose SHA-256 is not the agency's apiKeyHash stops the hub (USAGE).
 */
export function loadAgencySecrets(
  agencies: readonly { code: string; apiKeyHash: string; apiKeyFile?: string | undefined }[], serves: (code: string) => boolean,
): Result<Map<string, Buffer>> {
  const secrets = new Map<string, Buffer>();
  for (const a of agencies) {
    if (a.apiKeyFile === undefined || !serves(a.code)) continue;
    const key = readSecret(a.apiKeyFile, `the apiKeyFile of agency ${a.code}`);
    if (!key.ok) return key;
    if (hashApiKey(key.value) !== a.apiKeyHash) return fail('USAGE', `the apiKeyFile of agency ${a.code} (${a.apiKeyFile}) does not hold the key whose hash is its apiKeyHash`);
    secrets.set(a.code, Buffer.from(key.value, 'utf8'));
  }
  return ok(secrets);
}

/** The system accounts of sdk.systems that hub `hubId` serves, with their secrets (USAGE when a secret file is unreadable or empty). */
export function loadSystemSecrets(
  systems: readonly (SdkSystem & { systemId: string; secretFile: string; hubId?: string | undefined })[], hubId: string,
): Result<Map<string, SdkSystem & { secret: Buffer }>> {
  const loaded = new Map<string, SdkSystem & { secret: Buffer }>();
  for (const s of systems) {
    if (s.hubId !== hubId) continue;
    const secret = readSecret(s.secretFile, `the secretFile of SDK system ${s.systemId}`);
    if (!secret.ok) return secret;
    loaded.set(s.systemId, { sendsFor: s.sendsFor, receivesFor: s.receivesFor, secret: Buffer.from(secret.value, 'utf8') });
  }
  return ok(loaded);
}

/** A secret alone in a file, a trailing newline ignored; never echoed. */
function readSecret(file: string, what: string): Result<string> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8').trim();
  } catch (err) {
    return fail('USAGE', `cannot read ${what} (${file}): ${(err as Error).message}`);
  }
  return text === '' ? fail('USAGE', `${what} (${file}) is empty`) : ok(text);
}
