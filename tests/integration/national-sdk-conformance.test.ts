// Conformance with the real national SDK (SDKVXP 2.0.1): JavaSdkService (tests/helpers/sdk-client.ts)
// makes each call the way the SDK does (one header map per service object, accumulated and
// signed with bare names, a timestamp set once, sendEdoc as raw bytes plus CRLF, parameters and
// the status in signed headers) and reads each answer the way it does. The hubs run on a clock
// the test moves, so one service object is used across an hour. Also: the first acknowledgement
// wins on both faces (/vxp updateStatus and /api/v1 ack).
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { eventually, type Agent, type TestNetwork } from '../helpers/network.js';
import { useTestNetwork } from '../helpers/shared-network.js';
import { expectSdkFail as expectFail, JavaSdkService, SENT_FIELDS, sdkClient, type SdkClient, type WireCall } from '../helpers/sdk-client.js';

let n: TestNetwork;
let nowMs = Date.now();
const clock = () => new Date(nowMs);
/** UBND xã Nghi Phú (commune hub) and Sở Nội vụ (province hub), both through the SDK; the district hub between them. */
let commune: Agent, department: Agent;

useTestNetwork({ clock }, (started, a) => { n = started; ({ commune, department } = a); });

const HOUR = 3_600_000;
const documentIdOf = (bytes: Buffer) => /<edXML:DocumentId>([^<]+)<\/edXML:DocumentId>/.exec(bytes.toString('utf8'))![1]!;
const sdkOf = (a: Agent, options: ConstructorParameters<typeof JavaSdkService>[3] = {}) =>
  new JavaSdkService(`${a.url}/vxp`, a.agency.code, a.agency.apiKey, { clock, ...options });
const strictClient = (a: Agent): SdkClient => sdkClient(`${a.url}/vxp`, a.agency.code, a.agency.apiKey);

/** JSON nulls anywhere in a value (the SDK's gson getAsString throws on one). */
function nullsIn(value: unknown, at = '$'): string[] {
  if (value === null) return [at];
  if (typeof value !== 'object') return [];
  return Object.entries(value as object).flatMap(([k, v]) => nullsIn(v, `${at}.${k}`));
}

/** What every JSON answer the SDK reads must be: status, ErrorCode, ErrorDesc as strings, no null. */
function expectSdkShape(call: WireCall): void {
  const { reply } = call;
  if (call.path === '/downloadEdoc') return;
  expect(reply.json, `${call.path}: ${reply.bytes.toString()}`).toBeDefined();
  expect(nullsIn(reply.json), call.path).toEqual([]);
  for (const f of ['status', 'ErrorCode', 'ErrorDesc']) expect(typeof reply.json[f], `${call.path} ${f}`).toBe('string');
  if (reply.json.status === 'OK') expect(reply.status, call.path).toBe(200);
  if (call.path === '/sendEdoc') expect(typeof reply.json.DocId, 'sendEdoc DocId').toBe('string');
}

describe('the real SDK\'s wire format', () => {
  it('carries a document and its status 03 between two SDK agencies with service objects kept for an hour', async () => {
    // The commune's JVM runs in UTC, the department's in Vietnam time; the commune's object is
    // built an hour before it is used again, with the same timestamp on every call.
    const communeSdk = sdkOf(commune, { zone: 'UTC' });
    const departmentSdk = sdkOf(department, { zone: 'Asia/Ho_Chi_Minh' });
    const stamp = communeSdk.header('timestamp');

    const doc = n.document(commune, [department], 'Công văn qua SDK <thật> & đủ');
    const sent = await communeSdk.sendEdoc({ from: commune.agency.code, to: [department.agency.code], servicetype: 'eDoc', messagetype: 'edoc' }, doc);
    expect(sent, JSON.stringify(sent)).toMatchObject({ status: 'OK', errorCode: '0', docId: expect.stringMatching(/^[0-9a-f]{32}$/) });
    const docId = sent.docId;
    // On the wire: the raw file and the SDK's CRLF, application/octet-stream, hash-file without leading zeros.
    const sendCall = communeSdk.wire[0]!;
    expect(sendCall.body.equals(Buffer.concat([doc, Buffer.from('\r\n')]))).toBe(true);
    expect(sendCall.headers['Content-Type']).toBe('application/octet-stream');
    expect(sendCall.headers['XroadVnpt-sign-header-key']).not.toContain('XroadVnpt-');
    // The same file again, from the same object: the same document.
    expect((await communeSdk.sendEdoc({ from: commune.agency.code, servicetype: 'eDoc', messagetype: 'edoc' }, doc)).docId).toBe(docId);

    nowMs += HOUR;

    // The department finds it, reads it both ways (filePath is signed too, with characters gson escapes) and acknowledges it.
    const row = await eventually(async () => (await departmentSdk.getReceivedEdocList({ servicetype: 'eDoc', messagetype: 'edoc' })).knobsticks.find((k) => k.docId === docId), 'the document at Sở Nội vụ');
    expect(row).toMatchObject({ serviceType: 'eDoc', messageType: 'edoc', from: commune.agency.code, to: department.agency.code });
    expect((await departmentSdk.countReceiveEdoc({})).count).toBe(1);
    const got = await departmentSdk.getEdoc({ docId, filePath: '/var/vxp/in?ngay=06&loai=<edoc>' });
    expect(got.status).toBe('OK');
    expect(got.data!.equals(doc)).toBe(true);
    const downloaded = await departmentSdk.downloadEdoc({ docId, filePath: '/var/vxp/in' });
    expect(downloaded.status).toBe('SUCCESS');
    expect(downloaded.saved.equals(doc), 'the package saved is the file the commune signed, byte for byte').toBe(true);

    // processing changes nothing; done stands; done again is the same answer; fail after it is refused.
    expect(await departmentSdk.updateStatus({ docId, status: 'processing' })).toMatchObject({ status: 'OK', errorCode: '0' });
    expect((await departmentSdk.getReceivedEdocList({})).knobsticks.map((k) => k.docId)).toContain(docId);
    expect(await departmentSdk.updateStatus({ docId, status: 'done' })).toMatchObject({ status: 'OK', errorCode: '0' });
    expect(await departmentSdk.updateStatus({ docId, status: 'done' })).toMatchObject({ status: 'OK', errorCode: '0' });
    expect(await departmentSdk.updateStatus({ docId, status: 'fail' })).toMatchObject({ status: 'FAIL', errorCode: '53', errorDesc: expect.stringMatching(/^ACK_CONFLICT: /) });
    expect(departmentSdk.wire.at(-1)!.reply.status).toBe(409);
    expect(await departmentSdk.updateStatus({ docId, status: 'processing' })).toMatchObject({ status: 'FAIL', errorCode: '53' });
    // The status header of the last call is still in the map, signed: listing is unaffected by it.
    expect(departmentSdk.wire.at(-1)!.headers['XroadVnpt-status']).toBe('processing');
    expect((await departmentSdk.getReceivedEdocList({ messagetype: 'edoc' })).knobsticks.map((k) => k.docId)).not.toContain(docId);

    // The department answers with status 03 through sendEdoc (its map still holds docId, status, filePath).
    const status = n.status(department, '03', { OrganId: commune.agency.code, DocumentId: documentIdOf(doc) });
    const answered = await departmentSdk.sendEdoc({ from: department.agency.code, to: [commune.agency.code], servicetype: 'eDoc', messagetype: 'status' }, status);
    expect(answered, JSON.stringify(answered)).toMatchObject({ status: 'OK', docId: expect.stringMatching(/^[0-9a-f]{32}$/) });
    expect(departmentSdk.wire.at(-1)!.headers['XroadVnpt-docId']).toBe(docId);

    nowMs += HOUR / 2;

    // The commune, with the object built 90 minutes ago, finds the status and acknowledges it.
    const statusRow = await eventually(async () => (await communeSdk.getReceivedEdocList({ servicetype: 'eDoc', messagetype: 'status' })).knobsticks.find((k) => k.docId === answered.docId), 'the status at the commune');
    expect(statusRow).toMatchObject({ messageType: 'status', from: department.agency.code });
    expect((await communeSdk.downloadEdoc({ docId: answered.docId, filePath: '/tmp' })).saved.equals(status)).toBe(true);
    expect((await communeSdk.getEdoc({ docId: answered.docId })).data!.equals(status)).toBe(true);
    expect(await communeSdk.updateStatus({ docId: answered.docId, status: 'done' })).toMatchObject({ status: 'OK' });
    // The same signed headers twice in a row: the SDK repeats them, and the hub answers both.
    const first = await communeSdk.countReceiveEdoc({});
    const again = await communeSdk.countReceiveEdoc({});
    expect([first.status, again.status]).toEqual(['OK', 'OK']);
    expect(communeSdk.wire.at(-1)!.headers['XroadVnpt-hash-header']).toBe(communeSdk.wire.at(-2)!.headers['XroadVnpt-hash-header']);

    // The commune's sent list: every field the SDK reads, as strings, showing acked and status 03.
    const sentRow = await eventually(async () => {
      const list = await communeSdk.getSentEdocList({});
      const r = list.statusResult.find((s) => s.senderDocId === docId);
      return r?.sendStatus === 'acked' && r.receiveStatus === '03' ? r : undefined;
    }, 'acked and status 03 in the commune\'s getSentEdocList');
    expect(Object.keys(sentRow).sort()).toEqual([...SENT_FIELDS].sort());
    expect(sentRow).toMatchObject({ receiverDocId: docId, fromCode: commune.agency.code, toCode: department.agency.code, title: 'Công văn qua SDK <thật> & đủ', messageType: 'edoc', serviceType: 'eDoc' });
    expect(sentRow.sentTime).toMatch(/^\d{8}T\d{6}\+\d{4}$/);

    const agencies = await communeSdk.getAgenciesList({});
    expect(agencies.status).toBe('OK');
    expect(agencies.agencies.map((a) => a.code)).toEqual(n.net.agencies.map((a) => a.code).sort());
    for (const a of agencies.agencies) expect(Object.keys(a).sort()).toEqual(['code', 'id', 'mail', 'name', 'oldCode', 'pid']);

    // Every call of both objects: the SDK's shape, the object's one timestamp, headers accumulated.
    for (const call of [...communeSdk.wire, ...departmentSdk.wire]) expectSdkShape(call);
    expect(new Set(communeSdk.wire.map((c) => c.headers['XroadVnpt-timestamp']))).toEqual(new Set([stamp]));
    expect(communeSdk.wire.at(-1)!.headers['XroadVnpt-sign-header-key']!.split(';')).toEqual(expect.arrayContaining(['hash-file', 'from', 'to', 'docId', 'filePath', 'status']));
  });

  it('stores sendEdoc\'s raw body as the file: with or without the SDK\'s CRLF or a content-type, checked against hash-file in both spellings', async () => {
    const sdk = strictClient(commune);
    const sendRaw = (bytes: Buffer, logical: Record<string, string>, contentType?: string) =>
      sdk.send('POST', 'sendEdoc', { ...sdk.sign({ from: commune.agency.code, servicetype: 'eDoc', messagetype: 'edoc', ...logical }), ...(contentType === undefined ? {} : { 'content-type': contentType }) }, bytes);
    const sha = (b: Buffer) => createHash('sha256').update(b).digest();
    const javaHex = (b: Buffer) => [...sha(b)].map((x) => x.toString(16)).join('');
    const department2 = sdkOf(department);
    const arrives = async (docId: string, bytes: Buffer) => {
      const saved = await eventually(async () => {
        const d = await department2.downloadEdoc({ docId });
        return d.status === 'SUCCESS' ? d.saved : undefined;
      }, `${docId} at Sở Nội vụ`);
      expect(saved.equals(bytes), docId).toBe(true);
    };

    const a = n.document(commune, [department], 'Gửi thô, application/xml, không CRLF');
    const sentA = await sendRaw(a, { 'hash-file': sha(a).toString('hex') }, 'application/xml');
    expect(sentA.json, sentA.bytes.toString()).toMatchObject({ status: 'OK', DocId: expect.any(String) });
    await arrives(sentA.json.DocId, a);

    const b = n.document(commune, [department], 'Gửi thô, không content-type, có CRLF');
    const sentB = await sendRaw(Buffer.concat([b, Buffer.from('\r\n')]), { 'hash-file': javaHex(b) });
    expect(sentB.json, sentB.bytes.toString()).toMatchObject({ status: 'OK' });
    await arrives(sentB.json.DocId, b);

    // A file that itself ends in CRLF, sent whole by a client that adds none: hash-file tells.
    const c = Buffer.concat([n.document(commune, [department], 'Tệp tự kết thúc bằng CRLF'), Buffer.from('\r\n')]);
    const sentC = await sendRaw(c, { 'hash-file': sha(c).toString('hex') }, 'application/octet-stream');
    expect(sentC.json, sentC.bytes.toString()).toMatchObject({ status: 'OK' });
    await arrives(sentC.json.DocId, c);

    // Multipart file_doc still works.
    const d = n.document(commune, [department], 'Gửi multipart file_doc');
    const sentD = await sdk.sendEdoc(d, 'edoc');
    expect(sentD.json).toMatchObject({ status: 'OK' });
    await arrives(sentD.json.DocId, d);

    // A hash-file that is not the file's, and a bad package: FAIL with an empty DocId, nothing stored.
    const e = n.document(commune, [department], 'Không được nhận: hash-file sai');
    expectFail(await sendRaw(e, { 'hash-file': sha(Buffer.from('x')).toString('hex') }, 'application/octet-stream'), 400, '33', 'HASH_FILE_MISMATCH');
    const tampered = Buffer.from(e.toString('utf8').replace('hash-file sai', 'hash-file SAI'), 'utf8');
    expectFail(await sendRaw(tampered, {}, 'application/octet-stream'), 422, '41', 'SIGNATURE_INVALID');
    expectFail(await sdk.send('POST', 'sendEdoc', { ...sdk.sign({}), 'content-type': 'text/plain' }, e), 415, '61', 'UNSUPPORTED_MEDIA_TYPE');
    const sentList = (await sdk.call('POST', 'getSentEdocList')).json.data as { title: string }[];
    expect(sentList.filter((r) => r.title.startsWith('Không được nhận'))).toEqual([]);
  });

  it('answers a failed downloadEdoc with no body, so the SDK reports FAIL instead of saving an error as the document', async () => {
    const sdk = sdkOf(department);
    const missing = await sdk.downloadEdoc({ docId: '0'.repeat(32), filePath: '/tmp' });
    expect(missing.status).toBe('FAIL');
    expectFail(missing.reply, 404, '51', 'NOT_FOUND');
    const wrongKey = new JavaSdkService(`${department.url}/vxp`, department.agency.code, 'not the key', { clock });
    const refused = await wrongKey.downloadEdoc({ docId: '0'.repeat(32) });
    expect(refused.status).toBe('FAIL');
    expectFail(refused.reply, 401, '12', 'HMAC_MISMATCH');
  });
});

describe('acknowledgements: the first one stands', () => {
  it('answers a repeated acknowledgement 200 and a different one 409 ACK_CONFLICT on /api/v1, and the sender and the mailbox keep the first', async () => {
    const doc = n.document(commune, [department], 'Xác nhận hai lần');
    const docId = (await commune.submit(doc)).json.docId as string;
    await eventually(async () => ((await department.request('GET', '/api/v1/edocs/received')).json.items as { docId: string }[]).find((i) => i.docId === docId), 'the document at Sở Nội vụ');
    const ack = (result: string) => department.request('POST', `/api/v1/edocs/${docId}/ack`, { result });
    expect(await ack('done')).toMatchObject({ status: 200, json: { docId, result: 'done' } });
    expect(await ack('done')).toMatchObject({ status: 200, json: { docId, result: 'done' } });
    const conflict = await ack('fail');
    expect(conflict.status).toBe(409);
    expect(conflict.json.error).toMatchObject({ code: 'ACK_CONFLICT', message: expect.stringContaining('already acknowledged done') });
    await expectFirstAckStands(docId, 'acked', 'done');
  });

  it('keeps the first of updateStatus fail then done on /vxp', async () => {
    const doc = n.document(department, [commune], 'Báo lỗi rồi báo xong');
    const docId = (await department.submit(doc)).json.docId as string;
    const sdk = sdkOf(commune);
    await eventually(async () => (await sdk.getReceivedEdocList({})).knobsticks.find((k) => k.docId === docId), 'the document at the commune');
    expect(await sdk.updateStatus({ docId, status: 'fail' })).toMatchObject({ status: 'OK' });
    expect(await sdk.updateStatus({ docId, status: 'done' })).toMatchObject({ status: 'FAIL', errorCode: '53' });
    expect(sdk.wire.at(-1)!.reply.status).toBe(409);
    await expectFirstAckStands(docId, 'failed', 'fail', department, commune);
  });

  it('refuses a captured header set replayed to updateStatus with its status (or docId) in the body, and the recipient still acknowledges done', async () => {
    const doc = n.document(department, [commune], 'Tiêu đề bị bắt và phát lại');
    const docId = (await department.submit(doc)).json.docId as string;
    // The commune's real SDK (not in sdk.strict) lists, then reads the document: getEdoc signs
    // docId, and no status yet. A network attacker captures both header sets.
    const sdk = sdkOf(commune);
    await eventually(async () => (await sdk.getReceivedEdocList({ servicetype: 'eDoc', messagetype: 'edoc' })).knobsticks.find((k) => k.docId === docId), 'the document at the commune');
    const listHeaders = sdk.wire.at(-1)!.headers;
    expect((await sdk.getEdoc({ docId })).status).toBe('OK');
    const getEdocHeaders = sdk.wire.at(-1)!.headers;
    expect(getEdocHeaders['XroadVnpt-docId']).toBe(docId);
    expect(getEdocHeaders['XroadVnpt-status']).toBeUndefined();

    // Replayed as they were captured (the HMAC verifies), to updateStatus, with a body of the attacker's.
    const replay = async (headers: Record<string, string>, body: string, contentType: string) => {
      const wire = Object.fromEntries(Object.entries({ ...headers, 'Content-Type': contentType }).map(([k, v]) => [k, Buffer.from(v, 'utf8').toString('latin1')]));
      const res = await fetch(`${commune.url}/vxp/updateStatus`, { method: 'POST', headers: wire, body });
      const bytes = Buffer.from(await res.arrayBuffer());
      return { status: res.status, json: JSON.parse(bytes.toString('utf8')), bytes, call: 'updateStatus', headers: res.headers };
    };
    const cases = [
      { headers: getEdocHeaders, body: JSON.stringify({ status: 'fail' }), type: 'application/json', unsigned: 'status' },
      { headers: getEdocHeaders, body: 'status=fail&reason=forged', type: 'application/x-www-form-urlencoded', unsigned: 'status' },
      { headers: listHeaders, body: JSON.stringify({ docId, status: 'fail' }), type: 'application/json', unsigned: 'docId' },
    ];
    for (const c of cases) {
      const r = await replay(c.headers, c.body, c.type);
      expectFail(r, 401, '11', 'HEADERS_INVALID');
      expect(r.json.ErrorDesc).toContain(`sign XroadVnpt-${c.unsigned} (it came only in the body`);
      expect(r.json.ErrorDesc).toContain(`agency ${commune.agency.code} is not in sdk.strict`);
    }

    // Nothing changed: the document still waits in the commune's mailbox, unacknowledged, and its sender sees it delivered.
    const hub = n.hubs.findIndex((h) => h.id === commune.agency.hubId);
    const mailbox = (await n.admin(hub, 'GET', `/api/admin/edocs/${docId}`)).json.mailbox as { agency: string; ackResult?: string }[];
    expect(mailbox.find((m) => m.agency === commune.agency.code)).toBeDefined();
    expect(mailbox.find((m) => m.agency === commune.agency.code)?.ackResult).toBeUndefined();
    expect((await sdk.getReceivedEdocList({})).knobsticks.map((k) => k.docId)).toContain(docId);
    const delivery = async () => ((await department.request('GET', '/api/v1/edocs/sent')).json.items as { docId: string; recipients: { delivery: string }[] }[])
      .find((i) => i.docId === docId)?.recipients[0]?.delivery;
    await eventually(async () => ((await delivery()) === 'delivered' ? true : undefined), 'delivered (not failed) at Sở Nội vụ');

    // The recipient's own updateStatus (docId and status signed, body {}) is the one that stands.
    expect(await sdk.updateStatus({ docId, status: 'done' })).toMatchObject({ status: 'OK', errorCode: '0' });
    await expectFirstAckStands(docId, 'acked', 'done', department, commune);
  });
});

/**
 * The sender sees the first acknowledgement and the recipient's mailbox holds it, also after a
 * later document's acknowledgement has travelled the same way (receipts keep their order).
 */
async function expectFirstAckStands(docId: string, delivery: string, ackResult: string, sender = commune, recipient = department): Promise<void> {
  const deliveryAtSender = async (id: string) => ((await sender.request('GET', '/api/v1/edocs/sent')).json.items as { docId: string; recipients: { delivery: string }[] }[])
    .find((i) => i.docId === id)?.recipients[0]?.delivery;
  await eventually(async () => ((await deliveryAtSender(docId)) === delivery ? true : undefined), `${delivery} at the sender`);
  const marker = (await sender.submit(n.document(sender, [recipient], `Mốc sau ${docId.slice(0, 8)}`))).json.docId as string;
  await eventually(async () => ((await recipient.request('GET', '/api/v1/edocs/received')).json.items as { docId: string }[]).find((i) => i.docId === marker), 'the marker');
  expect((await recipient.request('POST', `/api/v1/edocs/${marker}/ack`, { result: 'done' })).status).toBe(200);
  await eventually(async () => ((await deliveryAtSender(marker)) === 'acked' ? true : undefined), 'the marker acked at the sender');
  expect(await deliveryAtSender(docId)).toBe(delivery);
  const hub = n.hubs.findIndex((h) => h.id === recipient.agency.hubId);
  const mailbox = (await n.admin(hub, 'GET', `/api/admin/edocs/${docId}`)).json.mailbox as { agency: string; ackResult?: string }[];
  expect(mailbox.find((m) => m.agency === recipient.agency.code)?.ackResult).toBe(ackResult);
}
