/**
 * A cache of initdb'd, never-started data directories, one per server build, initdb arguments and
 * owner. initdb is most of a scratch cluster's start (about 1.2 s of 1.5 s on the bench machine);
 * copying its untouched output (`cp -a`, a reflink where the file system has them) takes a fifth
 * of that. Every copy comes from a template no server ever ran on, so nothing of one drill reaches
 * the next, and each copy is given its own system identifier (`freshen`, `control-file.ts`): the
 * drill tells a backup's source from its scratch target by that identifier.
 *
 * Safety: an entry is built in a private temp dir and renamed into place, so a reader sees a whole
 * entry or none; the copy (not the entry) is checked against the entry's marker (every file's path,
 * size and mode, and the owner), so an entry removed or damaged while being copied is caught. Any
 * problem falls back to initdb with a debug line, and a bad entry is replaced.
 */
import { createHash, randomBytes } from 'node:crypto';
import { lstatSync, readdirSync } from 'node:fs';
import { lstat, mkdir, readFile, readdir, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';

import { Cancelled, messageOf } from '../errors.js';
import type { Logger } from '../logger.js';
import type { ProcessRunner } from '../process.js';

/** Bumped when the entry layout or what the key covers changes. */
const LAYOUT = 1;
const MARKER = 'dbdrill-template.json';
/** A `.tmp-`/`.old-` folder this old was left by a dbdrill that was killed. */
const STALE_MS = 60 * 60 * 1000;

/**
 * Where the cache lives: `DBDRILL_CACHE_DIR`, else `$XDG_CACHE_HOME/dbdrill`, else
 * `~/.cache/dbdrill` (templates go in its `initdb/` folder). `DBDRILL_CACHE_DIR=off` (or `0`,
 * `false`, `none`) turns it off.
 */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const set = env.DBDRILL_CACHE_DIR?.trim();
  if (set !== undefined && set !== '') {
    return /^(off|0|false|none)$/i.test(set) ? undefined : path.resolve(set);
  }
  if (env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME)) {
    return path.join(env.XDG_CACHE_HOME, 'dbdrill');
  }
  const home = homedir();
  return home ? path.join(home, '.cache', 'dbdrill') : undefined;
}

export interface TemplateRequest {
  /** The cache root (`defaultCacheDir()`), or undefined for no cache. */
  cacheDir: string | undefined;
  initdb: string;
  /** Server version string (e.g. 15.10): what PG_VERSION must start with is its major. */
  version: string;
  major: number;
  /** initdb's arguments without `-D`. */
  args: string[];
  /** The user the server runs as when we are root; undefined when the data belongs to us. */
  owner?: { uid: number; gid: number };
  /** Where the data directory must appear (its parent exists; it does not). */
  dataDir: string;
  /** Runs initdb into `dataDir`; throws on failure. */
  runInitdb: () => Promise<void>;
  /** Makes a checked copy its own (a new system identifier); throws on failure. */
  freshen: () => Promise<void>;
}

export interface PreparedDataDir {
  fromCache: boolean;
  /** Removes the entry the data dir was copied from (it did not start); a no-op otherwise. */
  invalidate(): Promise<void>;
}

interface Marker {
  layout: number;
  key: string;
  version: string;
  args: string[];
  owner: { uid: number; gid: number };
  files: string[];
}

/**
 * Puts a fresh initdb'd data directory at `dataDir`: a copy of the cached template when there is a
 * good one, else initdb (and the result is copied into the cache for the next time).
 */
export async function prepareDataDir(
  deps: { runner: ProcessRunner; logger: Logger },
  req: TemplateRequest,
): Promise<PreparedDataDir> {
  const none: PreparedDataDir = { fromCache: false, invalidate: async () => undefined };
  if (!req.cacheDir) {
    await req.runInitdb();
    return none;
  }
  const { logger } = deps;
  const owner = req.owner ?? { uid: process.getuid?.() ?? -1, gid: process.getgid?.() ?? -1 };
  let base: string;
  let key: string;
  try {
    base = await ownPrivateDir(path.join(req.cacheDir, 'initdb'));
    key = await keyOf(req, owner);
  } catch (e) {
    logger.debug(`initdb template cache not used: ${messageOf(e)}`);
    await req.runInitdb();
    return none;
  }
  const entry = path.join(base, key);

  const copied = await copyFromCache(deps, req, entry, key, owner);
  if (copied) {
    return { fromCache: true, invalidate: () => discardEntry(entry, base, logger) };
  }
  await req.runInitdb();
  await populate(deps, req, base, entry, key, owner);
  return none;
}

async function copyFromCache(
  deps: { runner: ProcessRunner; logger: Logger },
  req: TemplateRequest,
  entry: string,
  key: string,
  owner: { uid: number; gid: number },
): Promise<boolean> {
  const { logger } = deps;
  let marker: Marker;
  try {
    marker = JSON.parse(await readFile(path.join(entry, MARKER), 'utf8')) as Marker;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') logger.debug(`initdb template cache: no entry yet for ${req.initdb}`);
    else
      logger.debug(`initdb template cache: unreadable marker in ${entry} (${messageOf(e)}); rebuilding it`);
    // A folder without its marker (never made by us: the marker is written before the rename)
    // would block every rebuild.
    await discardEntry(entry, path.dirname(entry), logger);
    return false;
  }
  const problem = markerProblem(marker, req, key, owner);
  if (problem) {
    logger.debug(`initdb template cache: entry ${entry} rejected (${problem}); rebuilding it`);
    await discardEntry(entry, path.dirname(entry), logger);
    return false;
  }
  try {
    const r = await deps.runner.run('cp', ['-a', '--reflink=auto', path.join(entry, 'data'), req.dataDir], {
      quiet: true,
      maxStderrBytes: 16 * 1024,
    });
    if (r.code !== 0) throw new Error(`cp exited with ${r.code}: ${r.stderr.trim()}`);
    const copy = listTree(req.dataDir, owner);
    if (copy.join('\n') !== marker.files.join('\n')) throw new Error('the copy differs from the marker');
    const pgVersion = (await readFile(path.join(req.dataDir, 'PG_VERSION'), 'utf8')).trim();
    if (pgVersion !== String(req.major)) throw new Error(`PG_VERSION says ${pgVersion}, not ${req.major}`);
    await req.freshen();
  } catch (e) {
    if (e instanceof Cancelled) throw e;
    logger.debug(`initdb template cache: copying ${entry} failed (${messageOf(e)}); running initdb instead`);
    await rm(req.dataDir, { recursive: true, force: true });
    await discardEntry(entry, path.dirname(entry), logger);
    return false;
  }
  logger.info(`initdb skipped: copied the cached template ${entry}`);
  return true;
}

function markerProblem(
  m: Marker,
  req: TemplateRequest,
  key: string,
  owner: { uid: number; gid: number },
): string | undefined {
  if (m.layout !== LAYOUT) return `layout ${m.layout}, expected ${LAYOUT}`;
  if (m.key !== key) return 'key mismatch';
  if (m.version !== req.version) return `version ${m.version}, expected ${req.version}`;
  if (JSON.stringify(m.args) !== JSON.stringify(req.args)) return 'initdb arguments differ';
  if (m.owner?.uid !== owner.uid || m.owner?.gid !== owner.gid) return 'owner differs';
  if (!Array.isArray(m.files) || m.files.length === 0) return 'no file list';
  return undefined;
}

/** Copies a just-initdb'd, never-started data dir into the cache. Never throws. */
async function populate(
  deps: { runner: ProcessRunner; logger: Logger },
  req: TemplateRequest,
  base: string,
  entry: string,
  key: string,
  owner: { uid: number; gid: number },
): Promise<void> {
  const { logger } = deps;
  const tmp = path.join(base, `.tmp-${randomBytes(6).toString('hex')}`);
  await removeStale(base);
  try {
    await mkdir(tmp, { mode: 0o700 });
    const r = await deps.runner.run('cp', ['-a', '--reflink=auto', req.dataDir, path.join(tmp, 'data')], {
      quiet: true,
      maxStderrBytes: 16 * 1024,
    });
    if (r.code !== 0) throw new Error(`cp exited with ${r.code}: ${r.stderr.trim()}`);
    const source = listTree(req.dataDir, owner);
    const files = listTree(path.join(tmp, 'data'), owner);
    if (source.join('\n') !== files.join('\n')) throw new Error('the copy differs from the data directory');
    const marker: Marker = { layout: LAYOUT, key, version: req.version, args: req.args, owner, files };
    await writeFile(path.join(tmp, MARKER), JSON.stringify(marker), { mode: 0o600 });
    try {
      await rename(tmp, entry);
      logger.debug(`initdb template cache: stored ${entry}`);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // A concurrent drill stored the same entry first; theirs is as good as ours.
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw e;
      await rm(tmp, { recursive: true, force: true });
    }
  } catch (e) {
    logger.debug(`initdb template cache: could not store ${entry} (${messageOf(e)})`);
    await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** Half-built or half-removed entries of a dbdrill that was killed, an hour or more ago. */
async function removeStale(base: string): Promise<void> {
  try {
    const cutoff = Date.now() - STALE_MS;
    for (const name of await readdir(base)) {
      if (!name.startsWith('.tmp-') && !name.startsWith('.old-')) continue;
      const full = path.join(base, name);
      if ((await lstat(full)).mtimeMs < cutoff) await rm(full, { recursive: true, force: true });
    }
  } catch {
    /* best effort: a concurrent drill may remove the same leftovers */
  }
}

/** Renames the entry away first, so no reader starts copying a half-removed one. Never throws. */
async function discardEntry(entry: string, base: string, logger: Logger): Promise<void> {
  const doomed = path.join(base, `.old-${randomBytes(6).toString('hex')}`);
  try {
    await rename(entry, doomed);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
      logger.debug(`initdb template cache: could not remove ${entry}: ${messageOf(e)}`);
    return;
  }
  await rm(doomed, { recursive: true, force: true }).catch(() => undefined);
}

/**
 * The cache folder, made 0700 when missing; refused when it is a symlink, not ours, or writable by
 * others (a template copied into a cluster as root must come from nobody else).
 */
async function ownPrivateDir(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const s = await lstat(dir);
  const uid = process.getuid?.();
  if (!s.isDirectory()) throw new Error(`${dir} is not a directory`);
  if (uid !== undefined && s.uid !== uid) throw new Error(`${dir} belongs to uid ${s.uid}, not to us`);
  if (s.mode & 0o022) throw new Error(`${dir} is writable by group or others`);
  return dir;
}

/** The server build (initdb's real path, size, mtime), version, arguments and owner. */
async function keyOf(req: TemplateRequest, owner: { uid: number; gid: number }): Promise<string> {
  const real = await realpath(req.initdb);
  const s = await stat(real);
  const what = JSON.stringify([LAYOUT, real, s.size, s.mtimeMs, req.version, req.args, owner.uid, owner.gid]);
  return `pg${req.major}-${createHash('sha256').update(what).digest('hex').slice(0, 24)}`;
}

/**
 * Every entry below `root` as `path size mode`, sorted, with the owner checked on each: what a
 * whole, correctly owned copy must match. A symlink or other special file is a problem (initdb
 * makes none without -X). Synchronous: about a thousand lstat calls of microseconds each, which as
 * promises would queue behind the drill's bundle stream on libuv's threads for most of a second.
 */
function listTree(root: string, owner: { uid: number; gid: number }): string[] {
  const out: string[] = [];
  const walk = (dir: string, rel: string): void => {
    for (const name of readdirSync(dir)) {
      const full = path.join(dir, name);
      const r = rel ? `${rel}/${name}` : name;
      const s = lstatSync(full);
      // the uid only: a setgid parent may give initdb's files another group, copies keep it
      if (s.uid !== owner.uid) throw new Error(`${r} is not owned by ${owner.uid}`);
      const mode = (s.mode & 0o7777).toString(8);
      if (s.isDirectory()) {
        out.push(`${r}/ ${mode}`);
        walk(full, r);
      } else if (s.isFile()) out.push(`${r} ${s.size} ${mode}`);
      else throw new Error(`${r} is neither a file nor a directory`);
    }
  };
  const top = lstatSync(root);
  if (!top.isDirectory()) throw new Error(`${root} is not a directory`);
  if (top.uid !== owner.uid) throw new Error(`${root} is not owned by ${owner.uid}`);
  out.push(`./ ${(top.mode & 0o7777).toString(8)}`);
  walk(root, '');
  return out.sort();
}
