// Access between agencies and to admin routes, beyond the codes of http-errors.test.ts: another
// agency's document answers exactly as a document that does not exist (nothing revealed), its
// acknowledgement changes nothing, lists never show others' documents, no one submits as
// another agency, and credentials never cross between the agency API and the admin side.
import { describe, expect, it } from 'vitest';
import { eventually, type Agent, type TestNetwork } from '../helpers/network.js';
import { useTestNetwork } from '../helpers/shared-network.js';

let n: TestNetwork;
let sender: Agent, recipient: Agent, neighbour: Agent;
let docId: string;
const NO_SUCH = '0123456789abcdef0123456789abcdef';

useTestNetwork({}, async (started, a) => {
  n = started;
  // The neighbour is served by the recipient's hub.
  ({ commune: sender, department: recipient, nghiLoc: neighbour } = a);
  const r = await sender.submit(n.document(sender, [recipient], 'Chỉ gửi Sở Nội vụ'));
  expect(r.status).toBe(202);
  docId = r.json.docId;
  await eventually(async () => (await received(recipient)).includes(docId) || undefined, 'the document in its recipient\'s mailbox');
});

const received = async (a: Agent) => ((await a.request('GET', '/api/v1/edocs/received?limit=1000')).json.items as { docId: string }[]).map((i) => i.docId);
/** Status, code and message with the doc id blanked, to compare a hidden document with a missing one. */
const answer = async (a: Agent, method: string, path: (id: string) => string, id: string, body?: object) => {
  const r = await a.request(method, path(id), body);
  return { status: r.status, code: r.json?.error?.code, message: String(r.json?.error?.message).replaceAll(id, '<id>') };
};
const CALLS: [string, string, (id: string) => string, object?][] = [
  ['download', 'GET', (id) => `/api/v1/edocs/${id}`],
  ['trace', 'GET', (id) => `/api/v1/edocs/${id}/trace`],
  ['ack', 'POST', (id) => `/api/v1/edocs/${id}/ack`, { result: 'done' }],
];

describe('another agency\'s document', () => {
  it.each(CALLS)('%s answers exactly as for a document that does not exist', async (_name, method, path, body) => {
    const hidden = await answer(neighbour, method, path, docId, body);
    expect(hidden).toEqual(await answer(neighbour, method, path, NO_SUCH, body));
    expect(hidden).toMatchObject({ status: 404, code: 'NOT_FOUND' });
  });

  it('is still pending for its recipient after a stranger acknowledged it, and readable by the recipient', async () => {
    expect((await neighbour.request('POST', `/api/v1/edocs/${docId}/ack`, { result: 'fail', reason: 'not mine' })).status).toBe(404);
    expect(await received(recipient)).toContain(docId);
    const sent = (await sender.request('GET', '/api/v1/edocs/sent?limit=1000')).json.items as { docId: string; recipients: { delivery: string }[] }[];
    expect(sent.find((s) => s.docId === docId)?.recipients[0]?.delivery).not.toBe('acked');
    expect((await recipient.request('GET', `/api/v1/edocs/${docId}`)).status).toBe(200);
    expect((await recipient.request('GET', `/api/v1/edocs/${docId}/trace`)).status).toBe(200);
    expect((await sender.request('GET', `/api/v1/edocs/${docId}/trace`)).status).toBe(200);
  });

  it('never appears in a stranger\'s received or sent list', async () => {
    expect(await received(neighbour)).not.toContain(docId);
    const sent = (await neighbour.request('GET', '/api/v1/edocs/sent?limit=1000')).json.items as { docId: string }[];
    expect(sent.map((s) => s.docId)).not.toContain(docId);
    const recipientSent = (await recipient.request('GET', '/api/v1/edocs/sent?limit=1000')).json.items as { docId: string }[];
    expect(recipientSent.map((s) => s.docId)).not.toContain(docId);
  });
});

describe('submitting as another agency', () => {
  it('is refused whether the package is signed by that agency or only names it, and nothing is recorded for it', async () => {
    const asNeighbour = n.document(neighbour, [recipient], 'Mạo danh');
    const signedByNeighbour = await recipient.submit(asNeighbour);
    expect(signedByNeighbour.json.error.code).toBe('SENDER_MISMATCH');
    // The sender's own key on a package that names another agency as From.
    const forged = recipient.sign(Buffer.from(n.document(neighbour, [recipient], 'Mạo danh 2').toString('utf8')
      .replace(/<Signature xmlns="http:\/\/www\.w3\.org\/2000\/09\/xmldsig#">[\s\S]*<\/Signature>/, '')));
    const namedOnly = await recipient.submit(forged);
    expect([namedOnly.status, namedOnly.json.error.code]).toEqual([422, 'CERT_NOT_BOUND']);
    const sent = (await neighbour.request('GET', '/api/v1/edocs/sent?limit=1000')).json.items as { subject?: string }[];
    expect(sent.filter((s) => (s.subject ?? '').startsWith('Mạo danh'))).toEqual([]);
  });
});

describe('credentials across the agency API and the admin side', () => {
  const admin = (path: string, token: string) => fetch(n.hubs[0]!.url + path, { headers: { authorization: `Bearer ${token}` } })
    .then(async (r) => ({ status: r.status, code: ((await r.json()) as { error?: { code: string } }).error?.code }));

  it('an agency key on admin routes is FORBIDDEN, even for its own document', async () => {
    expect(await admin('/api/admin/edocs', recipient.agency.apiKey)).toEqual({ status: 403, code: 'FORBIDDEN' });
    expect(await admin(`/api/admin/edocs/${docId}`, recipient.agency.apiKey)).toEqual({ status: 403, code: 'FORBIDDEN' });
  });

  it('an agency key does not sign in to the console', async () => {
    const r = await fetch(`${n.hubs[0]!.url}/admin/login`, {
      method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: new URL(n.hubs[0]!.url).origin },
      body: `token=${encodeURIComponent(recipient.agency.apiKey)}`,
    });
    expect(r.headers.get('location')).toBe('/admin/login?error=1');
    expect(r.headers.get('set-cookie')).toBeNull();
  });

  it('an admin token is not an agency key', async () => {
    const r = await fetch(`${recipient.url}/api/v1/edocs/received`, { headers: { authorization: `Bearer ${n.net.adminToken}` } });
    expect(r.status).toBe(401);
  });
});
