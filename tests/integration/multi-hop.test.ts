// A signed package from a commune agency reaches a province agency through every hub, checked
// at each hop; statuses find their way back. Against the real broker.
import { describe, expect, it } from 'vitest';
import { eventually, inboxItem, type Agent, type TestNetwork } from '../helpers/network.js';
import { useTestNetwork } from '../helpers/shared-network.js';

let n: TestNetwork;
let commune: Agent, school: Agent, district: Agent, otherCommune: Agent, department: Agent, farCommune: Agent;

useTestNetwork({}, (started, a) => { n = started; ({ commune, school, district, otherCommune, department, farCommune } = a); });

const inbox = (a: Agent, docId: string) => inboxItem(a, docId);

describe('commune → district → province and back', () => {
  it('delivers byte-identical bytes, tracks delivery and carries statuses 01/03/06 back', async () => {
    const bytes = n.document(commune, [department], 'Báo cáo tình hình');
    const submitted = await commune.submit(bytes);
    expect(submitted.status).toBe(202);
    expect(submitted.json).toMatchObject({ kind: 'edoc', recipients: [{ organId: department.agency.code, route: 'parent' }] });
    const { docId } = submitted.json;

    const item = await inbox(department, docId);
    expect(item).toMatchObject({ kind: 'edoc', from: commune.agency.code, subject: 'Báo cáo tình hình' });
    const download = await department.request('GET', `/api/v1/edocs/${docId}`);
    expect(download.status).toBe(200);
    expect(download.bytes.equals(bytes)).toBe(true);

    const delivered = await eventually(async () => {
      const sent = await commune.request('GET', '/api/v1/edocs/sent');
      const doc = sent.json.items.find((i: { docId: string }) => i.docId === docId);
      return doc?.recipients[0]?.delivery === 'delivered' ? doc : undefined;
    }, 'delivered receipt');
    expect(delivered.subject).toBe('Báo cáo tình hình');

    expect((await department.request('POST', `/api/v1/edocs/${docId}/ack`, { result: 'done' })).status).toBe(200);
    const again = await department.request('GET', '/api/v1/edocs/received');
    expect(again.json.items.map((i: { docId: string }) => i.docId)).not.toContain(docId);

    for (const code of ['01', '03', '06'] as const) {
      const sentDoc = (await commune.request('GET', '/api/v1/edocs/sent')).json.items.find((i: { docId: string }) => i.docId === docId);
      expect(sentDoc).toBeDefined();
      const status = n.status(department, code, { OrganId: commune.agency.code, DocumentId: documentIdOf(bytes) });
      const r = await department.submit(status);
      expect(r.status, JSON.stringify(r.json)).toBe(202);
      await inbox(commune, r.json.docId);
      await eventually(async () => {
        const sent = await commune.request('GET', '/api/v1/edocs/sent');
        const doc = sent.json.items.find((i: { docId: string }) => i.docId === docId);
        return doc?.recipients[0]?.status === code ? true : undefined;
      }, `status ${code} at the sender`);
    }

    const acked = await eventually(async () => {
      const sent = await commune.request('GET', '/api/v1/edocs/sent');
      const doc = sent.json.items.find((i: { docId: string }) => i.docId === docId);
      return doc?.recipients[0]?.delivery === 'acked' ? doc : undefined;
    }, 'acked receipt');
    expect(acked.recipients[0]).toEqual({ organId: department.agency.code, delivery: 'acked', status: '06' });

    const trace = await commune.request('GET', `/api/v1/edocs/${docId}/trace`);
    expect(trace.status).toBe(200);
    expect(trace.json.hops.map((h: { hub: string }) => h.hub)).toEqual(n.hubs.map((h) => h.id).reverse());
    expect(trace.json.hops.every((h: { verdict: string }) => h.verdict === 'accepted')).toBe(true);
  });

  it('fans out to three recipients in different branches, each with its own delivery', async () => {
    const bytes = n.document(school, [otherCommune, farCommune, department], 'Gửi nhiều nơi');
    const r = await school.submit(bytes);
    expect(r.status).toBe(202);
    expect(r.json.recipients.map((x: { route: string }) => x.route)).toEqual(['parent', 'parent', 'parent']);
    for (const a of [otherCommune, farCommune, department]) {
      await inbox(a, r.json.docId);
      expect((await a.request('GET', `/api/v1/edocs/${r.json.docId}`)).bytes.equals(bytes)).toBe(true);
    }
    await eventually(async () => {
      const sent = await school.request('GET', '/api/v1/edocs/sent');
      const doc = sent.json.items.find((i: { docId: string }) => i.docId === r.json.docId);
      return doc?.recipients.every((x: { delivery: string }) => x.delivery === 'delivered') ? true : undefined;
    }, 'three delivered receipts');
  });

  it('goes down the tree too: province → district → commune', async () => {
    const r = await department.submit(n.document(department, [commune, district], 'Chỉ đạo'));
    expect(r.status).toBe(202);
    expect(r.json.recipients).toEqual([
      { organId: commune.agency.code, route: 'child' }, { organId: district.agency.code, route: 'child' }]);
    await inbox(commune, r.json.docId);
    await inbox(district, r.json.docId);
  });

  it('is idempotent: the same package again returns 200 and the same docId, delivered once', async () => {
    const bytes = n.document(commune, [district], 'Gửi lại');
    const first = await commune.submit(bytes);
    const second = await commune.submit(bytes);
    expect([first.status, second.status]).toEqual([202, 200]);
    expect(second.json.docId).toBe(first.json.docId);
    await inbox(district, first.json.docId);
    const items = (await district.request('GET', '/api/v1/edocs/received')).json.items.filter((i: { docId: string }) => i.docId === first.json.docId);
    expect(items).toHaveLength(1);
  });
});

function documentIdOf(bytes: Buffer): string {
  return /<edXML:DocumentId>([^<]+)<\/edXML:DocumentId>/.exec(bytes.toString('utf8'))![1]!;
}
