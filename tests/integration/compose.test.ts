// docker-compose.yml as docker-compose reads it (the real tool; no Docker engine is needed to
// render a file): it is valid in its default form and with the ha profile, it has no default
// credential, it publishes no broker port, and in both the hubs' broker users are made per hub
// by `lgsp broker users` (no user shared by the hubs), the hubs holding the secret their
// passwords derive from and no broker credential of their own.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/tools.js';

const PASSWORDS = { LGSP_BROKER_ADMIN_PASSWORD: 'admin-secret', LGSP_BROKER_USER_SECRET: 'hub-users-secret-0123456789' };

const render = (env: Record<string, string>, profile?: string) => {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('LGSP_')));
  const r = spawnSync('docker-compose', [...(profile ? ['--profile', profile] : []), 'config'], { cwd: ROOT, encoding: 'utf8', env: { ...clean, ...env } });
  if (r.error) throw r.error;
  return r;
};

/**
 * The rendered services, each as its block of YAML text and its profiles. docker-compose 1.x
 * renders every service with its `profiles`; 2.x only the active ones: both read the same here.
 */
function services(rendered: string): Map<string, { text: string; profiles: string[] }> {
  const body = rendered.split(/^services:\n/m)[1]!.split(/^\S/m)[0]!;
  const out = new Map<string, { text: string; profiles: string[] }>();
  for (const block of body.split(/^(?= {2}[\w-]+:\n)/m).filter((b) => b.trim() !== '')) {
    const name = /^ {2}([\w-]+):/.exec(block)![1]!;
    const profiles = /^ {4}profiles:\n((?: {4}- .+\n)+)/m.exec(block)?.[1]!.split('\n').filter(Boolean).map((l) => l.replace(/^ {4}- /, '')) ?? [];
    out.set(name, { text: block, profiles });
  }
  return out;
}

const published = (text: string) => [...text.matchAll(/published: "?(\d+)"?/g)].map((m) => Number(m[1])).sort();

describe('docker-compose.yml', () => {
  it('will not render without the administrator\'s password and the hubs\' secret: nothing has a default credential', () => {
    for (const missing of Object.keys(PASSWORDS)) {
      const r = render(Object.fromEntries(Object.entries(PASSWORDS).filter(([k]) => k !== missing)));
      expect(r.status, missing).not.toBe(0);
      expect(r.stderr).toContain(`set ${missing}`);
    }
  });

  it('makes a broker user per hub with lgsp broker users before the hubs start, and none shared by them', () => {
    const r = render(PASSWORDS);
    expect(r.status, r.stderr).toBe(0);
    const all = services(r.stdout);
    const step = all.get('broker-users')!.text;
    expect(step).toContain('context: '); // the hubs' image, built here
    expect(step).toMatch(/command:\n {4}- broker\n {4}- users\n {4}- --config\n {4}- \/config\/lgsp\.config\.json\n/);
    expect(step).toContain('LGSP_BROKER_ADMIN_URL: amqp://lgsp-admin@rabbitmq:5672');
    expect(step).toContain('RABBITMQ_MANAGEMENT_URL: http://lgsp-admin@rabbitmq:15672');
    expect(step).toContain('LGSP_BROKER_ADMIN_PASSWORD: admin-secret');
    expect(step).toContain('LGSP_BROKER_USER_SECRET: hub-users-secret-0123456789');
    expect(step).toContain('AMQP_URL: amqp://rabbitmq:5672\n');
    const hubs = all.get('hubs')!.text;
    expect(hubs).toMatch(/depends_on:\n {6}broker-users:\n {8}condition: service_completed_successfully/);
    // The hubs hold the secret and no credential: each connects as lgsp-<hub id>.
    expect(hubs).toContain('LGSP_BROKER_USER_SECRET: hub-users-secret-0123456789');
    expect(hubs).toContain('AMQP_URL: amqp://rabbitmq:5672\n');
    expect(hubs).not.toContain('admin-secret');
    expect(r.stdout).not.toMatch(/lgsp-hubs|HUB_PASSWORD|curl/);
  });

  it('is valid, publishes only the hubs\' HTTP ports and never the broker\'s, and has no guest user', () => {
    const r = render(PASSWORDS);
    expect(r.status, r.stderr).toBe(0);
    const simple = [...services(r.stdout).values()].filter((s) => s.profiles.length === 0);
    expect(simple.flatMap((s) => published(s.text))).toEqual([8701, 8702, 8703]);
    expect(r.stdout).not.toMatch(/guest/);
  });

  it('has an ha profile: three clustered RabbitMQ nodes, PostgreSQL, two replicas of each hub and a load balancer in front', () => {
    const r = render({ ...PASSWORDS, LGSP_ERLANG_COOKIE: 'cookie-secret', LGSP_POSTGRES_PASSWORD: 'pg-secret' }, 'ha');
    expect(r.status, r.stderr).toBe(0);
    const ha = new Map([...services(r.stdout)].filter(([, s]) => s.profiles.includes('ha')));
    expect([...ha.keys()].sort()).toEqual([
      'broker-users-ha', 'hub-commune-a', 'hub-commune-b', 'hub-district-a', 'hub-district-b', 'hub-province-a', 'hub-province-b',
      'lb', 'postgres', 'rabbitmq-1', 'rabbitmq-2', 'rabbitmq-3',
    ]);
    // Only the load balancer is reachable from outside: no broker, database or replica port.
    for (const [name, s] of ha) expect(published(s.text), name).toEqual(name === 'lb' ? [8701, 8702, 8703] : []);
    expect(r.stdout).not.toMatch(/guest/);

    for (const n of [1, 2, 3]) {
      const node = ha.get(`rabbitmq-${n}`)!.text;
      expect(node).toContain(`hostname: rabbitmq-${n}`);
      expect(node).toContain('20-lgsp-cluster.conf');
      expect(node).toContain('LGSP_ERLANG_COOKIE: cookie-secret');
    }
    const cluster = fs.readFileSync(path.join(ROOT, 'deploy/ha/rabbitmq-cluster.conf'), 'utf8');
    for (const n of [1, 2, 3]) expect(cluster).toContain(`classic_config.nodes.${n} = rabbit@rabbitmq-${n}`);

    // Each hub: two replicas, with `--hub ID --port N`, on the three nodes and the shared ledger.
    const replicas = [...ha].filter(([name]) => name.startsWith('hub-'));
    const hubOf = (text: string) => /- --hub\n {4}- (\S+)\n {4}- --port\n {4}- '?(\d+)'?/.exec(text)!.slice(1, 3).join(':');
    const perHub = new Map<string, string[]>();
    for (const [name, s] of replicas) perHub.set(hubOf(s.text), [...(perHub.get(hubOf(s.text)) ?? []), name]);
    expect([...perHub.keys()].sort()).toEqual(['000.00.00.H41:8701', '000.00.05.H41:8702', '000.07.05.H41:8703']);
    for (const names of perHub.values()) expect(names).toHaveLength(2);
    for (const [name, s] of replicas) {
      expect(s.text, name).toMatch(/AMQP_URLS: (amqp:\/\/rabbitmq-\d:5672,?){3}\n/);
      expect(s.text, name).toContain('LGSP_BROKER_USER_SECRET: hub-users-secret-0123456789');
      expect(s.text, name).not.toContain('admin-secret');
      expect(s.text, name).toMatch(/depends_on:\n {6}broker-users-ha:\n {8}condition: service_completed_successfully/);
      expect(s.text).toContain('PGPASSWORD: pg-secret');
    }
    // Their users, per hub of lgsp.ha.json, made on the cluster by lgsp broker users; none shared.
    const step = ha.get('broker-users-ha')!.text;
    expect(step).toMatch(/command:\n {4}- broker\n {4}- users\n {4}- --config\n {4}- \/config\/lgsp\.ha\.json\n/);
    expect(step).toContain('LGSP_BROKER_ADMIN_URL: amqp://lgsp-admin@rabbitmq-1:5672');
    expect(step).toContain('LGSP_BROKER_USER_SECRET: hub-users-secret-0123456789');
    expect(step).toContain('AMQP_URLS: amqp://rabbitmq-1:5672,amqp://rabbitmq-2:5672,amqp://rabbitmq-3:5672\n');
    expect(r.stdout).not.toMatch(/lgsp-hubs|HUB_PASSWORD|curl/);

    // The load balancer's upstreams are exactly the replicas, on their hub's port.
    const nginx = fs.readFileSync(path.join(ROOT, 'deploy/ha/nginx.conf'), 'utf8');
    const upstreams = [...nginx.matchAll(/server (hub-[\w-]+):(\d+)/g)].map((m) => `${m[1]}:${m[2]}`).sort();
    expect(upstreams).toEqual(replicas.map(([name, s]) => `${name}:${hubOf(s.text).split(':')[1]}`).sort());
  });

  it('renames the ha profile\'s hubs from the environment', () => {
    const r = render({ ...PASSWORDS, LGSP_HA_PROVINCE_HUB: '000.00.00.H53' }, 'ha');
    expect(r.status, r.stderr).toBe(0);
    expect(services(r.stdout).get('hub-province-b')!.text).toContain('- 000.00.00.H53');
  });
});
