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
import { createHash, type X509Certificate } from 'node:crypto';
import type { Logger } from 'pino';
import { fail, ok, type ErrorCode, type HubError, type Result } from '../errors.js';
import type { Registry } from '../agency/registry.js';
import { emitStatus } from '../edxml/emit.js';
import { HOP_STAGES, type HopStage, type HopVerdict } from '../hop/check.js';
import { verifySeal, type HubSigner, type SealInput } from '../hop/seal.js';
import { boundedDocumentId, boundedSubject, type HopMessage, type HopRecord } from '../hop/trace.js';
import { nextHop, routePackage, type Route } from '../routing/router.js';
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
  checked(seconds: number): void;
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
    forwardWaiting: forwarder(deps, at),
  };
}

export type Pipeline = ReturnType<typeof createPipeline>;
type Tools = ReturnType<typeof hopTools> & { receipts: Receipts };

/** What every stage does: time the check, write this hop's trace entry, seal, verify a seal, send. */
function hopTools(deps: PipelineDeps) {
  const { self, outlet, signer, metrics } = deps;
  /** The hop check, timed. */
  const check = async (bytes: Uint8Array) => {
    const started = performance.now();
    const verdict = await deps.check(bytes);
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
    return { hub: self, at: deps.clock().toISOString(), verdict: failed ? 'rejected' : 'accepted', checks, ms: Math.round((performance.now() - started) * 100) / 100 };
  };

  /** Seals a message for hub `to`; `digest` is the body's SHA-256 where the caller already has it. */
  const sealed = (m: Unsealed, to: string, digest = digestOf(m.body)): HopMessage => ({
    ...m,
    seal: signer.seal(sealInput(m, to, self, digest)),
    sealHub: self,
  });
  /** Whether a message addressed to this hub carries a seal of a hub this hub trusts, over its body and fields. */
  const sealVerifies = (m: HopMessage) =>
    deps.hubCertificates(m.sealHub).some((cert) => verifySeal(sealInput(m, self, m.sealHub, digestOf(m.body)), m.seal, cert));
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
  const { self, registry, ledger, outlet, log, metrics } = deps;
  return async (bytes: Buffer, caller: string, expectedKind?: PackageKind): Promise<Result<SubmitReply>> => {
    if (!outlet.available()) return fail('UNAVAILABLE', 'the broker is unreachable: nothing was accepted, retry later');
    const started = performance.now();
    const refused = (error: HubError): Result<SubmitReply> => {
      metrics.rejected('submit', error.code);
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
    const recipients = h.kind === 'edoc' ? h.MessageHeader.To.map((to) => to.OrganId) : [h.MessageHeader.ResponseFor.OrganId];
    const routes = routePackage(recipients, registry, self, deps.clock());
    if (!routes.ok) return refused(routes.error);

    const docId = verdict.digest.slice(0, DOC_ID_LENGTH);
    const hop = t.withRedirects(t.record(verdict, started, false), routes.value);
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
    }, routes.value, verdict.digest);
    // Refused before anything is stored: a message that could not travel would stick.
    const cannotTravel = prepared.map((p) => outlet.refuses(p.message)).find((e) => e !== undefined);
    if (cannotTravel !== undefined) return refused(cannotTravel);
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
    await ledger.updateRecipients(docId, routes.value.filter((r) => r.via !== 'local').map((r) => r.organId), { delivery: 'in_transit' });
    metrics.accepted('submit');
    log.info({ docId, kind: h.kind, recipients: recipients.length, existing: stored === 'existing' }, 'package accepted');
    return ok({
      docId, kind: h.kind, existing: stored === 'existing',
      recipients: routes.value.map((r) => ({ organId: r.organId, route: r.via, ...(r.redirectedTo ? { redirectedTo: r.redirectedTo } : {}) })),
    });
  };
}

/** A package or receipt from a neighbour hub. */
function ingress(deps: PipelineDeps, t: Tools) {
  const { self, registry, ledger, log, metrics } = deps;
  /** A later hop refused the package: dead-letter it, fail its recipients, tell the sender (02). */
  const refuse = async ({ message: m, deadLetter }: Inbound, error: HubError, hop: HopRecord) => {
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
  /** Receipts from the hub that routes to their recipients: passed on towards their origin hubs. */
  const onReceipts = async ({ message: m, deadLetter }: Inbound) => {
    const receipts = ReceiptBatch.safeParse(parseJson(m.body));
    if (!receipts.success) return deadLetter({ code: 'POLICY_VIOLATION', message: `unreadable receipts: ${receipts.error.message}` });
    // A hub speaks only for the recipients it routes to: a receipt about any other, even
    // sealed, is a forgery by that hub's server.
    // A closed code's receipts come from its successor's hub or (its grace period) its own; a
    // moved agency's may still come from a hub that served it before (sent before the move).
    const servingHubs = (organId: string) => {
      const agency = registry.agencies.get(organId);
      const successor = registry.agencies.get(currentCode(registry, organId, deps.clock()));
      return [agency?.hubId, successor?.hubId, ...(agency?.formerHubs ?? [])].filter((h) => h !== undefined);
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
function parseJson(body: Buffer): unknown {
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
