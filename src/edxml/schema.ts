// XSD validation with the project's schemas (schemas/*.xsd), compiled once at load.
//
// The published schemas say "exactly one", "at most one" and "distinct" with XSD 1.0 identity
// constraints (xs:key / xs:unique), the only way XSD 1.0 has inside order-insensitive groups.
// libxml2 pays for each one on every element below it: they were half the validation time of a
// 10 KB package. The hop check therefore validates against the same schemas with the identity
// constraints taken out, and enforces each of those rules once, in the typed header (header.ts)
// and the package rules (package.ts), where it is reported with the element's path.
// tests/integration/xmllint-agrees.test.ts holds a breaking package for every identity
// constraint of the published schemas, refused by xmllint and by the hop check alike.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { XmlDocument, XmlValidateError, XsdValidator, xmlRegisterInputProvider } from 'libxml2-wasm';
import { fail, ok, type ErrorDetail, type Result } from '../errors.js';
import { EDXML_NS, DSIG_NS } from './namespace.js';
import { childElements, elementOf, elementPath, lineOf, localName, namespaceOf, rootOf, type NodeRef } from './tree.js';

export type PackageKind = 'edoc' | 'status';

// schemas/ sits at the package root, above both src/ (tests) and dist/src/ (the built CLI).
export const SCHEMA_DIR = findSchemaDir(path.dirname(fileURLToPath(import.meta.url)));
export const SCHEMA_FILES: Record<PackageKind, string> = {
  edoc: path.join(SCHEMA_DIR, 'edxml-edoc.xsd'),
  status: path.join(SCHEMA_DIR, 'edxml-status.xsd'),
};
const MAX_DETAILS = 20;
const LIBXML_ERROR = 2;
const XS_NS = 'http://www.w3.org/2001/XMLSchema';

function findSchemaDir(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'schemas', 'edxml-edoc.xsd'))) return path.join(dir, 'schemas') + path.sep;
    if (path.dirname(dir) === dir) throw new Error(`schemas/ not found above ${from}`);
  }
}

let validators: Record<PackageKind, XsdValidator> | undefined;

function compiled(): Record<PackageKind, XsdValidator> {
  if (validators === undefined) {
    const texts = new Map(fs.readdirSync(SCHEMA_DIR).filter((f) => f.endsWith('.xsd'))
      .map((f) => [path.join(SCHEMA_DIR, f), withoutIdentityConstraints(fs.readFileSync(path.join(SCHEMA_DIR, f)))]));
    registerSchemaReader(texts);
    validators = { edoc: compile(SCHEMA_FILES.edoc, texts), status: compile(SCHEMA_FILES.status, texts) };
  }
  return validators;
}

/** The schema text with every xs:key and xs:unique element removed (see above). */
export function withoutIdentityConstraints(xsd: Buffer): Buffer {
  const doc = XmlDocument.fromBuffer(xsd);
  try {
    const constraints: NodeRef[] = [];
    const visit = (el: NodeRef) => {
      for (const child of childElements(el)) {
        if (namespaceOf(child) === XS_NS && ['key', 'unique', 'keyref'].includes(localName(child))) constraints.push(child);
        else visit(child);
      }
    };
    visit(rootOf(doc));
    for (const c of constraints) elementOf(c).remove();
    return Buffer.from(doc.toString(), 'utf8');
  } finally {
    doc.dispose();
  }
}

function compile(file: string, texts: ReadonlyMap<string, Buffer>): XsdValidator {
  const xsd = XmlDocument.fromBuffer(texts.get(file)!, { url: file });
  try {
    return XsdValidator.fromDoc(xsd);
  } finally {
    xsd.dispose();
  }
}

// xs:include / xs:import are read through this provider, which serves the schema folder's texts
// (as compiled) and nothing else (least privilege: a package can never make libxml2 open a file).
function registerSchemaReader(texts: ReadonlyMap<string, Buffer>): void {
  const toPath = (name: string): string | null => {
    const file = path.resolve(name.startsWith('file:') ? fileURLToPath(name) : name);
    return texts.has(file) ? file : null;
  };
  const open = new Map<number, { text: Buffer; at: number }>();
  let handles = 0;
  xmlRegisterInputProvider({
    match: (name) => toPath(name) !== null,
    open: (name) => {
      const file = toPath(name);
      if (file === null) return undefined;
      open.set(++handles, { text: texts.get(file)!, at: 0 });
      return handles;
    },
    read: (handle, buf) => {
      const reading = open.get(handle)!;
      const n = reading.text.copy(buf, 0, reading.at);
      reading.at += n;
      return n;
    },
    close: (handle) => open.delete(handle),
  });
}

export function validateSchema(doc: XmlDocument, kind: PackageKind): Result<void> {
  try {
    compiled()[kind].validate(doc);
    return ok(undefined);
  } catch (err) {
    if (!(err instanceof XmlValidateError)) throw err;
    const errors = err.details.filter((d) => d.level >= LIBXML_ERROR); // warnings are libxml2 noise
    const details = errors.slice(0, MAX_DETAILS).map((d): ErrorDetail => {
      const detail: ErrorDetail = { line: d.line, reason: readableReason(d.message) };
      const name = /^Element '(?:\{[^}]*\})?([^']+)'/.exec(d.message)?.[1];
      const node = name === undefined ? undefined : findElement(rootOf(doc), d.line, name);
      if (node !== undefined) detail.path = elementPath(node);
      return detail;
    });
    const first = details[0] ?? { reason: err.message };
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : '';
    const at = first.path ? ` at ${first.path}` : '';
    return fail('SCHEMA_INVALID', `${kind} package fails the schema: ${first.reason}${at}${more}`,
      first.line ? `line ${first.line}` : undefined, details);
  }
}

// libxml2 names the failing node by a prefixed XPath the document's own prefixes must resolve;
// on this failure path it is simpler to find the element by its name and line.
function findElement(el: NodeRef, line: number, name: string): NodeRef | undefined {
  if (localName(el) === name && lineOf(el) === line) return el;
  for (const child of childElements(el)) {
    const found = findElement(child, line, name);
    if (found !== undefined) return found;
  }
  return undefined;
}

export function readableReason(message: string): string {
  return message.trim()
    .replaceAll(`{${EDXML_NS}}`, '')
    .replaceAll(`{${DSIG_NS}}`, 'ds:')
    .replace(/^Element '[^']*':\s*/, '');
}
