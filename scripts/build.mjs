// One @vercel/ncc bundle per entry point, committed as dist/<name>/index.js (how GitHub runs
// JavaScript actions: no npm install on the runner).
//
//   node scripts/build.mjs [--out <dir>] [name ...]
//
// Two stages, so that the bundle neither depends on nor re-does the type check (`npm run
// typecheck` owns that; a type error elsewhere in the tree must not block a bundle):
//   1. every src/**/*.ts is transpiled file by file (TypeScript's transpileModule, ES module
//      output) into build/ncc-src/, which sits inside the package so that node_modules and
//      "type": "module" resolve as they do for src/. ncc's own transpile-only mode cannot be used:
//      with "module": "NodeNext" it emits CommonJS, which breaks top-level await.
//   2. ncc bundles each transpiled entry without its cache, source maps or minification, and
//      with a licenses.txt for every bundled package (writeLicenses): the output is a pure
//      function of the sources and the lockfile, so scripts/check-dist.mjs can compare bytes.
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const ts = require('typescript');

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** dist/<name>/index.js <- src entry. Entries whose source does not exist yet are skipped. */
export const ENTRIES = {
  backup: 'src/actions/backup/index.ts',
  verify: 'src/actions/verify/index.ts',
  'restore-drill': 'src/actions/restore-drill/index.ts',
  // the root action.yml (`uses: dbdrill/dbdrill@v1` with a `command` input)
  action: 'src/actions/dispatch/index.ts',
  cli: 'src/cli/index.ts',
  demo: 'src/demo/main.ts',
};

/** Fixed (not random) so that nothing path-dependent can differ between two builds. */
const STAGE = path.join(ROOT, 'build', 'ncc-src');
const NCC_CLI = path.join(ROOT, 'node_modules', '@vercel', 'ncc', 'dist', 'ncc', 'cli.js');

function listTs(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
    a.name.localeCompare(b.name),
  )) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listTs(full));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(full);
  }
  return out;
}

/** Stage 1. Syntax errors still fail here (transpileModule reports them as diagnostics). */
function transpileSources() {
  rmSync(STAGE, { recursive: true, force: true });
  const compilerOptions = {
    module: ts.ModuleKind.ESNext,
    target: ts.ScriptTarget.ES2022,
    esModuleInterop: true,
    isolatedModules: true,
    sourceMap: false,
    removeComments: false,
    useDefineForClassFields: true,
  };
  const errors = [];
  for (const file of listTs(path.join(ROOT, 'src'))) {
    const rel = path.relative(ROOT, file);
    const result = ts.transpileModule(readFileSync(file, 'utf8'), {
      compilerOptions,
      fileName: rel,
      reportDiagnostics: true,
    });
    for (const d of result.diagnostics ?? []) {
      errors.push(`${rel}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
    }
    const out = path.join(STAGE, rel.replace(/\.ts$/, '.js'));
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(out, result.outputText);
  }
  if (errors.length) throw new Error(`TypeScript syntax errors:\n${errors.join('\n')}`);
}

/** Stage 2 for one entry, into outDir/<name>/ (replaced as a whole only when ncc succeeded). */
function bundle(name, entry, outDir) {
  const input = path.join(STAGE, entry.replace(/\.ts$/, '.js'));
  const target = path.join(outDir, name);
  const tmp = `${target}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  // Webpack stats name every bundled module, concatenated ones included (see writeLicenses).
  const stats = path.join(STAGE, `..`, `stats-${name}-${process.pid}.json`);
  const r = spawnSync(
    process.execPath,
    [NCC_CLI, 'build', input, '-o', tmp, '--target', 'es2022', '--no-cache', '--stats-out', stats, '-q'],
    { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] },
  );
  if (r.status !== 0) {
    rmSync(tmp, { recursive: true, force: true });
    throw new Error(`ncc failed for ${entry} (exit ${r.status ?? r.signal})`);
  }
  try {
    writeLicenses(stats, path.join(tmp, 'licenses.txt'));
  } finally {
    rmSync(stats, { force: true });
  }
  const index = path.join(tmp, 'index.js');
  const { code: stubbed, missing } = stubMissingModules(readFileSync(index, 'utf8'));
  let code = stubbed;
  // The package's bin: exactly one shebang, executable.
  if (name === 'cli' && !code.startsWith('#!')) code = '#!/usr/bin/env node\n' + code;
  writeFileSync(index, code);
  if (name === 'cli') chmodSync(index, 0o755);
  rmSync(target, { recursive: true, force: true });
  renameSync(tmp, target);
  return missing;
}

/**
 * licenses.txt lists every package whose code is in the bundle, with its license text. ncc's own
 * `--license` leaves out the modules webpack concatenated into the entry chunk (pg, tar-stream,
 * yaml, ...), i.e. most ES modules, so it is written here from the webpack stats instead.
 * https://github.com/xz64/license-webpack-plugin/issues/116 (ncc uses that plugin for --license)
 */
function writeLicenses(statsFile, out) {
  const stats = JSON.parse(readFileSync(statsFile, 'utf8'));
  const dirs = new Set();
  const visit = (modules) => {
    for (const m of modules ?? []) {
      // `./node_modules/a/node_modules/@s/b/x.js`: the package is the part after the last node_modules.
      const at = typeof m.name === 'string' ? m.name.lastIndexOf('node_modules/') : -1;
      if (at >= 0) {
        const rest = m.name.slice(at + 'node_modules/'.length).split('/');
        const pkg = rest[0].startsWith('@') ? rest.slice(0, 2).join('/') : rest[0];
        dirs.add(path.join(ROOT, m.name.slice(0, at), 'node_modules', pkg));
      }
      visit(m.modules);
    }
  };
  visit(stats.modules);
  for (const chunk of stats.chunks ?? []) visit(chunk.modules);
  const entries = new Map();
  for (const dir of dirs) {
    const manifest = path.join(dir, 'package.json');
    if (!existsSync(manifest)) continue;
    const pkg = JSON.parse(readFileSync(manifest, 'utf8'));
    const license =
      typeof pkg.license === 'string' ? pkg.license : (pkg.license?.type ?? pkg.licenses?.[0]?.type ?? '');
    const file = readdirSync(dir)
      .filter((f) => /^(licen[cs]e|copying)(\.|$)/i.test(f))
      .sort()[0];
    const repository = typeof pkg.repository === 'string' ? pkg.repository : pkg.repository?.url;
    const text = file
      ? readFileSync(path.join(dir, file), 'utf8').trim()
      : `(the package ships no license file${repository ? `; its source: ${repository}` : ''})`;
    const key = `${pkg.name}@${pkg.version}`;
    if (!entries.has(key)) entries.set(key, `${pkg.name}\n${license}\n${text}\n`);
  }
  if (entries.size === 0) throw new Error(`${statsFile} names no bundled package`);
  const body = [...entries.keys()].sort().map((k) => entries.get(k));
  writeFileSync(out, body.join('\n'));
}

/**
 * A package ncc could not resolve (an optional native addon such as pg's `pg-native`) is left as
 * `eval("require")("x")`. In an ES module bundle `require` does not exist, so that would throw a
 * ReferenceError, which the packages' own "is the optional module installed?" checks (they test
 * `err.code === 'MODULE_NOT_FOUND'`) do not expect: pg rethrows it from `pg.native`. The stub
 * throws what Node itself would throw for a module that is not installed.
 */
export function stubMissingModules(code) {
  const missing = new Set();
  const out = code.replace(/eval\("require"\)\(("(?:[^"\\]|\\.)+")\)/g, (_m, quoted) => {
    const id = JSON.parse(quoted);
    missing.add(id);
    return (
      `(() => { const e = new Error(${JSON.stringify(`Cannot find module '${id}' (not bundled into dbdrill)`)}); ` +
      `e.code = 'MODULE_NOT_FOUND'; throw e; })()`
    );
  });
  if (/eval\("require"\)/.test(out))
    throw new Error('a dynamic require that is not a plain module name is left');
  return { code: out, missing: [...missing].sort() };
}

/**
 * The stage path is part of the bundle (ncc names modules by it), so it cannot be per process:
 * two builds at once (npm run build, check-dist, a test building a missing bundle, the bench)
 * take turns. A lock left by a killed build is taken over once its process is gone.
 */
function lockStage() {
  const lock = `${STAGE}.lock`;
  mkdirSync(path.dirname(lock), { recursive: true });
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(path.join(lock, 'pid'), String(process.pid));
      return () => rmSync(lock, { recursive: true, force: true });
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
    }
    let owner = NaN;
    try {
      owner = Number(readFileSync(path.join(lock, 'pid'), 'utf8'));
    } catch {
      /* being created or removed right now */
    }
    if (Number.isInteger(owner) && owner > 0 && !isAlive(owner)) {
      rmSync(lock, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`${lock} is held by process ${owner} for over 10 minutes`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
  }
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

/**
 * Builds the selected (default: all existing) entries into outDir; returns each built entry with
 * the optional modules that were left out of it.
 */
export function build({ outDir = path.join(ROOT, 'dist'), only = [], entries = ENTRIES } = {}) {
  const unknown = only.filter((n) => !(n in entries));
  if (unknown.length) {
    throw new Error(
      `unknown entry ${unknown.join(', ')}; expected one of: ${Object.keys(entries).join(', ')}`,
    );
  }
  const release = lockStage();
  try {
    transpileSources();
    const built = [];
    for (const [name, entry] of Object.entries(entries)) {
      if (only.length && !only.includes(name)) continue;
      if (!existsSync(path.join(ROOT, entry))) {
        if (only.includes(name)) throw new Error(`${entry} does not exist`);
        continue;
      }
      built.push({ name, notBundled: bundle(name, entry, outDir) });
    }
    return built;
  } finally {
    release();
  }
}

function parseArgv(argv) {
  const only = [];
  let outDir;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--out') outDir = path.resolve(argv[++i] ?? '');
    else only.push(argv[i]);
  }
  return { outDir, only };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const started = Date.now();
    const options = parseArgv(process.argv.slice(2));
    const built = build(options);
    const outDir = path.relative(process.cwd(), options.outDir ?? path.join(ROOT, 'dist')) || '.';
    for (const { name, notBundled } of built) {
      const note = notBundled.length ? ` (optional, not bundled: ${notBundled.join(', ')})` : '';
      console.log(`built ${path.join(outDir, name, 'index.js')}${note}`);
    }
    console.log(`${built.length} bundle(s) in ${((Date.now() - started) / 1000).toFixed(1)}s`);
  } catch (err) {
    console.error(`build failed: ${err instanceof Error ? err.message : err}`);
    process.exit(1);
  }
}
