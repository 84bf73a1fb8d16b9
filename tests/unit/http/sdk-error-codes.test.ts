import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERRORS, type ErrorCode } from '../../../src/errors.js';
import { SDK_ERROR_CODES, SDK_REASON_CODES, type SdkReason } from '../../../src/http/sdk-error-codes.js';

describe('the SDK dialect\'s ErrorCode table', () => {
  it('is documented exactly in docs/national-sdk.md, with each code\'s HTTP status', () => {
    const doc = fs.readFileSync(new URL('../../../docs/national-sdk.md', import.meta.url), 'utf8');
    const rows = [...doc.matchAll(/^\| (\d+) \| ([A-Z_]+) \| (\d{3}) \| .+ \|$/gm)].map(([, errorCode, name, http]) => [name, { errorCode, http: Number(http) }]);
    const http = (name: string) => ERRORS[(SDK_REASON_CODES[name as SdkReason] ?? name) as ErrorCode].http;
    expect(Object.fromEntries(rows)).toEqual(Object.fromEntries(Object.entries(SDK_ERROR_CODES).map(([name, errorCode]) => [name, { errorCode, http: http(name) }])));
  });

  it('gives every hub code and dialect reason its own non-zero code', () => {
    for (const code of Object.keys(ERRORS)) expect(SDK_ERROR_CODES[code as ErrorCode], code).toMatch(/^[1-9]\d*$/);
    const codes = Object.values(SDK_ERROR_CODES);
    expect(new Set(codes).size).toBe(codes.length);
  });
});
