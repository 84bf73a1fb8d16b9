// The OpenAPI documents: generated from the route schemas, public, valid OpenAPI 3 by an
// independent validator (@apidevtools/swagger-parser), covering every route the server registers
// (collected here with fastify's onRoute hook on each instance, through fastify's
// "fastify.initialization" diagnostics channel), each 4xx/5xx answer in the error shape of
// docs/errors.md (on /vxp the national SDK's FAIL shape of docs/national-sdk.md); real answers
// match the schemas the documents give them (Ajv); and /docs renders in real headless Chromium
// from the hub's own assets.
import diagnostics from 'node:diagnostics_channel';
import fs from 'node:fs';
import path from 'node:path';
import SwaggerParser from '@apidevtools/swagger-parser';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestNetwork, type TestNetwork } from '../helpers/network.js';
import { ROOT } from '../helpers/tools.js';
import { ARTIFACTS, hasChromium, launchChromium } from '../helpers/chromium.js';

/**
 * Routes that are not API calls, so in neither document: /docs and its assets (Swagger UI's
 * page, scripts and its own copies of the documents), and the console under /admin (HTML pages
 * and form posts for a browser). HEAD routes are fastify's automatic twins of the GET routes.
 */
const notApi = (method: string, url: string) => method === 'HEAD' || url === '/docs' || url.startsWith('/docs/') || url === '/admin' || url.startsWith('/admin/');

type Doc = { openapi: string; paths: Record<string, Record<string, { responses: Record<string, { description?: string; content?: Record<string, { schema: Schema }> }> }>> };
type Schema = { type?: string; description?: string; properties?: Record<string, Schema>; required?: string[]; items?: Schema; enum?: string[]; anyOf?: Schema[] };

const routes = new Map<FastifyInstance, { method: string; url: string }[]>();
const onInit = ({ fastify }: { fastify: FastifyInstance }) => {
  const list: { method: string; url: string }[] = [];
  routes.set(fastify, list);
  fastify.addHook('onRoute', (r) => { for (const method of [r.method].flat()) list.push({ method, url: r.url }); });
};

let n: TestNetwork;
beforeAll(async () => {
  diagnostics.subscribe('fastify.initialization', onInit as (message: unknown) => void);
  n = await startTestNetwork();
}, 90_000);
afterAll(async () => {
  diagnostics.unsubscribe('fastify.initialization', onInit as (message: unknown) => void);
  await n?.close();
});

const get = async (url: string) => {
  const res = await fetch(n.hubs[0]!.url + url);
  return { status: res.status, type: res.headers.get('content-type') ?? '', json: await res.json() as Doc };
};

/** The error shape and the codes as docs/errors.md writes them, read from the page itself. */
function errorsPage(): { fields: string[]; detailFields: string[]; codes: string[] } {
  const page = fs.readFileSync(path.join(ROOT, 'docs', 'errors.md'), 'utf8');
  const shape = /`\{"error": \{"code", "message", "details": \[\{"line", "path", "reason"\}\]\}\}`/.exec(page);
  if (shape === null) throw new Error('docs/errors.md no longer states the error shape this test reads');
  return { fields: ['code', 'message', 'details'], detailFields: ['line', 'path', 'reason'], codes: [...page.matchAll(/^\| ([A-Z_]+) \| \d{3} \|/gm)].map((m) => m[1]!) };
}

/** Why a schema is not the error shape of docs/errors.md, or null when it is. */
function errorShapeProblem(schema: Schema | undefined, fields: string[], detailFields: string[], codes: string[]): string | null {
  const error = schema?.properties?.error;
  if (schema?.required?.includes('error') !== true || error === undefined) return 'no {error} object';
  if (!fields.every((f) => error.properties?.[f] !== undefined)) return `error lacks ${fields.join(', ')}`;
  if (!['code', 'message'].every((f) => error.required?.includes(f))) return 'code and message not required';
  if (!detailFields.every((f) => error.properties?.details?.items?.properties?.[f] !== undefined)) return `details lack ${detailFields.join(', ')}`;
  if ([...(error.properties?.code?.enum ?? [])].sort().join() !== [...codes].sort().join()) return 'codes differ from docs/errors.md';
  return null;
}

describe('OpenAPI documents', () => {
  it('are public, valid OpenAPI 3, and document every route the server registers', async () => {
    const agency = await get('/api/v1/openapi.json');
    const admin = await get('/api/admin/openapi.json');
    expect([agency.status, admin.status]).toEqual([200, 200]);
    expect(agency.type).toContain('application/json');
    for (const doc of [agency.json, admin.json]) {
      expect(doc.openapi).toMatch(/^3\./);
      await SwaggerParser.validate(structuredClone(doc) as never);
    }
    expect(Object.keys(agency.json.paths).every((p) => p.startsWith('/api/v1/') || p.startsWith('/vxp/'))).toBe(true);
    expect(Object.keys(admin.json.paths).some((p) => p.startsWith('/api/v1/') || p.startsWith('/vxp/'))).toBe(false);

    const registered = [...routes.values()][0]!;
    expect(registered.length).toBeGreaterThan(40);
    const documented = (method: string, url: string) => {
      const p = url.replace(/:([A-Za-z]+)/g, '{$1}');
      return [agency.json, admin.json].some((d) => d.paths[p]?.[method.toLowerCase()] !== undefined);
    };
    const missing = registered.filter((r) => !notApi(r.method, r.url) && !documented(r.method, r.url)).map((r) => `${r.method} ${r.url}`);
    expect(missing).toEqual([]);
    // Spot checks of what a vendor's client generator needs.
    expect(agency.json.paths['/api/v1/edocs']!.post!.responses['202']).toBeDefined();
    expect(agency.json.paths['/vxp/sendEdoc']).toBeDefined();
    expect(admin.json.paths['/api/admin/certs/{fingerprint}/revoke']).toBeDefined();
    expect(admin.json.paths['/metrics']).toBeDefined();
  });

  it('give every 4xx/5xx answer the error shape of docs/errors.md (on /vxp the SDK\'s FAIL shape)', async () => {
    const { fields, detailFields, codes } = errorsPage();
    const problems: string[] = [];
    for (const doc of [(await get('/api/v1/openapi.json')).json, (await get('/api/admin/openapi.json')).json]) {
      for (const [p, ops] of Object.entries(doc.paths)) {
        for (const [method, op] of Object.entries(ops)) {
          const statuses = Object.keys(op.responses).filter((s) => Number(s) >= 400);
          if (statuses.length === 0) problems.push(`${method} ${p}: no error answer documented`);
          for (const status of statuses) {
            const answer = op.responses[status]!;
            const schema = answer.content?.['application/json']?.schema;
            const where = `${method} ${p} ${status}`;
            if (p.startsWith('/vxp/')) {
              const candidates = schema === undefined ? [] : schema.anyOf ?? [schema];
              const sdkFail = candidates.some((c) => ['status', 'ErrorCode', 'ErrorDesc'].every((f) => c.properties?.[f] !== undefined));
              // downloadEdoc fails with no body (the SDK would save it as the document): the FAIL is a header.
              const headerFail = [answer.description, ...candidates.map((c) => c.description)].some((d) => /XroadVnpt-result/.test(d ?? ''));
              // Also the 503 of a hub shutting down: the SDK reads no other shape (sdk-shutdown.test.ts).
              if (!sdkFail && !headerFail) problems.push(`${where}: not the SDK's FAIL shape`);
              continue;
            }
            // /readyz's 503 is its own readiness report, or the error shape while the hub shuts down.
            const shapes = schema?.anyOf ?? [schema];
            const misses = shapes.map((s) => errorShapeProblem(s, fields, detailFields, codes));
            if (!misses.includes(null)) problems.push(`${where}: ${misses.join('; ')}`);
          }
        }
      }
    }
    expect(problems).toEqual([]);
  });
});

describe('answers', () => {
  it('match the schemas their documents give, success and error alike (checked with Ajv, JSON Schema 2020-12)', async () => {
    const docs = [(await get('/api/v1/openapi.json')).json, (await get('/api/admin/openapi.json')).json];
    const ajv = new Ajv2020({ strict: false, validateFormats: false });
    const problems: string[] = [];
    let checked = 0;
    const check = (method: string, url: string, status: number, body: unknown) => {
      const route = url.split('?')[0]!;
      const entry = docs.flatMap((d) => Object.entries(d.paths))
        .find(([p]) => new RegExp(`^${p.replace(/\{[^}]+\}/g, '[^/]+')}$`).test(route));
      const schema = entry?.[1][method.toLowerCase()]?.responses[String(status)]?.content?.['application/json']?.schema;
      if (schema === undefined) { problems.push(`${method} ${url} ${status}: not documented`); return; }
      checked++;
      if (!ajv.validate(schema, body)) problems.push(`${method} ${url} ${status}: ${ajv.errorsText()}`);
    };
    const school = n.agent('001.07.05.');
    const department = n.agent('000.00.12.');
    const agencyCall = async (agent: typeof school, method: string, url: string, body?: object) => {
      const r = await agent.request(method, url, body);
      check(method, url, r.status, r.json);
      return r;
    };
    const adminCall = async (hubUrl: string, method: string, url: string) => {
      const hub = n.hubs.findIndex((h) => h.url === hubUrl);
      const r = await n.admin(hub, method, url);
      check(method, url, r.status, r.json);
      return r;
    };

    const submitted = await school.submit(n.document(school, [department], 'Văn bản theo tài liệu'));
    check('POST', '/api/v1/edocs', submitted.status, submitted.json);
    const { docId } = submitted.json as { docId: string };
    await eventually(async () => ((await department.request('GET', '/api/v1/edocs/received')).json.items
      .some((i: { docId: string }) => i.docId === docId) ? true : undefined), 'the package delivered');
    await agencyCall(department, 'GET', '/api/v1/edocs/received');
    await agencyCall(school, 'GET', '/api/v1/edocs/sent');
    await agencyCall(school, 'GET', `/api/v1/edocs/${docId}/trace`);
    await agencyCall(department, 'POST', `/api/v1/edocs/${docId}/ack`, { result: 'done' });
    await agencyCall(department, 'GET', '/api/v1/edocs/received?limit=0'); // 400
    await agencyCall(department, 'GET', '/api/v1/edocs/not-a-doc-id'); // 404
    await agencyCall(department, 'POST', `/api/v1/edocs/${docId}/ack`, { result: 'fail' }); // 409
    for (const url of ['/api/admin/certs', '/api/admin/cas', '/api/admin/agencies', '/api/admin/audit', '/api/admin/hub-certs',
      '/api/admin/edocs', `/api/admin/edocs/${docId}`, '/api/admin/queues', '/api/admin/lanes', '/api/admin/dead-letters',
      '/api/admin/certs?expiring=soon', `/api/admin/edocs/${'0'.repeat(32)}`, '/readyz', '/healthz']) {
      await adminCall(school.url, 'GET', url);
    }
    const stranger = await fetch(`${school.url}/api/admin/certs`);
    check('GET', '/api/admin/certs', stranger.status, await stranger.json());
    expect(problems).toEqual([]);
    expect(checked).toBe(23);
  }, 60_000);
});

describe.skipIf(!hasChromium)('/docs', () => {
  it('renders both documents in Chromium from the hub\'s own assets, within its CSP', async () => {
    const browser = await launchChromium();
    try {
      const hub = n.hubs[0]!.url;
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      page.setDefaultTimeout(15_000);
      const violations: string[] = [];
      const elsewhere: string[] = [];
      page.on('console', (m) => { if (m.text().includes('Content Security Policy')) violations.push(m.text()); });
      page.on('request', (r) => { if (!r.url().startsWith(hub) && !r.url().startsWith('data:')) elsewhere.push(r.url()); });
      const res = await page.goto(`${hub}/docs`);
      expect(res?.headers()['content-security-policy']).toContain("default-src 'none'");
      await page.waitForSelector('.swagger-ui .info .title');
      expect(await page.textContent('.swagger-ui .info .title')).toContain('agency API');
      await page.waitForSelector('.opblock-summary-path[data-path="/api/v1/edocs"]');
      await page.screenshot({ path: path.join(ARTIFACTS, 'docs-agency.png'), fullPage: false });
      expect(violations).toEqual([]);
      expect(elsewhere).toEqual([]);
      // The console keeps its own strict CSP: no script at all.
      const consolePage = await fetch(`${hub}/admin/login`);
      expect(consolePage.headers.get('content-security-policy')).not.toContain('script-src');
    } finally {
      await browser.close();
    }
  }, 60_000);
});
