import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERRORS } from '../../src/errors.js';

describe('the error table', () => {
  it('is documented exactly in docs/errors.md', () => {
    const doc = fs.readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
    const rows = [...doc.matchAll(/^\| ([A-Z_]+) \| (\d{3}) \| (\d) \| (.+) \|$/gm)].map(([, code, http, exit, meaning]) =>
      [code, { http: Number(http), exit: Number(exit), meaning }]);
    expect(Object.fromEntries(rows)).toEqual(ERRORS);
  });

  it('keeps every CONTRACT.md code with its HTTP status', () => {
    const contract: Record<string, number> = {
      UNAUTHENTICATED: 401, FORBIDDEN: 403, SENDER_MISMATCH: 403, MALFORMED_XML: 400, POLICY_VIOLATION: 400,
      SCHEMA_INVALID: 400, SIGNATURE_MISSING: 422, SIGNATURE_INVALID: 422, CERT_UNTRUSTED: 422, CERT_EXPIRED: 422,
      CERT_NOT_YET_VALID: 422, CERT_REVOKED: 422, CERT_NOT_BOUND: 422, UNKNOWN_RECIPIENT: 422, NOT_FOUND: 404,
      PAYLOAD_TOO_LARGE: 413, UNSUPPORTED_MEDIA_TYPE: 415, RATE_LIMITED: 429, UNAVAILABLE: 503,
    };
    for (const [code, http] of Object.entries(contract)) expect(ERRORS[code as keyof typeof ERRORS]?.http, code).toBe(http);
  });
});
