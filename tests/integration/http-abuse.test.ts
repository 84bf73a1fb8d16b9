// Hostile clients at the HTTP edge: a declared body over the limit is refused before it is
// read, a chunked body is cut off at the limit, slow clients are timed out, each agency is rate
// limited on both faces of the agency API (429 with Retry-After, counted in /metrics, nothing
// accepted), and concurrent copies
// of one package make one document.
import { describe, expect, it } from 'vitest';
import { eventually, type Agent, type TestNetwork } from '../helpers/network.js';
import { useTestNetwork } from '../helpers/shared-network.js';
import { parseRaw, rawConnection, write } from '../helpers/raw-http.js';
import { sdkClient } from '../helpers/sdk-client.js';

const MAX_BYTES = 256 * 1024;
const LIMIT = { perSecond: 2, burst: 20 };
const TIMEOUTS = { headersTimeoutMs: 1_000, requestTimeoutMs: 3_000, timeoutCheckMs: 100 };
let n: TestNetwork;
let commune: Agent, school: Agent, department: Agent, district: Agent;

useTestNetwork({
  configFor: (_id, c) => ({ ...c, policy: { ...c.policy, maxBytes: MAX_BYTES }, http: { ...c.http, ...TIMEOUTS, rateLimit: LIMIT } }),
}, (started, a) => { n = started; ({ commune, school, department, district } = a); });

const head = (a: Agent, headers: Record<string, string | number>) =>
  `POST /api/v1/edocs HTTP/1.1\r\nHost: hub\r\nAuthorization: Bearer ${a.agency.apiKey}\r\nContent-Type: application/xml\r\n` +
  `${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
const inbox = async (a: Agent) => (await a.request('GET', '/api/v1/edocs/received?limit=1000')).json.items as { docId: string }[];
const metric = async (hubUrl: string, line: RegExp) => {
  const text = await (await fetch(`${hubUrl}/metrics`, { headers: { authorization: `Bearer ${n.net.adminToken}` } })).text();
  return Number(line.exec(text)?.[1] ?? 0);
};

describe('oversized bodies', () => {
  /** The answer to request headers followed by only `start` of the body they announce. */
  const answerToHeaders = async (a: Agent, contentLength: number, start: string) => {
    const c = rawConnection(a.url);
    await write(c.socket, head(a, { 'Content-Length': contentLength }) + start);
    const r = parseRaw(await c.answered);
    c.socket.destroy();
    return { status: r.status, code: r.json?.error?.code as unknown };
  };

  it('refuses a declared Content-Length over the limit from the headers alone', async () => {
    // A few bytes of the 10 GiB announced; the rest never comes.
    expect(await answerToHeaders(district, 10 * 1024 ** 3, '<?xml')).toEqual({ status: 413, code: 'PAYLOAD_TOO_LARGE' });
  });

  it('refuses an unknown key before reading the body', async () => {
    const stranger = { ...district, agency: { ...district.agency, apiKey: 'not-a-key' } };
    expect(await answerToHeaders(stranger, 40 * 1024 * 1024, '')).toEqual({ status: 401, code: 'UNAUTHENTICATED' });
  });

  it('cuts a chunked body off at the limit', async () => {
    const c = rawConnection(district.url);
    await write(c.socket, head(district, { 'Transfer-Encoding': 'chunked' }));
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const frame = Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]);
    const offered = 256 * 1024 * 1024; // 1024 times the limit
    let sent = 0;
    while (!c.done() && sent < offered) {
      await write(c.socket, frame);
      sent += chunk.length;
    }
    const r = parseRaw(await c.answered);
    expect(r.status).toBe(413);
    expect(r.json.error.code).toBe('PAYLOAD_TOO_LARGE');
    // The hub answered while the client still had most of the body to send.
    expect(sent).toBeLessThan(offered / 4);
    c.socket.destroy();
  });
});

describe('slow clients', () => {
  const expectTimedOut = (r: { status: number; json: any }) => expect([r.status, r.json?.error?.code]).toEqual([408, 'REQUEST_TIMEOUT']);
  /** Sends `piece` every 100 ms until the hub hangs up or `max` pieces are out (far past its timeouts). */
  const trickle = async (c: ReturnType<typeof rawConnection>, piece: (i: number) => string, max: number) => {
    let sent = 0;
    while (!c.done() && sent < max) {
      await write(c.socket, piece(sent++));
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return sent;
  };

  it('times out a client that trickles its headers', async () => {
    const c = rawConnection(district.url);
    await write(c.socket, 'GET /api/v1/edocs/received HTTP/1.1\r\nHost: hub\r\n');
    const lines = await trickle(c, (i) => `X-Slow-${i}: a\r\n`, 600);
    expectTimedOut(parseRaw(await c.closed));
    expect(lines).toBeLessThan(600);
  });

  it('times out a client that trickles its body', async () => {
    const c = rawConnection(district.url);
    await write(c.socket, head(district, { 'Content-Length': 6_000 }));
    const pieces = await trickle(c, () => '<'.repeat(10), 600);
    expectTimedOut(parseRaw(await c.closed));
    expect(pieces).toBeLessThan(600);
  });

  it('closes a connection that never sends anything', async () => {
    const c = rawConnection(district.url);
    expectTimedOut(parseRaw(await c.closed));
  });
});

describe('requests the HTTP layer refuses before any route', () => {
  const answerTo = async (request: string) => {
    const c = rawConnection(district.url);
    await write(c.socket, request);
    const r = parseRaw(await c.closed);
    return [r.status, r.json?.error?.code];
  };

  it('a request that is not HTTP: 400 MALFORMED_HTTP', async () => {
    expect(await answerTo('HELLO /api/v1/edocs NOT-HTTP\r\n\r\n')).toEqual([400, 'MALFORMED_HTTP']);
    expect(await answerTo(head(district, { 'Transfer-Encoding': 'chunked' }) + 'zz\r\n')).toEqual([400, 'MALFORMED_HTTP']);
  });

  it('headers over the size limit: 413 PAYLOAD_TOO_LARGE', async () => {
    expect(await answerTo(`GET /api/v1/edocs/received HTTP/1.1\r\nHost: hub\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`)).toEqual([413, 'PAYLOAD_TOO_LARGE']);
  });
});

describe('per-agency rate limits', () => {
  it('answers 429 RATE_LIMITED with Retry-After past the burst, counts it, and accepts nothing', async () => {
    const calls = await Promise.all(Array.from({ length: LIMIT.burst + 10 }, () =>
      fetch(`${school.url}/api/v1/edocs/received`, { headers: { authorization: `Bearer ${school.agency.apiKey}` } })));
    const limited = calls.filter((r) => r.status === 429);
    expect(limited.length).toBeGreaterThanOrEqual(5); // a slow run may refill a few tokens, not 5 s' worth
    expect(calls.filter((r) => r.status === 200).length).toBe(calls.length - limited.length);
    expect(Number(limited[0]!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(((await limited[0]!.json()) as { error: { code: string } }).error.code).toBe('RATE_LIMITED');

    // However the path is spelled.
    const encoded = await fetch(`${school.url}/api/%761/edocs/received`, { headers: { authorization: `Bearer ${school.agency.apiKey}` } });
    expect(encoded.status).toBe(429);

    // While limited, a valid package is refused and not accepted.
    const pkg = n.document(school, [department], 'Gửi khi bị giới hạn');
    let refused = 0;
    let r = await school.submit(pkg);
    for (; r.status === 429; r = await school.submit(pkg)) refused++;
    expect(refused).toBeGreaterThan(0);
    expect(r.status).toBe(202); // a first acceptance: none of the refused attempts recorded it
    expect(await metric(school.url, /lgsp_rate_limited_total\{agency="001\.07\.05\.[A-Z0-9]+",hub="[^"]+"\} (\d+)/)).toBe(limited.length + refused + 1);
    // Other agencies of the same hub are not limited by it.
    expect((await commune.request('GET', '/api/v1/edocs/received')).status).toBe(200);
  });

  it('limits /vxp calls once their HMAC names the agency, from the same budget as /api/v1', async () => {
    // Forged calls naming an agency are refused before its budget is touched.
    const forged = sdkClient(`${n.hubs[0]!.url}/vxp`, department.agency.code, 'not-its-secret');
    const forgedReplies = await Promise.all(Array.from({ length: LIMIT.burst + 10 }, () => forged.call('POST', 'countReceiveEdoc')));
    expect(new Set(forgedReplies.map((r) => r.status))).toEqual(new Set([401]));
    expect((await department.request('GET', '/api/v1/edocs/received')).status).toBe(200);

    const sdk = sdkClient(`${district.url}/vxp`, district.agency.code, district.agency.apiKey);
    const replies = await Promise.all(Array.from({ length: LIMIT.burst + 10 }, () => sdk.call('POST', 'countReceiveEdoc')));
    const limited = replies.filter((r) => r.status === 429);
    expect(limited.length).toBeGreaterThanOrEqual(5);
    expect(limited[0]!.json).toMatchObject({ status: 'FAIL', ErrorCode: '62' });
    expect((await district.request('GET', '/api/v1/edocs/received')).status).toBe(429);
  });

  it('leaves admin routes alone, so operators are never locked out', async () => {
    const statuses = await Promise.all(Array.from({ length: LIMIT.burst * 2 }, () =>
      fetch(`${district.url}/api/admin/agencies`, { headers: { authorization: `Bearer ${n.net.adminToken}` } }).then((r) => r.status)));
    expect(new Set(statuses)).toEqual(new Set([200]));
  });
});

describe('concurrent duplicate submissions', () => {
  it('make one document and one mailbox entry, all answered with the same docId', async () => {
    const province = n.hubs.find((h) => h.id === department.agency.hubId)!.url;
    const deliveries = (result: string) => metric(province, new RegExp(`lgsp_documents_total\\{stage="deliver",result="${result}",hub="[^"]+"\\} (\\d+)`));
    const before = { accepted: await deliveries('accepted'), duplicate: await deliveries('duplicate') };
    const pkg = n.document(commune, [department], 'Gửi đồng thời');
    const copies = 12;
    const answers = await Promise.all(Array.from({ length: copies }, () => commune.submit(pkg)));
    expect(answers.filter((a) => a.status === 202)).toHaveLength(1);
    expect(answers.filter((a) => a.status === 200)).toHaveLength(copies - 1);
    const docId = answers[0]!.json.docId as string;
    expect(new Set(answers.map((a) => a.json.docId))).toEqual(new Set([docId]));

    // Every copy reaches the recipient's hub; the mailbox keeps the first and absorbs the rest.
    await eventually(async () => (await deliveries('accepted')) + (await deliveries('duplicate')) - before.accepted - before.duplicate >= copies || undefined,
      'every copy handled at the recipient hub', 30_000);
    expect(await deliveries('accepted') - before.accepted).toBe(1);
    expect(await deliveries('duplicate') - before.duplicate).toBe(copies - 1);
    expect((await inbox(department)).filter((i) => i.docId === docId)).toHaveLength(1);
    const sent = (await commune.request('GET', '/api/v1/edocs/sent?limit=1000')).json.items as { docId: string }[];
    expect(sent.filter((s) => s.docId === docId)).toHaveLength(1);
  });
});
