// The national demonstration (issue 17, item 7): our hub as the national axis. A national node
// (one hub serving a ministry, and /vxp accounts for whole provinces) and province networks whose
// top hubs link up to it through their `upstream`, as they would to the real axis.
// `lgsp demo --national` runs it; tests/integration/national-own-axis.test.ts builds its own.
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { issueCertificate, issueEcCertificate } from '../pki/dev-pki.js';
import { hashApiKey } from '../http/auth.js';
import { demoPki, type DemoAgency, type DemoNetwork } from './network.js';

/** The ministry the national node serves (Bộ Nội vụ). */
export const MINISTRY = { code: '000.00.00.G22', name: 'Bộ Nội vụ' };

export interface NationalNodeOptions {
  dir: string;
  /** The level-1 unit of the axis's hub, 000.00.00.<axis> (G01 in the demo; the tests pick their own). */
  axis: string;
  port: number;
  amqpUrl: string;
  managementUrl?: string;
  now: Date;
  /** The provinces it serves as the axis: each becomes one /vxp system account. */
  provinces: readonly DemoNetwork[];
}

export interface NationalNode extends DemoNetwork {
  ministry: DemoAgency;
  /** Each province's account: its systemid and the file holding its secret (the province keeps a copy). */
  systems: { systemId: string; secretFile: string }[];
}

const topOf = (net: Pick<DemoNetwork, 'hubs'>) => net.hubs.find((h) => h.parentId === null)!;

export async function buildNationalNode(o: NationalNodeOptions): Promise<NationalNode> {
  const hubId = `000.00.00.${o.axis}`;
  // The national government CA's stand-in: it issues the ministry's certificate and the hub's seal.
  const { write, notBefore, notAfter, ca, caFile, caKeyFile } = demoPki(o.dir, `LGSP Demo national CA ${o.axis}`, o.now);
  const seal = await issueEcCertificate({ ca, commonName: `LGSP hub ${hubId}`, agency: hubId, notBefore, notAfter });
  const signer = issueCertificate({ ca, commonName: MINISTRY.name, agency: MINISTRY.code, notBefore, notAfter });
  const apiKey = randomBytes(24).toString('base64url');
  const ministry: DemoAgency = {
    ...MINISTRY, hubId, apiKey, apiKeyFile: write(`${MINISTRY.code}.api-key`, `${apiKey}\n`, 0o600),
    keyFile: write(`${MINISTRY.code}.key.pem`, signer.keyPem, 0o600), certFile: write(`${MINISTRY.code}.cert.pem`, signer.certPem),
  };
  const systems = o.provinces.map((p) => {
    const systemId = topOf(p).id;
    return { systemId, secretFile: write(`${systemId}.secret`, `${randomBytes(24).toString('base64url')}\n`, 0o600) };
  });
  const adminToken = randomBytes(24).toString('base64url');
  const hub = { id: hubId, name: 'Trục liên thông quốc gia (national axis)', parentId: null, port: o.port };
  const config = {
    dataDir: path.join(o.dir, 'ledger'),
    amqpUrl: o.amqpUrl,
    ...(o.managementUrl ? { managementUrl: o.managementUrl } : {}),
    // The provinces' CAs: their agencies' signatures are bound by the code in the certificate's
    // subject (docs/national-axis.md, "Senders outside the network"), never registered here.
    trust: { caFiles: [caFile, ...o.provinces.map((p) => p.caFile)], crlFiles: [] },
    hubs: [{ id: hub.id, name: hub.name, parentId: null, port: hub.port, sealKeyFile: write('hub.key.pem', seal.keyPem, 0o600), sealCertFile: write('hub.cert.pem', seal.certPem) }],
    agencies: [
      { code: ministry.code, name: ministry.name, hubId, apiKeyHash: hashApiKey(apiKey), apiKeyFile: ministry.apiKeyFile, certFiles: [ministry.certFile] },
      // The provinces' agencies, in the registry to be routed to (into mailboxes their province's
      // system account reads) and listed by getAgenciesList, the directory each province reads.
      // No API key of theirs exists here: they are reached only through their province's account.
      ...o.provinces.flatMap((p) => p.agencies.map((a) => ({ code: a.code, name: a.name, hubId, apiKeyHash: hashApiKey(randomBytes(24).toString('base64url')) }))),
    ],
    sdk: {
      systems: systems.map((s) => {
        const unit = s.systemId.slice(-3);
        return { systemId: s.systemId, name: `Trục LGSP ${unit}`, secretFile: s.secretFile, sendsFor: [`*.${unit}`], hubId };
      }),
    },
    admins: [{ name: 'demo-admin', tokenHash: hashApiKey(adminToken), roles: ['observer', 'operator', 'security'] }],
  };
  return { config, hubs: [hub], agencies: [ministry], caFile, caKeyFile, adminToken, dir: o.dir, ministry, systems };
}

/**
 * A province's configuration linked up to the national node at `vxpUrl`: its top hub's `upstream`
 * with the province's system account, and the national CA and the other provinces' CAs as trust
 * anchors (the ministry's and the other provinces' signatures come down through the axis).
 */
export function linkedUp(province: DemoNetwork, national: NationalNode, vxpUrl: string, others: readonly DemoNetwork[], pollIntervalMs = 500): Record<string, unknown> {
  const top = topOf(province).id;
  const system = national.systems.find((s) => s.systemId === top)!;
  const secretFile = path.join(province.dir, 'pki', 'national.secret');
  fs.copyFileSync(system.secretFile, secretFile);
  fs.chmodSync(secretFile, 0o600);
  const config = province.config as { trust: { caFiles: string[] }; hubs: { id: string }[] };
  return {
    ...config,
    trust: { ...config.trust, caFiles: [...config.trust.caFiles, national.caFile, ...others.map((o) => o.caFile)] },
    hubs: config.hubs.map((h) => h.id !== top ? h : { ...h, upstream: { kind: 'vxp', endpoint: vxpUrl, systemId: top, secretFile, pollIntervalMs } }),
  };
}
