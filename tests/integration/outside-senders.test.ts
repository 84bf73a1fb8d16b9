// Senders outside the network (issue 17, item 5). A ministry is served by no hub of the province
// and has registered no certificate with it: its package, arriving at the top hub's ingress as a
// hop message (sealed by a hub the top hub trusts), is bound by the CA that issued its signing
// certificate, through the agency code in the certificate's OU, and delivered, checked again at
// every hop; with another code in the OU, or from a CA the network does not trust, it is refused.
import fs from 'node:fs';
import path from 'node:path';
import { createHash, X509Certificate } from 'node:crypto';
import amqp from 'amqplib';
import { describe, expect, it } from 'vitest';
import { hubQueues } from '../../src/bus/topology.js';
import { toHeaders } from '../../src/bus/message.js';
import { createHubSigner, type HubSigner } from '../../src/hop/seal.js';
import { docIdOf } from '../../src/pipeline/hop-pipeline.js';
import { createDevCa, issueCertificate, type KeyAndCert } from '../../src/pki/dev-pki.js';
import { AMQP_URL, eventually, networkCa, type Agent, type TestNetwork } from '../helpers/network.js';
import { useTestNetwork } from '../helpers/shared-network.js';
import { makeAgent } from '../helpers/agent.js';

const MINISTRY = '000.00.00.G22';
const DAY = 86_400_000;

let n: TestNetwork;
let department: Agent, school: Agent;
let district: HubSigner;
const top = () => n.hubs[0]!;

useTestNetwork({}, (started, a) => {
  n = started;
  ({ department, school } = a);
  const districtId = n.hubs[1]!.id;
  const file = (ext: string) => fs.readFileSync(path.join(n.net.dir, 'pki', `hub-${districtId}.${ext}.pem`), 'utf8');
  const signer = createHubSigner(districtId, file('key'), new X509Certificate(file('cert')));
  if (!signer.ok) throw new Error(signer.error.message);
  district = signer.value;
});

/** The ministry's document system, signing with a certificate `ca` issued with `ou` as its OU. */
function ministry(ca: KeyAndCert, ou: string): Agent {
  const now = Date.now();
  const pair = issueCertificate({ ca, commonName: 'Bộ Nội vụ', agency: ou, notBefore: new Date(now - DAY), notAfter: new Date(now + 365 * DAY) });
  const dir = fs.mkdtempSync(path.join(n.net.dir, 'ministry-'));
  const keyFile = path.join(dir, 'key.pem');
  const certFile = path.join(dir, 'cert.pem');
  fs.writeFileSync(keyFile, pair.keyPem);
  fs.writeFileSync(certFile, pair.certPem);
  return makeAgent({ code: MINISTRY, name: 'Bộ Nội vụ', hubId: '', apiKey: '', keyFile, certFile }, '');
}

/** Publishes a package to the top hub's ingress as the district hub would pass it on: sealed for the top hub. */
async function publishFromDistrict(bytes: Buffer, recipients: string[]): Promise<string> {
  const docId = docIdOf(bytes);
  const fields = {
    kind: 'edoc', docId, originHub: district.hubId, sender: MINISTRY, recipients,
    trace: [],
  };
  const digest = createHash('sha256').update(bytes).digest('hex');
  const seal = district.seal({ ...fields, to: top().id, sealHub: district.hubId, digest });
  const conn = await amqp.connect(AMQP_URL);
  try {
    const ch = await conn.createConfirmChannel();
    ch.sendToQueue(hubQueues(top().id).ingress, bytes, {
      persistent: true, messageId: docId, headers: toHeaders({ ...fields, kind: 'edoc', body: bytes, seal, sealHub: district.hubId }),
    });
    await ch.waitForConfirms();
  } finally {
    await conn.close();
  }
  return docId;
}

const admin = async (hub: number, p: string) => (await n.admin(hub, 'GET', p)).json;
const deadLetterOf = (docId: string) => eventually(async () => (await admin(0, `/api/admin/dead-letters?docId=${docId}`)).items[0] as
  { reasonCode: string; reason: string; sender: string } | undefined, `the dead letter of ${docId}`);
const received = async (agent: Agent) => (await agent.request('GET', '/api/v1/edocs/received')).json.items.map((i: { docId: string }) => i.docId);

describe('a sender outside the network', () => {
  it('is bound by its trusted CA through the OU code, delivered at every hop, and the trace says how', async () => {
    const docId = await publishFromDistrict(n.document(ministry(networkCa(n.net), MINISTRY), [department, school], 'Công văn của Bộ'), [department.agency.code, school.agency.code]);
    await eventually(async () => ((await received(department)).includes(docId) ? true : undefined), 'the ministry\'s document at the department');
    await eventually(async () => ((await received(school)).includes(docId) ? true : undefined), 'the ministry\'s document at the school');
    // The school's hub holds the trace as it travelled: the top hub, the district, the commune.
    const { timeline } = await admin(2, `/api/admin/edocs/${docId}`);
    expect(timeline.map((h: { hub: string; verdict: string; checks: Record<string, string> }) => [h.hub, h.verdict, h.checks.certificate, h.checks.binding]))
      .toEqual([n.hubs[0]!.id, n.hubs[1]!.id, n.hubs[2]!.id].map((hub) => [hub, 'accepted', 'ok', 'ca-subject-code']));
  });

  it('is refused with CERT_NOT_BOUND when the OU names another agency, and nothing is delivered', async () => {
    const docId = await publishFromDistrict(n.document(ministry(networkCa(n.net), '000.00.00.G23'), [department], 'Mã sai'), [department.agency.code]);
    const dead = await deadLetterOf(docId);
    expect(dead).toMatchObject({ reasonCode: 'CERT_NOT_BOUND', sender: MINISTRY });
    expect(dead.reason).toContain('names agency 000.00.00.G23 in its subject (OU), not the sender 000.00.00.G22');
    const { timeline } = await admin(0, `/api/admin/edocs/${docId}`);
    expect(timeline.at(-1)).toMatchObject({ hub: top().id, verdict: 'rejected', checks: { certificate: 'CERT_NOT_BOUND' } });
    expect(await received(department)).not.toContain(docId);
  });

  it('is refused with CERT_UNTRUSTED when its CA is not one the network trusts, valid and unrevoked though it is', async () => {
    const now = Date.now();
    const foreign = createDevCa('Foreign CA', new Date(now - DAY), new Date(now + 3650 * DAY));
    const docId = await publishFromDistrict(n.document(ministry(foreign, MINISTRY), [department], 'CA lạ'), [department.agency.code]);
    expect(await deadLetterOf(docId)).toMatchObject({ reasonCode: 'CERT_UNTRUSTED', sender: MINISTRY });
    expect(await received(department)).not.toContain(docId);
  });

  it('does not open the door to our own agencies: one of them signing with an unregistered certificate is still CERT_NOT_BOUND', async () => {
    const now = Date.now();
    const pair = issueCertificate({ ca: networkCa(n.net), commonName: 'Sở Nội vụ', agency: department.agency.code, notBefore: new Date(now - DAY), notAfter: new Date(now + 365 * DAY) });
    const dir = fs.mkdtempSync(path.join(n.net.dir, 'unregistered-'));
    fs.writeFileSync(path.join(dir, 'key.pem'), pair.keyPem);
    fs.writeFileSync(path.join(dir, 'cert.pem'), pair.certPem);
    const impostor = makeAgent({ ...department.agency, keyFile: path.join(dir, 'key.pem'), certFile: path.join(dir, 'cert.pem') }, department.url);
    const r = await impostor.submit(n.document(impostor, [school], 'Chứng thư chưa đăng ký'));
    expect([r.status, r.json.error.code]).toEqual([422, 'CERT_NOT_BOUND']);
  });
});
