// The national SDK dialect's ErrorCode for every failure, in one table (docs/national-sdk.md
// lists it; a test checks that the page and this table agree). Every HubError code has one, so
// a code added to src/errors.ts does not compile until it is given one here. The dialect's own
// refusals (its signing, its timestamp, calls the hub does not serve) have codes of their own
// and answer with the HTTP status of the hub code they belong to. Codes are never renamed or reused.
import type { ErrorCode, HubError } from '../errors.js';
import type { SigningProblem } from './sdk-signature.js';

export type SdkReason = SigningProblem | 'TIMESTAMP_REFUSED' | 'REPLAYED' | 'NO_SECRET' | 'USE_ADMIN_API' | 'HASH_FILE_MISMATCH' | 'OUTSIDE_SYSTEM';

/** A refusal in the dialect: a hub error, sometimes with the dialect's finer reason. */
export interface SdkError extends HubError { reason?: SdkReason }

/** Each dialect reason and the hub code whose HTTP status it answers with. */
export const SDK_REASON_CODES: Record<SdkReason, ErrorCode> = {
  HEADERS_INVALID: 'UNAUTHENTICATED',
  HMAC_MISMATCH: 'UNAUTHENTICATED',
  TIMESTAMP_REFUSED: 'UNAUTHENTICATED',
  REPLAYED: 'UNAUTHENTICATED',
  NO_SECRET: 'UNAUTHENTICATED',
  USE_ADMIN_API: 'FORBIDDEN',
  HASH_FILE_MISMATCH: 'SCHEMA_INVALID',
  OUTSIDE_SYSTEM: 'SENDER_MISMATCH',
};

export const SDK_ERROR_CODES: Record<ErrorCode | SdkReason, string> = {
  UNAUTHENTICATED: '10',
  HEADERS_INVALID: '11',
  HMAC_MISMATCH: '12',
  TIMESTAMP_REFUSED: '13',
  REPLAYED: '14',
  NO_SECRET: '15',
  FORBIDDEN: '20',
  USE_ADMIN_API: '21',
  SENDER_MISMATCH: '22',
  OUTSIDE_SYSTEM: '23',
  MALFORMED_XML: '30',
  POLICY_VIOLATION: '31',
  SCHEMA_INVALID: '32',
  HASH_FILE_MISMATCH: '33',
  SIGNATURE_MISSING: '40',
  SIGNATURE_INVALID: '41',
  CERT_UNTRUSTED: '42',
  CERT_EXPIRED: '43',
  CERT_NOT_YET_VALID: '44',
  CERT_REVOKED: '45',
  CERT_NOT_BOUND: '46',
  UNKNOWN_RECIPIENT: '50',
  NOT_FOUND: '51',
  ACK_CONFLICT: '53',
  GONE: '54',
  PAYLOAD_TOO_LARGE: '60',
  UNSUPPORTED_MEDIA_TYPE: '61',
  RATE_LIMITED: '62',
  REQUEST_TIMEOUT: '63',
  MALFORMED_HTTP: '64',
  UNAVAILABLE: '70',
  USAGE: '71',
  UPSTREAM_REFUSED: '72',
  UPSTREAM_UNAUTHENTICATED: '73',
  UPSTREAM_UNAVAILABLE: '74',
  // The agency directory (issue 19).
  AGENCY_CLOSED: '24',
  DIRECTORY_CONFLICT: '55',
  // Trust changes from the broker (issue 14 item 5).
  STALE_CHANGE: '56',
};

/** A refusal for one of the dialect's own reasons. */
export function sdkError(reason: SdkReason, message: string): SdkError {
  return { code: SDK_REASON_CODES[reason], reason, message };
}
