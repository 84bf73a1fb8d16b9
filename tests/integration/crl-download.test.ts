// The scheduled CRL download against real HTTP servers: a CRL over http.crlMaxBytes is cut off
// while it streams in (not held whole), and a redirect is followed only within the source's own
// scheme, host and port.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downloadCrl } from '../../src/admin/crl-fetcher.js';

const MAX = 1024 * 1024;
const LIMITS = { maxBytes: MAX, timeoutMs: 30_000 };
let streamed = 0;
let streamClosed: Promise<void> = Promise.resolve();
let otherHits = 0;

const source = http.createServer((req, res) => {
  const port = (source.address() as AddressInfo).port;
  const other = (other_.address() as AddressInfo).port;
  switch (req.url) {
    case '/endless': {
      // 1 GiB offered in 64 KiB chunks, each written only when the last was taken.
      const chunk = Buffer.alloc(64 * 1024, 0x30);
      streamed = 0;
      streamClosed = new Promise((resolve) => res.on('close', resolve));
      const pump = () => {
        while (!res.destroyed && streamed < 1024 ** 3) {
          streamed += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      return pump();
    }
    case '/declared': res.writeHead(200, { 'content-length': String(MAX + 1) }); return void res.write('x');
    case '/small': return void res.end('a small CRL');
    case '/same': res.writeHead(302, { location: '/small' }); return void res.end();
    case '/other-host': res.writeHead(302, { location: `http://localhost:${other}/small` }); return void res.end();
    case '/other-port': res.writeHead(301, { location: `http://127.0.0.1:${other}/small` }); return void res.end();
    case '/other-scheme': res.writeHead(307, { location: `https://127.0.0.1:${port}/small` }); return void res.end();
    case '/loop': res.writeHead(302, { location: '/loop' }); return void res.end();
    default: res.statusCode = 404; return void res.end();
  }
});
const other_ = http.createServer((_req, res) => { otherHits++; res.end('from elsewhere'); });
const url = (path: string) => `http://127.0.0.1:${(source.address() as AddressInfo).port}${path}`;

beforeAll(async () => {
  await new Promise<void>((resolve) => source.listen(0, '127.0.0.1', resolve));
  await new Promise<void>((resolve) => other_.listen(0, '0.0.0.0', resolve));
});
afterAll(() => { source.close(); other_.close(); });

describe('CRL download', () => {
  it('takes a CRL within the limit, through a redirect on the same origin', async () => {
    const got = await downloadCrl(url('/same'), LIMITS);
    expect(got.ok && got.value.toString()).toBe('a small CRL');
  });

  it('cuts off a streamed CRL over the limit without reading the rest', async () => {
    const got = await downloadCrl(url('/endless'), LIMITS);
    expect(got.ok ? 'taken' : got.error.code).toBe('PAYLOAD_TOO_LARGE');
    await streamClosed;
    // What the server got out before the hub hung up: the limit plus socket buffers, not 1 GiB.
    expect(streamed).toBeLessThan(32 * MAX);
  });

  it('refuses a declared length over the limit from the headers', async () => {
    const got = await downloadCrl(url('/declared'), LIMITS);
    expect(got.ok ? 'taken' : got.error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it.each(['/other-host', '/other-port', '/other-scheme'])('refuses a redirect off the source origin (%s)', async (path) => {
    const got = await downloadCrl(url(path), LIMITS);
    expect(got.ok ? 'taken' : got.error.code).toBe('FORBIDDEN');
    expect(otherHits).toBe(0);
  });

  it('gives up on a redirect loop', async () => {
    const got = await downloadCrl(url('/loop'), LIMITS);
    expect(got.ok ? 'taken' : got.error.message).toMatch(/more than 3 redirects/);
  });
});
