// Child process of bench/verify.ts: RSS of a warmed-up idle process, then peak RSS while the
// full hop check runs once on the given package. Prints {"idleMB", "peakMB"}.
import fs from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { checkHop } from '../src/hop/check.js';
import { buildTrustSnapshot } from '../src/trust/store.js';
import { statusPackage } from '../tests/helpers/packages.js';

const [file, caFile] = process.argv.slice(2) as [string, string];
const ctx = {
  trust: buildTrustSnapshot({ anchors: [new X509Certificate(fs.readFileSync(caFile))] }),
  now: new Date(), allowLegacy: false, requireSignature: false,
};
checkHop(statusPackage(), ctx); // loads libxml2 and compiles the XSDs
(globalThis as { gc?: () => void }).gc?.();
const idleMB = process.memoryUsage().rss / 1024 / 1024;
const verdict = checkHop(fs.readFileSync(file), { ...ctx, requireSignature: true });
if (!verdict.ok) throw new Error(verdict.error.message);
const peakMB = process.resourceUsage().maxRSS / 1024;
process.stdout.write(JSON.stringify({ idleMB, peakMB }));
