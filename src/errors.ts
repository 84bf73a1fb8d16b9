// The one table of error codes (CONTRACT.md). Codes are stable: never renamed or reused.
// http/ alone maps a HubError to a reply and cli/ alone maps one to an exit status.

export const ERRORS = {
  UNAUTHENTICATED: { http: 401, exit: 1, meaning: 'missing or wrong credentials' },
  FORBIDDEN: { http: 403, exit: 1, meaning: 'the caller may not do this (admin route, another agency\'s document)' },
  SENDER_MISMATCH: { http: 403, exit: 1, meaning: 'From/OrganId is not the authenticated agency' },
  MALFORMED_XML: { http: 400, exit: 1, meaning: 'not well-formed, empty, or not UTF-8' },
  POLICY_VIOLATION: { http: 400, exit: 1, meaning: 'DOCTYPE/entities, processing instructions, a structure limit passed (policy.max*), forbidden signature shape or algorithm' },
  SCHEMA_INVALID: { http: 400, exit: 1, meaning: 'XSD or edXML rule failed (details list line and element)' },
  SIGNATURE_MISSING: { http: 422, exit: 1, meaning: 'unsigned package (or placeholder signature) where policy requires a signature' },
  SIGNATURE_INVALID: { http: 422, exit: 1, meaning: 'digest or signature value does not verify' },
  CERT_UNTRUSTED: { http: 422, exit: 1, meaning: 'signer certificate does not chain to a trusted CA, or may not sign' },
  CERT_EXPIRED: { http: 422, exit: 1, meaning: 'signer certificate (or a CA above it) has expired' },
  CERT_NOT_YET_VALID: { http: 422, exit: 1, meaning: 'signer certificate (or a CA above it) is not valid yet' },
  CERT_REVOKED: { http: 422, exit: 1, meaning: 'signer certificate (or a CA above it) is on a CRL' },
  CERT_NOT_BOUND: { http: 422, exit: 1, meaning: 'signer certificate is not registered for the sending agency' },
  UNKNOWN_RECIPIENT: { http: 422, exit: 1, meaning: 'a recipient code that no hub serves' },
  NOT_FOUND: { http: 404, exit: 1, meaning: 'no such document for this caller' },
  ACK_CONFLICT: { http: 409, exit: 1, meaning: 'a second, different acknowledgement of a document: the first one stands' },
  GONE: { http: 410, exit: 1, meaning: 'the package\'s bytes were removed by retention (retention.packagesAfterAck); its metadata and trace are kept' },
  PAYLOAD_TOO_LARGE: { http: 413, exit: 1, meaning: 'over the hub\'s size limit (default 50 MiB)' },
  UNSUPPORTED_MEDIA_TYPE: { http: 415, exit: 1, meaning: 'not XML' },
  RATE_LIMITED: { http: 429, exit: 1, meaning: 'per-agency limit exceeded' },
  REQUEST_TIMEOUT: { http: 408, exit: 2, meaning: 'the request did not arrive in time (headers within http.headersTimeoutMs, all of it within http.requestTimeoutMs); the connection is closed' },
  MALFORMED_HTTP: { http: 400, exit: 2, meaning: 'not a valid HTTP/1.1 request (request line, headers or chunked framing); the connection is closed' },
  UNAVAILABLE: { http: 503, exit: 2, meaning: 'the broker or ledger is down: nothing was accepted, retry later' },
  // The agency directory (issue 19).
  AGENCY_CLOSED: { http: 403, exit: 1, meaning: 'the calling agency is closed into a successor: it may no longer send (it may read and acknowledge what it had during the grace period)' },
  DIRECTORY_CONFLICT: { http: 409, exit: 1, meaning: 'a directory change that cannot stand: a successor cycle, an agency closed into itself or into an unknown code, a hub retired into one of its own' },
  // Trust changes from the broker (issue 14 item 5): last writer wins per subject (docs/security.md).
  STALE_CHANGE: { http: 409, exit: 1, meaning: 'a trust change older than the one that stands for what it changes (a replay, or a change overtaken by a newer one): nothing of it was applied' },
  USAGE: { http: 400, exit: 2, meaning: 'CLI usage or environment error (bad flags, unreadable file, bad key or certificate file)' },
  // The link to the national axis (docs/national-axis.md).
  UPSTREAM_REFUSED: { http: 422, exit: 1, meaning: 'the national axis refused the package (FAIL): its ErrorCode and ErrorDesc are in the message' },
  UPSTREAM_UNAUTHENTICATED: { http: 502, exit: 2, meaning: 'the national axis refused the province\'s systemId or secret: nothing was sent, the outbox waits' },
  UPSTREAM_UNAVAILABLE: { http: 503, exit: 2, meaning: 'the national axis did not answer, answered 5xx or something unreadable: retried with backoff, nothing dead-lettered' },
} as const satisfies Record<string, { http: number; exit: 0 | 1 | 2; meaning: string }>;

export type ErrorCode = keyof typeof ERRORS;

/** Where in the input a problem is: a line and a readable element path. */
export interface ErrorDetail {
  line?: number;
  path?: string;
  reason: string;
}

export interface HubError {
  code: ErrorCode;
  message: string;
  where?: string;
  details?: ErrorDetail[];
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: HubError };

export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

export function fail(code: ErrorCode, message: string, where?: string, details?: ErrorDetail[]): { ok: false; error: HubError } {
  const error: HubError = { code, message };
  if (where !== undefined) error.where = where;
  if (details !== undefined && details.length > 0) error.details = details;
  return { ok: false, error };
}
