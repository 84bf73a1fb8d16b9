// Where a document is: each hub finds it by agency, period, status and delivery state, and shows
// its trace as a timeline across hubs with each check's verdict and timing.
import { describe, expect, it } from 'vitest';
import { eventually, type Agent, type TestNetwork } from '../helpers/network.js';
import { useTestNetwork } from '../helpers/shared-network.js';

let n: TestNetwork;
let commune: Agent, department: Agent;

useTestNetwork({}, (started, a) => { n = started; ({ commune, department } = a); });

const admin = (hub: number, p: string) => n.admin(hub, 'GET', p);

describe('document search', () => {
  it('finds a document at every hub it crossed, with its role there and its timeline', async () => {
    const since = new Date(Date.now() - 1000).toISOString();
    const bytes = n.document(commune, [department], 'Tìm kiếm văn bản');
    const { docId } = (await commune.submit(bytes)).json;
    await eventually(async () => {
      const sent = (await commune.request('GET', '/api/v1/edocs/sent')).json.items.find((i: { docId: string }) => i.docId === docId);
      return sent?.recipients[0]?.delivery === 'delivered' ? true : undefined;
    }, 'delivery');

    const atOrigin = await admin(2, `/api/admin/edocs?organ=${department.agency.code}&since=${encodeURIComponent(since)}&delivery=delivered`);
    expect(atOrigin.json.items).toEqual([expect.objectContaining({ docId, role: 'origin', sender: commune.agency.code, subject: 'Tìm kiếm văn bản', rejected: false })]);
    expect((await admin(2, `/api/admin/edocs?delivery=acked&since=${encodeURIComponent(since)}`)).json.total).toBe(0);
    expect((await admin(1, `/api/admin/edocs?since=${encodeURIComponent(since)}`)).json.items).toEqual([expect.objectContaining({ docId, role: 'transit' })]);
    expect((await admin(0, `/api/admin/edocs?organ=${commune.agency.code}`)).json.items).toEqual([expect.objectContaining({ docId, role: 'destination', sender: commune.agency.code })]);
    expect((await admin(0, `/api/admin/edocs?until=${encodeURIComponent(since)}`)).json.total).toBe(0);

    const page = await admin(2, `/api/admin/edocs/${docId}`);
    expect(page.json).toMatchObject({ docId, sender: commune.agency.code, recipients: [{ organId: department.agency.code, delivery: 'delivered' }] });
    expect(page.json.timeline.map((h: { hub: string }) => h.hub)).toEqual([n.hubs[2]!.id, n.hubs[1]!.id, n.hubs[0]!.id]);
    for (const hop of page.json.timeline) {
      expect(hop.verdict).toBe('accepted');
      expect(hop.checks).toMatchObject({ schema: 'ok', signature: 'ok', certificate: 'ok' });
      expect(hop.ms).toBeGreaterThan(0);
      expect(hop.sinceFirstMs).toBeGreaterThanOrEqual(0);
    }
    const atDestination = await admin(0, `/api/admin/edocs/${docId}`);
    expect(atDestination.json.mailbox).toEqual([{ agency: department.agency.code, receivedAt: expect.any(String) }]);
    expect((await admin(0, '/api/admin/edocs/0123456789abcdef0123456789abcdef')).status).toBe(404);
    expect((await admin(0, '/api/admin/edocs?status=7')).status).toBe(400);
  });

  it('counts documents, rejections and hop latency, and shows queues and links (/metrics, /api/admin/queues)', async () => {
    const bad = Buffer.from(n.document(commune, [department], 'Bị sửa').toString().replace('Bị sửa', 'Đã sửa'));
    expect((await commune.submit(bad)).status).toBe(422);
    const text = await (await fetch(`${n.hubs[2]!.url}/metrics`, { headers: { authorization: `Bearer ${n.net.adminToken}` } })).text();
    const value = (line: RegExp) => Number(text.split('\n').find((l) => line.test(l))?.split(' ').at(-1));
    expect(value(/^lgsp_documents_total\{.*stage="submit".*result="accepted"/)).toBeGreaterThanOrEqual(1);
    expect(value(/^lgsp_documents_total\{.*stage="submit".*result="rejected"/)).toBeGreaterThanOrEqual(1);
    expect(value(/^lgsp_rejections_total\{.*code="SIGNATURE_INVALID"/)).toBeGreaterThanOrEqual(1);
    expect(value(/^lgsp_hop_check_seconds_count/)).toBeGreaterThanOrEqual(2);
    expect(value(new RegExp(`^lgsp_link_up\\{.*neighbour="${n.hubs[1]!.id.replaceAll('.', '\\.')}"`))).toBe(1);
    expect(text).toMatch(/^lgsp_queue_messages\{.*queue="lgsp\.[^"]+\.ingress"/m);

    const queues = await admin(2, '/api/admin/queues');
    expect(queues.json.items.map((q: { queue: string }) => q.queue)).toEqual(expect.arrayContaining([
      `lgsp.${n.hubs[2]!.id}.ingress`, `lgsp.${n.hubs[2]!.id}.deliver`, `lgsp.${n.hubs[2]!.id}.dead`]));
    for (const q of queues.json.items) {
      expect(q.consumers).toBeGreaterThanOrEqual(1);
      // From RabbitMQ's management API (enabled by .ci/run): unacked counts and rates as well.
      expect(q).toMatchObject({ unacked: expect.any(Number), publishPerSec: expect.any(Number), deliverPerSec: expect.any(Number) });
    }
    // Every queue of every hub on the broker, from any hub.
    const all = await admin(0, '/api/admin/queues?scope=all');
    const names = all.json.items.map((q: { queue: string }) => q.queue);
    for (const h of n.hubs) expect(names).toEqual(expect.arrayContaining([`lgsp.${h.id}.ingress`, `lgsp.${h.id}.deliver`, `lgsp.${h.id}.dead`]));
  });
});
