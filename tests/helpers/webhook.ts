// A webhook receiver on 127.0.0.1 for the alert tests: it keeps every JSON body posted to it, in
// order, in the array it is given.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface WebhookSink { url: string; close(): void }

export async function startWebhookSink<T>(into: T[], path = '/alerts'): Promise<WebhookSink> {
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => { body += c.toString(); });
    req.on('end', () => { into.push(JSON.parse(body) as T); res.end(); });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`, close: () => { server.close(); } };
}

/** Waits (up to a second) until `received` holds `count` calls, then a moment more, so that a call too many would show. */
export async function settled(received: readonly unknown[], count: number): Promise<void> {
  for (let i = 0; i < 100 && received.length < count; i++) await new Promise((r) => setTimeout(r, 10));
  await new Promise((r) => setTimeout(r, 30));
}
