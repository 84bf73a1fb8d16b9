// The ledger: the hub's memory. An interface, so that PostgreSQL can stand behind it for
// replicas; sqlite.ts is the embedded default. The mailbox write carries its own dedupe key
// (doc id + recipient), so a redelivered message is absorbed: at-least-once transport,
// exactly-once mailbox.
import type { HopRecord } from '../hop/seal.js';
import type { PackageKind } from '../edxml/schema.js';

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
}

export interface ReceivedItem {
  docId: string;
  kind: PackageKind;
  from: string;
  subject?: string;
  statusCode?: string;
  receivedAt: string;
}

export type AckResult = 'done' | 'fail';

export interface Ledger {
  /** Records an accepted submission with its recipients and first hop; 'existing' if known. */
  recordSubmission(doc: SubmittedDocument, recipients: readonly string[], hop: HopRecord): Promise<'new' | 'existing'>;
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
  download(agency: string, docId: string): Promise<Buffer | null>;
  ack(agency: string, docId: string, result: AckResult, reason: string | undefined): Promise<{ originHub: string; sender: string } | null>;
  isRecipient(agency: string, docId: string): Promise<boolean>;

  appendTrace(docId: string, hops: readonly HopRecord[]): Promise<void>;
  trace(docId: string): Promise<HopRecord[]>;

  audit(actor: string, action: string, detail: Record<string, unknown>): Promise<void>;
  close(): Promise<void>;
}
