// The signers of packages that verified, per trust snapshot, so that a sender's next package
// skips certificate parsing and chain building. Only what verified goes in: a refused
// certificate is worked out again each time it comes (its cost is bounded by the package), and
// can never fill memory. Bounded in entries and in estimated bytes; the least recently used
// entry goes first. Keys are SHA-256 digests of the KeyInfo texts, so the size of a certificate
// text never reaches the cache.
import { createHash } from 'node:crypto';
import type { KnownSigner } from './certs.js';

/** Per trust snapshot (the event loop's, and each hop-check worker's own). */
export const SIGNER_CACHE_MAX_BYTES = 4 * 1024 * 1024;
export const SIGNER_CACHE_MAX_ENTRIES = 10_000;
// What a parsed public key holds outside its strings (an RSA-4096 key is ~550 bytes of DER).
const KEY_OBJECT_BYTES = 1024;

export class SignerCache {
  readonly #entries = new Map<string, { signer: KnownSigner; bytes: number }>();
  #bytes = 0;

  constructor(readonly maxBytes = SIGNER_CACHE_MAX_BYTES, readonly maxEntries = SIGNER_CACHE_MAX_ENTRIES) {}

  static keyOf(texts: readonly string[]): string {
    return createHash('sha256').update(texts.join(' ')).digest('hex');
  }

  get(key: string): KnownSigner | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    this.#entries.delete(key); // most recently used last
    this.#entries.set(key, entry);
    return entry.signer;
  }

  /** Remembers a signer whose package verified; one larger than the whole budget is not kept. */
  add(key: string, signer: KnownSigner): void {
    if (this.#entries.has(key)) return;
    const { publicKey: _key, ...strings } = signer;
    const bytes = 2 * JSON.stringify(strings).length + KEY_OBJECT_BYTES;
    if (bytes > this.maxBytes) return;
    for (const [oldest, entry] of this.#entries) {
      if (this.#bytes + bytes <= this.maxBytes && this.#entries.size < this.maxEntries) break;
      this.#entries.delete(oldest);
      this.#bytes -= entry.bytes;
    }
    this.#entries.set(key, { signer, bytes });
    this.#bytes += bytes;
  }

  /** Entries and their estimated bytes (strings as UTF-16, plus the key object). */
  stats(): { entries: number; bytes: number } {
    return { entries: this.#entries.size, bytes: this.#bytes };
  }
}
