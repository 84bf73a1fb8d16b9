// AMQP over TLS for hubs on other sites (issue 14, item 5): a whole network whose hubs reach the
// broker with amqps:// and the configuration's amqpTls.caFile (the broker's certificate is
// self-signed: without that CA, Node refuses it, so a delivery proves the CA is used). The shared broker has no TLS listener (and is not reconfigured for a test),
// so a TLS endpoint stands in front of it: Node's TLS server, with a certificate made by openssl,
// forwarding the decrypted bytes to the broker, as a TLS-terminating proxy or RabbitMQ's own
// TLS listener would.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AMQP_URL, startTestNetwork, type TestNetwork } from '../helpers/network.js';
import { sendAcross } from '../helpers/shared-network.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lgsp-tls-'));
const file = (name: string) => path.join(dir, name);
/** A self-signed certificate for localhost (CA and server at once). */
function makeCertificates(): void {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost', '-keyout', file('broker.key'), '-out', file('broker.crt')], { stdio: 'ignore' });
}

let endpoint: tls.Server;
let tlsUrl: string;
let n: TestNetwork;

beforeAll(async () => {
  makeCertificates();
  const broker = new URL(AMQP_URL);
  endpoint = tls.createServer({ key: fs.readFileSync(file('broker.key')), cert: fs.readFileSync(file('broker.crt')) }, (client) => {
    const upstream = net.connect(Number(broker.port || 5672), broker.hostname);
    client.pipe(upstream).pipe(client);
    const end = () => { client.destroy(); upstream.destroy(); };
    client.on('error', end);
    upstream.on('error', end);
  });
  await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve));
  const url = new URL(AMQP_URL);
  url.protocol = 'amqps:';
  url.hostname = 'localhost';
  url.port = String((endpoint.address() as net.AddressInfo).port);
  tlsUrl = url.toString();
  n = await startTestNetwork({
    amqpUrl: tlsUrl,
    // The parsed configuration (paths already resolved; tests/unit/config.test.ts covers parsing).
    configFor: (_hubId, config) => ({ ...config, amqpTls: { caFile: file('broker.crt') } }),
  });
}, 60_000);
afterAll(async () => {
  await n?.close();
  await new Promise((resolve) => endpoint?.close(resolve));
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('AMQP over TLS', () => {
  it('carries a document through three hubs connected with amqps:// and the configured CA', async () => {
    await sendAcross(n, 'Qua TLS');
  });
});
