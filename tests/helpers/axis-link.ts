// A test province linked up to the stand-in national axis (tests/helpers/national-axis.ts), as the
// national tests build it whether the hubs run in this process (startTestNetwork) or each in its
// own (startHubProcesses): the province gets a system account at the axis, every hub knows the
// ministry's signing certificate (an agency no hub serves, so the ministry is bound `registered`),
// and the top hub's `upstream` points at the axis with short intervals.
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { DemoNetwork } from '../../src/demo/network.js';
import { issueCertificate } from '../../src/pki/dev-pki.js';
import { makeAgent, type Agent } from './agent.js';
import { networkCa } from './network.js';
import type { StandInAxis } from './national-axis.js';

/** What the configurations hold of hubs and agencies: a parsed Config or the raw JSON. */
interface Linkable { hubs: readonly { id: string }[]; agencies: readonly object[] }

export interface AxisLink {
  /** The province's secret at the axis. */
  secret: string;
  /** A hub's configuration linked up: give it from configFor (the first call sets the province up). */
  link<C extends Linkable>(config: C, net: DemoNetwork): C;
  /** The ministry as a signer (its key and certificate exist once `link` has run). */
  ministry(): Agent;
}

export function axisLink(axis: StandInAxis, ministry: { code: string; name: string }): AxisLink {
  const secret = randomBytes(18).toString('base64url');
  let files: { keyFile: string; certFile: string; secretFile: string } | undefined;
  const setUp = (net: DemoNetwork, top: string) => {
    const now = new Date();
    const c = issueCertificate({ ca: networkCa(net), commonName: ministry.name, agency: ministry.code, notBefore: new Date(now.getTime() - 3_600_000), notAfter: new Date(now.getTime() + 86_400_000) });
    const made = { keyFile: path.join(net.dir, 'ministry.key.pem'), certFile: path.join(net.dir, 'ministry.cert.pem'), secretFile: path.join(net.dir, 'national.secret') };
    fs.writeFileSync(made.keyFile, c.keyPem);
    fs.writeFileSync(made.certFile, c.certPem);
    fs.writeFileSync(made.secretFile, `${secret}\n`, { mode: 0o600 });
    const province = top.slice(-3);
    axis.systems.set(top, { secret, owns: (code) => code.endsWith(`.${province}`) });
    return made;
  };
  return {
    secret,
    link(config, net) {
      const top = net.hubs.find((h) => h.parentId === null)!.id;
      files ??= setUp(net, top);
      const upstream = { kind: 'vxp' as const, endpoint: axis.url, systemId: top, secretFile: files.secretFile, pollIntervalMs: 200, directoryIntervalMs: 60_000, staleAfterMs: 3_000, timeoutMs: 2_000 };
      return {
        ...config,
        hubs: config.hubs.map((h) => h.id !== top ? h : { ...h, upstream }),
        agencies: [...config.agencies, { code: ministry.code, name: ministry.name, apiKeyHash: '0'.repeat(64), certFiles: [files.certFile] }],
      };
    },
    ministry() {
      if (files === undefined) throw new Error('axisLink: the ministry exists once a configuration has been linked');
      return makeAgent({ ...ministry, hubId: '', apiKey: '', keyFile: files.keyFile, certFile: files.certFile }, '');
    },
  };
}
