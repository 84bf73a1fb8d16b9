import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bindSentHeaders, formatSdkTimestamp, hashFileMatches, hmacHex, parseSdkTimestamp, parseSignedHeaders, sdkJsonText, verifyHmac } from '../../../src/http/sdk-signature.js';

/** Headers as Node hands them to a handler: names lowercased, values as latin1 strings of the bytes. */
function requestHeaders(logical: Record<string, string>, secret = 'khóa-bí-mật'): Record<string, string> {
  const sent = Object.fromEntries(Object.entries(logical).map(([k, v]) => [`XroadVnpt-${k}`, v]));
  const json = JSON.stringify(sent);
  const wire = (s: string) => Buffer.from(s, 'utf8').toString('latin1');
  return {
    ...Object.fromEntries(Object.entries(sent).map(([k, v]) => [k.toLowerCase(), wire(v)])),
    'xroadvnpt-sign-header-key': Object.keys(sent).join(';'),
    'xroadvnpt-sign-header': wire(json),
    'xroadvnpt-hash-header': createHmac('sha256', secret).update(json, 'utf8').digest('hex'),
    'content-type': 'application/json',
  };
}

const LOGICAL = { systemid: '000.07.05.H41', timestamp: '15012026T100405+0067', docId: 'a'.repeat(32) };

describe('the SDK timestamp', () => {
  it('is Asia/Ho_Chi_Minh local time in ddMMyyyy\'T\'HHmmss+SSSS, and parses back to the same instant', () => {
    const cases: [string, string][] = [
      ['2026-01-15T03:04:05.067Z', '15012026T100405+0067'],
      ['2026-12-31T20:00:00.000Z', '01012027T030000+0000'], // a new year in Vietnam, not yet in UTC
      ['2028-02-28T17:59:59.999Z', '29022028T005959+0999'], // a leap day
    ];
    for (const [iso, text] of cases) {
      expect(formatSdkTimestamp(new Date(iso))).toBe(text);
      expect(parseSdkTimestamp(text)?.toISOString()).toBe(iso);
    }
  });

  it('refuses what is not one: other shapes, impossible dates and times, milliseconds over 999', () => {
    for (const text of ['2026-01-15T10:04:05', '15012026T100405', '15012026T100405+067', '15012026 100405+0067',
      '31022026T100000+0000', '29022026T100000+0000', '15132026T100000+0000', '15012026T240000+0000', '15012026T106000+0000',
      '15012026T100405+1000', '15012026T100405-0067', ' 15012026T100405+0067']) {
      expect(parseSdkTimestamp(text), text).toBeNull();
    }
  });
});

describe('the HMAC', () => {
  it('is lowercase hex HMAC-SHA256 (RFC 4231, test case 2)', () => {
    expect(hmacHex(Buffer.from('Jefe'), Buffer.from('what do ya want for nothing?')))
      .toBe('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
  });

  it('verifies the hash-header over the sign-header as sent, and nothing else', () => {
    const parsed = parseSignedHeaders(requestHeaders(LOGICAL));
    if (!parsed.ok) throw new Error(parsed.message);
    expect(verifyHmac(Buffer.from('khóa-bí-mật'), parsed.value)).toEqual({ ok: true, value: undefined });
    expect(verifyHmac(Buffer.from('khóa-bí-mật '), parsed.value)).toMatchObject({ ok: false, problem: 'HMAC_MISMATCH' });
    const flipped = parsed.value.hashHeader.replace(/^./, (c) => (c === '0' ? '1' : '0'));
    expect(verifyHmac(Buffer.from('khóa-bí-mật'), { ...parsed.value, hashHeader: flipped })).toMatchObject({ ok: false, problem: 'HMAC_MISMATCH' });
    // Uppercase hex is the same digest.
    const upper = parseSignedHeaders({ ...requestHeaders(LOGICAL), 'xroadvnpt-hash-header': requestHeaders(LOGICAL)['xroadvnpt-hash-header']!.toUpperCase() });
    expect(upper.ok && verifyHmac(Buffer.from('khóa-bí-mật'), upper.value).ok).toBe(true);
  });
});

describe('the signed headers', () => {
  it('yields the logical headers, lowercased, and the sign-header bytes the client signed (UTF-8 restored)', () => {
    const parsed = parseSignedHeaders(requestHeaders({ ...LOGICAL, from: 'Sở Nội vụ' }));
    if (!parsed.ok) throw new Error(parsed.message);
    expect(Object.fromEntries(parsed.value.headers)).toEqual({ systemid: LOGICAL.systemid, timestamp: LOGICAL.timestamp, docid: LOGICAL.docId, from: 'Sở Nội vụ' });
    expect(JSON.parse(parsed.value.signHeader.toString('utf8'))['XroadVnpt-from']).toBe('Sở Nội vụ');
  });

  it('reads the real SDK\'s form: bare names in sign-header-key, gson\'s escapes, Content-Type signed, version and User-Agent unsigned', () => {
    // As captured from SDKVXP 2.0.1 (the `to` of sendEdoc is a JSON array in a string; gson may write = < > & ' as \u003d…).
    const values: [string, string][] = [['systemid', '000.07.05.H41'], ['to', '["000.00.12.H41"]'], ['filePath', '/in?a=<b>&c=\'d\''],
      ['timestamp', '06122026T140013+0877'], ['Content-Type', 'application/octet-stream']];
    const json = JSON.stringify(Object.fromEntries(values.map(([k, v]) => [`XroadVnpt-${k}`, v])))
      .replace(/[<>&=']/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    expect(json).toContain('\\u003d');
    const raw: Record<string, string> = {
      ...Object.fromEntries(values.map(([k, v]) => [`xroadvnpt-${k.toLowerCase()}`, v])),
      'content-type': 'application/octet-stream', 'user-agent': 'JAVASDKAgent/1.0.0 XRoad/VPCP', 'xroadvnpt-version': '3.0.201608',
      'xroadvnpt-sign-header-key': values.map(([k]) => k).join(';'), 'xroadvnpt-sign-header': json,
      'xroadvnpt-hash-header': createHmac('sha256', 'k').update(json).digest('hex'),
    };
    const parsed = parseSignedHeaders(raw);
    if (!parsed.ok) throw new Error(parsed.message);
    expect(verifyHmac(Buffer.from('k'), parsed.value).ok).toBe(true);
    expect(bindSentHeaders(raw, parsed.value)).toEqual({ ok: true, value: undefined });
    expect(Object.fromEntries(parsed.value.headers)).toEqual(Object.fromEntries(values.map(([k, v]) => [k.toLowerCase(), v])));
    // Bare and prefixed names may be mixed; the JSON keys are always the XroadVnpt- names.
    expect(parseSignedHeaders({ ...raw, 'xroadvnpt-sign-header-key': 'XroadVnpt-systemid;to;filePath;timestamp;XroadVnpt-Content-Type' }).ok).toBe(true);
  });

  it('refuses signing headers that are malformed, with the reason', () => {
    const good = requestHeaders(LOGICAL);
    const without = (name: string) => Object.fromEntries(Object.entries(good).filter(([k]) => k !== name));
    const json = JSON.parse(good['xroadvnpt-sign-header']!) as Record<string, string>;
    const cases: [Record<string, string>, RegExp][] = [
      [without('xroadvnpt-hash-header'), /send XroadVnpt-sign-header-key/],
      [without('xroadvnpt-sign-header'), /send XroadVnpt-sign-header-key/],
      [{ ...good, 'xroadvnpt-hash-header': 'zz' }, /64 hex digits/],
      [{ ...good, 'xroadvnpt-sign-header': '{not json' }, /not a JSON object/],
      [{ ...good, 'xroadvnpt-sign-header': JSON.stringify({ ...json, extra: 'x' }) }, /exactly the keys/],
      [{ ...good, 'xroadvnpt-sign-header-key': 'XroadVnpt-systemid;XroadVnpt-timestamp' }, /exactly the keys/],
      [{ ...good, 'xroadvnpt-sign-header-key': 'system id;XroadVnpt-timestamp;XroadVnpt-docId' }, /"system id" is not a header name/],
      [{ ...good, 'xroadvnpt-sign-header-key': `${good['xroadvnpt-sign-header-key']};SYSTEMID` }, /listed twice/],
      [{ ...good, 'xroadvnpt-sign-header-key': `${good['xroadvnpt-sign-header-key']};hash-header` }, /cannot be signed/],
    ];
    for (const [headers, reason] of cases) {
      const r = parseSignedHeaders(headers);
      expect(r.ok, String(reason)).toBe(false);
      if (!r.ok) {
        expect(r.problem).toBe('HEADERS_INVALID');
        expect(r.message).toMatch(reason);
      }
    }
  });

  it('binds the signed values to the headers sent, and refuses unsigned XroadVnpt headers but version', () => {
    const good = requestHeaders(LOGICAL);
    const parsed = parseSignedHeaders(good);
    if (!parsed.ok) throw new Error(parsed.message);
    expect(bindSentHeaders({ ...good, 'xroadvnpt-version': '3.0.201608' }, parsed.value).ok).toBe(true);
    const without = Object.fromEntries(Object.entries(good).filter(([k]) => k !== 'xroadvnpt-docid'));
    const cases: [Record<string, string>, RegExp][] = [
      [{ ...good, 'xroadvnpt-docid': 'b'.repeat(32) }, /XroadVnpt-docid differs/],
      [without, /XroadVnpt-docid is signed but not sent/],
      [{ ...good, 'xroadvnpt-from': 'x' }, /xroadvnpt-from is sent but not listed/],
    ];
    for (const [headers, reason] of cases) expect(bindSentHeaders(headers, parsed.value)).toMatchObject({ ok: false, problem: 'HEADERS_INVALID', message: expect.stringMatching(reason) });
  });
});

describe('hash-file', () => {
  it('matches the SHA-256 in lowercase or uppercase hex and in the SDK\'s spelling without leading zeros, and nothing else', () => {
    // A content whose digest has bytes below 0x10, so the two spellings differ.
    const bytes = Buffer.from('edXML 0');
    const digest = createHash('sha256').update(bytes).digest();
    expect([...digest].some((b) => b < 0x10)).toBe(true);
    const javaHex = [...digest].map((b) => b.toString(16)).join('');
    expect(javaHex).not.toBe(digest.toString('hex'));
    for (const h of [digest.toString('hex'), digest.toString('hex').toUpperCase(), javaHex]) expect(hashFileMatches(h, bytes), h).toBe(true);
    for (const h of ['', javaHex.slice(1), createHash('sha256').update('other').digest('hex')]) expect(hashFileMatches(h, bytes), h).toBe(false);
  });
});

describe('the answers\' JSON', () => {
  it('is ASCII, with every other character escaped, and parses back to the same value (the SDK reads sendEdoc\'s answer as US-ASCII)', () => {
    const value = { ErrorDesc: 'Sở Nội vụ: 𝔘 <ok>', n: 1 };
    const t = sdkJsonText(value);
    expect(/^[\x20-\x7e]*$/.test(t)).toBe(true);
    expect(JSON.parse(t)).toEqual(value);
  });
});
