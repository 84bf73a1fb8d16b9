// Test packages built from the national samples (copied into tests/fixtures/samples).
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';

// Found by walking up, so that the built benchmarks (dist/bench) find the fixtures too.
export const SAMPLES_DIR = findUp(path.dirname(fileURLToPath(import.meta.url)), 'tests/fixtures/samples');

function findUp(from: string, rel: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, rel))) return path.join(dir, rel);
    if (path.dirname(dir) === dir) throw new Error(`${rel} not found above ${from}`);
  }
}

export const SAMPLE_FILES = fs.readdirSync(SAMPLES_DIR).filter((f) => f.endsWith('.edxml')).sort();

export function sample(name: string): Buffer {
  return fs.readFileSync(path.join(SAMPLES_DIR, name));
}

/** A sample's text with a substitution; throws if `from` is absent so a test cannot pass vacuously. */
export function edit(name: string, from: string | RegExp, to: string): Buffer {
  const text = sample(name).toString('utf8');
  const out = text.replace(from, to);
  if (out === text) throw new Error(`edit of ${name}: ${String(from)} not found`);
  return Buffer.from(out, 'utf8');
}

/**
 * An unsigned document package from agency 000.00.00.H41 of about `bytes` bytes: the sample's
 * placeholder signature removed and its attachment replaced by random base64 (76-char lines).
 */
export function documentOfSize(bytes: number): Buffer {
  const base = sample('edoc_new.payload-replaced.edxml').toString('utf8')
    .replace(/<Signature>[\s\S]*<\/Signature>\s*/, '')
    .replace('<edXML:OrganId>000.00.00.A80</edXML:OrganId>', '<edXML:OrganId>000.00.00.H41</edXML:OrganId>');
  const room = Math.max(0, bytes - Buffer.byteLength(base));
  const b64 = randomBytes(Math.floor(room * 0.75 * 76 / 77)).toString('base64').replace(/.{76}/g, '$&\n');
  return Buffer.from(base.replace(/(<edXML:ContentTransferEncoded[^>]*>)[^<]*/, `$1${b64}`), 'utf8');
}

/** A status package (03) from 000.00.00.H41, placeholder-free. */
export function statusPackage(): Buffer {
  return sample('status_acceptance_03.edxml');
}
