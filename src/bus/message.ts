// What travels on the bus: the package bytes untouched as the body, everything else in AMQP
// headers, validated with zod when read back (headers are a boundary).
import { z } from 'zod';
import type { HopRecord } from '../hop/seal.js';

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

export const HopRecordSchema = z.object({
  hub: z.string(), at: z.string(), verdict: z.enum(['accepted', 'rejected']),
  checks: z.record(z.string(), z.string()), ms: z.number().optional(),
});

export const HopHeaders = z.object({
  'x-lgsp-kind': z.enum(MESSAGE_KINDS),
  'x-lgsp-doc-id': z.string().min(1),
  'x-lgsp-origin-hub': z.string(),
  'x-lgsp-sender': z.string(),
  'x-lgsp-recipients': Json(z.array(z.string()).min(1)),
  'x-lgsp-trace': Json(z.array(HopRecordSchema)),
  'x-lgsp-seal': z.string(),
  'x-lgsp-seal-hub': z.string(),
  /** The edXML DocumentId the package has (edoc) or answers (status ResponseFor). */
  'x-lgsp-document-id': z.string().optional(),
  'x-lgsp-status-code': z.string().optional(),
  'x-lgsp-subject': z.string().optional(),
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

/** AMQP headers as strings (amqplib returns long string values as Buffers). */
export function stringHeaders(headers: unknown): Record<string, string> {
  if (headers === null || typeof headers !== 'object') return {};
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, Buffer.isBuffer(v) ? v.toString('utf8') : String(v)]));
}
