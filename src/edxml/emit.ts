// Writing edXML: status packages the hub emits (02 rejections) and documents for demos, in the
// national axis's sample layout exactly (default namespace on the root, edXML: prefixes on the
// children, the envelope redeclaring it, AttachmentEncoded after the envelope): the axis rejects
// other layouts. fast-xml-parser's builder writes and escapes the elements.
import { XMLBuilder } from 'fast-xml-parser';
import { EDXML_NS } from './namespace.js';
import type { StatusCode } from './header.js';

export interface OrganizationInput { OrganId: string; OrganName?: string; OrganizationInCharge?: string }

export interface StatusInput {
  from: OrganizationInput;
  responseFor: { OrganId: string; Code?: string; PromulgationDate?: string; DocumentId?: string };
  statusCode: StatusCode;
  description?: string;
  at: Date;
}

export interface AttachmentInput { contentId: string; name: string; contentType: string; data: Buffer }

export interface EdocInput {
  from: OrganizationInput;
  to: OrganizationInput[];
  codeNumber: string;
  codeNotation: string;
  promulgationDate: Date;
  subject: string;
  documentType?: { Type: string; TypeName?: string };
  attachments?: AttachmentInput[];
  at: Date;
}

const builder = new XMLBuilder({ format: true, indentBy: '  ', suppressEmptyNode: true, ignoreAttributes: false });
const PREFIX = 'edXML:';

/** Prefixes every key with edXML: (the sample layout), dropping undefined values. */
function prefixed(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(prefixed);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)
    .map(([k, v]) => [k.startsWith('@_') ? k : PREFIX + k, prefixed(v)]));
}

function indent(xml: string, depth: number): string {
  return xml.trimEnd().split('\n').map((line) => '  '.repeat(depth) + line).join('\n');
}

function envelope(header: Record<string, unknown>, body: string, attachments: string): Buffer {
  const head = indent(builder.build(prefixed({ MessageHeader: header })), 3);
  return Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>
<edXML xmlns="${EDXML_NS}">
  <edXML:edXMLEnvelope xmlns:edXML="${EDXML_NS}">
    <edXML:edXMLHeader>
${head}
    </edXML:edXMLHeader>${body}
  </edXML:edXMLEnvelope>${attachments}
</edXML>
`, 'utf8');
}

export function emitStatus(input: StatusInput): Buffer {
  return envelope({
    From: input.from,
    ResponseFor: input.responseFor,
    StatusCode: input.statusCode,
    Description: input.description,
    Timestamp: formatTimestamp(input.at),
  }, '', '');
}

export function emitEdoc(input: EdocInput): Buffer {
  const attachments = input.attachments ?? [];
  const body = attachments.length === 0 ? '' : '\n' + indent(builder.build(prefixed({
    edXMLBody: { edXMLManifest: { '@_version': '1.0', Reference: attachments.map((a) => ({
      ContentId: `cid:${a.contentId}`, ContentType: a.contentType, Description: a.name, AttachmentName: a.name,
    })) } },
  })), 2);
  const encoded = attachments.length === 0 ? '' : '\n  <AttachmentEncoded>\n' + attachments.map((a) =>
    `    <Attachment>\n      <ContentId>cid:${a.contentId}</ContentId>\n` +
    `      <AttachmentName>${escapeText(a.name)}</AttachmentName>\n` +
    `      <ContentType>${escapeText(a.contentType)}</ContentType>\n` +
    `      <edXML:ContentTransferEncoded xmlns:edXML="${EDXML_NS}">${a.data.toString('base64')}</edXML:ContentTransferEncoded>\n` +
    '    </Attachment>\n').join('') + '  </AttachmentEncoded>';
  return envelope({
    From: input.from,
    To: input.to,
    Code: { CodeNumber: input.codeNumber, CodeNotation: input.codeNotation },
    PromulgationInfo: { PromulgationDate: formatDate(input.promulgationDate) },
    DocumentType: input.documentType ?? { Type: '1', TypeName: 'Công văn' },
    Subject: input.subject,
    DocumentId: `${input.from.OrganId},${formatDate(input.promulgationDate)},${input.codeNumber}/${input.codeNotation}`,
  }, body, encoded);
}

function escapeText(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

// edXML dates and timestamps are Asia/Ho_Chi_Minh local time (UTC+7, no daylight saving).
const VN_OFFSET_MS = 7 * 3600_000;
const pad = (n: number) => String(n).padStart(2, '0');

export function formatDate(at: Date): string {
  const t = new Date(at.getTime() + VN_OFFSET_MS);
  return `${t.getUTCFullYear()}/${pad(t.getUTCMonth() + 1)}/${pad(t.getUTCDate())}`;
}

export function formatTimestamp(at: Date): string {
  const t = new Date(at.getTime() + VN_OFFSET_MS);
  return `${formatDate(at)} ${pad(t.getUTCHours())}:${pad(t.getUTCMinutes())}:${pad(t.getUTCSeconds())}`;
}
