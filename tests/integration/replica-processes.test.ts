// Replicas as deployed: `lgsp start --config F --hub ID --port N`, two processes of the province
// hub on one PostgreSQL ledger. Each serves on the port it was given and answers for the hub; one
// leads the once-per-hub work, and when it is killed (-9) the other takes the lead within seconds.
// --port without exactly one --hub is a usage error.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDemoNetwork, type DemoNetwork } from '../../src/demo/network.js';
import { AMQP_URL, eventually, purge } from '../helpers/network.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { lgspAsync } from '../helpers/tools.js';
import { spawnLoggedHub, type LoggedHub } from '../helpers/hub-processes.js';
import { freePort } from '../helpers/free-port.js';

interface LogLine { msg?: string; url?: string; lead?: string; replica?: string }
type Replica = LoggedHub<LogLine>;

let dir: string;
let demo: DemoNetwork;
let db: TestDatabase;
let configFile: string;
const replicas: Replica[] = [];

function startReplica(hubId: string, port: number): Replica {
  const replica = spawnLoggedHub<LogLine>(configFile, hubId, ['--port', String(port)]);
  replicas.push(replica);
  return replica;
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lgsp-replicas-'));
  db = await createTestDatabase();
  demo = await buildDemoNetwork({ dir, province: `R${String(10 + Math.floor(Math.random() * 90))}`, ports: [0, 0, 0], amqpUrl: AMQP_URL, now: new Date() });
  configFile = path.join(dir, 'config.json');
  fs.writeFileSync(configFile, JSON.stringify({ ...demo.config, ledger: { url: db.url } }));
}, 60_000);
afterAll(async () => {
  for (const r of replicas) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
  await Promise.all(replicas.map((r) => r.exit));
  await purge(demo);
  await db?.drop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('lgsp start --hub ID --port N', () => {
  it('refuses --port without exactly one --hub', async () => {
    for (const args of [['--port', '8080'], ['--port', '8080', '--hub', 'a', '--hub', 'b'], ['--port', 'eighty', '--hub', 'a']]) {
      const r = await lgspAsync({}, 'start', '--config', 'no-such.json', ...args, '--json');
      expect(r.status, args.join(' ')).toBe(2);
      expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, code: 'USAGE', message: expect.stringContaining('--port') });
    }
  });

  it('runs two replicas of a hub on the ports given; both answer, and the lead moves when its holder is killed', async () => {
    const hubId = demo.hubs[0]!.id;
    const ports = [await freePort(), await freePort()];
    const [a, b] = ports.map((p) => startReplica(hubId, p)) as [Replica, Replica];
    const started = await Promise.all([a.started, b.started]);
    expect(started.map((s) => new URL(s.url!).port)).toEqual(ports.map(String));
    expect(started[0]!.replica).not.toBe(started[1]!.replica);
    for (const s of started) {
      const res = await fetch(`${s.url}/api/admin/hub-certs`, { headers: { authorization: `Bearer ${demo.adminToken}` } });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { hub: string }).hub).toBe(hubId);
    }
    const leads = (r: Replica) => r.lines.filter((l) => l.msg === 'took the lead').length;
    const [leader, follower] = leads(a) === 1 ? [a, b] : [b, a];
    expect([leads(leader), leads(follower)]).toEqual([1, 0]);

    const killedAt = Date.now();
    leader.child.kill('SIGKILL');
    await eventually(async () => (leads(follower) === 1 ? true : undefined), 'the other replica takes the lead', 15_000);
    expect(Date.now() - killedAt).toBeLessThan(10_000);
    const res = await fetch(`${(await follower.started).url}/readyz`);
    expect(res.status).toBe(200);
    follower.child.kill('SIGTERM');
    expect(await follower.exit).toBe(0);
  }, 60_000);
});
