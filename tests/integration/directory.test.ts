// The agency directory after a restructuring, on the real broker: closed codes redirected at the
// first hop and at later ones, chains, a cycle refused, the waiting mailbox carried on, a closed
// key refused for sending but reading during its grace, statuses reaching the successor, an
// agency moved with documents waiting, a CSV plan refused whole for one bad line.
import { describe, expect, it } from 'vitest';
import { eventually, inboxItem, type Agent, type TestNetwork } from '../helpers/network.js';
import { useTestNetwork } from '../helpers/shared-network.js';
import { makeAgent } from '../helpers/agent.js';
import { consoleClient, csrfOf } from '../helpers/console-client.js';
import { sdkClient } from '../helpers/sdk-client.js';
import amqp from 'amqplib';
import { trustExchange } from '../../src/bus/broadcast.js';
import { AMQP_URL } from '../helpers/network.js';

const HOUR = 3_600_000;
let n: TestNetwork;
/** How far the commune hub's clock runs behind: a closure in force elsewhere may not be in force there yet. */
let communeLag = 0;
let commune: Agent, school: Agent, district: Agent, otherCommune: Agent, department: Agent, province: Agent, farCommune: Agent, nghiLoc: Agent;

useTestNetwork({ clockFor: (id) => (id.startsWith('000.07.05.') ? () => new Date(Date.now() - communeLag) : undefined) }, (started, a) => {
  n = started;
  ({ commune, school, district, otherCommune, department, province, farCommune, nghiLoc } = a);
});

type Item = { docId: string; addressedTo?: string; kind: string };
const inbox = (a: Agent, docId: string) => inboxItem<Item>(a, docId);
/** Waits until every hub lists `code` among the old codes of `successor`. */
const everywhere = (code: string, successor: string) => Promise.all(n.hubs.map((_, i) => eventually(async () => {
  const items = (await n.admin(i, 'GET', '/api/admin/agencies')).json.items as { code: string; oldCodes: string[] }[];
  return items.find((a) => a.code === successor)?.oldCodes.includes(code) ? true : undefined;
}, `${code} → ${successor} at hub ${i}`)));
const close = (code: string, successor: string, from?: string) => n.admin(0, 'POST', `/api/admin/agencies/${code}/successor`, { successor, ...(from ? { from } : {}) });
const documentIdOf = (bytes: Buffer) => /<edXML:DocumentId>([^<]+)<\/edXML:DocumentId>/.exec(bytes.toString('utf8'))![1]!;

describe('successors', () => {
  it('redirects a closed code at the first hop, bytes unchanged, traced; chains resolve; a cycle is refused', async () => {
    const closed = otherCommune.agency.code, successor = farCommune.agency.code;
    expect(await close(closed, successor)).toMatchObject({ status: 200, json: { code: closed, successor, from: expect.any(String) } });
    await everywhere(closed, successor);

    const bytes = n.document(commune, [otherCommune], 'Gửi xã đã sáp nhập');
    const submitted = await commune.submit(bytes);
    expect(submitted.status, JSON.stringify(submitted.json)).toBe(202);
    expect(submitted.json.recipients).toEqual([{ organId: closed, route: 'parent', redirectedTo: successor }]);
    const { docId } = submitted.json;
    expect(await inbox(farCommune, docId)).toMatchObject({ addressedTo: closed, kind: 'edoc' });
    expect((await farCommune.request('GET', `/api/v1/edocs/${docId}`)).bytes.equals(bytes)).toBe(true);
    const trace = await commune.request('GET', `/api/v1/edocs/${docId}/trace`);
    expect(trace.json.hops[0].checks.redirect).toBe(`${closed}>${successor}`);
    // The sender follows the recipient it named.
    await eventually(async () => {
      const doc = (await commune.request('GET', '/api/v1/edocs/sent')).json.items.find((i: Item) => i.docId === docId);
      return doc?.recipients[0]?.organId === closed && doc.recipients[0].delivery === 'delivered' ? true : undefined;
    }, 'the delivered receipt for the closed code');
    expect((await farCommune.request('POST', `/api/v1/edocs/${docId}/ack`, { result: 'done' })).status).toBe(200);
    await eventually(async () => {
      const doc = (await commune.request('GET', '/api/v1/edocs/sent')).json.items.find((i: Item) => i.docId === docId);
      return doc?.recipients[0]?.delivery === 'acked' ? true : undefined;
    }, 'the acked receipt for the closed code');

    // A → B, then B → C: A goes to C.
    expect((await close(successor, nghiLoc.agency.code)).status).toBe(200);
    await everywhere(closed, nghiLoc.agency.code);
    const chained = await commune.submit(n.document(commune, [otherCommune], 'Qua hai lần sáp nhập'));
    expect(chained.json.recipients).toEqual([{ organId: closed, route: 'parent', redirectedTo: nghiLoc.agency.code }]);
    expect(await inbox(nghiLoc, chained.json.docId)).toMatchObject({ addressedTo: closed });
    const listed = (await n.admin(2, 'GET', '/api/admin/agencies')).json.items.find((a: { code: string }) => a.code === nghiLoc.agency.code);
    expect(listed.oldCodes).toEqual([successor, closed]);
    // The national SDK dialect's directory carries them as oldCode.
    const sdkAgencies = (await sdkClient(`${commune.url}/vxp`, commune.agency.code, commune.agency.apiKey).call('POST', 'getAgenciesList')).json.data as { code: string; oldCode: string }[];
    expect(sdkAgencies.find((a) => a.code === nghiLoc.agency.code)?.oldCode).toBe(`${successor},${closed}`);
    expect(sdkAgencies.find((a) => a.code === commune.agency.code)?.oldCode).toBe('');

    // C → A would make a cycle: refused, and nothing changes.
    const cycle = await close(nghiLoc.agency.code, closed);
    expect(cycle).toMatchObject({ status: 409, json: { error: { code: 'DIRECTORY_CONFLICT', message: expect.stringContaining('cycle') } } });
    expect(await close(closed, closed)).toMatchObject({ status: 409 });
    expect(await close('000.77.05.T99', successor)).toMatchObject({ status: 404, json: { error: { code: 'NOT_FOUND' } } });
    const audit = (await n.admin(1, 'GET', '/api/admin/audit')).json.items.filter((e: { action: string }) => e.action === 'agency.successor');
    expect(audit).toHaveLength(2);
  });

  it('redirects at a later hop when the closure is in force there only', async () => {
    // In force from an hour ago: not yet at the commune hub (two hours behind), in force at the district and province hubs.
    communeLag = 2 * HOUR;
    expect((await close(department.agency.code, province.agency.code, new Date(Date.now() - HOUR).toISOString())).status).toBe(200);
    await everywhere(department.agency.code, province.agency.code);
    const submitted = await commune.submit(n.document(commune, [department], 'Gửi sở đã giải thể'));
    expect(submitted.json.recipients).toEqual([{ organId: department.agency.code, route: 'parent' }]);
    const { docId } = submitted.json;
    expect(await inbox(province, docId)).toMatchObject({ addressedTo: department.agency.code });
    const hops = (await commune.request('GET', `/api/v1/edocs/${docId}/trace`)).json.hops as { hub: string; checks: Record<string, string> }[];
    expect(hops.find((h) => h.hub === n.hubs[2]!.id)?.checks.redirect).toBeUndefined();
    await eventually(async () => {
      const t = (await commune.request('GET', `/api/v1/edocs/${docId}/trace`)).json.hops as { hub: string; checks: Record<string, string> }[];
      return t.find((h) => h.hub === n.hubs[1]!.id)?.checks.redirect === `${department.agency.code}>${province.agency.code}` ? true : undefined;
    }, 'the district hub\'s redirect in the trace');
    communeLag = 0;
  });

  it('carries the closed agency\'s waiting mailbox to its successor, refuses its key for sending, and sends it statuses to the successor', async () => {
    // Before the closure: a document waits for the district, and the district has sent one to the commune.
    const waiting = await school.submit(n.document(school, [district], 'Chờ xử lý'));
    await inbox(district, waiting.json.docId);
    const sentBytes = n.document(district, [commune], 'Công văn của huyện');
    const sent = await district.submit(sentBytes);
    await inbox(commune, sent.json.docId);

    expect((await close(district.agency.code, province.agency.code)).status).toBe(200);
    await everywhere(district.agency.code, province.agency.code);
    expect(await inbox(province, waiting.json.docId)).toMatchObject({ addressedTo: district.agency.code });

    const refused = await district.submit(n.document(district, [commune], 'Sau khi giải thể'));
    expect(refused).toMatchObject({ status: 403, json: { error: { code: 'AGENCY_CLOSED', message: expect.stringContaining(province.agency.code) } } });
    const viaSdk = await sdkClient(`${district.url}/vxp`, district.agency.code, district.agency.apiKey).sendEdoc(n.document(district, [commune], 'Qua SDK'), 'edoc');
    expect(viaSdk.status).toBe(403);
    expect(viaSdk.json).toMatchObject({ status: 'FAIL', ErrorCode: '24' });
    // During its grace period it still reads and acknowledges what it had.
    expect((await district.request('GET', '/api/v1/edocs/received')).json.items.map((i: Item) => i.docId)).toContain(waiting.json.docId);
    expect((await district.request('GET', `/api/v1/edocs/${waiting.json.docId}`)).status).toBe(200);
    expect((await district.request('POST', `/api/v1/edocs/${waiting.json.docId}/ack`, { result: 'done' })).status).toBe(200);

    // The commune answers the district's document: the status reaches the successor.
    const status = await commune.submit(n.status(commune, '03', { OrganId: district.agency.code, DocumentId: documentIdOf(sentBytes) }));
    expect(status.json.recipients).toEqual([{ organId: district.agency.code, route: 'parent', redirectedTo: province.agency.code }]);
    expect(await inbox(province, status.json.docId)).toMatchObject({ kind: 'status', addressedTo: district.agency.code });
  });

  it('moves an agency to another hub: new documents go there and its waiting mailbox follows', async () => {
    const before = await province.submit(n.document(province, [school], 'Trước khi chuyển'));
    await inbox(school, before.json.docId);
    const moved = await n.admin(0, 'POST', `/api/admin/agencies/${school.agency.code}/move`, { hubId: n.hubs[1]!.id });
    expect(moved).toMatchObject({ status: 200, json: { code: school.agency.code, hubId: n.hubs[1]!.id, from: n.hubs[2]!.id } });
    expect(await n.admin(0, 'POST', `/api/admin/agencies/${school.agency.code}/move`, { hubId: '000.00.99.T99' })).toMatchObject({ status: 404 });
    const atDistrict = makeAgent(school.agency, n.hubs[1]!.url);
    await eventually(async () => ((await atDistrict.request('GET', '/api/v1/edocs/received')).status === 200 ? true : undefined), 'the key at the new hub');
    await eventually(async () => ((await school.request('GET', '/api/v1/edocs/received')).status === 401 ? true : undefined), 'the key gone from the old hub');
    const after = await province.submit(n.document(province, [school], 'Sau khi chuyển'));
    expect(after.json.recipients).toEqual([{ organId: school.agency.code, route: 'child' }]);
    const received = await eventually(async () => {
      const items = ((await atDistrict.request('GET', '/api/v1/edocs/received')).json.items as Item[]).map((i) => i.docId);
      return items.includes(before.json.docId) && items.includes(after.json.docId) ? items : undefined;
    }, 'both documents at the new hub');
    expect(new Set(received).size).toBe(received.length);
    // Straight down to its new hub: the commune hub no longer sees it.
    const trace = (await province.request('GET', `/api/v1/edocs/${after.json.docId}/trace`)).json.hops as { hub: string }[];
    expect(trace.map((h) => h.hub)).not.toContain(n.hubs[2]!.id);
  });
});

describe('a move while a document waits in the old hub\'s mailbox stage', () => {
  it('is routed on from there and delivered once at the new hub', async () => {
    // The school was moved to the district hub above; hold the district hub's mailbox stage.
    const deliver = `lgsp.${n.hubs[1]!.id}.deliver`;
    expect((await n.admin(1, 'POST', `/api/admin/queues/${deliver}/pause`)).status).toBe(200);
    const sent = await province.submit(n.document(province, [school], 'Đang chờ ở trục huyện'));
    expect(sent.json.recipients).toEqual([{ organId: school.agency.code, route: 'child' }]);
    const conn = await amqp.connect(AMQP_URL);
    try {
      const ch = await conn.createChannel();
      await eventually(async () => ((await ch.checkQueue(deliver)).messageCount === 1 ? true : undefined), 'the document held at the district hub\'s mailbox stage');
    } finally {
      await conn.close();
    }
    expect((await n.admin(0, 'POST', `/api/admin/agencies/${school.agency.code}/move`, { hubId: n.hubs[2]!.id })).status).toBe(200);
    await eventually(async () => ((await school.request('GET', '/api/v1/edocs/received')).status === 200 ? true : undefined), 'the key back at the commune hub');
    expect((await n.admin(1, 'POST', `/api/admin/queues/${deliver}/resume`)).status).toBe(200);
    await inbox(school, sent.json.docId);
    // Province, then the district hub (which held it), then the commune hub that now serves the school.
    const hubs = await eventually(async () => {
      const t = ((await province.request('GET', `/api/v1/edocs/${sent.json.docId}/trace`)).json.hops as { hub: string }[]).map((h) => h.hub);
      return t.includes(n.hubs[2]!.id) ? t : undefined;
    }, 'the commune hub in the trace');
    expect(hubs).toEqual([n.hubs[0]!.id, n.hubs[1]!.id, n.hubs[2]!.id]);
    const received = ((await school.request('GET', '/api/v1/edocs/received')).json.items as Item[]).filter((i) => i.docId === sent.json.docId);
    expect(received).toHaveLength(1);
  });
});

describe('a forged directory change', () => {
  it('is dead-lettered at every hub and closes nothing', async () => {
    const marker = `forged-closure-${Date.now()}`;
    const change = { kind: 'agency.successor', code: department.agency.code, successor: commune.agency.code, from: null, actor: 'admin', at: new Date().toISOString(), origin: n.hubs[0]!.id };
    const conn = await amqp.connect(AMQP_URL);
    try {
      const ch = await conn.createConfirmChannel();
      ch.publish(trustExchange(n.hubs[0]!.id), '', Buffer.from(JSON.stringify(change)), {
        persistent: true, headers: { 'x-lgsp-doc-id': marker, 'x-lgsp-seal-hub': n.hubs[0]!.id, 'x-lgsp-seal': Buffer.from('forged').toString('base64') },
      });
      await ch.waitForConfirms();
    } finally {
      await conn.close();
    }
    for (const hub of [0, 1, 2]) {
      await eventually(async () => {
        const items = (await n.admin(hub, 'GET', `/api/admin/dead-letters?docId=${marker}`)).json.items as { reasonCode: string }[];
        return items.length === 1 && items[0]!.reasonCode === 'SIGNATURE_INVALID' ? true : undefined;
      }, `the forged closure dead-lettered at hub ${hub}`);
      const listed = (await n.admin(hub, 'GET', '/api/admin/agencies')).json.items.find((a: { code: string }) => a.code === commune.agency.code);
      expect(listed.oldCodes).not.toContain(department.agency.code);
    }
  });
});

describe('the console\'s agency page', () => {
  it('shows successors and closed codes in Vietnamese and English, and closes an agency from its form', async () => {
    const url = n.hubs[1]!.url;
    const c = consoleClient(url);
    await c.post('/admin/login', { token: n.net.adminToken });
    const page = await c.get('/admin/agencies');
    const token = await csrfOf(page.clone());
    const text = await page.text();
    expect(text).toContain('Cơ quan kế thừa');
    expect(text).toMatch(new RegExp(`data-agency="${otherCommune.agency.code}">[\\s\\S]*?Đã đóng, chuyển về ${farCommune.agency.code}`));
    const english = await (await c.get('/admin/agencies?lang=en')).text();
    expect(english).toMatch(new RegExp(`data-agency="${nghiLoc.agency.code}">[\\s\\S]*?<td>${farCommune.agency.code}, ${otherCommune.agency.code}</td>`));
    expect(english).toContain('Close an agency (merger)');

    const refused = await c.post('/admin/agencies/close', { _csrf: token, code: nghiLoc.agency.code, successor: otherCommune.agency.code });
    expect(decodeURIComponent(refused.headers.get('location')!)).toContain('DIRECTORY_CONFLICT');
    const closed = await c.post('/admin/agencies/close', { _csrf: token, code: commune.agency.code, successor: school.agency.code, from: '2099-01-01T00:00:00+07:00' });
    expect(decodeURIComponent(closed.headers.get('location')!)).toContain(`${commune.agency.code} → ${school.agency.code}`);
    const later = await (await c.get('/admin/agencies?lang=en')).text();
    expect(later).toMatch(new RegExp(`data-agency="${commune.agency.code}">[\\s\\S]*?Closes into ${school.agency.code}`));
    expect((await n.admin(1, 'GET', '/api/admin/audit')).json.items[0]).toMatchObject({ action: 'agency.successor', actor: 'demo-admin' });
  });
});

describe('a restructuring plan (CSV)', () => {
  const post = async (csv: string, dryRun: boolean) => {
    const res = await fetch(`${n.hubs[0]!.url}/api/admin/agencies/import?dryRun=${dryRun}`, {
      method: 'POST', body: csv, headers: { authorization: `Bearer ${n.net.adminToken}`, 'content-type': 'text/csv' },
    });
    return { status: res.status, json: await res.json() as any };
  };
  const p = () => n.hubs[0]!.id.slice(-3);

  it('refuses a plan with one bad line whole, with its line numbers; a dry run changes nothing; the plan applies as one audited change', async () => {
    const fresh = `000.21.05.${p()}`, merged = `000.22.05.${p()}`;
    const good = [`code,name,hubId,successor,from`, `${fresh},"UBND xã Mới, sau sáp nhập",${n.hubs[1]!.id},,`, `${merged},UBND xã Cũ,,${fresh},2025-07-01T00:00:00+07:00`];
    const bad = [...good, `${commune.agency.code},,,${commune.agency.code},`, `28.22.H17,x,,,`];
    const refused = await post(bad.join('\n'), false);
    expect(refused).toMatchObject({ status: 400, json: { error: { code: 'SCHEMA_INVALID' } } });
    expect(refused.json.error.details.map((d: { line: number }) => d.line)).toEqual([5]);
    const cycle = await post([...good, `${fresh},,,${merged},`].join('\n'), false);
    expect(cycle.json.error.details).toEqual([{ line: 4, reason: expect.stringContaining('earlier line') }]);
    const selfClosed = await post([...good, `${commune.agency.code},,,${commune.agency.code},`].join('\n'), false);
    expect(selfClosed.json.error.details).toEqual([{ line: 4, reason: expect.stringContaining('own successor') }]);
    const agencies = async () => ((await n.admin(0, 'GET', '/api/admin/agencies')).json.items as { code: string }[]).map((a) => a.code);
    expect(await agencies()).not.toContain(fresh);

    const dry = await post(good.join('\n'), true);
    expect(dry).toMatchObject({ status: 200, json: { dryRun: true, apiKeys: {} } });
    expect(dry.json.changes).toEqual([
      `add ${fresh} "UBND xã Mới, sau sáp nhập" at hub ${n.hubs[1]!.id}`, `add ${merged} "UBND xã Cũ" at hub ${n.hubs[1]!.id}`,
      `close ${merged} into ${fresh} from 2025-06-30T17:00:00.000Z`,
    ]);
    expect(await agencies()).not.toContain(fresh);

    const applied = await post(good.join('\n'), false);
    expect(applied).toMatchObject({ status: 200, json: { dryRun: false, apiKeys: { [fresh]: expect.any(String), [merged]: expect.any(String) } } });
    await everywhere(merged, fresh);
    const plans = (await n.admin(2, 'GET', '/api/admin/audit')).json.items.filter((e: { action: string }) => e.action === 'agency.plan');
    expect(plans).toHaveLength(1);
  });
});
