// Policy pre-scan: the cheapest check, on raw bytes, before libxml2 sees them.
// Refusing every DOCTYPE defeats XXE and entity-expansion bombs without parsing anything, and
// refusing processing instructions keeps c14n from hiding text changes inside them.
import { fail, ok, type Result } from '../errors.js';

const UTF8_BOM = [0xef, 0xbb, 0xbf];

export function prescanPolicy(bytes: Uint8Array): Result<void> {
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

  const doctype = indexOfDoctype(buf, scanFrom);
  if (doctype >= 0) {
    const line = lineAt(buf, doctype);
    return fail('POLICY_VIOLATION', 'a DOCTYPE (DTD, entities) is not allowed in an edXML package', `line ${line}`,
      [{ line, reason: 'DOCTYPE declaration' }]);
  }
  const pi = buf.indexOf('<?', scanFrom);
  if (pi >= 0) {
    const line = lineAt(buf, pi);
    return fail('POLICY_VIOLATION', 'processing instructions are not allowed in an edXML package', `line ${line}`,
      [{ line, reason: 'processing instruction' }]);
  }
  return ok(undefined);
}

// Searching for '<!' and then checking the word is ~4x faster than searching for '<!DOCTYPE'
// itself, whose first byte is in every tag.
function indexOfDoctype(buf: Buffer, from: number): number {
  for (let at = buf.indexOf('<!', from); at >= 0; at = buf.indexOf('<!', at + 2)) {
    if (buf.toString('latin1', at + 2, at + 9) === 'DOCTYPE') return at;
  }
  return -1;
}

/** The offset of the first byte that is not XML whitespace, or -1. */
function firstContent(buf: Buffer, from: number): number {
  for (let i = from; i < buf.length; i++) {
    const b = buf[i];
    if (b !== 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) return i;
  }
  return -1;
}

function lineAt(buf: Buffer, offset: number): number {
  let line = 1;
  for (let i = buf.indexOf(0x0a); i >= 0 && i < offset; i = buf.indexOf(0x0a, i + 1)) line++;
  return line;
}
