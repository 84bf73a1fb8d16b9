// What travels on the bus: the package bytes untouched as the body, everything else in AMQP
// headers, validated with zod when read back (headers are a boundary). Headers have a bounded
// size at every hop: amqplib encodes a header table in a 64 KiB buffer, and a table it cannot
// encode would stick at the hop that tries. So the subject travels cut to SUBJECT_CHARS (the
// package holds it whole), a long DocumentId as its SHA-256, the trace at most MAX_HOPS records
// of bounded fields, and every message's headers within MAX_HEADER_BYTES.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { HopRecord } from '../hop/seal.js';

export const SUBJECT_CHARS = 256;
export const DOCUMENT_ID_CHARS = 256;
export const MAX_HOPS = 32;
export const MAX_HEADER_BYTES = 16 * 1024;
const SHORT = 64; // hub ids, agency codes, check names and outcomes, timestamps

export const MESSAGE_KINDS = ['edoc', 'status', 'receipt'] as const;
export type MessageKind = (typeof MESSAGE_KINDS)[number];

const Json = <T extends z.ZodType>(schema: T) => z.string().transform((s, ctx) => {
  try {
    return JSON.parse(s) as unknown;
  } catch {
    ctx.addIssue({ code: 'custom', message: 'not JSON' });
    return z.NEVER;
  }
}).pipe(schema);

const Short = z.string().max(SHORT);
export const HopRecordSchema = z.object({
  hub: Short, at: Short, verdict: z.enum(['accepted', 'rejected']),
  checks: z.record(Short, Short).refine((c) => Object.keys(c).length <= 16, 'more than 16 checks'), ms: z.number().optional(),
});

export const HopHeaders = z.object({
  'x-lgsp-kind': z.enum(MESSAGE_KINDS),
  'x-lgsp-doc-id': z.string().min(1).max(SHORT),
  'x-lgsp-origin-hub': Short,
  'x-lgsp-sender': Short,
  'x-lgsp-recipients': Json(z.array(Short).min(1)),
  'x-lgsp-trace': Json(z.array(HopRecordSchema).max(MAX_HOPS)),
  'x-lgsp-seal': z.string().max(2048),
  'x-lgsp-seal-hub': Short,
  /** The edXML DocumentId the package has (edoc) or answers (status ResponseFor), bounded by headerDocumentId. */
  'x-lgsp-document-id': z.string().max(DOCUMENT_ID_CHARS).optional(),
  'x-lgsp-status-code': Short.optional(),
  /** The subject for mailbox listings, cut by headerSubject. */
  'x-lgsp-subject': z.string().max(SUBJECT_CHARS).optional(),
});
export type HopHeaders = z.output<typeof HopHeaders>;

export interface HopMessage {
  body: Buffer;
  kind: MessageKind;
  docId: string;
  originHub: string;
  sender: string;
  recipients: string[];
  trace: HopRecord[];
  seal: string;
  sealHub: string;
  statusCode?: string;
  documentId?: string;
  subject?: string;
}

export function toHeaders(m: HopMessage): Record<string, string> {
  const h: Record<string, string> = {
    'x-lgsp-kind': m.kind, 'x-lgsp-doc-id': m.docId, 'x-lgsp-origin-hub': m.originHub, 'x-lgsp-sender': m.sender,
    'x-lgsp-recipients': JSON.stringify(m.recipients), 'x-lgsp-trace': JSON.stringify(m.trace),
    'x-lgsp-seal': m.seal, 'x-lgsp-seal-hub': m.sealHub,
  };
  if (m.statusCode !== undefined) h['x-lgsp-status-code'] = m.statusCode;
  if (m.documentId !== undefined) h['x-lgsp-document-id'] = m.documentId;
  if (m.subject !== undefined) h['x-lgsp-subject'] = m.subject;
  return h;
}

export function fromAmqp(body: Buffer, headers: unknown): HopMessage | { error: string } {
  const parsed = HopHeaders.safeParse(stringHeaders(headers));
  if (!parsed.success) return { error: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') };
  const h = parsed.data;
  const m: HopMessage = {
    body, kind: h['x-lgsp-kind'], docId: h['x-lgsp-doc-id'], originHub: h['x-lgsp-origin-hub'], sender: h['x-lgsp-sender'],
    recipients: h['x-lgsp-recipients'], trace: h['x-lgsp-trace'], seal: h['x-lgsp-seal'], sealHub: h['x-lgsp-seal-hub'],
  };
  if (h['x-lgsp-status-code'] !== undefined) m.statusCode = h['x-lgsp-status-code'];
  if (h['x-lgsp-document-id'] !== undefined) m.documentId = h['x-lgsp-document-id'];
  if (h['x-lgsp-subject'] !== undefined) m.subject = h['x-lgsp-subject'];
  return m;
}

/** The subject as it travels: at most SUBJECT_CHARS characters (the last one an ellipsis when cut). */
export function headerSubject(subject: string): string {
  const chars = [...subject];
  return chars.length <= SUBJECT_CHARS ? subject : `${chars.slice(0, SUBJECT_CHARS - 1).join('')}…`;
}

/**
 * A DocumentId as it travels and as the ledger keys it: itself up to DOCUMENT_ID_CHARS, else its
 * SHA-256 (derived the same way everywhere, so a status still finds the document it answers).
 */
export function headerDocumentId(documentId: string): string {
  return documentId.length <= DOCUMENT_ID_CHARS ? documentId : `sha256:${createHash('sha256').update(documentId, 'utf8').digest('hex')}`;
}

/** The encoded size of a header table, near enough (AMQP adds a few bytes per entry). */
export function headerBytes(headers: Record<string, string>): number {
  return Object.entries(headers).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v) + 6, 0);
}

/**
 * Headers a hub copies onto a message it did not write (a dead letter): at most 24, each value
 * cut to 2 KiB, so that whatever a message arrived with, its dead letter can be published.
 */
export function boundedHeaders(headers: unknown): Record<string, string> {
  return Object.fromEntries(Object.entries(stringHeaders(headers)).slice(0, 24).map(([k, v]) => [k.slice(0, SHORT), v.slice(0, 2048)]));
}

/** AMQP headers as strings (amqplib returns long string values as Buffers). */
export function stringHeaders(headers: unknown): Record<string, string> {
  if (headers === null || typeof headers !== 'object') return {};
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, Buffer.isBuffer(v) ? v.toString('utf8') : String(v)]));
}
