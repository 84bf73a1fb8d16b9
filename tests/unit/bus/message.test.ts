import { describe, expect, it } from 'vitest';
import { boundedHeaders, fromAmqp, headerBytes, toHeaders } from '../../../src/bus/message.js';
import { boundedDocumentId, boundedSubject, DOCUMENT_ID_CHARS, MAX_HOPS, SUBJECT_CHARS, type HopMessage } from '../../../src/hop/trace.js';

const hop = { hub: '000.00.05.H41', at: '2026-12-06T10:00:00.000Z', verdict: 'accepted' as const, checks: { policy: 'ok', schema: 'ok' } };
const message: HopMessage = {
  body: Buffer.from('<edXMLEnvelope/>'), kind: 'edoc', docId: 'd'.repeat(32), originHub: '000.07.05.H41', sender: '000.07.05.H41',
  recipients: ['000.00.12.H41'], trace: [hop], seal: 'c2VhbA==', sealHub: '000.07.05.H41',
};

describe('bus headers', () => {
  it('cuts a subject to SUBJECT_CHARS characters, ending in an ellipsis, and keeps a short one', () => {
    expect(boundedSubject('Công văn')).toBe('Công văn');
    const cut = boundedSubject('ữ'.repeat(70_000));
    expect([...cut]).toHaveLength(SUBJECT_CHARS);
    expect(cut.endsWith('…')).toBe(true);
  });

  it('keeps a DocumentId up to DOCUMENT_ID_CHARS and derives the same SHA-256 form for a longer one', () => {
    const id = 'x'.repeat(DOCUMENT_ID_CHARS);
    expect(boundedDocumentId(id)).toBe(id);
    const long = `${id}y`;
    expect(boundedDocumentId(long)).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(boundedDocumentId(long)).toBe(boundedDocumentId(long));
    expect(boundedDocumentId(long)).not.toBe(boundedDocumentId(`${id}z`));
  });

  it('reads back what it writes, and refuses a trace over MAX_HOPS records or over-long fields', () => {
    expect(fromAmqp(message.body, toHeaders(message))).toEqual(message);
    const withTrace = (trace: unknown[]) => ({ ...toHeaders(message), 'x-lgsp-trace': JSON.stringify(trace) });
    expect(fromAmqp(message.body, withTrace(Array(MAX_HOPS).fill(hop)))).not.toHaveProperty('error');
    expect(fromAmqp(message.body, withTrace(Array(MAX_HOPS + 1).fill(hop)))).toHaveProperty('error');
    expect(fromAmqp(message.body, withTrace([{ ...hop, hub: 'h'.repeat(65) }]))).toHaveProperty('error');
    expect(fromAmqp(message.body, withTrace([{ ...hop, checks: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`c${i}`, 'ok'])) }]))).toHaveProperty('error');
    expect(fromAmqp(message.body, { ...toHeaders(message), 'x-lgsp-subject': 's'.repeat(SUBJECT_CHARS + 1) })).toHaveProperty('error');
    expect(fromAmqp(message.body, { ...toHeaders(message), 'x-lgsp-recipients': JSON.stringify(['r'.repeat(65)]) })).toHaveProperty('error');
  });

  it('bounds the headers copied onto a dead letter, whatever a message arrived with', () => {
    const hostile = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`x-${i}`, 'v'.repeat(100_000)]));
    const kept = boundedHeaders(hostile);
    expect(Object.keys(kept)).toHaveLength(24);
    expect(headerBytes(kept)).toBeLessThan(64 * 1024);
  });
});
