// Dependencies point inward (STYLE.md rule 4): the pure core never imports the edges.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));
const CORE = ['edxml', 'agency', 'trust', 'hop', 'routing'];
const EDGE_PACKAGES = ['fastify', 'amqplib', 'pino', 'node-forge', 'better-sqlite3', 'pg'];
// Which src/ folders each core folder may import from.
const ALLOWED: Record<string, string[]> = {
  edxml: ['edxml'],
  agency: ['agency'],
  trust: ['trust', 'edxml'],
  routing: ['routing', 'agency', 'edxml'],
  hop: ['hop', 'edxml', 'trust', 'agency', 'routing'],
};

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []);
}

describe('architecture', () => {
  it('keeps the core free of edges, process state and upward imports', () => {
    const problems: string[] = [];
    for (const folder of CORE.filter((f) => fs.existsSync(path.join(SRC, f)))) {
      for (const file of sources(path.join(SRC, folder))) {
        const text = fs.readFileSync(file, 'utf8');
        const rel = path.relative(SRC, file);
        for (const [, spec] of text.matchAll(/from '([^']+)'/g)) {
          if (spec!.startsWith('.')) {
            const target = path.relative(SRC, path.resolve(path.dirname(file), spec!)).split(path.sep);
            const top = target.length > 1 ? target[0]! : 'root';
            if (top !== 'root' && !ALLOWED[folder]!.includes(top)) problems.push(`${rel} imports ${spec}`);
          } else if (EDGE_PACKAGES.some((p) => spec === p || spec!.startsWith(`${p}/`))) {
            problems.push(`${rel} imports edge package ${spec}`);
          }
        }
        if (/process\.(env|exit|argv)|Date\.now\(\)|new Date\(\)/.test(text)) problems.push(`${rel} reads process state or the clock`);
      }
    }
    expect(problems).toEqual([]);
  });
});
