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
import { buildRegistry, hubAncestry, neighboursOf, type Registry } from './agency/registry.js';
import { networkServing } from './trust/binding.js';
import { checkHop, type HopContext } from './hop/check.js';
import { loadTrustMaterial, type TrustMaterial } from './trust/material.js';
import type { HubSigner } from './hop/seal.js';
import { openLeadership, openLedger, subtreeLedgers } from './ledger/open.js';
import type { Leadership } from './ledger/leadership.js';
import type { Ledger } from './ledger/store.js';
import type { BusConnection } from './bus/connection.js';
import type { Consumer } from './bus/consumer.js';
import type { Publisher } from './bus/publisher.js';
import { openHubBus, startHubLanes, type HubBus } from './bus/hub-bus.js';
import { hubPlan, type HubPlan } from './bus/plan.js';
import { deadLetterer, hopHandler, hubOutlet, queueAdapter, type DeadLetterer } from './bus/outlet.js';
import { deadLetterChannel, replayer } from './bus/dead-letters.js';
import { stringHeaders } from './bus/message.js';
import { readJournal, takenMarks, type TakenMarks } from './bus/journal.js';
import { hubQueues } from './bus/topology.js';
import { queueStats } from './bus/queue-stats.js';
import { broadcaster, trustQueue } from './bus/broadcast.js';
import { checksInline, createHopCheckPool } from './pipeline/check-pool.js';
import { createPipeline, type Pipeline, type PipelineDeps } from './pipeline/hop-pipeline.js';
import { createServer, type ServerDeps } from './http/server.js';
import { loadAgencySecrets, loadSystemSecrets } from './http/sdk-auth.js';
import { openSharedEdgeState, type SharedEdgeState } from './http/shared-state.js';
import { createHubMetrics, type HubMetrics, type MetricsDeps } from './metrics/hub-metrics.js';
import { deadLetterActions } from './admin/dead-letters.js';
import { adminConsole, type ConsoleDeps } from './console/console.js';
import { createSealRotation, openSeal } from './admin/seal-rotation.js';
import { createTrustState, seedTrustStore, type TrustState } from './admin/trust-state.js';
import { createTrustLane, type TrustLane } from './admin/trust-lane.js';
import { hubLanes, type Lane } from './admin/lanes.js';
import { agencyDirectory } from './admin/agency-directory.js';
import { directoryActions } from './admin/directory-actions.js';
import { startExpiryMonitor, type ExpiryMonitor, type Webhook } from './admin/expiry-monitor.js';
import { watchedCertificates } from './admin/expiry.js';
import { startCrlFetcher } from './admin/crl-fetcher.js';
import { NATIONAL } from './routing/router.js';
import { readUpstreamSecret, startNationalLink, upstreamReadiness, type NationalLink } from './national/connector.js';
import { BROADCAST_KIND, DIRECTORY_KIND, nationalDirectory, type NationalDirectory } from './national/directory.js';
import { exchangeReports, type ExchangeReports } from './admin/exchange-report.js';
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

/** What every phase of a start is given: this hub and replica, its place in the tree, its loggers, and what is open so far. */
interface HubStart {
  config: Readonly<Config>;
  hub: HubConfig;
  env: HubEnv;
  clock: () => Date;
  /** Names this replica of the hub (lowercase hex, new each start: its broadcast queue goes with it). */
  replica: string;
  registry: Registry;
  /** Its place on the broker: neighbours beside it and elsewhere, its outboxes, the network's top hub. */
  plan: HubPlan;
  /** The network is named by its top hub (plan.root): trust changes are broadcast within it only. */
  networkRoot: string;
  neighbours: readonly string[];
  log: Logger;
  part: (component: string) => Logger;
  opened: ResourceStack;
}

async function compose(config: Readonly<Config>, hub: HubConfig, env: HubEnv, log: Logger, opened: ResourceStack, brokerLost: () => void): Promise<Result<RunningHub>> {
  const { clock } = env;
  const registry = buildRegistry(config);
  const plan = hubPlan(config, registry, hub.id);
  const s: HubStart = {
    config, hub, env, clock, replica: randomBytes(4).toString('hex'), registry, plan, networkRoot: plan.root,
    neighbours: neighboursOf(registry, hub.id), log, part: (component) => log.child({ component }), opened,
  };
  const secrets = await readSecrets(s);
  if (!secrets.ok) return secrets;
  // What waits for agencies gone elsewhere is carried on by the pipeline, once the lanes run.
  const store = await openStore(s, secrets.value.material, (agency) => pipeline.forwardWaiting(agency));
  if (!store.ok) return store;
  const { ledger, agencies, directoryLog, trust, seal, lead } = store.value;
  const bus = await openBus(s, brokerLost);
  if (!bus.ok) return bus;
  const { conn, publisher, remote, q, outlet, deadLetter, marks, journal, stats } = bus.value;
  let national: NationalLink | null = null;
  const upstream = () => national?.health() ?? null;
  const links = () => [
    ...s.neighbours.map((n) => ({ neighbour: n, up: (remote.get(n)?.conn ?? conn).isConnected() })),
    ...(national === null ? [] : [{ neighbour: NATIONAL, up: national.health().up }]),
  ];
  const watched = () => watchedCertificates(ledger, trust.anchors(), clock());
  const { pipeline, metrics, exchange } = buildPipeline(s, { ledger, trust, signer: seal.signer, outlet, queues: stats.own, watched, links, upstream });
  const expiry = await startMonitors(s, { ledger, lead, watched, overdue: exchange.overdue });
  const { trustLane, consumers, laneControl, pausedLanes, sealRotation } = await wireTrustLane(s, { ledger, trust, seal, publisher, reloadAgencies: agencies.reload, expiry });
  await startCrlFetching(s, { ledger, trust, lead, trustLane, expiry });
  const { directory, lanes } = await startLanes(s, {
    ledger, trust, signer: seal.signer, bus: bus.value, taken: marks.taken, paused: pausedLanes, deadLetter, trustLane, pipeline, reloadAgencies: agencies.reload,
  });
  national = await startNational(s, {
    secret: secrets.value.upstreamSecret, conn, outbox: q.outbox(NATIONAL), pipeline, deadLetter, directory, taken: marks.taken, metrics, lead, pausedLanes, lanes,
  });
  for (const [queue, lane] of lanes) consumers.set(queue, lane);
  // A pause or resume another replica made while these lanes were starting.
  await laneControl.follow();
  opened.push(agencies, (a) => a.carried()); // waited for before the bus and ledger it carries through close
  // Closures that come into force later (a successor's `from`), and keys whose grace ends, are found by a sweep.
  const sweep = setInterval(() => void agencies.reload().catch((err: Error) => directoryLog.error({ err: err.message }, 'directory sweep failed')), config.directory.sweepIntervalMs);
  opened.push(sweep, clearInterval);

  const url = await openHttp(s, {
    ledger, trust, pipeline, metrics, stats, exchange, links, watched, lanes: laneControl, replay: replayer(publisher, q.ingress),
    sdkSecrets: secrets.value.sdkSecrets, sdkSystems: secrets.value.sdkSystems, agencies, changeTrust: trustLane.change, rotateSealKey: sealRotation.rotate,
    activeSeal: () => seal.signer.fingerprint, journal: { queues: bus.value.workingQueues, index: journal.index, caughtUp: journal.caughtUp },
    ready: async () => ({
      broker: conn.isConnected(), ledger: await ledger.reachable(), staleCrls: trust.staleCrls(clock()),
      ...(hub.upstream === undefined ? {} : { upstream: upstreamReadiness(upstream(), hub.upstream.staleAfterMs, clock()) }),
    }),
    national: { directory: (query, limit) => directory.search(query, limit), upstream },
  });
  if (!url.ok) return url;
  log.info({ url: url.value, replica: s.replica, direct: bus.value.direct, linked: [...remote.keys()] }, 'hub started');
  return ok({
    id: hub.id, replica: s.replica, url: url.value,
    async close() {
      await opened.close(); // channels before the connection, or the last acks are lost
      log.info('hub stopped');
    },
  });
}

/** What the hub reads from files before it opens anything: its trust material and the secrets it serves with. */
async function readSecrets(s: HubStart): Promise<Result<{
  material: TrustMaterial; sdkSecrets: ServerDeps['sdk']['secrets']; sdkSystems: ServerDeps['sdk']['systems']; upstreamSecret: Buffer | null;
}>> {
  const { config, hub, registry } = s;
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
  return ok({ material: material.value, sdkSecrets: sdkSecrets.value, sdkSystems: sdkSystems.value, upstreamSecret: upstreamSecret?.value ?? null });
}

/** The ledger and what the hub keeps in it (the trust store, the live agencies, the seal key), and who leads its once-per-hub work. */
async function openStore(s: HubStart, material: TrustMaterial, carryOn: (agency: string) => Promise<void>) {
  const { config, hub, registry, clock, part, opened } = s;
  const ledgerOpened = await openLedger(config, hub, clock, part('ledger'));
  if (!ledgerOpened.ok) return ledgerOpened;
  const ledger = opened.push(ledgerOpened.value, (l) => l.close());
  await seedTrustStore(ledger, material, clock());
  // The live agencies first: whom the network serves decides how a sender is bound (trust/binding.ts).
  const directoryLog = part('directory');
  const agencies = agencyDirectory({
    hubId: hub.id, registry, ledger, configured: config.agencies, clock, closedKeyGraceMs: config.directory.closedKeyGrace, carryOn,
    onCarryError: (err) => directoryLog.warn({ err: err.message }, 'carrying on waiting documents stopped; the next sweep goes on'),
  });
  await agencies.load();
  const trust = await createTrustState({
    ledger, log: part('trust'), failClosed: config.trust.crlPolicy === 'fail-closed',
    outsideSenders: () => ({ ...config.trust.outsideSenders, network: networkServing(registry, config.sdk.systems.flatMap((system) => system.sendsFor)) }),
  });
  const seal = await openSeal(ledger, hub.id, { keyFile: hub.sealKeyFile, cert: material.hubCertificates.get(hub.id)! });
  if (!seal.ok) return seal;
  // CRL fetching and expiry alerts run on one replica of the hub at a time.
  const lead = opened.push(await openLeadership(config, hub, 'housekeeping', part('lead')), (l) => l.close());
  return ok({ ledger, agencies, directoryLog, trust, seal: seal.value, lead });
}

/** The hub's place on the broker, the outlet the pipeline publishes through, and the journal and statistics of its working queues. */
async function openBus(s: HubStart, brokerLost: () => void) {
  const { config, hub, registry, networkRoot, clock, log, part, opened } = s;
  const networkHubs = [...registry.hubs.keys()].filter((id) => id !== hub.id && hubAncestry(registry, id).at(-1) === networkRoot);
  const bus = await openHubBus({ config, hub, replica: s.replica, plan: s.plan, clock, log, opened, networkHubs, onLost: brokerLost });
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
  return ok({ ...bus.value, q, outlet, deadLetter, workingQueues, marks, journal, stats });
}

/** The hop pipeline, with the metrics and the exchange reports it feeds (these read the ledgers of the hubs below: docs/statistics.md). */
function buildPipeline(s: HubStart, d: {
  ledger: Ledger; trust: TrustState; signer: HubSigner; outlet: PipelineDeps['outlet'];
  queues: MetricsDeps['queues']; watched: MetricsDeps['watched']; links: MetricsDeps['links']; upstream: MetricsDeps['upstream'];
}) {
  const { config, hub, registry, clock, part, opened } = s;
  const below = opened.push(subtreeLedgers(config, clock, part('ledger')), (l) => l.close());
  const exchange = exchangeReports({ ledger: d.ledger, registry, hubId: hub.id, clock, overdueAfterMs: config.alerts.unacknowledgedAfter, ledgerOf: below.ledgerOf });
  const metrics = createHubMetrics({ hubId: hub.id, queues: d.queues, clock, watched: d.watched, links: d.links, upstream: d.upstream, overdue: exchange.overdue });
  const pipeline = opened.push(createPipeline({
    metrics: metrics.hop, self: hub.id, registry, signer: d.signer, hubCertificates: (id) => d.trust.hubCertificates(id), ledger: d.ledger, outlet: d.outlet,
    clock, log: part('pipeline'), afterMailboxWrite: s.env.afterMailboxWrite,
    check: hopCheck(config, d.trust, clock, part('check-pool'), opened),
  }), (p) => p.flushReceipts());
  return { pipeline, metrics, exchange };
}

/** The alerts (certificates near expiry, documents unacknowledged) and the retention sweep, each run once now. */
async function startMonitors(s: HubStart, d: { ledger: Ledger; lead: Leadership; watched: MetricsDeps['watched']; overdue: ExchangeReports['overdue'] }): Promise<ExpiryMonitor> {
  const { config, hub, clock, part, opened } = s;
  const expiry = opened.push(startExpiryMonitor({
    watched: d.watched, clock, log: part('expiry'), hubId: hub.id, intervalMs: config.alerts.expiryCheckIntervalMs, webhook: alertsWebhook(config.alerts),
    leading: d.lead.leading, memory: d.ledger,
  }), (e) => e.stop());
  await expiry.check();
  const overdue = opened.push(startOverdueMonitor({
    overdue: d.overdue, clock, log: part('overdue'), hubId: hub.id, intervalMs: config.alerts.overdueCheckIntervalMs,
    thresholdMs: config.alerts.unacknowledgedAfter, webhook: alertsWebhook(config.alerts), leading: d.lead.leading, memory: d.ledger,
  }), (o) => o.stop());
  await overdue.check();
  const retention = opened.push(startRetention({
    ledger: d.ledger, clock, log: part('retention'), intervalMs: config.retention.checkIntervalMs,
    packagesAfterAckMs: config.retention.packagesAfterAck, deadLettersAfterMs: config.retention.deadLettersAfter,
  }), (r) => r.stop());
  await retention.sweep();
  return expiry;
}

/** The trust lane, and what acts through it: the lanes an operator pauses, and the seal rotation. */
async function wireTrustLane(s: HubStart, d: {
  ledger: Ledger; trust: TrustState; seal: { signer: HubSigner; swap: (signer: HubSigner) => void }; publisher: Publisher;
  reloadAgencies: () => Promise<void>; expiry: ExpiryMonitor;
}) {
  const { hub, clock, part } = s;
  const { ledger, trust, seal: { signer } } = d;
  // The lane tells the seal rotation (made next, from the lane) of confirmations; none arrives before the lanes start.
  const trustLane = createTrustLane({
    hubId: hub.id, replica: s.replica, ledger, trust, signer, clock, log: part('trust'), reloadAgencies: d.reloadAgencies, recheckExpiry: d.expiry.check,
    broadcast: broadcaster(d.publisher, s.networkRoot), confirmed: (fingerprint, by) => sealRotation.confirmed(fingerprint, by),
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
    hubId: hub.id, neighbours: s.neighbours, anchors: () => trust.anchors(), ledger, change: trustLane.change,
    seal: { current: () => signer.fingerprint, swap: d.seal.swap }, clock, log: part('seal'), timeoutMs: ROTATION_TIMEOUT_MS,
  });
  return { trustLane, consumers, laneControl, pausedLanes, sealRotation };
}

/** The CRLs fetched on the lead replica and announced to the network, once now and on an interval. */
async function startCrlFetching(s: HubStart, d: { ledger: Ledger; trust: TrustState; lead: Leadership; trustLane: TrustLane; expiry: ExpiryMonitor }): Promise<void> {
  const { config, hub, clock, log, part, opened } = s;
  const crlFetcher = opened.push(startCrlFetcher({
    sources: config.trust.crlSources, ledger: d.ledger, trust: d.trust, clock, log: part('crl'), maxBytes: config.http.crlMaxBytes, leading: d.lead.leading,
    kept: (crl) => d.trustLane.announce({
      kind: 'crl.import', issuerFingerprint: crl.issuerFingerprint, der: crl.der.toString('base64'), thisUpdate: crl.thisUpdate,
      actor: crl.importedBy, at: crl.importedAt, origin: hub.id,
    }),
  }), (f) => f.stop());
  await crlFetcher.fetchAll();
  // A replica that takes the lead over fetches and checks at once (the one before it may have died mid-interval).
  d.lead.onGain(() => {
    crlFetcher.fetchAll().catch((err: Error) => log.error({ err: err.message }, 'CRL fetch on taking the lead failed'));
    d.expiry.check().catch((err: Error) => log.error({ err: err.message }, 'expiry check on taking the lead failed'));
  });
}

/**
 * The national directory as the ledger holds it, then the consumers: the working queues' lanes and
 * the trust broadcast's. After a reconnect this replica's queue is new: what changed meanwhile is read from the ledger.
 */
async function startLanes(s: HubStart, d: {
  ledger: Ledger; trust: TrustState; signer: HubSigner; bus: HubBus; taken: TakenMarks['taken']; paused: ReadonlySet<string>;
  deadLetter: DeadLetterer; trustLane: TrustLane; pipeline: Pipeline; reloadAgencies: () => Promise<void>;
}) {
  const { hub, registry, log, part, opened } = s;
  const { trust, trustLane, pipeline, deadLetter } = d;
  const directory = nationalDirectory({
    hubId: hub.id, registry, ledger: d.ledger, signer: d.signer, log: part('national'), hubCertificates: (id) => trust.hubCertificates(id),
    broadcast: broadcaster(d.bus.publisher, s.networkRoot),
  });
  await directory.load();
  const lanes = await startHubLanes({
    hubId: hub.id, replica: s.replica, bus: d.bus, prefetch: PREFETCH, log, opened, taken: d.taken, paused: d.paused,
    trust: (body, headers) => {
      const h = stringHeaders(headers);
      const dead = (reason: HubError) => deadLetter(body, headers, reason);
      return h[BROADCAST_KIND] === DIRECTORY_KIND ? directory.receive(body, h, dead) : trustLane.receive(body, h, dead);
    },
    replicaTrust: (body, headers) => trustLane.refresh(body, stringHeaders(headers)),
    ingress: hopHandler(pipeline.onIngress, deadLetter), deliver: hopHandler(pipeline.onDeliver, deadLetter), dead: deadLetterChannel(d.ledger, s.clock),
  });
  await d.reloadAgencies();
  let connected = false;
  await d.bus.conn.onConnect(async () => {
    if (connected) await trustLane.resync().catch((err: Error) => log.warn({ err: err.message }, 'could not catch up with the trust store after a reconnect; the next change will'));
    connected = true;
  });
  return { directory, lanes };
}

/** At the gateway: the link to the national axis, its outbox drained by a lane among the hub's lanes. */
async function startNational(s: HubStart, d: {
  secret: Buffer | null; conn: BusConnection; outbox: string; pipeline: Pipeline; deadLetter: DeadLetterer; directory: NationalDirectory;
  taken: TakenMarks['taken']; metrics: HubMetrics; lead: Leadership; pausedLanes: ReadonlySet<string>; lanes: Map<string, Consumer>;
}): Promise<NationalLink | null> {
  const { hub, clock, part, opened } = s;
  if (hub.upstream === undefined || d.secret === null) return null;
  const national = opened.push(await startNationalLink({
    upstream: hub.upstream, secret: d.secret, conn: d.conn, outbox: d.outbox, national: d.pipeline.national, deadLetter: d.deadLetter,
    publishDirectory: d.directory.publish, clock, log: part('national'), taken: d.taken, called: d.metrics.upstreamCall, leading: d.lead.leading,
    afterNationalTake: s.env.afterNationalTake, paused: d.pausedLanes.has(d.outbox),
  }), (l) => l.stop());
  d.lanes.set(d.outbox, national.lane);
  return national;
}

/** The HTTP edge, listening once everything behind it runs; its address. */
async function openHttp(s: HubStart, served: Served): Promise<Result<string>> {
  const { config, hub, clock, part, opened } = s;
  const edge = await sharedEdge(config, hub.id, clock, part('shared-state'), opened);
  if (!edge.ok) return edge;
  const app = opened.push(await createServer(serverDeps(s, edge.value, served)), (a) => a.close());
  return ok(await app.listen({ port: hub.port, host: hub.host }));
}

/** The hop check: inline, or in a worker pool for packages from `inlineBelowBytes` or `inlineBelowMarkup` up. */
function hopCheck(config: Readonly<Config>, trust: TrustState, clock: () => Date, log: Logger, opened: ResourceStack): PipelineDeps['check'] {
  const { workers, inlineBelowBytes, inlineBelowMarkup } = config.hopCheck;
  const below = { bytes: inlineBelowBytes, markup: inlineBelowMarkup };
  const pool = workers > 0 ? opened.push(createHopCheckPool(workers, log), (p) => p.close()) : null;
  const context = (): HopContext => ({
    trust: trust.current(), now: clock(), allowLegacy: config.policy.allowLegacy, requireSignature: config.policy.requireSignature, limits: config.policy,
  });
  return (bytes) => (pool === null || checksInline(bytes, below) ? checkHop(bytes, context()) : pool.check(bytes, context()));
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

/** What the HTTP edge serves from: the parts built before it. */
interface Served {
  sdkSecrets: ServerDeps['sdk']['secrets']; sdkSystems: ServerDeps['sdk']['systems'];
  ledger: ServerDeps['ledger']; trust: ServerDeps['admin']['trust']; pipeline: ServerDeps['pipeline'];
  metrics: ServerDeps['metrics']; stats: { own: ServerDeps['queues']; all: ServerDeps['allQueues'] }; exchange: ServerDeps['stats']['reports']; links: ConsoleDeps['links'];
  watched: ConsoleDeps['watched']; lanes: ServerDeps['lanes']; journal: ServerDeps['journal'];
  replay: ServerDeps['deadLetters']['replay']; agencies: { keys: Map<string, string>; agencyKeys: Map<string, string> };
  changeTrust: ServerDeps['admin']['changeTrust']; rotateSealKey: ServerDeps['admin']['rotateSealKey']; activeSeal: () => string; ready: ServerDeps['ready'];
  national: { directory: ConsoleDeps['nationalDirectory']; upstream: ConsoleDeps['upstream'] };
}

/** What the HTTP server is given: the agency API, /vxp, the admin API, the console, health. */
function serverDeps(s: HubStart, edge: SharedEdgeState | null, p: Served): ServerDeps {
  const { config, hub, registry, clock } = s;
  const { ledger, pipeline, stats, journal } = p;
  const log = s.part('http');
  const admins = new Map(config.admins.map((a) => [a.tokenHash, { name: a.name, roles: a.roles }]));
  const { keys, agencyKeys } = p.agencies;
  const { lanes } = p;
  return {
    pipeline, ledger, keys, maxBytes: config.policy.maxBytes, log, http: config.http, clock,
    ...(edge === null ? {} : { sharedBuckets: edge.buckets }),
    sdk: {
      hubId: hub.id, pipeline, ledger, registry, secrets: p.sdkSecrets, systems: p.sdkSystems, maxBytes: config.policy.maxBytes, clock,
      ...(edge === null ? {} : { replay: edge.replay }),
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
