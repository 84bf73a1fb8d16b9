// Dependencies point inward (STYLE.md rule 4): the pure core never imports the edges, each
// adapter imports only what lies further in, and no two folders import each other.
// docs/architecture.md ("Folders and the direction of dependencies") draws this same graph.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));
/** The pure core: errors.ts and these folders. */
const CORE = ['errors', 'edxml', 'agency', 'trust', 'hop', 'routing', 'stats'];
const EDGE_PACKAGES = ['fastify', 'amqplib', 'pino', 'node-forge', 'better-sqlite3', 'pg', 'ioredis', 'exceljs'];
/**
 * What each part of src/ may import: a folder, a file at the root of src/ (named without .ts:
 * errors, config, logger, hub), or one file of a folder ("http/errors"). Anything else is an
 * upward or sideways import. Every part of src/ must be listed, so a new folder is placed here.
 */
const ALLOWED: Record<string, readonly string[]> = {
  // The core.
  errors: [],
  edxml: ['errors'],
  agency: ['errors'],
  // Binding an outside sender reads the agency code in its certificate's subject (trust/binding).
  trust: ['errors', 'edxml', 'agency'],
  routing: ['errors', 'agency', 'edxml'],
  // The exchange statistics' calendar and report shapes (issue 20).
  stats: [],
  hop: ['errors', 'edxml', 'trust', 'agency', 'routing'],
  // The configuration's schema, and the logger.
  config: ['errors', 'agency', 'edxml', 'trust'],
  logger: [],
  types: [],
  // Closes what was opened, in reverse (the composition root's and the bus's).
  'resource-stack': [],
  // Adapters for what the core needs from outside, then what uses them.
  ledger: [...CORE, 'config'],
  // The pipeline owns its transport port (pipeline/transport); the bus implements it, and keeps
  // dead letters through the ledger's port (ledger/store).
  pipeline: [...CORE, 'ledger/store'],
  bus: [...CORE, 'config', 'resource-stack', 'pipeline/transport', 'ledger/store'],
  admin: [...CORE, 'ledger'],
  metrics: [...CORE, 'bus', 'pipeline', 'admin'],
  pki: [...CORE],
  // The HTTP faces: the APIs, and the console, which uses only http's error mapping and
  // authentication (http does not import it: the composition root registers it).
  http: [...CORE, 'config', 'ledger', 'bus', 'pipeline', 'admin', 'metrics'],
  // The link to the national axis: a transport adapter (its outbox lane on the bus) and a client
  // of the SDK dialect, whose signing it shares with the server side (http/sdk-signature).
  national: [...CORE, 'config', 'ledger/store', 'bus', 'pipeline', 'http/sdk-signature', 'admin/trust-changes'],
  console: [...CORE, 'config', 'ledger', 'bus', 'admin', 'metrics', 'http/auth', 'http/errors'],
  // The composition root, the CLI and its demo network.
  hub: [...CORE, 'config', 'resource-stack', 'ledger', 'bus', 'pipeline', 'admin', 'metrics', 'http', 'console', 'national'],
  demo: [...CORE, 'bus', 'pki', 'http/auth'],
  cli: [...CORE, 'config', 'logger', 'ledger', 'bus', 'pipeline', 'admin', 'metrics', 'pki', 'http', 'console', 'hub', 'demo'],
};

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []);
}

/** The part of src/ a file belongs to: its top folder, or for a file at the root its name. */
function partOf(file: string): { part: string; fileKey: string } {
  const rel = path.relative(SRC, file).split(path.sep);
  const base = rel.at(-1)!.replace(/(\.d)?\.[jt]s$/, '');
  return rel.length > 1 ? { part: rel[0]!, fileKey: `${rel[0]}/${base}` } : { part: base, fileKey: base };
}

interface Import { from: string; rel: string; spec: string; to?: { part: string; fileKey: string } }

/** Every import (static, dynamic, re-export) of every file under src/. */
function imports(): Import[] {
  return sources(SRC).flatMap((file) => {
    const text = fs.readFileSync(file, 'utf8');
    const { part } = partOf(file);
    const rel = path.relative(SRC, file);
    return [...text.matchAll(/(?:\bfrom\s+|\bimport\s*\(?\s*)'([^']+)'/g)].map(([, spec]) => ({
      from: part, rel, spec: spec!,
      ...(spec!.startsWith('.') ? { to: partOf(path.resolve(path.dirname(file), spec!)) } : {}),
    }));
  });
}

/** The folder-level cycles of a graph (each as A → … → A), found by depth-first search. */
function cycles(graph: ReadonlyMap<string, ReadonlySet<string>>): string[] {
  const found: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const visit = (node: string, trail: string[]) => {
    state.set(node, 'open');
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'open') found.push([...trail.slice(trail.indexOf(next)), node, next].join(' → '));
      else if (!state.has(next)) visit(next, [...trail, node]);
    }
    state.set(node, 'done');
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node, []);
  return found;
}

/** The import graph between parts of src/, each edge once. */
function partGraph(edges: Iterable<[string, string]>): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const [from, to] of edges) if (from !== to) (graph.get(from) ?? graph.set(from, new Set()).get(from)!).add(to);
  return graph;
}

/** Every part an import of `from` lands in that the allowed graph does not let it reach. */
function forbidden(all: readonly Import[], allowed: Record<string, readonly string[]>): string[] {
  return all.filter((i) => i.to !== undefined && i.to.part !== i.from)
    .filter((i) => !(allowed[i.from] ?? []).some((a) => a === i.to!.part || a === i.to!.fileKey))
    .map((i) => `${i.rel} imports ${i.spec}`);
}

describe('architecture', () => {
  it('keeps the core free of edges, process state and upward imports', () => {
    const problems: string[] = [];
    for (const folder of CORE.filter((f) => fs.existsSync(path.join(SRC, f)))) {
      for (const file of sources(path.join(SRC, folder))) {
        const text = fs.readFileSync(file, 'utf8');
        const rel = path.relative(SRC, file);
        for (const [, spec] of text.matchAll(/from '([^']+)'/g)) {
          if (EDGE_PACKAGES.some((p) => spec === p || spec!.startsWith(`${p}/`))) problems.push(`${rel} imports edge package ${spec}`);
        }
        if (/process\.(env|exit|argv)|Date\.now\(\)|new Date\(\)/.test(text)) problems.push(`${rel} reads process state or the clock`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('lets every part of src/ import only what the allowed graph lets it reach', () => {
    const all = imports();
    const unplaced = [...new Set(all.map((i) => i.from))].filter((p) => ALLOWED[p] === undefined);
    expect(unplaced, 'parts of src/ missing from ALLOWED').toEqual([]);
    expect(forbidden(all, ALLOWED)).toEqual([]);
  });

  it('keeps the core from importing any adapter', () => {
    for (const part of CORE) expect(ALLOWED[part]!.filter((p) => !CORE.includes(p)), part).toEqual([]);
  });

  it('has no cycle between folders, in the allowed graph or in the code', () => {
    const folder = (p: string) => p.split('/')[0]!;
    expect(cycles(partGraph(Object.entries(ALLOWED).flatMap(([from, tos]) => tos.map((to): [string, string] => [from, folder(to)]))))).toEqual([]);
    expect(cycles(partGraph(imports().flatMap((i): [string, string][] => (i.to === undefined ? [] : [[i.from, i.to.part]]))))).toEqual([]);
  });

  it('would catch an upward import and a cycle', () => {
    // The checks themselves, on imports made up for the purpose: http importing the console, and back.
    const made: Import[] = [
      { from: 'http', rel: 'http/server.ts', spec: '../console/console.js', to: { part: 'console', fileKey: 'console/console' } },
      { from: 'console', rel: 'console/console.ts', spec: '../http/queues-api.js', to: { part: 'http', fileKey: 'http/queues-api' } },
      { from: 'console', rel: 'console/console.ts', spec: '../http/errors.js', to: { part: 'http', fileKey: 'http/errors' } },
    ];
    expect(forbidden(made, ALLOWED)).toEqual(['http/server.ts imports ../console/console.js', 'console/console.ts imports ../http/queues-api.js']);
    expect(cycles(partGraph(made.map((i): [string, string] => [i.from, i.to!.part])))).toEqual(['http → console → http']);
  });
});
