import { describe, expect, it } from 'vitest';
import { brokerNodes, parseConfig } from '../../src/config.js';

const hub = (id: string, extra = {}) => ({ id, port: 0, sealKeyFile: 'k.pem', sealCertFile: 'c.pem', ...extra });
const base = { trust: { caFiles: ['ca.pem'] }, hubs: [hub('000.00.00.H53')] };

describe('configuration', () => {
  it('fills defaults and resolves paths from the file\'s folder', () => {
    const c = parseConfig(base, '/etc/lgsp', {});
    expect(c).toMatchObject({ ok: true, value: {
      dataDir: '/etc/lgsp/data', amqpUrl: 'amqp://guest:guest@127.0.0.1:5672',
      policy: { allowLegacy: false, requireSignature: true, maxBytes: 50 * 1024 * 1024 },
      trust: { caFiles: ['/etc/lgsp/ca.pem'], crlFiles: [] },
      hubs: [{ host: '127.0.0.1', sealKeyFile: '/etc/lgsp/k.pem' }],
    } });
    expect(Object.isFrozen(c.ok && c.value)).toBe(true);
    expect(parseConfig(base, '/x', { AMQP_URL: 'amqp://broker' })).toMatchObject({ ok: true, value: { amqpUrl: 'amqp://broker' } });
  });

  it('reads AMQP TLS files relative to the configuration file, for the network and per hub', () => {
    const c = parseConfig({
      ...base, amqpUrl: 'amqps://broker.tinh.example:5671', amqpTls: { caFile: 'tls/ca.pem' },
      hubs: [hub('000.00.00.H53', { amqpUrl: 'amqps://broker.huyen.example:5671', amqpTls: { caFile: '/pki/ca.pem', certFile: 'hub.crt', keyFile: 'hub.key' } })],
    }, '/etc/lgsp', {});
    expect(c).toMatchObject({ ok: true, value: {
      amqpTls: { caFile: '/etc/lgsp/tls/ca.pem' },
      hubs: [{ amqpTls: { caFile: '/pki/ca.pem', certFile: '/etc/lgsp/hub.crt', keyFile: '/etc/lgsp/hub.key' } }],
    } });
    expect(c.ok && c.value.amqpTls).not.toHaveProperty('certFile');
    expect(parseConfig({ ...base, amqpTls: { caFile: 'ca.pem', certFile: 'hub.crt' } }, '/x', {}))
      .toMatchObject({ ok: false, error: { code: 'USAGE', message: expect.stringContaining('certFile and keyFile go together') } });
    expect(parseConfig({ ...base, amqpTls: { certFile: 'hub.crt' } }, '/x', {}))
      .toMatchObject({ ok: false, error: { code: 'USAGE', message: expect.stringContaining('amqpTls.caFile') } });
  });

  it('has HTTP edge defaults, and refuses a headers timeout longer than the request timeout', () => {
    expect(parseConfig(base, '/x', {})).toMatchObject({ ok: true, value: {
      http: { requestTimeoutMs: 120_000, headersTimeoutMs: 10_000, rateLimit: { perSecond: 200, burst: 400 } },
    } });
    const c = parseConfig({ ...base, http: { requestTimeoutMs: 1_000, headersTimeoutMs: 2_000 } }, '/x', {});
    expect(c.ok ? '' : c.error.message).toContain('http.headersTimeoutMs: must not exceed requestTimeoutMs');
  });

  it('reads the SDK dialect\'s freshness: no window by default, durations, strict agencies with 5 minutes', () => {
    expect(parseConfig(base, '/x', {})).toMatchObject({ ok: true, value: { sdk: { timestampWindow: null, strict: { agencies: [], timestampWindow: 300_000 } } } });
    const set = parseConfig({ ...base, sdk: { timestampWindow: '30d', strict: { agencies: ['000.07.05.H53'], timestampWindow: '90s' } } }, '/x', {});
    expect(set).toMatchObject({ ok: true, value: { sdk: { timestampWindow: 30 * 86_400_000, strict: { agencies: ['000.07.05.H53'], timestampWindow: 90_000 } } } });
    for (const sdk of [{ timestampWindow: '5 min' }, { timestampWindow: '0m' }, { strict: { timestampWindow: 'off' } }]) {
      const c = parseConfig({ ...base, sdk }, '/x', {});
      expect(c.ok ? '' : c.error.message, JSON.stringify(sdk)).toMatch(/sdk\.(strict\.)?timestampWindow/);
    }
  });

  it('binds outside senders by the OU code by default; takes a short name or an OID, nothing else', () => {
    expect(parseConfig(base, '/x', {})).toMatchObject({ ok: true, value: { trust: { outsideSenders: { accept: 'with-code', codeAttribute: 'OU' } } } });
    const set = parseConfig({ ...base, trust: { ...base.trust, outsideSenders: { accept: 'any', codeAttribute: '0.9.2342.19200300.100.1.1' } } }, '/x', {});
    expect(set).toMatchObject({ ok: true, value: { trust: { outsideSenders: { accept: 'any', codeAttribute: '0.9.2342.19200300.100.1.1' } } } });
    for (const outsideSenders of [{ accept: 'all' }, { codeAttribute: 'organizationalUnit' }, { codeAttribute: '2.5.4.' }]) {
      const c = parseConfig({ ...base, trust: { ...base.trust, outsideSenders } }, '/x', {});
      expect(c.ok ? '' : c.error.message, JSON.stringify(outsideSenders)).toMatch(/trust\.outsideSenders\.(accept|codeAttribute)/);
    }
  });

  it('reads SDK system accounts: the top hub and sendsFor by default, and refuses what is ambiguous', () => {
    const system = { systemId: '000.00.00.H41', secretFile: 'secrets/h41.secret', sendsFor: ['*.H41'] };
    expect(parseConfig({ ...base, sdk: { systems: [system] } }, '/etc/lgsp', {})).toMatchObject({ ok: true, value: { sdk: { systems: [{
      systemId: '000.00.00.H41', secretFile: '/etc/lgsp/secrets/h41.secret', hubId: '000.00.00.H53', sendsFor: ['*.H41'], receivesFor: ['*.H41'],
    }] } } });
    const bad = (extra: object, sdk: object) => { const c = parseConfig({ ...base, ...extra, sdk }, '/x', {}); return c.ok ? '' : c.error.message; };
    expect(bad({}, { systems: [{ ...system, sendsFor: ['H41'] }] })).toContain('sdk.systems.0.sendsFor.0');
    expect(bad({}, { systems: [{ ...system, sendsFor: [] }] })).toContain('sdk.systems.0.sendsFor');
    expect(bad({}, { systems: [system, system] })).toContain('duplicate SDK system 000.00.00.H41');
    expect(bad({ hubs: [hub('000.00.00.H53'), hub('000.00.00.H54')] }, { systems: [system] })).toContain('sdk.systems.0.hubId: name the hub');
    expect(bad({}, { systems: [{ ...system, hubId: '000.00.00.H99' }] })).toContain('sdk.systems.0.hubId: no hub 000.00.00.H99');
    const agency = { code: '000.00.00.H41', name: 'UBND tỉnh', apiKeyHash: 'a'.repeat(64), apiKeyFile: 'k' };
    expect(bad({ agencies: [agency] }, { systems: [system] })).toContain('has its own /vxp account');
  });

  it('puts ledgers in SQLite by default, or in PostgreSQL for all hubs or one', () => {
    const plain = parseConfig(base, '/x', {});
    expect(plain.ok && [plain.value.ledger, plain.value.hubs[0]!.ledger]).toEqual([undefined, undefined]);
    const url = 'postgresql://lgsp@db:5432/lgsp';
    expect(parseConfig({ ...base, ledger: { url } }, '/x', {})).toMatchObject({ ok: true, value: { ledger: { url } } });
    expect(parseConfig({ ...base, hubs: [hub('000.00.00.H53', { ledger: { url } })] }, '/x', {}))
      .toMatchObject({ ok: true, value: { hubs: [{ ledger: { url } }] } });
    const c = parseConfig({ ...base, ledger: { url: 'mysql://db' } }, '/x', {});
    expect(c.ok ? '' : c.error.message).toContain('ledger.url: a postgresql:// URL');
  });

  it('reports every problem together', () => {
    const bad = {
      trust: { caFiles: [] },
      hubs: [hub('28.22.H17'), hub('000.00.05.H53', { parentId: '000.00.00.H99' }), hub('000.00.05.H53')],
      agencies: [{ code: '000.00.05.H53', name: 'x', apiKeyHash: 'nothex' }],
    };
    const c = parseConfig(bad, '/x', {});
    expect(c.ok).toBe(false);
    if (c.ok) return;
    expect(c.error.code).toBe('USAGE');
    for (const part of ['trust.caFiles', 'hubs.0.id', 'agencies.0.apiKeyHash']) expect(c.error.message).toContain(part);
  });

  it('refuses references to hubs that do not exist and duplicates', () => {
    const c = parseConfig({ ...base, hubs: [hub('000.00.00.H53'), hub('000.00.05.H53', { parentId: '000.00.00.H99' }), hub('000.00.05.H53')] }, '/x', {});
    expect(c.ok ? '' : c.error.message).toMatch(/no hub 000\.00\.00\.H99.*duplicate hub 000\.00\.05\.H53|duplicate hub 000\.00\.05\.H53.*no hub 000\.00\.00\.H99/);
  });

  // The link to the national axis (issue 17).
  it('reads a hub\'s upstream, its secret file relative to the configuration file, and allows one per network', () => {
    const upstream = { kind: 'vxp', endpoint: 'https://vxp.gov.vn/vxp', systemId: '000.00.00.H53', secretFile: 'secrets/national.secret' };
    const c = parseConfig({ ...base, hubs: [hub('000.00.00.H53', { upstream }), hub('000.00.05.H53')] }, '/etc/lgsp', {});
    expect(c).toMatchObject({ ok: true, value: { hubs: [{ upstream: { ...upstream, secretFile: '/etc/lgsp/secrets/national.secret', pollIntervalMs: 5000 } }, {}] } });
    const two = parseConfig({ ...base, hubs: [hub('000.00.00.H53', { upstream }), hub('000.00.05.H53', { upstream })] }, '/x', {});
    expect(two).toMatchObject({ ok: false, error: { code: 'USAGE', message: expect.stringContaining('hubs.1.upstream: hub 000.00.00.H53 already links') } });
    // Two networks in one file may each have their own.
    expect(parseConfig({ ...base, hubs: [hub('000.00.00.H53', { upstream }), hub('000.00.00.H41', { upstream })] }, '/x', {}).ok).toBe(true);
    const bad = parseConfig({ ...base, hubs: [hub('000.00.00.H53', { upstream: { ...upstream, kind: 'soap', endpoint: 'ftp://x' } })] }, '/x', {});
    expect(bad).toMatchObject({ ok: false, error: { message: expect.stringMatching(/hubs\.0\.upstream\.kind.*hubs\.0\.upstream\.endpoint/) } });
  });

  it('takes the nodes of one RabbitMQ cluster (amqpUrls), at the top or per hub, and which broker each hub uses', () => {
    const nodes = ['amqp://u:p@mq-1:5672', 'amqp://u:p@mq-2:5672', 'amqps://mq-3:5671'];
    const c = parseConfig({
      ...base, amqpUrls: nodes,
      hubs: [hub('000.00.00.H53'), hub('000.00.05.H53', { amqpUrl: 'amqp://other:5672' }), hub('000.07.05.H53', { amqpUrls: ['amqp://far-1', 'amqp://far-2'] })],
    }, '/x', {});
    if (!c.ok) throw new Error(c.error.message);
    expect(brokerNodes(c.value, '000.00.00.H53')).toEqual(nodes);
    expect(brokerNodes(c.value, '000.00.05.H53')).toEqual(['amqp://other:5672']);
    expect(brokerNodes(c.value, '000.07.05.H53')).toEqual(['amqp://far-1', 'amqp://far-2']);
    // The single broker still works, and is what a configuration without either names.
    const single = parseConfig({ ...base, amqpUrl: 'amqp://one:5672' }, '/x', {});
    expect(single.ok && brokerNodes(single.value, '000.00.00.H53')).toEqual(['amqp://one:5672']);
    const none = parseConfig(base, '/x', {});
    expect(none.ok && brokerNodes(none.value, '000.00.00.H53')).toEqual(['amqp://guest:guest@127.0.0.1:5672']);
  });

  it('refuses amqpUrl beside amqpUrls, an empty list and a URL that is not amqp(s)', () => {
    const usage = (message: RegExp) => ({ ok: false, error: { code: 'USAGE', message: expect.stringMatching(message) } });
    expect(parseConfig({ ...base, amqpUrl: 'amqp://a', amqpUrls: ['amqp://b'] }, '/x', {})).toMatchObject(usage(/amqpUrls: give amqpUrl .* or amqpUrls .*, not both/));
    expect(parseConfig({ ...base, hubs: [hub('000.00.00.H53', { amqpUrl: 'amqp://a', amqpUrls: ['amqp://b'] })] }, '/x', {})).toMatchObject(usage(/hubs\.0\.amqpUrls: give amqpUrl/));
    expect(parseConfig({ ...base, amqpUrls: [] }, '/x', {})).toMatchObject(usage(/amqpUrls/));
    expect(parseConfig({ ...base, amqpUrls: ['http://mq-1:15672'] }, '/x', {})).toMatchObject(usage(/amqpUrls\.0: an amqp:\/\/ or amqps:\/\/ URL/));
  });

  it('lets AMQP_URLS (comma-separated) or AMQP_URL replace the file\'s default broker, not a hub\'s own', () => {
    const file = { ...base, amqpUrls: ['amqp://file-1', 'amqp://file-2'], hubs: [hub('000.00.00.H53'), hub('000.00.05.H53', { amqpUrl: 'amqp://own' })] };
    const fromEnv = parseConfig(file, '/x', { AMQP_URLS: 'amqp://env-1:5672, amqp://env-2:5672' });
    if (!fromEnv.ok) throw new Error(fromEnv.error.message);
    expect(brokerNodes(fromEnv.value, '000.00.00.H53')).toEqual(['amqp://env-1:5672', 'amqp://env-2:5672']);
    expect(brokerNodes(fromEnv.value, '000.00.05.H53')).toEqual(['amqp://own']);
    const one = parseConfig(file, '/x', { AMQP_URL: 'amqp://env' });
    expect(one.ok && brokerNodes(one.value, '000.00.00.H53')).toEqual(['amqp://env']);
    expect(parseConfig(file, '/x', { AMQP_URLS: 'amqp://ok,mq-2:5672' }))
      .toMatchObject({ ok: false, error: { code: 'USAGE', message: 'AMQP_URLS: mq-2:5672 is not an amqp:// or amqps:// URL' } });
  });
});
