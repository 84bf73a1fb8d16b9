// A hop message on the bus (its encoding and decoding): the package bytes untouched as the body,
// every other field in an AMQP header, validated with the core's zod schema when read back
// (headers are a boundary). Headers have a bounded size at every hop: amqplib encodes a header
// table in a 64 KiB buffer, and a table it cannot encode would stick at the hop that tries. So
// the fields are bounded (hop/trace.ts: the subject cut, a long DocumentId as its SHA-256, at
// most MAX_HOPS trace records) and every message's headers stay within MAX_HEADER_BYTES.
import { z } from 'zod';
import { HopFieldsSchema, type HopMessage } from '../hop/trace.js';

export const MAX_HEADER_BYTES = 16 * 1024;
const SHORT = 64;

const Json = <T extends z.ZodType>(schema: T) => z.string().transform((s, ctx) => {
  try {
    return JSON.parse(s) as unknown;
  } catch {
    ctx.addIssue({ code: 'custom', message: 'not JSON' });
    return z.NEVER;
  }
}).pipe(schema);

// The header names of a hop message's fields; each field's schema is the core's (hop/trace.ts).
const F = HopFieldsSchema.shape;
const HopHeaders = z.object({
  'x-lgsp-kind': F.kind,
  'x-lgsp-doc-id': F.docId,
  'x-lgsp-origin-hub': F.originHub,
  'x-lgsp-sender': F.sender,
  'x-lgsp-recipients': Json(F.recipients),
  'x-lgsp-trace': Json(F.trace),
  'x-lgsp-seal': F.seal,
  'x-lgsp-seal-hub': F.sealHub,
  'x-lgsp-document-id': F.documentId,
  'x-lgsp-status-code': F.statusCode,
  'x-lgsp-subject': F.subject,
});

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
