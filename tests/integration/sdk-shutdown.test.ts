// /vxp while a hub shuts down: requests that arrive on connections it is still finishing get
// 503 UNAVAILABLE, in the national SDK's FAIL shape (the SDK reads status, ErrorCode, ErrorDesc of
// every answer) and, on downloadEdoc, with no body: the SDK saves any downloadEdoc body as the
// document and reports SUCCESS whatever the HTTP status (docs/national-sdk.md).
import { describe, expect, it } from 'vitest';
import { startTestNetwork } from '../helpers/network.js';
import { agentsOf } from '../helpers/shared-network.js';
import { rawConnection, write } from '../helpers/raw-http.js';
import { sdkClient } from '../helpers/sdk-client.js';

describe('/vxp while the hub shuts down', () => {
  it('answers 503 UNAVAILABLE in the SDK\'s FAIL shape, downloadEdoc with no body', async () => {
    const n = await startTestNetwork();
    try {
      const { commune } = agentsOf(n);
      const hub = n.hubs.find((h) => h.url === commune.url)!;
      const sdk = sdkClient(`${commune.url}/vxp`, commune.agency.code, commune.agency.apiKey);
      const { host } = new URL(commune.url);
      // Each request is begun before the hub starts closing (its connection is then not idle, so
      // the server waits for it) and finished after.
      const calls = (['GET downloadEdoc', 'POST countReceiveEdoc', 'POST sendEdoc'] as const).map((call) => {
        const [method, name] = call.split(' ') as [string, string];
        const connection = rawConnection(commune.url);
        const signed = sdk.sign(name === 'downloadEdoc' ? { docId: '0'.repeat(32) } : {});
        const rest = Object.entries({ ...signed, 'content-length': '0' }).map(([k, v]) => `${k}: ${v}\r\n`).join('') + '\r\n';
        return { name, connection, begun: write(connection.socket, `${method} /vxp/${name} HTTP/1.1\r\nhost: ${host}\r\n`), rest };
      });
      await Promise.all(calls.map((c) => c.begun));
      await new Promise((r) => setTimeout(r, 200));
      const closed = hub.close();
      await new Promise((r) => setTimeout(r, 200));
      for (const c of calls) await write(c.connection.socket, c.rest);
      const answers = await Promise.all(calls.map(async (c) => ({ name: c.name, raw: await c.connection.closed })));
      await closed;

      for (const { name, raw } of answers) {
        expect(raw, name).toMatch(/^HTTP\/1\.1 503 /);
        const head = raw.slice(0, raw.indexOf('\r\n\r\n'));
        const body = raw.slice(raw.indexOf('\r\n\r\n') + 4);
        const fail = { status: 'FAIL', ErrorCode: '70', ErrorDesc: expect.stringMatching(/^UNAVAILABLE: .*shutting down/) };
        if (name === 'downloadEdoc') {
          expect(body, 'no body the SDK could save as the document').toBe('');
          expect(JSON.parse(/^xroadvnpt-result: (.*)$/im.exec(head)![1]!)).toEqual(fail);
        } else {
          expect(JSON.parse(body), name).toEqual(name === 'sendEdoc' ? { ...fail, DocId: '' } : fail);
        }
      }
    } finally {
      await n.close();
    }
  });
});
