// A province as one system on our /vxp (issue 17, item 7): the test network's top hub plays the
// national axis for province H99, whose whole document system is one SDK account (systemid
// 000.00.00.H99, one secret) sending on behalf of its agencies (from = the real sender) and
// receiving for all of them. The client is JavaSdkService, which makes each call as the real SDK
// does. H99's agencies are registered at the top hub only to be routed to; their certificates are
// not: the hop check binds them by the CA's subject code, as any sender from outside the network.
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCertificate } from '../../src/pki/dev-pki.js';
import { makeAgent } from '../helpers/agent.js';
import { eventually, networkCa, startTestNetwork, type Agent, type TestNetwork } from '../helpers/network.js';
import { expectSdkFail, JavaSdkService } from '../helpers/sdk-client.js';

const SYSTEM = '000.00.00.H99';
const SECRET = 'bí-mật-của-tỉnh-H99';
const COMMUNE = '000.07.05.H99';
const SCHOOL = '001.07.05.H99';
const DAY = 86_400_000;

let n: TestNetwork;
let department: Agent, commune: Agent;
const top = () => n.hubs[0]!;
const system = (secret = SECRET) => new JavaSdkService(`${top().url}/vxp`, SYSTEM, secret);

beforeAll(async () => {
  n = await startTestNetwork({
    configFor: (_hubId, config, net) => {
      const secretFile = path.join(net.dir, 'h99.secret');
      fs.writeFileSync(secretFile, `${SECRET}\n`, { mode: 0o600 });
      const hubId = net.hubs[0]!.id;
      return { ...config, sdk: { ...config.sdk, systems: [{ systemId: SYSTEM, secretFile, sendsFor: ['*.H99'], receivesFor: ['*.H99'], hubId }] } };
    },
  });
  department = n.agent('000.00.12.');
  // H99's agencies, known to the top hub so that it can route to them (as the axis's directory knows every province's).
  for (const [code, name] of [[COMMUNE, 'UBND xã Hòa Bình (H99)'], [SCHOOL, 'Trường THCS Hòa Bình (H99)']]) {
    expect((await n.admin(0, 'POST', '/api/admin/agencies', { code, name, hubId: top().id })).status).toBe(201);
  }
  // A signing certificate of H99's commune, from a CA the network trusts, naming it in its OU; registered nowhere here.
  const now = Date.now();
  const pair = issueCertificate({ ca: networkCa(n.net), commonName: 'UBND xã Hòa Bình', agency: COMMUNE, notBefore: new Date(now - DAY), notAfter: new Date(now + 365 * DAY) });
  const dir = fs.mkdtempSync(path.join(n.net.dir, 'h99-'));
  fs.writeFileSync(path.join(dir, 'key.pem'), pair.keyPem);
  fs.writeFileSync(path.join(dir, 'cert.pem'), pair.certPem);
  commune = makeAgent({ code: COMMUNE, name: 'UBND xã Hòa Bình (H99)', hubId: top().id, apiKey: '', keyFile: path.join(dir, 'key.pem'), certFile: path.join(dir, 'cert.pem') }, '');
}, 60_000);
afterAll(async () => { await n?.close(); });

describe('a province as one SDK system', () => {
  it('sends on behalf of one of its agencies: checked, bound by its CA, delivered', async () => {
    const sdk = system();
    const doc = n.document(commune, [department], 'Từ tỉnh H99 qua trục');
    const sent = await sdk.sendEdoc({ from: COMMUNE, to: [department.agency.code], servicetype: 'eDoc', messagetype: 'edoc' }, doc);
    expect(sent, JSON.stringify(sent)).toMatchObject({ status: 'OK', errorCode: '0', docId: expect.stringMatching(/^[0-9a-f]{32}$/) });
    const inbox = await eventually(async () => {
      const items = (await department.request('GET', '/api/v1/edocs/received')).json.items as { docId: string; from: string }[];
      return items.find((i) => i.docId === sent.docId);
    }, 'the document at the department');
    expect(inbox.from).toBe(COMMUNE);
    const { timeline } = (await n.admin(0, 'GET', `/api/admin/edocs/${sent.docId}`)).json;
    expect(timeline[0]).toMatchObject({ hub: top().id, verdict: 'accepted', checks: { certificate: 'ok', binding: 'ca-subject-code' } });
    // What it sent, seen by the system: the real sender in each row.
    const rows = (await sdk.getSentEdocList({})).statusResult.filter((r) => r.senderDocId === sent.docId);
    expect(rows).toEqual([expect.objectContaining({ fromCode: COMMUNE, toCode: department.agency.code })]);
  });

  it('refuses a from outside its agencies, or none, with OUTSIDE_SYSTEM, and stores nothing', async () => {
    const doc = n.document(department, [department], 'Không phải của H99');
    for (const from of [department.agency.code, '000.07.05.H98']) {
      const sdk = system();
      const r = await sdk.sendEdoc({ from, servicetype: 'eDoc', messagetype: 'edoc' }, doc);
      expect(r).toMatchObject({ status: 'FAIL', errorCode: '23', docId: '' });
      expectSdkFail(sdk.wire[0]!.reply, 403, '23', 'OUTSIDE_SYSTEM');
      expect(r.errorDesc).toContain(`does not send for ${from}`);
    }
    const unnamed = system();
    expect(await unnamed.sendEdoc({ servicetype: 'eDoc', messagetype: 'edoc' }, doc)).toMatchObject({ status: 'FAIL', errorCode: '23', errorDesc: expect.stringContaining('must sign XroadVnpt-from') });
    const sent = (await department.request('GET', '/api/v1/edocs/sent')).json.items as { docId: string }[];
    expect(sent.map((s) => s.docId)).not.toContain(createHash('sha256').update(doc).digest('hex').slice(0, 32));
  });

  it('receives for all its agencies: one item per package, to listing them; getEdoc, downloadEdoc; one updateStatus acknowledges for each', async () => {
    const school = { agency: { code: SCHOOL, name: 'Trường THCS Hòa Bình (H99)' } } as Agent;
    const doc = n.document(department, [{ agency: { code: COMMUNE, name: 'UBND xã Hòa Bình (H99)' } } as Agent, school], 'Gửi xuống tỉnh H99');
    const submitted = await department.submit(doc);
    expect(submitted.status, JSON.stringify(submitted.json)).toBe(202);
    const { docId } = submitted.json;

    const sdk = system();
    const listed = await eventually(async () => {
      const r = await sdk.getReceivedEdocList({ servicetype: 'eDoc', messagetype: 'edoc' });
      // Delivered into each agency's mailbox in turn: listed with both once both hold it.
      return r.knobsticks.find((k) => k.docId === docId && JSON.parse(k.to!).length === 2);
    }, 'the package in the system\'s list');
    expect(listed).toMatchObject({ from: department.agency.code, messageType: 'edoc' });
    expect(JSON.parse(listed.to!)).toEqual([COMMUNE, SCHOOL]);
    expect((await sdk.countReceiveEdoc({ messagetype: 'edoc' })).count).toBe(1);
    expect((await sdk.getEdoc({ docId })).data!.equals(doc)).toBe(true);
    const saved = await sdk.downloadEdoc({ docId });
    expect([saved.status, saved.saved.equals(doc)]).toEqual(['SUCCESS', true]);

    expect(await sdk.updateStatus({ docId, status: 'done' })).toMatchObject({ status: 'OK', errorCode: '0' });
    const recipients = await eventually(async () => {
      const items = (await department.request('GET', '/api/v1/edocs/sent')).json.items as { docId: string; recipients: { organId: string; delivery: string }[] }[];
      const mine = items.find((i) => i.docId === docId)?.recipients;
      return mine?.every((r) => r.delivery === 'acked') ? mine : undefined;
    }, 'both recipients acknowledged');
    expect(recipients.map((r) => r.organId).sort()).toEqual([SCHOOL, COMMUNE].sort());
    expect((await sdk.countReceiveEdoc({ messagetype: 'edoc' })).count).toBe(0);
    // The first acknowledgement stands, for each agency.
    expect(await sdk.updateStatus({ docId, status: 'fail' })).toMatchObject({ status: 'FAIL', errorCode: '53' });
  });

  it('reads no mailbox outside its agencies, and a wrong secret gets nothing', async () => {
    const doc = n.document(commune, [department], 'Chỉ Sở Nội vụ đọc');
    const sent = await system().sendEdoc({ from: COMMUNE, servicetype: 'eDoc', messagetype: 'edoc' }, doc);
    await eventually(async () => ((await department.request('GET', '/api/v1/edocs/received')).json.items as { docId: string }[])
      .find((i) => i.docId === sent.docId), 'the document at the department');
    const sdk = system();
    expect(await sdk.getEdoc({ docId: sent.docId })).toMatchObject({ status: 'FAIL', errorCode: '51' });
    expect(await sdk.updateStatus({ docId: sent.docId, status: 'done' })).toMatchObject({ status: 'FAIL', errorCode: '51' });
    expect((await sdk.getReceivedEdocList({})).knobsticks.map((k) => k.docId)).not.toContain(sent.docId);
    // The department's own account still reads it, its `to` its own code.
    const own = new JavaSdkService(`${top().url}/vxp`, department.agency.code, department.agency.apiKey);
    expect((await own.getReceivedEdocList({})).knobsticks.find((k) => k.docId === sent.docId)).toMatchObject({ to: department.agency.code });

    const wrong = system('not-the-secret');
    expect(await wrong.getReceivedEdocList({})).toMatchObject({ status: 'FAIL', errorCode: '12' });
  });
});
