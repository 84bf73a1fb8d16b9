// The one place that knows libxml2-wasm: hardened parse options and small tree helpers.
// libxml2 does parsing, XSD and canonicalization from a single parse of each package.
import { ParseOption, XmlDocument, XmlElement, XmlError, XmlParseError } from 'libxml2-wasm';
import type { XmlNode } from 'libxml2-wasm';
import { fail, ok, type Result } from '../errors.js';

export type { XmlDocument, XmlElement, XmlNode };

// NONET + NO_XXE: never fetch or read anything. HUGE: a single base64 text node of a 20 MB package
// exceeds libxml2's default 10 MB text limit; safe because DOCTYPEs (and so entities) are refused
// by the policy pre-scan before libxml2 sees the bytes. BIG_LINES: true line numbers past 65535.
const PARSE_OPTIONS =
  ParseOption.XML_PARSE_NONET |
  ParseOption.XML_PARSE_NO_XXE |
  ParseOption.XML_PARSE_HUGE |
  ParseOption.XML_PARSE_BIG_LINES;

/** Parses bytes into a libxml2 document. The caller owns it and must `dispose()` it. */
export function parseXml(bytes: Uint8Array): Result<XmlDocument> {
  try {
    return ok(XmlDocument.fromBuffer(bytes, { option: PARSE_OPTIONS }));
  } catch (err) {
    if (!(err instanceof XmlParseError)) throw err;
    const first = err.details[0];
    const reason = (first?.message ?? err.message).trim();
    return fail('MALFORMED_XML', `not well-formed XML: ${reason}`, first ? `line ${first.line}` : undefined,
      first ? [{ line: first.line, reason }] : undefined);
  }
}

type C14nOutput = Parameters<XmlDocument['canonicalize']>[0];
type C14nOptions = NonNullable<Parameters<XmlDocument['canonicalize']>[1]>;

/**
 * Canonicalizes into `output`. libxml2 refuses some well-formed documents, above all one with a
 * relative namespace URI (xmlns:p="1.0"), which XML-DSig forbids; it says only that it failed.
 */
export function canonicalize(doc: XmlDocument, output: C14nOutput, options: C14nOptions): Result<void> {
  try {
    doc.canonicalize(output, options);
    return ok(undefined);
  } catch (err) {
    if (!(err instanceof XmlError)) throw err;
    return fail('POLICY_VIOLATION', `the package cannot be canonicalized for XML-DSig (${err.message}); a relative namespace URI such as xmlns:p="1.0" is the usual cause`);
  }
}

export function childElements(el: XmlElement): XmlElement[] {
  const out: XmlElement[] = [];
  for (let n = el.firstChild; n !== null; n = n.next) if (n instanceof XmlElement) out.push(n);
  return out;
}

export function isElement(node: XmlNode | null): node is XmlElement {
  return node instanceof XmlElement;
}

/** A readable path such as /edXML/edXMLEnvelope/edXMLHeader/MessageHeader/To[2]/OrganId. */
export function elementPath(el: XmlElement): string {
  const parts: string[] = [];
  for (let cur: XmlElement | null = el; cur !== null; cur = cur.parent) {
    const parent: XmlElement | null = cur.parent;
    let label = cur.name;
    if (parent !== null) {
      const same = childElements(parent).filter((c) => c.name === cur!.name && c.namespaceUri === cur!.namespaceUri);
      if (same.length > 1) label += `[${same.findIndex((c) => c.isSameNode(cur!)) + 1}]`;
    }
    parts.unshift(label);
  }
  return '/' + parts.join('/');
}
