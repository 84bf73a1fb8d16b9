// A long Subject or DocumentId must not break the bus (issue 14, item 2): amqplib cannot encode a
// header table over 64 KiB, and a message whose headers grow past it at a later hop used to
// stick there, retried to the delivery limit, filling the prefetch window of every lane behind
// it. Over HTTP to a running 3-hub network: such packages are delivered end to end (or refused
// with a 4xx code, leaving nothing behind), and a normal document after 64 of them gets through.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { emitEdoc } from '../../src/edxml/emit.js';
import amqp from 'amqplib';
import { SUBJECT_CHARS } from '../../src/hop/trace.js';
import { docIdOf } from '../../src/pipeline/hop-pipeline.js';
import { AMQP_URL, eventually, type Agent, type TestNetwork } from '../helpers/network.js';
import { useTestNetwork } from '../helpers/shared-network.js';

let n: TestNetwork;
let commune: Agent, province: Agent;

// A publish the broker keeps refusing fails after amqpConfirmTimeoutMs: 5 s here, not 30, so that the
// 503 test below does not wait half a minute.
useTestNetwork({ configFor: (_hubId, config) => ({ ...config, amqpConfirmTimeoutMs: 5_000 }) }, (started, a) => { n = started; ({ commune, department: province } = a); });

let serial = 0;
/** A signed document with a subject of `chars` characters and a DocumentId of over 300. */
const longDocument = (chars: number) => commune.sign(emitEdoc({
  from: { OrganId: commune.agency.code, OrganName: commune.agency.name },
  to: [{ OrganId: province.agency.code, OrganName: province.agency.name }],
  codeNumber: `${++serial}`, codeNotation: `UBND-${'VP'.repeat(150)}`, promulgationDate: new Date(),
  subject: `Về việc ${'rất dài '.repeat(chars)}`.slice(0, chars),
  attachments: [{ contentId: 'att1', name: 'vanban.pdf', contentType: 'application/pdf', data: Buffer.from('nội dung') }], at: new Date(),
}));

type Sent = { docId: string; recipients: { delivery: string }[] };
const sentList = async (): Promise<Sent[]> => (await commune.request('GET', '/api/v1/edocs/sent?limit=1000')).json.items;
const received = async () => (await province.request('GET', '/api/v1/edocs/received?limit=1000')).json.items as { docId: string; subject?: string }[];

describe('long subjects and DocumentIds', () => {
  it('delivers a package with a 70,000-character subject end to end, or refuses it with a 4xx code and keeps nothing', async () => {
    const r = await commune.submit(longDocument(70_000));
    if (r.status !== 202) {
      expect(r.status, JSON.stringify(r.json)).toBeGreaterThanOrEqual(400);
      expect(r.status).toBeLessThan(500); // 503 would mean the broker failed, not that the package is refused
      expect(r.json.error.code).toEqual(expect.any(String));
      expect((await sentList()).length).toBe(0);
      return;
    }
    const { docId } = r.json as { docId: string };
    const item = await eventually(async () => (await received()).find((i) => i.docId === docId), 'the long document at the province');
    expect([...item.subject!].length).toBeLessThanOrEqual(SUBJECT_CHARS);
    expect(item.subject!.startsWith('Về việc rất dài')).toBe(true);
    // The recipient gets the package bytes whole, subject included.
    const bytes = await province.request('GET', `/api/v1/edocs/${docId}`);
    expect(bytes.bytes.toString('utf8')).toContain('rất dài '.repeat(1000));
  });

  it('delivers a normal document sent after 64 packages with 64,801-character subjects, and every one of them', async () => {
    const long: string[] = [];
    for (let i = 0; i < 64; i++) {
      const r = await commune.submit(longDocument(64_801));
      expect(r.status, JSON.stringify(r.json)).toBe(202);
      long.push(r.json.docId as string);
    }
    const normal = await commune.submit(n.document(commune, [province], 'Văn bản bình thường'));
    expect(normal.status).toBe(202);
    await eventually(async () => ((await received()).some((i) => i.docId === normal.json.docId) ? true : undefined), 'the normal document at the province', 60_000);
    // Nothing stuck behind: each long one is delivered too, and none was dead-lettered on the way.
    const inbox = new Set((await eventually(async () => {
      const items = await received();
      return long.every((id) => items.some((i) => i.docId === id)) ? items : undefined;
    }, 'the 64 long documents at the province', 60_000)).map((i) => i.docId));
    expect(long.filter((id) => !inbox.has(id))).toEqual([]);
    for (const hub of [0, 1, 2]) expect((await n.admin(hub, 'GET', '/api/admin/dead-letters')).json.items).toEqual([]);
  }, 180_000);
});

describe('a 503 means nothing was accepted', () => {
  it('keeps no ledger row for a submission the broker refuses', async () => {
    // The district's ingress (where the commune hub publishes) is held full: the broker nacks.
    const queue = `lgsp.${n.hubs[1]!.id}.ingress`;
    const policy = `lgsp-test-full-${n.hubs[1]!.id}`;
    const rabbitmqctl = (...args: string[]) => execFileSync('rabbitmqctl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect((await n.admin(1, 'POST', `/api/admin/queues/${queue}/pause`)).status).toBe(200);
    rabbitmqctl('set_policy', '--apply-to', 'queues', '--priority', '100', policy, `^${queue.replaceAll('.', '\\.')}$`, '{"max-length":1}');
    try {
      await eventually(async () => (rabbitmqctl('list_queues', '--quiet', '--no-table-headers', 'name', 'policy').split('\n')
        .some((line) => line.startsWith(queue) && line.includes(policy)) ? true : undefined), 'the policy on the queue');
      const conn = await amqp.connect(AMQP_URL);
      const ch = await conn.createConfirmChannel();
      // A quorum queue refuses a message once it holds more than max-length: two fillers.
      for (const filler of ['filler 1', 'filler 2']) ch.sendToQueue(queue, Buffer.from(filler), { persistent: true });
      await ch.waitForConfirms();
      await conn.close();
      const bytes = n.document(commune, [province], 'Không vào được hàng đợi');
      const r = await commune.submit(bytes);
      expect(r).toMatchObject({ status: 503, json: { error: { code: 'UNAVAILABLE' } } });
      expect((await sentList()).map((s) => s.docId)).not.toContain(docIdOf(bytes));
    } finally {
      rabbitmqctl('clear_policy', policy);
      await n.admin(1, 'POST', `/api/admin/queues/${queue}/resume`);
    }
  });
});
