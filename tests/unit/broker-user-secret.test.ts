// A broker user per hub from one secret (docs/security.md, "Broker users"): the password each hub
// derives, as openssl computes the same HMAC; the configuration's broker URLs with each hub's
// user and password in place of any others; and `lgsp broker users`'s environment, whose
// problems are named without echoing a value.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { brokerPasswordOf, brokerUserOf, parseConfig } from '../../src/config.js';
import { brokerAdminFromEnv } from '../../src/cli/broker.js';

const SECRET = 'a-network-secret-of-some-length';
const hub = (id: string, extra = {}) => ({ id, port: 0, sealKeyFile: 'k.pem', sealCertFile: 'c.pem', ...extra });
const file = {
  trust: { caFiles: ['ca.pem'] }, amqpUrl: 'amqp://guest:guest@mq.tinh.example:5672/lgsp',
  hubs: [hub('000.00.00.H53'), hub('000.00.05.H53', { amqpUrl: 'amqps://someone:else@mq.huyen.example:5671' })],
};
const userAndPassword = (url: string) => { const u = new URL(url); return [decodeURIComponent(u.username), decodeURIComponent(u.password)]; };

describe('a hub\'s broker password', () => {
  it('is the hex HMAC-SHA256 of its id under the secret, as openssl computes it', () => {
    const openssl = spawnSync('openssl', ['dgst', '-sha256', '-hmac', SECRET, '-r'], { input: '000.07.05.H53', encoding: 'utf8' });
    expect(openssl.status, openssl.stderr).toBe(0);
    expect(brokerPasswordOf(SECRET, '000.07.05.H53')).toBe(openssl.stdout.split(' ')[0]);
  });

  it('differs from hub to hub and from secret to secret, and holds nothing of the secret', () => {
    const passwords = ['000.00.00.H53', '000.00.05.H53', '000.07.05.H53'].map((id) => brokerPasswordOf(SECRET, id));
    expect(new Set(passwords).size).toBe(3);
    for (const p of passwords) expect(p).toMatch(/^[0-9a-f]{64}$/);
    expect(brokerPasswordOf(`${SECRET}!`, '000.00.00.H53')).not.toBe(passwords[0]);
    expect(brokerUserOf('000.00.00.H53')).toBe('lgsp-000.00.00.H53');
  });
});

describe('the configuration with LGSP_BROKER_USER_SECRET', () => {
  it('gives every hub its own user and password on its broker, in place of the file\'s credentials', () => {
    const c = parseConfig(file, '/x', { LGSP_BROKER_USER_SECRET: SECRET });
    expect(c.ok).toBe(true);
    const [province, district] = c.ok ? c.value.hubs : [];
    expect(userAndPassword(province!.amqpUrl!)).toEqual(['lgsp-000.00.00.H53', brokerPasswordOf(SECRET, '000.00.00.H53')]);
    expect(new URL(province!.amqpUrl!).host).toBe('mq.tinh.example:5672');
    expect(new URL(province!.amqpUrl!).pathname).toBe('/lgsp');
    // A hub's own broker keeps its host; the secret replaces its user too.
    expect(userAndPassword(district!.amqpUrl!)).toEqual(['lgsp-000.00.05.H53', brokerPasswordOf(SECRET, '000.00.05.H53')]);
    expect(new URL(district!.amqpUrl!).host).toBe('mq.huyen.example:5671');
  });

  it('replaces AMQP_URL\'s and AMQP_URLS\'s credentials as well, on every node', () => {
    const one = parseConfig(file, '/x', { AMQP_URL: 'amqp://admin:admin@env:5672', LGSP_BROKER_USER_SECRET: SECRET });
    expect(one.ok && userAndPassword(one.value.hubs[0]!.amqpUrl!)).toEqual(['lgsp-000.00.00.H53', brokerPasswordOf(SECRET, '000.00.00.H53')]);
    const nodes = parseConfig(file, '/x', { AMQP_URLS: 'amqp://a:b@mq-1:5672,amqp://mq-2:5672', LGSP_BROKER_USER_SECRET: SECRET });
    const urls = nodes.ok ? nodes.value.hubs[0]!.amqpUrls! : [];
    expect(urls.map((u) => new URL(u).host)).toEqual(['mq-1:5672', 'mq-2:5672']);
    for (const u of urls) expect(userAndPassword(u)).toEqual(['lgsp-000.00.00.H53', brokerPasswordOf(SECRET, '000.00.00.H53')]);
  });

  it('leaves the URLs as they are without it, and refuses a short secret without echoing it', () => {
    const plain = parseConfig(file, '/x', {});
    expect(plain.ok && [plain.value.hubs[0]!.amqpUrl, plain.value.hubs[1]!.amqpUrl]).toEqual([undefined, 'amqps://someone:else@mq.huyen.example:5671']);
    for (const secret of ['', 'short-secret']) {
      const c = parseConfig(file, '/x', { LGSP_BROKER_USER_SECRET: secret });
      expect(c).toMatchObject({ ok: false, error: { code: 'USAGE', message: 'LGSP_BROKER_USER_SECRET: at least 16 characters (e.g. openssl rand -hex 32)' } });
    }
    const bad = parseConfig({ ...file, hubs: [hub('000.00.00.H53', { amqpUrl: 'mq:5672' })] }, '/x', { LGSP_BROKER_USER_SECRET: SECRET });
    expect(bad).toMatchObject({ ok: false, error: { code: 'USAGE', message: 'hub 000.00.00.H53: its broker mq:5672 is not an amqp:// or amqps:// URL' } });
  });
});

describe('lgsp broker users\'s environment', () => {
  const env = { LGSP_BROKER_USER_SECRET: SECRET, LGSP_BROKER_ADMIN_URL: 'amqp://lgsp-admin:pw@rabbitmq:5672', RABBITMQ_MANAGEMENT_URL: 'http://lgsp-admin:pw@rabbitmq:15672' };

  it('takes the secret and the administrator\'s two URLs', () => {
    expect(brokerAdminFromEnv(env)).toEqual({ ok: true, value: { secret: SECRET, adminUrl: env.LGSP_BROKER_ADMIN_URL, managementUrl: env.RABBITMQ_MANAGEMENT_URL } });
  });

  it('puts LGSP_BROKER_ADMIN_PASSWORD into both URLs, however it is spelt', () => {
    const password = 'p@ss/w:rd#1%';
    const r = brokerAdminFromEnv({ ...env, LGSP_BROKER_ADMIN_URL: 'amqp://lgsp-admin@rabbitmq:5672', RABBITMQ_MANAGEMENT_URL: 'http://lgsp-admin@rabbitmq:15672', LGSP_BROKER_ADMIN_PASSWORD: password });
    expect(r.ok).toBe(true);
    for (const url of r.ok ? [r.value.adminUrl, r.value.managementUrl] : []) {
      expect(userAndPassword(url)).toEqual(['lgsp-admin', password]);
      expect(new URL(url).hostname).toBe('rabbitmq');
    }
  });

  it('names each variable missing or wrong, never its value', () => {
    const cases: [Record<string, string | undefined>, RegExp][] = [
      [{ LGSP_BROKER_USER_SECRET: undefined }, /^LGSP_BROKER_USER_SECRET: not set/],
      [{ LGSP_BROKER_USER_SECRET: 'short' }, /^LGSP_BROKER_USER_SECRET: at least 16 characters/],
      [{ LGSP_BROKER_ADMIN_URL: '' }, /^LGSP_BROKER_ADMIN_URL: not set/],
      [{ LGSP_BROKER_ADMIN_URL: 'http://lgsp-admin:hunter2-secret@rabbitmq:5672' }, /^LGSP_BROKER_ADMIN_URL: must be an amqp:\/\/ or amqps:\/\/ URL$/],
      [{ LGSP_BROKER_ADMIN_URL: 'amqp://rabbitmq:5672' }, /^LGSP_BROKER_ADMIN_URL: names no user$/],
      [{ RABBITMQ_MANAGEMENT_URL: undefined }, /^RABBITMQ_MANAGEMENT_URL: not set/],
      [{ RABBITMQ_MANAGEMENT_URL: 'rabbitmq:15672 hunter2-secret' }, /^RABBITMQ_MANAGEMENT_URL: must be an http:\/\/ or https:\/\/ URL$/],
    ];
    for (const [change, message] of cases) {
      const r = brokerAdminFromEnv({ ...env, ...change });
      expect(r, JSON.stringify(change)).toMatchObject({ ok: false, error: { code: 'USAGE', message: expect.stringMatching(message) } });
      const text = r.ok ? '' : r.error.message;
      for (const value of ['hunter2-secret', SECRET, 'pw@']) expect(text).not.toContain(value);
    }
  });
});
