import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash, createHmac } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createSdkAuth, loadAgencySecrets, loadSystemSecrets, unsignedParameter, type SdkCaller, type SdkFreshness } from '../../../src/http/sdk-auth.js';
import { formatSdkTimestamp } from '../../../src/http/sdk-signature.js';

const HUB = '000.00.05.H41';
const KEY = 'khóa-của-xã';
const registry = {
  agencies: new Map([
    ['000.08.05.H41', { code: '000.08.05.H41', name: 'UBND xã Hưng Đông', parent: HUB, hubId: HUB }],
    ['001.08.05.H41', { code: '001.08.05.H41', name: 'Trường học', parent: '000.08.05.H41', hubId: HUB }],
    ['000.09.05.H41', { code: '000.09.05.H41', name: 'UBND xã Nghi Kim', parent: HUB, hubId: HUB }],
    ['000.00.12.H41', { code: '000.00.12.H41', name: 'Sở Nội vụ', parent: '000.00.00.H41', hubId: '000.00.00.H41' }],
    ['000.10.05.H41', { code: '000.10.05.H41', name: 'UBND xã đã sáp nhập', parent: HUB, hubId: HUB, successor: { code: '000.09.05.H41', from: '2026-01-01T00:00:00.000Z' } }],
  ]),
};
const secrets = new Map([['000.08.05.H41', Buffer.from(KEY)], ['000.09.05.H41', Buffer.from(KEY)], ['000.00.12.H41', Buffer.from('elsewhere')], ['000.10.05.H41', Buffer.from(KEY)]]);
/** 000.10.05.H41 was closed longer ago than its key's grace period: /api/v1 no longer knows its key. */
const signsIn = (agency: string) => agency !== '000.10.05.H41';
/** 000.08.05.H41's client stamps each call (sdk.strict); 000.09.05.H41 is the real SDK's. */
const TIMESTAMP_WINDOW_MS = 5 * 60_000;
const HOUR = 3_600_000;
const freshness = (timestampWindowMs: number | null): SdkFreshness => ({
  timestampWindowMs, strict: { agencies: new Set(['000.08.05.H41']), timestampWindowMs: TIMESTAMP_WINDOW_MS },
});

function headers(systemid: string, at: Date | string, key = KEY, logical: Record<string, string> = {}): Record<string, string> {
  const sent: Record<string, string> = { 'XroadVnpt-systemid': systemid, 'XroadVnpt-timestamp': typeof at === 'string' ? at : formatSdkTimestamp(at) };
  for (const [k, v] of Object.entries(logical)) sent[`XroadVnpt-${k}`] = v;
  const json = JSON.stringify(sent);
  return {
    ...Object.fromEntries(Object.entries(sent).map(([k, v]) => [k.toLowerCase(), v])),
    'xroadvnpt-sign-header-key': Object.keys(sent).join(';'), 'xroadvnpt-sign-header': json,
    'xroadvnpt-hash-header': createHmac('sha256', key).update(json).digest('hex'),
  };
}

describe('createSdkAuth', () => {
  let now = new Date('2026-03-01T02:00:00.000Z');
  const auth = createSdkAuth({ hubId: HUB, registry, secrets, signsIn, systems: new Map(), freshness: freshness(null), clock: () => now });

  it('accepts the real SDK\'s service object: the same signed request again and again, days later, stamped in UTC or Vietnam time', async () => {
    const built = new Date(now.getTime());
    const utcStamp = formatSdkTimestamp(new Date(built.getTime() - 7 * HOUR)); // a UTC JVM's clock read as Vietnam time
    const stamped = [headers('000.09.05.H41', built), headers('000.09.05.H41', utcStamp)];
    for (const later of [0, HOUR, 30 * 24 * HOUR]) {
      const at = new Date(built.getTime() + later);
      const relaxed = createSdkAuth({ hubId: HUB, registry, secrets, signsIn, systems: new Map(), freshness: freshness(null), clock: () => at });
      for (const h of stamped) for (let i = 0; i < 3; i++) expect(await relaxed(h), `${later} ms later`).toMatchObject({ ok: true, value: { agency: '000.09.05.H41' } });
    }
    // The signature is still checked on every one.
    expect(await auth(headers('000.09.05.H41', built, 'other'))).toMatchObject({ ok: false, error: { reason: 'HMAC_MISMATCH' } });
  });

  it('holds the real SDK\'s timestamps to sdk.timestampWindow when one is set, reading them as Vietnam time or UTC', async () => {
    const at = new Date('2026-03-01T02:00:00.000Z');
    const windowed = (clockAt: Date) => createSdkAuth({ hubId: HUB, registry, secrets, signsIn, systems: new Map(), freshness: freshness(24 * HOUR), clock: () => clockAt });
    const vietnam = headers('000.09.05.H41', at);
    const utc = headers('000.09.05.H41', formatSdkTimestamp(new Date(at.getTime() - 7 * HOUR)));
    // The zone is unknown, so a stamp may be as old as the window plus the 7 h between the two readings.
    expect((await windowed(new Date(at.getTime() + 24 * HOUR))(utc)).ok).toBe(true);
    expect((await windowed(new Date(at.getTime() + 31 * HOUR))(vietnam)).ok).toBe(true);
    expect(await windowed(new Date(at.getTime() + 31 * HOUR + 1))(vietnam)).toMatchObject({ ok: false, error: { reason: 'TIMESTAMP_REFUSED', message: expect.stringContaining('sdk.timestampWindow') } });
    expect(await windowed(new Date(at.getTime() + 24 * HOUR + 1))(utc)).toMatchObject({ ok: false, error: { reason: 'TIMESTAMP_REFUSED' } });
    expect((await windowed(new Date(at.getTime() - 24 * HOUR))(vietnam)).ok).toBe(true);
    expect(await windowed(new Date(at.getTime() - 24 * HOUR - 1))(vietnam)).toMatchObject({ ok: false, error: { reason: 'TIMESTAMP_REFUSED' } });
    expect(await windowed(at)(headers('000.09.05.H41', '2026-03-01T02:00:00Z'))).toMatchObject({ ok: false, error: { reason: 'TIMESTAMP_REFUSED' } });
  });

  it('accepts a strict agency\'s signed request within the window once, and names the agency', async () => {
    const h = headers('000.08.05.H41', new Date(now.getTime() - TIMESTAMP_WINDOW_MS));
    expect(await auth(h)).toMatchObject({ ok: true, value: { agency: '000.08.05.H41' } });
    expect(await auth(h)).toMatchObject({ ok: false, error: { code: 'UNAUTHENTICATED', reason: 'REPLAYED' } });
    // A replay stays refused until its timestamp leaves the window, and then the window refuses it.
    now = new Date(now.getTime() + 1000);
    expect(await auth(h)).toMatchObject({ ok: false, error: { reason: 'TIMESTAMP_REFUSED' } });
  });

  it('refuses a strict agency\'s request with UNAVAILABLE, never lets it through, when the shared replay guard cannot answer', async () => {
    const away = createSdkAuth({
      hubId: HUB, registry, secrets, signsIn, systems: new Map(), freshness: freshness(null), clock: () => now,
      replay: { firstUse: () => Promise.reject(new Error('Connection is closed.')) },
    });
    expect(await away(headers('000.08.05.H41', now))).toMatchObject({ ok: false, error: { code: 'UNAVAILABLE', message: expect.stringContaining('replay guard') } });
    // Agencies outside sdk.strict have no replay guard to ask.
    expect(await away(headers('000.09.05.H41', now))).toMatchObject({ ok: true });
  });

  it('refuses a strict agency\'s timestamps outside ±5 minutes either way, also for a request it accepted before', async () => {
    expect(await auth(headers('000.08.05.H41', new Date(now.getTime() + TIMESTAMP_WINDOW_MS + 1)))).toMatchObject({ ok: false, error: { reason: 'TIMESTAMP_REFUSED' } });
    expect(await auth(headers('000.08.05.H41', new Date(now.getTime() - TIMESTAMP_WINDOW_MS - 1)))).toMatchObject({ ok: false, error: { reason: 'TIMESTAMP_REFUSED' } });
    const h = headers('000.08.05.H41', new Date(now.getTime() + TIMESTAMP_WINDOW_MS));
    expect((await auth(h)).ok).toBe(true);
    now = new Date(now.getTime() + 3 * TIMESTAMP_WINDOW_MS);
    expect(await auth(h)).toMatchObject({ ok: false, error: { reason: 'TIMESTAMP_REFUSED' } });
  });

  it('refuses a wrong key, an agency of another hub and an agency without a secret', async () => {
    expect(await auth(headers('000.08.05.H41', now, 'other'))).toMatchObject({ ok: false, error: { code: 'UNAUTHENTICATED', reason: 'HMAC_MISMATCH' } });
    const other = await auth(headers('000.00.12.H41', now, 'elsewhere'));
    expect(other).toMatchObject({ ok: false, error: { code: 'UNAUTHENTICATED' } });
    expect(!other.ok && other.error.reason).toBeUndefined();
    expect(await auth(headers('001.08.05.H41', now))).toMatchObject({ ok: false, error: { reason: 'NO_SECRET' } });
    expect(await auth(headers('999.99.99.H41', now))).toMatchObject({ ok: false, error: { code: 'UNAUTHENTICATED' } });
  });

  it('refuses an agency whose key no longer signs in here (closed, its grace period over), though its secret is loaded', async () => {
    const closed = await auth(headers('000.10.05.H41', now));
    expect(closed).toMatchObject({ ok: false, error: { code: 'UNAUTHENTICATED', message: expect.stringContaining('directory.closedKeyGrace') } });
    expect(!closed.ok && closed.error.reason).toBeUndefined();
  });

  it('needs systemid and timestamp among the signed headers', async () => {
    const sent = { 'XroadVnpt-systemid': '000.08.05.H41' };
    const json = JSON.stringify(sent);
    const r = await auth({ 'xroadvnpt-systemid': '000.08.05.H41', 'xroadvnpt-sign-header-key': 'XroadVnpt-systemid', 'xroadvnpt-sign-header': json,
      'xroadvnpt-hash-header': createHmac('sha256', KEY).update(json).digest('hex') });
    expect(r).toMatchObject({ ok: false, error: { reason: 'HEADERS_INVALID', message: expect.stringContaining('XroadVnpt-timestamp') } });
  });
});

describe('unsignedParameter (updateStatus\'s parameters)', () => {
  const now = new Date('2026-03-01T02:00:00.000Z');
  const auth = createSdkAuth({ hubId: HUB, registry, secrets, signsIn, systems: new Map(), freshness: freshness(null), clock: () => now });
  const DOC = 'e4300b52a766e55711fc35b8eff304f9';
  const caller = async (systemid: string, logical: Record<string, string>): Promise<SdkCaller> => {
    const r = await auth(headers(systemid, now, KEY, logical));
    if (!r.ok) throw new Error(`${systemid} was refused: ${r.error.message}`);
    return r.value;
  };
  const check = (c: SdkCaller, body: Record<string, unknown>) => unsignedParameter(c, 'updateStatus', ['docId', 'status'], ['reason'], body);

  it('refuses a status in the body under a replayable header set (the SDK\'s getEdoc: docId signed, no status), naming it', async () => {
    const getEdoc = await caller('000.09.05.H41', { servicetype: 'eDoc', messagetype: 'edoc', docId: DOC });
    expect(getEdoc.replayGuarded).toBe(false);
    expect(check(getEdoc, { status: 'fail' })).toEqual({
      code: 'UNAUTHENTICATED', reason: 'HEADERS_INVALID',
      message: expect.stringMatching(/^updateStatus changes a document's state, and agency 000\.09\.05\.H41 is not in sdk\.strict .*sign XroadVnpt-status \(it came only in the body, which the HMAC does not cover\)/),
    });
    expect(check(getEdoc, {})?.message).toContain('sign XroadVnpt-status (it was not sent)');
    // docId too, and a reason carried beside a signed docId and status.
    const statusOnly = await caller('000.09.05.H41', { status: 'done' });
    expect(check(statusOnly, { docId: DOC })?.message).toContain('sign XroadVnpt-docId (it came only in the body');
    const both = await caller('000.09.05.H41', { docId: DOC, status: 'fail' });
    expect(check(both, { reason: 'forged' })?.message).toContain('sign XroadVnpt-reason (it came only in the body');
  });

  it('accepts docId and status signed (the SDK\'s own updateStatus, body {}), and a strict agency\'s body parameters', async () => {
    const updateStatus = await caller('000.09.05.H41', { docId: DOC, status: 'done' });
    expect(check(updateStatus, {})).toBeNull();
    expect(check(await caller('000.09.05.H41', { docId: DOC, status: 'fail', reason: 'signed' }), {})).toBeNull();
    // A strict agency's request is fresh and accepted once: it may carry its parameters in the body.
    const strict = await caller('000.08.05.H41', {});
    expect(strict.replayGuarded).toBe(true);
    expect(check(strict, { docId: DOC, status: 'fail', reason: 'r' })).toBeNull();
  });
});

describe('a system account (sdk.systems)', () => {
  const now = new Date('2026-03-01T02:00:00.000Z');
  const SYSTEM = '000.00.00.H42';
  const system = { sendsFor: ['*.H42'], receivesFor: ['*.H42'], secret: Buffer.from('khóa-của-tỉnh') };
  const auth = createSdkAuth({ hubId: HUB, registry, secrets, signsIn, systems: new Map([[SYSTEM, system]]), freshness: freshness(null), clock: () => now });

  it('signs in with its own systemid and secret, and the caller carries its agencies', async () => {
    const r = await auth(headers(SYSTEM, now, 'khóa-của-tỉnh'));
    expect(r.ok && { agency: r.value.agency, system: r.value.system }).toEqual({ agency: SYSTEM, system: { sendsFor: ['*.H42'], receivesFor: ['*.H42'] } });
    const agency = await auth(headers('000.09.05.H41', now));
    expect(agency.ok && agency.value.system).toBeNull();
  });

  it('is refused with another secret, and a systemid that is neither an agency here nor a system is UNAUTHENTICATED', async () => {
    expect(await auth(headers(SYSTEM, now))).toMatchObject({ ok: false, error: { reason: 'HMAC_MISMATCH' } });
    expect(await auth(headers('000.00.00.H43', now))).toMatchObject({ ok: false, error: { code: 'UNAUTHENTICATED', message: expect.stringContaining('nor a system account') } });
  });
});

describe('loadSystemSecrets', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lgsp-systems-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string) => { fs.writeFileSync(path.join(dir, name), text); return path.join(dir, name); };
  const system = (systemId: string, secretFile: string, hubId: string) => ({ systemId, secretFile, hubId, sendsFor: ['*.H42'], receivesFor: ['*.H42'] });

  it('reads the secrets of the systems this hub serves, and stops the hub on a missing or empty one', () => {
    const r = loadSystemSecrets([system('000.00.00.H42', file('h42', 'bí mật\n'), HUB), system('000.00.00.H43', path.join(dir, 'none'), 'other')], HUB);
    expect(r.ok && [...r.value].map(([id, s]) => [id, s.secret.toString(), s.sendsFor])).toEqual([['000.00.00.H42', 'bí mật', ['*.H42']]]);
    expect(loadSystemSecrets([system('000.00.00.H42', path.join(dir, 'none'), HUB)], HUB)).toMatchObject({ ok: false, error: { code: 'USAGE', message: expect.stringContaining('cannot read the secretFile of SDK system 000.00.00.H42') } });
    expect(loadSystemSecrets([system('000.00.00.H42', file('empty', '\n'), HUB)], HUB)).toMatchObject({ ok: false, error: { message: expect.stringContaining('is empty') } });
  });
});

describe('loadAgencySecrets', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lgsp-secrets-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string) => { fs.writeFileSync(path.join(dir, name), text); return path.join(dir, name); };
  const hash = (k: string) => createHash('sha256').update(k).digest('hex');

  it('reads the keys of the agencies the hub serves, checked against their hash', async () => {
    const r = loadAgencySecrets([
      { code: 'a', apiKeyHash: hash('key-a'), apiKeyFile: file('a', 'key-a\n') },
      { code: 'b', apiKeyHash: hash('key-b') },
      { code: 'c', apiKeyHash: hash('key-c'), apiKeyFile: file('c', 'key-c') },
    ], (code) => code !== 'c');
    expect(r.ok && Object.fromEntries([...r.value].map(([k, v]) => [k, v.toString()]))).toEqual({ a: 'key-a' });
  });

  it('stops the hub on a file that is missing, empty or not the key of apiKeyHash', async () => {
    const serves = () => true;
    expect(loadAgencySecrets([{ code: 'a', apiKeyHash: hash('k'), apiKeyFile: path.join(dir, 'none') }], serves)).toMatchObject({ ok: false, error: { code: 'USAGE', message: expect.stringContaining('cannot read') } });
    expect(loadAgencySecrets([{ code: 'a', apiKeyHash: hash('k'), apiKeyFile: file('empty', '\n') }], serves)).toMatchObject({ ok: false, error: { message: expect.stringContaining('empty') } });
    const wrong = loadAgencySecrets([{ code: 'a', apiKeyHash: hash('k'), apiKeyFile: file('wrong', 'not-k') }], serves);
    expect(wrong).toMatchObject({ ok: false, error: { message: expect.stringContaining('does not hold the key') } });
    expect(JSON.stringify(wrong)).not.toContain('not-k'); // the key itself is never in a message
  });
});
