// A demonstration network: three hubs (province, district, commune) of one province, agencies
// at every level, a development PKI, API keys and the agencies.json manifest of CONTRACT.md. With
// two tiers (local government since 1 July 2025: no district), a province hub and two commune hubs.
// `lgsp demo` runs it; the integration tests build theirs with it (each with its own province
// code, so that their queues never meet).
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { createDevCa, issueCertificate, issueEcCertificate, type KeyAndCert } from '../pki/dev-pki.js';
import { hashApiKey } from '../http/auth.js';
import { deleteTopology } from '../bus/topology.js';
import { trustExchange } from '../bus/broadcast.js';
import { closeAmqp, withConnection } from '../bus/connection.js';

/** `apiKeyFile` holds the API key itself, which the SDK dialect (/vxp) needs as its HMAC secret. */
export interface DemoAgency { code: string; name: string; hubId: string; apiKey: string; apiKeyFile?: string; keyFile: string; certFile: string }
export interface DemoHub { id: string; name: string; parentId: string | null; port: number }

export interface DemoNetwork {
  /** The raw configuration (as `lgsp start --config` reads it). */
  config: Record<string, unknown>;
  hubs: DemoHub[];
  agencies: DemoAgency[];
  caFile: string;
  caKeyFile: string;
  /** An admin token with every role (observer, operator, security). */
  adminToken: string;
  dir: string;
}

export interface NetworkOptions {
  dir: string;
  /** The level-1 unit, e.g. H41 (Nghệ An); the tests pick their own. */
  province: string;
  /** Ports of the three hubs (province first); 0 picks free ones. */
  ports: [number, number, number];
  /** 3: province, district, commune hubs (the default); 2: a province hub and two commune hubs. */
  tiers?: 2 | 3;
  amqpUrl: string;
  /** RabbitMQ's management API, for unacked counts and rates in the console. */
  managementUrl?: string;
  now: Date;
}

const DAY = 86_400_000;

/**
 * A demo network's development PKI under `<dir>/pki`: its CA (ten years) and the validity of what
 * it issues (a year), with `write` for the files (keys readable by the owner only).
 */
export function demoPki(dir: string, caName: string, now: Date) {
  const pki = path.join(dir, 'pki');
  fs.mkdirSync(pki, { recursive: true });
  const write = (name: string, text: string, mode = 0o644) => {
    const file = path.join(pki, name);
    fs.writeFileSync(file, text, { mode });
    return file;
  };
  const notBefore = new Date(now.getTime() - DAY);
  const notAfter = new Date(now.getTime() + 365 * DAY);
  const ca = createDevCa(caName, notBefore, new Date(now.getTime() + 3650 * DAY));
  return { write, notBefore, notAfter, ca, caFile: write('ca.cert.pem', ca.certPem), caKeyFile: write('ca.key.pem', ca.keyPem, 0o600) };
}

export async function buildDemoNetwork(o: NetworkOptions): Promise<DemoNetwork> {
  const p = o.province;
  const { hubs, agencyList } = layOut(LAYOUTS[o.tiers ?? 3], p, o.ports);
  const { write, notBefore, notAfter, ca, caFile, caKeyFile } = demoPki(o.dir, `LGSP Demo CA ${p}`, o.now);
  const files = (base: string, c: KeyAndCert) => ({ keyFile: write(`${base}.key.pem`, c.keyPem, 0o600), certFile: write(`${base}.cert.pem`, c.certPem) });
  const issue = (code: string, name: string, base: string) => files(base, issueCertificate({ ca, commonName: name, agency: code, notBefore, notAfter }));

  // Hub seals use ECDSA P-256: a hub signs several seals per document.
  const hubFiles = await Promise.all(hubs.map(async (h) =>
    files(`hub-${h.id}`, await issueEcCertificate({ ca, commonName: `LGSP hub ${h.id}`, agency: h.id, notBefore, notAfter }))));
  const agencies: DemoAgency[] = agencyList.map(([code, name, hubId]) => {
    const apiKey = randomBytes(24).toString('base64url');
    return { code, name, hubId, apiKey, apiKeyFile: write(`${code}.api-key`, `${apiKey}\n`, 0o600), ...issue(code, name, code) };
  });

  const adminToken = randomBytes(24).toString('base64url');
  const config = {
    dataDir: path.join(o.dir, 'ledger'),
    amqpUrl: o.amqpUrl,
    ...(o.managementUrl ? { managementUrl: o.managementUrl } : {}),
    trust: { caFiles: [caFile], crlFiles: [] },
    hubs: hubs.map((h, i) => ({
      id: h.id, name: h.name, parentId: h.parentId, port: h.port, sealKeyFile: hubFiles[i]!.keyFile, sealCertFile: hubFiles[i]!.certFile,
    })),
    agencies: agencies.map((a) => ({ code: a.code, name: a.name, hubId: a.hubId, apiKeyHash: hashApiKey(a.apiKey), ...(a.apiKeyFile ? { apiKeyFile: a.apiKeyFile } : {}), certFiles: [a.certFile] })),
    admins: [{ name: 'demo-admin', tokenHash: hashApiKey(adminToken), roles: ['observer', 'operator', 'security'] }],
  };
  return { config, hubs, agencies, caFile, caKeyFile, adminToken, dir: o.dir };
}

/** A hub (its code before the province's, its name, its parent's index) and agencies (code, name, their hub's index). */
interface Layout { hubs: [string, string, number | null][]; agencies: [string, string, number][] }

const LAYOUTS: Record<2 | 3, Layout> = {
  /** The three tiers before 1 July 2025: province, district and commune hubs. */
  3: {
    hubs: [['000.00.00', 'Trục tỉnh (province hub)', null], ['000.00.05', 'Trục huyện (district hub)', 0], ['000.07.05', 'Trục xã (commune hub)', 1]],
    agencies: [
      ['000.07.05', 'UBND xã Nghi Phú', 2],
      ['001.07.05', 'Trường THCS Nghi Phú', 2],
      ['000.00.05', 'UBND thành phố Vinh', 1],
      ['000.08.05', 'UBND xã Hưng Đông', 1],
      ['000.00.00', 'UBND tỉnh Nghệ An', 0],
      ['000.00.12', 'Sở Nội vụ', 0],
      ['000.00.06', 'UBND huyện Nghi Lộc', 0],
      ['000.03.06', 'UBND xã Nghi Long', 0],
    ],
  },
  /**
   * Since 1 July 2025: the province and its communes, no district. A commune's code leaves the
   * district level unused (000.07.00.XNN); its hub's parent is the province hub. The first agency
   * is the worked example's sender, as in three tiers.
   */
  2: {
    hubs: [['000.00.00', 'Trục tỉnh (province hub)', null], ['000.07.00', 'Trục xã Nghi Phú (commune hub)', 0], ['000.08.00', 'Trục xã Hưng Đông (commune hub)', 0]],
    agencies: [
      ['000.07.00', 'UBND xã Nghi Phú', 1],
      ['001.07.00', 'Trường THCS Nghi Phú', 1],
      ['000.08.00', 'UBND xã Hưng Đông', 2],
      ['000.00.00', 'UBND tỉnh Nghệ An', 0],
      ['000.00.12', 'Sở Nội vụ', 0],
    ],
  },
};

/** A layout's hubs and agencies in province `p`, the hubs on `ports` in their order. */
function layOut(l: Layout, p: string, ports: NetworkOptions['ports']): { hubs: DemoHub[]; agencyList: [string, string, string][] } {
  const id = (i: number) => `${l.hubs[i]![0]}.${p}`;
  const hubs = l.hubs.map(([, name, parent], i): DemoHub => ({ id: id(i), name, parentId: parent === null ? null : id(parent), port: ports[i]! }));
  return { hubs, agencyList: l.agencies.map(([code, name, hub]) => [`${code}.${p}`, name, id(hub)]) };
}

/** Removes the queues of a network's hubs (a fresh demo, or a test's clean-up). */
export async function deleteNetworkQueues(amqpUrl: string, net: Pick<DemoNetwork, 'hubs'>): Promise<void> {
  await withConnection(amqpUrl, async (conn) => {
    const ch = await conn.createChannel();
    for (const h of net.hubs) {
      await deleteTopology(ch, h.id, net.hubs.filter((n) => n.parentId === h.id || n.id === h.parentId).map((n) => n.id));
    }
    // The broadcast exchange is the network's (named by its top hub), not a hub's.
    for (const top of net.hubs.filter((h) => h.parentId === null)) await ch.deleteExchange(trustExchange(top.id));
    await closeAmqp(ch);
  });
}
