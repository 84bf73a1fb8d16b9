// The hop pipeline: what one hub does with a package, top to bottom.
//
//   submit (HTTP, first hop)      checkHop → sender binding → routePackage → ledger → publish
//   onIngress (from a neighbour)  the previous hub's seal → checkHop → routePackage → publish (deliver or forward)
//                                 or, when refused: dead letter + failed receipts + a 02 status to the sender
//   onDeliver (recipients here)   this hub's seal → mailbox (dedupe) → business state → receipt to the origin hub → ack
//   onReceipt                     at the origin hub: per-recipient delivery state and trace; else forward
//   acknowledge (HTTP)            mailbox ack → receipt to the origin hub
//
// Every hop appends its record to the trace that travels in the message headers and seals the
// package digest and every routing header with the hub key (hop/seal.ts). The package bytes are
// never changed. Whoever can publish on the broker is not trusted: every consumer verifies the
// seal of a hub it trusts before it acts, and a message whose seal fails is only dead-lettered
// (no receipt, no status, no ledger write), so a forgery cannot make a hub act on its headers.
import { createHash, randomUUID, type X509Certificate } from 'node:crypto';
import type { Logger } from 'pino';
import { fail, ok, type ErrorCode, type HubError, type Result } from '../errors.js';
import { servingHub, type Registry } from '../agency/registry.js';
import { emitStatus } from '../edxml/emit.js';
import { HOP_STAGES, type HopStage, type HopVerdict } from '../hop/check.js';
import { verifySeal, type HubSigner, type SealInput } from '../hop/seal.js';
import { boundedDocumentId, boundedSubject, type HopMessage, type HopRecord } from '../hop/trace.js';
import { NATIONAL, nextHop, routePackage, type Route } from '../routing/router.js';
import { currentCode, isClosed } from '../agency/directory.js';
import type { AckResult, Ledger } from '../ledger/store.js';
import type { PackageKind } from '../edxml/schema.js';
import { createReceipts, ReceiptBatch, type Receipts } from './receipts.js';
import type { Inbound, NextHop, Outlet } from './transport.js';

/** What the pipeline reports to metrics (an adapter port, like the outlet). */
export interface HopMetrics {
  accepted(stage: 'submit' | 'ingress' | 'deliver'): void;
  rejected(stage: 'submit' | 'ingress', code: string): void;
  /** A copy of a package already in the mailbox, absorbed by the dedupe (at-least-once transport). */
  duplicate(stage: 'deliver'): void;
  /** The check's time; for a check on the event loop also its CPU time (process.cpuUsage), which load does not inflate. */
  checked(seconds: number, cpuSeconds?: number): void;
}

export interface PipelineDeps {
  self: string;
  registry: Registry;
  check: (bytes: Uint8Array) => HopVerdict | Promise<HopVerdict>;
  signer: HubSigner;
  /** The seal certificates accepted from a hub (several while it rotates its key). */
  hubCertificates: (hubId: string) => readonly X509Certificate[];
  ledger: Ledger;
  outlet: Outlet;
  clock: () => Date;
  log: Logger;
  metrics: HopMetrics;
  /** A test hook (the chaos suite's crash between the mailbox write and the ack): see cli/start.ts. */
  afterMailboxWrite?: (() => void) | undefined;
}

export interface SubmitReply {
  docId: string;
  kind: 'edoc' | 'status';
  recipients: { organId: string; route: Route['via']; redirectedTo?: string }[];
  existing: boolean;
}

type Unsealed = Omit<HopMessage, 'seal' | 'sealHub'>;
type Prepared = { to: NextHop; message: HopMessage }[];

export function createPipeline(deps: PipelineDeps) {
  const tools = hopTools(deps);
  const receipts = createReceipts({ ...deps, seal: (m, to) => tools.sealed(m, to) });
  const at = { ...tools, receipts };
  return {
    /** Sends the receipts still waiting for their batch (on shutdown). */
    flushReceipts: () => receipts.flush(),
    submit: submitter(deps, at),
    onIngress: ingress(deps, at),
    onDeliver: delivery(deps, at),
    acknowledge: acknowledger(deps, receipts),
    national: nationalStage(deps, at),
    forwardWaiting: forwarder(deps, at),
  };
}

export type Pipeline = ReturnType<typeof createPipeline>;
type Tools = ReturnType<typeof hopTools> & { receipts: Receipts };

/** What every stage does: time the check, write this hop's trace entry, seal, verify a seal, send. */
function hopTools(deps: PipelineDeps) {
  const { self, outlet, signer, metrics } = deps;
  /**
   * The hop check, timed. An inline check is timed before anything else may run (awaiting it
   * first would add whatever the microtask queue held), and its CPU time is taken too: on a busy
   * machine the wall time includes the time the OS gave other processes (docs/performance.md).
   */
  const check = async (bytes: Uint8Array) => {
    const started = performance.now();
    const cpu = process.cpuUsage();
    const result = deps.check(bytes);
    if (!(result instanceof Promise)) {
      const used = process.cpuUsage(cpu);
      metrics.checked((performance.now() - started) / 1000, (used.user + used.system) / 1e6);
      return result;
    }
    const verdict = await result;
    metrics.checked((performance.now() - started) / 1000);
    return verdict;
  };

  /** This hop's trace entry; `fromHub` adds the seal check of a message from a neighbour. */
  const record = (verdict: HopVerdict | null, started: number, fromHub: boolean, failed?: { stage: HopStage | 'route'; code: ErrorCode }): HopRecord => {
    const checks: Record<string, string> = {};
    for (const stage of fromHub ? [...HOP_STAGES, 'seal'] as const : HOP_STAGES) {
      if (failed?.stage === stage) { checks[stage] = failed.code; break; }
      checks[stage] = stage === 'profile' && verdict?.ok && verdict.signer === null ? 'unsigned' : 'ok';
    }
    if (failed !== undefined && !(failed.stage in checks)) checks[failed.stage] = failed.code;
    // How the signer was bound to the sender: registered, or by its CA for a sender outside the network.
    if (verdict?.ok && verdict.signer !== null) checks.binding = verdict.signer.binding;
    return { hub: self, at: deps.clock().toISOString(), verdict: failed ? 'rejected' : 'accepted', checks, ms: Math.round((performance.now() - started) * 100) / 100 };
  };

  /** Seals a message for hub `to`; `digest` is the body's SHA-256 where the caller already has it. */
  const sealed = (m: Unsealed, to: string, digest = digestOf(m.body)): HopMessage => ({
    ...m,
    seal: signer.seal(sealInput(m, to, self, digest)),
    sealHub: self,
  });
  /** Whether a message addressed to this hub (or its national outbox) carries a seal of a hub this hub trusts, over its body and fields. */
  const sealVerifies = (m: HopMessage, to = self) =>
    deps.hubCertificates(m.sealHub).some((cert) => verifySeal(sealInput(m, to, m.sealHub, digestOf(m.body)), m.seal, cert));
  const sealError = (m: HopMessage): HubError =>
    ({ code: 'SIGNATURE_INVALID', message: `the seal of hub ${m.sealHub} does not verify over this message's body and headers` });

  /** One sealed message per next hop, each carrying the recipients behind that hop. */
  const prepare = (base: Omit<Unsealed, 'recipients'>, routes: Route[], digest?: string): Prepared => {
    const groups = new Map<string, string[]>();
    for (const r of routes) {
      const key = r.via === 'local' ? '' : r.nextHub!;
      groups.set(key, [...(groups.get(key) ?? []), r.organId]);
    }
    return [...groups].map(([next, recipients]) => ({
      to: next === '' ? 'mailbox' as const : { hub: next },
      message: sealed({ ...base, recipients }, next === '' ? self : next, digest),
    }));
  };
  /** The hop's record of the recipients it routed to a successor (the trace's field is bounded). */
  const withRedirects = (hop: HopRecord, routes: readonly Route[]): HopRecord => {
    const redirected = routes.filter((r) => r.redirectedTo !== undefined).map((r) => `${r.organId}>${r.redirectedTo}`);
    if (redirected.length === 0) return hop;
    const shown = redirected.length <= 2 ? redirected.join(',') : `${redirected[0]},+${redirected.length - 1} more`;
    return { ...hop, checks: { ...hop.checks, redirect: shown } };
  };
  const publish = (prepared: Prepared) => Promise.all(prepared.map(({ to, message }) => outlet.send(to, message)));
  const dispatch = (base: Omit<Unsealed, 'recipients'>, routes: Route[], digest?: string) => publish(prepare(base, routes, digest));
  return { check, record, withRedirects, sealed, sealVerifies, sealError, prepare, publish, dispatch };
}

/**
 * The first hop: an agency submits a package over HTTP. `expectedKind` is what the caller
 * declared (the SDK dialect's messagetype), refused before anything is stored if it differs.
 */
function submitter(deps: PipelineDeps, t: Tools) {
  const { outlet, metrics, ledger, log, registry } = deps;
  const admit = admitter(deps, t);
  return async (bytes: Buffer, caller: string, expectedKind?: PackageKind): Promise<Result<SubmitReply>> => {
    if (!outlet.available()) return fail('UNAVAILABLE', 'the broker is unreachable: nothing was accepted, retry later');
    const started = performance.now();
    const refused = async (error: HubError): Promise<Result<SubmitReply>> => {
      metrics.rejected('submit', error.code);
      // Nothing else is kept of a package refused here: the statistics count it by this mark. The
      // caller is answered with the refusal even if the ledger cannot take the mark.
      await ledger.recordExchangeMark({ key: `first:${randomUUID()}`, at: deps.clock().toISOString(), agency: caller, mark: 'refused_first', code: error.code })
        .catch((err: Error) => log.warn({ err: err.message, code: error.code }, 'a refusal was not counted: the ledger did not take its mark'));
      return { ok: false, error };
    };
    const closed = registry.agencies.get(caller);
    if (isClosed(closed, deps.clock())) {
      return refused(fail('AGENCY_CLOSED', `agency ${caller} is closed into ${closed!.successor!.code}: send as ${currentCode(registry, caller, deps.clock())}`).error);
    }
    const verdict = await t.check(bytes);
    if (!verdict.ok) return refused(verdict.error);
    const h = verdict.header;
    const sender = h.MessageHeader.From.OrganId;
    if (sender !== caller) {
      return refused(fail('SENDER_MISMATCH', `From/OrganId is ${sender} but the caller is agency ${caller}`, 'From/OrganId').error);
    }
    if (expectedKind !== undefined && h.kind !== expectedKind) {
      return refused(fail('SCHEMA_INVALID', `the package is ${h.kind === 'edoc' ? 'a document' : 'a status'} but was declared ${expectedKind}`).error);
    }
    const admitted = await admit(bytes, verdict, started, {});
    if (!admitted.ok) return admitted.error.code === 'UNAVAILABLE' ? admitted : refused(admitted.error);
    return admitted;
  };
}

/**
 * Takes a checked package into the network at this hub, as its origin: route, ledger, publish.
 * `fromNational` (a package the national axis handed over) routes only into the network, and
 * its hop record names the axis's DocId.
 */
function admitter(deps: PipelineDeps, t: Tools) {
  const { self, registry, ledger, outlet, log, metrics } = deps;
  return async (bytes: Buffer, verdict: Extract<HopVerdict, { ok: true }>, started: number, opts: { fromNational?: string }): Promise<Result<SubmitReply>> => {
    const h = verdict.header;
    const sender = h.MessageHeader.From.OrganId;
    const addressed = h.kind === 'edoc' ? h.MessageHeader.To.map((to) => to.OrganId) : [h.MessageHeader.ResponseFor.OrganId];
    const routed = routePackage(addressed, registry, self, deps.clock());
    if (!routed.ok) return routed;
    let routes = routed.value;
    if (opts.fromNational !== undefined) {
      // What the axis hands down goes to the agencies this network serves, never back up: those
      // the national directory places elsewhere get it from the axis, not from us.
      const here = routed.value.filter((r) => r.via !== 'national');
      if (here.length === 0) return fail('UNKNOWN_RECIPIENT', `none of the recipients ${addressed.join(', ').slice(0, 512)} is served by a hub of this network`, 'To/OrganId');
      routes = here;
    }
    const recipients = routes.map((r) => r.organId);

    const docId = verdict.digest.slice(0, DOC_ID_LENGTH);
    const first = t.withRedirects(t.record(verdict, started, false), routes);
    const hop = opts.fromNational === undefined ? first : { ...first, checks: { ...first.checks, national: boundedNationalId(opts.fromNational) } };
    const subject = h.kind === 'edoc' ? h.MessageHeader.Subject : undefined;
    const givenDocumentId = h.kind === 'edoc' ? h.MessageHeader.DocumentId : h.MessageHeader.ResponseFor.DocumentId;
    // Kept (and travelling) bounded, so that a status answering this document finds it.
    const documentId = givenDocumentId ? boundedDocumentId(givenDocumentId) : undefined;
    const code = h.kind === 'edoc' ? `${h.MessageHeader.Code.CodeNumber}/${h.MessageHeader.Code.CodeNotation}` : undefined;
    const prepared = t.prepare({
      body: bytes, kind: h.kind, docId, originHub: self, sender, trace: [hop],
      ...(subject ? { subject: boundedSubject(subject) } : {}),
      ...(h.kind === 'status' ? { statusCode: h.MessageHeader.StatusCode } : {}),
      ...(documentId ? { documentId } : {}),
    }, routes, verdict.digest);
    // Refused before anything is stored: a message that could not travel would stick.
    const cannotTravel = prepared.map((p) => outlet.refuses(p.message)).find((e) => e !== undefined);
    if (cannotTravel !== undefined) return { ok: false, error: cannotTravel };
    const stored = await ledger.recordSubmission({
      docId, kind: h.kind, sender, digest: verdict.digest, submittedAt: hop.at,
      ...(subject ? { subject } : {}), ...(documentId ? { documentId } : {}), ...(code ? { code } : {}),
    }, recipients, hop);
    // A resubmission publishes again: if the first attempt died before the broker confirmed,
    // this completes it; if it did not, the receivers' dedupe absorbs the repeat.
    try {
      await t.publish(prepared);
    } catch (err) {
      // 503 means nothing was accepted: the row this call made goes (a resubmission's stays).
      if (stored === 'new') await ledger.withdrawSubmission(docId);
      log.warn({ docId, err: (err as Error).message }, 'submission not confirmed by the broker; withdrawn');
      return fail('UNAVAILABLE', `the broker did not take the package (${(err as Error).message}): nothing was accepted, retry later`);
    }
    await ledger.updateRecipients(docId, routes.filter((r) => r.via !== 'local').map((r) => r.organId), { delivery: 'in_transit' });
    // Accepted under the legacy policy (no signature, or a legacy algorithm): counted apart.
    const legacy = verdict.signer === null ? 'unsigned' : verdict.legacy.join(' ');
    if (stored === 'new' && legacy !== '') {
      // The package is accepted and on its way: a mark the ledger does not take is logged, not answered.
      await ledger.recordExchangeMark({ key: `legacy:${docId}`, at: hop.at, agency: sender, mark: 'legacy', code: legacy })
        .catch((err: Error) => log.warn({ docId, err: err.message }, 'a legacy package was not counted: the ledger did not take its mark'));
    }
    // A document for the national axis: counted apart in the statistics (once, by its sender).
    if (stored === 'new' && h.kind === 'edoc' && opts.fromNational === undefined && routes.some((r) => r.via === 'national')) {
      await ledger.recordExchangeMark({ key: `national:${docId}`, at: hop.at, agency: sender, mark: 'sent_national', code: '' })
        .catch((err: Error) => log.warn({ docId, err: err.message }, 'a document for the national axis was not counted: the ledger did not take its mark'));
    }
    metrics.accepted('submit');
    log.info({ docId, kind: h.kind, recipients: recipients.length, existing: stored === 'existing', national: opts.fromNational }, 'package accepted');
    return ok({
      docId, kind: h.kind, existing: stored === 'existing',
      recipients: routes.map((r) => ({ organId: r.organId, route: r.via, ...(r.redirectedTo ? { redirectedTo: r.redirectedTo } : {}) })),
    });
  };
}

/** The axis's DocId as a trace entry holds it (a check's outcome is at most 64 characters). */
function boundedNationalId(id: string): string {
  return id.length <= 64 ? id : `sha256:${createHash('sha256').update(id, 'utf8').digest('hex').slice(0, 57)}`;
}

/** A later hop refused the package: dead-letter it, fail its recipients, tell the sender (02). */
function refuser(deps: PipelineDeps, t: Tools) {
  const { self, registry, ledger, log, metrics } = deps;
  return async ({ message: m, deadLetter }: Inbound, error: HubError, hop: HopRecord) => {
    metrics.rejected('ingress', error.code);
    log.warn({ docId: m.docId, code: error.code }, 'package refused at this hop');
    await deadLetter(error);
    await ledger.appendTrace(m.docId, [hop]);
    const trace = [...m.trace, hop];
    for (const organId of m.recipients) {
      await t.receipts.send(m.originHub, { docId: m.docId, organId, delivery: 'failed', status: '02', reason: error.code, trace });
    }
    if (m.kind !== 'edoc') return; // never answer a status with a status
    const status = emitStatus({
      from: { OrganId: self, OrganName: `LGSP hub ${self}` },
      responseFor: { OrganId: m.sender, ...(m.documentId ? { DocumentId: m.documentId } : {}) },
      statusCode: '02',
      description: `${error.code}: ${error.message}`,
      at: deps.clock(),
    });
    const signed = deps.signer.signPackage(status);
    if (!signed.ok) throw new Error(`cannot sign the 02 status: ${signed.error.message}`);
    const routes = routePackage([m.sender], registry, self, deps.clock());
    if (!routes.ok) {
      log.error({ docId: m.docId, sender: m.sender }, 'no route to the sender for the 02 status');
      return;
    }
    await t.dispatch({
      body: signed.value, kind: 'status', docId: docIdOf(signed.value), originHub: self, sender: self, statusCode: '02',
      ...(m.documentId ? { documentId: m.documentId } : {}), trace: [t.record(null, performance.now(), false)],
    }, routes.value);
  };
}

/** A package or receipt from a neighbour hub. */
function ingress(deps: PipelineDeps, t: Tools) {
  const { self, registry, ledger, log, metrics } = deps;
  const refuse = refuser(deps, t);
  /** Receipts from the hub that routes to their recipients: passed on towards their origin hubs. */
  const onReceipts = async ({ message: m, deadLetter }: Inbound) => {
    const receipts = ReceiptBatch.safeParse(parseJson(m.body));
    if (!receipts.success) return deadLetter({ code: 'POLICY_VIOLATION', message: `unreadable receipts: ${receipts.error.message}` });
    // A hub speaks only for the recipients it routes to: a receipt about any other, even
    // sealed, is a forgery by that hub's server.
    // A closed code's receipts come from its successor's hub or (its grace period) its own; a
    // moved agency's may still come from a hub that served it before (sent before the move); an
    // outside agency's (or a code the national directory renamed) from the hub towards the national gateway.
    const servingHubs = (organId: string) => {
      const agency = registry.agencies.get(organId);
      const current = currentCode(registry, organId, deps.clock());
      return [agency?.hubId, registry.agencies.get(current)?.hubId, ...(agency?.formerHubs ?? []), servingHub(registry, self, organId) ?? undefined,
        servingHub(registry, self, current) ?? undefined].filter((h) => h !== undefined);
    };
    const stranger = receipts.data.find((r) => !servingHubs(r.organId).some((hub) => nextHop(registry, self, hub)?.hub === m.sealHub));
    if (stranger !== undefined) {
      return deadLetter({ code: 'POLICY_VIOLATION', message: `a receipt about ${stranger.organId.slice(0, 64)}, which hub ${m.sealHub} does not lead to` });
    }
    await Promise.all(receipts.data.map(({ originHub, ...r }) => t.receipts.send(originHub, r)));
  };
  return async (inbound: Inbound): Promise<void> => {
    const started = performance.now();
    const m = inbound.message;
    // The seal first: nothing in a message is acted on before a trusted hub vouches for it.
    if (!t.sealVerifies(m)) return inbound.deadLetter(t.sealError(m));
    if (m.kind === 'receipt') return onReceipts(inbound);
    const verdict = await t.check(m.body);
    if (!verdict.ok) return refuse(inbound, verdict.error, t.record(verdict, started, true, { stage: verdict.stage, code: verdict.error.code }));
    const routes = routePackage(m.recipients, registry, self, deps.clock());
    if (!routes.ok) return refuse(inbound, routes.error, t.record(verdict, started, true, { stage: 'route', code: routes.error.code }));
    const hop = t.withRedirects(t.record(verdict, started, true), routes.value);
    await ledger.appendTrace(m.docId, [hop]);
    const { seal: _seal, sealHub: _sealHub, recipients: _recipients, ...rest } = m;
    await t.dispatch({ ...rest, trace: [...m.trace, hop] }, routes.value, verdict.digest);
    metrics.accepted('ingress');
  };
}

/**
 * Packages for agencies served here: into their mailboxes, exactly once. A recipient named by a
 * closed code goes into its successor's mailbox, keeping the code it was addressed to; one the
 * directory moved away since this hub routed it is routed again.
 */
function delivery(deps: PipelineDeps, t: Tools) {
  const { self, registry, ledger, metrics } = deps;
  return async ({ message: m, deadLetter }: Inbound): Promise<void> => {
    // Only this hub publishes to its mailbox stage, so only its own seal is accepted here.
    if (m.sealHub !== self || !t.sealVerifies(m)) return deadLetter(t.sealError(m));
    if (m.kind === 'receipt') return;
    const now = deps.clock();
    const servedHere = (addressed: string) => registry.agencies.get(currentCode(registry, addressed, now))?.hubId === self;
    const elsewhere = m.recipients.filter((r) => !servedHere(r));
    if (elsewhere.length > 0) {
      const routes = routePackage(elsewhere, registry, self, now);
      if (!routes.ok) return deadLetter(routes.error);
      const { seal: _seal, sealHub: _sealHub, recipients: _recipients, ...rest } = m;
      await t.dispatch(rest, routes.value);
    }
    const at = now.toISOString();
    for (const addressed of m.recipients.filter(servedHere)) {
      const agency = currentCode(registry, addressed, now);
      const stored = await ledger.deliver({
        docId: m.docId, agency, kind: m.kind, sender: m.sender, originHub: m.originHub, bytes: m.body, receivedAt: at,
        ...(m.subject ? { subject: m.subject } : {}), ...(m.statusCode ? { statusCode: m.statusCode } : {}),
        ...(agency === addressed ? {} : { addressedTo: addressed }), ...(m.documentId ? { documentId: m.documentId } : {}),
      }, m.trace);
      // Receipts name the recipient as the sender addressed it.
      const receipt = { docId: m.docId, organId: addressed, delivery: 'delivered' as const, trace: m.trace };
      if (stored === 'duplicate') {
        metrics.duplicate('deliver');
        // The first copy may have died between its mailbox write and its receipt: send it
        // again (delivery states only move forward at the origin, so a repeat changes nothing).
        await t.receipts.send(m.originHub, receipt);
        continue;
      }
      deps.afterMailboxWrite?.();
      metrics.accepted('deliver');
      // A status for a document the addressed agency sent from this hub: the recipient's business state.
      if (m.kind === 'status' && m.statusCode && m.documentId) {
        const original = await ledger.findByDocumentId(addressed, m.documentId);
        if (original !== null) await ledger.updateRecipients(original, [m.sender], { status: m.statusCode });
      }
      await t.receipts.send(m.originHub, receipt);
    }
  };
}

/**
 * The gateway's side of the link to the national axis (national/connector.ts drives the calls):
 * what leaves through the national outbox, and what the axis hands down.
 */
function nationalStage(deps: PipelineDeps, t: Tools) {
  const { ledger } = deps;
  const admit = admitter(deps, t);
  const refuse = refuser(deps, t);
  // The axis is the hop after this hub: its entry (one per hub and verdict in a trace) names it.
  const hopRecord = (verdict: HopRecord['verdict'], national: string): HopRecord =>
    ({ hub: NATIONAL, at: deps.clock().toISOString(), verdict, checks: { national } });
  return {
    /** Only this hub publishes to its national outbox, so only its own seal for it is accepted there. */
    verifies: (m: HopMessage) => m.sealHub === deps.self && t.sealVerifies(m, NATIONAL),
    sealError: t.sealError,
    /**
     * The axis's DocId if this hub already sent the package up (its trace says so): a copy in the
     * outbox (a resubmission, or a redelivery after a crash past the axis's OK) is not sent twice.
     */
    async sentBefore(m: HopMessage): Promise<string | null> {
      return (await ledger.trace(m.docId)).find((h) => h.hub === NATIONAL && h.verdict === 'accepted')?.checks.national ?? null;
    },
    /** The axis holds the package (it answered OK): its recipients are delivered, and the trace names the axis's DocId. */
    async sent(m: HopMessage, nationalDocId: string): Promise<void> {
      const hop = hopRecord('accepted', boundedNationalId(nationalDocId));
      await ledger.appendTrace(m.docId, [hop]);
      const trace = [...m.trace, hop];
      await Promise.all(m.recipients.map((organId) => t.receipts.send(m.originHub, { docId: m.docId, organId, delivery: 'delivered', trace })));
    },
    /** The axis refused the package itself: dead letter, failed recipients, a 02 to the sender, as at any later hop. */
    refused: (inbound: Inbound, error: HubError) => refuse(inbound, error, hopRecord('rejected', error.code)),
    /** A package the axis hands down: the full hop check, then into the network with this hub as its origin. */
    async fromNational(bytes: Buffer, nationalDocId: string): Promise<Result<SubmitReply>> {
      const started = performance.now();
      const verdict = await t.check(bytes);
      if (!verdict.ok) {
        deps.metrics.rejected('ingress', verdict.error.code);
        return { ok: false, error: verdict.error };
      }
      return admit(bytes, verdict, started, { fromNational: nationalDocId });
    },
  };
}

/** The recipient's document system acknowledges a package (transport acknowledgement). */
function acknowledger({ ledger }: PipelineDeps, receipts: Receipts) {
  return async (agency: string, docId: string, result: AckResult, reason: string | undefined): Promise<Result<void>> => {
    const entry = await ledger.ack(agency, docId, result, reason);
    if (entry === null) return fail('NOT_FOUND', `no document ${docId} for agency ${agency}`);
    if (entry.outcome === 'conflict') {
      return fail('ACK_CONFLICT', `document ${docId} was already acknowledged ${entry.held} by agency ${agency}; the first acknowledgement stands`);
    }
    // A repeat sends the same receipt again: the sender's view does not change, and a receipt
    // lost with the first answer (broker down) is sent after all.
    await receipts.send(entry.originHub, { docId, organId: entry.addressedTo ?? agency, delivery: result === 'done' ? 'acked' : 'failed', trace: [] });
    return ok(undefined);
  };
}

/**
 * Carries what waits in an agency's mailbox here on to where the directory now sends it: its
 * successor's mailbox (closed) or its new hub (moved). Each document travels as a new hop of
 * its trace and is marked carried, so a later sweep does not send it again; at the other end
 * the mailbox's dedupe absorbs a repeat (a crash between the send and the mark).
 */
function forwarder(deps: PipelineDeps, t: Tools) {
  const { self, registry, ledger, log } = deps;
  return async (agency: string): Promise<void> => {
    for (const w of await ledger.waitingDocuments(agency)) {
      const addressed = w.addressedTo ?? agency;
      const routes = routePackage([addressed], registry, self, deps.clock());
      if (!routes.ok) {
        log.error({ docId: w.docId, agency, code: routes.error.code }, 'a waiting document has nowhere to go: left where it is');
        continue;
      }
      const to = routes.value[0]!.redirectedTo ?? addressed;
      const started = performance.now();
      const hop = t.record(null, started, false);
      const moved: HopRecord = { ...hop, checks: { moved: `${agency}>${to}`.slice(0, 64) } };
      await ledger.appendTrace(w.docId, [moved]);
      await t.dispatch({
        body: w.bytes, kind: w.kind, docId: w.docId, originHub: w.originHub, sender: w.sender, trace: [moved],
        ...(w.subject ? { subject: w.subject } : {}), ...(w.statusCode ? { statusCode: w.statusCode } : {}), ...(w.documentId ? { documentId: w.documentId } : {}),
      }, routes.value);
      await ledger.markMoved(agency, w.docId, to);
      log.info({ docId: w.docId, from: agency, to }, 'waiting document carried on');
    }
  };
}

/** What a seal covers, from a message (sealed by `sealHub` for hub `to`). */
function sealInput(m: Unsealed, to: string, sealHub: string, digest: string): SealInput {
  return {
    to, sealHub, digest, kind: m.kind, docId: m.docId, originHub: m.originHub, sender: m.sender, recipients: m.recipients,
    trace: m.trace, statusCode: m.statusCode, documentId: m.documentId, subject: m.subject,
  };
}

/** The hub's doc id: derived from the bytes, so the same package always gets the same id. */
export function docIdOf(bytes: Uint8Array): string {
  return digestOf(bytes).slice(0, DOC_ID_LENGTH);
}

const DOC_ID_LENGTH = 32;

/** JSON from a message body; undefined (which no schema accepts) when it is not JSON. */
export function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch (err) {
    if (err instanceof SyntaxError) return undefined;
    throw err;
  }
}

function digestOf(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
