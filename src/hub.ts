// Wires one hub from its configuration: trust, registry, seal, ledger, bus, pipeline, HTTP.
// Wiring only; the domain logic lives in the modules it connects.
import fs from 'node:fs';
import path from 'node:path';
import { X509Certificate } from 'node:crypto';
import type { Logger } from 'pino';
import { fail, ok, type HubError, type Result } from './errors.js';
import type { Config, HubConfig } from './config.js';
import { buildRegistry, hubAncestry, resolveAgency } from './agency/registry.js';
import { checkHop, type HopContext } from './hop/check.js';
import { createHopCheckPool } from './pipeline/check-pool.js';
import { createHubSigner, rotatingSigner } from './hop/seal.js';
import { createSealRotation } from './admin/seal-rotation.js';
import { loadCrl, type RevocationList } from './trust/crl.js';
import { fingerprintOf, pemToDer, readCertificates, validityOf } from './trust/x509.js';
import { openLedger } from './ledger/open.js';
import { connectBus, type BusConnection, type BusTls } from './bus/connection.js';
import { consume, type Consumer, type Stoppable } from './bus/consumer.js';
import { startLink } from './bus/link.js';
import { boundedHeaders, stringHeaders, toHeaders } from './bus/message.js';
import { createPublisher, type Publisher } from './bus/publisher.js';
import { journaled, readJournal, takenMarks } from './bus/journal.js';
import { assertTopology, ensureInbound, hubQueues } from './bus/topology.js';
import { createPipeline, type Outlet } from './pipeline/hop-pipeline.js';
import { deadLetterChannel, replayHeaders } from './pipeline/dead-letter-channel.js';
import { createServer } from './http/server.js';
import { loadAgencySecrets } from './http/sdk-auth.js';
import { createHubMetrics } from './metrics/hub-metrics.js';
import { queueStats } from './bus/queue-stats.js';
import { deadLetterActions } from './admin/dead-letters.js';
import { adminConsole } from './console/console.js';
import { assertBroadcast, trustExchange, trustQueue } from './bus/broadcast.js';
import { applyTrustChange, certRecord, certState, CHANGE_SIGNATURE, CHANGE_SIGNER, verifiedTrustChange, type TrustChange } from './admin/trust-changes.js';
import { startExpiryMonitor } from './admin/expiry-monitor.js';
import { startCrlFetcher } from './admin/crl-fetcher.js';
import type { WatchedCert } from './admin/expiry.js';
import { createTrustState } from './admin/trust-state.js';

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
  const registry = buildRegistry(config);
  const material = await loadTrustMaterial(config);
  if (!material.ok) return material;
  // The API keys of this hub's agencies that may sign for the SDK dialect (/vxp).
  const sdkSecrets = loadAgencySecrets(config.agencies, (code) => registry.agencies.get(code)?.hubId === hub.id);
  if (!sdkSecrets.ok) return sdkSecrets;

  // The network is named by its top hub: trust changes are broadcast within it only.
  const networkRoot = hubAncestry(registry, hub.id).at(-1)!;
  const neighbours = [...registry.hubs.values()].filter((h) => h.parentId === hub.id).map((h) => h.id);
  const parent = registry.hubs.get(hub.id)?.parentId ?? null;
  if (parent !== null) neighbours.push(parent);

  const opened = await openLedger(config, hub, env.clock, log.child({ component: 'ledger' }));
  if (!opened.ok) return opened;
  const ledger = opened.value;
  // The configuration seeds the trust store; from then on the ledger holds it, changed live.
  for (const r of material.value.seed) await ledger.addCertificate(certRecord(r.cert, r.agency, env.clock(), 'config'));
  for (const ca of material.value.anchors) await ledger.addTrustedCa(fingerprintOf(ca), ca.toString(), env.clock().toISOString(), 'config');
  for (const [id, c] of material.value.hubCertificates) await ledger.addHubCertificate(id, fingerprintOf(c), c.toString(), env.clock().toISOString());
  for (const c of material.value.crls) {
    await ledger.putCrl({ issuerFingerprint: c.list.issuerFingerprint, der: c.der, thisUpdate: c.list.thisUpdate.toISOString(), importedAt: env.clock().toISOString(), importedBy: 'config' });
  }
  const trust = await createTrustState({
    ledger, log: log.child({ component: 'trust' }),
    failClosed: config.trust.crlPolicy === 'fail-closed',
  });
  // The hub seal: the key rotated to last, else the configured one. Rotation swaps `current`.
  const rotated = await ledger.activeSealKey();
  const first = createHubSigner(hub.id, readFile(rotated?.keyFile ?? hub.sealKeyFile),
    rotated ? new X509Certificate(rotated.certPem) : material.value.hubCertificates.get(hub.id)!);
  if (!first.ok) return first;
  const seal = rotatingSigner(first.value);
  const { signer } = seal;
  const crlFetcher = startCrlFetcher({ sources: config.trust.crlSources, ledger, trust, clock: env.clock, log: log.child({ component: 'crl' }), maxBytes: config.http.crlMaxBytes });
  await crlFetcher.fetchAll();
  const brokerUrl = hub.amqpUrl ?? config.amqpUrl;
  // Neighbours on this broker get messages straight in their ingress; a neighbour on another
  // broker (across a WAN) through a local outbox and a link, so that its outage only fills the outbox.
  const brokerOf = (id: string) => config.hubs.find((h) => h.id === id)?.amqpUrl ?? config.amqpUrl;
  const tlsOf = (h: Pick<HubConfig, 'amqpTls'> | undefined): BusTls | undefined => {
    const t = h?.amqpTls ?? config.amqpTls;
    return t === undefined ? undefined : {
      ca: fs.readFileSync(t.caFile), ...(t.certFile ? { cert: fs.readFileSync(t.certFile) } : {}), ...(t.keyFile ? { key: fs.readFileSync(t.keyFile) } : {}),
    };
  };
  const direct = neighbours.filter((n) => sameBroker(brokerOf(n), brokerUrl));
  const linked = neighbours.filter((n) => !sameBroker(brokerOf(n), brokerUrl));
  const conn = await connectBus(brokerUrl, log.child({ component: 'bus' }), { name: `lgsp hub ${hub.id}`, tls: tlsOf(hub) });
  try {
    await conn.onConnect(async (model) => {
      const open = () => model.createChannel();
      await assertTopology(open, hub.id, linked, direct);
      await assertBroadcast(open, hub.id, networkRoot);
    });
  } catch (err) {
    // A broker user that may not create the missing topology, most often (docs/security.md).
    await conn.close();
    return fail('UNAVAILABLE', `hub ${hub.id}: cannot set up its queues: ${(err as Error).message}`);
  }
  const publisher = journaled(await createPublisher(conn, log.child({ component: 'publisher' })), env.clock, log.child({ component: 'journal' }));
  const remote = new Map<string, { conn: BusConnection; publisher: Publisher }>();
  for (const n of linked) {
    const c = await connectBus(brokerOf(n), log.child({ component: 'link', neighbour: n }), {
      name: `lgsp hub ${hub.id} link to ${n}`, tls: tlsOf(config.hubs.find((h) => h.id === n)),
    });
    await c.onConnect((model) => ensureInbound(() => model.createChannel(), n));
    remote.set(n, { conn: c, publisher: journaled(await createPublisher(c, log.child({ component: 'link', neighbour: n })), env.clock, log.child({ component: 'journal', neighbour: n })) });
  }

  const q = hubQueues(hub.id);
  const outlet: Outlet = {
    available: () => conn.isConnected(),
    send: (stage, m) => publisher.publish({
      queue: stage === 'deliver' ? q.deliver : remote.has(stage.outbox) ? q.outbox(stage.outbox) : hubQueues(stage.outbox).ingress,
      body: m.body, headers: toHeaders(m), messageId: `${m.docId}:${m.recipients.join(',')}`,
    }),
    // Whatever headers the message came with, its dead letter's are bounded (it must publish).
    deadLetter: (body, headers, error: HubError) => {
      const kept = boundedHeaders(headers);
      return publisher.publish({
        queue: q.dead, body,
        headers: { ...kept, 'x-lgsp-reason-code': error.code, 'x-lgsp-reason': error.message.slice(0, 1024), 'x-lgsp-dead-at': env.clock().toISOString() },
        messageId: `dead:${(kept['x-lgsp-doc-id'] ?? 'unknown').slice(0, 64)}`,
      });
    },
  };
  const workingQueues = [q.ingress, q.deliver, q.dead, ...linked.map(q.outbox)];
  const queueNames = [...workingQueues, trustQueue(hub.id)];
  // The journal: what each working queue holds, browsable without touching a message.
  const marks = takenMarks(publisher, hub.id, log.child({ component: 'journal' }));
  const journal = await readJournal(conn, publisher, hub.id, log.child({ component: 'journal' }));
  const stats = queueStats({ conn, amqpUrl: brokerUrl, managementUrl: config.managementUrl, names: () => queueNames, log: log.child({ component: 'queues' }) });
  const queues = stats.own;
  const links = () => neighbours.map((n) => ({ neighbour: n, up: (remote.get(n)?.conn ?? conn).isConnected() }));
  const hubMetrics = createHubMetrics({
    hubId: hub.id, queues, clock: env.clock,
    watched: () => watched(),
    links,
  });
  const { workers: checkWorkers, inlineBelowBytes } = config.hopCheck;
  const checkPool = checkWorkers > 0 ? createHopCheckPool(checkWorkers, log.child({ component: 'check-pool' })) : null;
  const hopContext = (): HopContext => ({
    trust: trust.current(), now: env.clock(), allowLegacy: config.policy.allowLegacy, requireSignature: config.policy.requireSignature,
    limits: config.policy,
  });
  const pipeline = createPipeline({
    metrics: hubMetrics.hop,
    self: hub.id, registry, signer, hubCertificates: (id) => trust.hubCertificates(id), ledger, outlet,
    clock: env.clock, log: log.child({ component: 'pipeline' }), afterMailboxWrite: env.afterMailboxWrite,
    check: (bytes) => (checkPool === null || bytes.byteLength < inlineBelowBytes ? checkHop(bytes, hopContext()) : checkPool.check(bytes, hopContext())),
  });

  // Every certificate this hub depends on, for expiry warnings and the /metrics gauge.
  const watched = async (): Promise<WatchedCert[]> => [
    ...(await ledger.certificates()).filter((c) => ['active', 'retiring', 'expired'].includes(certState(c, env.clock())))
      .map((c) => ({ fingerprint: c.fingerprint, subject: c.subject, kind: 'agency' as const, agency: c.agency, notAfter: new Date(c.notAfter) })),
    ...(await ledger.hubCertificates()).map((h) => {
      const c = new X509Certificate(h.pem);
      return { fingerprint: h.fingerprint, subject: c.subject.replaceAll('\n', ', '), kind: 'hub' as const, agency: h.hubId, notAfter: validityOf(c).notAfter };
    }),
    ...trust.anchors().map((c) => ({ fingerprint: fingerprintOf(c), subject: c.subject.replaceAll('\n', ', '), kind: 'ca' as const, notAfter: validityOf(c).notAfter })),
  ];
  const expiry = startExpiryMonitor({
    watched, clock: env.clock, log: log.child({ component: 'expiry' }), hubId: hub.id,
    intervalMs: config.alerts.expiryCheckIntervalMs,
    webhook: config.alerts.webhookUrl === undefined ? undefined : {
      url: config.alerts.webhookUrl, timeoutMs: config.alerts.webhookTimeoutMs, retries: config.alerts.webhookRetries, retryMs: config.alerts.webhookRetryMs,
    },
  });
  await expiry.check();

  // Trust-store changes: applied here, then broadcast; other hubs' changes arrive on our queue.
  // Signed with this hub's seal key: every receiver checks it before it changes anything.
  const publishChange = (change: TrustChange) => {
    const body = Buffer.from(JSON.stringify(change));
    return publisher.publish({
      exchange: trustExchange(networkRoot), queue: '', body, messageId: `${change.origin}:${change.kind}:${change.at}`,
      headers: { [CHANGE_SIGNATURE]: signer.signChange(body), [CHANGE_SIGNER]: hub.id },
    });
  };
  const changeTrust = async (change: TrustChange) => {
    await applyTrustChange(ledger, change);
    await loadAgencies();
    await trust.reload();
    await expiry.check();
    await publishChange(change);
  };

  const sealRotation = createSealRotation({
    hubId: hub.id, neighbours, keyDir: path.join(config.dataDir, hub.id), anchors: () => trust.anchors(), ledger,
    change: changeTrust, activate: seal.swap, clock: env.clock, log: log.child({ component: 'seal' }), timeoutMs: ROTATION_TIMEOUT_MS,
  });
  const workers: Stoppable[] = [
    await consume(conn, trustQueue(hub.id), 1, log.child({ component: 'trust' }), async (body, headers) => {
      const change = verifiedTrustChange(body, stringHeaders(headers), (id) => trust.hubCertificates(id));
      if (!change.ok) {
        // Dead-lettered with its reason: returned to the queue, it would block this lane for good.
        log.error({ code: change.error.code, reason: change.error.message }, 'unsigned, forged or unreadable trust change dead-lettered');
        await outlet.deadLetter(body, headers, change.error);
        return 'ack';
      }
      const c = change.value;
      if (c.kind === 'hub.cert.trusted') {
        if (c.hubId === hub.id) sealRotation.confirmed(c.fingerprint, c.by);
        return 'ack';
      }
      if (c.origin === hub.id) return 'ack'; // applied when it was made
      await applyTrustChange(ledger, c);
      await loadAgencies();
      await trust.reload();
      await expiry.check();
      log.info({ kind: c.kind, origin: c.origin }, 'trust change applied');
      if (c.kind === 'hub.cert.add') {
        await publishChange({ kind: 'hub.cert.trusted', hubId: c.hubId, fingerprint: c.fingerprint, by: hub.id, actor: c.actor, at: env.clock().toISOString(), origin: hub.id });
      }
      return 'ack';
    }),
  ];
  // The working queues' consumers (lanes), which an operator may pause and resume.
  const lanes = new Map<string, Consumer>([
    [q.ingress, await consume(conn, q.ingress, PREFETCH, log.child({ component: 'ingress' }), (body, headers) => pipeline.onIngress(body, headers), marks.taken)],
    [q.deliver, await consume(conn, q.deliver, PREFETCH, log.child({ component: 'deliver' }), (body, headers) => pipeline.onDeliver(body, headers), marks.taken)],
    [q.dead, await consume(conn, q.dead, PREFETCH, log.child({ component: 'dead-letters' }), deadLetterChannel(ledger, env.clock), marks.taken)],
  ]);
  for (const [n, r] of remote) {
    lanes.set(q.outbox(n), await startLink(conn, { from: hub.id, to: n, remote: r.publisher, acked: marks.taken }, log.child({ component: 'link', neighbour: n })));
  }
  workers.push(...lanes.values());

  // A poison message goes back to the queue it came from; a refused package to this hub's ingress.
  const replay = (body: Buffer, headers: Record<string, string>) => publisher.publish({
    queue: headers['x-first-death-queue'] ?? q.ingress, body, headers: replayHeaders(headers), messageId: `replay:${headers['x-lgsp-doc-id'] ?? ''}`,
  });
  const admins = new Map(config.admins.map((a) => [a.tokenHash, { name: a.name, roles: a.roles }]));
  const agencyKeys = new Map(config.agencies.map((a) => [a.apiKeyHash, a.code]));
  const keys = new Map(config.agencies.filter((a) => registry.agencies.get(a.code)?.hubId === hub.id).map((a) => [a.apiKeyHash, a.code]));
  // Agencies registered at run time join the live registry (routing) and the key maps (sign-in).
  async function loadAgencies(): Promise<void> {
    for (const a of await ledger.agencies()) {
      if (registry.agencies.has(a.code)) continue;
      const agency = resolveAgency(registry, a);
      if (agency === null) continue;
      registry.agencies.set(a.code, agency);
      agencyKeys.set(a.apiKeyHash, a.code);
      if (agency.hubId === hub.id) keys.set(a.apiKeyHash, a.code);
    }
  }
  await loadAgencies();
  const journalView = { queues: workingQueues, index: journal.index, caughtUp: journal.caughtUp };
  const laneControl = { consumers: lanes, audit: (actor: string, action: string, detail: Record<string, unknown>) => ledger.audit(actor, action, detail) };
  const app = await createServer({
    pipeline, ledger, keys, maxBytes: config.policy.maxBytes, log: log.child({ component: 'http' }), http: config.http, clock: env.clock,
    sdk: {
      hubId: hub.id, pipeline, ledger, registry, secrets: sdkSecrets.value, maxBytes: config.policy.maxBytes, clock: env.clock,
      freshness: { timestampWindowMs: config.sdk.timestampWindow, strict: { agencies: new Set(config.sdk.strict.agencies), timestampWindowMs: config.sdk.strict.timestampWindow } },
    },
    admin: {
      hubId: hub.id, ledger, registry, trust, changeTrust, rotateSealKey: sealRotation.rotate, activeSeal: () => signer.fingerprint, clock: env.clock,
      admins, agencyKeys,
    },
    metrics: hubMetrics,
    queues,
    allQueues: stats.all,
    journal: journalView,
    lanes: laneControl,
    deadLetters: { ledger, clock: env.clock, admins, agencyKeys, replay },
    console: (app) => adminConsole(app, {
      hubId: hub.id, admins, ledger, registry, queues, allQueues: stats.all, links, watched, summary: () => hubMetrics.summary(), clock: env.clock,
      deadLetterAction: deadLetterActions({ ledger, replay, clock: env.clock }),
      journal: journalView, lanes: laneControl, sessions: config.http.console,
    }),
    ready: async () => ({ broker: conn.isConnected(), ledger: await ledger.reachable(), staleCrls: trust.staleCrls(env.clock()) }),
  });
  const address = await app.listen({ port: hub.port, host: hub.host });
  log.info({ url: address, direct, linked }, 'hub started');

  return ok({
    id: hub.id,
    url: address,
    async close() {
      expiry.stop();
      crlFetcher.stop();
      await app.close();
      for (const w of workers) await w.stop();
      await journal.stop();
      await pipeline.flushReceipts();
      await marks.flush();
      await publisher.close();
      for (const r of remote.values()) { await r.publisher.close(); await r.conn.close(); }
      await conn.close(); // channels first, then the connection, or the last acks are lost
      await checkPool?.close();
      await ledger.close();
      log.info('hub stopped');
    },
  });
}

interface TrustMaterial {
  anchors: X509Certificate[];
  crls: { list: RevocationList; der: Buffer }[];
  /** Agencies' certificates from the configuration, to seed the trust store. */
  seed: { agency: string; cert: X509Certificate }[];
  hubCertificates: Map<string, X509Certificate>;
}

/** CAs, CRLs, the agencies' registered certificates and every hub's seal certificate. */
async function loadTrustMaterial(config: Readonly<Config>): Promise<Result<TrustMaterial>> {
  const certsIn = (file: string) => readCertificates(readFile(file), file);
  const anchors: X509Certificate[] = [];
  for (const file of config.trust.caFiles) {
    const certs = certsIn(file);
    if (!certs.ok) return certs;
    anchors.push(...certs.value);
  }
  const crls: TrustMaterial['crls'] = [];
  for (const file of config.trust.crlFiles) {
    const text = readFile(file);
    const crl = await loadCrl(text, anchors);
    if (!crl.ok) return fail('USAGE', `${file}: ${crl.error.message}`);
    crls.push({ list: crl.value, der: pemToDer(text) });
  }
  const seed: TrustMaterial['seed'] = [];
  for (const a of config.agencies) {
    for (const file of a.certFiles) {
      const certs = certsIn(file);
      if (!certs.ok) return certs;
      seed.push({ agency: a.code, cert: certs.value[0]! });
    }
  }
  const hubCertificates = new Map<string, X509Certificate>();
  for (const h of config.hubs) {
    const certs = certsIn(h.sealCertFile);
    if (!certs.ok) return certs;
    hubCertificates.set(h.id, certs.value[0]!);
  }
  return ok({ anchors, crls, seed, hubCertificates });
}

/** Whether two URLs name the same broker, whatever user each connects as (each hub may have its own). */
function sameBroker(a: string, b: string): boolean {
  const anonymous = (url: string) => {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString();
  };
  return anonymous(a) === anonymous(b);
}

function readFile(file: string): string {
  return fs.readFileSync(file, 'utf8');
}
