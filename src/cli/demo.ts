// lgsp demo: a three-level network (province, district, commune hubs) on the local broker, or with
// --tiers 2 a province hub and two commune hubs (no district, as since 1 July 2025). A
// commune agency sends a signed document to a province agency through every hub, the province
// agency downloads it (byte-identical), acknowledges it and answers with status 03, and the
// trace is printed. Then it keeps running until Ctrl-C (or exits with --once), leaving
// data/demo/agencies.json so that any HTTP client and XML-DSig tool can act as an agency.
// `--national` runs our hub as the national axis between two provinces instead (runNational).
import fs from 'node:fs';
import path from 'node:path';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import type { Logger } from 'pino';
import { createRootLogger } from '../logger.js';
import type { RunningHub } from '../hub.js';
import { z } from 'zod';
import { DEFAULT_AMQP_URL, parseConfig } from '../config.js';
import { buildDemoNetwork, deleteNetworkQueues, type DemoAgency, type DemoNetwork } from '../demo/network.js';
import { buildNationalNode, linkedUp } from '../demo/national.js';
import { brokerUsersFor, createBrokerUsers, provisionNetwork, withUser } from '../demo/broker-users.js';
import { emitEdoc, emitStatus } from '../edxml/emit.js';
import { signPackage } from '../trust/sign.js';
import { fail, ok, type Result } from '../errors.js';
import { redactUrl } from '../config.js';
import { parseFlags } from './flags.js';
import { SDK_BASE } from '../http/sdk-dialect.js';
import { reportError, type ExitStatus, type Io } from './report.js';
import { startHubs, stopHubs, untilSignal } from './start.js';

/** The national node's hub, 000.00.00.G01 (the axis is run by the Government Office). */
const NATIONAL_AXIS = 'G01';

const Flags = z.object({
  dir: z.string().default('data/demo'),
  province: z.string().regex(/^[A-Z]\d{2}$/, 'a level-1 unit such as H41').default('H41'),
  /** With --national: the second province, in two tiers. */
  'other-province': z.string().regex(/^[A-Z]\d{2}$/, 'a level-1 unit such as H42').default('H42'),
  /** Our hub as the national axis between two provinces (docs/national-axis.md). */
  national: z.boolean().default(false),
  port: z.coerce.number().int().min(0).max(65533).default(8701),
  once: z.boolean().default(false),
  tiers: z.enum(['2', '3']).default('3').transform((t) => (t === '2' ? 2 as const : 3 as const)),
  'log-level': z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'silent']).default('warn'),
  /** Errors as one JSON line on stdout ({ ok: false, code, message }). */
  json: z.boolean().default(false),
});

export async function runDemo(args: string[], io: Io, env: NodeJS.ProcessEnv, now: Date): Promise<ExitStatus> {
  const parsed = parseFlags(args, {
    dir: { type: 'string' }, province: { type: 'string' }, 'other-province': { type: 'string' }, port: { type: 'string' }, once: { type: 'boolean' },
    national: { type: 'boolean' }, tiers: { type: 'string' }, 'log-level': { type: 'string' }, json: { type: 'boolean' },
  }, Flags);
  if (!parsed.ok) return reportError(parsed.error, args.includes('--json'), io);
  const f = parsed.value.flags;
  const broker = { amqpUrl: env.AMQP_URL ?? DEFAULT_AMQP_URL, ...(env.RABBITMQ_MANAGEMENT_URL ? { managementUrl: env.RABBITMQ_MANAGEMENT_URL } : {}) };
  if (f.national && f.port > 65529) return reportError(fail('USAGE', '--port: the national demo uses seven ports from it, so at most 65529').error, f.json, io);
  if (f.national && f['other-province'] === f.province) return reportError(fail('USAGE', '--other-province must differ from --province').error, f.json, io);
  const dir = path.resolve(f.dir);
  fs.rmSync(dir, { recursive: true, force: true });
  const log = createRootLogger(f['log-level']);
  return f.national ? runNational(f, dir, broker, now, log, io) : runProvince(f, dir, broker, now, log, io);
}

type DemoFlags = z.output<typeof Flags>;
interface Broker { amqpUrl: string; managementUrl?: string }

/** The default demo: one province in three tiers (or two), a commune writing to a department. */
async function runProvince(f: DemoFlags, dir: string, broker: Broker, now: Date, log: Logger, io: Io): Promise<ExitStatus> {
  const ports: [number, number, number] = f.port === 0 ? [0, 0, 0] : [f.port, f.port + 1, f.port + 2];
  const net = await buildDemoNetwork({ dir, province: f.province, ports, now, tiers: f.tiers, ...broker });
  io.out(`LGSP demo: ${net.hubs.length} hubs on ${redactUrl(broker.amqpUrl)}`);
  const launched = await launch(net, net.config, broker.amqpUrl, log, io);
  if (!launched.ok) return reportError(launched.error, f.json, io);
  const { hubs, urlOf } = launched.value;
  const manifest = writeManifest(net, urlOf);
  const sender = net.agencies[0]!; // a commune's people's committee, in either tier layout
  const receiver = net.agencies.find((a) => a.code.startsWith('000.00.12.'))!;
  const scenario = await runScenario(sender, receiver, urlOf, io);
  io.out(`\nagencies, API keys and keys: ${path.relative(process.cwd(), manifest)}`);
  return finish(hubs, scenario, f.once, log, io, `curl -H "Authorization: Bearer ${net.agencies[0]!.apiKey}" ${urlOf(net.agencies[0]!.hubId)}/api/v1/edocs/sent`);
}

/**
 * `--national`: our hub as the national axis (docs/national-axis.md, "Our hub as the national
 * axis"). A national node serving a ministry, a province in three tiers and one in two (after the
 * 2025 reform), each province's top hub linked up to the node's /vxp; a commune of the first
 * writes to the ministry and to a commune of the second, and each answers with status 03.
 */
async function runNational(f: DemoFlags, dir: string, broker: Broker, now: Date, log: Logger, io: Io): Promise<ExitStatus> {
  const port = (i: number) => f.port === 0 ? 0 : f.port + i;
  const threeTiers = await buildDemoNetwork({ dir: path.join(dir, f.province), province: f.province, ports: [port(1), port(2), port(3)], now, ...broker });
  const twoTiers = await buildDemoNetwork({ dir: path.join(dir, f['other-province']), province: f['other-province'], ports: [port(4), port(5), port(6)], tiers: 2, now, ...broker });
  const provinces = [threeTiers, twoTiers];
  const national = await buildNationalNode({ dir: path.join(dir, 'national'), axis: NATIONAL_AXIS, port: port(0), now, provinces, ...broker });
  io.out(`LGSP demo --national: ${[national, ...provinces].reduce((n, net) => n + net.hubs.length, 0)} hubs in three networks on ${redactUrl(broker.amqpUrl)}`);
  const started: RunningHub[] = [];
  const urls = new Map<string, string>();
  for (const net of [national, ...provinces]) {
    io.out(net === national ? '\nthe national node (a ministry and the axis):' : `\nprovince ${net.hubs[0]!.id.slice(-3)}, ${net === threeTiers ? 3 : 2} tiers, linked up to the axis:`);
    const config = net === national ? national.config : linkedUp(net, national, `${urls.get(national.hubs[0]!.id)}${SDK_BASE}`, provinces.filter((o) => o !== net));
    const launched = await launch(net, config, broker.amqpUrl, log, io);
    if (!launched.ok) {
      await stopHubs(started);
      return reportError(launched.error, f.json, io);
    }
    started.push(...launched.value.hubs);
    for (const h of launched.value.hubs) urls.set(h.id, h.url);
    writeManifest(net, launched.value.urlOf);
  }
  const urlOf = (hubId: string) => urls.get(hubId)!;
  const commune = threeTiers.agencies.find((a) => a.code.startsWith('000.07.05.'))!;
  const otherCommune = twoTiers.agencies.find((a) => a.code.startsWith('000.07.00.'))!;
  const axis = { name: 'the national axis', url: urlOf(national.hubs[0]!.id), adminToken: national.adminToken };
  io.out(`\nA. through the national axis ${national.hubs[0]!.id} to the ministry`);
  const toMinistry = await runScenario(commune, national.ministry, urlOf, io, [axis]);
  io.out(`\nB. through the national axis to a commune of province ${f['other-province']}`);
  const toCommune = toMinistry && await runScenario(commune, otherCommune, urlOf, io, [axis, { name: `province ${f['other-province']}`, url: urlOf(twoTiers.hubs[0]!.id), adminToken: twoTiers.adminToken }]);
  io.out(`\nagencies, API keys and keys: ${path.relative(process.cwd(), dir)}/*/agencies.json`);
  return finish(started, toCommune, f.once, log, io, `curl -H "Authorization: Bearer ${commune.apiKey}" ${urlOf(commune.hubId)}/api/v1/edocs/sent`);
}

/** Clears a network's queues of an earlier run, gives each hub a broker user where it can, starts its hubs. */
async function launch(net: DemoNetwork, raw: Record<string, unknown>, amqpUrl: string, log: Logger, io: Io): Promise<Result<{ hubs: RunningHub[]; urlOf: (hubId: string) => string }>> {
  try {
    await deleteNetworkQueues(amqpUrl, net); // queues of an earlier run carry an earlier PKI's packages
  } catch (err) {
    return fail('UNAVAILABLE', `no broker at ${redactUrl(amqpUrl)}: ${(err as Error).message}`);
  }
  const rawHubs = raw.hubs as { id: string; upstream?: unknown }[];
  // Each hub on a broker user of its own where rabbitmqctl can make them; else on AMQP_URL's user.
  const users = brokerUsersFor(net.hubs);
  const created = createBrokerUsers(users);
  let config = raw;
  if (created.ok) {
    try {
      await provisionNetwork(amqpUrl, net.hubs.map((h) => ({ ...h, upstream: rawHubs.find((r) => r.id === h.id)!.upstream })));
    } catch (err) {
      return fail('UNAVAILABLE', `cannot set up the network's queues on ${redactUrl(amqpUrl)}: ${(err as Error).message}`);
    }
    config = { ...raw, hubs: rawHubs.map((h) => ({ ...h, amqpUrl: withUser(amqpUrl, users.find((u) => u.hubId === h.id)!) })) };
  }
  const parsed = parseConfig(config, net.dir, {});
  if (!parsed.ok) return parsed;
  fs.writeFileSync(path.join(net.dir, 'config.json'), JSON.stringify(config, null, 2) + '\n', { mode: 0o600 });
  const hubs = await startHubs(parsed.value, log);
  if (!hubs.ok) return hubs;
  const urlOf = (hubId: string) => hubs.value.find((h) => h.id === hubId)!.url;
  io.out(created.ok ? `  each hub on its own broker user (${users.map((u) => u.user).join(', ')}; docs/security.md, "Broker users")`
    : `  hubs on ${redactUrl(amqpUrl)}'s user: ${created.error.message}`);
  for (const h of net.hubs) io.out(`  ${h.name.padEnd(26)} ${h.id}  ${urlOf(h.id)}`);
  return ok({ hubs: hubs.value, urlOf });
}

/** Stops at once (--once or a failed example) or keeps running until Ctrl-C. */
async function finish(hubs: readonly RunningHub[], scenario: boolean, once: boolean, log: Logger, io: Io, tryThis: string): Promise<ExitStatus> {
  if (scenario && !once) {
    io.out(`try: ${tryThis}`);
    io.out('running; Ctrl-C to stop');
    await untilSignal(log);
  }
  await stopHubs(hubs);
  return scenario ? 0 : 1;
}

/** Where the other networks' traces are read (their top hub's admin API), when the receiver is outside the sender's. */
interface FarSide { name: string; url: string; adminToken: string }

/**
 * The worked example: the sender's signed document, the receiver's byte-identical download and
 * acknowledgement, its status 03 back in the sender's sent list, and the trace. Through the
 * national axis the sender sees `delivered` (the axis holds it), not the far side's `acked`.
 */
async function runScenario(sender: DemoAgency, receiver: DemoAgency, urlOf: (hubId: string) => string, io: Io, far: readonly FarSide[] = []): Promise<boolean> {
  const call = async (a: DemoAgency, method: string, p: string, body?: Buffer | object) => {
    const headers: Record<string, string> = { authorization: `Bearer ${a.apiKey}` };
    if (body !== undefined) headers['content-type'] = Buffer.isBuffer(body) ? 'application/xml' : 'application/json';
    const res = await fetch(urlOf(a.hubId) + p, { method, headers, body: Buffer.isBuffer(body) ? body : body && JSON.stringify(body) });
    const bytes = Buffer.from(await res.arrayBuffer());
    return { status: res.status, bytes, json: (res.headers.get('content-type') ?? '').includes('json') ? JSON.parse(bytes.toString()) as any : undefined };
  };
  const waitFor = async <T>(probe: () => Promise<T | undefined>, what: string): Promise<T | undefined> => {
    for (let i = 0; i < 300; i++) {
      const v = await probe();
      if (v !== undefined) return v;
      await new Promise((r) => setTimeout(r, 100));
    }
    io.err(`demo: timed out waiting for ${what}`);
    return undefined;
  };

  const document = sign(sender, emitEdoc({
    from: { OrganId: sender.code, OrganName: sender.name }, to: [{ OrganId: receiver.code, OrganName: receiver.name }],
    codeNumber: '15', codeNotation: 'UBND-VP', promulgationDate: new Date(),
    subject: 'Báo cáo kết quả triển khai liên thông văn bản điện tử',
    attachments: [{ contentId: 'bc15', name: 'baocao.txt', contentType: 'text/plain', data: Buffer.from('Báo cáo số 15/UBND-VP\n') }],
    at: new Date(),
  }));
  io.out(`\n1. ${sender.name} (${sender.code}) sends a signed document to ${receiver.name} (${receiver.code})`);
  const submitted = await call(sender, 'POST', '/api/v1/edocs', document);
  if (submitted.status !== 202) {
    io.err(`demo: submission refused: ${submitted.status} ${submitted.bytes.toString()}`);
    return false;
  }
  const docId: string = submitted.json.docId;
  io.out(`   accepted by the commune hub as ${docId}${submitted.json.recipients[0].route === 'national' ? ', routed "national" (up to the axis)' : ''}`);

  const arrived = await waitFor(async () => (await call(receiver, 'GET', '/api/v1/edocs/received')).json.items.find((i: { docId: string }) => i.docId === docId), 'the document at the province');
  if (arrived === undefined) return false;
  const downloaded = await call(receiver, 'GET', `/api/v1/edocs/${docId}`);
  io.out(`2. ${receiver.name} received it; download is ${downloaded.bytes.equals(document) ? 'byte-identical to what was signed' : 'DIFFERENT (bug)'}`);
  await call(receiver, 'POST', `/api/v1/edocs/${docId}/ack`, { result: 'done' });

  const documentId = /<edXML:DocumentId>([^<]+)</.exec(document.toString())![1]!;
  const status = sign(receiver, emitStatus({
    from: { OrganId: receiver.code, OrganName: receiver.name }, responseFor: { OrganId: sender.code, Code: '15/UBND-VP', DocumentId: documentId },
    statusCode: '03', description: 'Văn thư: đã tiếp nhận, vào sổ văn bản đến', at: new Date(),
  }));
  const answered = await call(receiver, 'POST', '/api/v1/edocs', status);
  io.out(`3. ${receiver.name} answers with status 03 (accepted): HTTP ${answered.status}`);
  const done = await waitFor(async () => {
    const sent = (await call(sender, 'GET', '/api/v1/edocs/sent')).json.items.find((i: { docId: string }) => i.docId === docId);
    return sent?.recipients[0]?.status === '03' && sent.recipients[0].delivery === (far.length > 0 ? 'delivered' : 'acked') ? sent : undefined;
  }, 'status 03 at the sender');
  if (done === undefined) return false;
  io.out(`4. the sender sees: ${JSON.stringify(done.recipients)}`);
  const trace = await call(sender, 'GET', `/api/v1/edocs/${docId}/trace`);
  io.out(`5. trace${far.length > 0 ? ' in the sender\'s network' : ''}:`);
  printHops(trace.json.hops, io);
  for (const side of far) {
    const res = await fetch(`${side.url}/api/admin/edocs/${docId}`, { headers: { authorization: `Bearer ${side.adminToken}` } });
    io.out(`   ${side.name}:`);
    printHops(((await res.json()) as { timeline: Hop[] }).timeline, io);
  }
  return true;
}

type Hop = { hub: string; at: string; verdict: string; checks: Record<string, string>; ms?: number };

function printHops(hops: readonly Hop[], io: Io): void {
  for (const hop of hops) {
    io.out(`   ${hop.at}  hub ${hop.hub}  ${hop.verdict}  ${Object.entries(hop.checks).map(([k, v]) => `${k}:${v}`).join(' ')}${hop.ms === undefined ? '' : `  ${hop.ms} ms`}`);
  }
}

function sign(agency: DemoAgency, bytes: Buffer): Buffer {
  const signed = signPackage(bytes, {
    key: createPrivateKey(fs.readFileSync(agency.keyFile)), certificates: [new X509Certificate(fs.readFileSync(agency.certFile))],
  });
  if (!signed.ok) throw new Error(`demo signing failed: ${signed.error.message}`);
  return signed.value;
}

function writeManifest(net: DemoNetwork, urlOf: (hubId: string) => string): string {
  const rel = (file: string) => path.relative(process.cwd(), file);
  const manifest = {
    hubs: net.hubs.map((h) => ({ id: h.id, parentId: h.parentId, url: urlOf(h.id) })),
    // apiKeyFile and vxpUrl are for the national SDK dialect (docs/national-sdk.md).
    agencies: net.agencies.map((a) => ({
      code: a.code, name: a.name, hubId: a.hubId, apiKey: a.apiKey, keyFile: rel(a.keyFile), certFile: rel(a.certFile),
      ...(a.apiKeyFile ? { apiKeyFile: rel(a.apiKeyFile) } : {}), vxpUrl: `${urlOf(a.hubId)}${SDK_BASE}`,
    })),
    caFile: rel(net.caFile),
    caKeyFile: rel(net.caKeyFile),
    adminToken: net.adminToken,
  };
  const file = path.join(net.dir, 'agencies.json');
  fs.writeFileSync(file, JSON.stringify(manifest, null, 2) + '\n', { mode: 0o600 });
  return file;
}
