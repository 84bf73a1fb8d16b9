// An edXML package, parsed once: policy pre-scan, one libxml2 parse, XSD, typed header, and the
// edXML rules XSD 1.0 cannot express. Large attachment texts go through the claim check (they
// are validated in place and never enter libxml2); the libxml2 document is kept for the
// signature check and must be disposed by whoever receives it.
import { XmlXPath } from 'libxml2-wasm';
import { fail, ok, type Result } from '../errors.js';
import { NS_MAP } from './namespace.js';
import { childElements, elementPath, isElement, parseXml, type XmlDocument, type XmlElement } from './libxml.js';
import { prescanPolicy } from './policy.js';
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
  headerElement: XmlElement;
  doc: XmlDocument;
  /** Set when `doc` was parsed with attachment texts claimed out (see claim-check.ts). */
  claims: ClaimCheck | null;
}

export interface ParseOptions {
  /** false parses every byte with libxml2 (the signer needs the whole tree). Default true. */
  claimCheck?: boolean;
}

const ROOT = XmlXPath.compile('/e:edXML', NS_MAP);
const HEADER = XmlXPath.compile('/e:edXML/e:edXMLEnvelope/e:edXMLHeader', NS_MAP);
const STATUS_CODE = XmlXPath.compile('/e:edXML/e:edXMLEnvelope/e:edXMLHeader/e:MessageHeader/e:StatusCode', NS_MAP);
const MANIFEST_IDS = XmlXPath.compile('/e:edXML/e:edXMLEnvelope/e:edXMLBody/e:edXMLManifest/e:Reference/e:ContentId', NS_MAP);
const ATTACHMENTS = XmlXPath.compile('/e:edXML/e:AttachmentEncoded/e:Attachment', NS_MAP);

export function parsePackage(bytes: Uint8Array, options: ParseOptions = {}): Result<ParsedPackage> {
  const check = options.claimCheck === false ? null : checkClaims(bytes);
  if (check !== null) {
    const claimed = parseBytes(check.elided, check);
    // Anything unusual, and every failure (so that lines and paths refer to the sender's bytes),
    // is decided on the ordinary path.
    if (claimed !== 'unclaimed' && claimed.ok) return claimed;
  }
  const result = parseBytes(bytes, null);
  if (result === 'unclaimed') throw new Error('unclaimed parse without claims');
  return result;
}

function parseBytes(bytes: Uint8Array, check: ClaimCheck | null): Result<ParsedPackage> | 'unclaimed' {
  const policy = prescanPolicy(bytes);
  if (!policy.ok) return policy;
  const parsed = parseXml(bytes);
  if (!parsed.ok) return parsed;
  const doc = parsed.value;
  const result = readPackage(doc, check);
  if (result === 'unclaimed' || !result.ok) doc.dispose();
  return result;
}

function readPackage(doc: XmlDocument, check: ClaimCheck | null): Result<ParsedPackage> | 'unclaimed' {
  if (doc.get(ROOT) === null) {
    const root = doc.root;
    return fail('SCHEMA_INVALID', `the root element must be edXML in namespace ${NS_MAP.e}, not ${root.name}` +
      (root.namespaceUri ? ` in ${root.namespaceUri}` : ' without a namespace'), `line ${root.line}`,
      [{ line: root.line, path: `/${root.name}`, reason: 'unexpected root element' }]);
  }
  const kind = packageKind(doc);
  const schema = validateSchema(doc, kind);
  if (!schema.ok) return schema;

  const headerElement = doc.get(HEADER);
  if (!isElement(headerElement)) throw new Error('XSD-valid package without edXMLHeader');
  const header = readHeader(headerElement, kind);
  if (!header.ok) return header;

  const attachmentElements = doc.find(ATTACHMENTS).filter(isElement);
  const encoded = attachmentElements.flatMap((a) => childElements(a).filter((c) => c.name === 'ContentTransferEncoded'));
  if (check !== null && !verifyClaims(check, encoded)) return 'unclaimed';
  const claimed = new Set(check?.claims.map((c) => c.ticket));
  for (const el of encoded) {
    const text = el.content;
    if (!claimed.has(text) && !isBase64Text(text)) {
      const path = elementPath(el);
      return fail('SCHEMA_INVALID', `attachment content is not valid base64 at ${path}`, `line ${el.line}`,
        [{ line: el.line, path, reason: 'not valid base64' }]);
    }
  }
  const attachments = attachmentElements.map(readAttachment);
  const joined = joinManifest(doc, attachments);
  if (!joined.ok) return joined;
  return ok({ kind, header: header.value, attachments, headerElement, doc, claims: check });
}

/** A package with a MessageHeader/StatusCode is a status package; anything else a document. */
export function packageKind(doc: XmlDocument): PackageKind {
  return doc.get(STATUS_CODE) === null ? 'edoc' : 'status';
}

function readAttachment(el: XmlElement): AttachmentInfo {
  const children = childElements(el);
  const text = (name: string) => children.find((c) => c.name === name && c.namespaceUri === NS_MAP.e)?.content.trim();
  const info: AttachmentInfo = { contentId: stripCid(text('ContentId') ?? '') };
  const name = text('AttachmentName');
  const contentType = text('ContentType');
  if (name !== undefined) info.name = name;
  if (contentType !== undefined) info.contentType = contentType;
  return info;
}

// Manifest references and attachments are joined by ContentId with any "cid:" prefix stripped.
function joinManifest(doc: XmlDocument, attachments: AttachmentInfo[]): Result<void> {
  const present = new Set(attachments.map((a) => a.contentId));
  for (const ref of doc.find(MANIFEST_IDS).filter(isElement)) {
    const id = stripCid(ref.content.trim());
    if (!present.has(id)) {
      const path = elementPath(ref);
      return fail('SCHEMA_INVALID', `manifest Reference "${ref.content.trim()}" has no Attachment with that ContentId at ${path}`,
        `line ${ref.line}`, [{ line: ref.line, path, reason: 'manifest reference without its attachment' }]);
    }
  }
  return ok(undefined);
}

function stripCid(id: string): string {
  return id.toLowerCase().startsWith('cid:') ? id.slice(4) : id;
}
