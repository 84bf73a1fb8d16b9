// The composition root of one hub: builds its parts from the configuration (trust, registry,
// seal, ledger, bus, pipeline, HTTP), connects them, and returns a handle whose close() stops
// them in reverse order of opening. Wiring only: the domain logic lives in the modules it
// connects. A part that fails to open closes those opened before it, and start returns the error.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import type { Logger } from 'pino';
import { fail, ok, type HubError, type Result } from './errors.js';
import type { Config, HubConfig } from './config.js';
import { resourceStack, type ResourceStack } from './resource-stack.js';
import { buildRegistry, hubAncestry, neighboursOf } from './agency/registry.js';
import { networkServing } from './trust/binding.js';
import { checkHop, type HopContext } from './hop/check.js';
import { loadTrustMaterial } from './trust/material.js';
import { openLeadership, openLedger, subtreeLedgers } from './ledger/open.js';
import { openHubBus, startHubLanes } from './bus/hub-bus.js';
import { deadLetterer, hopHandler, hubOutlet, queueAdapter } from './bus/outlet.js';
import { deadLetterChannel, replayer } from './bus/dead-letters.js';
import { stringHeaders } from './bus/message.js';
import { readJournal, takenMarks } from './bus/journal.js';
import { hubQueues } from './bus/topology.js';
import { queueStats } from './bus/queue-stats.js';
import { broadcaster, trustQueue } from './bus/broadcast.js';
import { createHopCheckPool } from './pipeline/check-pool.js';
import { createPipeline, type PipelineDeps } from './pipeline/hop-pipeline.js';
import { createServer, type ServerDeps } from './http/server.js';
import { loadAgencySecrets, loadSystemSecrets } from './http/sdk-auth.js';
import { openSharedEdgeState, type SharedEdgeState } from './http/shared-state.js';
import { createHubMetrics } from './metrics/hub-metrics.js';
import { deadLetterActions } from './admin/dead-letters.js';
import { adminConsole, type ConsoleDeps } from './console/console.js';
import { createSealRotation, openSeal } from './admin/seal-rotation.js';
import { createTrustState, seedTrustStore, type TrustState } from './admin/trust-state.js';
import { createTrustLane } from './admin/trust-lane.js';
import { hubLanes, type Lane } from './admin/lanes.js';
import { agencyDirectory } from './admin/agency-directory.js';
import { directoryActions } from './admin/directory-actions.js';
import { startExpiryMonitor, type Webhook } from './admin/expiry-monitor.js';
import { watchedCertificates } from './admin/expiry.js';
import { startCrlFetcher } from './admin/crl-fetcher.js';
import { NATIONAL } from './routing/router.js';
import { readUpstreamSecret, startNationalLink, upstreamReadiness, type NationalLink } from './national/connector.js';
import { BROADCAST_KIND, DIRECTORY_KIND, nationalDirectory } from './national/directory.js';
import { exchangeReports } from './admin/exchange-report.js';
import { startOverdueMonitor } from './admin/overdue-monitor.js';
import { startRetention } from './admin/retention.js';

export interface RunningHub {
  id: string;
  /** This replica of the hub (several may share its ledger and queues: docs/replicas.md). */
  replica: string;
  url: string;
  close(): Promise<void>;
}

export interface HubEnv {
  log: Logger;
  clock: () => Date;
  /** Test hook (the chaos suite; `lgsp start` sets it from LGSP_FAULT only): after each mailbox write, before the ack. */
  afterMailboxWrite?: () => void;
  /** Test hook (as above): after a package from the national axis is durable in the network, before its updateStatus. */
  afterNationalTake?: () => void;
}

const PREFETCH = 64;
const ROTATION_TIMEOUT_MS = 30_000;
/**
 * Starts of one hub, in all, when a broker connection is lost while the hub starts (docs/reliability.md):
 * each further start meets the first-connect retries (connection.ts), so a broker that stays away
 * fails the last one with UNAVAILABLE within seconds.
 */
export const START_ATTEMPTS = 3;

export async function startHub(config: Readonly<Config>, hub: HubConfig, env: HubEnv): Promise<Result<RunningHub>> {
  const log = env.log.child({ hub: hub.id });
  for (let attempt = 1; ; attempt++) {
    let lost = false;
    const started = await startOnce(config, hub, env, log, () => { lost = true; });
    // A start that failed for a reason of its own (a port taken, a ledger, a refused broker) fails now.
    if (started.ok || !lost || attempt === START_ATTEMPTS) return started;
    log.warn({ attempt, of: START_ATTEMPTS, err: started.error.message }, 'the broker went away while the hub was starting; starting it again');
  }
}

async function startOnce(config: Readonly<Config>, hub: HubConfig, env: HubEnv, log: Logger, brokerLost: () => void): Promise<Result<RunningHub>> {
  const opened = resourceStack((err) => log.error({ err: err.message }, 'a part of the hub did not close cleanly'));
  try {
    const started = await compose(config, hub, env, log, opened, brokerLost);
    if (!started.ok) await opened.close();
    return started;
  } catch (err) {
    await opened.close();
    return fail('UNAVAILABLE', `hub ${hub.id} could not start: ${(err as Error).message}`);
  }
}

async function compose(config: Readonly<Config>, hub: HubConfig, env: HubEnv, log: Logger, opened: ResourceStack, brokerLost: () => void): Promise<Result<RunningHub>> {
  const { clock } = env;
  // Names this replica of the hub (lowercase hex, new each start: its broadcast queue goes with it).
  const replica = randomBytes(4).toString('hex');
  const part = (component: string) => log.child({ component });
  const registry = buildRegistry(config);
  const material = await loadTrustMaterial({ ...config.trust, agencies: config.agencies, hubs: config.hubs }, (file) => fs.readFileSync(file, 'utf8'));
  if (!material.ok) return material;
  // The API keys of this hub's agencies that may sign for the SDK dialect (/vxp).
  const sdkSecrets = loadAgencySecrets(config.agencies, (code) => registry.agencies.get(code)?.hubId === hub.id);
  if (!sdkSecrets.ok) return sdkSecrets;
  // The SDK system accounts this hub serves (sdk.systems): a province as one system.
  const sdkSystems = loadSystemSecrets(config.sdk.systems, hub.id);
  if (!sdkSystems.ok) return sdkSystems;
  // The secret of the link to the national axis, where this hub has one (never logged).
  const upstreamSecret = hub.upstream === undefined ? null : readUpstreamSecret(hub.upstream.secretFile);
  if (upstreamSecret !== null && !upstreamSecret.ok) return upstreamSecret;
  // The network is named by its top hub: trust changes are broadcast within it only.
  const networkRoot = hubAncestry(registry, hub.id).at(-1)!;
  const neighbours = neighboursOf(registry, hub.id);

  const ledgerOpened = await openLedger(config, hub, clock, part('ledger'));
  if (!ledgerOpened.ok) return ledgerOpened;
  const ledger = opened.push(ledgerOpened.value, (l) => l.close());
  await seedTrustStore(ledger, material.value, clock());
  // The live agencies first: whom the network serves decides how a sender is bound (trust/binding.ts).
  // What waits for agencies gone elsewhere is carried on by the pipeline, once the lanes run.
  const directoryLog = part('directory');
  const agencies = agencyDirectory({
    hubId: hub.id, registry, ledger, configured: config.agencies, clock, closedKeyGraceMs: config.directory.closedKeyGrace,
    carryOn: (agency) => pipeline.forwardWaiting(agency),
    onCarryError: (err) => directoryLog.warn({ err: err.message }, 'carrying on waiting documents stopped; the next sweep goes on'),
  });
  await agencies.load();
  const trust = await createTrustState({
    ledger, log: part('trust'), failClosed: config.trust.crlPolicy === 'fail-closed',
    outsideSenders: () => ({ ...config.trust.outsideSenders, network: networkServing(registry, config.sdk.systems.flatMap((s) => s.sendsFor)) }),
  });
  const seal = await openSeal(ledger, hub.id, { keyFile: hub.sealKeyFile, cert: material.value.hubCertificates.get(hub.id)! });
  if (!seal.ok) return seal;
  const { signer } = seal.value;
  // CRL fetching and expiry alerts run on one replica of the hub at a time.
  const lead = opened.push(await openLeadership(config, hub, 'housekeeping', part('lead')), (l) => l.close());

  const networkHubs = [...registry.hubs.keys()].filter((id) => id !== hub.id && hubAncestry(registry, id).at(-1) === networkRoot);
  const bus = await openHubBus({ config, hub, replica, neighbours, networkRoot, clock, log, opened, networkHubs, onLost: brokerLost });
  if (!bus.ok) return bus;
  const { conn, publisher, remote } = bus.value;
  const q = hubQueues(hub.id);
  // National recipients leave the gateway through its national outbox.
  const nationalOut = hub.upstream === undefined ? [] : [q.outbox(NATIONAL)];
  const outlet = hubOutlet({
    hubId: hub.id, publisher, viaOutbox: [...remote.keys()], available: () => conn.isConnected(),
    adapters: new Map(nationalOut.map((queue) => [NATIONAL, queueAdapter(publisher, queue)])),
  });
  const deadLetter = deadLetterer(publisher, q.dead, clock);
  const workingQueues = [q.ingress, q.deliver, q.dead, ...[...remote.keys()].map(q.outbox), ...nationalOut];
  // The journal: what each working queue holds, browsable without touching a message.
  const marks = opened.push(takenMarks(publisher, hub.id, part('journal')), (m) => m.flush());
  const journal = opened.push(await readJournal(conn, publisher, hub.id, part('journal')), (j) => j.stop());
  const stats = queueStats({ conn, amqpUrl: bus.value.brokerUrl, managementUrl: config.managementUrl, names: () => [...workingQueues, trustQueue(hub.id)], log: part('queues') });
  let national: NationalLink | null = null;
  const links = () => [
    ...neighbours.map((n) => ({ neighbour: n, up: (remote.get(n)?.conn ?? conn).isConnected() })),
    ...(national === null ? [] : [{ neighbour: NATIONAL, up: national.health().up }]),
  ];
  const watched = () => watchedCertificates(ledger, trust.anchors(), clock());
  // The network statistics read the ledgers of the hubs below (docs/statistics.md).
  const below = opened.push(subtreeLedgers(config, clock, part('ledger')), (l) => l.close());
  const exchange = exchangeReports({ ledger, registry, hubId: hub.id, clock, overdueAfterMs: config.alerts.unacknowledgedAfter, ledgerOf: below.ledgerOf });
  const metrics = createHubMetrics({ hubId: hub.id, queues: stats.own, clock, watched, links, upstream: () => national?.health() ?? null, overdue: exchange.overdue });
  const pipeline = opened.push(createPipeline({
    metrics: metrics.hop, self: hub.id, registry, signer, hubCertificates: (id) => trust.hubCertificates(id), ledger, outlet,
    clock, log: part('pipeline'), afterMailboxWrite: env.afterMailboxWrite,
    check: hopCheck(config, trust, clock, part('check-pool'), opened),
  }), (p) => p.flushReceipts());

  const expiry = opened.push(startExpiryMonitor({
    watched, clock, log: part('expiry'), hubId: hub.id, intervalMs: config.alerts.expiryCheckIntervalMs, webhook: alertsWebhook(config.alerts),
    leading: lead.leading, memory: ledger,
  }), (e) => e.stop());
  await expiry.check();
  const overdue = opened.push(startOverdueMonitor({
    overdue: exchange.overdue, clock, log: part('overdue'), hubId: hub.id, intervalMs: config.alerts.overdueCheckIntervalMs,
    thresholdMs: config.alerts.unacknowledgedAfter, webhook: alertsWebhook(config.alerts), leading: lead.leading, memory: ledger,
  }), (o) => o.stop());
  await overdue.check();
  const retention = opened.push(startRetention({
    ledger, clock, log: part('retention'), intervalMs: config.retention.checkIntervalMs,
    packagesAfterAckMs: config.retention.packagesAfterAck, deadLettersAfterMs: config.retention.deadLettersAfter,
  }), (r) => r.stop());
  await retention.sweep();
  // The lane tells the seal rotation (made next, from the lane) of confirmations; none arrives before the lanes start.
  const trustLane = createTrustLane({
    hubId: hub.id, replica, ledger, trust, signer, clock, log: part('trust'), reloadAgencies: agencies.reload, recheckExpiry: expiry.check,
    broadcast: broadcaster(publisher, networkRoot), confirmed: (fingerprint, by) => sealRotation.confirmed(fingerprint, by),
    keyActivated: () => sealRotation.follow(),
    lanesChanged: () => laneControl.follow(),
  });
  // The lanes an operator paused stay paused on every replica, and on one that starts later (admin/lanes.ts).
  const consumers = new Map<string, Lane>();
  const laneControl = hubLanes({
    consumers, ledger, clock,
    announce: (queue, paused, actor) => trustLane.announce({ kind: 'hub.lane', hubId: hub.id, queue, paused, actor, at: clock().toISOString(), origin: hub.id }),
  });
  const pausedLanes = await laneControl.paused();
  const sealRotation = createSealRotation({
    hubId: hub.id, neighbours, anchors: () => trust.anchors(), ledger, change: trustLane.change,
    seal: { current: () => signer.fingerprint, swap: seal.value.swap }, clock, log: part('seal'), timeoutMs: ROTATION_TIMEOUT_MS,
  });
  const crlFetcher = opened.push(startCrlFetcher({
    sources: config.trust.crlSources, ledger, trust, clock, log: part('crl'), maxBytes: config.http.crlMaxBytes, leading: lead.leading,
    kept: (crl) => trustLane.announce({
      kind: 'crl.import', issuerFingerprint: crl.issuerFingerprint, der: crl.der.toString('base64'), thisUpdate: crl.thisUpdate,
      actor: crl.importedBy, at: crl.importedAt, origin: hub.id,
    }),
  }), (f) => f.stop());
  await crlFetcher.fetchAll();
  // A replica that takes the lead over fetches and checks at once (the one before it may have died mid-interval).
  lead.onGain(() => {
    crlFetcher.fetchAll().catch((err: Error) => log.error({ err: err.message }, 'CRL fetch on taking the lead failed'));
    expiry.check().catch((err: Error) => log.error({ err: err.message }, 'expiry check on taking the lead failed'));
  });
  const directory = nationalDirectory({
    hubId: hub.id, registry, ledger, signer, log: part('national'), hubCertificates: (id) => trust.hubCertificates(id), broadcast: broadcaster(publisher, networkRoot),
  });
  await directory.load();
  const lanes = await startHubLanes({
    hubId: hub.id, replica, bus: bus.value, prefetch: PREFETCH, log, opened, taken: marks.taken, paused: pausedLanes,
    trust: (body, headers) => {
      const h = stringHeaders(headers);
      const dead = (reason: HubError) => deadLetter(body, headers, reason);
      return h[BROADCAST_KIND] === DIRECTORY_KIND ? directory.receive(body, h, dead) : trustLane.receive(body, h, dead);
    },
    replicaTrust: (body, headers) => trustLane.refresh(body, stringHeaders(headers)),
    ingress: hopHandler(pipeline.onIngress, deadLetter), deliver: hopHandler(pipeline.onDeliver, deadLetter), dead: deadLetterChannel(ledger, clock),
  });
  await agencies.reload();
  // After a reconnect this replica's queue is new: what changed meanwhile is read from the ledger.
  let connected = false;
  await conn.onConnect(async () => {
    if (connected) await trustLane.resync().catch((err: Error) => log.warn({ err: err.message }, 'could not catch up with the trust store after a reconnect; the next change will'));
    connected = true;
  });
  if (hub.upstream !== undefined && upstreamSecret?.ok) {
    national = opened.push(await startNationalLink({
      upstream: hub.upstream, secret: upstreamSecret.value, conn, outbox: q.outbox(NATIONAL), national: pipeline.national, deadLetter,
      publishDirectory: directory.publish, clock, log: part('national'), taken: marks.taken, called: metrics.upstreamCall, leading: lead.leading,
      afterNationalTake: env.afterNationalTake, paused: pausedLanes.has(q.outbox(NATIONAL)),
    }), (l) => l.stop());
    lanes.set(q.outbox(NATIONAL), national.lane);
  }
  for (const [queue, lane] of lanes) consumers.set(queue, lane);
  // A pause or resume another replica made while these lanes were starting.
  await laneControl.follow();
  opened.push(agencies, (a) => a.carried()); // waited for before the bus and ledger it carries through close
  // Closures that come into force later (a successor's `from`), and keys whose grace ends, are found by a sweep.
  const sweep = setInterval(() => void agencies.reload().catch((err: Error) => directoryLog.error({ err: err.message }, 'directory sweep failed')), config.directory.sweepIntervalMs);
  opened.push(sweep, clearInterval);

  const replay = replayer(publisher, q.ingress);
  const edge = await sharedEdge(config, hub.id, clock, part('shared-state'), opened);
  if (!edge.ok) return edge;
  const app = opened.push(await createServer(serverDeps({
    edge: edge.value, config, hub, ledger, registry, trust, pipeline, metrics, stats, exchange, links, watched, lanes: laneControl, replay, clock, log: part('http'),
    sdkSecrets: sdkSecrets.value, sdkSystems: sdkSystems.value, agencies, changeTrust: trustLane.change, rotateSealKey: sealRotation.rotate, activeSeal: () => signer.fingerprint,
    journal: { queues: workingQueues, index: journal.index, caughtUp: journal.caughtUp },
    ready: async () => ({
      broker: conn.isConnected(), ledger: await ledger.reachable(), staleCrls: trust.staleCrls(clock()),
      ...(hub.upstream === undefined ? {} : { upstream: upstreamReadiness(national?.health() ?? null, hub.upstream.staleAfterMs, clock()) }),
    }),
    national: { directory: (query, limit) => directory.search(query, limit), upstream: () => national?.health() ?? null },
  })), (a) => a.close());
  const address = await app.listen({ port: hub.port, host: hub.host });
  log.info({ url: address, replica, direct: bus.value.direct, linked: [...remote.keys()] }, 'hub started');
  return ok({
    id: hub.id, replica, url: address,
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

function alertsWebhook(alerts: Config['alerts']): Webhook | undefined {
  return alerts.webhookUrl === undefined ? undefined
    : { url: alerts.webhookUrl, timeoutMs: alerts.webhookTimeoutMs, retries: alerts.webhookRetries, retryMs: alerts.webhookRetryMs };
}

/** The rate limits and replay guard shared by the hub's replicas, when the configuration names a Redis. */
async function sharedEdge(config: Readonly<Config>, hubId: string, clock: () => Date, log: Logger, opened: ResourceStack): Promise<Result<SharedEdgeState | null>> {
  if (config.sharedState === undefined) return ok(null);
  const state = await openSharedEdgeState(config.sharedState.redisUrl, hubId, config.http.rateLimit, () => clock().getTime(), log);
  return state.ok ? ok(opened.push(state.value, (s) => s.close())) : state;
}

/** What the HTTP server is given: the agency API, /vxp, the admin API, the console, health. */
function serverDeps(p: {
  edge: SharedEdgeState | null;
  config: Readonly<Config>; hub: HubConfig; log: Logger; clock: () => Date; sdkSecrets: ServerDeps['sdk']['secrets']; sdkSystems: ServerDeps['sdk']['systems'];
  ledger: ServerDeps['ledger']; registry: ServerDeps['admin']['registry']; trust: ServerDeps['admin']['trust']; pipeline: ServerDeps['pipeline'];
  metrics: ServerDeps['metrics']; stats: { own: ServerDeps['queues']; all: ServerDeps['allQueues'] }; exchange: ServerDeps['stats']['reports']; links: ConsoleDeps['links'];
  watched: ConsoleDeps['watched']; lanes: ServerDeps['lanes']; journal: ServerDeps['journal'];
  replay: ServerDeps['deadLetters']['replay']; agencies: { keys: Map<string, string>; agencyKeys: Map<string, string> };
  changeTrust: ServerDeps['admin']['changeTrust']; rotateSealKey: ServerDeps['admin']['rotateSealKey']; activeSeal: () => string; ready: ServerDeps['ready'];
  national: { directory: ConsoleDeps['nationalDirectory']; upstream: ConsoleDeps['upstream'] };
}): ServerDeps {
  const { config, hub, ledger, registry, clock, pipeline, stats, journal } = p;
  const admins = new Map(config.admins.map((a) => [a.tokenHash, { name: a.name, roles: a.roles }]));
  const { keys, agencyKeys } = p.agencies;
  const { lanes } = p;
  return {
    pipeline, ledger, keys, maxBytes: config.policy.maxBytes, log: p.log, http: config.http, clock,
    ...(p.edge === null ? {} : { sharedBuckets: p.edge.buckets }),
    sdk: {
      hubId: hub.id, pipeline, ledger, registry, secrets: p.sdkSecrets, systems: p.sdkSystems, maxBytes: config.policy.maxBytes, clock,
      ...(p.edge === null ? {} : { replay: p.edge.replay }),
      freshness: { timestampWindowMs: config.sdk.timestampWindow, strict: { agencies: new Set(config.sdk.strict.agencies), timestampWindowMs: config.sdk.strict.timestampWindow } },
    },
    admin: {
      hubId: hub.id, ledger, registry, trust: p.trust, changeTrust: p.changeTrust, rotateSealKey: p.rotateSealKey, activeSeal: p.activeSeal, clock,
      admins, agencyKeys,
    },
    metrics: p.metrics, queues: stats.own, allQueues: stats.all, journal, lanes,
    deadLetters: { ledger, clock, admins, agencyKeys, replay: p.replay },
    stats: { admins, agencyKeys, reports: p.exchange, clock },
    console: (app) => adminConsole(app, {
      hubId: hub.id, admins, ledger, registry, queues: stats.own, allQueues: stats.all, links: p.links, watched: p.watched, summary: () => p.metrics.summary(), clock,
      deadLetterAction: deadLetterActions({ ledger, replay: p.replay, clock }),
      journal, lanes, sessions: config.http.console, nationalDirectory: p.national.directory, upstream: p.national.upstream, reports: p.exchange,
      directory: directoryActions({ hubId: hub.id, registry, clock, changeTrust: p.changeTrust }),
    }),
    ready: p.ready,
  };
}
