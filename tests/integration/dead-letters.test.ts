// Dead letters: listed with their reason from the ledger's copy (browsing touches no queue),
// exported as CSV, inspected, replayed once the cause is fixed (the hop check runs again and the
// package is delivered), deleted; roles enforced and every action audited.
import { describe, expect, it } from 'vitest';
import { createCrl, type KeyAndCert } from '../../src/pki/dev-pki.js';
import { hashApiKey } from '../../src/http/auth.js';
import { eventually, networkCa, revokedAtDistrict, type Agent, type TestNetwork } from '../helpers/network.js';
import { useTestNetwork } from '../helpers/shared-network.js';

const WATCHER = 'watcher-token-dead-letters';
let n: TestNetwork;
let school: Agent, department: Agent;
let ca: KeyAndCert;
const DAY = 86_400_000;

useTestNetwork({
  configFor: revokedAtDistrict('001.07.05.', (_id, config) =>
    ({ ...config, admins: [...config.admins, { name: 'watcher', tokenHash: hashApiKey(WATCHER), roles: ['observer' as const] }] })),
}, (started, a) => {
  n = started;
  ca = networkCa(n.net);
  ({ school, department } = a);
});

const admin = async (method: string, p: string, body?: object | Buffer, token = n.net.adminToken, type?: string) => {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-type'] = type ?? 'application/json';
  const res = await fetch(n.hubs[1]!.url + p, { method, headers, body: Buffer.isBuffer(body) ? body : body && JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, text, json: (res.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) as any : undefined };
};

describe('dead letters', () => {
  it('lists, exports, inspects, replays after the fix, deletes; roles and audit', async () => {
    const docIds: string[] = [];
    for (const subject of ['Một', 'Hai']) docIds.push((await school.submit(n.document(school, [department], subject))).json.docId);
    const listed = await eventually(async () => {
      const r = await admin('GET', `/api/admin/dead-letters?reason=CERT_REVOKED&agency=${school.agency.code}`);
      return r.json.total === 2 ? r.json : undefined;
    }, 'two dead letters');
    expect(listed.items.map((d: { docId: string }) => d.docId).sort()).toEqual([...docIds].sort());
    expect((await admin('GET', '/api/admin/dead-letters?reason=SCHEMA_INVALID')).json.total).toBe(0);

    const csv = await admin('GET', '/api/admin/dead-letters.csv');
    expect(csv.text.split('\r\n')[0]).toBe('id,deadAt,docId,kind,sender,reasonCode,reason,bytes');
    expect(csv.text).toContain(docIds[0]!);

    const [first, second] = listed.items as { id: number; docId: string }[];
    const inspected = await admin('GET', `/api/admin/dead-letters/${first!.id}`);
    expect(inspected.json).toMatchObject({ reasonCode: 'CERT_REVOKED', headers: { 'x-lgsp-doc-id': first!.docId }, preview: expect.stringContaining('edXML') });

    // An observer may look but not act; an agency key may not even look.
    expect((await admin('GET', '/api/admin/dead-letters', undefined, WATCHER)).status).toBe(200);
    expect(await admin('POST', `/api/admin/dead-letters/${first!.id}/replay`, undefined, WATCHER)).toMatchObject({ status: 403, json: { error: { code: 'FORBIDDEN' } } });
    expect((await admin('GET', '/api/admin/dead-letters', undefined, school.agency.apiKey)).status).toBe(403);

    // Fix the cause (a newer CRL without the school), then replay: the hop check runs again.
    const crl = await createCrl(ca, [], new Date(Date.now() + 1000), new Date(Date.now() + DAY));
    expect((await admin('POST', '/api/admin/crls', Buffer.from(crl), n.net.adminToken, 'application/x-pem-file')).status).toBe(200);
    expect(await admin('POST', `/api/admin/dead-letters/${first!.id}/replay`)).toMatchObject({ status: 200, json: { replayed: true } });
    await eventually(async () => ((await department.request('GET', '/api/v1/edocs/received')).json.items
      .some((i: { docId: string }) => i.docId === first!.docId) ? true : undefined), 'the replayed package delivered');

    expect(await admin('POST', '/api/admin/dead-letters/delete', { ids: [second!.id, 99_999] })).toMatchObject({ status: 200, json: { deleted: [second!.id], notFound: [99_999] } });
    expect((await admin('GET', '/api/admin/dead-letters')).json.total).toBe(0);
    expect((await admin('GET', `/api/admin/dead-letters/${second!.id}`)).status).toBe(404);

    const audit = (await admin('GET', '/api/admin/audit')).json.items.map((e: { action: string }) => e.action);
    expect(audit).toEqual(expect.arrayContaining(['dead-letter.replay', 'dead-letter.delete']));
  });
});
