// An edXML package, parsed once: policy pre-scan, one libxml2 parse, XSD, typed header, and the
// edXML rules XSD 1.0 cannot express. The libxml2 document is kept for the signature check and
// must be disposed by whoever receives it.
import { XmlXPath } from 'libxml2-wasm';
import { fail, ok, type Result } from '../errors.js';
import { NS_MAP } from './namespace.js';
import { childElements, elementPath, isElement, parseXml, type XmlDocument, type XmlElement } from './libxml.js';
import { prescanPolicy } from './policy.js';
import { validateSchema, type PackageKind } from './schema.js';
import { readHeader, type PackageHeader } from './header.js';
import { checkAttachmentEncoding } from './attachment.js';

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
}

const ROOT = XmlXPath.compile('/e:edXML', NS_MAP);
const HEADER = XmlXPath.compile('/e:edXML/e:edXMLEnvelope/e:edXMLHeader', NS_MAP);
const STATUS_CODE = XmlXPath.compile('/e:edXML/e:edXMLEnvelope/e:edXMLHeader/e:MessageHeader/e:StatusCode', NS_MAP);
const MANIFEST_IDS = XmlXPath.compile('/e:edXML/e:edXMLEnvelope/e:edXMLBody/e:edXMLManifest/e:Reference/e:ContentId', NS_MAP);
const ATTACHMENTS = XmlXPath.compile('/e:edXML/e:AttachmentEncoded/e:Attachment', NS_MAP);

export function parsePackage(bytes: Uint8Array): Result<ParsedPackage> {
  const policy = prescanPolicy(bytes);
  if (!policy.ok) return policy;
  const parsed = parseXml(bytes);
  if (!parsed.ok) return parsed;
  const doc = parsed.value;
  const result = readPackage(doc, bytes);
  if (!result.ok) doc.dispose();
  return result;
}

function readPackage(doc: XmlDocument, bytes: Uint8Array): Result<ParsedPackage> {
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
  const encoded = checkAttachmentEncoding(bytes, attachmentElements.flatMap((a) => childElements(a).filter((c) => c.name === 'ContentTransferEncoded')));
  if (!encoded.ok) return encoded;
  const attachments = attachmentElements.map(readAttachment);
  const joined = joinManifest(doc, attachments);
  if (!joined.ok) return joined;
  return ok({ kind, header: header.value, attachments, headerElement, doc });
}

/** A package with a MessageHeader/StatusCode is a status package; anything else a document. */
export function packageKind(doc: XmlDocument): PackageKind {
  return doc.get(STATUS_CODE) === null ? 'edoc' : 'status';
}

function readAttachment(el: XmlElement): AttachmentInfo {
  const text = (name: string) => el.get(`e:${name}`, NS_MAP)?.content.trim();
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
