// The connector's client sends what the real SDK sends: checked against the requests captured
// from SDKVXP 2.0.1 (docs/national-sdk.md, "Captured requests"), byte for byte where the
// capture allows, and it reads answers as tolerantly as the SDK.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gsonJson, sdkHashFile, sdkSignedHeaders } from '../../../src/http/sdk-signature.js';
import { vxpClient } from '../../../src/national/vxp-client.js';

const SECRET = Buffer.from('k3y-of-the-agency');

describe('the SDK\'s signing, as captured', () => {
  it('reproduces the captured sendEdoc sign-header and hash-header', () => {
    const headers = sdkSignedHeaders(SECRET, [
      ['systemid', '000.07.05.H41'], ['servicetype', 'eDoc'], ['messagetype', 'edoc'],
      ['hash-file', 'e430b52a766e55711fc35b8eff34f98275c987ba345e4a31b0f343104b8e8'], ['from', '000.07.05.H41'], ['to', '["000.00.12.H41"]'],
      ['timestamp', '06122026T210618+0670'], ['Content-Type', 'application/octet-stream'],
    ]);
    expect(headers['XroadVnpt-sign-header-key']).toBe('systemid;servicetype;messagetype;hash-file;from;to;timestamp;Content-Type');
    expect(headers['XroadVnpt-sign-header']).toBe('{"XroadVnpt-systemid":"000.07.05.H41","XroadVnpt-servicetype":"eDoc","XroadVnpt-messagetype":"edoc","XroadVnpt-hash-file":"e430b52a766e55711fc35b8eff34f98275c987ba345e4a31b0f343104b8e8","XroadVnpt-from":"000.07.05.H41","XroadVnpt-to":"[\\"000.00.12.H41\\"]","XroadVnpt-timestamp":"06122026T210618+0670","XroadVnpt-Content-Type":"application/octet-stream"}');
    expect(headers['XroadVnpt-hash-header']).toBe('8fbc0c1dcf1e16c54d0d2804c28cb5684b2ea0a122226ad75f7a101a32556b58');
    expect(headers['XroadVnpt-to']).toBe('["000.00.12.H41"]');
  });

  it('escapes as gson does, and spells hash-file as Java\'s Integer.toHexString', () => {
    expect(gsonJson({ a: '<b>&c=\'d\'' })).toBe('{"a":"\\u003cb\\u003e\\u0026c\\u003d\\u0027d\\u0027"}');
    expect(JSON.parse(gsonJson({ a: '<b>&c=\'d\'' }))).toEqual({ a: '<b>&c=\'d\'' });
    // SHA-256("abc") = ba7816bf 8f01cfea … b00361a3 … f20015ad: 01, 03 and 00 lose their leading zero.
    expect(sdkHashFile(Buffer.from('abc'))).toBe('ba7816bf8f1cfea414140de5dae2223b0361a396177a9cb410ff61f2015ad');
  });
});

describe('vxpClient', () => {
  let server: http.Server;
  let url: string;
  const seen: { url: string; headers: http.IncomingHttpHeaders; body: Buffer }[] = [];
  let reply: (call: string) => { status: number; body: string } = () => ({ status: 200, body: '{"status":"OK","ErrorCode":"0","ErrorDesc":"","data":[]}' });
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({ url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) });
        const r = reply((req.url ?? '').split('/').at(-1)!);
        res.writeHead(r.status, { 'content-type': 'application/json' }).end(r.body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/vxp/`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const client = (secret = SECRET) => vxpClient({ endpoint: url, systemId: '000.07.05.H41', secret, timeoutMs: 2_000, clock: () => new Date('2026-12-06T14:06:18.750Z') });

  it('sends getAgenciesList exactly as captured: same signed headers, same HMAC, empty body', async () => {
    reply = () => ({ status: 200, body: '{"status":"OK","ErrorCode":"0","ErrorDesc":"","data":[{"id":"G12","pid":null,"code":"000.00.00.G12","name":"Bộ Nội vụ","mail":"","oldCode":""},{"id":"x"}]}' });
    const r = await client().getAgenciesList();
    const got = seen.at(-1)!;
    expect(got.url).toBe('/vxp/getAgenciesList');
    expect(got.headers['xroadvnpt-sign-header-key']).toBe('systemid;timestamp;Content-Type');
    expect(got.headers['xroadvnpt-sign-header']).toBe('{"XroadVnpt-systemid":"000.07.05.H41","XroadVnpt-timestamp":"06122026T210618+0750","XroadVnpt-Content-Type":"application/json"}');
    expect(got.headers['xroadvnpt-hash-header']).toBe('fafe95ea84d758981b623b2a72464d891294a320b6289c575fb5a3c17dc5ac12');
    expect(got.headers['xroadvnpt-version']).toBe('3.0.201608');
    expect(got.headers['user-agent']).toBe('JAVASDKAgent/1.0.0 XRoad/VPCP');
    expect(got.headers['content-type']).toBe('application/json');
    expect(got.body.length).toBe(0);
    // null read as '' (where gson would throw), an entry without a code dropped.
    expect(r).toEqual({ kind: 'ok', value: [{ id: 'G12', pid: '', code: '000.00.00.G12', name: 'Bộ Nội vụ', mail: '', oldCode: '' }] });
  });

  it('sends sendEdoc as a raw body with a CRLF, and updateStatus with docId and status signed and {} as body', async () => {
    reply = () => ({ status: 200, body: '{"status":"OK","ErrorCode":"0","ErrorDesc":"","DocId":"abc"}' });
    const file = Buffer.from('<edXML>…</edXML>');
    expect(await client().sendEdoc({ bytes: file, from: '000.07.05.H41', to: ['000.00.12.G12', '000.00.00.G13'], messageType: 'status' })).toEqual({ kind: 'ok', value: { docId: 'abc' } });
    const sent = seen.at(-1)!;
    expect(sent.headers['content-type']).toBe('application/octet-stream');
    expect(sent.body.equals(Buffer.concat([file, Buffer.from('\r\n')]))).toBe(true);
    expect(sent.headers['xroadvnpt-hash-file']).toBe(sdkHashFile(file));
    expect(sent.headers['xroadvnpt-to']).toBe('["000.00.12.G12","000.00.00.G13"]');
    expect(sent.headers['xroadvnpt-messagetype']).toBe('status');

    reply = () => ({ status: 200, body: '{"status":"OK","ErrorCode":"0","ErrorDesc":""}' });
    expect(await client().updateStatus('e4300b52a766e55711fc35b8eff304f9', 'fail', 'UNKNOWN_RECIPIENT: x\r\ny')).toEqual({ kind: 'ok', value: undefined });
    const update = seen.at(-1)!;
    expect(update.headers['xroadvnpt-sign-header-key']).toBe('systemid;docId;timestamp;Content-Type;status;reason');
    expect(update.headers['xroadvnpt-reason']).toBe('UNKNOWN_RECIPIENT: x y');
    expect(update.body.toString()).toBe('{}');
  });

  it('tells a refusal, refused credentials and an unavailable axis apart', async () => {
    reply = () => ({ status: 200, body: '{"status":"FAIL","ErrorCode":42,"ErrorDesc":"bad"}' });
    expect(await client().getEdoc('d')).toEqual({ kind: 'refused', httpStatus: 200, errorCode: '42', errorDesc: 'bad' });
    reply = () => ({ status: 401, body: '{"status":"FAIL","ErrorCode":"12","ErrorDesc":"HMAC"}' });
    expect((await client(Buffer.from('wrong')).getEdoc('d')).kind).toBe('unauthenticated');
    reply = () => ({ status: 502, body: '<html>bad gateway</html>' });
    expect((await client().getReceivedEdocList('edoc')).kind).toBe('unavailable');
    reply = () => ({ status: 200, body: 'not json' });
    expect((await client().getReceivedEdocList('edoc')).kind).toBe('unavailable');
    reply = () => ({ status: 200, body: '{"status":"OK","ErrorCode":"0","ErrorDesc":""}' });
    expect((await client().getEdoc('d')).kind).toBe('unavailable'); // OK without data
    const closed = vxpClient({ endpoint: 'http://127.0.0.1:1/vxp', systemId: 's', secret: SECRET, timeoutMs: 1_000, clock: () => new Date() });
    expect((await closed.getAgenciesList()).kind).toBe('unavailable');
  });
});
