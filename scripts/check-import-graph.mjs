#!/usr/bin/env node
/**
 * Fails when `src/` has an import cycle, between files or between folders.
 *
 * Why our own check rather than eslint-plugin-import's `no-cycle`: that rule sees files only, and the
 * layering we care about is also between folders (engines must not import provision while provision
 * imports engines, even through different files). TypeScript's own pre-processor lists each file's
 * imports, so this needs no resolver and no extra dependency.
 *
 * A folder is the first folder under `src/core/` (`core/engines`, `core/stores`, ...) or under `src/`
 * (`actions`, `cli`, ...); the files directly in `src/core/` (the use cases and the small shared
 * modules) each count as their own unit. `import type` counts too: a type-only cycle is still two
 * modules that cannot be understood one without the other.
 *
 * Usage: node scripts/check-import-graph.mjs [--print]   (--print lists every unit's imports)
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

const files = walk(src).sort();
const known = new Set(files);

/** Resolves a relative specifier the way our ESM sources write them (`./x.js` means `./x.ts`). */
function resolveSpecifier(from, spec) {
  if (!spec.startsWith('.')) return undefined;
  const base = resolve(dirname(from), spec);
  for (const candidate of [base.replace(/\.js$/, '.ts'), base + '.ts', join(base, 'index.ts')]) {
    if (known.has(candidate)) return candidate;
  }
  return undefined;
}

const fileEdges = new Map();
for (const file of files) {
  const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  const targets = new Set();
  for (const ref of info.importedFiles) {
    const target = resolveSpecifier(file, ref.fileName);
    if (target && target !== file) targets.add(target);
  }
  fileEdges.set(file, targets);
}

function unitOf(file) {
  const parts = relative(src, file).split(sep);
  // a folder under core (core/engines), or a file directly in core (core/backup.ts): both are parts[1]
  if (parts[0] === 'core') return `core/${parts[1]}`;
  return parts[0];
}

const unitEdges = new Map();
for (const [from, targets] of fileEdges) {
  const u = unitOf(from);
  if (!unitEdges.has(u)) unitEdges.set(u, new Set());
  for (const t of targets) {
    const v = unitOf(t);
    if (v !== u) unitEdges.get(u).add(v);
  }
}

/** Tarjan's strongly connected components: every component of more than one node is a cycle. */
function cycles(edges) {
  let index = 0;
  const stack = [];
  const onStack = new Set();
  const idx = new Map();
  const low = new Map();
  const out = [];
  const visit = (v) => {
    idx.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
    }
    if (low.get(v) === idx.get(v)) {
      const comp = [];
      let w;
      do {
        w = stack.pop();
        onStack.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1) out.push(comp.sort());
    }
  };
  for (const v of edges.keys()) if (!idx.has(v)) visit(v);
  return out;
}

const show = (f) => relative(root, f);
if (process.argv.includes('--print')) {
  for (const [u, vs] of [...unitEdges].sort()) console.log(`${u} -> ${[...vs].sort().join(', ')}`);
}

let failed = false;
for (const comp of cycles(fileEdges)) {
  failed = true;
  console.error(`file-level import cycle: ${comp.map(show).join(' <-> ')}`);
}
for (const comp of cycles(unitEdges)) {
  failed = true;
  const set = new Set(comp);
  const links = [];
  for (const [from, targets] of fileEdges) {
    if (!set.has(unitOf(from))) continue;
    for (const t of targets)
      if (set.has(unitOf(t)) && unitOf(t) !== unitOf(from)) links.push(`${show(from)} -> ${show(t)}`);
  }
  console.error(`folder-level import cycle: ${comp.join(' <-> ')}\n  ${links.join('\n  ')}`);
}
if (failed) {
  console.error('\nimports must point one way: move the shared piece down into a module both can import');
  process.exit(1);
}
console.log(`import graph: ${files.length} files, ${unitEdges.size} units, no cycles`);
