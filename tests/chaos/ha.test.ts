// High availability under faults (issue 18): two replica processes of every hub
// (`lgsp start --hub ID --port N`) on a 3-node RabbitMQ cluster and a PostgreSQL ledger, both
// private to this test (the system broker and PostgreSQL are never touched). Documents go both
// ways through both replicas of the commune and province hubs, the recipients read and
// acknowledge them, and in mid-run: kill -9 of one replica of each hub, kill -9 of the RabbitMQ
// node leading the queues in use, a stop and start of PostgreSQL. Clients reach a hub the way a
// load balancer would: their replica first, the other when it does not answer. Nothing accepted
// is lost, no mailbox holds a duplicate, every receipt comes back `acked`, and a replica started
// afterwards serves the same ledger as the survivor.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { buildDemoNetwork, type DemoNetwork } from '../../src/demo/network.js';
import { ledgerSchemaOf } from '../../src/ledger/postgres.js';
import { makeAgent, type Agent } from '../helpers/agent.js';
import { startLoad, type Flow } from '../helpers/chaos-load.js';
import { recordChaos, scaled } from '../helpers/chaos-report.js';
import { HA_RUN } from './summary.js';
import { freePort } from '../helpers/free-port.js';
import { absorbedAt, receiptsArrived, startMailboxReaders } from '../helpers/mailbox-count.js';
import { eventually } from '../helpers/network.js';
import { startPrivatePostgres, type PrivatePostgres } from '../helpers/private-postgres.js';
import { canRunCluster, startRabbitCluster, type RabbitCluster } from '../helpers/rabbit-cluster.js';

const CLI = fileURLToPath(new URL('../../dist/src/cli/lgsp.js', import.meta.url));
const PACKAGES = 400;
const POSTGRES_DOWN_MS = 4_000;

const runnable = await canRunCluster();

interface Replica { hubId: string; url: string; child: ChildProcess; exit: Promise<void>; log: string }

let cluster: RabbitCluster | undefined;
let postgres: PrivatePostgres | undefined;
let dir: string | undefined;
let net: DemoNetwork;
let configFile: string;
const replicas: Replica[] = [];
const told = new Set<ChildProcess>();
const crashes: string[] = [];

/** Starts one replica of a hub on a port of its own and waits until it says it is ready. */
async function startReplica(hubId: string): Promise<Replica> {
  const port = await freePort();
  const log = path.join(dir!, `replica-${hubId}-${port}.log`);
  const fd = fs.openSync(log, 'a');
  // The configuration names the cluster's nodes itself: AMQP_URL would override it.
  const { AMQP_URL: _ignored, ...inherited } = process.env;
  const child = spawn(process.execPath, [CLI, 'start', '--config', configFile, '--hub', hubId, '--port', String(port), '--log-level', 'warn'], {
    stdio: ['ignore', fd, fd], env: inherited,
  });
  fs.closeSync(fd);
  const tail = () => fs.readFileSync(log, 'utf8').split('\n').slice(-60).join('\n');
  let died = false;
  const exit = new Promise<void>((resolve) => child.once('exit', (code, signal) => {
    died = true;
    if (!told.has(child)) crashes.push(`replica ${hubId}:${port} exited (code ${code}, signal ${signal}):\n${tail()}`);
    resolve();
  }));
  const replica = { hubId, url: `http://127.0.0.1:${port}`, child, exit, log };
  replicas.push(replica);
  await eventually(async () => {
    if (died) throw new Error(`replica ${hubId}:${port} exited while starting:\n${tail()}`);
    return (await fetch(`${replica.url}/readyz`).then((r) => r.ok, () => false)) ? true : undefined;
  }, `replica ${hubId}:${port} ready`, 60_000);
  return replica;
}

async function kill9(replica: Replica): Promise<void> {
  told.add(replica.child);
  replica.child.kill('SIGKILL');
  await replica.exit;
}

/**
 * An agency's document system behind a load balancer: each call goes to the first replica that
 * answers, starting with `first`, so a dead replica only costs a retry on the next one.
 */
function balanced(prefix: string, hubReplicas: readonly Replica[], first: number): Agent {
  const agency = net.agencies.find((a) => a.code.startsWith(prefix))!;
  const order = hubReplicas.map((_, i) => hubReplicas[(first + i) % hubReplicas.length]!);
  const agents = order.map((r) => makeAgent(agency, r.url));
  const request: Agent['request'] = async (...args) => {
    let last: Error | undefined;
    for (const a of agents) {
      try {
        return await a.request(...args);
      } catch (err) {
        if ((err as Error).name !== 'TypeError') throw err; // fetch failed: this replica is down
        last = err as Error;
      }
    }
    throw last!;
  };
  return {
    ...agents[0]!, request,
    submit: async (bytes) => { const r = await request('POST', '/api/v1/edocs', bytes); return { status: r.status, json: r.json }; },
  };
}

const QueueRow = z.object({ name: z.string(), leader: z.string().optional() });
const MailboxRow = z.object({ doc_id: z.string(), agency: z.string(), n: z.coerce.number() });

/** Every hub's mailbox rows per (document, agency), read straight from the PostgreSQL ledger. */
async function mailboxRows(): Promise<z.output<typeof MailboxRow>[]> {
  const client = new pg.Client({ connectionString: postgres!.url });
  await client.connect();
  try {
    const rows: z.output<typeof MailboxRow>[] = [];
    for (const hub of net.hubs) {
      const result = await client.query(`SELECT doc_id, agency, count(*) AS n FROM ${ledgerSchemaOf(hub.id)}.mailbox GROUP BY doc_id, agency`);
      rows.push(...result.rows.map((r) => MailboxRow.parse(r)));
    }
    return rows;
  } finally {
    await client.end();
  }
}

describe.runIf(runnable)('two replicas of every hub on a RabbitMQ cluster and PostgreSQL, under faults', () => {
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lgsp-chaos-ha-'));
    cluster = await startRabbitCluster();
    postgres = await startPrivatePostgres();
    const province = `H${String(10 + Math.floor(Math.random() * 90))}`;
    net = await buildDemoNetwork({ dir, province, ports: [0, 0, 0], amqpUrl: cluster.amqpUrls[0]!, now: new Date() });
    const { amqpUrl: _single, ...config } = net.config as Record<string, unknown>;
    configFile = path.join(dir, 'config.json');
    fs.writeFileSync(configFile, JSON.stringify({ ...config, amqpUrls: cluster.amqpUrls, ledger: { url: postgres.url } }));
  }, 120_000);

  afterAll(async () => {
    // Everything goes, whatever failed: the replicas, the cluster (with the queues), PostgreSQL.
    for (const r of replicas) told.add(r.child);
    for (const r of replicas) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
    await Promise.all(replicas.map((r) => r.exit));
    for (const c of crashes) console.error(c);
    const steps = [() => cluster?.stop(), () => postgres?.destroy(), () => dir && fs.rmSync(dir, { recursive: true, force: true })];
    const failures: unknown[] = [];
    for (const step of steps) await Promise.resolve().then(step).catch((err: unknown) => failures.push(err));
    if (failures.length > 0) throw failures[0];
  }, 120_000);

  it('loses nothing, duplicates nothing, every receipt comes back, and a new replica serves the same ledger', async () => {
    const startedAt = Date.now();
    const [provinceId, districtId, communeId] = net.hubs.map((h) => h.id) as [string, string, string];
    const byHub = new Map<string, Replica[]>();
    for (const id of [provinceId, districtId, communeId]) byHub.set(id, [await startReplica(id), await startReplica(id)]);
    const of = (hubId: string) => byHub.get(hubId)!;
    const at = (prefix: string, first: number) => {
      const hubId = net.agencies.find((a) => a.code.startsWith(prefix))!.hubId;
      return balanced(prefix, of(hubId), first);
    };

    // Senders alternate between both replicas of their hub; readers are spread over both too.
    const commune = at('000.07.05.', 0), school = at('001.07.05.', 1), district = at('000.00.05.', 0), ward = at('000.08.05.', 1), department = at('000.00.12.', 1);
    const flows: Flow[] = [
      { from: at('000.07.05.', 0), to: [department, ward, school] }, { from: at('000.00.12.', 0), to: [commune, district] },
      { from: at('000.07.05.', 1), to: [department, ward, school] }, { from: at('000.00.12.', 1), to: [commune, district] },
    ];
    const readers = startMailboxReaders([commune, school, district, ward, department]);
    const count = scaled(PACKAGES, 40);
    let failed = false; // ends the load at once, which would otherwise retry until its timeout
    const load = startLoad({ flows, count, ratePerSec: 10, abortIf: () => crashes[0] ?? (failed ? 'the run failed' : undefined) });

    const faults: Record<string, number> = {};
    try {
      await load.reached(Math.floor(count / 4));
      for (const id of [provinceId, districtId, communeId]) await kill9(of(id)[1]!);
      faults['replica-kill'] = 3;

      await load.reached(Math.floor(count / 2));
      const ingress = `lgsp.${provinceId}.ingress`;
      const queues = z.array(QueueRow).parse(JSON.parse(await cluster!.ctl('rabbitmqctl', 'n2@localhost', 'list_queues', 'name', 'leader', '--formatter', 'json')));
      const leader = queues.find((q) => q.name === ingress)?.leader;
      expect(leader, `the leader of ${ingress}`).toBeDefined();
      await cluster!.kill(leader!);
      faults['rabbit-node-kill'] = 1;

      await load.reached(Math.floor((count * 3) / 4));
      postgres!.stop();
      await new Promise((resolve) => setTimeout(resolve, POSTGRES_DOWN_MS));
      postgres!.start();
      faults['postgres-restart'] = 1;
    } catch (err) {
      failed = true;
      await readers.stop().catch(() => undefined); // the injection failed: its error is the one to see
      await load.done.catch(() => undefined);
      throw err;
    }

    const accepted = await load.done;
    const unread = await readers.complete(accepted, 120_000, () => crashes[0]).then(() => undefined, (err: Error) => err);
    await readers.stop();
    const owed = new Set(accepted.flatMap((a) => a.recipients.map((r) => `${a.docId} ${r}`)));
    const rows = await mailboxRows();
    const present = new Set(rows.map((r) => `${r.doc_id} ${r.agency}`));
    const missing = [...owed].filter((k) => !present.has(k));
    const survivors = [provinceId, districtId, communeId].map((id) => of(id)[0]!);
    const tally = {
      sent: accepted.length, expected: owed.size, lost: missing.length,
      duplicates: readers.duplicates.length + rows.reduce((sum, r) => sum + r.n - 1, 0),
      unexpected: rows.filter((r) => !owed.has(`${r.doc_id} ${r.agency}`)).length,
    };
    recordChaos({ run: HA_RUN, ...tally, faults, absorbed: await absorbedAt(survivors.map((r) => r.url), net.adminToken) });
    expect(crashes).toEqual([]);
    expect(missing.slice(0, 10)).toEqual([]);
    expect(tally).toMatchObject({ sent: count, lost: 0, duplicates: 0, unexpected: 0 });
    expect(unread).toBeUndefined();

    // Every sender's sent list converges to acked, through the same faults.
    await receiptsArrived([commune, department], accepted, ['acked'], 60_000);

    // A replica started now, on the cluster's surviving nodes, serves the ledger the survivor serves.
    for (const hubId of [provinceId, districtId, communeId]) {
      const fresh = await startReplica(hubId);
      for (const agency of [commune, school, district, ward, department].map((a) => a.agency).filter((a) => a.hubId === hubId)) {
        for (const list of ['sent', 'received']) {
          const [old, now] = await Promise.all([of(hubId)[0]!, fresh].map((r) => makeAgent(agency, r.url).request('GET', `/api/v1/edocs/${list}?limit=1000`)));
          expect([old!.status, now!.status], `${list} of ${agency.code}`).toEqual([200, 200]);
          expect(now!.json, `${list} of ${agency.code} on a new replica`).toEqual(old!.json);
        }
      }
    }
    const sentByCommune = (await makeAgent(commune.agency, of(communeId)[0]!.url).request('GET', '/api/v1/edocs/sent?limit=1000')).json.items as unknown[];
    expect(sentByCommune.length).toBe(accepted.filter((a) => a.sender === commune.agency.code).length);
    console.log(`chaos ha: ${JSON.stringify({ ...tally, faults, retries: load.retries, seconds: Math.round((Date.now() - startedAt) / 1000) })}`);
  });
});
