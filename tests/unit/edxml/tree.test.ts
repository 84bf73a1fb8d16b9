// The pointer views of src/edxml/tree.ts read libxml2-wasm internals (struct offsets, the
// memory view). Here every view is compared with the library's own wrappers, element by element,
// on every sample and on texts built to hit each branch, so an upgrade that moves a field fails.
import { describe, expect, it } from 'vitest';
import { XmlC14NMode, XmlElement } from 'libxml2-wasm';
import { XmlNodeSetStruct } from 'libxml2-wasm/lib/libxml2.mjs';
import { canonicalizeSubtree, parseXml, type XmlDocument } from '../../../src/edxml/libxml.js';
import {
  attributeOf, childElements, childrenNamed, descendantsNamed, elementOf, elementPath, lineOf, localName, namespaceOf,
  parentOf, plainTree, refOf, rootOf, textOf, type NodeRef, type PlainNode,
} from '../../../src/edxml/tree.js';
import { EDXML_NS } from '../../../src/edxml/namespace.js';
import { SAMPLE_FILES, documentOfSize, sample } from '../../helpers/packages.js';

function parse(text: string | Buffer): XmlDocument {
  const doc = parseXml(Buffer.isBuffer(text) ? text : Buffer.from(text, 'utf8'));
  if (!doc.ok) throw new Error(doc.error.message);
  return doc.value;
}

function wrappedElements(el: XmlElement, out: XmlElement[] = []): XmlElement[] {
  out.push(el);
  for (let n = el.firstChild; n !== null; n = n.next) if (n instanceof XmlElement) wrappedElements(n, out);
  return out;
}

// plainTree as the object API would build it.
function plainByWrappers(el: XmlElement, ns: string): PlainNode {
  const children: XmlElement[] = [];
  for (let n = el.firstChild; n !== null; n = n.next) if (n instanceof XmlElement && n.namespaceUri === ns) children.push(n);
  if (children.length === 0) return el.content.trim();
  const out: { [name: string]: PlainNode[] } = {};
  for (const c of children) (out[c.name] ??= []).push(plainByWrappers(c, ns));
  return out;
}

function expectSameViews(doc: XmlDocument): number {
  const elements = wrappedElements(doc.root);
  for (const el of elements) {
    const ref = refOf(el);
    expect(localName(ref)).toBe(el.name);
    expect(namespaceOf(ref)).toBe(el.namespaceUri);
    expect(textOf(ref)).toBe(el.content);
    expect(lineOf(ref)).toBe(el.line);
    expect(parentOf(ref)).toBe(el.parent === null ? null : refOf(el.parent));
    const children: number[] = [];
    for (let n = el.firstChild; n !== null; n = n.next) if (n instanceof XmlElement) children.push(refOf(n));
    expect(childElements(ref)).toEqual(children);
    expect(plainTree(ref, EDXML_NS)).toEqual(plainByWrappers(el, EDXML_NS));
    for (const attr of el.attrs) {
      if (attr.namespaceUri === '') expect(attributeOf(ref, attr.name)).toBe(attr.value);
    }
  }
  expect(attributeOf(refOf(doc.root), 'no-such-attribute')).toBeNull();
  return elements.length;
}

type Mode = 0 | 1 | 2;

function libraryC14n(doc: XmlDocument, el: XmlElement, mode: Mode, prefixes?: string[]): Buffer {
  const chunks: Buffer[] = [];
  doc.canonicalize({ write: (c: Uint8Array) => { chunks.push(Buffer.from(c)); return c.byteLength; }, close: () => true },
    { mode, nodeSet: new Set([el]), ...(prefixes && { inclusiveNamespacePrefixes: prefixes }) });
  return Buffer.concat(chunks);
}

function ourC14n(doc: XmlDocument, ref: NodeRef, mode: Mode, prefixes?: string[]): Buffer {
  const chunks: Buffer[] = [];
  const done = canonicalizeSubtree(doc, ref,
    { write: (c: Uint8Array) => { chunks.push(Buffer.from(c)); return c.byteLength; }, close: () => true },
    { mode, ...(prefixes && { inclusiveNamespacePrefixes: prefixes }) });
  if (!done.ok) throw new Error(done.error.message);
  return Buffer.concat(chunks);
}

describe('tree views agree with libxml2-wasm', () => {
  it.each(SAMPLE_FILES)('%s', (file) => {
    const doc = parse(sample(file));
    try {
      expect(expectSameViews(doc)).toBeGreaterThan(10);
    } finally {
      doc.dispose();
    }
  });

  it('texts with CDATA, character references, comments and nested elements, and namespaced attributes', () => {
    const doc = parse('<r xmlns="urn:a" xmlns:b="urn:b" a="x &amp; &#x1EA1;" b:a="other">' +
      '<t>one<![CDATA[ <two> ]]>three<!-- not text -->&#x110;à</t><m>a<b:i>b<b:j>c</b:j></b:i>d</m><e/><e></e>' +
      '<b:e>foreign</b:e><e>second</e></r>');
    try {
      expectSameViews(doc);
      const root = rootOf(doc);
      expect(textOf(childElements(root)[0]!)).toBe('one <two> three\u0110à');
      expect(attributeOf(root, 'a')).toBe('x & \u1ea1');
      expect(childrenNamed(root, 'urn:a', 'e')).toHaveLength(3);
      expect(childrenNamed(root, 'urn:b', 'e')).toHaveLength(1);
      expect(descendantsNamed(root, 'urn:b', 'j').map(localName)).toEqual(['j']);
      expect(elementPath(childrenNamed(root, 'urn:a', 'e')[2]!)).toBe('/r/e[3]');
      expect(elementOf(root).name).toBe('r');
    } finally {
      doc.dispose();
    }
  });

  it('views stay right after the WebAssembly memory grows', () => {
    const doc = parse(sample(SAMPLE_FILES[0]!));
    try {
      const before = expectSameViews(doc);
      const size = () => XmlNodeSetStruct.nodeTable(0, 0).buffer.byteLength;
      const sizeBefore = size();
      // A parse bigger than the memory makes libxml2 grow it, which detaches every view of the old one.
      parse(documentOfSize(sizeBefore + 16 * 1024 * 1024)).dispose();
      expect(size()).toBeGreaterThan(sizeBefore);
      expect(expectSameViews(doc)).toBe(before);
    } finally {
      doc.dispose();
    }
  });

  it('subtree c14n gives the library\'s node-set output for every element, in every mode', () => {
    const doc = parse(sample('edoc_new.payload-replaced.edxml'));
    try {
      const modes: Mode[] = [XmlC14NMode.XML_C14N_1_0, XmlC14NMode.XML_C14N_EXCLUSIVE_1_0, XmlC14NMode.XML_C14N_1_1];
      for (const el of wrappedElements(doc.root).filter((_, i) => i % 3 === 0)) {
        for (const mode of modes) expect(ourC14n(doc, refOf(el), mode).equals(libraryC14n(doc, el, mode))).toBe(true);
      }
    } finally {
      doc.dispose();
    }
  });

  it('subtree c14n shows libxml2 only the subtree, and still inherits what stands above it', () => {
    // Declarations and xml:* attributes at every level, a redeclared prefix, an undeclared default
    // namespace, siblings before and after: what c14n takes from the ancestors must not change.
    const doc = parse('<r xmlns="urn:d" xmlns:a="urn:a" xml:lang="vi" xml:space="preserve"><s/>' +
      '<a:m xmlns:b="urn:b" xml:lang="en" b:x="1"><b:n xmlns:a="urn:a2" a:y="2"><o xmlns="" xml:base="x/"><p>t</p></o></b:n>' +
      '<q xmlns:c="urn:c"><c:r/></q></a:m><s/></r>');
    try {
      const modes: Mode[] = [XmlC14NMode.XML_C14N_1_0, XmlC14NMode.XML_C14N_EXCLUSIVE_1_0, XmlC14NMode.XML_C14N_1_1];
      for (const el of wrappedElements(doc.root)) {
        for (const mode of modes) expect(ourC14n(doc, refOf(el), mode).equals(libraryC14n(doc, el, mode)), `${el.name} mode ${mode}`).toBe(true);
        const prefixes = ['a', 'b', 'c', '#default'];
        expect(ourC14n(doc, refOf(el), XmlC14NMode.XML_C14N_EXCLUSIVE_1_0, prefixes)
          .equals(libraryC14n(doc, el, XmlC14NMode.XML_C14N_EXCLUSIVE_1_0, prefixes)), `${el.name} with a PrefixList`).toBe(true);
      }
      // The document is as it was: its whole c14n still has every element.
      const chunks: Buffer[] = [];
      doc.canonicalize({ write: (c: Uint8Array) => { chunks.push(Buffer.from(c)); return c.byteLength; }, close: () => true }, { mode: 0 });
      expect(Buffer.concat(chunks).toString()).toContain('<s></s></r>');
      expect(wrappedElements(doc.root)).toHaveLength(9);
    } finally {
      doc.dispose();
    }
  });
});
