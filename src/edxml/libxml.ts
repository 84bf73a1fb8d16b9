// libxml2-wasm's parse and canonicalization: hardened parse options, c14n errors as values, and
// subtree c14n with a fast visibility test. libxml2 does parsing, XSD and canonicalization from a
// single parse of each package; tree.ts reads the parsed tree, schema.ts runs the XSDs.
import { ParseOption, XmlDocument, XmlElement, XmlError, XmlParseError } from 'libxml2-wasm';
import type { XmlNode } from 'libxml2-wasm';
import {
  addFunction, allocCStringArray, free, xmlC14NExecute, xmlOutputBufferClose, xmlOutputBufferCreateIO,
} from 'libxml2-wasm/lib/libxml2.mjs';
import { fail, ok, type Result } from '../errors.js';
import { asOnlyTopLevel, subtreeNodes, type NodeRef } from './tree.js';

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
    return notCanonical(err.message);
  }
}

function notCanonical(reason: string): Result<never> {
  return fail('POLICY_VIOLATION', `the package cannot be canonicalized for XML-DSig (${reason}); a relative namespace URI such as xmlns:p="1.0" is the usual cause`);
}

// The subtree being canonicalized: c14n runs to completion synchronously, so one at a time.
const NOTHING: ReadonlySet<number> = new Set();
let visible: ReadonlySet<number> = NOTHING;
// libxml2 asks about every node, attribute and namespace it walks (node, its parent element).
// The library's own node-set test walks up the ancestors on each call; a set of the subtree's
// node pointers answers in one lookup.
const isVisible = addFunction((_context: number, node: number, parent: number) =>
  (visible.has(node) || visible.has(parent) ? 1 : 0), 'iiii');

/**
 * Canonicalizes the subtree at `el` where it stands (with the namespaces in scope there). libxml2
 * would walk the whole document asking about every node; it is shown only the subtree instead
 * (asOnlyTopLevel), so SignedInfo's c14n costs what SignedInfo holds, not what the package holds.
 * The callback still marks the ancestors invisible, which decides what c14n inherits from them.
 */
export function canonicalizeSubtree(doc: XmlDocument, el: NodeRef, output: C14nOutput, options: C14nOptions): Result<void> {
  visible = subtreeNodes(el);
  const out = xmlOutputBufferCreateIO(output);
  const prefixes = options.inclusiveNamespacePrefixes ? allocCStringArray(options.inclusiveNamespacePrefixes) : 0;
  try {
    const written = asOnlyTopLevel(doc, el, () => xmlC14NExecute((doc as unknown as { _ptr: number })._ptr, isVisible, 0,
      options.mode ?? 0, prefixes, options.withComments ? 1 : 0, out));
    return written < 0 ? notCanonical('Failed to canonicalize XML document') : ok(undefined);
  } finally {
    if (prefixes !== 0) free(prefixes);
    xmlOutputBufferClose(out);
    visible = NOTHING;
  }
}

export function isElement(node: XmlNode | null): node is XmlElement {
  return node instanceof XmlElement;
}
