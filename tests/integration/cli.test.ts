// The lgsp CLI as CONTRACT.md states it: exit 0/1/2 and one JSON object with --json.
import fs from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SAMPLES_DIR, edit } from '../helpers/packages.js';
import { lgsp, lgspAsync, lgspJson, ROOT, tempDir, xmlsec1 } from '../helpers/tools.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const sampleFile = (name: string) => path.join(SAMPLES_DIR, name);

describe('lgsp validate', () => {
  it('accepts a sample (exit 0) and summarizes it', () => {
    expect(lgspJson('validate', sampleFile('status_finish_06.edxml'))).toEqual({
      status: 0, json: { ok: true, kind: 'status', from: '000.00.00.H41', to: ['000.00.00.G22'], statusCode: '06' },
    });
    const human = lgsp('validate', sampleFile('edoc_new.payload-replaced.edxml'));
    expect(human.stdout).toContain('valid edoc package from 000.00.00.A80 to 28.22.H17');
  });

  it('rejects an invalid package (exit 1) with code, message and details', () => {
    const file = tmp.file('bad.edxml', edit('status_finish_06.edxml', '<edXML:StatusCode>06', '<edXML:StatusCode>66'));
    const { status, json } = lgspJson('validate', file);
    expect(status).toBe(1);
    expect(json).toMatchObject({ ok: false, code: 'SCHEMA_INVALID', details: expect.arrayContaining([{ line: expect.any(Number), path: expect.stringContaining('StatusCode'), reason: expect.stringContaining("'66'") }]) });
    expect(lgsp('validate', file).stderr).toMatch(/^SCHEMA_INVALID: .*\n  line \d+ \/edXML\//);
  });

  it('reports usage and environment errors with exit 2', () => {
    expect(lgspJson('validate', path.join(tmp.dir, 'missing.edxml'))).toMatchObject({ status: 2, json: { ok: false, code: 'USAGE' } });
    expect(lgspJson('validate', '--bogus', 'x')).toMatchObject({ status: 2, json: { code: 'USAGE' } });
    expect(lgsp('frobnicate').status).toBe(2);
    expect(lgsp('verify', sampleFile('status.edxml')).stderr).toContain('--trust');
  });

  it('is built executable, so that npx lgsp runs it after any rebuild (npm test rebuilds)', () => {
    expect(fs.statSync(path.join(ROOT, 'dist/src/cli/lgsp.js')).mode & 0o111).toBe(0o111);
  });

  it('prints a command\'s own usage for `lgsp <command> --help` and exits 0', async () => {
    // Every command the full usage names, including those added later: its own usage, exit 0.
    // The runs go together, each being a process start.
    const commands = [...new Set([...lgsp('help').stdout.matchAll(/^ {2}lgsp ([a-z-]+)/gm)].map((m) => m[1]!))];
    expect(commands).toEqual(expect.arrayContaining(['validate', 'start', 'demo', 'ledger', 'broker', 'agency', 'hub']));
    const help = new Map(await Promise.all(commands.map(async (command) => [command, await lgspAsync({}, command, '--help')] as const)));
    const without = commands.filter((command) => {
      const r = help.get(command)!;
      return r.status !== 0 || !r.stdout.includes(`lgsp ${command}`) || r.stdout.includes('lgsp: the LGSP edXML hub');
    });
    expect(without, 'commands whose --help is not their own usage').toEqual([]);
    for (const [command, mention] of [['demo', '--province'], ['start', '--config'], ['cert', 'lgsp cert rotate'], ['pki', 'lgsp pki issue'], ['broker', 'LGSP_BROKER_USER_SECRET']] as const) {
      expect(help.get(command)?.stdout, command).toContain(mention);
      expect(help.get(command)?.stdout, command).not.toContain('lgsp validate');
    }
    expect(help.get('demo')?.stdout).toContain('lgsp demo --national');
    const [hubKey, brokerUsers, full] = await Promise.all([lgspAsync({}, 'hub-key', 'rotate', '-h'), lgspAsync({}, 'broker', 'users', '--help'), lgspAsync({}, 'help')]);
    expect(hubKey).toMatchObject({ status: 0, stdout: expect.stringContaining('lgsp hub-key rotate') });
    expect(brokerUsers).toMatchObject({ status: 0, stdout: expect.stringContaining('lgsp broker users') });
    expect(full).toMatchObject({ status: 0, stdout: expect.stringContaining('lgsp crl import') });
  });
});

describe('operator commands and an answer they do not expect', () => {
  it('exit 2 UNAVAILABLE, naming the call, when --url answers 200 with something else than the admin API\'s answer', async () => {
    // Not a hub of this version (another service, a hub of another version): 200 and {}.
    const server = http.createServer((_request, response) => response.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const env = { LGSP_URL: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`, LGSP_ADMIN_TOKEN: 'token' };
    const file = tmp.file('plan.csv', 'code,name,hubId,successor,from\n');
    try {
      for (const [args, call] of [
        [['cert', 'list'], 'GET /api/admin/certs'],
        [['hub', 'retire', '000.00.05.H41', '--into', '000.00.00.H41'], 'POST /api/admin/hubs/:id/retire'],
        [['agency', 'import', file], 'POST /api/admin/agencies/import'],
        [['hub-key', 'rotate', '--key', file, '--cert', file], 'POST /api/admin/hub-key/rotate'],
      ] as const) {
        const r = await lgspAsync(env, ...args, '--json');
        expect({ status: r.status, stderr: r.stderr }, args.join(' ')).toEqual({ status: 2, stderr: '' });
        expect(JSON.parse(r.stdout)).toEqual({ ok: false, code: 'UNAVAILABLE', message: expect.stringContaining(`${call}: the hub's answer is not what this lgsp expects`) });
      }
    } finally {
      server.close();
    }
  }, 60_000);
});

describe('lgsp pki, sign and verify together', () => {
  const dir = path.join(tmp.dir, 'pki');
  const agency = '000.00.00.H41';

  it('issues, signs, verifies, revokes and then refuses', () => {
    expect(lgspJson('pki', 'init', '--dir', dir)).toMatchObject({ status: 0, json: { ok: true, caFile: path.join(dir, 'ca.cert.pem') } });
    expect(lgsp('pki', 'init', '--dir', dir).status).toBe(2); // no silent overwrite of a CA
    expect(fs.statSync(path.join(dir, 'ca.key.pem')).mode & 0o077).toBe(0);
    const issued = lgspJson('pki', 'issue', '--dir', dir, '--agency', agency, '--name', 'UBND Tỉnh Nghệ An');
    expect(issued).toMatchObject({ status: 0, json: { certFile: path.join(dir, `${agency}.cert.pem`) } });
    expect(lgspJson('pki', 'issue', '--dir', dir, '--agency', '28.22.H17')).toMatchObject({ status: 2, json: { code: 'USAGE' } });

    const key = path.join(dir, `${agency}.key.pem`);
    const cert = path.join(dir, `${agency}.cert.pem`);
    const signed = path.join(tmp.dir, 'signed.edxml');
    expect(lgsp('sign', sampleFile('status_finish_06.edxml'), '--key', key, '--cert', cert, '-o', signed).status).toBe(0);
    expect(xmlsec1('--verify', '--trusted-pem', path.join(dir, 'ca.cert.pem'), '--enabled-reference-uris', 'empty', signed).status).toBe(0);

    const verified = lgspJson('verify', signed, '--trust', path.join(dir, 'ca.cert.pem'));
    expect(verified).toMatchObject({ status: 0, json: { ok: true, signer: { subject: expect.stringContaining('UBND Tỉnh Nghệ An'), fingerprint: expect.stringMatching(/^[0-9a-f]{64}$/) } } });
    expect(lgsp('verify', signed, '--trust', path.join(dir, 'ca.cert.pem')).stdout).toMatch(/signer: CN=UBND Tỉnh Nghệ An.*\nfingerprint: [0-9a-f]{64}/);

    expect(lgspJson('pki', 'revoke', '--dir', dir, '--cert', cert)).toMatchObject({ status: 0, json: { revoked: 1 } });
    expect(lgspJson('verify', signed, '--trust', path.join(dir, 'ca.cert.pem'), '--crl', path.join(dir, 'crl.pem')))
      .toMatchObject({ status: 1, json: { ok: false, code: 'CERT_REVOKED' } });
    expect(lgspJson('verify', signed, '--trust', path.join(dir, 'ca.cert.pem'), '--at', '2020-01-01T00:00:00Z'))
      .toMatchObject({ status: 1, json: { code: 'CERT_NOT_YET_VALID' } });
  });

  it('refuses a key that does not match the certificate, and a second signature', () => {
    lgsp('pki', 'issue', '--dir', dir, '--agency', '000.00.00.H14');
    const mismatch = lgspJson('sign', sampleFile('status_finish_06.edxml'), '--key', path.join(dir, '000.00.00.H14.key.pem'),
      '--cert', path.join(dir, `${agency}.cert.pem`));
    expect(mismatch).toMatchObject({ status: 2, json: { code: 'USAGE', message: expect.stringContaining('does not match') } });
    const again = lgspJson('sign', path.join(tmp.dir, 'signed.edxml'), '--key', path.join(dir, `${agency}.key.pem`), '--cert', path.join(dir, `${agency}.cert.pem`));
    expect(again).toMatchObject({ status: 1, json: { code: 'POLICY_VIOLATION' } });
  });
});
