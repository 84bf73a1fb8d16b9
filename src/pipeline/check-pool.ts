// The hop-check pool: checkHop on worker threads, as ARCHITECTURE.md asks. libxml2-wasm is
// synchronous, so on the event loop a 10 MB package would stall HTTP, acks and heartbeats for
// ~30 ms; here the event loop only hands the bytes over, and a hub can use every core for checks.
// A worker that dies (a WebAssembly abort on a hostile package) fails only the checks it held and
// is replaced; on the event loop it would have taken the hub down.
//
// Each worker holds its own trust snapshot, built from the material of the hub's current one and
// sent again whenever that changes, ahead of the first check that uses it.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { HopContext, HopVerdict } from '../hop/check.js';
import type { StructureLimits } from '../edxml/limits.js';
import type { RevocationList } from '../trust/crl.js';
import type { Registration, TrustSnapshot } from '../trust/store.js';
import type { OutsideSenders } from '../trust/binding.js';

/** Trust material as it crosses to a worker: certificates as DER. */
export interface WireTrust {
  anchors: Uint8Array[];
  crls: RevocationList[];
  registrations: Registration[] | undefined;
  revokedFingerprints: string[];
  failClosed: boolean;
  outsideSenders: OutsideSenders | undefined;
}

export type ToWorker =
  | { type: 'trust'; version: number; trust: WireTrust }
  | {
    type: 'check'; id: number; bytes: Uint8Array; trustVersion: number; now: number; allowLegacy: boolean; requireSignature: boolean;
    limits: StructureLimits | undefined;
  };

export type FromWorker = { id: number; verdict: HopVerdict } | { id: number; crash: string };

/** Where a check runs: on the event loop only when the package is small both in bytes and in markup. */
export interface InlineBounds {
  /** Packages of this many bytes and more go to the pool. */
  bytes: number;
  /** Packages with this many '<' and '=' together (tags and attributes) and more go to the pool. */
  markup: number;
}

const MARKUP = [0x3c, 0x3d]; // '<' '='

/**
 * Whether a package is checked on the event loop. Bytes alone do not bound a check's time:
 * canonicalization's cost grows with the elements, their attributes and the namespaces in scope
 * at each, and 10,000 elements fit in 64 KB. Counting '<' and '=' bounds elements and attributes
 * for the cost of a memchr per mark, stopping at the bound (an attachment's base64 has none but
 * its padding).
 */
export function checksInline(bytes: Uint8Array, below: InlineBounds): boolean {
  if (bytes.byteLength >= below.bytes) return false;
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let marks = 0;
  for (const mark of MARKUP) {
    for (let i = buf.indexOf(mark); i >= 0 && marks < below.markup; i = buf.indexOf(mark, i + 1)) marks++;
  }
  return marks < below.markup;
}

export interface HopCheckPool {
  check(bytes: Uint8Array, ctx: HopContext): Promise<HopVerdict>;
  close(): Promise<void>;
}

interface Slot {
  worker: Worker;
  pending: Map<number, { resolve: (v: HopVerdict) => void; reject: (e: Error) => void }>;
  trustVersion: number;
}

// The worker is JavaScript: next to this module when built, or in dist/ when the tests run the
// TypeScript sources (npm test builds first).
function workerFile(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const beside = path.join(here, 'check-worker.js');
  if (fs.existsSync(beside)) return beside;
  for (let dir = here; path.dirname(dir) !== dir; dir = path.dirname(dir)) {
    const built = path.join(dir, 'dist', 'src', 'pipeline', 'check-worker.js');
    if (fs.existsSync(built)) return built;
  }
  throw new Error(`check-worker.js not found next to ${here} or in dist/: run npm run build`);
}

/** `size` ≥ 1 worker threads running `file` (check-worker.js; tests give a stand-in). */
export function createHopCheckPool(size: number, log: Logger, file = workerFile()): HopCheckPool {
  if (size < 1) throw new Error('a hop-check pool needs at least one worker');
  // Each snapshot's version and its wire form, built once however many workers need it.
  const versions = new WeakMap<TrustSnapshot, { version: number; trust: WireTrust }>();
  let lastVersion = 0;
  let nextId = 0;
  let closing = false;
  // Started on the first check: a hub that only ever sees small packages runs no threads.
  const slots: Slot[] = [];

  const start = (): Slot => {
    const slot: Slot = { worker: new Worker(file), pending: new Map(), trustVersion: 0 };
    slot.worker.unref(); // an idle pool never keeps the process alive; pending checks hold their callers
    slot.worker.on('message', (m: FromWorker) => {
      const waiting = slot.pending.get(m.id);
      slot.pending.delete(m.id);
      if ('verdict' in m) waiting?.resolve(m.verdict);
      else waiting?.reject(new Error(`the hop check threw: ${m.crash}`));
    });
    // 'error' is followed by 'exit': the slot is replaced once, on whichever comes first.
    const lost = (why: string) => {
      for (const p of slot.pending.values()) p.reject(new Error(`hop-check worker ${why}`));
      slot.pending.clear();
      const at = slots.indexOf(slot);
      if (closing || at < 0) return;
      log.error({ why }, 'hop-check worker lost; starting another');
      slots[at] = start();
    };
    slot.worker.on('error', (err) => lost(`failed: ${err.message}`));
    slot.worker.on('exit', (code) => lost(`exited with code ${code}`));
    return slot;
  };
  const versionOf = (snapshot: TrustSnapshot) => {
    let v = versions.get(snapshot);
    if (v === undefined) {
      const m = snapshot.material;
      v = {
        version: ++lastVersion,
        trust: {
          anchors: m.anchors.map((c) => new Uint8Array(c.raw)), crls: [...(m.crls ?? [])], registrations: m.registrations && [...m.registrations],
          revokedFingerprints: [...(m.revokedFingerprints ?? [])], failClosed: m.failClosed ?? false, outsideSenders: m.outsideSenders,
        },
      };
      versions.set(snapshot, v);
    }
    return v;
  };

  return {
    check(bytes, ctx) {
      if (slots.length === 0) slots.push(...Array.from({ length: size }, start));
      const slot = slots.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
      const { version, trust } = versionOf(ctx.trust);
      if (slot.trustVersion !== version) {
        slot.worker.postMessage({ type: 'trust', version, trust } satisfies ToWorker);
        slot.trustVersion = version;
      }
      // A copy of exactly these bytes, moved (not copied again) to the worker.
      const own = new Uint8Array(bytes);
      const id = ++nextId;
      return new Promise<HopVerdict>((resolve, reject) => {
        slot.pending.set(id, { resolve, reject });
        slot.worker.postMessage({
          type: 'check', id, bytes: own, trustVersion: version, now: ctx.now.getTime(), allowLegacy: ctx.allowLegacy, requireSignature: ctx.requireSignature,
          limits: ctx.limits,
        } satisfies ToWorker, [own.buffer]);
      });
    },
    async close() {
      closing = true;
      await Promise.all(slots.map((s) => s.worker.terminate()));
    },
  };
}

