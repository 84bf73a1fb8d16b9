// Attachments must be valid base64 (WHATWG forgiving-base64, as atob: whitespace ignored, at most
// two '=' and only at the end, and a length that decodes; form feed, which XML forbids, is not
// whitespace here). Two forms of the same rule:
// on raw package bytes without copying them whole (the claim check's fast path), and on the
// text libxml2 parsed (the exact fallback).
const CHUNK = 1 << 16;
const BODY = /^[A-Za-z0-9+/\t\n\r ]*$/;
const TAIL = /^[A-Za-z0-9+/\t\n\r ]*(=[\t\n\r ]*){0,2}$/;
const WHITESPACE = [0x20, 0x09, 0x0a, 0x0d];

/** Base64 check of raw[start, end) in bounded memory (64 KiB latin1 slices). */
export function isBase64Bytes(raw: Buffer, start: number, end: number): boolean {
  for (let at = start; at < end; at += CHUNK) {
    const stop = Math.min(end, at + CHUNK);
    const text = raw.toString('latin1', at, stop);
    // '=' may only close the text: any chunk but the last must be padding-free.
    if (!(stop === end ? TAIL : BODY).test(text)) return false;
  }
  let whitespace = 0;
  for (const byte of WHITESPACE) {
    for (let i = raw.indexOf(byte, start); i >= 0 && i < end; i = raw.indexOf(byte, i + 1)) whitespace++;
  }
  let padding = 0;
  for (let i = raw.indexOf(0x3d, start); i >= 0 && i < end; i = raw.indexOf(0x3d, i + 1)) padding++;
  return validLength(end - start - whitespace, padding);
}

export function isBase64Text(text: string): boolean {
  if (!TAIL.test(text)) return false;
  const chars = text.replace(/[\t\n\r ]/g, '');
  return validLength(chars.length, chars.length - chars.replace(/=/g, '').length);
}

// With padding the length must be a multiple of 4; without it, a remainder of 1 cannot decode.
function validLength(chars: number, padding: number): boolean {
  return padding > 0 ? chars % 4 === 0 : chars % 4 !== 1;
}
