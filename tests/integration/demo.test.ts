// `lgsp demo --once` as a newcomer runs it: three hubs, the worked example, the manifest.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { deleteNetworkQueues } from '../../src/demo/network.js';
import { brokerUsersFor, deleteBrokerUsers } from '../../src/demo/broker-users.js';
import { AMQP_URL } from '../helpers/network.js';
import { lgsp, lgspAsync, lgspJson, tempDir, type Run } from '../helpers/tools.js';
import { rabbitmqctl } from '../helpers/broker-control.js';

const tmp = tempDir();
// The demo leaves its queues and broker users for the next start to reuse; a test removes them itself.
let hubs: { id: string; parentId: string | null }[] = [];
// Each network's hubs (the default demo's one network; --national's three).
let networks: { id: string; parentId: string | null }[][] = [];
afterAll(async () => {
  // Every run has ended (a test that failed early did not wait for its own).
  await Promise.all(Object.values(runs));
  for (const net of [hubs, ...networks]) {
    const demoHubs = net.map((h) => ({ ...h, name: h.id, port: 0 }));
    if (demoHubs.length === 0) continue;
    await deleteNetworkQueues(AMQP_URL, { hubs: demoHubs });
    if (madeUsers) deleteBrokerUsers(brokerUsersFor(demoHubs));
  }
  tmp.cleanup();
});
let madeUsers = false;

/** agencies.json, of any network. */
const NetworkManifest = z.object({
  hubs: z.array(z.object({ id: z.string(), parentId: z.string().nullable(), url: z.string().url() })).min(1),
  agencies: z.array(z.object({ code: z.string(), name: z.string(), hubId: z.string(), apiKey: z.string(), keyFile: z.string(), certFile: z.string() })).min(1),
  caFile: z.string(), caKeyFile: z.string(), adminToken: z.string(),
});
const Manifest = NetworkManifest.extend({ hubs: NetworkManifest.shape.hubs.length(3), agencies: NetworkManifest.shape.agencies.min(3) });

// The three demos run at once, started with the file (each is a minute's child process, mostly
// waiting on its hubs); each test then reads its own run. Their provinces and ports differ.
const threeTiers = { dir: path.join(tmp.dir, 'demo'), province: `D${10 + Math.floor(Math.random() * 90)}` };
const twoTiers = { dir: path.join(tmp.dir, 'demo2'), province: `E${10 + Math.floor(Math.random() * 45)}` };
const nationalNo = 55 + Math.floor(Math.random() * 44);
const national = { dir: path.join(tmp.dir, 'national'), a: `E${nationalNo}`, b: `E${nationalNo + 1}` };
let runs: { threeTiers: Promise<Run>; twoTiers: Promise<Run>; national: Promise<Run> };
beforeAll(() => {
  runs = {
    threeTiers: lgspAsync({}, 'demo', '--once', '--dir', threeTiers.dir, '--port', '0', '--province', threeTiers.province),
    twoTiers: lgspAsync({}, 'demo', '--once', '--tiers', '2', '--dir', twoTiers.dir, '--port', '0', '--province', twoTiers.province),
    national: lgspAsync({}, 'demo', '--national', '--once', '--dir', national.dir, '--port', '0', '--province', national.a, '--other-province', national.b),
  };
});

describe('lgsp demo', () => {
  it('runs the worked example through three hubs and writes agencies.json', async () => {
    const { dir, province } = threeTiers;
    const [p, d, c] = ['000.00.00.', '000.00.05.', '000.07.05.'].map((x) => `${x}${province}`) as [string, string, string];
    hubs = [{ id: p, parentId: null }, { id: d, parentId: p }, { id: c, parentId: d }];
    const r = await runs.threeTiers;
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('byte-identical to what was signed');
    // Where rabbitmqctl can make them (it can wherever this suite's broker-users tests run), a user per hub.
    madeUsers = r.stdout.includes('each hub on its own broker user');
    expect(madeUsers || r.stdout.includes('cannot create broker users with rabbitmqctl')).toBe(true);
    expect(r.stdout).toMatch(/"delivery":"acked","status":"03"/);
    expect(r.stdout.match(/hub \S+ {2}accepted {2}/g)).toHaveLength(3);
    const manifest = Manifest.parse(JSON.parse(fs.readFileSync(path.join(dir, 'agencies.json'), 'utf8')));
    expect(manifest.hubs.map((h) => ({ id: h.id, parentId: h.parentId }))).toEqual(hubs);
    for (const a of manifest.agencies) expect(fs.existsSync(path.resolve(a.certFile))).toBe(true);
  });

  it('runs the worked example on two tiers (a province hub and two commune hubs, no district)', async () => {
    const { dir, province } = twoTiers;
    const p = `000.00.00.${province}`;
    const twoTierHubs = [{ id: p, parentId: null }, { id: `000.07.00.${province}`, parentId: p }, { id: `000.08.00.${province}`, parentId: p }];
    try {
      const r = await runs.twoTiers;
      expect(r.status, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toContain('byte-identical to what was signed');
      expect(r.stdout).toMatch(/"delivery":"acked","status":"03"/);
      // Commune hub, then province hub: two hops, no district.
      expect(r.stdout.match(/hub \S+ {2}accepted {2}/g)).toHaveLength(2);
      const manifest = Manifest.parse(JSON.parse(fs.readFileSync(path.join(dir, 'agencies.json'), 'utf8')));
      expect(manifest.hubs.map((h) => ({ id: h.id, parentId: h.parentId }))).toEqual(twoTierHubs);
      expect(lgsp('demo', '--tiers', '4').status).toBe(2);
    } finally {
      const demoHubs = twoTierHubs.map((h) => ({ ...h, name: h.id, port: 0 }));
      await deleteNetworkQueues(AMQP_URL, { hubs: demoHubs });
      if (madeUsers) deleteBrokerUsers(brokerUsersFor(demoHubs));
    }
  });

  it('leaves nothing of its network on the broker once its queues are deleted (queues and exchanges)', async () => {
    const province = hubs[0]!.id.slice('000.00.00.'.length);
    const ours = async (what: 'list_queues' | 'list_exchanges') => (await rabbitmqctl(what, '-q', 'name')).split('\n').filter((l) => l.endsWith(province) || l.includes(`.${province}.`));
    expect(await ours('list_exchanges')).toContain(`lgsp.${hubs[0]!.id}.broadcast`);
    await deleteNetworkQueues(AMQP_URL, { hubs: hubs.map((h) => ({ ...h, name: h.id, port: 0 })) });
    expect([...await ours('list_queues'), ...await ours('list_exchanges')]).toEqual([]);
  });
});

describe('lgsp demo --national', () => {
  it('refuses one province given twice, or too high a port, with USAGE, before touching --dir', () => {
    const dir = path.join(tmp.dir, 'kept');
    fs.mkdirSync(dir);
    expect(lgspJson('demo', '--national', '--dir', dir, '--province', 'H41', '--other-province', 'H41')).toMatchObject({ status: 2, json: { code: 'USAGE', message: expect.stringContaining('--other-province') } });
    expect(lgspJson('demo', '--national', '--dir', dir, '--port', '65530')).toMatchObject({ status: 2, json: { code: 'USAGE', message: expect.stringContaining('65529') } });
    expect(fs.existsSync(dir)).toBe(true);
  });

  it('runs our hub as the national axis: commune → ministry → 03, commune → commune of a two-tier province → 03, each trace', async () => {
    const { dir, a, b } = national;
    const [pa, da, ca, pb, cb, cb2] = [`000.00.00.${a}`, `000.00.05.${a}`, `000.07.05.${a}`, `000.00.00.${b}`, `000.07.00.${b}`, `000.08.00.${b}`];
    // Three networks: the axis alone, a province in three tiers, one in two (known before the run, to be removed after it whatever happens).
    networks = [[{ id: '000.00.00.G01', parentId: null }], [{ id: pa, parentId: null }, { id: da, parentId: pa }, { id: ca, parentId: da }], [{ id: pb, parentId: null }, { id: cb, parentId: pb }, { id: cb2, parentId: pb }]];
    const r = await runs.national;
    madeUsers = madeUsers || r.stdout.includes('each hub on its own broker user');
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const manifests = ['national', a, b].map((sub) => NetworkManifest.parse(JSON.parse(fs.readFileSync(path.join(dir, sub, 'agencies.json'), 'utf8'))));
    expect(manifests.map((m) => m.hubs.map((h) => ({ id: h.id, parentId: h.parentId })))).toEqual(networks);
    expect(r.stdout).toContain(`province ${b}, 2 tiers, linked up to the axis`);
    expect(r.stdout.match(/routed "national"/g)).toHaveLength(2);
    expect(r.stdout.match(/byte-identical to what was signed/g)).toHaveLength(2);
    expect(r.stdout).toContain('[{"organId":"000.00.00.G22","delivery":"delivered","status":"03"}]');
    expect(r.stdout).toContain(`[{"organId":"${cb}","delivery":"delivered","status":"03"}]`);
    // Each trace: the sender's three hubs and the axis's DocId; the axis and the far province bind the commune by its CA.
    expect(r.stdout.match(/hub national {2}accepted {2}national:[0-9a-f]{32}/g)).toHaveLength(2);
    expect(r.stdout.match(/hub 000\.00\.00\.G01 {2}accepted .*binding:ca-subject-code/g)).toHaveLength(2);
    for (const hub of [pb, cb]) expect(r.stdout).toMatch(new RegExp(`hub ${hub.replaceAll('.', '\\.')}  accepted .*binding:ca-subject-code`));
  });
});
