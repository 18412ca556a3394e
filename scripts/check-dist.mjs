// The committed dist/ must be exactly what the sources build to: GitHub runs dist/<name>/index.js
// as is, so a stale bundle would ship old code under a new tag.
//
//   node scripts/check-dist.mjs      (npm run check-dist)
//
// Builds every entry into a temporary directory with scripts/build.mjs and compares it with
// dist/ byte for byte (and the executable bit, which git records). Exit 0 when equal, 1 when any
// file differs, is missing or is extra (each one is listed), 2 when the build itself fails.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { build, ROOT } from './build.mjs';

function listFiles(dir, base = dir) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    if (err.code === 'ENOENT') return [];
    throw err;
  }
  const out = [];
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(full, base));
    else out.push(path.relative(base, full));
  }
  return out.sort();
}

const executable = (file) => (statSync(file).mode & 0o111) !== 0;

/** Returns one line per difference between the fresh build and the committed tree. */
export function compareTrees(freshDir, committedDir) {
  const fresh = new Set(listFiles(freshDir));
  const committed = new Set(listFiles(committedDir));
  const problems = [];
  for (const rel of [...new Set([...fresh, ...committed])].sort()) {
    const shown = path.join('dist', rel);
    if (!committed.has(rel)) {
      problems.push(`${shown}: missing from dist/ (the build produces it)`);
      continue;
    }
    if (!fresh.has(rel)) {
      problems.push(`${shown}: in dist/ but no longer built (delete it)`);
      continue;
    }
    const a = readFileSync(path.join(freshDir, rel));
    const b = readFileSync(path.join(committedDir, rel));
    if (!a.equals(b)) {
      let at = 0;
      while (at < a.length && at < b.length && a[at] === b[at]) at++;
      const line = a.subarray(0, at).toString('utf8').split('\n').length;
      problems.push(
        `${shown}: differs (built ${a.length} bytes, committed ${b.length} bytes; first difference at line ${line})`,
      );
    } else if (executable(path.join(freshDir, rel)) !== executable(path.join(committedDir, rel))) {
      problems.push(
        `${shown}: executable bit differs (built ${executable(path.join(freshDir, rel)) ? '+x' : '-x'})`,
      );
    }
  }
  return problems;
}

const tmp = mkdtempSync(path.join(tmpdir(), 'dbdrill-check-dist-'));
let code = 0;
try {
  try {
    build({ outDir: tmp });
  } catch (err) {
    console.error(`check-dist: the build failed: ${err instanceof Error ? err.message : err}`);
    code = 2;
  }
  if (code === 0) {
    const problems = compareTrees(tmp, path.join(ROOT, 'dist'));
    if (problems.length) {
      console.error(`check-dist: dist/ does not match the sources (${problems.length} file(s)):`);
      for (const p of problems) console.error(`  ${p}`);
      console.error('Fix: run `npm run build` and commit dist/.');
      code = 1;
    } else {
      console.log(`check-dist: dist/ matches a fresh build (${listFiles(tmp).length} files)`);
    }
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
process.exit(code);
