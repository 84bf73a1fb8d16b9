// The national SDK dialect (/vxp) against a real three-hub network: an agency whose document
// system speaks only the SDK exchanges documents and statuses with an agency on the native API,
// across hubs, and every refusal comes in the dialect's FAIL shape with its ErrorCode.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { eventually, type Agent, type TestNetwork } from '../helpers/network.js';
import { useTestNetwork } from '../helpers/shared-network.js';
import { expectSdkFail as expectFail, sdkClient, type SdkClient } from '../helpers/sdk-client.js';

const MAX_BYTES = 64 * 1024;
let n: TestNetwork;
/** UBND xã Nghi Phú (commune hub) through the SDK; Sở Nội vụ (province hub) on /api/v1. */
let commune: Agent, department: Agent, school: Agent;
let sdk: SdkClient;

useTestNetwork({
  // A small size limit to test it, and one agency without an apiKeyFile (no /vxp for it). The
  // commune's client stamps each call, so it is held to the strict rules (window and replay).
  configFor: (_hubId, config) => ({
    ...config,
    policy: { ...config.policy, maxBytes: MAX_BYTES },
    sdk: { ...config.sdk, strict: { ...config.sdk.strict, agencies: config.agencies.filter((a) => a.code.startsWith('000.07.05.')).map((a) => a.code) } },
    agencies: config.agencies.map(({ apiKeyFile, ...a }) => (a.code.startsWith('001.07.05.') ? a : { ...a, apiKeyFile })),
  }),
}, (started, a) => {
  n = started;
  ({ commune, department, school } = a);
  sdk = sdkClient(`${commune.url}/vxp`, commune.agency.code, commune.agency.apiKey);
});

const documentIdOf = (bytes: Buffer) => /<edXML:DocumentId>([^<]+)<\/edXML:DocumentId>/.exec(bytes.toString('utf8'))![1]!;
const nativeInbox = (a: Agent) => a.request('GET', '/api/v1/edocs/received').then((r) => r.json.items as { docId: string; subject?: string }[]);
const sentRow = (docId: string, match: (row: any) => boolean) => eventually(async () => {
  const r = await sdk.call('POST', 'getSentEdocList');
  expect(r.json.status).toBe('OK');
  return (r.json.data as any[]).find((row) => row.docId === docId && match(row));
}, `${docId} in getSentEdocList`);

describe('the national SDK dialect', () => {
  it('sends an SDK agency\'s document to a native agency across hubs and carries its status 03 back', async () => {
    const doc = n.document(commune, [department], 'Công văn gửi qua SDK');
    const sent = await sdk.sendEdoc(doc, 'edoc');
    expect(sent.status, sent.bytes.toString()).toBe(200);
    expect(sent.json).toEqual({ status: 'OK', ErrorCode: '0', ErrorDesc: '', DocId: expect.stringMatching(/^[0-9a-f]{32}$/) });
    const docId: string = sent.json.DocId;
    expect((await sdk.sendEdoc(doc, 'edoc')).json.DocId).toBe(docId); // the same package: the same document (dedupe)

    // The native agency receives it byte-identical, acknowledges it and answers with status 03.
    await eventually(async () => (await nativeInbox(department)).find((i) => i.docId === docId), 'the document at Sở Nội vụ');
    expect((await department.request('GET', `/api/v1/edocs/${docId}`)).bytes.equals(doc)).toBe(true);
    expect((await department.request('POST', `/api/v1/edocs/${docId}/ack`, { result: 'done' })).status).toBe(200);
    const status = n.status(department, '03', { OrganId: commune.agency.code, DocumentId: documentIdOf(doc) });
    const answered = await department.submit(status);
    expect(answered.status, JSON.stringify(answered.json)).toBe(202);
    const statusId: string = answered.json.docId;

    // The SDK agency polls for it, downloads it both ways and acknowledges it.
    const row = await sdk.pollReceived('status', (r) => r.docId === statusId);
    expect(row).toMatchObject({ serviceType: 'eDoc', messageType: 'status', from: department.agency.code, to: commune.agency.code, status: 'delivered', statusCode: '03' });
    expect(row.created_time).toMatch(/^\d{8}T\d{6}\+\d{4}$/);
    expect((await sdk.call('POST', 'countReceiveEdoc', { servicetype: 'eDoc', messagetype: 'status' })).json).toMatchObject({ status: 'OK', data: 1 });
    const got = await sdk.call('POST', 'getEdoc', { docId: statusId });
    expect(got.json).toMatchObject({ status: 'OK', ErrorCode: '0', DocId: statusId });
    const downloaded = await sdk.call('GET', 'downloadEdoc', { docId: statusId });
    expect(downloaded.status).toBe(200);
    expect(Buffer.from(got.json.data, 'base64').equals(status)).toBe(true);
    expect(downloaded.bytes.equals(status)).toBe(true);
    // status in a JSON body: accepted because the commune is in sdk.strict (fresh, never replayed);
    // outside it, docId and status must be signed (national-sdk-conformance.test.ts, the replay).
    expect((await sdk.call('POST', 'updateStatus', { docId: statusId }, { status: 'done' })).json).toEqual({ status: 'OK', ErrorCode: '0', ErrorDesc: '', DocId: statusId });
    const after = await sdk.call('POST', 'getReceivedEdocList', { servicetype: 'eDoc', messagetype: 'status' });
    expect(after.json.data.map((r: { docId: string }) => r.docId)).not.toContain(statusId);
    expect((await sdk.call('POST', 'countReceiveEdoc')).json.data).toBe(0);

    // Both layers reach the other side: the business status 03 at the SDK sender, the transport
    // acknowledgement (updateStatus done) at the native sender of the status.
    expect(await sentRow(docId, (r) => r.status === 'acked' && r.statusCode === '03'))
      .toMatchObject({ messageType: 'edoc', from: commune.agency.code, to: department.agency.code, subject: 'Công văn gửi qua SDK' });
    await eventually(async () => {
      const items = (await department.request('GET', '/api/v1/edocs/sent')).json.items as { docId: string; recipients: { delivery: string }[] }[];
      return items.find((i) => i.docId === statusId)?.recipients[0]?.delivery === 'acked' ? true : undefined;
    }, 'the SDK agency\'s acknowledgement at Sở Nội vụ');
  });

  it('delivers a native agency\'s document to the SDK agency, which answers with status 03 through sendEdoc', async () => {
    const doc = n.document(department, [commune], 'Công văn từ Sở Nội vụ');
    const submitted = await department.submit(doc);
    expect(submitted.status).toBe(202);
    const docId: string = submitted.json.docId;

    const row = await sdk.pollReceived('edoc', (r) => r.docId === docId);
    expect(row).toMatchObject({ messageType: 'edoc', from: department.agency.code, to: commune.agency.code, subject: 'Công văn từ Sở Nội vụ' });
    const got = await sdk.call('POST', 'getEdoc', { docId });
    const downloaded = await sdk.call('GET', 'downloadEdoc', { docId });
    expect(Buffer.from(got.json.data, 'base64').equals(doc)).toBe(true);
    expect(downloaded.bytes.equals(doc)).toBe(true);
    // Form parameters, as clients that stamp each call post them (the commune is in sdk.strict).
    expect((await sdk.call('POST', 'updateStatus', { docId }, new URLSearchParams({ status: 'done' }))).json.status).toBe('OK');

    const status = n.status(commune, '03', { OrganId: department.agency.code, DocumentId: documentIdOf(doc) });
    const answered = await sdk.sendEdoc(status, 'status');
    expect(answered.json, answered.bytes.toString()).toMatchObject({ status: 'OK', DocId: expect.any(String) });
    await eventually(async () => {
      const items = (await department.request('GET', '/api/v1/edocs/sent')).json.items as { docId: string; recipients: { delivery: string; status?: string }[] }[];
      const r = items.find((i) => i.docId === docId)?.recipients[0];
      return r?.delivery === 'acked' && r.status === '03' ? r : undefined;
    }, 'acked and status 03 at Sở Nội vụ');
    expect((await nativeInbox(department)).map((i) => i.docId)).toContain(answered.json.DocId);
  });

  it('refuses a wrong HMAC, a stale or future timestamp, a replay and unsigned headers, and stores nothing', async () => {
    const before = (await sdk.call('POST', 'getSentEdocList')).json.data.length;
    const doc = n.document(commune, [department], 'Không được nhận: HMAC sai');
    expectFail(await sdk.sendEdoc(doc, 'edoc', { secret: 'not the key' }), 401, '12', 'HMAC_MISMATCH');
    expectFail(await sdk.sendEdoc(doc, 'edoc', { at: new Date(Date.now() - 6 * 60_000) }), 401, '13', 'TIMESTAMP_REFUSED');
    expectFail(await sdk.sendEdoc(doc, 'edoc', { at: new Date(Date.now() + 6 * 60_000) }), 401, '13', 'TIMESTAMP_REFUSED');

    const signed = sdk.sign({ servicetype: 'eDoc', messagetype: 'edoc' });
    expect((await sdk.send('POST', 'getReceivedEdocList', signed)).json.status).toBe('OK');
    expectFail(await sdk.send('POST', 'getReceivedEdocList', signed), 401, '14', 'REPLAYED');

    // A header changed after signing, one sent unsigned, a malformed timestamp, no signature at all.
    expectFail(await sdk.send('POST', 'countReceiveEdoc', { ...sdk.sign({ messagetype: 'edoc' }), 'XroadVnpt-messagetype': 'status' }), 401, '11', 'HEADERS_INVALID');
    expectFail(await sdk.send('POST', 'countReceiveEdoc', { ...sdk.sign({}), 'XroadVnpt-docId': '0'.repeat(32) }), 401, '11', 'HEADERS_INVALID');
    expectFail(await sdk.call('POST', 'countReceiveEdoc', { timestamp: '2026-01-01T00:00:00Z' }), 401, '13', 'TIMESTAMP_REFUSED');
    expectFail(await sdk.send('POST', 'countReceiveEdoc', { 'XroadVnpt-systemid': commune.agency.code }), 401, '11', 'HEADERS_INVALID');

    // An agency of another hub, and one without an apiKeyFile.
    const elsewhere = sdkClient(`${commune.url}/vxp`, department.agency.code, department.agency.apiKey);
    expectFail(await elsewhere.call('POST', 'countReceiveEdoc'), 401, '10', 'UNAUTHENTICATED');
    const noSecret = sdkClient(`${school.url}/vxp`, school.agency.code, school.agency.apiKey);
    expectFail(await noSecret.call('POST', 'countReceiveEdoc'), 401, '15', 'NO_SECRET');
    expect((await school.request('GET', '/api/v1/edocs/received')).status).toBe(200); // its Bearer key still works

    expect((await sdk.call('POST', 'getSentEdocList')).json.data).toHaveLength(before);
    await expectNotDelivered(['Không được nhận: HMAC sai']);
  });

  it('refuses packages the hop check or the sender binding refuses, in the dialect\'s shape', async () => {
    const before = (await sdk.call('POST', 'getSentEdocList')).json.data.length;
    const good = n.document(commune, [department], 'Không được nhận: chữ ký sai');
    const tampered = Buffer.from(good.toString('utf8').replace('Không được nhận: chữ ký sai', 'Không được nhận: chữ ký SAI'), 'utf8');
    expectFail(await sdk.sendEdoc(tampered, 'edoc'), 422, '41', 'SIGNATURE_INVALID');

    const declaredStatus = n.document(commune, [department], 'Không được nhận: khai sai loại');
    expectFail(await sdk.sendEdoc(declaredStatus, 'status'), 400, '32', 'SCHEMA_INVALID');
    const othersDoc = n.document(school, [department], 'Không được nhận: không phải người gửi');
    expectFail(await sdk.sendEdoc(othersDoc, 'edoc'), 403, '22', 'SENDER_MISMATCH');
    const form = new FormData();
    form.append('file_doc', new Blob([good]), 'a.edxml');
    expectFail(await sdk.call('POST', 'sendEdoc', { from: school.agency.code, servicetype: 'eDoc', messagetype: 'edoc' }, form), 403, '22', 'SENDER_MISMATCH');

    const huge = new FormData();
    huge.append('file_doc', new Blob([Buffer.alloc(MAX_BYTES + 1, 0x20)]), 'huge.edxml');
    expectFail(await sdk.call('POST', 'sendEdoc', { from: commune.agency.code }, huge), 413, '60', 'PAYLOAD_TOO_LARGE');
    // The raw body may carry the SDK's CRLF beyond the limit, never more; the package itself at most the limit.
    const raw = (body: Buffer) => sdk.send('POST', 'sendEdoc', { ...sdk.sign({ from: commune.agency.code }), 'content-type': 'application/octet-stream' }, body);
    expectFail(await raw(Buffer.alloc(MAX_BYTES + 3, 0x20)), 413, '60', 'PAYLOAD_TOO_LARGE');
    expectFail(await raw(Buffer.alloc(MAX_BYTES + 2, 0x20)), 413, '60', 'PAYLOAD_TOO_LARGE');
    const misnamed = new FormData();
    misnamed.append('file', new Blob([good]), 'a.edxml');
    expectFail(await sdk.call('POST', 'sendEdoc', {}, misnamed), 400, '32', 'SCHEMA_INVALID');
    expectFail(await sdk.call('POST', 'sendEdoc', {}, { file_doc: good.toString('base64') }), 415, '61', 'UNSUPPORTED_MEDIA_TYPE');

    expect((await sdk.call('POST', 'getSentEdocList')).json.data).toHaveLength(before);
    await expectNotDelivered(['Không được nhận: chữ ký', 'Không được nhận: khai sai loại', 'Không được nhận: không phải người gửi']);
  });

  it('refuses unknown documents, keeps the registry to administrators and answers unknown calls', async () => {
    for (const docId of ['0'.repeat(32), 'not-a-doc-id']) {
      expectFail(await sdk.call('POST', 'getEdoc', { docId }), 404, '51', 'NOT_FOUND');
      expectFail(await sdk.call('GET', 'downloadEdoc', { docId }), 404, '51', 'NOT_FOUND');
      expectFail(await sdk.call('POST', 'updateStatus', { docId }, { status: 'done' }), 404, '51', 'NOT_FOUND');
    }
    // Another agency's document is no document of this caller's.
    const doc = n.document(department, [school], 'Gửi trường, không gửi xã');
    const toSchool = (await department.submit(doc)).json.docId as string;
    await eventually(async () => (await nativeInbox(school)).find((i) => i.docId === toSchool), 'the document at the school');
    expectFail(await sdk.call('POST', 'getEdoc', { docId: toSchool }), 404, '51', 'NOT_FOUND');
    expectFail(await sdk.call('POST', 'updateStatus', { docId: toSchool }, { status: 'done' }), 404, '51', 'NOT_FOUND');
    expectFail(await sdk.call('POST', 'updateStatus', {}, { status: 'done' }), 400, '32', 'SCHEMA_INVALID');
    expectFail(await sdk.call('POST', 'updateStatus', { docId: toSchool }, { status: 'maybe' }), 400, '32', 'SCHEMA_INVALID');

    const agencies = await sdk.call('POST', 'getAgenciesList');
    expect(agencies.json.status).toBe('OK');
    expect(agencies.json.data.map((a: { code: string }) => a.code)).toEqual(n.net.agencies.map((a) => a.code).sort());
    expectFail(await sdk.call('POST', 'registerAgency', {}, { code: '000.09.05.X00', name: 'x' }), 403, '21', 'USE_ADMIN_API');
    expectFail(await sdk.call('POST', 'deleteAgency', {}, { code: department.agency.code }), 403, '21', 'USE_ADMIN_API');
    expect((await sdk.call('POST', 'getAgenciesList')).json.data).toHaveLength(n.net.agencies.length);
    expectFail(await sdk.call('POST', 'registerAgency', {}, {}, { secret: 'wrong' }), 401, '12', 'HMAC_MISMATCH');

    expectFail(await sdk.call('POST', 'noSuchCall'), 404, '51', 'NOT_FOUND');
    // An empty JSON body is no parameters; a body the dialect does not use is not read.
    expect((await sdk.send('POST', 'countReceiveEdoc', { ...sdk.sign({}), 'content-type': 'application/json' })).json.status).toBe('OK');
    expectFail(await sdk.send('POST', 'getEdoc', { ...sdk.sign({ docId: toSchool }), 'content-type': 'text/plain' }, Buffer.alloc(1024, 0x20)), 415, '61', 'UNSUPPORTED_MEDIA_TYPE');
  });
});

/**
 * Refused packages never reach the recipient: a good document sent after them arrives, and by
 * then none of theirs has (each hop is first-in first-out for one sender).
 */
async function expectNotDelivered(subjects: string[]): Promise<void> {
  const marker = n.document(commune, [department], `Mốc ${createHash('sha256').update(subjects.join()).digest('hex').slice(0, 8)}`);
  const sent = await sdk.sendEdoc(marker, 'edoc');
  expect(sent.json.status).toBe('OK');
  const inbox = await eventually(async () => {
    const items = await nativeInbox(department);
    return items.some((i) => i.docId === sent.json.DocId) ? items : undefined;
  }, 'the marker document at Sở Nội vụ');
  for (const s of subjects) expect(inbox.filter((i) => i.subject?.startsWith(s))).toEqual([]);
}
