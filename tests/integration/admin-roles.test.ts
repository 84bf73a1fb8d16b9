// Every admin endpoint against every kind of caller: no token (401), an agency API key (403),
// and a token holding one role each. A caller with the role gets past authorization (the call
// may still fail on its dummy input, with its own code); one without gets 403.
import { describe, expect, it } from 'vitest';
import { hashApiKey } from '../../src/http/auth.js';
import type { AdminRole } from '../../src/config.js';
import type { TestNetwork } from '../helpers/network.js';
import { useTestNetwork } from '../helpers/shared-network.js';

const TOKENS: Record<AdminRole, string> = { observer: 'role-observer', operator: 'role-operator', security: 'role-security' };
let n: TestNetwork;

useTestNetwork({
  configFor: (_id, c) => ({ ...c, admins: Object.entries(TOKENS).map(([role, token]) => ({ name: role, tokenHash: hashApiKey(token), roles: [role as AdminRole] })) }),
}, (started) => { n = started; });

const FP = 'ab'.repeat(32);
type Need = 'read' | 'operator' | 'security';
const ENDPOINTS: [string, string, Need, unknown?][] = [
  ['GET', '/api/admin/queues', 'read'],
  ['GET', '/api/admin/queues/lgsp.none.ingress/messages', 'read'],
  ['GET', '/api/admin/lanes', 'read'],
  ['POST', '/api/admin/queues/lgsp.none.ingress/pause', 'operator', {}],
  ['POST', '/api/admin/queues/lgsp.none.ingress/resume', 'operator', {}],
  ['GET', '/api/admin/dead-letters', 'read'],
  ['GET', '/api/admin/dead-letters.csv', 'read'],
  ['GET', '/api/admin/dead-letters/1', 'read'],
  ['GET', '/api/admin/edocs', 'read'],
  ['GET', `/api/admin/edocs/${'0'.repeat(32)}`, 'read'],
  ['GET', '/api/admin/certs', 'read'],
  ['GET', '/api/admin/cas', 'read'],
  ['GET', '/api/admin/hub-certs', 'read'],
  ['GET', '/api/admin/agencies', 'read'],
  ['GET', '/api/admin/audit', 'read'],
  ['POST', '/api/admin/dead-letters/1/replay', 'operator'],
  ['DELETE', '/api/admin/dead-letters/1', 'operator'],
  ['POST', '/api/admin/dead-letters/replay', 'operator', { ids: [1] }],
  ['POST', '/api/admin/dead-letters/delete', 'operator', { ids: [1] }],
  ['POST', '/api/admin/certs', 'security', { agency: 'x', pem: 'x' }],
  ['POST', `/api/admin/certs/${FP}/retire`, 'security', {}],
  ['POST', `/api/admin/certs/${FP}/revoke`, 'security', {}],
  ['POST', '/api/admin/crls', 'security', { not: 'a crl' }],
  ['POST', '/api/admin/cas', 'security', { pem: 'x' }],
  ['POST', `/api/admin/cas/${FP}/remove`, 'security', {}],
  ['POST', '/api/admin/hub-key/rotate', 'security', { keyPem: 'x', certPem: 'x' }],
  ['POST', '/api/admin/agencies', 'security', { code: 'bad', name: 'x' }],
];
const allowed = (need: Need, role: AdminRole) => need === 'read' || need === role;

describe('admin roles', () => {
  it.each(ENDPOINTS)('%s %s', async (method, path, need, body) => {
    const call = (token?: string) => fetch(n.hubs[0]!.url + path, {
      method, body: body === undefined ? undefined : JSON.stringify(body),
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    }).then((r) => r.status);
    expect(await call()).toBe(401);
    expect(await call(n.net.agencies[0]!.apiKey)).toBe(403);
    for (const role of Object.keys(TOKENS) as AdminRole[]) {
      const status = await call(TOKENS[role]);
      if (allowed(need, role)) expect([401, 403], `${role} on ${method} ${path}`).not.toContain(status);
      else expect(status, `${role} on ${method} ${path}`).toBe(403);
    }
  });
});

describe('a role is checked from the headers', () => {
  it('refuses a caller without the role before its body is read or checked (a broken body is FORBIDDEN, not SCHEMA_INVALID)', async () => {
    for (const path of ['/api/admin/certs', '/api/admin/dead-letters/replay']) {
      const r = await fetch(n.hubs[0]!.url + path, {
        method: 'POST', body: '{"broken', headers: { authorization: `Bearer ${TOKENS.observer}`, 'content-type': 'application/json' },
      });
      expect([r.status, ((await r.json()) as { error: { code: string } }).error.code], path).toEqual([403, 'FORBIDDEN']);
    }
  });
});
