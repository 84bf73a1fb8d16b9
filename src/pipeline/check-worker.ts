// One thread of the hop-check pool (check-pool.ts): the pure checkHop, with the trust snapshot
// the hub last sent.
import { X509Certificate } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import { checkHop } from '../hop/check.js';
import { buildTrustSnapshot, type TrustSnapshot } from '../trust/store.js';
import type { FromWorker, ToWorker } from './check-pool.js';

if (parentPort === null) throw new Error('check-worker.js runs as a worker thread of the hop-check pool');
const port = parentPort;
const snapshots = new Map<number, TrustSnapshot>();

port.on('message', (m: ToWorker) => {
  if (m.type === 'trust') {
    const { anchors, ...rest } = m.trust;
    snapshots.clear(); // messages arrive in order: the checks that follow use this version
    snapshots.set(m.version, buildTrustSnapshot({ ...rest, anchors: anchors.map((der) => new X509Certificate(der)) }));
    return;
  }
  const trust = snapshots.get(m.trustVersion);
  let reply: FromWorker;
  try {
    if (trust === undefined) throw new Error(`trust version ${m.trustVersion} was never sent`);
    reply = {
      id: m.id,
      verdict: checkHop(m.bytes, {
        trust, now: new Date(m.now), allowLegacy: m.allowLegacy, requireSignature: m.requireSignature, ...(m.limits && { limits: m.limits }),
      }),
    };
  } catch (err) {
    reply = { id: m.id, crash: (err as Error).stack ?? String(err) };
  }
  port.postMessage(reply);
});
