// Dead-letter CSV: cells a spreadsheet would run as formulas are kept as text (OWASP CSV injection).
import { describe, expect, it } from 'vitest';
import { csvCell, toCsv } from '../../../src/admin/dead-letters.js';

describe('dead-letter CSV cells', () => {
  it.each(['=HYPERLINK("http://evil.example","x")', '+1+1', '-2+3', '@SUM(A1)', '\t=1', '\r=1'])('neutralises %j', (text) => {
    const cell = csvCell(text);
    expect(cell.startsWith(`"'`)).toBe(true);
    expect(cell.slice(2, -1).replaceAll('""', '"')).toBe(text);
  });

  it('leaves ordinary text and numbers as they are, quotes doubled', () => {
    expect(csvCell('000.07.05.H01')).toBe('"000.07.05.H01"');
    expect(csvCell('say "hi" = ok')).toBe('"say ""hi"" = ok"');
    expect(csvCell(42)).toBe('"42"');
  });

  it('writes a neutralised sender in a row', () => {
    const csv = toCsv([{ id: 1, deadAt: '2026-01-01T00:00:00Z', docId: 'd', kind: 'edoc', sender: '=cmd|"/c calc"!A1', reasonCode: 'X', reason: 'r', size: 3 } as never]);
    expect(csv.split('\r\n')[1]).toBe(`"1","2026-01-01T00:00:00Z","d","edoc","'=cmd|""/c calc""!A1","X","r","3"`);
  });
});
