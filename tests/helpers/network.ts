// A three-hub network on the real broker (AMQP_URL or the local one), in this process, with a
// province code of its own so that its queues meet no other test's; removed on close.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import amqp from 'amqplib';
import pino from 'pino';
import { parseConfig, DEFAULT_AMQP_URL, type Config } from '../../src/config.js';
import { buildDemoNetwork, type DemoAgency, type DemoNetwork } from '../../src/demo/network.js';
import { startHub, type RunningHub } from '../../src/hub.js';
import { deleteTopology } from '../../src/bus/topology.js';
import { emitEdoc, emitStatus, type StatusInput } from '../../src/edxml/emit.js';
import { signPackage } from '../../src/trust/sign.js';
import type { StatusCode } from '../../src/edxml/header.js';

export const AMQP_URL = process.env.AMQP_URL ?? DEFAULT_AMQP_URL;

export interface Agent {
  agency: DemoAgency;
  url: string;
  request: (method: string, path: string, body?: Buffer | object, contentType?: string) => Promise<{ status: number; json: any; bytes: Buffer }>;
  submit: (bytes: Buffer) => Promise<{ status: number; json: any }>;
  sign: (bytes: Buffer) => Buffer;
}

export interface TestNetwork {
  net: DemoNetwork;
  hubs: RunningHub[];
  agent: (codeSuffix: string) => Agent;
  /** A signed document from one agency to others. */
  document: (from: Agent, to: Agent[], subject?: string, attachment?: Buffer) => Buffer;
  status: (from: Agent, code: StatusCode, responseFor: StatusInput['responseFor'], description?: string) => Buffer;
  close: () => Promise<void>;
}

export interface NetworkOptions {
  /** Adjusts the configuration one hub starts with (e.g. a CRL only the district hub has). */
  configFor?: (hubId: string, config: Readonly<Config>, net: DemoNetwork) => Readonly<Config> | Promise<Readonly<Config>>;
}

export async function startTestNetwork(options: NetworkOptions = {}): Promise<TestNetwork> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lgsp-net-'));
  const province = `T${String(10 + Math.floor(Math.random() * 90))}`;
  const net = await buildDemoNetwork({ dir, province, ports: [0, 0, 0], amqpUrl: AMQP_URL, now: new Date() });
  const config = parseConfig(net.config, dir, {});
  if (!config.ok) throw new Error(config.error.message);
  const log = pino({ level: process.env.LGSP_TEST_LOG ?? 'silent' });
  await purge(net);
  const hubs: RunningHub[] = [];
  for (const h of config.value.hubs) {
    const hubConfig = await (options.configFor?.(h.id, config.value, net) ?? config.value);
    const hub = await startHub(hubConfig, h, { log, clock: () => new Date() });
    if (!hub.ok) throw new Error(hub.error.message);
    hubs.push(hub.value);
  }
  const urlOf = (hubId: string) => hubs.find((h) => h.id === hubId)!.url;

  const agent = (codeSuffix: string): Agent => {
    const agency = net.agencies.find((a) => a.code.startsWith(codeSuffix))!;
    const url = urlOf(agency.hubId);
    const key = createPrivateKey(fs.readFileSync(agency.keyFile));
    const certificates = [new X509Certificate(fs.readFileSync(agency.certFile))];
    const request: Agent['request'] = async (method, p, body, contentType) => {
      const headers: Record<string, string> = { authorization: `Bearer ${agency.apiKey}` };
      let payload: Buffer | string | undefined;
      if (Buffer.isBuffer(body)) { payload = body; headers['content-type'] = contentType ?? 'application/xml'; }
      else if (body !== undefined) { payload = JSON.stringify(body); headers['content-type'] = 'application/json'; }
      const res = await fetch(url + p, { method, headers, body: payload });
      const bytes = Buffer.from(await res.arrayBuffer());
      const json = (res.headers.get('content-type') ?? '').includes('json') ? JSON.parse(bytes.toString('utf8')) : undefined;
      return { status: res.status, json, bytes };
    };
    return {
      agency, url, request,
      submit: async (bytes) => { const r = await request('POST', '/api/v1/edocs', bytes); return { status: r.status, json: r.json }; },
      sign: (bytes) => {
        const signed = signPackage(bytes, { key, certificates });
        if (!signed.ok) throw new Error(signed.error.message);
        return signed.value;
      },
    };
  };

  let serial = 0;
  return {
    net, hubs, agent,
    document: (from, to, subject = 'Công văn thử nghiệm', attachment = Buffer.from('nội dung')) => from.sign(emitEdoc({
      from: { OrganId: from.agency.code, OrganName: from.agency.name },
      to: to.map((t) => ({ OrganId: t.agency.code, OrganName: t.agency.name })),
      codeNumber: String(++serial), codeNotation: 'UBND-VP', promulgationDate: new Date(), subject,
      attachments: [{ contentId: 'att1', name: 'vanban.pdf', contentType: 'application/pdf', data: attachment }], at: new Date(),
    })),
    status: (from, code, responseFor, description) => from.sign(emitStatus({
      from: { OrganId: from.agency.code, OrganName: from.agency.name }, responseFor, statusCode: code,
      description: description ?? `trạng thái ${code}`, at: new Date(),
    })),
    async close() {
      for (const h of hubs) await h.close();
      await purge(net);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function purge(net: DemoNetwork): Promise<void> {
  const conn = await amqp.connect(AMQP_URL);
  const ch = await conn.createChannel();
  for (const h of net.hubs) {
    const neighbours = net.hubs.filter((n) => n.parentId === h.id || n.id === h.parentId).map((n) => n.id);
    await deleteTopology(ch, h.id, neighbours);
  }
  await ch.close();
  await conn.close();
}

/** Polls until `probe` returns a value (not undefined), or fails after `timeoutMs`. */
export async function eventually<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
