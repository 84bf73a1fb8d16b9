// Where a hop check runs (hopCheck.inlineBelowBytes, inlineBelowMarkup): on the event loop only a
// package small in bytes and in markup ('<' and '=').
import { describe, expect, it } from 'vitest';
import { checksInline } from '../../../src/pipeline/check-pool.js';

const below = { bytes: 1_000, markup: 10 };

describe('checksInline', () => {
  it('keeps a package under both bounds on the event loop', () => {
    expect(checksInline(Buffer.from('<a><b/></a>'), below)).toBe(true);
    expect(checksInline(Buffer.from(`<a x="1">${'<b/>'.repeat(7)}`), below)).toBe(true); // 8 '<', 1 '='
  });

  it('sends a package of as many tags and attributes as the bound, or more, to the pool, whatever its bytes', () => {
    expect(checksInline(Buffer.from(`<a>${'<b/>'.repeat(9)}`), below)).toBe(false); // 10 '<' in 39 bytes
    expect(checksInline(Buffer.from(`<a x="1">${'<b/>'.repeat(8)}`), below)).toBe(false); // 9 '<', 1 '='
    expect(checksInline(Buffer.from(`<a${' x="1"'.repeat(9)}/>`), below)).toBe(false); // 1 '<', 9 '='
    expect(checksInline(Buffer.from('<'.repeat(500)), below)).toBe(false);
  });

  it('sends a package of as many bytes as the bound, or more, to the pool, whatever its markup', () => {
    expect(checksInline(Buffer.from(`<a>${'x'.repeat(993)}</a>`), below)).toBe(false); // 1,000 bytes
    expect(checksInline(Buffer.from(`<a>${'x'.repeat(992)}</a>`), below)).toBe(true);
  });

  it('sends everything to the pool with a bound of 0, markup-free bytes included', () => {
    expect(checksInline(Buffer.from('text'), { bytes: 1_000, markup: 0 })).toBe(false);
    expect(checksInline(Buffer.from(''), { bytes: 0, markup: 10 })).toBe(false);
  });

  it('counts within the view it is given, not the buffer behind it', () => {
    const backing = Buffer.from(`${'<b x="1"/>'.repeat(50)}<a/>`);
    expect(checksInline(backing.subarray(500), below)).toBe(true);
  });
});
