// xmllint with the published schemas and the project's validator (parsePackage: the XSD pass
// without identity constraints, then the typed header and the package rules, see schema.ts)
// give the same verdict on every fixture. Every identity constraint of the published schemas
// has a package here that breaks it, so a rule dropped from the hub's side cannot go unnoticed.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parsePackage } from '../../src/edxml/package.js';
import { parseXml } from '../../src/edxml/libxml.js';
import { SCHEMA_DIR, SCHEMA_FILES, validateSchema, withoutIdentityConstraints } from '../../src/edxml/schema.js';
import { SAMPLES_DIR, SAMPLE_FILES, edit } from '../helpers/packages.js';
import { tempDir, xmllint } from '../helpers/tools.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const EDOC = 'edoc_update.payload-replaced.edxml';
const STATUS = 'status_rejection_02.edxml';
const twice = (file: string, element: RegExp) => edit(file, element, '$&$&');
const E = (name: string) => new RegExp(`<edXML:${name}>[\\s\\S]*?</edXML:${name}>`);
const withBussiness = (inside: string) =>
  edit(STATUS, '</edXML:MessageHeader>', `</edXML:MessageHeader><edXML:TraceHeaderList><edXML:Bussiness>${inside}</edXML:Bussiness></edXML:TraceHeaderList>`);

/** [name, the identity constraint it breaks (schema file:constraint name) or null, package]. */
const corpus: [string, string | null, Buffer][] = [
  ['missing Subject', 'edoc:exactlyOne.Subject', edit(EDOC, E('Subject'), '')],
  ['two Subjects', 'edoc:exactlyOne.Subject', twice(EDOC, E('Subject'))],
  ['duplicate recipient', 'edoc:exactlyOne.To.OrganId', edit(EDOC, '<edXML:OrganId>000.00.00.H14</edXML:OrganId>', '<edXML:OrganId>000.00.00.H41</edXML:OrganId>')],
  ['two From', 'edoc:exactlyOne.From', edit(EDOC, '<edXML:DocumentId>', '<edXML:From><edXML:OrganId>000.00.00.H14</edXML:OrganId></edXML:From><edXML:DocumentId>')],
  ['two Codes', 'edoc:exactlyOne.Code.CodeNumber', twice(EDOC, E('Code'))],
  ['missing PromulgationInfo', 'edoc:exactlyOne.PromulgationInfo', edit(EDOC, E('PromulgationInfo'), '')],
  ['two DocumentTypes', 'edoc:exactlyOne.DocumentType', twice(EDOC, E('DocumentType'))],
  ['two DocumentIds', 'edoc:atMostOne.DocumentId', edit(EDOC, /<edXML:DocumentId>000\.00\.00\.G22,2015[^<]*<\/edXML:DocumentId>/, '$&$&')],
  ['two Contents', 'edoc:atMostOne.Content', twice(EDOC, E('Content'))],
  ['two DueDates', 'edoc:atMostOne.DueDate', twice(EDOC, E('DueDate'))],
  ['two SteeringTypes', 'edoc:atMostOne.SteeringType', twice(EDOC, E('SteeringType'))],
  ['two SignerInfos', 'edoc:atMostOne.SignerInfo', twice(EDOC, E('SignerInfo'))],
  ['a ResponseFor without OrganId', 'edoc:exactlyOne.ResponseFor.OrganId', edit(EDOC, '<edXML:Subject>', '<edXML:ResponseFor><edXML:Code>1/X</edXML:Code></edXML:ResponseFor><edXML:Subject>')],
  ['two BussinessDocTypes', 'edoc:exactlyOne.Bussiness.BussinessDocType', twice(EDOC, E('BussinessDocType'))],
  ['two Bussiness DocumentIds', 'edoc:atMostOne.Bussiness.DocumentId', edit(EDOC, /<edXML:DocumentId>000\.00\.00\.G22,2014[^<]*<\/edXML:DocumentId>/, '$&$&')],
  ['two attachments with one ContentId', 'edoc:distinct.Attachment.ContentId', twice(EDOC, /<Attachment>[\s\S]*?<\/Attachment>/)],
  ['status without From', 'status:exactlyOne.From', edit(STATUS, E('From'), '')],
  ['status with two ResponseFor', 'status:exactlyOne.ResponseFor', edit(STATUS, '<edXML:StatusCode>', '<edXML:ResponseFor><edXML:OrganId>x</edXML:OrganId></edXML:ResponseFor><edXML:StatusCode>')],
  ['status with two StatusCodes', 'status:exactlyOne.StatusCode', twice(STATUS, E('StatusCode'))],
  ['status without Timestamp', 'status:exactlyOne.Timestamp', edit(STATUS, E('Timestamp'), '')],
  ['status with two Descriptions', 'status:atMostOne.Description', twice(STATUS, E('Description'))],
  ['status ResponseFor with two Codes', 'status:atMostOne.ResponseFor.Code', twice(STATUS, E('Code'))],
  ['status ResponseFor with two DocumentIds', 'status:atMostOne.ResponseFor.DocumentId', twice(STATUS, E('DocumentId'))],
  ['status ResponseFor with two PromulgationDates', 'status:atMostOne.ResponseFor.PromulgationDate', twice(STATUS, E('PromulgationDate'))],
  ['status Bussiness with two BussinessDocTypes', 'status:exactlyOne.Bussiness.BussinessDocType', withBussiness('<edXML:BussinessDocType>0</edXML:BussinessDocType>'.repeat(2))],
  ['status Bussiness with two DocumentIds', 'status:atMostOne.Bussiness.DocumentId',
    withBussiness('<edXML:BussinessDocType>0</edXML:BussinessDocType>' + '<edXML:DocumentId>x</edXML:DocumentId>'.repeat(2))],
  ['bad PromulgationDate', null, edit(EDOC, /<edXML:PromulgationDate>\d{4}\/\d{2}\/\d{2}/, '<edXML:PromulgationDate>16-01-2019')],
  ['Priority out of range', null, edit(EDOC, '<edXML:Priority>0', '<edXML:Priority>7')],
  ['unknown element in the edXML namespace', null, edit(EDOC, '<edXML:Content>', '<edXML:Bogus/><edXML:Content>')],
  ['vendor element in its own namespace', null, edit(EDOC, '<edXML:Content>', '<v:x xmlns:v="urn:vendor"/><edXML:Content>')],
  ['unknown status code', null, edit(STATUS, '<edXML:StatusCode>02', '<edXML:StatusCode>07')],
  ['empty OrganId', null, edit(STATUS, '<edXML:OrganId>000.00.00.H41</edXML:OrganId>', '<edXML:OrganId> </edXML:OrganId>')],
];

const fixtures: [string, string | null, Buffer][] = [
  ...SAMPLE_FILES.map((f): [string, null, Buffer] => [f, null, fs.readFileSync(path.join(SAMPLES_DIR, f))]),
  ...corpus,
];

/** The identity constraints of the published schemas, as kind:name. */
function identityConstraints(): string[] {
  const inFile = (file: string): string[] => {
    const text = fs.readFileSync(file, 'utf8');
    const included = [...text.matchAll(/<xs:(?:include|import)[^>]*schemaLocation="([^"]+)"/g)].map((m) => path.join(SCHEMA_DIR, m[1]!));
    return [...[...text.matchAll(/<xs:(?:key|unique|keyref) name="([^"]+)"/g)].map((m) => m[1]!), ...included.flatMap(inFile)];
  };
  return (Object.keys(SCHEMA_FILES) as (keyof typeof SCHEMA_FILES)[]).flatMap((kind) => inFile(SCHEMA_FILES[kind]).map((n) => `${kind}:${n}`));
}

function kindOf(bytes: Buffer): 'edoc' | 'status' {
  return /<(?:\w+:)?StatusCode>/.test(bytes.toString('utf8')) ? 'status' : 'edoc';
}

describe('xmllint agrees with the project validator', () => {
  it.each(fixtures)('%s', (name, _constraint, bytes) => {
    const ours = parsePackage(bytes);
    if (ours.ok) ours.value.doc.dispose();
    else expect(ours.error.code, ours.error.message).toBe('SCHEMA_INVALID');
    const file = tmp.file(name.replace(/\W+/g, '_') + '.edxml', bytes);
    const reference = xmllint('--noout', '--schema', SCHEMA_FILES[kindOf(bytes)], file);
    expect(ours.ok, ours.ok ? reference.stderr : ours.error.message).toBe(reference.status === 0);
    if (name.endsWith('.edxml')) expect(ours.ok).toBe(true);
  });

  it('has a breaking package for every identity constraint of the published schemas', () => {
    const constraints = identityConstraints();
    expect(constraints.length).toBeGreaterThan(20);
    expect([...new Set(corpus.map(([, c]) => c).filter((c) => c !== null))].sort()).toEqual([...new Set(constraints)].sort());
  });

  it('the XSD pass alone lets those packages through: the typed header and package rules refuse them', () => {
    const passing = corpus.filter(([, c]) => c !== null).filter(([, , bytes]) => {
      const doc = parseXml(bytes);
      if (!doc.ok) throw new Error(doc.error.message);
      try {
        return validateSchema(doc.value, kindOf(bytes)).ok;
      } finally {
        doc.value.dispose();
      }
    });
    expect(passing.length).toBeGreaterThan(15);
    expect(withoutIdentityConstraints(fs.readFileSync(SCHEMA_FILES.edoc)).toString()).not.toMatch(/<xs:(key|unique)\b/);
  });

  it('the corpus holds both verdicts, so agreement is not trivial', () => {
    const verdicts = corpus.map(([, , bytes]) => xmllint('--noout', '--schema', SCHEMA_FILES[kindOf(bytes)], tmp.file('x.edxml', bytes)).status === 0);
    expect(verdicts).toContain(true);
    expect(verdicts).toContain(false);
  });
});
