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
import { verifySeal, type HopRecord, type HubSigner, type SealInput } from '../hop/seal.js';
import { nextHop, routePackage, type Route } from '../routing/router.js';
import { z } from 'zod';
import { fromAmqp, headerBytes, headerDocumentId, headerSubject, HopRecordSchema, MAX_HEADER_BYTES, toHeaders, type HopMessage } from '../bus/message.js';
import type { Disposition } from '../bus/consumer.js';
import { DELIVERY_STATES, type AckResult, type DeliveryState, type Ledger } from '../ledger/store.js';
import type { PackageKind } from '../edxml/schema.js';

export type Stage = 'deliver' | { outbox: string };

const ReceiptBatch = z.array(z.object({
  originHub: z.string(), docId: z.string(), organId: z.string(), delivery: z.enum(DELIVERY_STATES),
  status: z.string().optional(), reason: z.string().optional(), trace: z.array(HopRecordSchema),
}));

export interface Outlet {
  /** False while the broker is unreachable: new submissions are refused rather than left waiting. */
  available(): boolean;
  send(stage: Stage, message: HopMessage): Promise<void>;
  deadLetter(body: Buffer, headers: unknown, error: HubError): Promise<void>;
}

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
  recipients: { organId: string; route: Route['via'] }[];
  existing: boolean;
}

interface Receipt { docId: string; organId: string; delivery: DeliveryState; status?: string; reason?: string; trace: HopRecord[] }
/** Receipts travel in batches: each carries the hub it is going back to. */
interface Routed extends Receipt { originHub: string }

// Receipts are not urgent: those for the same next hop within RECEIPT_BATCH_MS share one sealed
// message. Every caller still waits for the broker's confirm of its batch before acking.
const RECEIPT_BATCH_MS = 20;
const RECEIPT_BATCH_MAX = 200;

export function createPipeline(deps: PipelineDeps) {
  const { self, registry, ledger, outlet, signer, log, metrics } = deps;
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
  const sealed = (m: Omit<HopMessage, 'seal' | 'sealHub'>, to: string, digest = digestOf(m.body)): HopMessage => ({
    ...m,
    seal: signer.seal(sealInput(m, to, self, digest)),
    sealHub: self,
  });
  /** Whether a message addressed to this hub carries a seal of a hub this hub trusts, over its body and headers. */
  const sealVerifies = (m: HopMessage, digest: string) =>
    deps.hubCertificates(m.sealHub).some((cert) => verifySeal(sealInput(m, self, m.sealHub, digest), m.seal, cert));
  const sealError = (m: HopMessage): HubError =>
    ({ code: 'SIGNATURE_INVALID', message: `the seal of hub ${m.sealHub} does not verify over this message's body and headers` });

  /** One sealed message per next hop, each carrying the recipients behind that hop. */
  const prepare = (base: Omit<HopMessage, 'seal' | 'sealHub' | 'recipients'>, routes: Route[], digest?: string): { stage: Stage; message: HopMessage }[] => {
    const groups = new Map<string, string[]>();
    for (const r of routes) {
      const key = r.via === 'local' ? '' : r.nextHub!;
      groups.set(key, [...(groups.get(key) ?? []), r.organId]);
    }
    return [...groups].map(([next, recipients]) => ({
      stage: next === '' ? 'deliver' as const : { outbox: next },
      message: sealed({ ...base, recipients }, next === '' ? self : next, digest),
    }));
  };
  const publish = (prepared: { stage: Stage; message: HopMessage }[]) =>
    Promise.all(prepared.map(({ stage, message }) => outlet.send(stage, message)));
  const dispatch = (base: Omit<HopMessage, 'seal' | 'sealHub' | 'recipients'>, routes: Route[], digest?: string) =>
    publish(prepare(base, routes, digest));

  const batches = new Map<string, { receipts: Routed[]; done: Promise<void>; flush: () => void }>();
  let receiptBatch = 0;
  const openBatch = (hub: string) => {
    let release!: () => void;
    let fail!: (err: Error) => void;
    const batch = {
      receipts: [] as Routed[],
      done: new Promise<void>((resolve, reject) => { release = resolve; fail = reject; }),
      flush: () => {
        clearTimeout(timer);
        if (batches.get(hub) === batch) batches.delete(hub);
        outlet.send({ outbox: hub }, sealed({
          body: Buffer.from(JSON.stringify(batch.receipts), 'utf8'), kind: 'receipt', docId: `receipts-${self}-${Date.now()}-${++receiptBatch}`,
          originHub: self, sender: self, recipients: [...new Set(batch.receipts.map((r) => r.organId))], trace: [],
        }, hub)).then(release, fail);
      },
    };
    const timer = setTimeout(batch.flush, RECEIPT_BATCH_MS);
    batches.set(hub, batch);
    return batch;
  };
  /** Resolves once the receipt is applied here or its batch is confirmed by the broker. */
  const sendReceipt = async (originHub: string, receipt: Receipt): Promise<void> => {
    if (originHub === self) return applyReceipt(receipt);
    const hop = nextHop(registry, self, originHub);
    if (hop === null) {
      log.error({ docId: receipt.docId, originHub }, 'no route back to the origin hub; receipt dropped');
      return;
    }
    const batch = batches.get(hop.hub) ?? openBatch(hop.hub);
    batch.receipts.push({ ...receipt, originHub });
    if (batch.receipts.length >= RECEIPT_BATCH_MAX) batch.flush();
    return batch.done;
  };

  const applyReceipt = async (receipt: Receipt) => {
    const patch: { delivery: DeliveryState; status?: string } = { delivery: receipt.delivery };
    if (receipt.status !== undefined) patch.status = receipt.status;
    await ledger.updateRecipients(receipt.docId, [receipt.organId], patch, receipt.trace);
  };

  /** A later hop refused the package: dead-letter it, fail its recipients, tell the sender (02). */
  const refuse = async (m: HopMessage, headers: unknown, error: HubError, hop: HopRecord) => {
    metrics.rejected('ingress', error.code);
    log.warn({ docId: m.docId, code: error.code }, 'package refused at this hop');
    await outlet.deadLetter(m.body, headers, error);
    await ledger.appendTrace(m.docId, [hop]);
    const trace = [...m.trace, hop];
    for (const organId of m.recipients) {
      await sendReceipt(m.originHub, { docId: m.docId, organId, delivery: 'failed', status: '02', reason: error.code, trace });
    }
    if (m.kind !== 'edoc') return; // never answer a status with a status
    const status = emitStatus({
      from: { OrganId: self, OrganName: `LGSP hub ${self}` },
      responseFor: { OrganId: m.sender, ...(m.documentId ? { DocumentId: m.documentId } : {}) },
      statusCode: '02',
      description: `${error.code}: ${error.message}`,
      at: deps.clock(),
    });
    const signed = signer.signPackage(status);
    if (!signed.ok) throw new Error(`cannot sign the 02 status: ${signed.error.message}`);
    const routes = routePackage([m.sender], registry, self);
    if (!routes.ok) {
      log.error({ docId: m.docId, sender: m.sender }, 'no route to the sender for the 02 status');
      return;
    }
    const docId = docIdOf(signed.value);
    await dispatch({
      body: signed.value, kind: 'status', docId, originHub: self, sender: self, statusCode: '02',
      ...(m.documentId ? { documentId: m.documentId } : {}), trace: [record(null, performance.now(), false)],
    }, routes.value);
  };

  return {
    /** Sends the receipts still waiting for their batch (on shutdown). */
    async flushReceipts(): Promise<void> {
      const pending = [...batches.values()];
      for (const b of pending) b.flush();
      await Promise.all(pending.map((b) => b.done));
    },

    /**
     * The first hop: an agency submits a package over HTTP. `expectedKind` is what the caller
     * declared (the SDK dialect's messagetype), refused before anything is stored if it differs.
     */
    async submit(bytes: Buffer, caller: string, expectedKind?: PackageKind): Promise<Result<SubmitReply>> {
      if (!outlet.available()) return fail('UNAVAILABLE', 'the broker is unreachable: nothing was accepted, retry later');
      const started = performance.now();
      const refused = (error: HubError): Result<SubmitReply> => {
        metrics.rejected('submit', error.code);
        return { ok: false, error };
      };
      const verdict = await check(bytes);
      if (!verdict.ok) return refused(verdict.error);
      const h = verdict.header;
      const sender = h.MessageHeader.From.OrganId;
      if (sender !== caller) {
        return refused(fail('SENDER_MISMATCH', `From/OrganId is ${sender} but the caller is agency ${caller}`, 'From/OrganId').error);
      }
      if (expectedKind !== undefined && h.kind !== expectedKind) {
        return refused(fail('SCHEMA_INVALID', `the package is ${h.kind === 'edoc' ? 'a document' : 'a status'} but was declared ${expectedKind}`).error);
      }
      const recipients = h.kind === 'edoc' ? h.MessageHeader.To.map((t) => t.OrganId) : [h.MessageHeader.ResponseFor.OrganId];
      const routes = routePackage(recipients, registry, self);
      if (!routes.ok) return refused(routes.error);

      const docId = verdict.digest.slice(0, DOC_ID_LENGTH);
      const hop = record(verdict, started, false);
      const subject = h.kind === 'edoc' ? h.MessageHeader.Subject : undefined;
      const givenDocumentId = h.kind === 'edoc' ? h.MessageHeader.DocumentId : h.MessageHeader.ResponseFor.DocumentId;
      // Kept (and travelling) bounded, so that a status answering this document finds it.
      const documentId = givenDocumentId ? headerDocumentId(givenDocumentId) : undefined;
      const code = h.kind === 'edoc' ? `${h.MessageHeader.Code.CodeNumber}/${h.MessageHeader.Code.CodeNotation}` : undefined;
      const prepared = prepare({
        body: bytes, kind: h.kind, docId, originHub: self, sender, trace: [hop],
        ...(subject ? { subject: headerSubject(subject) } : {}),
        ...(h.kind === 'status' ? { statusCode: h.MessageHeader.StatusCode } : {}),
        ...(documentId ? { documentId } : {}),
      }, routes.value, verdict.digest);
      // Refused before anything is stored: a message whose headers could not travel would stick.
      const oversized = prepared.map((p) => headerBytes(toHeaders(p.message))).find((n) => n > MAX_HEADER_BYTES);
      if (oversized !== undefined) {
        return refused(fail('PAYLOAD_TOO_LARGE', `the routing headers would take ${oversized} bytes, over the ${MAX_HEADER_BYTES}-byte limit (too many recipients)`).error);
      }
      const stored = await ledger.recordSubmission({
        docId, kind: h.kind, sender, digest: verdict.digest, submittedAt: hop.at,
        ...(subject ? { subject } : {}), ...(documentId ? { documentId } : {}), ...(code ? { code } : {}),
      }, recipients, hop);
      // A resubmission publishes again: if the first attempt died before the broker confirmed,
      // this completes it; if it did not, the receivers' dedupe absorbs the repeat.
      try {
        await publish(prepared);
      } catch (err) {
        // 503 means nothing was accepted: the row this call made goes (a resubmission's stays).
        if (stored === 'new') await ledger.withdrawSubmission(docId);
        log.warn({ docId, err: (err as Error).message }, 'submission not confirmed by the broker; withdrawn');
        return fail('UNAVAILABLE', `the broker did not take the package (${(err as Error).message}): nothing was accepted, retry later`);
      }
      await ledger.updateRecipients(docId, routes.value.filter((r) => r.via !== 'local').map((r) => r.organId), { delivery: 'in_transit' });
      metrics.accepted('submit');
      log.info({ docId, kind: h.kind, recipients: recipients.length, existing: stored === 'existing' }, 'package accepted');
      return ok({ docId, kind: h.kind, recipients: routes.value.map((r) => ({ organId: r.organId, route: r.via })), existing: stored === 'existing' });
    },

    /** A package or receipt from a neighbour hub. */
    async onIngress(body: Buffer, headers: unknown): Promise<Disposition> {
      const started = performance.now();
      const m = fromAmqp(body, headers);
      if ('error' in m) {
        await outlet.deadLetter(body, headers, { code: 'POLICY_VIOLATION', message: `unreadable hop headers: ${m.error}` });
        return 'ack';
      }
      // The seal first: nothing in a message is acted on before a trusted hub vouches for it.
      if (!sealVerifies(m, digestOf(body))) {
        await outlet.deadLetter(body, headers, sealError(m));
        return 'ack';
      }
      if (m.kind === 'receipt') {
        const receipts = ReceiptBatch.safeParse(parseJson(body));
        if (!receipts.success) {
          await outlet.deadLetter(body, headers, { code: 'POLICY_VIOLATION', message: `unreadable receipts: ${receipts.error.message}` });
          return 'ack';
        }
        // A hub speaks only for the recipients it routes to: a receipt about any other, even
        // sealed, is a forgery by that hub's server.
        const stranger = receipts.data.find((r) => {
          const target = registry.agencies.get(r.organId)?.hubId;
          return target === undefined || nextHop(registry, self, target)?.hub !== m.sealHub;
        });
        if (stranger !== undefined) {
          await outlet.deadLetter(body, headers, { code: 'POLICY_VIOLATION', message: `a receipt about ${stranger.organId.slice(0, 64)}, which hub ${m.sealHub} does not lead to` });
          return 'ack';
        }
        await Promise.all(receipts.data.map(({ originHub, ...r }) => sendReceipt(originHub, r)));
        return 'ack';
      }
      const verdict = await check(body);
      if (!verdict.ok) {
        await refuse(m, headers, verdict.error, record(verdict, started, true, { stage: verdict.stage, code: verdict.error.code }));
        return 'ack';
      }
      const routes = routePackage(m.recipients, registry, self);
      if (!routes.ok) {
        await refuse(m, headers, routes.error, record(verdict, started, true, { stage: 'route', code: routes.error.code }));
        return 'ack';
      }
      const hop = record(verdict, started, true);
      await ledger.appendTrace(m.docId, [hop]);
      const { seal: _seal, sealHub: _sealHub, recipients: _recipients, ...rest } = m;
      await dispatch({ ...rest, trace: [...m.trace, hop] }, routes.value, verdict.digest);
      metrics.accepted('ingress');
      return 'ack';
    },

    /** Packages for agencies served here: into their mailboxes, exactly once. */
    async onDeliver(body: Buffer, headers: unknown): Promise<Disposition> {
      const m = fromAmqp(body, headers);
      if ('error' in m) {
        await outlet.deadLetter(body, headers, { code: 'POLICY_VIOLATION', message: `unreadable hop headers: ${m.error}` });
        return 'ack';
      }
      // Only this hub publishes to its mailbox stage, so only its own seal is accepted here.
      if (m.sealHub !== self || !sealVerifies(m, digestOf(body))) {
        await outlet.deadLetter(body, headers, sealError(m));
        return 'ack';
      }
      if (m.kind === 'receipt') return 'ack';
      const at = deps.clock().toISOString();
      for (const agency of m.recipients) {
        const stored = await ledger.deliver({
          docId: m.docId, agency, kind: m.kind, sender: m.sender, originHub: m.originHub, bytes: body, receivedAt: at,
          ...(m.subject ? { subject: m.subject } : {}), ...(m.statusCode ? { statusCode: m.statusCode } : {}),
        }, m.trace);
        if (stored === 'duplicate') {
          metrics.duplicate('deliver');
          // The first copy may have died between its mailbox write and its receipt: send it
          // again (delivery states only move forward at the origin, so a repeat changes nothing).
          await sendReceipt(m.originHub, { docId: m.docId, organId: agency, delivery: 'delivered', trace: m.trace });
          continue;
        }
        deps.afterMailboxWrite?.();
        metrics.accepted('deliver');
        // A status for a document this hub's agency sent: the recipient's business state.
        if (m.kind === 'status' && m.statusCode && m.documentId) {
          const original = await ledger.findByDocumentId(agency, m.documentId);
          if (original !== null) await ledger.updateRecipients(original, [m.sender], { status: m.statusCode });
        }
        await sendReceipt(m.originHub, { docId: m.docId, organId: agency, delivery: 'delivered', trace: m.trace });
      }
      return 'ack';
    },

    /** The recipient's document system acknowledges a package (transport acknowledgement). */
    async acknowledge(agency: string, docId: string, result: AckResult, reason: string | undefined): Promise<Result<void>> {
      const entry = await ledger.ack(agency, docId, result, reason);
      if (entry === null) return fail('NOT_FOUND', `no document ${docId} for agency ${agency}`);
      if (entry.outcome === 'conflict') {
        return fail('ACK_CONFLICT', `document ${docId} was already acknowledged ${entry.held} by agency ${agency}; the first acknowledgement stands`);
      }
      // A repeat sends the same receipt again: the sender's view does not change, and a receipt
      // lost with the first answer (broker down) is sent after all.
      await sendReceipt(entry.originHub, { docId, organId: agency, delivery: result === 'done' ? 'acked' : 'failed', trace: [] });
      return ok(undefined);
    },
  };
}

export type Pipeline = ReturnType<typeof createPipeline>;

/** What a seal covers, from a message (sealed by `sealHub` for hub `to`). */
function sealInput(m: Omit<HopMessage, 'seal' | 'sealHub'>, to: string, sealHub: string, digest: string): SealInput {
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
