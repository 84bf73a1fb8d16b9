// A package that passes hop 1 but fails at hop 2 (its signer is revoked there) ends in hop 2's
// dead letters with its reason, and the sender learns it through its inbox (a 02 status) and
// its sent list (failed, 02).
import amqp from 'amqplib';
import { describe, expect, it } from 'vitest';
import { hubQueues } from '../../src/bus/topology.js';
import { toHeaders } from '../../src/bus/message.js';
import { docIdOf } from '../../src/pipeline/hop-pipeline.js';
import { AMQP_URL, eventually, revokedAtDistrict, type Agent, type TestNetwork } from '../helpers/network.js';
import { useTestNetwork } from '../helpers/shared-network.js';

let n: TestNetwork;
let school: Agent, department: Agent;
const districtId = (net: TestNetwork) => net.hubs[1]!.id;

useTestNetwork({ configFor: revokedAtDistrict('001.07.05.') }, (started, a) => { n = started; ({ school, department } = a); });

/** The district's dead letter for a doc id, through the admin API (the ledger's copy). */
const deadLetterOf = (docId: string) => eventually(async () => {
  const res = await fetch(`${n.hubs[1]!.url}/api/admin/dead-letters?docId=${docId}`, { headers: { authorization: `Bearer ${n.net.adminToken}` } });
  const body = await res.json() as { items: { docId: string; reasonCode: string; reason: string; sender: string }[] };
  return body.items[0];
}, `the dead letter of ${docId}`);

describe('refusal at a later hop', () => {
  it('dead-letters at the district with CERT_REVOKED and sends 02 back to the sender', async () => {
    const r = await school.submit(n.document(school, [department], 'Sẽ bị từ chối'));
    expect(r.status).toBe(202); // the commune hub has no CRL: hop 1 accepts
    const { docId } = r.json;

    const rejection = await eventually(async () => {
      const inbox = await school.request('GET', '/api/v1/edocs/received?kind=status');
      return inbox.json.items.find((i: { statusCode: string; from: string }) => i.statusCode === '02' && i.from === districtId(n));
    }, 'the 02 status at the sender');
    const bytes = await school.request('GET', `/api/v1/edocs/${rejection.docId}`);
    expect(bytes.bytes.toString()).toContain('CERT_REVOKED');

    const sent = await eventually(async () => {
      const items = (await school.request('GET', '/api/v1/edocs/sent')).json.items;
      const doc = items.find((i: { docId: string }) => i.docId === docId);
      return doc?.recipients[0]?.delivery === 'failed' ? doc : undefined;
    }, 'the failed receipt');
    expect(sent.recipients[0]).toEqual({ organId: department.agency.code, delivery: 'failed', status: '02' });

    const trace = (await school.request('GET', `/api/v1/edocs/${docId}/trace`)).json.hops;
    expect(trace.map((h: { hub: string; verdict: string }) => `${h.hub}:${h.verdict}`)).toEqual([`${n.hubs[2]!.id}:accepted`, `${districtId(n)}:rejected`]);
    expect(trace[1].checks.certificate).toBe('CERT_REVOKED');

    const dead = await deadLetterOf(docId);
    expect(dead).toMatchObject({ reasonCode: 'CERT_REVOKED', docId, sender: school.agency.code });

    const inbox = (await department.request('GET', '/api/v1/edocs/received')).json.items;
    expect(inbox.map((i: { docId: string }) => i.docId)).not.toContain(docId);
  });

  it('dead-letters a package whose previous-hub seal is forged, and acts on nothing it says (no 02, no delivery)', async () => {
    const sender = n.agent('000.07.05.');
    const bytes = n.document(sender, [department], 'Niêm phong giả');
    const docId = docIdOf(bytes);
    const conn = await amqp.connect(AMQP_URL);
    const ch = await conn.createConfirmChannel();
    ch.sendToQueue(hubQueues(districtId(n)).ingress, bytes, {
      persistent: true, messageId: docId,
      headers: toHeaders({
        body: bytes, kind: 'edoc', docId, originHub: n.hubs[2]!.id, sender: sender.agency.code, recipients: [department.agency.code],
        trace: [{ hub: n.hubs[2]!.id, at: new Date().toISOString(), verdict: 'accepted', checks: {} }],
        seal: Buffer.from('forged').toString('base64'), sealHub: n.hubs[2]!.id,
      }),
    });
    await ch.waitForConfirms();
    await conn.close();

    const dead = await deadLetterOf(docId);
    expect(dead.reasonCode).toBe('SIGNATURE_INVALID');
    expect(dead.reason).toContain('seal');
    // A forgery's headers name the sender: answering it would let a broker user send statuses.
    const statuses = (await sender.request('GET', '/api/v1/edocs/received?kind=status')).json.items;
    expect(statuses.filter((i: { statusCode: string }) => i.statusCode === '02')).toEqual([]);
    const inbox = (await department.request('GET', '/api/v1/edocs/received')).json.items;
    expect(inbox.map((i: { docId: string }) => i.docId)).not.toContain(docId);
  });
});
