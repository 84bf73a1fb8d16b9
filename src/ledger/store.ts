// The ledger: the hub's memory. An interface, so that PostgreSQL can stand behind it for
// replicas; sqlite.ts is the embedded default. The mailbox write carries its own dedupe key
// (doc id + recipient), so a redelivered message is absorbed: at-least-once transport,
// exactly-once mailbox.
import type { NationalAgency } from '../agency/registry.js';
import type { HopRecord } from '../hop/trace.js';
import type { PackageKind } from '../edxml/schema.js';
import type { StatsCell } from '../stats/report.js';

export const DELIVERY_STATES = ['queued', 'in_transit', 'delivered', 'acked', 'failed'] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];

export interface SubmittedDocument {
  docId: string;
  kind: PackageKind;
  sender: string;
  subject?: string;
  /** The edXML DocumentId, which statuses quote in ResponseFor. */
  documentId?: string;
  code?: string;
  digest: string;
  submittedAt: string;
}

export interface RecipientState {
  organId: string;
  delivery: DeliveryState;
  status?: string;
}

export interface SentItem {
  docId: string;
  kind: PackageKind;
  subject?: string;
  sentAt: string;
  recipients: RecipientState[];
}

export interface Delivery {
  docId: string;
  agency: string;
  kind: PackageKind;
  sender: string;
  subject?: string;
  statusCode?: string;
  originHub: string;
  bytes: Uint8Array;
  receivedAt: string;
  /** The code the package named, when the directory redirected it to this agency (a closed predecessor). */
  addressedTo?: string;
  /** The edXML DocumentId it has or answers (bounded), kept so that it can be carried on whole. */
  documentId?: string;
}

export interface ReceivedItem {
  docId: string;
  kind: PackageKind;
  from: string;
  subject?: string;
  statusCode?: string;
  receivedAt: string;
  /** The code the package named, when it was redirected to this agency. */
  addressedTo?: string;
}

export type AckResult = 'done' | 'fail';

/**
 * What an acknowledgement did. The first one is recorded and stands; the same one again is a
 * repeat; a different one is a conflict and changes nothing.
 */
export type AckOutcome =
  | { outcome: 'recorded' | 'repeated'; originHub: string; sender: string; addressedTo?: string }
  | { outcome: 'conflict'; held: AckResult };

export const CERT_STATES = ['active', 'retired', 'revoked'] as const;
export type CertState = (typeof CERT_STATES)[number];

/** A signing certificate registered for an agency (the trust store's registrations). */
export interface CertRecord {
  fingerprint: string;
  agency: string;
  pem: string;
  subject: string;
  notBefore: string;
  notAfter: string;
  state: CertState;
  /** From this moment the certificate no longer signs for the agency (rotation with overlap). */
  retireAt?: string;
  revokedAt?: string;
  reason?: string;
  addedAt: string;
  addedBy: string;
}

export interface CrlRecord { issuerFingerprint: string; der: Buffer; thisUpdate: string; importedAt: string; importedBy: string }

export interface DeadLetter {
  id: number;
  docId: string;
  kind: string;
  sender: string;
  reasonCode: string;
  reason: string;
  deadAt: string;
  headers: Record<string, string>;
  size: number;
  replayedAt?: string;
}

export interface DocumentQuery { organ?: string; since?: string; until?: string; status?: string; delivery?: DeliveryState; limit: number; offset: number }

export interface DocumentSummary {
  docId: string;
  firstSeen: string;
  /** What this hub was for the document. */
  role: 'origin' | 'destination' | 'transit';
  kind?: string;
  sender?: string;
  subject?: string;
  rejected: boolean;
}

export interface DeadLetterQuery { reason?: string; agency?: string; docId?: string; since?: string; until?: string; limit: number; offset: number }

/**
 * A fact for the statistics that no other table holds (issue 20): a package refused at its first
 * hop (nothing else is stored of it), a refusal at a later hop as the origin hub learns of it,
 * a package accepted under the legacy policy (unsigned or with a legacy algorithm), or a document
 * accepted with a recipient reached through the national axis (`sent_national`). Once per key.
 */
export interface ExchangeMark {
  key: string;
  at: string;
  agency: string;
  mark: 'refused_first' | 'refused_later' | 'legacy' | 'sent_national';
  /** The error code of a refusal; what was legacy about a package. */
  code: string;
}

/** An acknowledged package as the archive export writes it. */
export interface ArchivedPackage { docId: string; agency: string; sender: string; subject?: string; receivedAt: string; ackedAt: string; bytes: Buffer }

/** A document in a mailbox, not acknowledged. */
export interface UnackedItem { docId: string; agency: string; sender: string; subject?: string; receivedAt: string }

/** What the directory changed for one agency: closed into a successor (from a time), moved to a hub. */
export interface DirectoryEntry { code: string; successor: string | null; from: string | null; hubId: string | null }

/** A document waiting in a mailbox, with what it takes to carry it on to where its agency now is. */
export interface WaitingDocument {
  docId: string; kind: PackageKind; sender: string; subject?: string; statusCode?: string; originHub: string; bytes: Buffer; addressedTo?: string;
  documentId?: string;
}

export interface Ledger {
  /** Records an accepted submission with its recipients and first hop; 'existing' if known. */
  recordSubmission(doc: SubmittedDocument, recipients: readonly string[], hop: HopRecord): Promise<'new' | 'existing'>;
  /** Forgets a submission the broker did not take (the caller was answered 503: nothing accepted). */
  withdrawSubmission(docId: string): Promise<void>;
  submission(docId: string): Promise<(SubmittedDocument & { recipients: RecipientState[] }) | null>;
  sent(agency: string, limit: number): Promise<SentItem[]>;
  /**
   * Moves recipients' delivery forward (never back) and/or sets their business status, and
   * records trace entries, in one transaction.
   */
  updateRecipients(docId: string, organIds: readonly string[], patch: { delivery?: DeliveryState; status?: string }, trace?: readonly HopRecord[]): Promise<void>;
  /** The doc id of a sender's document (not status) by its edXML DocumentId. */
  findByDocumentId(sender: string, documentId: string): Promise<string | null>;

  /** Stores a package in a recipient's mailbox, in one transaction with its dedupe key and trace. */
  deliver(d: Delivery, trace: readonly HopRecord[]): Promise<'stored' | 'duplicate'>;
  received(agency: string, kind: PackageKind | undefined, limit: number): Promise<ReceivedItem[]>;
  /** How many packages wait in an agency's mailbox (not yet acknowledged). */
  countReceived(agency: string, kind: PackageKind | undefined): Promise<number>;
  /** 'gone': retention removed the package's bytes (its row, trace and counts stay). */
  download(agency: string, docId: string): Promise<Buffer | 'gone' | null>;
  /** null: no such document in the agency's mailbox. */
  ack(agency: string, docId: string, result: AckResult, reason: string | undefined): Promise<AckOutcome | null>;
  isRecipient(agency: string, docId: string): Promise<boolean>;

  appendTrace(docId: string, hops: readonly HopRecord[]): Promise<void>;
  /** Every document this hub handled (its trace), with what it knows of each. */
  searchDocuments(q: DocumentQuery): Promise<{ items: DocumentSummary[]; total: number }>;
  /** Who received a document here, and when they acknowledged it. */
  mailboxEntries(docId: string): Promise<{ agency: string; receivedAt: string; ackedAt?: string; ackResult?: string }[]>;
  trace(docId: string): Promise<HopRecord[]>;

  /** The trust store: agencies' registered certificates and the latest CRL of each CA. */
  certificates(): Promise<CertRecord[]>;
  /** Inserts a certificate unless its fingerprint is known; true if inserted. */
  addCertificate(record: CertRecord): Promise<boolean>;
  updateCertificate(fingerprint: string, patch: Partial<Pick<CertRecord, 'state' | 'retireAt' | 'revokedAt' | 'reason'>>): Promise<boolean>;
  crls(): Promise<CrlRecord[]>;
  /** Keeps the CRL if it is newer than the one held for its CA; true if kept. */
  putCrl(record: CrlRecord): Promise<boolean>;

  /** The dead-letter channel's store: everything dead-lettered at this hub, browsable without touching a queue. */
  addDeadLetter(d: Omit<DeadLetter, 'id' | 'size' | 'replayedAt'> & { body: Buffer; messageKey: string }): Promise<'stored' | 'duplicate'>;
  deadLetters(q: DeadLetterQuery): Promise<{ items: DeadLetter[]; total: number }>;
  deadLetter(id: number): Promise<(DeadLetter & { body: Buffer }) | null>;
  markDeadLetter(id: number, change: 'replayed' | 'deleted', at: string): Promise<boolean>;

  /** Agencies registered at run time (those of the configuration are not repeated here). */
  agencies(): Promise<{ code: string; name: string; parent: string | null; hubId: string; apiKeyHash: string }[]>;
  addAgency(a: { code: string; name: string; parent: string | null; hubId: string; apiKeyHash: string }, at: string, by: string): Promise<boolean>;

  /** Trusted CAs (several at once). */
  trustedCas(): Promise<{ fingerprint: string; pem: string; addedAt: string; addedBy: string }[]>;
  addTrustedCa(fingerprint: string, pem: string, at: string, by: string): Promise<boolean>;
  removeTrustedCa(fingerprint: string): Promise<boolean>;
  /**
   * Trust changes from the broker, last writer wins per subject (a CA, a certificate, an agency:
   * admin/trust-versions.ts). Records the version `(at, digest)` for each subject it is not older
   * than, each in one compare-and-set, and answers those subjects. A version is newer when its
   * `at` is later, or the same with a greater digest; the same version again holds (a broker
   * redelivery, a sibling replica). `at` is written as toISOString writes it and `digest` as
   * lowercase hex, so that both order as text.
   */
  claimTrustVersions(subjects: readonly string[], at: string, digest: string): Promise<string[]>;
  /** Seal certificates accepted from each hub (several during a key rotation). */
  hubCertificates(): Promise<{ hubId: string; fingerprint: string; pem: string; addedAt: string }[]>;
  addHubCertificate(hubId: string, fingerprint: string, pem: string, at: string): Promise<boolean>;
  /** This hub's own seal key in use, once rotated away from the configured one. */
  activeSealKey(): Promise<{ keyFile: string; certPem: string } | null>;
  activateSealKey(keyFile: string, certPem: string, at: string): Promise<void>;

  /** Whether the store answers a trivial read now (for /readyz); never throws. */
  reachable(): Promise<boolean>;
  audit(actor: string, action: string, detail: Record<string, unknown>): Promise<void>;
  auditLog(limit: number): Promise<{ at: string; actor: string; action: string; detail: Record<string, unknown> }[]>;
  close(): Promise<void>;

  // System accounts of the SDK dialect (issue 17): one account reads and sends for every agency
  // whose code matches one of its patterns (an agency code, or `*.` and a code's last segments).
  /** Waiting packages of the matching agencies' mailboxes: one row per package and agency, oldest first. */
  receivedMatching(patterns: readonly string[], kind: PackageKind | undefined, limit: number): Promise<(ReceivedItem & { agency: string })[]>;
  /** How many packages (each counted once, whatever the number of matching recipients) wait in those mailboxes. */
  countReceivedMatching(patterns: readonly string[], kind: PackageKind | undefined): Promise<number>;
  /** Documents submitted here by the matching agencies, newest first. */
  sentMatching(patterns: readonly string[], limit: number): Promise<(SentItem & { sender: string })[]>;

  // Seal keys shared by a hub's replicas (issue 18): a rotated key and its confirmations live in
  // the ledger, so that whichever replica rotates, every replica (and one started later) seals with it.
  /** Keeps a new seal key, not in use yet, while its certificate waits for the neighbours' confirmations. */
  stageSealKey(fingerprint: string, keyPem: string, certPem: string, at: string): Promise<void>;
  /** Hub `by` trusts this hub's certificate `fingerprint`; true if newly recorded. */
  confirmSealKey(fingerprint: string, by: string, at: string): Promise<boolean>;
  /** The hubs that have confirmed the certificate `fingerprint`. */
  sealKeyConfirmations(fingerprint: string): Promise<string[]>;
  /** Makes a staged key the one in use; false if no key is staged under that fingerprint. */
  activateStagedSealKey(fingerprint: string, at: string): Promise<boolean>;
  /** The staged key activated last, or null. */
  currentSealKey(): Promise<SealKey | null>;

  // The national directory (issue 17): the last good copy of the axis's getAgenciesList, kept
  // by every hub of a network linked to the axis.
  nationalDirectory(): Promise<{ entries: NationalAgency[]; fetchedAt: string } | null>;
  /** Replaces the copy held, unless it is newer than `fetchedAt`; true if replaced. */
  saveNationalDirectory(entries: readonly NationalAgency[], fetchedAt: string): Promise<boolean>;


  // ---- Exchange statistics (issue 20): counts per agency and Asia/Ho_Chi_Minh day, kept in the ledger ----
  recordExchangeMark(mark: ExchangeMark): Promise<void>;
  /**
   * Rolls up, from the ledger's own tables, each day that ended before `now` (less a grace) and is
   * not rolled up yet; idempotent, so replicas may race. Answers how many days it rolled up.
   */
  rollUpStats(now: Date): Promise<number>;
  /** Counts per agency, day or month over the days [from, to]: rolled-up days, and the rest counted now. */
  exchangeStats(q: { from: string; to: string; by: 'agency' | 'day' | 'month' }): Promise<StatsCell[]>;
  /** Refusals by hop and error code over the days [from, to]. */
  refusalsByCode(from: string, to: string): Promise<{ hop: 'first' | 'later'; code: string; count: number }[]>;
  /** Documents delivered before `receivedBefore` and not acknowledged, oldest first. */
  unacknowledged(receivedBefore: string, limit: number): Promise<UnackedItem[]>;

  // ---- Retention (issue 20): package bytes and dead letters do not stay forever ----
  /** Packages acknowledged before `ackedBefore` whose bytes are still held, by doc id then agency, after `after`. */
  archivePackages(ackedBefore: string, after: { docId: string; agency: string } | null, limit: number): Promise<ArchivedPackage[]>;
  /** Removes the bytes of packages acknowledged before `ackedBefore` (an empty package marks them gone); how many. */
  removePackageBytes(ackedBefore: string): Promise<number>;
  /** Removes dead letters that died before `deadBefore`; how many. */
  removeDeadLetters(deadBefore: string): Promise<number>;


  // The agency directory after a restructuring (issue 19): closures, moves, retired hubs.
  /** One row per agency the directory changed. */
  directoryEntries(): Promise<DirectoryEntry[]>;
  /** Records closures and moves (each field given replaces the one held), in one transaction. */
  putDirectoryEntries(entries: readonly DirectoryEntry[]): Promise<void>;
  /** Hubs retired into another (their agencies and child hubs went there). */
  hubRetirements(): Promise<{ hubId: string; into: string }[]>;
  retireHub(hubId: string, into: string, at: string): Promise<boolean>;
  /** Agencies with documents waiting here that have not been carried on yet. */
  waitingAgencies(): Promise<string[]>;
  waitingDocuments(agency: string): Promise<WaitingDocument[]>;
  /** The document was carried on to `to`: it is not carried again (the agency may still read and acknowledge it). */
  markMoved(agency: string, docId: string, to: string): Promise<void>;

  // ---- Console sessions, the console's key and lane pauses shared by a hub's replicas (issue 18) ----
  /**
   * Keeps a console session by the SHA-256 hash of its id (`admin`: who signed in, as the console
   * wrote it); removes those ended by `openedAt`, then all but the newest `max`.
   */
  openConsoleSession(s: { idHash: string; admin: string; openedAt: string; endsAt: string }, max: number): Promise<void>;
  /** The admin of a session that ends after `now`, or null. */
  consoleSession(idHash: string, now: string): Promise<string | null>;
  closeConsoleSession(idHash: string): Promise<void>;
  /** The hub's secret `name`: `candidate` if none was kept yet, else the one kept (every replica gets the same). */
  hubSecret(name: string, candidate: string, at: string): Promise<string>;
  /** The queues whose lanes an operator paused, on every replica. */
  pausedLanes(): Promise<string[]>;
  /** Records a lane paused or resumed; true if that changed anything. */
  setLanePaused(queue: string, paused: boolean, at: string, by: string): Promise<boolean>;

  // ---- What the hub's alerts last said, shared by its replicas (issue 18) ----
  /** The value last remembered for alert `name`, or null. */
  alertMemory(name: string): Promise<string | null>;
  /** Remembers `value` for alert `name` if it still holds `previous` (null: nothing yet); true if this call did (it then alerts). */
  rememberAlert(name: string, value: string, at: string, previous: string | null): Promise<boolean>;
}

export interface SealKey { fingerprint: string; keyPem: string; certPem: string; activatedAt: string }

/**
 * The ledger's server cannot be reached (down, restarting, the network cut): nothing was done,
 * and the same call may succeed later. Consumers hold their message and retry rather than fail
 * it (bus/consumer.ts); the HTTP edge answers 503 UNAVAILABLE.
 */
export class LedgerUnavailable extends Error {
  override name = 'LedgerUnavailable';

}
