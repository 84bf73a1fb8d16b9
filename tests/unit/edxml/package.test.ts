import { describe, expect, it } from 'vitest';
import { parsePackage } from '../../../src/edxml/package.js';
import { SAMPLE_FILES, documentOfSize, edit, sample } from '../../helpers/packages.js';

function parse(bytes: Uint8Array) {
  const result = parsePackage(bytes);
  if (result.ok) result.value.doc.dispose();
  return result;
}

function codeOf(bytes: Uint8Array) {
  const result = parse(bytes);
  return result.ok ? 'OK' : result.error.code;
}

describe('parsePackage on the national samples', () => {
  it('accepts all 14 samples', () => {
    expect(SAMPLE_FILES).toHaveLength(14);
    for (const file of SAMPLE_FILES) {
      const result = parse(sample(file));
      expect(result.ok, `${file}: ${result.ok ? '' : result.error.message}`).toBe(true);
    }
  });

  it('types a document header: strings stay strings, repeatables are arrays, Vietnamese is decoded', () => {
    const result = parse(sample('edoc_update.payload-replaced.edxml'));
    if (!result.ok || result.value.header.kind !== 'edoc') throw new Error('expected an edoc');
    const h = result.value.header.MessageHeader;
    expect(h.From.OrganId).toBe('000.00.00.G22');
    expect(h.To.map((t) => t.OrganId)).toEqual(['000.00.00.H41', '000.00.00.H14', '000.00.00.G17']);
    expect(h.Subject).toBe('V/v kết nối, liên thông phần mềm quản lý văn bản');
    expect(h.DocumentType.Type).toBe('1');
    expect(h.ToPlaces?.Place).toHaveLength(2);
    expect(h.OtherInfo?.Appendixes?.Appendix).toEqual(['Công văn về việc kết nối, liên thông phần mềm quản lý văn bản']);
    const business = result.value.header.TraceHeaderList?.Bussiness;
    expect(business?.BussinessDocType).toBe('2');
    expect(business?.BussinessDocumentInfo?.ReceiverList?.Receiver.map((r) => r.OrganId)).toEqual(['000.00.00.H41', '000.00.00.H14']);
    expect(result.value.attachments).toEqual([{ contentId: '209', name: '1896_QD-TTg_m_294779.doc', contentType: 'application/zip' }]);
  });

  it('keeps leading zeros and reads a status package', () => {
    const bytes = edit('status_acceptance_03.edxml', '<edXML:Code>7816/VPCP-TTĐT</edXML:Code>', '<edXML:Code>0123/VPCP</edXML:Code>');
    const result = parse(bytes);
    if (!result.ok || result.value.header.kind !== 'status') throw new Error('expected a status');
    expect(result.value.header.MessageHeader.StatusCode).toBe('03');
    expect(result.value.header.MessageHeader.ResponseFor.Code).toBe('0123/VPCP');
  });

  it('is order-insensitive (ResponseFor children and Bussiness before TraceHeader)', () => {
    const text = sample('edoc_new.payload-replaced.edxml').toString('utf8');
    const trace = /<edXML:TraceHeader>[\s\S]*?<\/edXML:TraceHeader>/.exec(text)![0];
    const swapped = text.replace(trace, '').replace('</edXML:Bussiness>', `</edXML:Bussiness>${trace}`);
    expect(codeOf(Buffer.from(swapped))).toBe('OK');
  });

  it('accepts vendor elements in a namespace of their own and ignores them', () => {
    const bytes = edit('status_inbox_01.edxml', '<edXML:StatusCode>', '<v:Extra xmlns:v="urn:vendor">x</v:Extra><edXML:StatusCode>');
    expect(codeOf(bytes)).toBe('OK');
  });
});

describe('parsePackage refuses bad input with a precise code', () => {
  it('a missing required element, naming it, its line and path', () => {
    const result = parse(edit('edoc_new.payload-replaced.edxml', /<edXML:Subject>.*<\/edXML:Subject>/, ''));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe('SCHEMA_INVALID');
    expect(result.error.message).toContain('missing Subject');
    expect(result.error.details?.[0]).toMatchObject({ path: '/edXML/edXMLEnvelope/edXMLHeader/MessageHeader', reason: 'missing Subject (exactly one is required)' });
    expect(result.error.details?.[0]?.line).toBeGreaterThan(1);
  });

  it('a duplicate recipient', () => {
    const bytes = edit('edoc_update.payload-replaced.edxml', '<edXML:OrganId>000.00.00.H14</edXML:OrganId>', '<edXML:OrganId>000.00.00.H41</edXML:OrganId>');
    const result = parse(bytes);
    expect(result.ok ? 'OK' : result.error.message).toContain('duplicate To/OrganId');
  });

  it('a document without any To (an edXML rule beyond XSD)', () => {
    const result = parse(edit('edoc_new.payload-replaced.edxml', /<edXML:To>[\s\S]*?<\/edXML:To>/, ''));
    expect(result.ok ? 'OK' : result.error).toMatchObject({ code: 'SCHEMA_INVALID', message: expect.stringContaining('at least one To') });
  });

  it('an attachment that is not base64', () => {
    const bytes = edit('edoc_new.payload-replaced.edxml', /(ContentTransferEncoded[^>]*>)UEsDB/, '$1@@not base64@@');
    const result = parse(bytes);
    expect(result.ok ? 'OK' : result.error.code).toBe('SCHEMA_INVALID');
    expect(result.ok ? '' : result.error.details?.[0]?.path).toContain('ContentTransferEncoded');
  });

  it('a manifest reference without its attachment', () => {
    const bytes = edit('edoc_new.payload-replaced.edxml', '<edXML:ContentId>cid:209</edXML:ContentId>', '<edXML:ContentId>cid:999</edXML:ContentId>');
    const result = parse(bytes);
    expect(result.ok ? 'OK' : result.error).toMatchObject({ code: 'SCHEMA_INVALID', message: expect.stringContaining('cid:999') });
  });

  it('a status 02 without the reason', () => {
    expect(codeOf(edit('status_rejection_02.edxml', /<edXML:Description>[\s\S]*?<\/edXML:Description>/, ''))).toBe('SCHEMA_INVALID');
  });

  it('an unknown status code', () => {
    expect(codeOf(edit('status_inbox_01.edxml', '<edXML:StatusCode>01', '<edXML:StatusCode>99'))).toBe('SCHEMA_INVALID');
  });

  it('a malformed document, with its line', () => {
    const result = parse(edit('status_inbox_01.edxml', '</edXML:StatusCode>', '</edXML:Status>'));
    expect(result.ok ? 'OK' : result.error).toMatchObject({ code: 'MALFORMED_XML', where: expect.stringMatching(/^line \d+$/) });
  });

  it('empty input, UTF-16 and non-UTF-8 declarations', () => {
    expect(codeOf(Buffer.alloc(0))).toBe('MALFORMED_XML');
    expect(codeOf(Buffer.from('  \n '))).toBe('MALFORMED_XML');
    expect(codeOf(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('<a/>', 'utf16le')]))).toBe('MALFORMED_XML');
    expect(codeOf(edit('status_inbox_01.edxml', 'encoding="UTF-8"', 'encoding="ISO-8859-1"'))).toBe('MALFORMED_XML');
  });

  it('UTF-16 and UTF-32 without a BOM, and EBCDIC, which libxml2 would decode (found by fuzzing)', () => {
    const text = sample('status_inbox_01.edxml').toString('utf8');
    const utf16be = Buffer.from(text, 'utf16le').swap16();
    const utf32le = Buffer.concat([...text].map((c) => { const b = Buffer.alloc(4); b.writeUInt32LE(c.codePointAt(0)!); return b; }));
    for (const bytes of [Buffer.from(text, 'utf16le'), utf16be, utf32le, Buffer.from([0x4c, 0x6f, 0xa7, 0x94, 0x93])]) {
      const result = parse(bytes);
      expect(result.ok ? 'OK' : result.error).toMatchObject({ code: 'MALFORMED_XML', message: expect.stringMatching(/UTF-16 or UTF-32|not UTF-8/) });
    }
  });

  it('invalid UTF-8 bytes', () => {
    const bytes = Buffer.concat([sample('status_inbox_01.edxml').subarray(0, 300), Buffer.from([0xc3, 0x28]), sample('status_inbox_01.edxml').subarray(300)]);
    expect(codeOf(bytes)).toBe('MALFORMED_XML');
  });

  it('XXE and entity bombs before parsing (POLICY_VIOLATION)', () => {
    const xxe = '<?xml version="1.0"?><!DOCTYPE edXML [<!ENTITY x SYSTEM "file:///etc/passwd">]><edXML>&x;</edXML>';
    const lol = '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">' +
      '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><lolz>&lol3;</lolz>';
    expect(codeOf(Buffer.from(xxe))).toBe('POLICY_VIOLATION');
    expect(codeOf(Buffer.from(lol))).toBe('POLICY_VIOLATION');
  });

  it('a processing instruction anywhere after the declaration', () => {
    const result = parse(edit('status_inbox_01.edxml', '<edXML:Timestamp>', '<?evil x?><edXML:Timestamp>'));
    expect(result.ok ? 'OK' : result.error).toMatchObject({ code: 'POLICY_VIOLATION', where: expect.stringMatching(/^line \d+$/) });
  });

  it('a root that is not edXML', () => {
    expect(codeOf(Buffer.from('<edXML xmlns="urn:other"/>'))).toBe('SCHEMA_INVALID');
  });

  it('an unknown element in the edXML namespace', () => {
    expect(codeOf(edit('status_inbox_01.edxml', '<edXML:StatusCode>', '<edXML:Bogus/><edXML:StatusCode>'))).toBe('SCHEMA_INVALID');
  });

  it('reads a 10 MB package', () => {
    const result = parse(documentOfSize(10 * 1024 * 1024));
    expect(result.ok ? 'OK' : result.error.message).toBe('OK');
  });
});
