// What one hop passes to the next, as typed data: the package bytes and the fields that route and
// trace it. One zod schema per shape, bounded at every hop (a transport encodes the fields in a
// table of bounded size: bus/message.ts), and the types inferred from it.
import { createHash } from 'node:crypto';
import { z } from 'zod';

export const SUBJECT_CHARS = 256;
export const DOCUMENT_ID_CHARS = 256;
export const MAX_HOPS = 32;
const SHORT = 64; // hub ids, agency codes, check names and outcomes, timestamps
const Short = z.string().max(SHORT);

const MESSAGE_KINDS = ['edoc', 'status', 'receipt'] as const;

/** One hop's entry in a document's trace: each check's outcome is 'ok' or the error code. */
export const HopRecordSchema = z.object({
  hub: Short, at: Short, verdict: z.enum(['accepted', 'rejected']),
  checks: z.record(Short, Short).refine((c) => Object.keys(c).length <= 16, 'more than 16 checks'), ms: z.number().optional(),
});
export type HopRecord = z.output<typeof HopRecordSchema>;

/** The fields of a message between hubs (everything but its body). */
export const HopFieldsSchema = z.object({
  kind: z.enum(MESSAGE_KINDS),
  docId: z.string().min(1).max(SHORT),
  originHub: Short,
  sender: Short,
  recipients: z.array(Short).min(1),
  trace: z.array(HopRecordSchema).max(MAX_HOPS),
  seal: z.string().max(2048),
  sealHub: Short,
  /** The edXML DocumentId the package has (edoc) or answers (status ResponseFor), bounded by boundedDocumentId. */
  documentId: z.string().max(DOCUMENT_ID_CHARS).optional(),
  statusCode: Short.optional(),
  /** The subject for mailbox listings, cut by boundedSubject. */
  subject: z.string().max(SUBJECT_CHARS).optional(),
});
export type HopMessage = z.output<typeof HopFieldsSchema> & { body: Buffer };

/** The subject as it travels: at most SUBJECT_CHARS characters (the last one an ellipsis when cut). */
export function boundedSubject(subject: string): string {
  const chars = [...subject];
  return chars.length <= SUBJECT_CHARS ? subject : `${chars.slice(0, SUBJECT_CHARS - 1).join('')}…`;
}

/**
 * A DocumentId as it travels and as the ledger keys it: itself up to DOCUMENT_ID_CHARS, else its
 * SHA-256 (derived the same way everywhere, so a status still finds the document it answers).
 */
export function boundedDocumentId(documentId: string): string {
  return documentId.length <= DOCUMENT_ID_CHARS ? documentId : `sha256:${createHash('sha256').update(documentId, 'utf8').digest('hex')}`;
}
