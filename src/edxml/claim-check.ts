// Claim check (EIP): the bulky base64 attachment text is taken out of the package before libxml2
// parses it and replaced by a claim ticket, a random marker that no sender can predict. The
// hop check parses, validates and reads the small remainder; the digest puts the original bytes
// back where each ticket appears in the canonical stream. A 10 MB package then costs a parse of
// a few KB plus one SHA-256 pass over the attachment bytes, and never sits whole in the WASM heap.
//
// The raw scan is only a proposal: after parsing, the ContentTransferEncoded elements libxml2
// found must be exactly the claimed ones, each holding exactly its ticket (verifyClaims), or the
// package takes the ordinary path. Text that is not plain (CDATA, character references,
// comments) is never claimed.
import { randomBytes, type Hash } from 'node:crypto';
import { isBase64Bytes } from './attachment.js';

export interface Claim { ticket: string; start: number; end: number }

export interface ClaimCheck {
  /** The package with every claimed text replaced by its ticket. */
  elided: Buffer;
  claims: Claim[];
  /** The original bytes the claims point into. */
  source: Buffer;
}

const NAME = 'ContentTransferEncoded';
const OPEN_TAG = /^<(?:[\w.-]+:)?ContentTransferEncoded[\s>/]$/;
const MIN_CLAIM_BYTES = 64 * 1024; // below this the restoring stream costs more than the parse it saves

/** Proposes claims for the plain base64 attachment texts of a package; null where there are none. */
export function checkClaims(bytes: Uint8Array): ClaimCheck | null {
  const source = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let nonce: string | undefined;
  const claims: Claim[] = [];
  for (let at = source.indexOf(NAME); at >= 0; at = source.indexOf(NAME, at + NAME.length)) {
    const lt = source.lastIndexOf(0x3c, at); // '<'
    if (lt < 0 || !OPEN_TAG.test(source.toString('latin1', lt, at + NAME.length + 1))) continue; // a closing tag
    const start = source.indexOf(0x3e, at) + 1; // '>'
    if (source[start - 2] === 0x2f) return null; // <ContentTransferEncoded/>
    const end = source.indexOf(0x3c, start);
    if (end < 0 || source[end + 1] !== 0x2f) return null; // CDATA, a comment or a child element
    if (end - start >= MIN_CLAIM_BYTES) {
      // Base64 excludes '&', '<' and everything that c14n would escape: the raw text is the text.
      if (!isBase64Bytes(source, start, end)) return null; // the ordinary path reports it exactly
      nonce ??= randomBytes(16).toString('hex');
      claims.push({ ticket: `lgsp-claim-${nonce}-${claims.length}`, start, end });
    }
    at = end;
  }
  if (claims.length === 0) return null;
  const pieces: Buffer[] = [];
  let from = 0;
  for (const c of claims) {
    pieces.push(source.subarray(from, c.start), Buffer.from(c.ticket, 'latin1'));
    from = c.end;
  }
  pieces.push(source.subarray(from));
  return { elided: Buffer.concat(pieces), claims, source };
}

/** True when the parsed attachment texts hold exactly the claimed tickets, in order. */
export function verifyClaims(check: ClaimCheck, texts: readonly string[]): boolean {
  const claimed = texts.filter((text) => text.startsWith('lgsp-claim-'));
  return claimed.length === check.claims.length && claimed.every((text, i) => text === check.claims[i]!.ticket);
}

/**
 * A sink for the canonical stream of the elided document that feeds `hash` the canonical stream
 * of the original: each ticket is replaced by its bytes, with XML line ends normalized (CR LF and
 * lone CR read as LF, as the parser would have done).
 */
export function restoringSink(check: ClaimCheck, hash: Hash): { write: (chunk: Uint8Array) => void; end: () => void } {
  const tickets = new Map(check.claims.map((c) => [c.ticket, c]));
  const ticketLength = check.claims[0]!.ticket.length;
  let pending = '';
  let restored = 0;
  const flush = (text: string) => {
    for (;;) {
      const at = text.indexOf('lgsp-claim-');
      if (at < 0 || at + ticketLength > text.length) return text;
      const claim = tickets.get(text.slice(at, at + ticketLength));
      if (claim === undefined) throw new Error('claim ticket not recognised in the canonical stream');
      hash.update(Buffer.from(text.slice(0, at), 'latin1'));
      hashNormalized(hash, check.source, claim.start, claim.end);
      restored++;
      text = text.slice(at + ticketLength);
    }
  };
  return {
    write: (chunk) => {
      // latin1 round-trips every byte; tickets are ASCII, so a byte-level search is exact.
      const text = flush(pending + Buffer.from(chunk).toString('latin1'));
      const keep = Math.min(text.length, ticketLength - 1);
      hash.update(Buffer.from(text.slice(0, text.length - keep), 'latin1'));
      pending = text.slice(text.length - keep);
    },
    end: () => {
      hash.update(Buffer.from(flush(pending), 'latin1'));
      if (restored !== check.claims.length) throw new Error(`restored ${restored} of ${check.claims.length} claims`);
    },
  };
}

function hashNormalized(hash: Hash, source: Buffer, start: number, end: number): void {
  let from = start;
  for (let cr = source.indexOf(0x0d, start); cr >= 0 && cr < end; cr = source.indexOf(0x0d, cr + 1)) {
    hash.update(source.subarray(from, cr));
    if (source[cr + 1] !== 0x0a || cr + 1 >= end) hash.update('\n');
    from = cr + 1;
  }
  hash.update(source.subarray(from, end));
}
