// Policy pre-scan: the cheapest check, on raw bytes, before libxml2 sees them.
// Refusing every DOCTYPE defeats XXE and entity-expansion bombs without parsing anything, and
// refusing processing instructions keeps c14n from hiding text changes inside them. Elements,
// comments and CDATA sections are counted here against policy.maxElements, and attributes against
// maxAttributes and maxAttributesPerElement: a flood of either is refused for the cost of one
// byte scan, not of a parse (a megabyte of attributes took libxml2 ~25 ms to parse). limits.ts
// checks on the tree what needs one: depth and namespaces.
import { fail, ok, type Result } from '../errors.js';
import type { StructureLimits } from './tree.js';

/** The limits counted on the bytes. */
export type ByteLimits = Pick<StructureLimits, 'maxElements' | 'maxAttributes' | 'maxAttributesPerElement'>;

const UTF8_BOM = [0xef, 0xbb, 0xbf];

export function prescanPolicy(bytes: Uint8Array, limits: ByteLimits): Result<void> {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let start = 0;
  if (buf.length >= 3 && UTF8_BOM.every((b, i) => buf[i] === b)) start = 3;
  if ((buf[0] === 0xfe && buf[1] === 0xff) || (buf[0] === 0xff && buf[1] === 0xfe)) {
    return fail('MALFORMED_XML', 'the package is UTF-16; edXML packages must be UTF-8', 'line 1');
  }
  // Without a BOM, UTF-16 and UTF-32 show as NUL bytes at the start; libxml2 would detect and
  // decode them (and the signature would still verify, c14n being UTF-8), so refuse them here.
  if (buf.subarray(start, start + 4).includes(0)) {
    return fail('MALFORMED_XML', 'the package is UTF-16 or UTF-32; edXML packages must be UTF-8', 'line 1');
  }
  const first = firstContent(buf, start);
  if (first < 0) return fail('MALFORMED_XML', 'the package is empty');
  // Anything else before the first '<' is not UTF-8 XML (libxml2 would try EBCDIC on 4C 6F A7 94).
  if (buf[first] !== 0x3c) return fail('MALFORMED_XML', 'the package does not start with "<": it is not UTF-8 XML', 'line 1');

  let scanFrom = start;
  if (buf.toString('latin1', start, start + 5) === '<?xml') {
    const end = buf.indexOf('?>', start);
    if (end < 0) return fail('MALFORMED_XML', 'the XML declaration is not closed', 'line 1');
    const declaration = buf.toString('latin1', start, end);
    const encoding = /encoding\s*=\s*["']([^"']*)["']/.exec(declaration)?.[1];
    if (encoding !== undefined && encoding.toLowerCase() !== 'utf-8') {
      return fail('MALFORMED_XML', `the package declares encoding "${encoding}"; edXML packages must be UTF-8`, 'line 1');
    }
    scanFrom = end + 2;
  }

  const found = scanMarkup(buf, scanFrom, limits);
  if (found === null) return ok(undefined);
  const line = lineAt(buf, found.at);
  if (found.what === 'doctype') {
    return fail('POLICY_VIOLATION', 'a DOCTYPE (DTD, entities) is not allowed in an edXML package', `line ${line}`,
      [{ line, reason: 'DOCTYPE declaration' }]);
  }
  if (found.what === 'pi') {
    return fail('POLICY_VIOLATION', 'processing instructions are not allowed in an edXML package', `line ${line}`,
      [{ line, reason: 'processing instruction' }]);
  }
  const reason = found.what === 'count' ? `more than ${limits.maxElements} elements, comments and CDATA sections (policy.maxElements)`
    : found.what === 'attributes' ? `more than ${limits.maxAttributes} attributes in the package (policy.maxAttributes)`
    : `more than ${limits.maxAttributesPerElement} attributes on one element (policy.maxAttributesPerElement)`;
  const where = found.what === 'count' ? `the next at line ${line}` : `at <${tagName(buf, found.at)}> on line ${line}`;
  return fail('POLICY_VIOLATION', `the package has ${reason}, ${where}`, `line ${line}`, [{ line, reason }]);
}

const LT = 0x3c;
const GT = 0x3e;
const DOCTYPE = Buffer.from('<!DOCTYPE');
const CDATA = Buffer.from('<![CDATA[');
const OUTSIDE = 0;
const IN_COMMENT = 1;
const IN_CDATA = 2;

type Found = { at: number; what: 'doctype' | 'pi' | 'count' | 'attributes' | 'attributes-on-one' };

/**
 * The first DOCTYPE or processing instruction (anywhere, comments included), the element,
 * comment or CDATA section past the first `maxElements`, or the start tag whose attributes pass
 * a limit. One pass over the bytes: a loop over indexOf costs ~25x more per hit, and a megabyte
 * of `<!---->` is 150,000 hits.
 */
function scanMarkup(buf: Buffer, from: number, limits: ByteLimits): Found | null {
  let count = 0;
  let attributes = 0;
  let state = OUTSIDE;
  for (let i = from, end = buf.length; i < end; i++) {
    const b = buf[i];
    if (b === GT) {
      if (state === IN_COMMENT ? buf[i - 1] === 0x2d && buf[i - 2] === 0x2d : state === IN_CDATA && buf[i - 1] === 0x5d && buf[i - 2] === 0x5d) state = OUTSIDE;
      continue;
    }
    if (b !== LT) continue;
    const next = buf[i + 1];
    if (next === 0x3f) return { at: i, what: 'pi' };
    if (next === 0x2f || (state !== OUTSIDE && next !== 0x21)) continue;
    if (next === 0x21) {
      if (buf[i + 2] === 0x44 && buf.compare(DOCTYPE, 0, DOCTYPE.length, i, i + DOCTYPE.length) === 0) return { at: i, what: 'doctype' };
      if (state !== OUTSIDE) continue;
      if (buf[i + 2] === 0x2d && buf[i + 3] === 0x2d) {
        state = IN_COMMENT;
        i += 3;
      } else if (buf.compare(CDATA, 0, CDATA.length, i, i + CDATA.length) === 0) {
        state = IN_CDATA;
        i += CDATA.length - 1;
      } else continue;
    }
    if (++count > limits.maxElements) return { at: i, what: 'count' };
    if (next === 0x21) continue;
    const tag = startTag(buf, i, limits.maxAttributesPerElement);
    if (tag.attributes > limits.maxAttributesPerElement) return { at: i, what: 'attributes-on-one' };
    if ((attributes += tag.attributes) > limits.maxAttributes) return { at: i, what: 'attributes' };
    i = tag.end;
  }
  return null;
}

const EQUALS = 0x3d;
const XMLNS = Buffer.from('xmlns');

/**
 * From the '<' of a start tag: the offset of its '>' (or the end of the bytes) and how many
 * attributes it has, namespace declarations not counted (policy.maxAttributes does not count
 * them; limits.ts bounds them on the tree), stopping at the one past `max`. One '=' outside
 * quoted values is one attribute; a quoted value may hold '>' but no '<'.
 */
function startTag(buf: Buffer, from: number, max: number): { end: number; attributes: number } {
  let attributes = 0;
  let name = from + 1; // where the last name began
  let spaced = false;
  for (let i = from + 1, end = buf.length; i < end; i++) {
    const b = buf[i];
    if (b === GT) return { end: i, attributes };
    if (b === 0x22 || b === 0x27) {
      const close = buf.indexOf(b, i + 1);
      if (close < 0) break;
      i = close;
    } else if (b === EQUALS) {
      if (!isDeclaration(buf, name) && ++attributes > max) return { end: i, attributes };
    } else if (isSpace(b)) spaced = true;
    else if (spaced) {
      name = i;
      spaced = false;
    }
  }
  return { end: buf.length, attributes };
}

/** Whether the attribute name at `at` is `xmlns` or `xmlns:…`. */
function isDeclaration(buf: Buffer, at: number): boolean {
  if (buf.compare(XMLNS, 0, XMLNS.length, at, at + XMLNS.length) !== 0) return false;
  const after = buf[at + XMLNS.length]!;
  return after === 0x3a || after === EQUALS || isSpace(after);
}

function isSpace(b: number | undefined): boolean {
  return b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;
}

/** The qualified name of the element whose start tag begins at `at`. */
function tagName(buf: Buffer, at: number): string {
  let end = at + 1;
  while (end < buf.length && end < at + 200 && !isSpace(buf[end]) && buf[end] !== GT && buf[end] !== 0x2f) end++;
  return buf.toString('utf8', at + 1, end);
}

/** The offset of the first byte that is not XML whitespace, or -1. */
function firstContent(buf: Buffer, from: number): number {
  for (let i = from; i < buf.length; i++) if (!isSpace(buf[i])) return i;
  return -1;
}

function lineAt(buf: Buffer, offset: number): number {
  let line = 1;
  for (let i = buf.indexOf(0x0a); i >= 0 && i < offset; i = buf.indexOf(0x0a, i + 1)) line++;
  return line;
}
