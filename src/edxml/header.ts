// The edXML header as a typed object. The XSD has already checked structure; this reads the
// header (never the attachments) into plain data and types it with zod. Every element is read
// as an array, and the schema below says which are single, so repeatable elements are always
// arrays and single ones plain values. Text stays text: "0123" is never turned into 123.
//
// It is also where "exactly one", "at most one" and "no duplicate recipient" are enforced: the
// published schemas say them with identity constraints, which the hop check's XSD pass leaves
// out (schema.ts explains why). A message with {name} names the element and is reported at its
// parent, as the schema's constraint was.
import { z } from 'zod';
import { EDXML_NS } from './namespace.js';
import { childrenNamed, elementPath, lineOf, plainTree, type NodeRef } from './tree.js';
import { fail, ok, type Result } from '../errors.js';

const Text = z.string();
const group = <S extends z.ZodRawShape>(shape: S) =>
  z.preprocess((v) => (v === '' ? {} : v), z.object(shape));
const one = <T extends z.ZodType>(s: T) =>
  z.array(s, { error: (issue) => (issue.input === undefined ? 'missing {name} (exactly one is required)' : undefined) })
    .length(1, 'more than one {name} (exactly one is required)').transform((a) => a[0] as z.output<T>);
const opt = <T extends z.ZodType>(s: T) =>
  z.array(s).max(1, 'more than one {name} (at most one is allowed)').optional().transform((a) => a?.[0] as z.output<T> | undefined);

/** The first value that appears twice, compared as xs:token compares (whitespace collapsed). */
function duplicateOf(values: readonly string[]): string | undefined {
  const seen = new Set<string>();
  for (const v of values.map((x) => x.replace(/\s+/g, ' '))) {
    if (seen.has(v)) return v;
    seen.add(v);
  }
  return undefined;
}
const many = <T extends z.ZodType>(s: T) => z.array(s).default([]);

export const Organization = group({
  OrganId: one(Text),
  OrganName: opt(Text),
  OrganizationInCharge: opt(Text),
  OrganAdd: opt(Text),
  Email: opt(Text),
  Telephone: opt(Text),
  Fax: opt(Text),
  Website: opt(Text),
});
export type Organization = z.output<typeof Organization>;

export const ResponseFor = group({
  OrganId: one(Text),
  Code: opt(Text),
  PromulgationDate: opt(Text),
  DocumentId: opt(Text),
});
export type ResponseFor = z.output<typeof ResponseFor>;

const StaffInfo = group({ Department: opt(Text), Staff: opt(Text), Mobile: opt(Text), Email: opt(Text) });

const Bussiness = group({
  DocumentId: opt(Text),
  BussinessDocType: one(z.enum(['0', '1', '2', '3'])),
  BussinessDocReason: opt(Text),
  Paper: opt(Text),
  BussinessDocumentInfo: opt(group({
    DocumentInfo: opt(Text),
    DocumentReceiver: opt(Text),
    ReceiverList: opt(group({ Receiver: many(group({ OrganId: one(Text), ReceiverType: opt(Text) })) })),
  })),
  ReplacementInfoList: opt(group({
    ReplacementInfo: many(group({ DocumentId: one(Text), OrganIdList: opt(group({ OrganId: many(Text) })) })),
  })),
  StaffInfo: many(StaffInfo),
});

export const TraceHeaderList = group({
  TraceHeader: many(group({ OrganId: one(Text), Timestamp: one(Text) })),
  Bussiness: opt(Bussiness),
});
export type TraceHeaderList = z.output<typeof TraceHeaderList>;

export const EdocMessageHeader = group({
  From: one(Organization),
  To: z.preprocess((v) => v ?? [], z.array(Organization).min(1, 'a document needs at least one To recipient')),
  DocumentId: opt(Text),
  Code: one(group({ CodeNumber: one(Text), CodeNotation: one(Text) })),
  PromulgationInfo: one(group({ Place: opt(Text), PromulgationDate: one(Text) })),
  DocumentType: one(group({ Type: one(Text), TypeDetail: opt(Text), TypeName: opt(Text) })),
  Subject: one(Text),
  Content: opt(Text),
  SignerInfo: opt(group({ Competence: opt(Text), Position: opt(Text), FullName: opt(Text) })),
  DueDate: opt(Text),
  ToPlaces: opt(group({ Place: many(Text) })),
  OtherInfo: opt(group({
    Priority: opt(Text),
    SphereOfPromulgation: opt(Text),
    TyperNotation: opt(Text),
    PromulgationAmount: opt(Text),
    PageAmount: opt(Text),
    Direction: opt(Text),
    Appendixes: opt(group({ Appendix: many(Text) })),
  })),
  ResponseFor: many(ResponseFor),
  SteeringType: opt(Text),
}).superRefine((h, ctx) => {
  for (const [what, list] of [['To/OrganId', h.To], ['ResponseFor/OrganId', h.ResponseFor]] as const) {
    const duplicate = duplicateOf(list.map((o) => o.OrganId));
    if (duplicate !== undefined) ctx.addIssue({ code: 'custom', message: `duplicate ${what} ${duplicate}` });
  }
});
export type EdocMessageHeader = z.output<typeof EdocMessageHeader>;

export const StatusCode = z.enum(['01', '02', '03', '04', '05', '06', '13', '15', '16']);
export type StatusCode = z.output<typeof StatusCode>;

export const StatusMessageHeader = group({
  From: one(Organization),
  ResponseFor: one(ResponseFor),
  StaffInfo: opt(StaffInfo),
  StatusCode: one(StatusCode),
  Description: opt(Text),
  Timestamp: one(Text),
}).refine((h) => h.StatusCode !== '02' || (h.Description ?? '') !== '', {
  message: 'status 02 (rejected) needs a Description with the reason',
  path: ['Description'],
});
export type StatusMessageHeader = z.output<typeof StatusMessageHeader>;

export const EdocHeader = z.object({
  kind: z.literal('edoc'),
  MessageHeader: one(EdocMessageHeader),
  TraceHeaderList: opt(TraceHeaderList),
});
export const StatusHeader = z.object({
  kind: z.literal('status'),
  MessageHeader: one(StatusMessageHeader),
  TraceHeaderList: opt(TraceHeaderList),
});
export const PackageHeader = z.discriminatedUnion('kind', [EdocHeader, StatusHeader]);
export type EdocHeader = z.output<typeof EdocHeader>;
export type StatusHeader = z.output<typeof StatusHeader>;
export type PackageHeader = z.output<typeof PackageHeader>;

/** Reads MessageHeader and TraceHeaderList from an (already XSD-valid) edXMLHeader element. */
export function readHeader(edXMLHeader: NodeRef, kind: PackageHeader['kind']): Result<PackageHeader> {
  const read = (name: string) => {
    const elements = childrenNamed(edXMLHeader, EDXML_NS, name);
    return elements.length === 0 ? undefined : elements.map((el) => plainTree(el, EDXML_NS));
  };
  const raw = { kind, MessageHeader: read('MessageHeader'), TraceHeaderList: read('TraceHeaderList') };
  const parsed = PackageHeader.safeParse(raw);
  if (parsed.success) return ok(parsed.data);
  const base = elementPath(edXMLHeader);
  const line = lineOf(edXMLHeader);
  const details = parsed.error.issues.map((issue) => {
    const names = issue.path.filter((p) => typeof p === 'string');
    const named = issue.message.includes('{name}');
    return {
      line,
      path: [base, ...(named ? names.slice(0, -1) : names)].join('/'),
      reason: named ? issue.message.replace('{name}', names.at(-1) ?? '') : issue.message,
    };
  });
  const first = details[0]!;
  return fail('SCHEMA_INVALID', `${kind} package breaks an edXML rule: ${first.reason} at ${first.path}`,
    `line ${first.line}`, details);
}
