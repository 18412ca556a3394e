/**
 * The verify use case: prove a bundle is readable, layer by layer, each reported by name.
 * "Could not verify" is never a pass: a layer that cannot run fails with its reason, except the
 * optional pg_restore --list cross-check, which is skipped (and says so) when no installed
 * pg_restore can read the archive's version.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, resolve, sep } from 'node:path';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { finished } from 'node:stream/promises';

import {
  CHECKSUMS_MEMBER,
  MANIFEST_MEMBER,
  validateManifest,
  type Manifest,
  type PostgresComponent,
} from './bundle/manifest.js';
import { bundlesOf, parseBundleKey } from './bundle/naming.js';
import { HashingStream, peek } from './bundle/stream-utils.js';
import { BundleFormatError, parseSha256Sums, walkTar } from './bundle/tar.js';
import { SHA256_SIDECAR_SUFFIX } from './backup.js';
import type { Clock } from './clock.js';
import {
  isPgDump,
  readPgDump,
  tableDataEntries,
  type PgDumpReport,
} from './engines/postgres/pgdump-reader.js';
import { decryptHook, KEY_FOR_PLAIN_BUNDLE_NOTE } from './encryption.js';
import { isMongoArchive } from './engines/mongodb/archive-reader.js';
import { collectionsLayer, inspectMongoStream, type MongoArchiveSummary } from './engines/mongodb/inspect.js';
import { CheckFailed, ConfigError, messageOf } from './errors.js';
import type { Logger } from './logger.js';
import type { VerifyOptions } from './options.js';
import type { ProcessRunner } from './process.js';
import { findClientTool } from './provision/pg-binaries.js';
import { minPgRestoreMajor } from './engines/postgres/restore.js';
import { secretsFingerprint } from './secrets.js';
import type { Store, StoredObject } from './stores/store.js';
import { recordVerifyOutcome } from './verify-record.js';
import {
  DirectoryDumpInspection,
  directoryDumpOf,
  inspectDumpDirectoryPath,
} from './engines/postgres/directory-inspect.js';
import { isDumpDirectory } from './engines/postgres/pgdump-directory.js';

export interface VerifyLayer {
  name: string;
  ok: boolean;
  skipped?: boolean;
  detail: string;
}

export interface PgDumpSummary {
  member: string;
  archiveVersion: string;
  compression: string;
  database: string;
  serverVersion: string;
  pgDumpVersion: string;
  tocEntries: number;
  dataBlocks: number;
  /** schema.table -> rows counted in the dump (deep only, COPY data). */
  rows?: Record<string, number>;
  report: PgDumpReport;
}

export interface VerifyResult {
  ok: boolean;
  bundle: string;
  key?: string;
  kind: 'bundle' | 'bare-pg-dump' | 'bare-mongo-archive' | 'unknown';
  ageSeconds: number | null;
  problems: string[];
  layers: VerifyLayer[];
  manifest?: Manifest;
  pgDump?: PgDumpSummary;
  /** One per MongoDB archive read (bundle members or a bare archive). */
  mongo?: MongoArchiveSummary[];
  encrypted: boolean;
  /** Files written when `extractTo` was given: member path -> local path. */
  extracted?: Record<string, string>;
}

export interface VerifyDeps {
  runner: ProcessRunner;
  logger: Logger;
  clock: Clock;
  openStore: (uri: string) => Store;
  label?: (input: string) => string;
  searchRoots?: string[];
  signal?: AbortSignal;
  /** Decrypts an age-encrypted bundle stream; absent when no identity or passphrase was given. */
  decrypt?: (cipher: Readable) => Readable;
}

export interface InspectOptions {
  deep: boolean;
  maxAgeSeconds?: number;
  pgBinDir?: string;
  /** Write the dump and secret members here while verifying (the drill needs them). */
  extractTo?: string;
  /** Inflate bare pg_dump files even when not deep: without a manifest, the dump's own rows are the only counts. */
  deepForBareDumps?: boolean;
}

/** Where a bundle is: its store and key. `bundle` may be a path, file:// or s3:// URI. */
export interface BundleLocation {
  store: Store;
  key: string;
  display: string;
  object?: StoredObject;
}

export function locateBundle(deps: Pick<VerifyDeps, 'openStore'>, bundle: string): BundleLocation {
  const cut = bundle.lastIndexOf('/');
  let storeUri: string;
  let key: string;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(bundle)) {
    const schemeEnd = bundle.indexOf('://') + 3;
    if (cut < schemeEnd)
      throw new ConfigError(`bundle "${bundle}" names no object; expected e.g. s3://bucket/prefix/<bundle>`);
    storeUri = bundle.slice(0, cut);
    key = bundle.slice(cut + 1);
  } else {
    const abs = resolve(bundle);
    storeUri = dirname(abs);
    key = abs.slice(storeUri.length + 1);
  }
  return { store: deps.openStore(storeUri), key, display: bundle };
}

/** The bundles of `name`, newest first (by the names, never by modification time). */
export async function listBundles(
  store: Store,
  name: string,
): Promise<(StoredObject & { timestamp: Date })[]> {
  const objects = await store.list(name);
  const byKey = new Map(objects.map((o) => [o.key, o]));
  return bundlesOf(
    name,
    objects.map((o) => o.key),
  ).map((p) => ({ ...byKey.get(p.key)!, timestamp: p.timestamp }));
}

export async function resolveNewest(store: Store, name: string): Promise<BundleLocation> {
  const bundles = await listBundles(store, name);
  if (bundles.length === 0) {
    throw new CheckFailed(
      `no bundle named "${name}" in ${store.displayUri}; run a backup first, or check store and name`,
    );
  }
  return {
    store,
    key: bundles[0].key,
    display: `${store.displayUri.replace(/\/$/, '')}/${bundles[0].key}`,
    object: bundles[0],
  };
}

/** verify for the CLI and the action: throws CheckFailed (with the result) when a layer fails. */
export async function verify(deps: VerifyDeps, options: VerifyOptions): Promise<VerifyResult> {
  if (!deps.decrypt) deps = { ...deps, decrypt: await decryptHook(deps.logger, options, deps.label) };
  const location = options.bundle
    ? locateBundle(deps, options.bundle)
    : await resolveNewest(deps.openStore(options.store!), options.name!);
  deps.logger.info(`Verifying ${location.display}`);
  // A bare pg_dump -Fd directory on disk (directory-inspect.ts).
  const bareDir =
    options.bundle &&
    !/^[a-z][a-z0-9+.-]*:\/\//i.test(options.bundle) &&
    (await isDumpDirectory(options.bundle));
  const result = bareDir
    ? await inspectDumpDirectoryPath(deps, options.bundle!, options)
    : await inspectBundle(deps, location, {
        deep: options.deep,
        maxAgeSeconds: options.maxAgeSeconds,
        pgBinDir: options.pgBinDir,
      });
  for (const layer of result.layers) {
    const mark = layer.skipped ? 'skip' : layer.ok ? ' ok ' : 'FAIL';
    deps.logger.info(`[${mark}] ${layer.name}: ${layer.detail}`);
  }
  if (!bareDir) await recordVerifyOutcome(deps, location, result, options.deep);
  if (!result.ok) {
    throw new CheckFailed(
      `verification failed for ${location.display}: ${result.problems.join('; ')}`,
      result,
    );
  }
  return result;
}

/** Runs every layer over one pass of the stored object. Never throws for a bad bundle: it reports. */
export async function inspectBundle(
  deps: VerifyDeps,
  location: BundleLocation,
  options: InspectOptions,
): Promise<VerifyResult> {
  const layers: VerifyLayer[] = [];
  const add = (name: string, ok: boolean, detail: string, skipped = false) =>
    layers.push({ name, ok, detail, skipped });
  const result: VerifyResult = {
    ok: false,
    bundle: location.display,
    key: location.key,
    kind: 'unknown',
    ageSeconds: null,
    problems: [],
    layers,
    encrypted: false,
  };

  let raw: Readable;
  try {
    raw = await location.store.get(location.key);
  } catch (err) {
    add('stored object', false, `cannot read ${location.display}: ${messageOf(err)}`);
    return finish(result);
  }
  const recorded = await location.store.readText(location.key + SHA256_SIDECAR_SUFFIX).catch(() => undefined);
  const whole = new HashingStream();
  raw.on('error', (err) => whole.destroy(err));
  const hashed = raw.pipe(whole);
  const { head, stream } = await peek(hashed, 512);

  if (head.subarray(0, 21).toString('latin1') === 'age-encryption.org/v1') {
    result.encrypted = true;
    if (!deps.decrypt) {
      add(
        'decrypts',
        false,
        'the bundle is age-encrypted and no identity or passphrase was given; pass identity (or passphrase)',
      );
      await drainQuietly(stream);
      addStoredObjectLayer(result, whole, recorded);
      return finish(result);
    }
    const plain = deps.decrypt(stream);
    // Damage past the header (truncated, tampered) surfaces mid-stream; the layer must say so.
    let decryptError: unknown;
    plain.on('error', (err) => (decryptError ??= err));
    const inner = await peek(plain, 512).catch((err: Error) => ({ error: err }) as const);
    if ('error' in inner) {
      add('decrypts', false, messageOf(inner.error));
      await drainQuietly(stream);
      addStoredObjectLayer(result, whole, recorded);
      return finish(result);
    }
    await inspectPlain(deps, options, result, inner.head, inner.stream);
    if (!layers.some((l) => l.name === 'decrypts')) {
      layers.unshift({
        name: 'decrypts',
        ok: !decryptError,
        detail: decryptError
          ? messageOf(decryptError)
          : 'decrypted with the given key to its end; contents checked below',
      });
    }
  } else {
    await inspectPlain(deps, options, result, head, stream);
    if (deps.decrypt) add('decrypts', true, KEY_FOR_PLAIN_BUNDLE_NOTE, true);
  }
  await drainQuietly(stream);
  addStoredObjectLayer(result, whole, recorded);
  if (!result.manifest && !location.object) {
    // A bare dump has no manifest: its file's (or object's) modification time is the best end time.
    location.object = (await location.store.list(location.key).catch(() => [])).find(
      (o) => o.key === location.key,
    );
  }
  ageLayer(deps, location, options, result);
  return finish(result);
}

function addStoredObjectLayer(
  result: VerifyResult,
  whole: HashingStream,
  recorded: string | undefined,
): void {
  const sha = whole.digest();
  const expected = recorded?.trim().split(/\s+/)[0];
  if (!expected) {
    result.layers.unshift({
      name: 'stored object',
      ok: true,
      detail: `${whole.bytes} bytes, sha256 ${sha.slice(0, 16)}…; no .sha256 file beside it to compare with`,
    });
  } else if (expected === sha) {
    result.layers.unshift({
      name: 'stored object',
      ok: true,
      detail: `intact: ${whole.bytes} bytes, sha256 matches the recorded ${sha.slice(0, 16)}…`,
    });
  } else {
    result.layers.unshift({
      name: 'stored object',
      ok: false,
      detail: `sha256 ${sha.slice(0, 16)}… does not match the recorded ${expected.slice(0, 16)}…: the stored bytes changed after the backup`,
    });
  }
}

async function drainQuietly(stream: Readable): Promise<void> {
  try {
    for await (const _ of stream) void _;
  } catch {
    /* a read error was already reported by the layer that hit it */
  }
}

/** The order an operator reads them in: outside in, then the dump, then the policy checks. */
const LAYER_ORDER = [
  'stored object',
  'decrypts',
  'bundle readable',
  'manifest valid',
  'manifest',
  'member checksums',
  'secret files',
  'dump header and TOC',
  'data blocks',
  'pg_restore --list',
  'tables match manifest',
  'backup age',
];

function finish(result: VerifyResult): VerifyResult {
  const rank = (name: string) => {
    const i = LAYER_ORDER.indexOf(name);
    return i < 0 ? LAYER_ORDER.indexOf('backup age') - 0.5 : i;
  };
  result.layers.sort((a, b) => rank(a.name) - rank(b.name));
  result.problems = result.layers.filter((l) => !l.ok && !l.skipped).map((l) => `${l.name}: ${l.detail}`);
  result.ok = result.problems.length === 0 && result.layers.length > 0;
  return result;
}

async function inspectPlain(
  deps: VerifyDeps,
  options: InspectOptions,
  result: VerifyResult,
  head: Buffer,
  stream: Readable,
): Promise<void> {
  const add = (name: string, ok: boolean, detail: string, skipped = false) =>
    result.layers.push({ name, ok, detail, skipped });
  if (isPgDump(head)) {
    result.kind = 'bare-pg-dump';
    add('bundle readable', true, 'a bare pg_dump custom-format file (no dbdrill manifest)');
    const sink = options.extractTo
      ? await openExtract(options.extractTo, 'postgres.dump', (result.extracted = {}))
      : undefined;
    const bareOptions = { ...options, deep: options.deep || !!options.deepForBareDumps };
    const inspected = await inspectPgDumpStream(deps, stream, 'pg_dump file', bareOptions, sink);
    result.pgDump = inspected.summary;
    for (const l of inspected.layers) result.layers.push(l);
    add(
      'manifest',
      true,
      'not applicable: a bare pg_dump file has no manifest, so member checksums, table counts and secret files are not checked',
      true,
    );
    return;
  }
  if (isMongoArchive(head)) {
    result.kind = 'bare-mongo-archive';
    add('bundle readable', true, 'a bare mongodump archive (no dbdrill manifest)');
    const member = head[0] === 0x1f ? 'mongodb.archive.gz' : 'mongodb.archive';
    const sink = options.extractTo
      ? await openExtract(options.extractTo, member, (result.extracted = {}))
      : undefined;
    const inspected = await inspectMongoStream(stream, 'mongodump archive', sink, deps.signal);
    if (inspected.summary) result.mongo = [{ ...inspected.summary, member }];
    for (const l of inspected.layers) result.layers.push(l);
    add(
      'manifest',
      true,
      'not applicable: a bare mongodump archive has no manifest, so member checksums, recorded counts and secret files are not checked',
      true,
    );
    return;
  }
  if (head.length < 512 || head.subarray(257, 262).toString('latin1') !== 'ustar') {
    add(
      'bundle readable',
      false,
      head.length === 0
        ? 'the file is empty'
        : 'not a dbdrill bundle (a tar archive) nor a pg_dump custom-format file nor a mongodump archive; check the path',
    );
    return;
  }
  result.kind = 'bundle';
  let manifest: Manifest | undefined;
  let manifestProblems: string[] | undefined;
  const seen = new Map<string, { size: number; sha256: string }>();
  const extracted: Record<string, string> = {};
  let first = true;
  let walkError: string | undefined;
  let checksums: { sums: Map<string, string>; problems: string[] } | undefined;
  const afterChecksums: string[] = [];
  // Directory-format dumps, by folder: their files are read as they stream (directory-inspect.ts).
  const directoryDumps = new Map<string, DirectoryDumpInspection>();
  try {
    await walkTar(stream, async (entry) => {
      const isFirst = first;
      first = false;
      if (checksums) afterChecksums.push(entry.path);
      if (entry.path === CHECKSUMS_MEMBER && !checksums) {
        checksums = parseSha256Sums(await readSmall(entry.stream, 4 << 20));
        return;
      }
      if (entry.path === MANIFEST_MEMBER) {
        const text = await readSmall(entry.stream, 16 << 20);
        seen.set(entry.path, { size: Buffer.byteLength(text), sha256: sha256(text) });
        if (!isFirst) manifestProblems = ['manifest.json is not the first member'];
        try {
          const parsed = JSON.parse(text) as unknown;
          const problems = validateManifest(parsed);
          manifestProblems = [...(manifestProblems ?? []), ...problems];
          if (problems.length === 0) manifest = parsed as Manifest;
        } catch (err) {
          manifestProblems = [`manifest.json is not valid JSON (${messageOf(err)})`];
        }
        return;
      }
      const dirDump = directoryDumpOf(manifest, entry.path);
      if (dirDump) {
        let inspection = directoryDumps.get(dirDump.folder);
        if (!inspection) {
          // Without a manifest the dump's own rows are the only counts: read it deep when asked to.
          const deep = options.deep || (!manifest && !!options.deepForBareDumps);
          inspection = new DirectoryDumpInspection(
            deps,
            dirDump.folder,
            { ...options, deep },
            dirDump.component,
          );
          directoryDumps.set(dirDump.folder, inspection);
        }
        const sink = options.extractTo
          ? await openExtract(options.extractTo, entry.path, extracted)
          : undefined;
        seen.set(entry.path, await inspection.file(entry.path, entry.stream, sink));
        return;
      }
      const component = manifest?.components.find((c) => c.member === entry.path);
      const isDump = component?.engine === 'postgres' || (!manifest && entry.path.endsWith('.dump'));
      const sink = options.extractTo
        ? await openExtract(options.extractTo, entry.path, extracted)
        : undefined;
      const isMongo = component?.engine === 'mongodb' || (!manifest && /\.archive(\.gz)?$/.test(entry.path));
      if (isMongo) {
        const inspected = await inspectMongoStream(entry.stream, entry.path, sink, deps.signal);
        seen.set(entry.path, { size: inspected.bytes, sha256: inspected.sha256 });
        if (inspected.summary) (result.mongo ??= []).push(inspected.summary);
        for (const l of inspected.layers) result.layers.push(l);
        if (inspected.report && component?.engine === 'mongodb')
          result.layers.push(collectionsLayer(component, inspected.report));
      } else if (isDump) {
        const inspected = await inspectPgDumpStream(deps, entry.stream, entry.path, options, sink);
        seen.set(entry.path, { size: inspected.bytes, sha256: inspected.sha256 });
        result.pgDump = inspected.summary;
        for (const l of inspected.layers) result.layers.push(l);
        if (inspected.summary && manifest && component?.engine === 'postgres') {
          result.layers.push(tablesLayer(component, inspected.summary, options.deep));
        }
      } else {
        const h = new HashingStream();
        if (sink) {
          entry.stream.pipe(h).pipe(sink);
          await finished(sink);
        } else {
          for await (const chunk of entry.stream.pipe(h)) void chunk;
        }
        seen.set(entry.path, { size: h.bytes, sha256: h.digest() });
      }
    });
  } catch (err) {
    walkError = err instanceof BundleFormatError ? err.message : `bundle cannot be read: ${messageOf(err)}`;
  }
  for (const inspection of directoryDumps.values()) {
    const out = await inspection.finish();
    if (out.summary) result.pgDump = out.summary;
    for (const l of out.layers) result.layers.push(l);
    if (out.summary && manifest && inspection.component)
      result.layers.push(tablesLayer(inspection.component, out.summary, options.deep));
    if (options.extractTo) {
      const dir = resolve(options.extractTo, inspection.folder);
      extracted[inspection.folder || '.'] = dir;
      // A -Fd tarball from another tool restores like a bare dump.
      if (!manifest) extracted['postgres.dump'] = dir;
    }
  }
  if (options.extractTo) result.extracted = extracted;
  result.layers.unshift({
    name: 'bundle readable',
    ok: !walkError,
    detail: walkError ?? `tar archive with ${seen.size + (checksums ? 1 : 0)} member(s)`,
  });
  if (
    !seen.has(MANIFEST_MEMBER) &&
    directoryDumps.size > 0 &&
    seen.size === [...directoryDumps.values()].reduce((n, d) => n + d.files, 0)
  ) {
    result.kind = 'bare-pg-dump';
    add(
      'manifest',
      true,
      'not applicable: a pg_dump -Fd tarball has no manifest, so member checksums, table counts and secret files are not checked',
      true,
    );
    return;
  }
  if (!seen.has(MANIFEST_MEMBER)) {
    add('manifest valid', false, 'manifest.json is missing: this tar is not a complete dbdrill bundle');
    return;
  }
  add(
    'manifest valid',
    !manifestProblems?.length && !!manifest,
    manifestProblems?.length
      ? manifestProblems.join('; ')
      : `format ${manifest!.formatVersion}, ${manifest!.components.length} component(s), written by dbdrill ${manifest!.dbdrillVersion}`,
  );
  if (!manifest) return;
  result.manifest = manifest;

  const memberProblems: string[] = [];
  const sums = checksums?.sums;
  if (manifest.checksums === CHECKSUMS_MEMBER) {
    if (!checksums) memberProblems.push(`${CHECKSUMS_MEMBER} is missing: the bundle ends early (truncated?)`);
    else {
      memberProblems.push(...checksums.problems.map((p) => `${CHECKSUMS_MEMBER}: ${p}`));
      if (afterChecksums.length)
        memberProblems.push(`${afterChecksums.join(', ')} follow ${CHECKSUMS_MEMBER}, which must be last`);
      const manifestSeen = seen.get(MANIFEST_MEMBER);
      if (sums!.get(MANIFEST_MEMBER) !== manifestSeen?.sha256) {
        memberProblems.push(
          `${MANIFEST_MEMBER} sha256 differs from ${CHECKSUMS_MEMBER} (the manifest was changed)`,
        );
      }
      for (const path of sums!.keys()) {
        if (path !== MANIFEST_MEMBER && !manifest.members.some((m) => m.path === path)) {
          memberProblems.push(`${CHECKSUMS_MEMBER} lists ${path}, which the manifest does not`);
        }
      }
    }
  }
  for (const m of manifest.members) {
    const got = seen.get(m.path);
    const expected = m.sha256 ?? sums?.get(m.path);
    if (!got) memberProblems.push(`${m.path} is missing`);
    else if (got.size !== m.sizeBytes)
      memberProblems.push(`${m.path} has ${got.size} bytes, the manifest says ${m.sizeBytes}`);
    else if (!expected) memberProblems.push(`${m.path} has no recorded sha256`);
    else if (got.sha256 !== expected)
      memberProblems.push(`${m.path} sha256 differs from the one recorded at backup time (corrupted)`);
  }
  for (const path of seen.keys()) {
    if (path !== MANIFEST_MEMBER && !manifest.members.some((m) => m.path === path)) {
      memberProblems.push(`${path} is not listed in the manifest`);
    }
  }
  add(
    'member checksums',
    memberProblems.length === 0,
    memberProblems.length
      ? memberProblems.join('; ')
      : `${manifest.members.length} member(s): sizes and sha256 match${sums ? ` (manifest and ${CHECKSUMS_MEMBER})` : ''}`,
  );
  if (manifest.secrets) {
    const secretMembers = manifest.members.filter((m) => m.role === 'secret');
    const actual = secretsFingerprint(
      secretMembers.map((m) => ({ member: m.path, sha256: seen.get(m.path)?.sha256 ?? 'missing' })),
    );
    add(
      'secret files',
      actual === manifest.secrets.fingerprint,
      actual === manifest.secrets.fingerprint
        ? `${secretMembers.length} file(s), fingerprint ${manifest.secrets.fingerprint.slice(0, 23)}…`
        : `the secret set does not match the manifest's fingerprint`,
    );
  }
}

function tablesLayer(component: PostgresComponent, dump: PgDumpSummary, deep: boolean): VerifyLayer {
  const entries = tableDataEntries(dump.report.toc);
  const problems: string[] = [];
  const tables = component.tables.filter((t) => t.kind === 'table');
  let compared = 0;
  for (const t of tables) {
    const key = `${t.schema}.${t.name}`;
    if (!entries.has(key)) {
      problems.push(`${key} has no TABLE DATA entry in the dump`);
      continue;
    }
    if (deep && dump.rows && key in dump.rows && t.rows !== null) {
      compared++;
      if (dump.rows[key] !== t.rows)
        problems.push(`${key}: ${dump.rows[key]} rows in the dump, ${t.rows} counted at backup`);
    }
  }
  const detail = problems.length
    ? problems.slice(0, 10).join('; ') + (problems.length > 10 ? `; and ${problems.length - 10} more` : '')
    : deep
      ? `${tables.length} table(s) in the TOC; ${compared} row count(s) in the dump equal the counts taken at backup`
      : `${tables.length} table(s) in the manifest all have TABLE DATA in the TOC`;
  return { name: 'tables match manifest', ok: problems.length === 0, detail };
}

async function openExtract(
  dir: string,
  member: string,
  extracted: Record<string, string>,
): Promise<Writable> {
  const root = resolve(dir);
  const target = resolve(root, member);
  if (!target.startsWith(root + sep))
    throw new BundleFormatError(`bundle member "${member}" would escape the work dir`);
  await mkdir(dirname(target), { recursive: true, mode: 0o700 });
  extracted[member] = target;
  return createWriteStream(target, { mode: 0o600 });
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

async function readSmall(stream: Readable, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const chunk of stream) {
    n += (chunk as Buffer).length;
    if (n > limit) throw new BundleFormatError(`manifest.json is larger than ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

interface InspectedDump {
  bytes: number;
  sha256: string;
  summary?: PgDumpSummary;
  layers: VerifyLayer[];
}

/**
 * One pass over a dump: hashed, parsed natively and (when a new enough pg_restore exists) fed to
 * `pg_restore --list` at the same time, optionally written to a file for the drill.
 */
async function inspectPgDumpStream(
  deps: VerifyDeps,
  input: Readable,
  member: string,
  options: InspectOptions,
  sink: Writable | undefined,
): Promise<InspectedDump> {
  const layers: VerifyLayer[] = [];
  const { head, stream } = await peek(input, 8);
  const hash = createHash('sha256');
  let bytes = 0;

  const readerInput = new PassThrough({ highWaterMark: 4 << 20 });
  let readerFailed = false;
  const reading = readPgDump(readerInput, { deep: options.deep, signal: deps.signal }).catch(
    (err: unknown) => {
      readerFailed = true;
      readerInput.resume();
      throw err;
    },
  );
  reading.catch(() => undefined);

  const list = await startPgRestoreList(deps, head, options.pgBinDir);
  try {
    for await (const chunk of stream) {
      const buf = chunk as Buffer;
      hash.update(buf);
      bytes += buf.length;
      if (sink && !sink.write(buf)) await new Promise((r) => sink.once('drain', r));
      if (list.child && list.stdinOpen) list.write(buf);
      if (!readerFailed && !readerInput.write(buf)) {
        await Promise.race([
          new Promise((r) => readerInput.once('drain', r)),
          reading.catch(() => undefined),
        ]);
      }
    }
  } finally {
    readerInput.end();
    list.end();
    if (sink) {
      sink.end();
      await finished(sink).catch(() => undefined);
    }
  }

  let summary: PgDumpSummary | undefined;
  try {
    const report = await reading;
    const h = report.header;
    const rows: Record<string, number> = {};
    for (const b of report.blocks) {
      if (b.kind === 'data' && b.rows !== undefined && b.entry)
        rows[`${b.entry.namespace}.${b.entry.tag}`] = b.rows;
    }
    summary = {
      member,
      archiveVersion: h.archiveVersion,
      compression:
        h.compression.algorithm +
        (h.compression.level !== undefined ? ` (level ${h.compression.level})` : ''),
      database: h.database,
      serverVersion: h.serverVersion,
      pgDumpVersion: h.pgDumpVersion,
      tocEntries: report.toc.length,
      dataBlocks: report.blocks.length,
      rows: options.deep ? rows : undefined,
      report,
    };
    layers.push({
      name: 'dump header and TOC',
      ok: true,
      detail: `archive ${h.archiveVersion}, ${summary.compression}, database "${h.database}", server ${h.serverVersion}, pg_dump ${h.pgDumpVersion}, ${report.toc.length} TOC entries`,
    });
    const missing = report.missingBlocks ?? [];
    const deepUnsupported = (report as { deepUnsupported?: string }).deepUnsupported;
    if (missing.length) {
      layers.push({
        name: 'data blocks',
        ok: false,
        detail: `${missing.length} data block(s) missing (truncated dump?): ${missing
          .slice(0, 5)
          .map((e) => `${e.namespace}.${e.tag}`)
          .join(', ')}`,
      });
    } else if (options.deep && deepUnsupported) {
      layers.push({ name: 'data blocks', ok: false, detail: `cannot inflate: ${deepUnsupported}` });
    } else {
      const totalRows = Object.values(rows).reduce((a, b) => a + b, 0);
      const inflated = report.blocks.reduce((n, b) => n + (b.uncompressedBytes ?? 0), 0);
      layers.push({
        name: 'data blocks',
        ok: true,
        detail: options.deep
          ? `${report.blocks.length} block(s) inflated to the end (${inflated} bytes, ${totalRows} rows of COPY data)`
          : `${report.blocks.length} block(s) framed correctly to the end of the dump (use deep to inflate them)`,
      });
    }
  } catch (err) {
    layers.push({ name: 'dump header and TOC', ok: false, detail: messageOf(err) });
  }

  const listed = await list.result();
  if (listed.skipped) {
    layers.push({ name: 'pg_restore --list', ok: true, skipped: true, detail: listed.skipped });
  } else if (listed.error) {
    layers.push({ name: 'pg_restore --list', ok: false, detail: listed.error });
  } else if (summary) {
    const ids = new Set(summary.report.toc.map((e) => e.dumpId));
    const unknown = listed.ids.filter((id) => !ids.has(id));
    layers.push({
      name: 'pg_restore --list',
      ok: unknown.length === 0,
      detail: unknown.length
        ? `pg_restore lists dump ids the native reader did not find: ${unknown.slice(0, 5).join(', ')}`
        : `${listed.tool} lists ${listed.ids.length} entries, all found by the native reader`,
    });
  } else {
    layers.push({
      name: 'pg_restore --list',
      ok: true,
      detail: `${listed.tool} lists ${listed.ids.length} entries`,
    });
  }
  return { bytes, sha256: hash.digest('hex'), summary, layers };
}

interface ListRun {
  child?: import('node:child_process').ChildProcess;
  stdinOpen: boolean;
  write(buf: Buffer): void;
  end(): void;
  result(): Promise<{ skipped?: string; error?: string; ids: number[]; tool?: string }>;
}

async function startPgRestoreList(
  deps: VerifyDeps,
  head: Buffer,
  pgBinDir: string | undefined,
): Promise<ListRun> {
  const noop = (skipped?: string, error?: string): ListRun => ({
    stdinOpen: false,
    write: () => undefined,
    end: () => undefined,
    result: async () => ({ skipped, error, ids: [] }),
  });
  if (!isPgDump(head)) return noop(undefined, 'not a pg_dump archive');
  const minor = head[6];
  const needed = minPgRestoreMajor(minor);
  let tool: { path: string; major: number; version: string };
  try {
    tool = await findClientTool(deps.runner, 'pg_restore', needed, {
      explicitBinDir: pgBinDir,
      searchRoots: deps.searchRoots,
    });
  } catch {
    return noop(
      `no installed pg_restore reads archive version 1.${minor} (needs PostgreSQL ${needed} or newer); the native reader covers this archive alone`,
    );
  }
  const { spawn } = await import('node:child_process');
  const child = spawn(tool.path, ['--list'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const run: ListRun = {
    child,
    stdinOpen: true,
    write(buf) {
      if (!this.stdinOpen) return;
      child.stdin!.write(buf);
    },
    end() {
      if (this.stdinOpen) {
        this.stdinOpen = false;
        child.stdin!.end();
      }
    },
    result: () => done,
  };
  child.stdin!.on('error', () => {
    run.stdinOpen = false;
  });
  child.stdin!.on('close', () => {
    run.stdinOpen = false;
  });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-4000)));
  const done = new Promise<{ error?: string; ids: number[]; tool: string }>((resolveDone) => {
    child.on('error', (e) =>
      resolveDone({ error: `cannot run ${tool.path}: ${e.message}`, ids: [], tool: tool.path }),
    );
    child.on('close', (code) => {
      const ids = [...out.matchAll(/^(\d+);/gm)].map((m) => Number(m[1]));
      const label = `pg_restore ${tool.version}`;
      if (code !== 0)
        resolveDone({ error: `${label} --list failed: ${err.trim().split('\n').pop()}`, ids, tool: label });
      else resolveDone({ ids, tool: label });
    });
  });
  return run;
}

function ageLayer(
  deps: VerifyDeps,
  location: BundleLocation,
  options: InspectOptions,
  result: VerifyResult,
): void {
  const now = deps.clock.now();
  let endedAt: Date | undefined;
  let source = '';
  if (result.manifest) {
    endedAt = new Date(result.manifest.endedAt);
    source = "the manifest's end time";
  } else if (location.object?.modifiedAt) {
    endedAt = location.object.modifiedAt;
    source = "the file's modification time";
  } else if (parseBundleKey(location.key)) {
    endedAt = parseBundleKey(location.key)!.timestamp;
    source = 'the bundle name';
  } else if (result.pgDump?.report.header.createdAt) {
    endedAt = result.pgDump.report.header.createdAt;
    source = "the dump header's creation time";
  }
  if (!endedAt) {
    const ok = options.maxAgeSeconds === undefined;
    result.layers.push({
      name: 'backup age',
      ok,
      skipped: ok,
      detail: 'the backup time is unknown' + (ok ? '' : ', so max-age cannot be proven'),
    });
    return;
  }
  const age = Math.max(0, Math.round((now.getTime() - endedAt.getTime()) / 1000));
  result.ageSeconds = age;
  if (options.maxAgeSeconds === undefined) {
    result.layers.push({
      name: 'backup age',
      ok: true,
      detail: `${age} s old (from ${source}); no max-age set`,
    });
  } else {
    const ok = age <= options.maxAgeSeconds;
    result.layers.push({
      name: 'backup age',
      ok,
      detail: `${age} s old (from ${source}), ${ok ? 'within' : 'over'} max-age ${options.maxAgeSeconds} s`,
    });
  }
}
