// The structure limits (issue 14, item 1): each is refused with POLICY_VIOLATION naming the limit,
// its policy key and where; a package at every limit passes; the hub's own limits are honoured.
import { describe, expect, it } from 'vitest';
import { parsePackage } from '../../../src/edxml/package.js';
import { DEFAULT_LIMITS, type StructureLimits } from '../../../src/edxml/limits.js';
import { parseConfig } from '../../../src/config.js';
import { edit, sample, SAMPLE_FILES } from '../../helpers/packages.js';

const BASE = 'status_inbox_01.edxml';
const FROM_END = '</edXML:From>';

function verdict(bytes: Uint8Array, limits: StructureLimits = DEFAULT_LIMITS) {
  const result = parsePackage(bytes, { limits });
  if (result.ok) result.value.doc.dispose();
  return result.ok ? { code: 'OK' } : result.error;
}

const inFrom = (xml: string) => edit(BASE, FROM_END, xml + FROM_END);
const onRoot = (attrs: string) => edit(BASE, '<edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016"', `<edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016"${attrs}`);
const declarations = (n: number) => Array.from({ length: n }, (_, i) => ` xmlns:n${i}="urn:n${i}"`).join('');
const attributes = (n: number) => Array.from({ length: n }, (_, i) => ` a${i}="${i}"`).join('');
const nested = (depth: number, declare: boolean) =>
  Array.from({ length: depth }, (_, i) => (declare ? `<n${i}:e xmlns:n${i}="urn:n${i}">` : '<x:e xmlns:x="urn:x">')).join('') +
  Array.from({ length: depth }, (_, i) => (declare ? `</n${depth - 1 - i}:e>` : '</x:e>')).join('');
const FROM_PATH = '/edXML/edXMLEnvelope/edXMLHeader/MessageHeader/From';

describe('structure limits', () => {
  it('the national samples are far within every default limit', () => {
    const tight: StructureLimits = {
      maxElements: 200, maxDepth: 10, maxAttributes: 10, maxAttributesPerElement: 3, maxNamespaceDeclarations: 4, maxNamespacesInScope: 3,
    };
    for (const file of SAMPLE_FILES) expect(verdict(sample(file), tight), file).toEqual({ code: 'OK' });
  });

  it('the review\'s shape: 1,200 namespace declarations on the root, named at the root', () => {
    const error = verdict(onRoot(declarations(1_200)));
    expect(error).toMatchObject({ code: 'POLICY_VIOLATION', where: 'line 2' });
    expect(error).toHaveProperty('message', expect.stringContaining('more than 16 namespaces in scope'));
    expect(error).toHaveProperty('message', expect.stringContaining('(policy.maxNamespacesInScope), at /edXML'));
  });

  it('namespaces in scope: declarations on an element and its ancestors add up', () => {
    const limits = { ...DEFAULT_LIMITS, maxNamespacesInScope: 6 };
    // The sample has 2 in scope in From (root, envelope): 4 more levels reach 6, a fifth passes it.
    expect(verdict(inFrom(nested(4, true)), limits)).toEqual({ code: 'OK' });
    expect(verdict(inFrom(nested(5, true)), limits)).toMatchObject({
      code: 'POLICY_VIOLATION',
      message: expect.stringContaining(`more than 6 namespaces in scope at one element (declared on it and its ancestors) (policy.maxNamespacesInScope), at ${FROM_PATH}/e/e/e/e/e`),
    });
  });

  it('namespace declarations in the package, each on its own element', () => {
    const each = (n: number) => inFrom(Array.from({ length: n }, (_, i) => `<n${i}:e xmlns:n${i}="urn:n${i}"/>`).join(''));
    expect(verdict(each(998))).toEqual({ code: 'OK' }); // + the sample's 2 = the default 1,000
    const limits = { ...DEFAULT_LIMITS, maxNamespaceDeclarations: 64 };
    expect(verdict(each(62), limits)).toEqual({ code: 'OK' });
    expect(verdict(each(63), limits)).toMatchObject({ code: 'POLICY_VIOLATION', message: expect.stringContaining('more than 64 namespace declarations in the package (policy.maxNamespaceDeclarations)') });
  });

  it('depth, the root being level 1', () => {
    const limits = { ...DEFAULT_LIMITS, maxDepth: 10 };
    // From is at level 5: five more levels reach 10.
    expect(verdict(inFrom(nested(5, false)), limits)).toEqual({ code: 'OK' });
    expect(verdict(inFrom(nested(6, false)), limits)).toMatchObject({ code: 'POLICY_VIOLATION', message: expect.stringContaining('more than 10 levels of nesting (policy.maxDepth)') });
  });

  it('attributes on one element and in the package, counted on the bytes with the line of the element', () => {
    const one = (n: number) => inFrom(`\n<x:e xmlns:x="urn:x"${attributes(n)}/>`);
    const lineOfE = (bytes: Uint8Array) => Buffer.from(bytes).toString('utf8').split('<x:e')[0]!.split('\n').length;
    expect(verdict(one(16))).toEqual({ code: 'OK' });
    expect(verdict(one(17))).toMatchObject({
      code: 'POLICY_VIOLATION', where: `line ${lineOfE(one(17))}`,
      message: `the package has more than 16 attributes on one element (policy.maxAttributesPerElement), at <x:e> on line ${lineOfE(one(17))}`,
    });
    // Namespace declarations are not attributes (each has its own limits, on the tree).
    expect(verdict(inFrom(`<x:e xmlns:x="urn:x" xmlns = "urn:y" xmlns:z='urn:z'${attributes(16)}/>`))).toEqual({ code: 'OK' });
    // Quoted values may hold '>', '=' and quotes of the other kind; names may contain "xmlns".
    expect(verdict(inFrom(`<x:e xmlns:x="urn:x" a="=>'=" b='"=>'${attributes(14)}/>`))).toEqual({ code: 'OK' });
    expect(verdict(inFrom(`<x:e xmlns:x="urn:x" a="=>'=" b='"=>' xmlnsx="1"${attributes(14)}/>`))).toMatchObject({ code: 'POLICY_VIOLATION' });
    // Attributes inside comments and CDATA sections are text.
    expect(verdict(inFrom(`<!--<e${attributes(20)}/>--><x:e xmlns:x="urn:x"><![CDATA[<e${attributes(20)}/>]]></x:e>`))).toEqual({ code: 'OK' });
    const limits = { ...DEFAULT_LIMITS, maxAttributes: 40 };
    const spread = (n: number) => inFrom(`<x:e xmlns:x="urn:x">${`<x:e${attributes(10)}/>`.repeat(n)}</x:e>`);
    // The sample's own attributes (none in status_inbox_01) leave the 40 to these.
    expect(verdict(spread(4), limits)).toEqual({ code: 'OK' });
    expect(verdict(spread(5), limits)).toMatchObject({ code: 'POLICY_VIOLATION', message: expect.stringContaining('more than 40 attributes in the package (policy.maxAttributes), at <x:e> on line') });
  });

  it('elements, comments and CDATA sections are counted on the bytes, with the line of the first past the limit', () => {
    const limits = { ...DEFAULT_LIMITS, maxElements: 40 };
    const count = (n: number) => inFrom('\n<!--c-->'.repeat(n));
    // status_inbox_01 has 26 elements: 14 comments reach 40.
    expect(verdict(count(14), limits)).toEqual({ code: 'OK' });
    const error = verdict(count(15), limits);
    expect(error).toMatchObject({ code: 'POLICY_VIOLATION', message: expect.stringContaining('more than 40 elements, comments and CDATA sections (policy.maxElements)') });
    // The 41st start of a node in document order (this package has no '<' inside comments).
    const text = count(15).toString('utf8');
    const at = [...text.matchAll(/<(?![/?])/g)][40]!.index;
    expect(error).toHaveProperty('where', `line ${text.slice(0, at).split('\n').length}`);
    // '<' inside a comment or a CDATA section is not an element.
    expect(verdict(inFrom(`<x:e xmlns:x="urn:x"><![CDATA[${'<e/>'.repeat(50)}]]></x:e><!--${'<e/>'.repeat(50)}-->`), limits)).toEqual({ code: 'OK' });
    expect(verdict(inFrom('<x:e xmlns:x="urn:x"/>'.repeat(15)), limits)).toMatchObject({ code: 'POLICY_VIOLATION' });
  });

  it('a DOCTYPE or a processing instruction is still found anywhere, comments included', () => {
    expect(verdict(inFrom('<!-- <!DOCTYPE x> -->'))).toMatchObject({ code: 'POLICY_VIOLATION', message: expect.stringContaining('DOCTYPE') });
    expect(verdict(inFrom('<!-- <?x y?> -->'))).toMatchObject({ code: 'POLICY_VIOLATION', message: expect.stringContaining('processing instructions') });
  });

  it('the configuration carries the limits, with the defaults', () => {
    const base = { hubs: [{ id: '000.00.00.H41', port: 0, sealKeyFile: 'k', sealCertFile: 'c' }], trust: { caFiles: ['ca.pem'] } };
    const parsed = parseConfig(base, '/tmp', {});
    expect(parsed.ok && parsed.value.policy).toMatchObject(DEFAULT_LIMITS);
    const custom = parseConfig({ ...base, policy: { maxNamespacesInScope: 4 } }, '/tmp', {});
    expect(custom.ok && custom.value.policy.maxNamespacesInScope).toBe(4);
    expect(parseConfig({ ...base, policy: { maxElements: 0 } }, '/tmp', {})).toMatchObject({ ok: false, error: { code: 'USAGE' } });
  });
});
