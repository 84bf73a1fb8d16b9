// `npm test` readies the machine first (scripts/test-preflight.sh, issue 16 item 9): since the
// PostgreSQL ledger and the replicas' Redis, the suite needs those servers too, so the preflight
// stops with exit 2 and says which one is missing rather than let a newcomer's run fail later in
// a dozen tests. Run here only on servers named in the environment, which it only probes (it
// installs and starts nothing then): the reference peers are stand-ins on PATH, the management
// API a stand-in answering 200, the broker the real one, PostgreSQL and Redis the real ones or
// closed ports.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/free-port.js';
import { AMQP_URL } from '../helpers/network.js';
import { ROOT, tempDir, type Run } from '../helpers/tools.js';

const POSTGRES_URL = process.env.LGSP_TEST_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.LGSP_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

const tmp = tempDir();
let management: http.Server;
let env: Record<string, string>;

beforeAll(async () => {
  // Stand-ins for the reference peers, so that the preflight finds nothing to install.
  const bin = path.join(tmp.dir, 'bin');
  fs.mkdirSync(bin);
  for (const tool of ['xmlsec1', 'xmllint', 'docker-compose', 'redis-server', 'initdb', 'chromium']) {
    fs.writeFileSync(path.join(bin, tool), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  }
  management = http.createServer((request, response) => response.writeHead(request.url === '/api/overview' ? 200 : 404).end('{}'));
  await new Promise<void>((resolve) => management.listen(0, '127.0.0.1', resolve));
  env = {
    PATH: `${bin}:${process.env.PATH ?? ''}`, LGSP_CHROMIUM: path.join(bin, 'chromium'), LGSP_TEST_PG_BIN: bin,
    AMQP_URL, RABBITMQ_MANAGEMENT_URL: `http://guest:guest@127.0.0.1:${(management.address() as net.AddressInfo).port}`,
    LGSP_TEST_POSTGRES_URL: POSTGRES_URL, LGSP_TEST_REDIS_URL: REDIS_URL,
  };
});
afterAll(() => {
  management?.close();
  tmp.cleanup();
});

function preflight(overrides: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile('bash', [path.join(ROOT, 'scripts/test-preflight.sh')], { cwd: ROOT, encoding: 'utf8', timeout: 90_000, env: { ...process.env, ...env, ...overrides } },
      (err, stdout, stderr) => resolve({ status: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr }));
  });
}

describe('the test preflight', () => {
  it('is ready when the broker, PostgreSQL and Redis answer', async () => {
    const r = await preflight({});
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('PostgreSQL, Redis');
  }, 100_000);

  it('stops with exit 2 naming PostgreSQL when none answers', async () => {
    const closed = `postgresql://postgres@127.0.0.1:${await freePort()}/postgres`;
    const r = await preflight({ LGSP_TEST_POSTGRES_URL: closed });
    expect(r.status, r.stdout + r.stderr).toBe(2);
    expect(r.stderr).toContain(`no PostgreSQL answers at ${closed}`);
  }, 100_000);

  it('stops with exit 2 naming Redis when none answers', async () => {
    const closed = `redis://127.0.0.1:${await freePort()}`;
    const r = await preflight({ LGSP_TEST_REDIS_URL: closed });
    expect(r.status, r.stdout + r.stderr).toBe(2);
    expect(r.stderr).toContain(`no Redis answers at ${closed}`);
  }, 100_000);
});
