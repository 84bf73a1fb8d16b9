// XSD validation with the project's schemas (schemas/*.xsd), compiled once at load.
// libxml2's messages are rewritten for people: element paths by name, identity-constraint
// rules (exactlyOne.* / atMostOne.* in the XSDs) as plain sentences.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { XmlDocument, XmlValidateError, XsdValidator, xmlRegisterInputProvider } from 'libxml2-wasm';
import { fail, ok, type ErrorDetail, type Result } from '../errors.js';
import { EDXML_NS, DSIG_NS } from './namespace.js';
import { childElements, elementPath, lineOf, localName, rootOf, type NodeRef } from './tree.js';

export type PackageKind = 'edoc' | 'status';

// schemas/ sits at the package root, above both src/ (tests) and dist/src/ (the built CLI).
export const SCHEMA_DIR = findSchemaDir(path.dirname(fileURLToPath(import.meta.url)));
export const SCHEMA_FILES: Record<PackageKind, string> = {
  edoc: path.join(SCHEMA_DIR, 'edxml-edoc.xsd'),
  status: path.join(SCHEMA_DIR, 'edxml-status.xsd'),
};
const MAX_DETAILS = 20;
const LIBXML_ERROR = 2;

function findSchemaDir(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'schemas', 'edxml-edoc.xsd'))) return path.join(dir, 'schemas') + path.sep;
    if (path.dirname(dir) === dir) throw new Error(`schemas/ not found above ${from}`);
  }
}

let validators: Record<PackageKind, XsdValidator> | undefined;

function compiled(): Record<PackageKind, XsdValidator> {
  if (validators === undefined) {
    registerSchemaReader();
    validators = { edoc: compile(SCHEMA_FILES.edoc), status: compile(SCHEMA_FILES.status) };
  }
  return validators;
}

function compile(file: string): XsdValidator {
  const xsd = XmlDocument.fromBuffer(fs.readFileSync(file), { url: file });
  try {
    return XsdValidator.fromDoc(xsd);
  } finally {
    xsd.dispose();
  }
}

// xs:include / xs:import are read through this provider, which serves the schema folder and
// nothing else (least privilege: a package can never make libxml2 open a file).
function registerSchemaReader(): void {
  const toPath = (name: string): string | null => {
    const file = path.resolve(name.startsWith('file:') ? fileURLToPath(name) : name);
    return file.startsWith(SCHEMA_DIR) && fs.existsSync(file) ? file : null;
  };
  xmlRegisterInputProvider({
    match: (name) => toPath(name) !== null,
    open: (name) => {
      const file = toPath(name);
      return file === null ? undefined : fs.openSync(file, 'r');
    },
    read: (fd, buf) => fs.readSync(fd, buf, 0, buf.byteLength, null),
    close: (fd) => {
      fs.closeSync(fd);
      return true;
    },
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

const CONSTRAINT = /identity-constraint '(?:\{[^}]*\})?([\w.]+)'/;

export function readableReason(message: string): string {
  const text = message.trim()
    .replaceAll(`{${EDXML_NS}}`, '')
    .replaceAll(`{${DSIG_NS}}`, 'ds:')
    .replace(/^Element '[^']*':\s*/, '');
  const rule = CONSTRAINT.exec(text)?.[1];
  if (rule === undefined) return text;
  const [kind, ...names] = rule.split('.');
  const what = names.join('/');
  if (text.startsWith('Not all fields')) return `missing ${what} (exactly one is required)`;
  if (text.includes('more than one member')) {
    return kind === 'atMostOne' ? `more than one ${what} (at most one is allowed)` : `more than one ${what} (exactly one is required)`;
  }
  const duplicate = /Duplicate key-sequence \[(.*?)\]/.exec(text)?.[1];
  if (duplicate !== undefined) return `duplicate ${what} ${duplicate}`;
  return text;
}
