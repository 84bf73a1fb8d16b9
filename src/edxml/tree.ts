// Read-only views of a parsed libxml2 tree by node pointer, for the hop check's hot path.
//
// libxml2-wasm's object API builds a JS wrapper for every node it hands out (whitespace text
// included) and copies each string through a malloc'd buffer; reading a 10 KB package's header
// that way cost more than parsing it. Here a node is its pointer, and names, namespaces and
// texts are read straight from the WebAssembly memory. A walk never allocates in libxml2 or
// changes the tree, so the memory cannot move under it (the one fallback that asks the library,
// for entity references, ends the walk). asOnlyTopLevel alone writes, two pointers it restores.
//
// This leans on libxml2-wasm internals (struct offsets of libxml2's 32-bit build, the node-set
// table view): the dependency is pinned to an exact version, and tests/unit/edxml/tree.test.ts
// compares every view with the library's own wrappers on every fixture.
import { XmlElement, type XmlDocument } from 'libxml2-wasm';
import { XmlNodeSetStruct } from 'libxml2-wasm/lib/libxml2.mjs';
import { createNode } from 'libxml2-wasm/lib/nodes.mjs';

/** An element of a live libxml2 document, by pointer. Valid until the document is disposed. */
export type NodeRef = number & { readonly __nodeRef: unique symbol };

const ELEMENT = 1;
const TEXT = 3;
const CDATA = 4;
const PI = 7;
const COMMENT = 8;

// Byte offsets in libxml2's structs (wasm32). xmlNode: type, name, children, parent, next, ns,
// content, properties. xmlAttr shares type, name, children, next and ns; xmlNs has href at 8.
const TYPE = 4;
const NAME = 8;
const CHILDREN = 12;
const PARENT = 20;
const NEXT = 24;
const NS = 36;
const CONTENT = 40;
const PROPERTIES = 44;
const NS_DEF = 48;
const NS_HREF = 8;

let bytes = Buffer.alloc(0);
let words = new Uint32Array(0);

// The library keeps its memory private; a zero-length node-set table is a view of it. Memory
// growth detaches the old buffer (byteLength 0), so every entry point calls this first.
function sync(): void {
  if (words.byteLength === 0) {
    const buffer = XmlNodeSetStruct.nodeTable(0, 0).buffer as ArrayBuffer;
    bytes = Buffer.from(buffer);
    words = new Uint32Array(buffer);
  }
}

function field(ptr: number, offset: number): number {
  return words[(ptr + offset) >>> 2]!;
}

function cString(at: number): string {
  return at === 0 ? '' : bytes.toString('utf8', at, bytes.indexOf(0, at));
}

const encoded = new Map<string, Buffer>();

/** Whether the C string at `at` is `text`, compared byte by byte without decoding it. */
function cStringIs(at: number, text: string): boolean {
  if (at === 0) return text === '';
  let want = encoded.get(text);
  if (want === undefined) encoded.set(text, (want = Buffer.from(text + '\0', 'utf8')));
  for (let i = 0; i < want.length; i++) if (bytes[at + i] !== want[i]) return false;
  return true;
}

export function refOf(el: XmlElement): NodeRef {
  return (el as unknown as { _nodePtr: number })._nodePtr as NodeRef;
}

/** The library's wrapper, for the few calls that need one (c14n node sets, removal, errors). */
export function elementOf(ref: NodeRef): XmlElement {
  const node = createNode(ref);
  if (!(node instanceof XmlElement)) throw new Error(`node ${ref} is not an element`);
  return node;
}

export function rootOf(doc: XmlDocument): NodeRef {
  return refOf(doc.root);
}

export function localName(ref: NodeRef): string {
  sync();
  return cString(field(ref, NAME));
}

/** The element's namespace URI, '' when it has none. */
export function namespaceOf(ref: NodeRef): string {
  sync();
  const ns = field(ref, NS);
  return ns === 0 ? '' : cString(field(ns, NS_HREF));
}

export function parentOf(ref: NodeRef): NodeRef | null {
  sync();
  const parent = field(ref, PARENT);
  return parent !== 0 && field(parent, TYPE) === ELEMENT ? (parent as NodeRef) : null;
}

export function childElements(ref: NodeRef): NodeRef[] {
  sync();
  const out: NodeRef[] = [];
  for (let n = field(ref, CHILDREN); n !== 0; n = field(n, NEXT)) {
    if (field(n, TYPE) === ELEMENT) out.push(n as NodeRef);
  }
  return out;
}

function inNamespace(el: number, ns: string): boolean {
  const nsPtr = field(el, NS);
  return nsPtr === 0 ? ns === '' : cStringIs(field(nsPtr, NS_HREF), ns);
}

function isNamed(el: number, ns: string, name: string): boolean {
  return cStringIs(field(el, NAME), name) && inNamespace(el, ns);
}

/** Child elements with this local name in this namespace. */
export function childrenNamed(ref: NodeRef, ns: string, name: string): NodeRef[] {
  sync();
  const out: NodeRef[] = [];
  for (let n = field(ref, CHILDREN); n !== 0; n = field(n, NEXT)) {
    if (field(n, TYPE) === ELEMENT && isNamed(n, ns, name)) out.push(n as NodeRef);
  }
  return out;
}

/** Every element below `ref` (document order) that has this local name in this namespace. */
export function descendantsNamed(ref: NodeRef, ns: string, name: string): NodeRef[] {
  sync();
  const out: NodeRef[] = [];
  const visit = (el: number) => {
    for (let n = field(el, CHILDREN); n !== 0; n = field(n, NEXT)) {
      if (field(n, TYPE) !== ELEMENT) continue;
      if (isNamed(n, ns, name)) out.push(n as NodeRef);
      visit(n);
    }
  };
  visit(ref);
  return out;
}

/** The text of an element as XML sees it: its text and CDATA descendants, in order (= `content`). */
export function textOf(ref: NodeRef): string {
  sync();
  const first = field(ref, CHILDREN);
  // The common case, a single text node, needs no concatenation.
  if (first !== 0 && field(first, NEXT) === 0 && field(first, TYPE) === TEXT) return cString(field(first, CONTENT));
  // Anything but text, CDATA, elements, comments and PIs (entity references) is left to the library.
  return collectText(ref) ?? elementOf(ref).content;
}

function collectText(ref: number): string | null {
  let text = '';
  for (let n = field(ref, CHILDREN); n !== 0; n = field(n, NEXT)) {
    const type = field(n, TYPE);
    if (type === TEXT || type === CDATA) text += cString(field(n, CONTENT));
    else if (type === ELEMENT) {
      const inner = collectText(n);
      if (inner === null) return null;
      text += inner;
    } else if (type !== COMMENT && type !== PI) return null;
  }
  return text;
}

/** The value of an attribute without a namespace, or null. */
export function attributeOf(ref: NodeRef, name: string): string | null {
  sync();
  for (let a = field(ref, PROPERTIES); a !== 0; a = field(a, NEXT)) {
    if (field(a, NS) === 0 && cStringIs(field(a, NAME), name)) {
      let value = '';
      for (let t = field(a, CHILDREN); t !== 0; t = field(t, NEXT)) {
        value += cString(field(t, CONTENT));
      }
      return value;
    }
  }
  return null;
}

/** Plain data: an element with child elements in the namespace, or the trimmed text of one without. */
export type PlainNode = string | { [name: string]: PlainNode[] };

/**
 * The subtree at `ref` as plain data, reading only elements in `ns` (others are skipped, their
 * text included in a leaf's). Names and the namespace test are cached by pointer for this one
 * walk: within a live document libxml2 interns each name and namespace once.
 */
export function plainTree(ref: NodeRef, ns: string): PlainNode {
  sync();
  const names = new Map<number, string>();
  const inNs = new Map<number, boolean>();
  const read = (el: number): PlainNode => {
    let out: { [name: string]: PlainNode[] } | null = null;
    for (let n = field(el, CHILDREN); n !== 0; n = field(n, NEXT)) {
      if (field(n, TYPE) !== ELEMENT) continue;
      const nsPtr = field(n, NS);
      let matches = inNs.get(nsPtr);
      if (matches === undefined) inNs.set(nsPtr, (matches = inNamespace(n, ns)));
      if (!matches) continue;
      const namePtr = field(n, NAME);
      let name = names.get(namePtr);
      if (name === undefined) names.set(namePtr, (name = cString(namePtr)));
      ((out ??= {})[name] ??= []).push(read(n));
    }
    return out ?? textOf(el as NodeRef).trim();
  };
  return read(ref);
}

/** Every node pointer of the subtree at `ref` (elements, texts, comments), `ref` included. */
export function subtreeNodes(ref: NodeRef, out: Set<number> = new Set()): Set<number> {
  sync();
  out.add(ref);
  for (let n = field(ref, CHILDREN); n !== 0; n = field(n, NEXT)) {
    if (field(n, TYPE) === ELEMENT) subtreeNodes(n as NodeRef, out);
    else out.add(n);
  }
  return out;
}

/**
 * Runs `fn` while libxml2 sees `ref` as the document's only top-level node (the document's
 * children and the element's next sibling set, then restored), the tree otherwise untouched:
 * parents, and so the namespaces and xml:* attributes in scope, stay as they are. c14n walks the
 * document from its children, so this lets it walk one subtree instead of the whole document.
 */
export function asOnlyTopLevel<T>(doc: XmlDocument, ref: NodeRef, fn: () => T): T {
  const docPtr = (doc as unknown as { _ptr: number })._ptr;
  sync();
  const children = field(docPtr, CHILDREN);
  const next = field(ref, NEXT);
  words[(docPtr + CHILDREN) >>> 2] = ref;
  words[(ref + NEXT) >>> 2] = 0;
  try {
    return fn();
  } finally {
    sync(); // fn may have grown the memory
    words[(docPtr + CHILDREN) >>> 2] = children;
    words[(ref + NEXT) >>> 2] = next;
  }
}

/** Maxima of the counts that c14n's cost multiplies (limits.ts says why each exists). */
export interface StructureLimits {
  /** Elements, comments and CDATA sections in the document (counted on the bytes: policy.ts). */
  maxElements: number;
  /** Nesting depth, the root being 1. */
  maxDepth: number;
  /** Attributes in the document, namespace declarations not included (counted on the bytes). */
  maxAttributes: number;
  /** Attributes of one element (counted on the bytes). */
  maxAttributesPerElement: number;
  /** Namespace declarations in the document. */
  maxNamespaceDeclarations: number;
  /** Declarations on one element and its ancestors, redeclared prefixes included. */
  maxNamespacesInScope: number;
}

/** The limits checked on the tree; the others are counted on the bytes (policy.ts). */
export type TreeLimit = 'maxDepth' | 'maxNamespaceDeclarations' | 'maxNamespacesInScope';

/** The first limit the tree at `ref` passes and the element where it does, or null; stops there. */
export function overLimit(ref: NodeRef, max: StructureLimits): { limit: TreeLimit; at: NodeRef } | null {
  sync();
  let declarations = 0;
  const visit = (el: number, depth: number, inScope: number): { limit: TreeLimit; at: NodeRef } | null => {
    const at = el as NodeRef;
    if (depth > max.maxDepth) return { limit: 'maxDepth', at };
    // The chain of declarations libxml2's c14n walks for every element (xmlNs.next is at 0).
    for (let ns = field(el, NS_DEF); ns !== 0; ns = field(ns, 0)) {
      if (++declarations > max.maxNamespaceDeclarations) return { limit: 'maxNamespaceDeclarations', at };
      if (++inScope > max.maxNamespacesInScope) return { limit: 'maxNamespacesInScope', at };
    }
    for (let n = field(el, CHILDREN); n !== 0; n = field(n, NEXT)) {
      if (field(n, TYPE) !== ELEMENT) continue;
      const over = visit(n, depth + 1, inScope);
      if (over !== null) return over;
    }
    return null;
  };
  return visit(ref, 1, 0);
}

/** A readable path such as /edXML/edXMLEnvelope/edXMLHeader/MessageHeader/To[2]/OrganId. */
export function elementPath(ref: NodeRef): string {
  const parts: string[] = [];
  for (let cur: NodeRef | null = ref; cur !== null; cur = parentOf(cur)) {
    const name = localName(cur);
    const ns = namespaceOf(cur);
    const parent = parentOf(cur);
    const same = parent === null ? [cur] : childrenNamed(parent, ns, name);
    parts.unshift(same.length > 1 ? `${name}[${same.indexOf(cur) + 1}]` : name);
  }
  return '/' + parts.join('/');
}

export function lineOf(ref: NodeRef): number {
  return elementOf(ref).line;
}
