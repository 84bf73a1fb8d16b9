// The expiry webhook is an outside server and may hang: registering a certificate (a trust change,
// which checks expiry) answers while the webhook still holds its call; the call is timed out,
// logged and retried in the background.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCertificate } from '../../src/pki/dev-pki.js';
import { createRootLogger } from '../../src/logger.js';
import { eventually, startTestNetwork, type Agent, type TestNetwork } from '../helpers/network.js';

let n: TestNetwork;
let commune: Agent;
const logLines: string[] = [];
/** Every call the webhook got, none ever answered: its alert and whether the hub has hung up. */
const calls: { alert: Record<string, unknown>; hungUp: () => boolean; ended: Promise<void> }[] = [];
const silent = http.createServer((req, _res) => {
  let body = '';
  let hungUp = false;
  const ended = new Promise<void>((resolve) => req.socket.on('close', () => { hungUp = true; resolve(); }));
  req.on('data', (c: Buffer) => { body += c.toString(); });
  req.on('end', () => { calls.push({ alert: JSON.parse(body) as Record<string, unknown>, hungUp: () => hungUp, ended }); });
});

beforeAll(async () => {
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const webhookUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/alerts`;
  n = await startTestNetwork({
    log: createRootLogger('warn', { write: (line: string) => { logLines.push(line); } }),
    configFor: (_id, c) => ({ ...c, alerts: { ...c.alerts, webhookUrl, webhookTimeoutMs: 4_000, webhookRetries: 1, webhookRetryMs: 100 } }),
  });
  commune = n.agent('000.07.05.');
}, 60_000);
afterAll(async () => {
  await n?.close();
  silent.closeAllConnections();
  silent.close();
});

describe('expiry webhook that never answers', () => {
  it('does not hold up a certificate registration, and is timed out and retried', async () => {
    const ca = { keyPem: fs.readFileSync(n.net.caKeyFile, 'utf8'), certPem: fs.readFileSync(n.net.caFile, 'utf8') };
    const soon = issueCertificate({ ca, commonName: 'short-lived', agency: commune.agency.code, notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 10 * 86_400_000) });
    const hub = n.hubs[2]!;
    const mine = () => calls.filter((c) => c.alert.hub === hub.id && c.alert.thresholdDays === 14);
    const registered = n.admin(2, 'POST', '/api/admin/certs', { agency: commune.agency.code, pem: soon.certPem });
    const first = await eventually(async () => mine()[0], 'the webhook call');
    // The registration answers while the webhook still holds the hub's call (before it times out).
    const winner = await Promise.race([registered.then((r) => `registered ${r.status}`), first.ended.then(() => 'webhook call ended')]);
    expect(winner).toBe('registered 201');
    expect(first.hungUp()).toBe(false);

    // Then the hub gives the call up and tries once more, in the background.
    await first.ended;
    await eventually(async () => (mine().length === 2 ? true : undefined), 'the retried webhook call', 15_000);
    await mine()[1]!.ended;
    const logged = logLines.map((l) => JSON.parse(l) as { msg: string; err?: string; attempt?: number });
    expect(logged).toContainEqual(expect.objectContaining({ msg: 'expiry webhook failed; retrying', err: 'no answer within 4000 ms', attempt: 1 }));
    await eventually(async () => (JSON.parse(`[${logLines.join(',')}]`) as { msg: string }[]).some((l) => l.msg === 'expiry webhook failed; giving up on this alert') ? true : undefined, 'the last failure logged');
  });
});
