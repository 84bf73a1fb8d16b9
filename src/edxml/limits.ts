// Structure limits, checked before the XSD and long before canonicalization: the element and
// attribute counts on the raw bytes (policy.ts), the rest on the parsed tree, each stopping at the
// first excess.
//
// libxml2's c14n visits, for every element, each namespace declaration on it and its ancestors,
// and looks each one up again along the same chain: its cost grows with elements × in-scope
// namespaces², plus attributes² per element (they are sorted by insertion) and depth per lookup.
// A 38 KB package with 1,200 declarations on the root and 1,200 elements took 3.6 s. Bounding
// each factor bounds the product: with the defaults the worst package of up to 1 MiB is checked
// in tens of milliseconds (npm run bench:hostile). The defaults are far above real packages
// (the national samples: 26-124 elements, depth 8, 3 declarations, 2 attributes per element;
// a province's document to all of its ~170 communes needs ~1,300 elements). maxElements was
// 10,000 until the worst package at the limits took 25-45 ms to check; at 5,000 it is half that.
// Declarations in the whole package do not multiply c14n's cost (those in scope do), so their
// limit is loose: the SDK and our emitter declare the edXML prefix again in every attachment.
import { fail, ok, type Result } from '../errors.js';
import { elementPath, lineOf, overLimit, rootOf, type StructureLimits, type TreeLimit } from './tree.js';
import type { XmlDocument } from './libxml.js';

export type { StructureLimits };

export const DEFAULT_LIMITS: Readonly<StructureLimits> = {
  maxElements: 5_000,
  maxDepth: 32,
  maxAttributes: 10_000,
  maxAttributesPerElement: 16,
  maxNamespaceDeclarations: 1_000,
  maxNamespacesInScope: 16,
};

const WHAT: Record<TreeLimit, string> = {
  maxDepth: 'levels of nesting',
  maxNamespaceDeclarations: 'namespace declarations in the package',
  maxNamespacesInScope: 'namespaces in scope at one element (declared on it and its ancestors)',
};

/** POLICY_VIOLATION naming the limit, its value and the element where the package passes it. */
export function checkStructure(doc: XmlDocument, limits: StructureLimits): Result<void> {
  const over = overLimit(rootOf(doc), limits);
  if (over === null) return ok(undefined);
  const path = elementPath(over.at);
  const line = lineOf(over.at);
  const reason = `more than ${limits[over.limit]} ${WHAT[over.limit]} (policy.${over.limit})`;
  return fail('POLICY_VIOLATION', `the package has ${reason}, at ${path}`, `line ${line}`, [{ line, path, reason }]);
}
