// The province's top hub linked up to the national axis (issue 17), against an independent
// stand-in axis (tests/helpers/national-axis.ts) written from the real SDK's wire format, on the
// real broker: the directory at the first hop, up, forgeries in the national outbox, down,
// statuses both ways, refusals, an axis outage, a hub closed between the durable write and
// updateStatus, and refused credentials.
//
// The stand-in ministries are not agencies of the province: their signing certificates are
// registered in the configuration (an agency entry no hub serves), so the hop check's binding
// rule accepts them with or without the rule for outside senders (issue 17, item 5).
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRootLogger } from '../../src/logger.js';
import type { Config } from '../../src/config.js';
import { startHub } from '../../src/hub.js';
import { docIdOf } from '../../src/pipeline/hop-pipeline.js';
import amqp from 'amqplib';
import { toHeaders } from '../../src/bus/message.js';
import { addressOf, hubQueues } from '../../src/bus/topology.js';
import { NATIONAL } from '../../src/routing/router.js';
import { AMQP_URL, eventually, inboxItem, startTestNetwork, type Agent, type TestNetwork } from '../helpers/network.js';
import { startStandInAxis, type StandInAxis } from '../helpers/national-axis.js';
import { axisLink } from '../helpers/axis-link.js';
import { vxpClient } from '../../src/national/vxp-client.js';

const MINISTRY = '000.00.00.G12';
const OTHER_MINISTRY = '000.00.00.G13';
const FAR_COMMUNE = '000.07.05.H99';
const UNKNOWN = '000.00.00.G77';
// The 2025 merger of ministries: the national directory lists the new one with the old code.
const MERGED_MINISTRY = '000.00.00.G14';
const OLD_MINISTRY = '000.00.00.G15';

let axis: StandInAxis;
let n: TestNetwork;
let topConfig: Readonly<Config>;
let commune: Agent, department: Agent, ministry: Agent;
let provinceSecret: string;

const nationalAgent = (code: string, name: string) => ({ agency: { code, name } }) as Agent;

beforeAll(async () => {
  const systems = new Map([
    [MINISTRY, { secret: 'ministry-secret', owns: (c: string) => ['.G12', '.G13', '.G14', '.G15'].some((g) => c.endsWith(g)) }],
    ['000.00.00.H99', { secret: 'other-province-secret', owns: (c: string) => c.endsWith('.H99') }],
  ]);
  axis = await startStandInAxis(systems, [
    { id: MINISTRY, pid: '', code: MINISTRY, name: 'Bộ Nội vụ', mail: 'vanthu@moha.gov.vn', oldCode: '' },
    { id: OTHER_MINISTRY, pid: '', code: OTHER_MINISTRY, name: 'Bộ Tư pháp', mail: '', oldCode: 'G13' },
    { id: FAR_COMMUNE, pid: '000.00.00.H99', code: FAR_COMMUNE, name: 'UBND xã Tân Phú (tỉnh khác)', mail: '', oldCode: '' },
    { id: MERGED_MINISTRY, pid: '', code: MERGED_MINISTRY, name: 'Bộ Khoa học và Công nghệ', mail: '', oldCode: OLD_MINISTRY },
  ]);
  const link = axisLink(axis, { code: MINISTRY, name: 'Bộ Nội vụ' });
  provinceSecret = link.secret;
  n = await startTestNetwork({
    configFor: (_hubId, config, net) => {
      topConfig = link.link(config, net);
      return topConfig;
    },
  });
  commune = n.agent('000.07.05.');
  department = n.agent('000.00.12.');
  ministry = link.ministry();
  // The commune hub knows the national directory (broadcast by the top hub at start).
  await eventually(async () => {
    const r = await commune.submit(n.document(commune, [nationalAgent(OTHER_MINISTRY, 'Bộ Tư pháp')], 'Khởi động'));
    return r.status === 202 ? true : undefined;
  }, 'the national directory at the commune hub');
}, 90_000);
afterAll(async () => {
  await n?.close();
  await axis?.close();
});

const sentItem = (a: Agent, docId: string) => a.request('GET', '/api/v1/edocs/sent').then((r) => r.json.items.find((i: { docId: string }) => i.docId === docId));
const inbox = (a: Agent, docId: string) => inboxItem(a, docId, 20_000);
const deadLetterOf = (docId: string) => eventually(async () => {
  const res = await fetch(`${n.hubs[0]!.url}/api/admin/dead-letters?docId=${docId}`, { headers: { authorization: `Bearer ${n.net.adminToken}` } });
  return ((await res.json()) as { items: { docId: string; reasonCode: string; reason: string }[] }).items[0];
}, `the dead letter of ${docId}`);
const sentThrough = (predicate: (d: StandInAxis['sent'][number]) => boolean) => eventually(async () => axis.sent.find(predicate), 'a sendEdoc at the axis', 20_000);
const documentIdOf = (bytes: Buffer) => /<edXML:DocumentId>([^<]+)</.exec(bytes.toString('utf8'))![1]!;

describe('the national directory at the first hop', () => {
  it('routes a recipient only the national directory knows as "national", and refuses one unknown to both', async () => {
    const r = await commune.submit(n.document(commune, [department, nationalAgent(MINISTRY, 'Bộ Nội vụ')], 'Gửi lên Bộ'));
    expect(r.status, JSON.stringify(r.json)).toBe(202);
    expect(r.json.recipients).toEqual([
      { organId: department.agency.code, route: 'parent' },
      { organId: MINISTRY, route: 'national' },
    ]);
    // From an agency the top hub serves: straight into its national outbox.
    const fromTop = await department.submit(n.document(department, [nationalAgent(MINISTRY, 'Bộ Nội vụ')], 'Sở gửi Bộ'));
    expect(fromTop.json.recipients).toEqual([{ organId: MINISTRY, route: 'national' }]);
    await sentThrough((d) => d.from === department.agency.code);
    const unknown = await commune.submit(n.document(commune, [nationalAgent(UNKNOWN, 'Không có')]));
    expect(unknown.status).toBe(422);
    expect(unknown.json.error.code).toBe('UNKNOWN_RECIPIENT');
  });

  it('routes a code the national directory lists as an oldCode to the code that replaced it, at a hub below the gateway', async () => {
    const r = await commune.submit(n.document(commune, [nationalAgent(OLD_MINISTRY, 'Bộ Thông tin và Truyền thông')], 'Gửi mã cũ'));
    expect(r.status, JSON.stringify(r.json)).toBe(202);
    expect(r.json.recipients).toEqual([{ organId: OLD_MINISTRY, route: 'national', redirectedTo: MERGED_MINISTRY }]);
  });

  it('lists the national directory on the console\'s agency page, searchable', async () => {
    const url = n.hubs[2]!.url;
    const login = await fetch(`${url}/admin/login`, {
      method: 'POST', redirect: 'manual', body: new URLSearchParams({ token: n.net.adminToken }),
      headers: { origin: url, 'content-type': 'application/x-www-form-urlencoded' },
    });
    const cookie = login.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    const page = await (await fetch(`${url}/admin/agencies?q=t%C6%B0%20ph%C3%A1p&lang=en`, { headers: { cookie } })).text();
    expect(page).toContain('National directory');
    expect(page).toContain(OTHER_MINISTRY);
    expect(page).not.toContain('vanthu@moha.gov.vn');
  });
});

describe('up: a commune writes to a ministry', () => {
  it('sends one sendEdoc per package exactly as the SDK does, and the national recipients become delivered with the axis DocId in the trace', async () => {
    const bytes = n.document(commune, [nationalAgent(MINISTRY, 'Bộ Nội vụ'), nationalAgent(OTHER_MINISTRY, 'Bộ Tư pháp')], 'Báo cáo lên hai Bộ');
    const r = await commune.submit(bytes);
    expect(r.status, JSON.stringify(r.json)).toBe(202);
    const doc = await sentThrough((d) => d.bytes.equals(bytes));
    expect(axis.sent.filter((d) => d.bytes.equals(bytes))).toHaveLength(1);
    expect(doc).toMatchObject({ from: commune.agency.code, to: [MINISTRY, OTHER_MINISTRY], messageType: 'edoc', sentBy: n.hubs[0]!.id });

    const request = axis.requests.find((q) => q.call === 'sendEdoc' && q.body.subarray(0, -2).equals(bytes))!;
    expect(request.method).toBe('POST');
    expect(request.headers['xroadvnpt-sign-header-key']).toBe('systemid;servicetype;messagetype;hash-file;from;to;timestamp;Content-Type');
    expect(request.headers['content-type']).toBe('application/octet-stream');
    expect(request.headers['user-agent']).toBe('JAVASDKAgent/1.0.0 XRoad/VPCP');
    expect(request.headers['xroadvnpt-version']).toBe('3.0.201608');
    expect(request.body.equals(Buffer.concat([bytes, Buffer.from('\r\n')]))).toBe(true);
    expect(request.signed).toMatchObject({ systemid: n.hubs[0]!.id, servicetype: 'eDoc', messagetype: 'edoc', from: commune.agency.code, to: JSON.stringify([MINISTRY, OTHER_MINISTRY]) });
    // gson's compact, HTML-safe JSON: the array's quotes escaped once, no spaces.
    expect(request.headers['xroadvnpt-sign-header']).toContain(`"XroadVnpt-to":"[\\"${MINISTRY}\\",\\"${OTHER_MINISTRY}\\"]"`);
    expect(request.headers['xroadvnpt-hash-header']).toMatch(/^[0-9a-f]{64}$/);

    const item = await eventually(async () => {
      const s = await sentItem(commune, r.json.docId);
      return s?.recipients.every((x: { delivery: string }) => x.delivery === 'delivered') ? s : undefined;
    }, 'delivered at the national axis');
    expect(item.recipients.map((x: { organId: string }) => x.organId).sort()).toEqual([MINISTRY, OTHER_MINISTRY]);
    const trace = (await commune.request('GET', `/api/v1/edocs/${r.json.docId}/trace`)).json;
    expect(JSON.stringify(trace)).toContain(doc.docId);

    // The same package again (a resubmission) reaches the gateway's outbox again, but not the axis.
    const again = await commune.submit(bytes);
    expect(again).toMatchObject({ status: 200, json: { docId: r.json.docId } });
    const marker = n.document(commune, [nationalAgent(MINISTRY, 'Bộ Nội vụ')], 'Sau bản gửi lại');
    await commune.submit(marker);
    await sentThrough((d) => d.bytes.equals(marker)); // the outbox is in order: the resubmission went before it
    expect(axis.sent.filter((d) => d.bytes.equals(bytes))).toHaveLength(1);
  });

  it('dead-letters a package the axis refuses, with its ErrorCode, and sends the sender a 02', async () => {
    axis.refuseNext = { ErrorCode: '42', ErrorDesc: 'chứng thư số không hợp lệ' };
    const bytes = n.document(commune, [nationalAgent(MINISTRY, 'Bộ Nội vụ')], 'Sẽ bị trục quốc gia từ chối');
    const r = await commune.submit(bytes);
    expect(r.status).toBe(202);
    const dead = await deadLetterOf(r.json.docId);
    expect(dead.reasonCode).toBe('UPSTREAM_REFUSED');
    expect(dead.reason).toContain('ErrorCode 42');
    expect(dead.reason).toContain('chứng thư số không hợp lệ');
    await eventually(async () => {
      const s = await sentItem(commune, r.json.docId);
      return s?.recipients[0]?.delivery === 'failed' ? true : undefined;
    }, 'the recipient failed');
    await eventually(async () => {
      const statuses = (await commune.request('GET', '/api/v1/edocs/received?kind=status')).json.items;
      return statuses.find((s: { statusCode: string; from: string }) => s.statusCode === '02' && s.from === n.hubs[0]!.id);
    }, 'the 02 status');
    expect(axis.sent.some((d) => d.bytes.equals(bytes))).toBe(false);
  });
});

describe('the national outbox on the broker', () => {
  it('sends the axis nothing a broker user put into the gateway\'s national outbox without the gateway\'s seal, and dead-letters it', async () => {
    const bytes = n.document(commune, [nationalAgent(MINISTRY, 'Bộ Nội vụ')], 'Thả thẳng vào hộp thư đi quốc gia');
    const docId = docIdOf(bytes);
    const fields = { body: bytes, kind: 'edoc' as const, docId, originHub: n.hubs[0]!.id, sender: commune.agency.code, recipients: [MINISTRY], trace: [] };
    const outbox = addressOf(hubQueues(n.hubs[0]!.id).outbox(NATIONAL));
    const conn = await amqp.connect(AMQP_URL);
    try {
      const ch = await conn.createConfirmChannel();
      // No seal worth the name, then one claiming the commune hub (which never writes this outbox).
      for (const sealHub of [n.hubs[0]!.id, n.hubs[2]!.id]) {
        ch.publish(outbox.exchange, outbox.routingKey, bytes, { persistent: true, headers: toHeaders({ ...fields, seal: Buffer.from('forged').toString('base64'), sealHub }) });
      }
      await ch.waitForConfirms();
    } finally {
      await conn.close();
    }
    const dead = await eventually(async () => {
      const res = await fetch(`${n.hubs[0]!.url}/api/admin/dead-letters?docId=${docId}`, { headers: { authorization: `Bearer ${n.net.adminToken}` } });
      const items = ((await res.json()) as { items: { reasonCode: string }[] }).items;
      return items.length >= 2 ? items : undefined;
    }, `the two forgeries of ${docId} dead-lettered`);
    expect(dead.map((d) => d.reasonCode)).toEqual(['SIGNATURE_INVALID', 'SIGNATURE_INVALID']);
    expect(axis.requests.some((q) => q.call === 'sendEdoc' && q.body.subarray(0, -2).equals(bytes))).toBe(false);
  });
});

describe('down: a ministry writes to a commune', () => {
  it('takes the package from the axis, checks it, delivers it byte for byte, and only then says done', async () => {
    const bytes = n.document(ministry, [commune], 'Công văn của Bộ');
    const nationalId = axis.handOver({ from: MINISTRY, to: [commune.agency.code], messageType: 'edoc', bytes });
    const item = await inbox(commune, docIdOf(bytes));
    expect(item).toMatchObject({ kind: 'edoc', from: MINISTRY });
    expect((await commune.request('GET', `/api/v1/edocs/${item.docId}`)).bytes.equals(bytes)).toBe(true);
    await eventually(async () => axis.updates.find((u) => u.docId === nationalId), 'updateStatus done');
    expect(axis.updates.filter((u) => u.docId === nationalId)).toEqual([{ systemId: n.hubs[0]!.id, docId: nationalId, status: 'done' }]);
    const update = axis.requests.find((q) => q.call === 'updateStatus' && q.signed.docId === nationalId)!;
    expect(update.headers['xroadvnpt-sign-header-key']).toBe('systemid;docId;timestamp;Content-Type;status');
    expect(update.body.toString()).toBe('{}');
  });

  it('delivers a package for several provinces to this network\'s recipients only', async () => {
    const bytes = n.document(ministry, [commune, nationalAgent(FAR_COMMUNE, 'UBND xã Tân Phú')], 'Gửi hai tỉnh');
    const nationalId = axis.handOver({ from: MINISTRY, to: [commune.agency.code, FAR_COMMUNE], messageType: 'edoc', bytes });
    await inbox(commune, docIdOf(bytes));
    expect(await eventually(async () => axis.updates.find((u) => u.docId === nationalId), 'updateStatus done')).toMatchObject({ status: 'done' });
    // Nothing of it went back up to the axis for the other province.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(axis.sent.filter((d) => d.bytes.equals(bytes))).toHaveLength(1);
  });

  it('answers fail for a tampered package and never delivers it', async () => {
    const good = n.document(ministry, [commune], 'Bản gốc');
    const tampered = Buffer.from(good.toString('utf8').replace('Bản gốc', 'Bản sửa'), 'utf8');
    const nationalId = axis.handOver({ from: MINISTRY, to: [commune.agency.code], messageType: 'edoc', bytes: tampered });
    const update = await eventually(async () => axis.updates.find((u) => u.docId === nationalId), 'updateStatus fail');
    expect(update.status).toBe('fail');
    expect(update.reason).toMatch(/^SIGNATURE_INVALID/);
    expect((await deadLetterOf(docIdOf(tampered))).reasonCode).toBe('SIGNATURE_INVALID');
    const items = (await commune.request('GET', '/api/v1/edocs/received')).json.items;
    expect(items.map((i: { docId: string }) => i.docId)).not.toContain(docIdOf(tampered));
  });

  it('answers fail UNKNOWN_RECIPIENT for a recipient the network does not serve', async () => {
    const province = n.hubs[0]!.id.slice(-3);
    const stranger = nationalAgent(`000.99.99.${province}`, 'Không có');
    const bytes = n.document(ministry, [stranger], 'Nhầm nơi nhận');
    const nationalId = axis.handOver({ from: MINISTRY, to: [stranger.agency.code], messageType: 'edoc', bytes });
    const update = await eventually(async () => axis.updates.find((u) => u.docId === nationalId), 'updateStatus fail');
    expect(update).toMatchObject({ status: 'fail', reason: expect.stringMatching(/^UNKNOWN_RECIPIENT/) });
  });
});

describe('statuses both ways', () => {
  it('sends our agency\'s status up with messagetype=status, and a status from the axis updates the sender\'s sent list', async () => {
    // Down then up: the ministry's document, and the commune's 03 for it.
    const bytes = n.document(ministry, [commune], 'Cần trả lời');
    axis.handOver({ from: MINISTRY, to: [commune.agency.code], messageType: 'edoc', bytes });
    await inbox(commune, docIdOf(bytes));
    const status = n.status(commune, '03', { OrganId: MINISTRY, DocumentId: documentIdOf(bytes) });
    const s = await commune.submit(status);
    expect(s.status, JSON.stringify(s.json)).toBe(202);
    expect(s.json.recipients).toEqual([{ organId: MINISTRY, route: 'national' }]);
    const up = await sentThrough((d) => d.bytes.equals(status));
    expect(up).toMatchObject({ messageType: 'status', from: commune.agency.code, to: [MINISTRY] });

    // Up then down: the commune's document, and the ministry's 03 for it.
    const doc = n.document(commune, [nationalAgent(MINISTRY, 'Bộ Nội vụ')], 'Chờ Bộ trả lời');
    const r = await commune.submit(doc);
    await sentThrough((d) => d.bytes.equals(doc));
    const answer = n.status(ministry, '03', { OrganId: commune.agency.code, DocumentId: documentIdOf(doc) });
    axis.handOver({ from: MINISTRY, to: [commune.agency.code], messageType: 'status', bytes: answer });
    await eventually(async () => {
      const item = await sentItem(commune, r.json.docId);
      return item?.recipients[0]?.status === '03' ? true : undefined;
    }, 'the ministry\'s 03 in the commune\'s sent list', 20_000);
  });
});

describe('statistics with the national axis', () => {
  it('counts documents sent up and handed down apart, beside sent and received', async () => {
    const hcmDay = (ms: number) => new Date(ms + 7 * 3_600_000).toISOString().slice(0, 10);
    const query = `from=${hcmDay(Date.now() - 86_400_000)}&to=${hcmDay(Date.now())}&groupBy=agency`;
    const split = async () => {
      const res = await n.admin(0, 'GET', `/api/admin/stats?${query}`);
      expect(res.status).toBe(200);
      const row = res.json.rows.find((r: { key: string }) => r.key === commune.agency.code);
      return { sent: row.sent, sentNational: row.sentNational, received: row.received, receivedNational: row.receivedNational, totals: res.json.totals };
    };
    const before = await split();
    const up = n.document(commune, [department, nationalAgent(MINISTRY, 'Bộ Nội vụ')], 'Thống kê: gửi lên');
    expect((await commune.submit(up)).status).toBe(202);
    const inside = n.document(commune, [department], 'Thống kê: trong tỉnh');
    expect((await commune.submit(inside)).status).toBe(202);
    const down = n.document(ministry, [commune], 'Thống kê: từ Bộ');
    axis.handOver({ from: MINISTRY, to: [commune.agency.code], messageType: 'edoc', bytes: down });
    await inbox(commune, docIdOf(down));
    const after = await eventually(async () => {
      const s = await split();
      return s.received > before.received ? s : undefined;
    }, 'the document from the axis counted');
    expect({ ...after, totals: undefined }).toEqual({
      sent: before.sent + 2, sentNational: before.sentNational + 1, received: before.received + 1, receivedNational: before.receivedNational + 1, totals: undefined,
    });
    expect(after.totals.sentNational).toBe(before.totals.sentNational + 1);
    expect(after.totals.receivedNational).toBe(before.totals.receivedNational + 1);
  });
});

describe('failures', () => {
  it('keeps packages while the axis is down, and sends them once it is back: nothing lost, nothing dead-lettered', async () => {
    axis.down = true;
    const bytes = n.document(commune, [nationalAgent(MINISTRY, 'Bộ Nội vụ')], 'Trong lúc trục quốc gia mất kết nối');
    const r = await commune.submit(bytes);
    expect(r.status).toBe(202);
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    const ready = await (await fetch(`${n.hubs[0]!.url}/readyz`)).json() as { status: string; upstream: { stale: boolean } };
    expect(ready).toMatchObject({ status: 'ready, with warnings', upstream: { stale: true } });
    const metrics = await (await fetch(`${n.hubs[0]!.url}/metrics`, { headers: { authorization: `Bearer ${n.net.adminToken}` } })).text();
    expect(metrics).toMatch(/lgsp_upstream_up\{[^}]*\} 0/);
    expect(metrics).toMatch(/lgsp_upstream_calls_total\{[^}]*call="sendEdoc"[^}]*result="unavailable"[^}]*\} [1-9]/);
    expect(metrics).toMatch(/lgsp_upstream_outbox_messages\{[^}]*\} [01]/);
    expect(axis.sent.some((d) => d.bytes.equals(bytes))).toBe(false);
    // The national outbox is browsable like any working queue (from the journal).
    const outbox = `lgsp.${n.hubs[0]!.id}.out.national`;
    const browsed = await n.admin(0, 'GET', `/api/admin/queues/${outbox}/messages`);
    expect(browsed.status).toBe(200);
    expect(JSON.stringify(browsed.json.items)).toContain(r.json.docId);
    // Paused, the lane gives the package in hand back to the outbox at once, and sends nothing until resumed.
    const paused = Date.now();
    expect((await n.admin(0, 'POST', `/api/admin/queues/${outbox}/pause`)).json).toEqual({ queue: outbox, paused: true });
    expect(Date.now() - paused).toBeLessThan(3_000);
    axis.down = false;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(axis.sent.some((d) => d.bytes.equals(bytes))).toBe(false);
    expect((await n.admin(0, 'POST', `/api/admin/queues/${outbox}/resume`)).json).toEqual({ queue: outbox, paused: false });
    await sentThrough((d) => d.bytes.equals(bytes));
    expect(axis.sent.filter((d) => d.bytes.equals(bytes))).toHaveLength(1);
    const dead = await (await fetch(`${n.hubs[0]!.url}/api/admin/dead-letters?docId=${r.json.docId}`, { headers: { authorization: `Bearer ${n.net.adminToken}` } })).json() as { total: number };
    expect(dead.total).toBe(0);
    const after = await (await fetch(`${n.hubs[0]!.url}/metrics`, { headers: { authorization: `Bearer ${n.net.adminToken}` } })).text();
    expect(after).toMatch(/lgsp_upstream_up\{[^}]*\} 1/);
  }, 40_000);

  it('loses nothing and delivers nothing twice when the hub closes between the durable write and updateStatus', async () => {
    axis.updateStatusDown = true;
    const bytes = n.document(ministry, [commune], 'Ghi bền rồi mới báo xong');
    const nationalId = axis.handOver({ from: MINISTRY, to: [commune.agency.code], messageType: 'edoc', bytes });
    await inbox(commune, docIdOf(bytes));
    await eventually(async () => axis.requests.find((q) => q.call === 'updateStatus' && q.signed.docId === nationalId && q.answer === 503), 'a refused updateStatus');
    // Back on the port it had, where the agents of later tests reach it.
    const port = Number(new URL(n.hubs[0]!.url).port);
    await n.hubs[0]!.close();
    axis.updateStatusDown = false;
    const restarted = await startHub(topConfig, { ...topConfig.hubs[0]!, port }, { log: createRootLogger('silent'), clock: () => new Date() });
    if (!restarted.ok) throw new Error(restarted.error.message);
    n.hubs[0] = restarted.value;
    await eventually(async () => axis.updates.find((u) => u.docId === nationalId), 'updateStatus done after the restart', 20_000);
    expect(axis.updates.filter((u) => u.docId === nationalId)).toEqual([{ systemId: n.hubs[0]!.id, docId: nationalId, status: 'done' }]);
    const items = (await commune.request('GET', '/api/v1/edocs/received')).json.items;
    expect(items.filter((i: { docId: string }) => i.docId === docIdOf(bytes))).toHaveLength(1);
  }, 40_000);

  it('says UPSTREAM_UNAUTHENTICATED and sends nothing while the axis refuses the province\'s secret', async () => {
    const system = axis.systems.get(n.hubs[0]!.id)!;
    axis.systems.set(n.hubs[0]!.id, { ...system, secret: 'rotated-at-the-axis' });
    const bytes = n.document(commune, [nationalAgent(MINISTRY, 'Bộ Nội vụ')], 'Sai khóa bí mật');
    const r = await commune.submit(bytes);
    expect(r.status).toBe(202);
    await eventually(async () => axis.requests.find((q) => q.call === 'sendEdoc' && q.answer === 401 && q.body.subarray(0, -2).equals(bytes)), 'a refused sendEdoc');
    const login = await fetch(`${n.hubs[0]!.url}/admin/login`, {
      method: 'POST', redirect: 'manual', body: new URLSearchParams({ token: n.net.adminToken }),
      headers: { origin: n.hubs[0]!.url, 'content-type': 'application/x-www-form-urlencoded' },
    });
    const cookie = login.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    const dashboard = await (await fetch(`${n.hubs[0]!.url}/admin?lang=en`, { headers: { cookie } })).text();
    expect(dashboard).toContain('UPSTREAM_UNAUTHENTICATED');
    expect(dashboard).not.toContain(provinceSecret);
    expect(axis.sent.some((d) => d.bytes.equals(bytes))).toBe(false);
    axis.systems.set(n.hubs[0]!.id, system);
    await sentThrough((d) => d.bytes.equals(bytes));
  }, 40_000);
});

describe('the client against the hub\'s own /vxp', () => {
  it('is accepted by the server side that the real SDK was checked against (signing, raw body, hash-file, signed parameters)', async () => {
    const client = vxpClient({ endpoint: `${commune.url}/vxp`, systemId: commune.agency.code, secret: Buffer.from(commune.agency.apiKey), timeoutMs: 5_000, clock: () => new Date() });
    const bytes = n.document(commune, [department], 'Qua /vxp bằng trình khách của trục');
    const sent = await client.sendEdoc({ bytes, from: commune.agency.code, to: [department.agency.code], messageType: 'edoc' });
    expect(sent).toEqual({ kind: 'ok', value: { docId: docIdOf(bytes) } });
    const at = vxpClient({ endpoint: `${department.url}/vxp`, systemId: department.agency.code, secret: Buffer.from(department.agency.apiKey), timeoutMs: 5_000, clock: () => new Date() });
    const listed = await eventually(async () => {
      const l = await at.getReceivedEdocList('edoc');
      return l.kind === 'ok' && l.value.some((i) => i.docId === docIdOf(bytes)) ? l : undefined;
    }, 'the document in getReceivedEdocList');
    expect(listed.kind).toBe('ok');
    const got = await at.getEdoc(docIdOf(bytes));
    expect(got.kind === 'ok' && got.value.equals(bytes)).toBe(true);
    expect(await at.updateStatus(docIdOf(bytes), 'done')).toEqual({ kind: 'ok', value: undefined });
    const wrong = vxpClient({ endpoint: `${department.url}/vxp`, systemId: department.agency.code, secret: Buffer.from('not-the-key'), timeoutMs: 5_000, clock: () => new Date() });
    expect(await wrong.getAgenciesList()).toMatchObject({ kind: 'unauthenticated', errorCode: '12' });
  });
});

describe('the secret file', () => {
  it('refuses to start a gateway whose secret file is missing, naming the file and not a secret', async () => {
    const hub = { ...topConfig.hubs[0]!, port: 0, upstream: { ...topConfig.hubs[0]!.upstream!, secretFile: path.join(n.net.dir, 'absent.secret') } };
    const r = await startHub({ ...topConfig, hubs: [hub, ...topConfig.hubs.slice(1)] }, hub, { log: createRootLogger('silent'), clock: () => new Date() });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe('USAGE');
      expect(r.error.message).toContain('absent.secret');
    }
  });
});
