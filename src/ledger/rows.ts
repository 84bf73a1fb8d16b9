// The tables both SQL ledgers keep (sqlite.ts and postgres.ts: same tables, same columns): each
// row's shape, parsed where a row is read back (a boundary), and the ledger value made from it.
// Also the state ranks their compare-and-set statements share.
import { z } from 'zod';
import type { HopRecord } from '../hop/trace.js';
import {
  CERT_STATES, DELIVERY_STATES, type AckOutcome, type AckResult, type CertRecord, type CrlRecord, type DeadLetter, type DeliveryState, type DocumentSummary,
  type DirectoryEntry, type ReceivedItem, type RecipientState, type SealKey, type SubmittedDocument, type WaitingDocument,
} from './store.js';

// State moves are single statements that compare and set in the database itself, so that two
// processes sharing one ledger can never move a state backwards (no read-modify-write).
export const DELIVERY_RANK: Record<DeliveryState, number> = { queued: 0, in_transit: 1, delivered: 2, acked: 3, failed: 4 };
export const CERT_RANK: Record<(typeof CERT_STATES)[number], number> = { active: 0, retired: 1, revoked: 2 };
/** A SQL expression ranking a state column or parameter by `rank`. */
export const rankOf = (expr: string, rank: Record<string, number>) =>
  `(CASE ${expr} ${Object.entries(rank).map(([state, n]) => `WHEN '${state}' THEN ${n}`).join(' ')} END)`;

const Kind = z.enum(['edoc', 'status']);
const Text = z.string().nullable();
/** Omits a field whose column is NULL. */
const optional = <K extends string>(key: K, value: string | null) => (value === null ? {} : { [key]: value } as Record<K, string>);

const DocumentRow = z.object({
  doc_id: z.string(), kind: Kind, sender: z.string(), subject: Text, document_id: Text, code: Text, digest: z.string(), submitted_at: z.string(),
});
export function documentOf(r: unknown): SubmittedDocument {
  const row = DocumentRow.parse(r);
  return {
    docId: row.doc_id, kind: row.kind, sender: row.sender, digest: row.digest, submittedAt: row.submitted_at,
    ...optional('subject', row.subject), ...optional('documentId', row.document_id), ...optional('code', row.code),
  };
}

const RecipientRow = z.object({ organ_id: z.string(), delivery: z.enum(DELIVERY_STATES), status: Text });
export function recipientOf(r: unknown): RecipientState {
  const row = RecipientRow.parse(r);
  return { organId: row.organ_id, delivery: row.delivery, ...optional('status', row.status) };
}

const MailboxRow = z.object({ doc_id: z.string(), kind: Kind, sender: z.string(), subject: Text, status_code: Text, received_at: z.string(), addressed_to: Text });
export function receivedOf(r: unknown): ReceivedItem {
  const row = MailboxRow.parse(r);
  return {
    docId: row.doc_id, kind: row.kind, from: row.sender, receivedAt: row.received_at,
    ...optional('subject', row.subject), ...optional('statusCode', row.status_code), ...optional('addressedTo', row.addressed_to),
  };
}

/** A document's doc id, from `SELECT doc_id`. */
export function documentIdOf(r: unknown): string {
  return z.object({ doc_id: z.string() }).parse(r).doc_id;
}

const AckedRow = z.object({ origin_hub: z.string(), sender: z.string(), ack_result: z.enum(['done', 'fail']), addressed_to: Text });
/**
 * What an acknowledgement did, from the mailbox row read after its conditional UPDATE: recorded
 * (that UPDATE changed the row), a repeat of the one held, or a conflict with it.
 */
export function ackOutcomeOf(r: unknown, recorded: boolean, result: AckResult): AckOutcome {
  const row = AckedRow.parse(r);
  if (!recorded && row.ack_result !== result) return { outcome: 'conflict', held: row.ack_result };
  return { outcome: recorded ? 'recorded' : 'repeated', originHub: row.origin_hub, sender: row.sender, ...optional('addressedTo', row.addressed_to) };
}

const MailboxEntryRow = z.object({ agency: z.string(), received_at: z.string(), acked_at: Text, ack_result: Text });
export function mailboxEntryOf(r: unknown): { agency: string; receivedAt: string; ackedAt?: string; ackResult?: string } {
  const row = MailboxEntryRow.parse(r);
  return { agency: row.agency, receivedAt: row.received_at, ...optional('ackedAt', row.acked_at), ...optional('ackResult', row.ack_result) };
}

const TraceRow = z.object({ hub: z.string(), at: z.string(), verdict: z.enum(['accepted', 'rejected']), checks: z.string(), ms: z.number().nullable() });
export function traceOf(r: unknown): HopRecord {
  const row = TraceRow.parse(r);
  return { hub: row.hub, at: row.at, verdict: row.verdict, checks: JSON.parse(row.checks) as Record<string, string>, ...(row.ms === null ? {} : { ms: row.ms }) };
}

const CertRow = z.object({
  fingerprint: z.string(), agency: z.string(), pem: z.string(), subject: z.string(), not_before: z.string(), not_after: z.string(),
  state: z.enum(CERT_STATES), retire_at: Text, revoked_at: Text, reason: Text, added_at: z.string(), added_by: z.string(),
});
export function certOf(r: unknown): CertRecord {
  const row = CertRow.parse(r);
  return {
    fingerprint: row.fingerprint, agency: row.agency, pem: row.pem, subject: row.subject, notBefore: row.not_before, notAfter: row.not_after,
    state: row.state, addedAt: row.added_at, addedBy: row.added_by,
    ...optional('retireAt', row.retire_at), ...optional('revokedAt', row.revoked_at), ...optional('reason', row.reason),
  };
}

const CrlRow = z.object({ issuer_fingerprint: z.string(), der: z.instanceof(Buffer), this_update: z.string(), imported_at: z.string(), imported_by: z.string() });
export function crlOf(r: unknown): CrlRecord {
  const row = CrlRow.parse(r);
  return { issuerFingerprint: row.issuer_fingerprint, der: row.der, thisUpdate: row.this_update, importedAt: row.imported_at, importedBy: row.imported_by };
}

const DeadRow = z.object({
  id: z.number(), doc_id: z.string(), kind: z.string(), sender: z.string(), reason_code: z.string(), reason: z.string(),
  dead_at: z.string(), headers: z.string(), size: z.number(), replayed_at: Text,
});
export function deadLetterOf(r: unknown): DeadLetter {
  const row = DeadRow.parse(r);
  return {
    id: row.id, docId: row.doc_id, kind: row.kind, sender: row.sender, reasonCode: row.reason_code, reason: row.reason, deadAt: row.dead_at,
    headers: JSON.parse(row.headers) as Record<string, string>, size: row.size, ...optional('replayedAt', row.replayed_at),
  };
}

/** A row's bytes column (a package in the mailbox, a dead letter's body). */
export function bytesOf(r: unknown, column: 'bytes' | 'body'): Buffer {
  return z.object({ [column]: z.instanceof(Buffer) }).parse(r)[column]!;
}

/** A mailbox package's bytes; none left means retention removed them (a package is never empty). */
export function packageOf(r: unknown): Buffer | 'gone' {
  const bytes = bytesOf(r, 'bytes');
  return bytes.length === 0 ? 'gone' : bytes;
}

const SearchRow = z.object({
  // SQLite answers max(verdict = 'rejected') as 0/1, PostgreSQL bool_or(…) as a boolean.
  doc_id: z.string(), first_seen: z.string(), rejected: z.union([z.boolean(), z.number()]).transform((v) => v === true || v === 1),
  origin: Text, delivered: Text, kind: Text, sender: Text, subject: Text,
});
export function summaryOf(r: unknown): DocumentSummary {
  const row = SearchRow.parse(r);
  return {
    docId: row.doc_id, firstSeen: row.first_seen, rejected: row.rejected,
    role: row.origin !== null ? 'origin' : row.delivered !== null ? 'destination' : 'transit',
    ...optional('kind', row.kind), ...optional('sender', row.sender), ...optional('subject', row.subject),
  };
}

const AgencyRow = z.object({ code: z.string(), name: z.string(), parent: Text, hub_id: z.string(), api_key_hash: z.string() });
export function agencyOf(r: unknown): { code: string; name: string; parent: string | null; hubId: string; apiKeyHash: string } {
  const row = AgencyRow.parse(r);
  return { code: row.code, name: row.name, parent: row.parent, hubId: row.hub_id, apiKeyHash: row.api_key_hash };
}

const CaRow = z.object({ fingerprint: z.string(), pem: z.string(), added_at: z.string(), added_by: z.string() });
export function caOf(r: unknown): { fingerprint: string; pem: string; addedAt: string; addedBy: string } {
  const row = CaRow.parse(r);
  return { fingerprint: row.fingerprint, pem: row.pem, addedAt: row.added_at, addedBy: row.added_by };
}

const HubCertRow = z.object({ hub_id: z.string(), fingerprint: z.string(), pem: z.string(), added_at: z.string() });
export function hubCertOf(r: unknown): { hubId: string; fingerprint: string; pem: string; addedAt: string } {
  const row = HubCertRow.parse(r);
  return { hubId: row.hub_id, fingerprint: row.fingerprint, pem: row.pem, addedAt: row.added_at };
}

const SealKeyRow = z.object({ key_file: z.string(), cert_pem: z.string() });
export function sealKeyOf(r: unknown): { keyFile: string; certPem: string } {
  const row = SealKeyRow.parse(r);
  return { keyFile: row.key_file, certPem: row.cert_pem };
}

const AuditRow = z.object({ at: z.string(), actor: z.string(), action: z.string(), detail: z.string() });
export function auditOf(r: unknown): { at: string; actor: string; action: string; detail: Record<string, unknown> } {
  const row = AuditRow.parse(r);
  return { at: row.at, actor: row.actor, action: row.action, detail: JSON.parse(row.detail) as Record<string, unknown> };
}

const Count = z.object({ n: z.coerce.number() });
/** A `SELECT count(*) AS n` row (PostgreSQL answers count(*) as a string). */
export function countOf(r: unknown): number {
  return Count.parse(r).n;
}

/** A waiting package and the agency whose mailbox holds it (system accounts, issue 17). */
export function receivedInOf(r: unknown): ReceivedItem & { agency: string } {
  return { ...receivedOf(r), agency: z.object({ agency: z.string() }).parse(r).agency };
}

/** A code pattern (agency/code.ts) as a LIKE pattern: codes hold neither % nor _, so only * needs mapping. */
export function likeOf(pattern: string): string {
  return pattern.startsWith('*.') ? `%${pattern.slice(1)}` : pattern;
}

// Seal keys shared by a hub's replicas (issue 18).
const SealKeyPemRow = z.object({ fingerprint: z.string(), key_pem: z.string(), cert_pem: z.string(), activated_at: z.string() });
export function sealKeyPemOf(r: unknown): SealKey {
  const row = SealKeyPemRow.parse(r);
  return { fingerprint: row.fingerprint, keyPem: row.key_pem, certPem: row.cert_pem, activatedAt: row.activated_at };
}
const ConfirmationRow = z.object({ by_hub: z.string() });
export const confirmationOf = (r: unknown): string => ConfirmationRow.parse(r).by_hub;

// A trust change's subject whose version a claim recorded (issue 14 item 5).
const SubjectRow = z.object({ subject: z.string() });
export const subjectOf = (r: unknown): string => SubjectRow.parse(r).subject;

// The national directory (issue 17): one row, its entries as JSON.
const NationalEntry = z.object({ id: z.string(), pid: z.string(), code: z.string(), name: z.string(), mail: z.string(), oldCode: z.string() });
const NationalDirectoryRow = z.object({ entries: z.string(), fetched_at: z.string() });

export function nationalDirectoryOf(r: unknown): { entries: z.output<typeof NationalEntry>[]; fetchedAt: string } {
  const row = NationalDirectoryRow.parse(r);
  return { entries: z.array(NationalEntry).parse(JSON.parse(row.entries)), fetchedAt: row.fetched_at };
}

// The agency directory after a restructuring (issue 19).
const DirectoryRow = z.object({ code: z.string(), successor: Text, successor_from: Text, hub_id: Text });
export function directoryEntryOf(r: unknown): DirectoryEntry {
  const row = DirectoryRow.parse(r);
  return { code: row.code, successor: row.successor, from: row.successor_from, hubId: row.hub_id };
}

const RetirementRow = z.object({ hub_id: z.string(), into: z.string() });
export function retirementOf(r: unknown): { hubId: string; into: string } {
  const row = RetirementRow.parse(r);
  return { hubId: row.hub_id, into: row.into };
}

const WaitingRow = z.object({
  doc_id: z.string(), kind: Kind, sender: z.string(), subject: Text, status_code: Text, origin_hub: z.string(), addressed_to: Text, document_id: Text,
});
export function waitingOf(r: unknown): WaitingDocument {
  const row = WaitingRow.parse(r);
  return {
    docId: row.doc_id, kind: row.kind, sender: row.sender, originHub: row.origin_hub, bytes: bytesOf(r, 'bytes'),
    ...optional('subject', row.subject), ...optional('statusCode', row.status_code), ...optional('addressedTo', row.addressed_to),
    ...optional('documentId', row.document_id),
  };
}

export function agencyCodeOf(r: unknown): string {
  return z.object({ agency: z.string() }).parse(r).agency;
}
