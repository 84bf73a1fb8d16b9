// Random, reproducible mutations of edXML packages for the fuzz runs: bytes, elements,
// attributes, encodings, sizes. A case is named by (seed, index): `mutate` with the same pair
// gives the same bytes, so a failure printed with its seed and index can be replayed alone.

/** mulberry32: a small, fast PRNG; good enough to pick mutations, and seedable. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Random {
  next: () => number;
  int: (below: number) => number;
  pick: <T>(items: readonly T[]) => T;
}

function random(seed: number): Random {
  const next = prng(seed);
  const int = (below: number) => Math.floor(next() * below);
  return { next, int, pick: (items) => items[int(items.length)]! };
}

type Mutation = (bytes: Buffer, r: Random) => Buffer;

const text = (b: Buffer) => b.toString('utf8');
const at = (b: Buffer, r: Random) => r.int(b.length + 1);
const splice = (b: Buffer, from: number, remove: number, insert: Buffer | string) =>
  Buffer.concat([b.subarray(0, from), typeof insert === 'string' ? Buffer.from(insert) : insert, b.subarray(from + remove)]);

/** Start tags in the text, with where they begin and their name. */
const startTags = (s: string) => [...s.matchAll(/<([A-Za-z_][\w:.-]*)(\s[^<>]*)?>/g)];
/** One element (start tag to its first matching end tag), or null. */
function element(b: Buffer, r: Random): { from: number; to: number; name: string } | null {
  const s = text(b);
  const tags = startTags(s);
  if (tags.length === 0) return null;
  const tag = r.pick(tags);
  const close = s.indexOf(`</${tag[1]}>`, tag.index);
  const from = Buffer.byteLength(s.slice(0, tag.index));
  const to = close < 0 ? from + Buffer.byteLength(tag[0]) : Buffer.byteLength(s.slice(0, close + tag[1]!.length + 3));
  return { from, to, name: tag[1]! };
}
/** One attribute (` name="value"`) in the text, or null. */
function attribute(b: Buffer, r: Random): { from: number; to: number; name: string; value: string } | null {
  const s = text(b);
  const attrs = [...s.matchAll(/\s([A-Za-z_][\w:.-]*)="([^"<]*)"/g)];
  if (attrs.length === 0) return null;
  const a = r.pick(attrs);
  const from = Buffer.byteLength(s.slice(0, a.index));
  return { from, to: from + Buffer.byteLength(a[0]), name: a[1]!, value: a[2]! };
}
/** A position just after a start tag, where text or elements may go. */
function insideAnElement(b: Buffer, r: Random): number {
  const s = text(b);
  const tags = startTags(s);
  if (tags.length === 0) return at(b, r);
  const tag = r.pick(tags);
  return Buffer.byteLength(s.slice(0, tag.index! + tag[0].length));
}
const noise = (r: Random, n: number) => Buffer.from(Array.from({ length: n }, () => r.int(256)));
const NAMES = ['x', 'edXML:Subject', 'Signature', 'ds:Reference', 'edXML:To', 'a:b:c', 'Ω', ''];

export const MUTATIONS: Record<string, Mutation> = {
  // Bytes
  flipBit: (b, r) => { const c = Buffer.from(b); if (c.length > 0) { const i = r.int(c.length); c[i] = c[i]! ^ (1 << r.int(8)); } return c; },
  insertBytes: (b, r) => splice(b, at(b, r), 0, noise(r, 1 + r.int(16))),
  deleteBytes: (b, r) => { const i = at(b, r); return splice(b, i, 1 + r.int(64), ''); },
  overwriteSpecial: (b, r) => splice(b, at(b, r), 1, r.pick(['<', '>', '&', '"', "'", '\0', ']]>', '<!--', '&#0;', '&#xD800;', '&amp', '\uFFFE'])),
  truncate: (b, r) => b.subarray(0, r.int(b.length)),
  // Elements
  duplicateElement: (b, r) => { const e = element(b, r); return e ? splice(b, e.to, 0, b.subarray(e.from, e.to)) : b; },
  removeElement: (b, r) => { const e = element(b, r); return e ? splice(b, e.from, e.to - e.from, '') : b; },
  renameElement: (b, r) => {
    const e = element(b, r);
    if (!e) return b;
    const name = r.pick(NAMES);
    const s = text(b.subarray(e.from, e.to));
    // Both tags (a schema error) or only the start tag (not well-formed).
    const renamed = r.next() < 0.5 ? s.replace(`<${e.name}`, `<${name}`).replace(new RegExp(`</${e.name}>$`), `</${name}>`) : s.replace(`<${e.name}`, `<${name}`);
    return splice(b, e.from, e.to - e.from, renamed);
  },
  unwrapElement: (b, r) => {
    const e = element(b, r);
    if (!e) return b;
    const s = text(b.subarray(e.from, e.to));
    return splice(b, e.from, e.to - e.from, s.replace(/^<[^>]*>/, '').replace(/<\/[^>]*>$/, ''));
  },
  // Attributes
  duplicateAttribute: (b, r) => { const a = attribute(b, r); return a ? splice(b, a.to, 0, ` ${a.name}="${a.value}"`) : b; },
  removeAttribute: (b, r) => { const a = attribute(b, r); return a ? splice(b, a.from, a.to - a.from, '') : b; },
  renameAttribute: (b, r) => { const a = attribute(b, r); return a ? splice(b, a.from, a.to - a.from, ` ${r.pick(['Id', 'URI', 'xmlns', 'xmlns:ds', 'Algorithm', 'x'])}="${a.value}"`) : b; },
  changeAttributeValue: (b, r) => {
    const a = attribute(b, r);
    return a ? splice(b, a.from, a.to - a.from, ` ${a.name}="${r.pick(['', '#x', 'http://www.w3.org/2000/09/xmldsig#sha1', 'file:///etc/passwd', 'x'.repeat(10_000), '&lt;'])}"`) : b;
  },
  manyAttributes: (b, r) => {
    const s = text(b);
    const tag = r.pick(startTags(s).length > 0 ? startTags(s) : [null]);
    if (tag === null) return b;
    const end = Buffer.byteLength(s.slice(0, tag.index! + tag[0].length - 1));
    return splice(b, end, 0, Array.from({ length: 2_000 + r.int(20_000) }, (_, i) => ` a${i}="${i}"`).join(''));
  },
  // Encodings
  utf8Bom: (b) => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), b]),
  utf16: (b, r) => {
    const body = Buffer.from(text(b), 'utf16le');
    return r.next() < 0.5 ? Buffer.concat([Buffer.from([0xff, 0xfe]), body]) : body;
  },
  declareEncoding: (b, r) => {
    const encoding = r.pick(['ISO-8859-1', 'UTF-16', 'windows-1258', 'US-ASCII', 'utf-8', 'UTF8', 'ebcdic-cp-us']);
    const s = text(b);
    return Buffer.from(/^<\?xml[^>]*\?>/.test(s) ? s.replace(/^<\?xml[^>]*\?>/, `<?xml version="1.0" encoding="${encoding}"?>`) : `<?xml version="1.0" encoding="${encoding}"?>${s}`);
  },
  latin1: (b) => Buffer.from(text(b), 'latin1'),
  invalidUtf8: (b, r) => splice(b, at(b, r), 0, Buffer.from(r.pick([[0xc3, 0x28], [0xff], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xc0, 0xaf], [0xe2, 0x82]]))),
  // Sizes and shapes
  empty: () => Buffer.alloc(0),
  whitespaceOnly: (_b, r) => Buffer.from(' \n\t'.repeat(1 + r.int(100))),
  hugeText: (b, r) => splice(b, insideAnElement(b, r), 0, r.pick(['A', 'Ệ', '&amp;', ' ']).repeat(200_000 + r.int(800_000))),
  deepNesting: (b, r) => { const depth = 1_000 + r.int(20_000); return splice(b, insideAnElement(b, r), 0, '<d>'.repeat(depth) + '</d>'.repeat(depth)); },
  manyElements: (b, r) => splice(b, insideAnElement(b, r), 0, '<e/>'.repeat(10_000 + r.int(50_000))),
  // What makes c14n expensive (issue 14): namespaces in scope, a declaration per level, comments,
  // an exclusive PrefixList; sizes on both sides of the default structure limits.
  namespaceFlood: (b, r) => {
    const s = text(b);
    const tag = r.pick(startTags(s).length > 0 ? startTags(s) : [null]);
    if (tag === null) return b;
    const end = Buffer.byteLength(s.slice(0, tag.index! + tag[0].length - (tag[0].endsWith('/>') ? 2 : 1)));
    return splice(b, end, 0, Array.from({ length: 1 + r.int(r.pick([16, 200, 3_000])) }, (_, i) => ` xmlns:n${i}="urn:n${i}"`).join(''));
  },
  declaredNesting: (b, r) => {
    const depth = 1 + r.int(r.pick([16, 40, 2_000]));
    return splice(b, insideAnElement(b, r), 0, Array.from({ length: depth }, (_, i) => `<n${i}:e xmlns:n${i}="urn:n${i}">`).join('') +
      Array.from({ length: depth }, (_, i) => `</n${depth - 1 - i}:e>`).join(''));
  },
  commentFlood: (b, r) => splice(b, insideAnElement(b, r), 0, '<!---->'.repeat(1 + r.int(r.pick([100, 20_000])))),
  prefixList: (b, r) => {
    const list = Array.from({ length: 1 + r.int(r.pick([10, 100_000])) }, (_, i) => `p${i}`).join(' ');
    return Buffer.from(text(b).replace(/<((?:\w+:)?(?:CanonicalizationMethod|Transform)) (Algorithm="http:\/\/www\.w3\.org\/2001\/10\/xml-exc-c14n#")\s*\/>/,
      (_m, name: string, algorithm: string) => `<${name} ${algorithm}><InclusiveNamespaces xmlns="http://www.w3.org/2001/10/xml-exc-c14n#" PrefixList="${list}"/></${name}>`));
  },
  hostileMarkup: (b, r) => splice(b, r.pick([0, insideAnElement(b, r)]), 0, r.pick([
    '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>', '<?xml-stylesheet href="x"?>', '<![CDATA[<x>]]>', '<!-- c -->',
    '&e;', '&#x10FFFF;', '<x:y xmlns:x="">', '<edXML:Subject xmlns:edXML="urn:other">x</edXML:Subject>', '<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="/etc/passwd"/>',
  ])),
  changeNamespace: (b) => Buffer.from(text(b).replace('http://www.mic.gov.vn/TBT/QCVN_102_2016', 'http://example.com/other')),
};

export const MUTATION_NAMES = Object.keys(MUTATIONS);

export interface Mutant { bytes: Buffer; mutations: string[] }

/**
 * Case `index` of the run `seed`: one to three mutations of one of `bases`. The first cases are
 * the bases themselves, unchanged, so that every run also sees what a valid answer looks like.
 */
export function mutate(bases: readonly Buffer[], seed: number, index: number): Mutant & { base: number } {
  if (index < bases.length) return { bytes: bases[index]!, mutations: ['none'], base: index };
  const r = random((seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0);
  const base = r.int(bases.length);
  let bytes = bases[base]!;
  const mutations: string[] = [];
  for (let i = 1 + r.int(3); i > 0; i--) {
    const name = r.pick(MUTATION_NAMES);
    mutations.push(name);
    bytes = MUTATIONS[name]!(bytes, r);
  }
  return { bytes, mutations, base };
}

/** The run's seed: LGSP_FUZZ_SEED to replay one, else a fresh one (printed by the caller). */
export function fuzzSeed(env: string | undefined): number {
  return env === undefined || env === '' ? Math.floor(Math.random() * 2 ** 31) : Number.parseInt(env, 10);
}
