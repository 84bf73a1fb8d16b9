// lgsp demo: a three-level network (province, district, commune hubs) on the local broker, or with
// --tiers 2 a province hub and two commune hubs (no district, as since 1 July 2025). A
// commune agency sends a signed document to a province agency through every hub, the province
// agency downloads it (byte-identical), acknowledges it and answers with status 03, and the
// trace is printed. Then it keeps running until Ctrl-C (or exits with --once), leaving
// data/demo/agencies.json so that any HTTP client and XML-DSig tool can act as an agency.
import fs from 'node:fs';
import path from 'node:path';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { createRootLogger } from '../logger.js';
import { z } from 'zod';
import { DEFAULT_AMQP_URL, parseConfig } from '../config.js';
import { buildDemoNetwork, deleteNetworkQueues, type DemoAgency, type DemoNetwork } from '../demo/network.js';
import { brokerUsersFor, createBrokerUsers, provisionNetwork, withUser } from '../demo/broker-users.js';
import { emitEdoc, emitStatus } from '../edxml/emit.js';
import { signPackage } from '../trust/sign.js';
import { fail } from '../errors.js';
import { redactUrl } from '../config.js';
import { parseFlags } from './flags.js';
import { SDK_BASE } from '../http/sdk-dialect.js';
import { reportError, type ExitStatus, type Io } from './report.js';
import { startHubs, stopHubs, untilSignal } from './start.js';

const Flags = z.object({
  dir: z.string().default('data/demo'),
  province: z.string().regex(/^[A-Z]\d{2}$/, 'a level-1 unit such as H41').default('H41'),
  port: z.coerce.number().int().min(0).max(65533).default(8701),
  once: z.boolean().default(false),
  tiers: z.enum(['2', '3']).default('3').transform((t) => (t === '2' ? 2 as const : 3 as const)),
  'log-level': z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'silent']).default('warn'),
  /** Errors as one JSON line on stdout ({ ok: false, code, message }). */
  json: z.boolean().default(false),
});

export async function runDemo(args: string[], io: Io, env: NodeJS.ProcessEnv, now: Date): Promise<ExitStatus> {
  const parsed = parseFlags(args, {
    dir: { type: 'string' }, province: { type: 'string' }, port: { type: 'string' }, once: { type: 'boolean' }, tiers: { type: 'string' }, 'log-level': { type: 'string' }, json: { type: 'boolean' },
  }, Flags);
  if (!parsed.ok) return reportError(parsed.error, args.includes('--json'), io);
  const f = parsed.value.flags;
  const amqpUrl = env.AMQP_URL ?? DEFAULT_AMQP_URL;
  const dir = path.resolve(f.dir);
  fs.rmSync(dir, { recursive: true, force: true });
  const ports: [number, number, number] = f.port === 0 ? [0, 0, 0] : [f.port, f.port + 1, f.port + 2];
  const net = await buildDemoNetwork({ dir, province: f.province, ports, amqpUrl, now, tiers: f.tiers, ...(env.RABBITMQ_MANAGEMENT_URL ? { managementUrl: env.RABBITMQ_MANAGEMENT_URL } : {}) });
  try {
    await deleteNetworkQueues(amqpUrl, net); // queues of an earlier run carry an earlier PKI's packages
  } catch (err) {
    return reportError(fail('UNAVAILABLE', `no broker at ${redactUrl(amqpUrl)}: ${(err as Error).message}`).error, f.json, io);
  }
  // Each hub on a broker user of its own where rabbitmqctl can make them; else on AMQP_URL's user.
  const users = brokerUsersFor(net.hubs);
  const created = createBrokerUsers(users);
  if (created.ok) {
    await provisionNetwork(amqpUrl, net.hubs);
    net.config.hubs = (net.config.hubs as { id: string }[]).map((h) => ({ ...h, amqpUrl: withUser(amqpUrl, users.find((u) => u.hubId === h.id)!) }));
  }
  const config = parseConfig(net.config, dir, {});
  if (!config.ok) return reportError(config.error, f.json, io);
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(net.config, null, 2) + '\n', { mode: 0o600 });
  const log = createRootLogger(f['log-level']);
  const hubs = await startHubs(config.value, log);
  if (!hubs.ok) return reportError(hubs.error, f.json, io);
  const urlOf = (hubId: string) => hubs.value.find((h) => h.id === hubId)!.url;
  const manifest = writeManifest(net, urlOf);

  io.out(`LGSP demo: ${hubs.value.length} hubs on ${redactUrl(amqpUrl)}`);
  io.out(created.ok ? `  each hub on its own broker user (${users.map((u) => u.user).join(', ')}; docs/security.md, "Broker users")`
    : `  hubs on ${redactUrl(amqpUrl)}'s user: ${created.error.message}`);
  for (const h of net.hubs) io.out(`  ${h.name.padEnd(26)} ${h.id}  ${urlOf(h.id)}`);
  const scenario = await runScenario(net, urlOf, io);
  io.out(`\nagencies, API keys and keys: ${path.relative(process.cwd(), manifest)}`);
  if (!scenario) {
    await stopHubs(hubs.value);
    return 1;
  }
  if (!f.once) {
    const sender = net.agencies[0]!;
    io.out(`try: curl -H "Authorization: Bearer ${sender.apiKey}" ${urlOf(sender.hubId)}/api/v1/edocs/sent`);
    io.out('running; Ctrl-C to stop');
    await untilSignal(log);
  }
  await stopHubs(hubs.value);
  return 0;
}

async function runScenario(net: DemoNetwork, urlOf: (hubId: string) => string, io: Io): Promise<boolean> {
  const sender = net.agencies[0]!; // a commune's people's committee, in either tier layout
  const receiver = net.agencies.find((a) => a.code.startsWith('000.00.12.'))!;
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
  io.out(`   accepted by the commune hub as ${docId}`);

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
    return sent?.recipients[0]?.status === '03' && sent.recipients[0].delivery === 'acked' ? sent : undefined;
  }, 'status 03 at the sender');
  if (done === undefined) return false;
  io.out(`4. the sender sees: ${JSON.stringify(done.recipients)}`);
  const trace = await call(sender, 'GET', `/api/v1/edocs/${docId}/trace`);
  io.out('5. trace:');
  for (const hop of trace.json.hops as { hub: string; at: string; verdict: string; checks: Record<string, string>; ms?: number }[]) {
    io.out(`   ${hop.at}  hub ${hop.hub}  ${hop.verdict}  ${Object.entries(hop.checks).map(([k, v]) => `${k}:${v}`).join(' ')}${hop.ms === undefined ? '' : `  ${hop.ms} ms`}`);
  }
  return true;
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
