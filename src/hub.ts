// The composition root of one hub: builds its parts from the configuration (trust, registry,
// seal, ledger, bus, pipeline, HTTP), connects them, and returns a handle whose close() stops
// them in reverse order of opening. Wiring only: the domain logic lives in the modules it
// connects. A part that fails to open closes those opened before it, and start returns the error.
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { fail, ok, type Result } from './errors.js';
import type { Config, HubConfig } from './config.js';
import { resourceStack, type ResourceStack } from './resource-stack.js';
import { buildRegistry, hubAncestry, neighboursOf } from './agency/registry.js';
import { checkHop, type HopContext } from './hop/check.js';
import { loadTrustMaterial } from './trust/material.js';
import { openLedger } from './ledger/open.js';
import { openHubBus, startHubLanes } from './bus/hub-bus.js';
import { deadLetterer, hopHandler, hubOutlet } from './bus/outlet.js';
import { deadLetterChannel, replayer } from './bus/dead-letters.js';
import { stringHeaders } from './bus/message.js';
import { readJournal, takenMarks } from './bus/journal.js';
import { hubQueues } from './bus/topology.js';
import { queueStats } from './bus/queue-stats.js';
import { broadcaster, trustQueue } from './bus/broadcast.js';
import { createHopCheckPool } from './pipeline/check-pool.js';
import { createPipeline, type PipelineDeps } from './pipeline/hop-pipeline.js';
import { createServer, type ServerDeps } from './http/server.js';
import { loadAgencySecrets } from './http/sdk-auth.js';
import { createHubMetrics } from './metrics/hub-metrics.js';
import { deadLetterActions } from './admin/dead-letters.js';
import { adminConsole, type ConsoleDeps } from './console/console.js';
import { createSealRotation, openSeal } from './admin/seal-rotation.js';
import { createTrustState, seedTrustStore, type TrustState } from './admin/trust-state.js';
import { createTrustLane } from './admin/trust-lane.js';
import { agencyDirectory } from './admin/agency-directory.js';
import { directoryActions } from './admin/directory-actions.js';
import { startExpiryMonitor, type Webhook } from './admin/expiry-monitor.js';
import { watchedCertificates } from './admin/expiry.js';
import { startCrlFetcher } from './admin/crl-fetcher.js';

export interface RunningHub {
  id: string;
  url: string;
  close(): Promise<void>;
}

export interface HubEnv {
  log: Logger;
  clock: () => Date;
  /** Test hook (the chaos suite; `lgsp start` sets it from LGSP_FAULT only): after each mailbox write, before the ack. */
  afterMailboxWrite?: () => void;
}

const PREFETCH = 64;
const ROTATION_TIMEOUT_MS = 30_000;

export async function startHub(config: Readonly<Config>, hub: HubConfig, env: HubEnv): Promise<Result<RunningHub>> {
  const log = env.log.child({ hub: hub.id });
  const opened = resourceStack((err) => log.error({ err: err.message }, 'a part of the hub did not close cleanly'));
  try {
    const started = await compose(config, hub, env, log, opened);
    if (!started.ok) await opened.close();
    return started;
  } catch (err) {
    await opened.close();
    return fail('UNAVAILABLE', `hub ${hub.id} could not start: ${(err as Error).message}`);
  }
}

async function compose(config: Readonly<Config>, hub: HubConfig, env: HubEnv, log: Logger, opened: ResourceStack): Promise<Result<RunningHub>> {
  const { clock } = env;
  const part = (component: string) => log.child({ component });
  const registry = buildRegistry(config);
  const material = await loadTrustMaterial({ ...config.trust, agencies: config.agencies, hubs: config.hubs }, (file) => fs.readFileSync(file, 'utf8'));
  if (!material.ok) return material;
  // The API keys of this hub's agencies that may sign for the SDK dialect (/vxp).
  const sdkSecrets = loadAgencySecrets(config.agencies, (code) => registry.agencies.get(code)?.hubId === hub.id);
  if (!sdkSecrets.ok) return sdkSecrets;
  // The network is named by its top hub: trust changes are broadcast within it only.
  const networkRoot = hubAncestry(registry, hub.id).at(-1)!;
  const neighbours = neighboursOf(registry, hub.id);

  const ledgerOpened = await openLedger(config, hub, clock, part('ledger'));
  if (!ledgerOpened.ok) return ledgerOpened;
  const ledger = opened.push(ledgerOpened.value, (l) => l.close());
  await seedTrustStore(ledger, material.value, clock());
  const trust = await createTrustState({ ledger, log: part('trust'), failClosed: config.trust.crlPolicy === 'fail-closed' });
  const seal = await openSeal(ledger, hub.id, { keyFile: hub.sealKeyFile, cert: material.value.hubCertificates.get(hub.id)! });
  if (!seal.ok) return seal;
  const { signer } = seal.value;
  const crlFetcher = opened.push(startCrlFetcher({ sources: config.trust.crlSources, ledger, trust, clock, log: part('crl'), maxBytes: config.http.crlMaxBytes }), (f) => f.stop());
  await crlFetcher.fetchAll();

  const bus = await openHubBus({ config, hub, neighbours, networkRoot, clock, log, opened });
  if (!bus.ok) return bus;
  const { conn, publisher, remote } = bus.value;
  const q = hubQueues(hub.id);
  const outlet = hubOutlet({ hubId: hub.id, publisher, viaOutbox: [...remote.keys()], available: () => conn.isConnected() });
  const deadLetter = deadLetterer(publisher, q.dead, clock);
  const workingQueues = [q.ingress, q.deliver, q.dead, ...[...remote.keys()].map(q.outbox)];
  // The journal: what each working queue holds, browsable without touching a message.
  const marks = opened.push(takenMarks(publisher, hub.id, part('journal')), (m) => m.flush());
  const journal = opened.push(await readJournal(conn, publisher, hub.id, part('journal')), (j) => j.stop());
  const stats = queueStats({ conn, amqpUrl: bus.value.brokerUrl, managementUrl: config.managementUrl, names: () => [...workingQueues, trustQueue(hub.id)], log: part('queues') });
  const links = () => neighbours.map((n) => ({ neighbour: n, up: (remote.get(n)?.conn ?? conn).isConnected() }));
  const watched = () => watchedCertificates(ledger, trust.anchors(), clock());
  const metrics = createHubMetrics({ hubId: hub.id, queues: stats.own, clock, watched, links });
  const pipeline = opened.push(createPipeline({
    metrics: metrics.hop, self: hub.id, registry, signer, hubCertificates: (id) => trust.hubCertificates(id), ledger, outlet,
    clock, log: part('pipeline'), afterMailboxWrite: env.afterMailboxWrite,
    check: hopCheck(config, trust, clock, part('check-pool'), opened),
  }), (p) => p.flushReceipts());

  const directoryLog = part('directory');
  const agencies = agencyDirectory({
    hubId: hub.id, registry, ledger, configured: config.agencies, clock, closedKeyGraceMs: config.directory.closedKeyGrace, carryOn: pipeline.forwardWaiting,
    onCarryError: (err) => directoryLog.warn({ err: err.message }, 'carrying on waiting documents stopped; the next sweep goes on'),
  });
  const expiry = opened.push(startExpiryMonitor({
    watched, clock, log: part('expiry'), hubId: hub.id, intervalMs: config.alerts.expiryCheckIntervalMs, webhook: expiryWebhook(config.alerts),
  }), (e) => e.stop());
  await expiry.check();
  // The lane tells the seal rotation (made next, from the lane) of confirmations; none arrives before the lanes start.
  const trustLane = createTrustLane({
    hubId: hub.id, ledger, trust, signer, clock, log: part('trust'), reloadAgencies: agencies.reload, recheckExpiry: expiry.check,
    broadcast: broadcaster(publisher, networkRoot), confirmed: (fingerprint, by) => sealRotation.confirmed(fingerprint, by),
  });
  const sealRotation = createSealRotation({
    hubId: hub.id, neighbours, keyDir: path.join(config.dataDir, hub.id), anchors: () => trust.anchors(), ledger,
    change: trustLane.change, activate: seal.value.swap, clock, log: part('seal'), timeoutMs: ROTATION_TIMEOUT_MS,
  });
  const lanes = await startHubLanes({
    hubId: hub.id, bus: bus.value, prefetch: PREFETCH, log, opened, taken: marks.taken,
    trust: (body, headers) => trustLane.receive(body, stringHeaders(headers), (reason) => deadLetter(body, headers, reason)),
    ingress: hopHandler(pipeline.onIngress, deadLetter), deliver: hopHandler(pipeline.onDeliver, deadLetter), dead: deadLetterChannel(ledger, clock),
  });
  await agencies.reload();
  opened.push(agencies, (a) => a.carried()); // waited for before the bus and ledger it carries through close
  // Closures that come into force later (a successor's `from`), and keys whose grace ends, are found by a sweep.
  const sweep = setInterval(() => void agencies.reload().catch((err: Error) => directoryLog.error({ err: err.message }, 'directory sweep failed')), config.directory.sweepIntervalMs);
  opened.push(sweep, clearInterval);

  const replay = replayer(publisher, q.ingress);
  const app = opened.push(await createServer(serverDeps({
    config, hub, ledger, registry, trust, pipeline, metrics, stats, links, watched, lanes, replay, clock, log: part('http'),
    sdkSecrets: sdkSecrets.value, agencies, changeTrust: trustLane.change, rotateSealKey: sealRotation.rotate, activeSeal: () => signer.fingerprint,
    journal: { queues: workingQueues, index: journal.index, caughtUp: journal.caughtUp },
    ready: async () => ({ broker: conn.isConnected(), ledger: await ledger.reachable(), staleCrls: trust.staleCrls(clock()) }),
  })), (a) => a.close());
  const address = await app.listen({ port: hub.port, host: hub.host });
  log.info({ url: address, direct: bus.value.direct, linked: [...remote.keys()] }, 'hub started');
  return ok({
    id: hub.id, url: address,
    async close() {
      await opened.close(); // channels before the connection, or the last acks are lost
      log.info('hub stopped');
    },
  });
}

/** The hop check: inline, or in a worker pool for packages from `inlineBelowBytes` up. */
function hopCheck(config: Readonly<Config>, trust: TrustState, clock: () => Date, log: Logger, opened: ResourceStack): PipelineDeps['check'] {
  const { workers, inlineBelowBytes } = config.hopCheck;
  const pool = workers > 0 ? opened.push(createHopCheckPool(workers, log), (p) => p.close()) : null;
  const context = (): HopContext => ({
    trust: trust.current(), now: clock(), allowLegacy: config.policy.allowLegacy, requireSignature: config.policy.requireSignature, limits: config.policy,
  });
  return (bytes) => (pool === null || bytes.byteLength < inlineBelowBytes ? checkHop(bytes, context()) : pool.check(bytes, context()));
}

function expiryWebhook(alerts: Config['alerts']): Webhook | undefined {
  return alerts.webhookUrl === undefined ? undefined
    : { url: alerts.webhookUrl, timeoutMs: alerts.webhookTimeoutMs, retries: alerts.webhookRetries, retryMs: alerts.webhookRetryMs };
}

/** What the HTTP server is given: the agency API, /vxp, the admin API, the console, health. */
function serverDeps(p: {
  config: Readonly<Config>; hub: HubConfig; log: Logger; clock: () => Date; sdkSecrets: ServerDeps['sdk']['secrets'];
  ledger: ServerDeps['ledger']; registry: ServerDeps['admin']['registry']; trust: ServerDeps['admin']['trust']; pipeline: ServerDeps['pipeline'];
  metrics: ServerDeps['metrics']; stats: { own: ServerDeps['queues']; all: ServerDeps['allQueues'] }; links: ConsoleDeps['links'];
  watched: ConsoleDeps['watched']; lanes: ServerDeps['lanes']['consumers']; journal: ServerDeps['journal'];
  replay: ServerDeps['deadLetters']['replay']; agencies: { keys: Map<string, string>; agencyKeys: Map<string, string> };
  changeTrust: ServerDeps['admin']['changeTrust']; rotateSealKey: ServerDeps['admin']['rotateSealKey']; activeSeal: () => string; ready: ServerDeps['ready'];
}): ServerDeps {
  const { config, hub, ledger, registry, clock, pipeline, stats, journal } = p;
  const admins = new Map(config.admins.map((a) => [a.tokenHash, { name: a.name, roles: a.roles }]));
  const { keys, agencyKeys } = p.agencies;
  const lanes = { consumers: p.lanes, audit: (actor: string, action: string, detail: Record<string, unknown>) => ledger.audit(actor, action, detail) };
  return {
    pipeline, ledger, keys, maxBytes: config.policy.maxBytes, log: p.log, http: config.http, clock,
    sdk: {
      hubId: hub.id, pipeline, ledger, registry, secrets: p.sdkSecrets, maxBytes: config.policy.maxBytes, clock,
      freshness: { timestampWindowMs: config.sdk.timestampWindow, strict: { agencies: new Set(config.sdk.strict.agencies), timestampWindowMs: config.sdk.strict.timestampWindow } },
    },
    admin: {
      hubId: hub.id, ledger, registry, trust: p.trust, changeTrust: p.changeTrust, rotateSealKey: p.rotateSealKey, activeSeal: p.activeSeal, clock,
      admins, agencyKeys,
    },
    metrics: p.metrics, queues: stats.own, allQueues: stats.all, journal, lanes,
    deadLetters: { ledger, clock, admins, agencyKeys, replay: p.replay },
    console: (app) => adminConsole(app, {
      hubId: hub.id, admins, ledger, registry, queues: stats.own, allQueues: stats.all, links: p.links, watched: p.watched, summary: () => p.metrics.summary(), clock,
      deadLetterAction: deadLetterActions({ ledger, replay: p.replay, clock }),
      journal, lanes, sessions: config.http.console,
      directory: directoryActions({ hubId: hub.id, registry, clock, changeTrust: p.changeTrust }),
    }),
    ready: p.ready,
  };
}
