// The link up to the national document axis, at the hub that connects its network (the
// gateway, normally the top hub). Three loops over the vxp client (national/vxp-client.ts):
//
//   up         the national outbox `lgsp.<hub>.out.national`, one package at a time: sendEdoc;
//              OK → the national recipients are delivered (pipeline); FAIL → dead letter + 02;
//              axis down, 5xx or our credentials refused → kept in hand and retried with backoff
//   down       getReceivedEdocList (edoc, then status) → getEdoc → the full hop check and into the
//              network → updateStatus done once the publish is confirmed; refused → dead letter
//              + updateStatus fail. A crash before updateStatus only makes the axis hand the
//              package again, and the mailbox dedupe absorbs it.
//   directory  getAgenciesList at start and on an interval, broadcast to every hub of the network
//
// Pull only: the axis never calls the hub.
import fs from 'node:fs';
import type { Logger } from 'pino';
import { fail, ok, type HubError, type Result } from '../errors.js';
import type { UpstreamConfig } from '../config.js';
import type { Pipeline } from '../pipeline/hop-pipeline.js';
import type { Inbound } from '../pipeline/transport.js';
import { docIdOf } from '../pipeline/hop-pipeline.js';
import type { BusConnection } from '../bus/connection.js';
import { consume, type Consumer } from '../bus/consumer.js';
import type { DeadLetterer } from '../bus/outlet.js';
import { fromAmqp } from '../bus/message.js';
import { wakeableSleeps } from '../bus/wakeable-sleep.js';
import type { NationalAgency } from '../agency/registry.js';
import { vxpClient, type VxpClient, type VxpOutcome } from './vxp-client.js';

/** How the link is doing, for the dashboard, /metrics and /readyz. */
export interface UpstreamHealth {
  endpoint: string;
  systemId: string;
  /** The last call was answered (OK or FAIL) with our credentials taken. */
  up: boolean;
  /** When the axis last answered anything but 5xx (ISO), or null. */
  lastAnswerAt: string | null;
  /** When a poll of getReceivedEdocList last completed (ISO), or null. */
  lastPollAt: string | null;
  /** The last problem: its code and message (never the secret). */
  lastError: { code: string; message: string } | null;
}

/** Whether the axis has answered within `staleAfterMs` (/readyz warns when not, or when it never has). */
export function upstreamReadiness(health: Pick<UpstreamHealth, 'lastAnswerAt'> | null, staleAfterMs: number, now: Date): { lastAnswerAt: string | null; stale: boolean } {
  const lastAnswerAt = health?.lastAnswerAt ?? null;
  return { lastAnswerAt, stale: lastAnswerAt === null || now.getTime() - Date.parse(lastAnswerAt) > staleAfterMs };
}

export interface NationalLink {
  lane: Consumer;
  health(): UpstreamHealth;
  stop(): Promise<void>;
}

export interface NationalLinkDeps {
  upstream: UpstreamConfig;
  secret: Buffer;
  conn: BusConnection;
  outbox: string;
  national: Pipeline['national'];
  deadLetter: DeadLetterer;
  /** Makes the directory known to every hub of the network (national/directory.ts). */
  publishDirectory: (entries: readonly NationalAgency[], fetchedAt: string) => Promise<void>;
  clock: () => Date;
  log: Logger;
  /** Told of every message taken from the outbox (the journal's consumption marks). */
  taken: (queue: string, headers: unknown) => void;
  /** Told of every call's outcome (metrics). */
  called: (call: string, outcome: VxpOutcome<unknown>['kind']) => void;
  /**
   * Whether this replica polls the axis and reads its directory (one replica of the gateway does:
   * ledger/leadership.ts). The outbox is drained by every replica, as a competing consumer.
   */
  leading: () => boolean;
  /** The outbox lane starts paused (admin/lanes.ts). */
  paused?: boolean;
  /** Test hook (`lgsp start` sets it from LGSP_FAULT only): a package from the axis is durable in the network, updateStatus not yet called. */
  afterNationalTake?: (() => void) | undefined;
}

const BACKOFF_MAX_MS = 30_000;

/** The HMAC secret the axis gave the province: the file alone, a trailing newline ignored. Never logged or echoed. */
export function readUpstreamSecret(file: string): Result<Buffer> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    return fail('USAGE', `cannot read the national axis secret file ${file}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`);
  }
  const secret = text.replace(/\r?\n$/, '');
  return secret === '' ? fail('USAGE', `the national axis secret file ${file} is empty`) : ok(Buffer.from(secret, 'utf8'));
}

export async function startNationalLink(deps: NationalLinkDeps): Promise<NationalLink> {
  const { upstream, log, clock } = deps;
  let stopping = false;
  const stopped = () => stopping;
  const status = linkStatus(deps);
  const client = vxpClient({ endpoint: upstream.endpoint, systemId: upstream.systemId, secret: deps.secret, clock, timeoutMs: upstream.timeoutMs, observe: status.observe });
  const rounds = wakeableSleeps();
  // The outbox lane waits apart, so that pausing it wakes only its backoff.
  const backoff = wakeableSleeps();
  const consumer = await sendUp(deps, client, status, stopped, backoff.sleep);
  const loop = async (intervalMs: number, round: () => Promise<void>, what: string) => {
    while (!stopping) {
      try {
        if (deps.leading()) await round();
      } catch (err) {
        // A ledger or broker failure in the middle of a round: the next round starts over.
        log.error({ err: (err as Error).message }, `national ${what} round failed`);
      }
      await rounds.sleep(intervalMs);
    }
  };
  const loops = [
    loop(upstream.directoryIntervalMs, () => readDirectory(deps, client, status), 'directory'),
    loop(upstream.pollIntervalMs, () => pollDown(deps, client, status, stopped), 'poll'),
  ];
  return {
    // Paused or stopped, the package held in backoff goes back to the outbox at once.
    lane: {
      ...consumer,
      async pause() {
        const pausing = consumer.pause();
        backoff.wakeAll();
        await pausing;
      },
    },
    health: () => ({ ...status.health }),
    async stop() {
      stopping = true;
      rounds.wakeAll();
      backoff.wakeAll();
      await consumer.stop();
      await Promise.all(loops);
    },
  };
}

/** How the link is doing, kept from every call's outcome, and its problems said. */
interface LinkStatus {
  health: UpstreamHealth;
  observe(call: string, kind: VxpOutcome<unknown>['kind']): void;
  problem(error: HubError): void;
}

function linkStatus(deps: Pick<NationalLinkDeps, 'upstream' | 'called' | 'clock' | 'log'>): LinkStatus {
  const { upstream, clock, log } = deps;
  const health: UpstreamHealth = { endpoint: upstream.endpoint, systemId: upstream.systemId, up: false, lastAnswerAt: null, lastPollAt: null, lastError: null };
  return {
    health,
    observe(call, kind) {
      deps.called(call, kind);
      if (kind !== 'unavailable') health.lastAnswerAt = clock().toISOString();
      health.up = kind === 'ok' || kind === 'refused';
      if (kind === 'ok' && health.lastError !== null) {
        log.info({ after: health.lastError.code }, 'national axis answering again');
        health.lastError = null;
      }
    },
    problem(error) {
      // Said once per change of code (an outage would otherwise log every retry and poll).
      const repeated = health.lastError?.code === error.code;
      health.lastError = { code: error.code, message: error.message };
      log[repeated ? 'debug' : 'warn']({ code: error.code, reason: error.message }, 'national axis call failed');
    },
  };
}

/** Why a call did not succeed, as a coded error (the secret is never part of it). */
function callError(call: string, o: Exclude<VxpOutcome<unknown>, { kind: 'ok' }>, systemId: string): HubError {
  return o.kind === 'unavailable' ? { code: 'UPSTREAM_UNAVAILABLE', message: `${call}: ${o.reason}` }
    : o.kind === 'unauthenticated'
      ? { code: 'UPSTREAM_UNAUTHENTICATED', message: `${call}: the axis refused system ${systemId} (HTTP ${o.httpStatus}, ErrorCode ${o.errorCode}: ${o.errorDesc}); check upstream.systemId and the secret file` }
      : { code: 'UPSTREAM_REFUSED', message: `${call}: the national axis answered FAIL, ErrorCode ${o.errorCode}: ${o.errorDesc}` };
}

/** Up: the national outbox, one package at a time, in order; held in hand while the axis cannot take it. */
async function sendUp(deps: NationalLinkDeps, client: VxpClient, status: LinkStatus, stopped: () => boolean, sleep: (ms: number) => Promise<void>): Promise<Consumer> {
  const { log } = deps;
  const firstBackoff = Math.min(deps.upstream.pollIntervalMs, 1_000);
  let lane: Consumer | undefined;
  lane = await consume(deps.conn, deps.outbox, 1, log.child({ component: 'national-outbox' }), async (body, headers) => {
    const dead = (reason: HubError) => deps.deadLetter(body, headers, reason);
    const m = fromAmqp(body, headers);
    if ('error' in m) {
      await dead({ code: 'POLICY_VIOLATION', message: `unreadable hop headers: ${m.error}` });
      return 'ack';
    }
    if (m.kind === 'receipt' || !deps.national.verifies(m)) {
      await dead(m.kind === 'receipt' ? { code: 'POLICY_VIOLATION', message: 'a receipt in the national outbox' } : deps.national.sealError(m));
      return 'ack';
    }
    // An idempotent sender: the axis has no dedupe we can count on, so what it already holds is not sent again.
    const earlier = await deps.national.sentBefore(m);
    if (earlier !== null) {
      await deps.national.sent(m, earlier);
      log.info({ docId: m.docId, nationalDocId: earlier }, 'package already at the national axis; not sent again');
      return 'ack';
    }
    for (let wait = firstBackoff; ; wait = Math.min(wait * 2, BACKOFF_MAX_MS)) {
      const sent = await client.sendEdoc({ bytes: m.body, from: m.sender, to: m.recipients, messageType: m.kind });
      if (sent.kind === 'ok') {
        await deps.national.sent(m, sent.value.docId);
        log.info({ docId: m.docId, nationalDocId: sent.value.docId, recipients: m.recipients }, 'package sent to the national axis');
        return 'ack';
      }
      const error = callError('sendEdoc', sent, deps.upstream.systemId);
      if (sent.kind === 'refused') {
        status.problem(error);
        const inbound: Inbound = { message: m, deadLetter: dead };
        await deps.national.refused(inbound, error);
        return 'ack';
      }
      status.problem(error);
      // Stopping or pausing returns it to the outbox, as it came.
      if (stopped() || lane?.paused()) throw new Error(`${error.code}: not sent, returned to the outbox`);
      await sleep(wait);
      if (stopped() || lane?.paused()) throw new Error(`${error.code}: not sent, returned to the outbox`);
    }
  }, deps.taken, undefined, deps.paused);
  return lane;
}

/**
 * Down: what the axis holds for the province's agencies, each package taken into the network and
 * answered. A package not answered here stays at the axis and comes again with the next poll.
 */
async function pollDown(deps: NationalLinkDeps, client: VxpClient, status: LinkStatus, stopped: () => boolean): Promise<void> {
  const { log } = deps;
  const errorOf = (call: string, o: Exclude<VxpOutcome<unknown>, { kind: 'ok' }>) => callError(call, o, deps.upstream.systemId);
  const answer = async (docId: string, result: 'done' | 'fail', reason?: string): Promise<void> => {
    const r = await client.updateStatus(docId, result, reason);
    // Not acknowledged: the axis hands it again, and the dedupe absorbs the repeat.
    if (r.kind !== 'ok') status.problem(errorOf('updateStatus', r));
  };
  const take = async (docId: string): Promise<void> => {
    const got = await client.getEdoc(docId);
    if (got.kind !== 'ok') {
      status.problem(errorOf('getEdoc', got));
      return;
    }
    const admitted = await deps.national.fromNational(got.value, docId);
    if (admitted.ok) {
      log.info({ docId: admitted.value.docId, nationalDocId: docId, existing: admitted.value.existing }, 'package from the national axis accepted');
      deps.afterNationalTake?.();
      return answer(docId, 'done');
    }
    const error = admitted.error;
    // The broker did not take it: nothing is durable yet, so the axis keeps it for the next poll.
    if (error.code === 'UNAVAILABLE') {
      status.problem(error);
      return;
    }
    log.warn({ nationalDocId: docId, code: error.code }, 'package from the national axis refused');
    await deps.deadLetter(got.value, { 'x-lgsp-doc-id': docIdOf(got.value), 'x-lgsp-national-doc-id': docId.slice(0, 64) }, error);
    return answer(docId, 'fail', `${error.code}: ${error.message}`);
  };
  for (const kind of ['edoc', 'status'] as const) {
    const list = await client.getReceivedEdocList(kind);
    if (list.kind !== 'ok') {
      status.problem(errorOf('getReceivedEdocList', list));
      return;
    }
    for (const item of list.value) {
      if (stopped()) return;
      await take(item.docId);
    }
  }
  status.health.lastPollAt = deps.clock().toISOString();
}

/** The directory: getAgenciesList, broadcast to every hub of the network. */
async function readDirectory(deps: NationalLinkDeps, client: VxpClient, status: LinkStatus): Promise<void> {
  const got = await client.getAgenciesList();
  if (got.kind !== 'ok') {
    status.problem(callError('getAgenciesList', got, deps.upstream.systemId));
    return;
  }
  const entries = got.value.map(({ id, pid, code, name, mail, oldCode }) => ({ id, pid, code, name, mail, oldCode }));
  // An empty answer is no directory: routing keeps the last good copy rather than losing every national recipient.
  if (entries.length === 0) {
    status.problem({ code: 'UPSTREAM_UNAVAILABLE', message: 'getAgenciesList: the axis answered OK with no agency; the last good copy is kept' });
    return;
  }
  await deps.publishDirectory(entries, deps.clock().toISOString());
  deps.log.info({ agencies: entries.length }, 'national directory read');
}
