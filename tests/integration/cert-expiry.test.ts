// Expiry: a Prometheus gauge per certificate, and a webhook alert when one crosses a threshold.
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCertificate } from '../../src/pki/dev-pki.js';
import { eventually, startTestNetwork, type Agent, type TestNetwork } from '../helpers/network.js';
import { startWebhookSink, type WebhookSink } from '../helpers/webhook.js';

let n: TestNetwork;
let commune: Agent;
const alerts: Record<string, unknown>[] = [];
let receiver: WebhookSink | undefined;

beforeAll(async () => {
  receiver = await startWebhookSink(alerts);
  const webhookUrl = receiver.url;
  n = await startTestNetwork({ configFor: (_id, c) => ({ ...c, alerts: { ...c.alerts, webhookUrl } }) });
  commune = n.agent('000.07.05.');
}, 60_000);
afterAll(async () => {
  await n?.close();
  receiver?.close();
});

describe('certificate expiry', () => {
  it('exposes seconds to expiry for every agency, hub and CA certificate', async () => {
    const res = await fetch(`${n.hubs[0]!.url}/metrics`, { headers: { authorization: `Bearer ${n.net.adminToken}` } });
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toContain('# TYPE lgsp_certificate_expiry_seconds gauge');
    const gauge = text.split('\n').filter((l) => l.startsWith('lgsp_certificate_expiry_seconds{'));
    expect(gauge.filter((l) => l.includes('kind="agency"'))).toHaveLength(n.net.agencies.length);
    expect(gauge.filter((l) => l.includes('kind="hub"'))).toHaveLength(3);
    expect(gauge.filter((l) => l.includes('kind="ca"'))).toHaveLength(1);
    for (const l of gauge) expect(Number(l.split(' ').at(-1))).toBeGreaterThan(300 * 86_400);
  });

  it('calls the webhook when a registered certificate is within 14 days of expiry, once', async () => {
    const ca = { keyPem: fs.readFileSync(n.net.caKeyFile, 'utf8'), certPem: fs.readFileSync(n.net.caFile, 'utf8') };
    const soon = issueCertificate({ ca, commonName: 'short-lived', agency: commune.agency.code, notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 10 * 86_400_000) });
    const res = await fetch(`${n.hubs[2]!.url}/api/admin/certs`, {
      method: 'POST', headers: { authorization: `Bearer ${n.net.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ agency: commune.agency.code, pem: soon.certPem }),
    });
    expect(res.status).toBe(201);
    const { fingerprint } = await res.json() as { fingerprint: string };
    const alert = await eventually(async () => alerts.find((a) => a.fingerprint === fingerprint && a.hub === n.hubs[2]!.id), 'the webhook alert');
    expect(alert).toMatchObject({ kind: 'agency', agency: commune.agency.code, thresholdDays: 14, daysLeft: 9 });
    await new Promise((r) => setTimeout(r, 300));
    expect(alerts.filter((a) => a.fingerprint === fingerprint && a.hub === n.hubs[2]!.id)).toHaveLength(1);
  });
});
