// A three-hub network on the real broker (AMQP_URL or the local one), in this process, with a
// province code of its own so that its queues meet no other test's; removed on close.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import { createRootLogger } from '../../src/logger.js';
import { parseConfig, DEFAULT_AMQP_URL, type Config } from '../../src/config.js';
import { buildDemoNetwork, deleteNetworkQueues, type DemoNetwork } from '../../src/demo/network.js';
import { startHub, type RunningHub } from '../../src/hub.js';
import { makeAgent, signedDocument, signedStatus, type Agent } from './agent.js';
import { createCrl, serialOf, type KeyAndCert } from '../../src/pki/dev-pki.js';

export type { Agent };

export const AMQP_URL = process.env.AMQP_URL ?? DEFAULT_AMQP_URL;

export interface TestNetwork {
  net: DemoNetwork;
  hubs: RunningHub[];
  agent: (codeSuffix: string) => Agent;
  document: typeof signedDocument;
  status: typeof signedStatus;
  /** An admin API call to hub number `hub` with the network's admin token (all roles). */
  admin: (hub: number, method: string, path: string, body?: object) => Promise<{ status: number; json: any }>;
  /** Stops every hub and starts it again on the same ledger and queues (new ports: take agents anew). */
  restart: () => Promise<void>;
  close: () => Promise<void>;
}

export interface NetworkOptions {
  /** Adjusts the configuration one hub starts with (e.g. a CRL only the district hub has). */
  configFor?: (hubId: string, config: Readonly<Config>, net: DemoNetwork) => Readonly<Config> | Promise<Readonly<Config>>;
  /** The hubs' root logger; by default silent (or LGSP_TEST_LOG's level). */
  log?: Logger;
  /** The hubs' clock (default: the real one), e.g. to let an hour pass in a test. */
  clock?: () => Date;
  /** One hub's clock, where it differs from the others' (e.g. a hub that sees a change come into force later). */
  clockFor?: (hubId: string) => (() => Date) | undefined;
  /** The broker URL the hubs use (e.g. with a broker user of their own); by default AMQP_URL. */
  amqpUrl?: string;
  /**
   * Replicas of each hub (default 1), which then share the PostgreSQL ledger `ledgerUrl` (required
   * with more than one). `hubs` lists the first replica of every hub, then the second of every hub...
   */
  replicas?: number;
  /** Every hub's ledger in this PostgreSQL database instead of SQLite files. */
  ledgerUrl?: string;
}

export async function startTestNetwork(options: NetworkOptions = {}): Promise<TestNetwork> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lgsp-net-'));
  const province = `T${String(10 + Math.floor(Math.random() * 90))}`;
  const net = await buildDemoNetwork({
    dir, province, ports: [0, 0, 0], amqpUrl: options.amqpUrl ?? AMQP_URL, now: new Date(),
    managementUrl: process.env.RABBITMQ_MANAGEMENT_URL ?? 'http://guest:guest@127.0.0.1:15672',
  });
  const replicas = options.replicas ?? 1;
  if (replicas > 1 && options.ledgerUrl === undefined) throw new Error('replicas of a hub share a PostgreSQL ledger: give ledgerUrl');
  const config = parseConfig({ ...net.config, ...(options.ledgerUrl === undefined ? {} : { ledger: { url: options.ledgerUrl } }) }, dir, {});
  if (!config.ok) throw new Error(config.error.message);
  const log = options.log ?? createRootLogger(process.env.LGSP_TEST_LOG ?? 'silent');
  await purge(net);
  const hubs: RunningHub[] = [];
  const startAll = async () => {
    for (let r = 0; r < replicas; r++) {
      for (const h of config.value.hubs) {
        const hubConfig = await (options.configFor?.(h.id, config.value, net) ?? config.value);
        const hub = await startHub(hubConfig, hubConfig.hubs.find((x) => x.id === h.id)!, { log, clock: options.clockFor?.(h.id) ?? options.clock ?? (() => new Date()) });
        if (!hub.ok) throw new Error(hub.error.message);
        hubs.push(hub.value);
      }
    }
  };
  try {
    await startAll();
  } catch (err) {
    // A network that did not start leaves nothing behind: its hubs, queues and files.
    for (const h of hubs) await h.close();
    await purge(net);
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const urlOf = (hubId: string) => hubs.find((h) => h.id === hubId)!.url;

  const agent = (codeSuffix: string): Agent => {
    const agency = net.agencies.find((a) => a.code.startsWith(codeSuffix))!;
    return makeAgent(agency, urlOf(agency.hubId));
  };

  return {
    net, hubs, agent,
    document: signedDocument,
    status: signedStatus,
    async admin(hub, method, p, body) {
      const res = await fetch(hubs[hub]!.url + p, {
        method, body: body === undefined ? undefined : JSON.stringify(body),
        headers: { authorization: `Bearer ${net.adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      });
      return { status: res.status, json: await res.json() as unknown };
    },
    async restart() {
      for (const h of hubs.splice(0)) await h.close();
      await startAll();
    },
    async close() {
      for (const h of hubs) await h.close();
      await purge(net);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A configFor that revokes one agency's certificate at the district hub only (a CRL the other
 * hubs do not have): its packages pass the first hop and are refused at the second.
 */
export function revokedAtDistrict(agencyPrefix: string, also?: NetworkOptions['configFor']): NonNullable<NetworkOptions['configFor']> {
  return async (hubId, config, net) => {
    const adjusted = (await also?.(hubId, config, net)) ?? config;
    if (!hubId.startsWith('000.00.05.')) return adjusted;
    const ca = { keyPem: fs.readFileSync(net.caKeyFile, 'utf8'), certPem: fs.readFileSync(net.caFile, 'utf8') };
    const cert = fs.readFileSync(net.agencies.find((a) => a.code.startsWith(agencyPrefix))!.certFile, 'utf8');
    const file = path.join(net.dir, 'district-crl.pem');
    const now = new Date();
    fs.writeFileSync(file, await createCrl(ca, [{ serialNumber: serialOf(cert), revokedAt: now }], now, new Date(now.getTime() + 86_400_000)));
    return { ...adjusted, trust: { ...adjusted.trust, crlFiles: [file] } };
  };
}

/** The development CA of a network, to issue certificates and CRLs in tests. */
export function networkCa(net: DemoNetwork): KeyAndCert {
  return { keyPem: fs.readFileSync(net.caKeyFile, 'utf8'), certPem: fs.readFileSync(net.caFile, 'utf8') };
}

/** Deletes the queues of a network's hubs. */
export function purge(net: DemoNetwork): Promise<void> {
  return deleteNetworkQueues(AMQP_URL, net);
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

/** Waits until `docId` is in `a`'s received list (its first page) and returns that item. */
export function inboxItem<T extends { docId: string } = { docId: string } & Record<string, any>>(a: Agent, docId: string, timeoutMs?: number): Promise<T> {
  return eventually(async () => ((await a.request('GET', '/api/v1/edocs/received')).json.items as T[]).find((i) => i.docId === docId), `${docId} in the inbox of ${a.agency.code}`, timeoutMs);
}
