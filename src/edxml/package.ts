// An edXML package, parsed once: policy pre-scan, one libxml2 parse, XSD, typed header, and the
// edXML rules XSD 1.0 cannot express. Large attachment texts go through the claim check (they
// are validated in place and never enter libxml2); the libxml2 document is kept for the
// signature check and must be disposed by whoever receives it.
import { fail, ok, type Result } from '../errors.js';
import { DSIG_NS, EDXML_NS } from './namespace.js';
import { parseXml, type XmlDocument } from './libxml.js';
import {
  childrenNamed, descendantsNamed, elementPath, lineOf, localName, namespaceOf, rootOf, textOf,
  type NodeRef,
} from './tree.js';
import { prescanPolicy } from './policy.js';
import { checkStructure, DEFAULT_LIMITS, type StructureLimits } from './limits.js';
import { validateSchema, type PackageKind } from './schema.js';
import { readHeader, type PackageHeader } from './header.js';
import { isBase64Text } from './attachment.js';
import { checkClaims, verifyClaims, type ClaimCheck } from './claim-check.js';

export interface AttachmentInfo {
  contentId: string;
  name?: string;
  contentType?: string;
}

export interface ParsedPackage {
  kind: PackageKind;
  header: PackageHeader;
  attachments: AttachmentInfo[];
  /** The edXMLHeader element: where the signature lives. */
  headerElement: NodeRef;
  /** Every ds:Signature element anywhere in the package, in document order. */
  signatures: NodeRef[];
  doc: XmlDocument;
  /** Set when `doc` was parsed with attachment texts claimed out (see claim-check.ts). */
  claims: ClaimCheck | null;
}

export interface ParseOptions {
  /** false parses every byte with libxml2 (the signer needs the whole tree). Default true. */
  claimCheck?: boolean;
  /** The structure limits (default DEFAULT_LIMITS), checked right after the parse. */
  limits?: StructureLimits;
}

export function parsePackage(bytes: Uint8Array, options: ParseOptions = {}): Result<ParsedPackage> {
  const check = options.claimCheck === false ? null : checkClaims(bytes);
  const limits = options.limits ?? DEFAULT_LIMITS;
  if (check !== null) {
    const claimed = parseBytes(check.elided, check, limits);
    // Anything unusual, and every failure (so that lines and paths refer to the sender's bytes),
    // is decided on the ordinary path.
    if (claimed !== 'unclaimed' && claimed.ok) return claimed;
  }
  const result = parseBytes(bytes, null, limits);
  if (result === 'unclaimed') throw new Error('unclaimed parse without claims');
  return result;
}

function parseBytes(bytes: Uint8Array, check: ClaimCheck | null, limits: StructureLimits): Result<ParsedPackage> | 'unclaimed' {
  const policy = prescanPolicy(bytes, limits);
  if (!policy.ok) return policy;
  const parsed = parseXml(bytes);
  if (!parsed.ok) return parsed;
  const doc = parsed.value;
  const structure = checkStructure(doc, limits);
  const result = structure.ok ? readPackage(doc, check) : structure;
  if (result === 'unclaimed' || !result.ok) doc.dispose();
  return result;
}

// The elements the package rules need, found in one walk down the known paths.
interface Outline {
  root: NodeRef;
  header: NodeRef | undefined;
  statusCode: boolean;
  manifestIds: NodeRef[];
  attachments: NodeRef[];
}

function outline(doc: XmlDocument): Outline {
  const root = rootOf(doc);
  const below = (parents: NodeRef[], name: string) => parents.flatMap((p) => childrenNamed(p, EDXML_NS, name));
  const envelopes = below([root], 'edXMLEnvelope');
  const headers = below(envelopes, 'edXMLHeader');
  return {
    root,
    header: headers[0],
    statusCode: below(below(headers, 'MessageHeader'), 'StatusCode').length > 0,
    manifestIds: below(below(below(below(envelopes, 'edXMLBody'), 'edXMLManifest'), 'Reference'), 'ContentId'),
    attachments: below(below([root], 'AttachmentEncoded'), 'Attachment'),
  };
}

/** A package with a MessageHeader/StatusCode is a status package; anything else a document. */
export function packageKind(doc: XmlDocument): PackageKind {
  return outline(doc).statusCode ? 'status' : 'edoc';
}

function readPackage(doc: XmlDocument, check: ClaimCheck | null): Result<ParsedPackage> | 'unclaimed' {
  const found = outline(doc);
  const { root } = found;
  if (localName(root) !== 'edXML' || namespaceOf(root) !== EDXML_NS) {
    const ns = namespaceOf(root);
    return fail('SCHEMA_INVALID', `the root element must be edXML in namespace ${EDXML_NS}, not ${localName(root)}` +
      (ns ? ` in ${ns}` : ' without a namespace'), `line ${lineOf(root)}`,
      [{ line: lineOf(root), path: `/${localName(root)}`, reason: 'unexpected root element' }]);
  }
  const kind: PackageKind = found.statusCode ? 'status' : 'edoc';
  const schema = validateSchema(doc, kind);
  if (!schema.ok) return schema;

  const headerElement = found.header;
  if (headerElement === undefined) throw new Error('XSD-valid package without edXMLHeader');
  const header = readHeader(headerElement, kind);
  if (!header.ok) return header;

  const encoded = found.attachments.flatMap((a) => childrenNamed(a, EDXML_NS, 'ContentTransferEncoded'));
  const texts = encoded.map(textOf);
  if (check !== null && !verifyClaims(check, texts)) return 'unclaimed';
  const claimed = new Set(check?.claims.map((c) => c.ticket));
  for (const [i, el] of encoded.entries()) {
    const text = texts[i]!;
    if (!claimed.has(text) && !isBase64Text(text)) {
      const path = elementPath(el);
      return fail('SCHEMA_INVALID', `attachment content is not valid base64 at ${path}`, `line ${lineOf(el)}`,
        [{ line: lineOf(el), path, reason: 'not valid base64' }]);
    }
  }
  const attachments = found.attachments.map(readAttachment);
  const duplicate = duplicateContentId(found.attachments);
  if (duplicate !== undefined) {
    const path = elementPath(duplicate);
    return fail('SCHEMA_INVALID', `duplicate Attachment/ContentId at ${path}`, `line ${lineOf(duplicate)}`,
      [{ line: lineOf(duplicate), path, reason: 'duplicate Attachment/ContentId' }]);
  }
  const joined = joinManifest(found.manifestIds, attachments);
  if (!joined.ok) return joined;
  const signatures = descendantsNamed(root, DSIG_NS, 'Signature');
  return ok({ kind, header: header.value, attachments, headerElement, signatures, doc, claims: check });
}

// The published schema's distinct.Attachment.ContentId (schema.ts): the ContentId texts, exactly.
function duplicateContentId(attachments: readonly NodeRef[]): NodeRef | undefined {
  const seen = new Set<string>();
  for (const id of attachments.flatMap((a) => childrenNamed(a, EDXML_NS, 'ContentId'))) {
    const text = textOf(id);
    if (seen.has(text)) return id;
    seen.add(text);
  }
  return undefined;
}

function readAttachment(el: NodeRef): AttachmentInfo {
  const text = (name: string) => {
    const child = childrenNamed(el, EDXML_NS, name)[0];
    return child === undefined ? undefined : textOf(child).trim();
  };
  const info: AttachmentInfo = { contentId: stripCid(text('ContentId') ?? '') };
  const name = text('AttachmentName');
  const contentType = text('ContentType');
  if (name !== undefined) info.name = name;
  if (contentType !== undefined) info.contentType = contentType;
  return info;
}

// Manifest references and attachments are joined by ContentId with any "cid:" prefix stripped.
function joinManifest(manifestIds: NodeRef[], attachments: AttachmentInfo[]): Result<void> {
  const present = new Set(attachments.map((a) => a.contentId));
  for (const ref of manifestIds) {
    const text = textOf(ref).trim();
    if (!present.has(stripCid(text))) {
      const path = elementPath(ref);
      return fail('SCHEMA_INVALID', `manifest Reference "${text}" has no Attachment with that ContentId at ${path}`,
        `line ${lineOf(ref)}`, [{ line: lineOf(ref), path, reason: 'manifest reference without its attachment' }]);
    }
  }
  return ok(undefined);
}

function stripCid(id: string): string {
  return id.toLowerCase().startsWith('cid:') ? id.slice(4) : id;
}
