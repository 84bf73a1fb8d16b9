// The project's XSD validation (libxml2-wasm) and xmllint give the same verdict on every fixture.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseXml } from '../../src/edxml/libxml.js';
import { packageKind } from '../../src/edxml/package.js';
import { SCHEMA_FILES, validateSchema } from '../../src/edxml/schema.js';
import { SAMPLES_DIR, SAMPLE_FILES, edit } from '../helpers/packages.js';
import { tempDir, xmllint } from '../helpers/tools.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const EDOC = 'edoc_update.payload-replaced.edxml';
const STATUS = 'status_rejection_02.edxml';
const corpus: [string, Buffer][] = [
  ['missing Subject', edit(EDOC, /<edXML:Subject>.*<\/edXML:Subject>/, '')],
  ['two Subjects', edit(EDOC, '<edXML:Content>', '<edXML:Subject>again</edXML:Subject><edXML:Content>')],
  ['duplicate recipient', edit(EDOC, '<edXML:OrganId>000.00.00.H14</edXML:OrganId>', '<edXML:OrganId>000.00.00.H41</edXML:OrganId>')],
  ['two From', edit(EDOC, '<edXML:DocumentId>', '<edXML:From><edXML:OrganId>000.00.00.H14</edXML:OrganId></edXML:From><edXML:DocumentId>')],
  ['bad PromulgationDate', edit(EDOC, /<edXML:PromulgationDate>\d{4}\/\d{2}\/\d{2}/, '<edXML:PromulgationDate>16-01-2019')],
  ['Priority out of range', edit(EDOC, '<edXML:Priority>0', '<edXML:Priority>7')],
  ['unknown element in the edXML namespace', edit(EDOC, '<edXML:Content>', '<edXML:Bogus/><edXML:Content>')],
  ['vendor element in its own namespace', edit(EDOC, '<edXML:Content>', '<v:x xmlns:v="urn:vendor"/><edXML:Content>')],
  ['unknown status code', edit(STATUS, '<edXML:StatusCode>02', '<edXML:StatusCode>07')],
  ['status without Timestamp', edit(STATUS, /<edXML:Timestamp>.*<\/edXML:Timestamp>/, '')],
  ['status with two ResponseFor', edit(STATUS, '<edXML:StatusCode>', '<edXML:ResponseFor><edXML:OrganId>x</edXML:OrganId></edXML:ResponseFor><edXML:StatusCode>')],
  ['empty OrganId', edit(STATUS, '<edXML:OrganId>000.00.00.H41</edXML:OrganId>', '<edXML:OrganId> </edXML:OrganId>')],
];

const fixtures: [string, Buffer][] = [
  ...SAMPLE_FILES.map((f): [string, Buffer] => [f, fs.readFileSync(path.join(SAMPLES_DIR, f))]),
  ...corpus,
];

describe('xmllint agrees with the project validator', () => {
  it.each(fixtures)('%s', (name, bytes) => {
    const doc = parseXml(bytes);
    if (!doc.ok) throw new Error(doc.error.message);
    const kind = packageKind(doc.value);
    const ours = validateSchema(doc.value, kind);
    doc.value.dispose();
    const file = tmp.file(name.replace(/\W+/g, '_') + '.edxml', bytes);
    const reference = xmllint('--noout', '--schema', SCHEMA_FILES[kind], file);
    expect(ours.ok, ours.ok ? '' : ours.error.message).toBe(reference.status === 0);
    if (name.endsWith('.edxml')) expect(ours.ok).toBe(true);
  });

  it('the corpus holds both verdicts, so agreement is not trivial', () => {
    const verdicts = corpus.map(([, bytes]) => xmllint('--noout', '--schema', SCHEMA_FILES.edoc, tmp.file('x.edxml', bytes)).status === 0);
    expect(verdicts).toContain(true);
    expect(verdicts).toContain(false);
  });
});
