/**
 * A dbdrill bundle's layers: the tar walk (each member hashed, engine members read by their
 * engine's inspector), then what the walk proves: `bundle readable`, `manifest valid`, `member
 * checksums` (against the manifest and the trailing SHA256SUMS), and `secret files`.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { resolve } from 'node:path';
import { finished } from 'node:stream/promises';

import { CHECKSUMS_MEMBER, MANIFEST_MEMBER, validateManifest, type Manifest } from '../bundle/manifest.js';
import { HashingStream } from '../bundle/stream-utils.js';
import { BundleFormatError, indexTarFile, parseSha256Sums, walkTar, type TarEntry } from '../bundle/tar.js';
import { collectionsLayer, inspectMongoStream } from '../engines/mongodb/inspect.js';
import {
  DirectoryDumpInspection,
  directoryDumpOf,
  type SeekableTar,
} from '../engines/postgres/directory-inspect.js';
import { inspectPgDumpStream, tablesLayer } from '../engines/postgres/inspect.js';
import { messageOf } from '../errors.js';
import { secretsFingerprint } from '../secrets.js';
import { openExtract } from './extract.js';
import type { InspectDeps, InspectOptions, VerifyResult } from './types.js';

/** What one pass over the tar saw. */
interface Walked {
  manifest?: Manifest;
  manifestProblems?: string[];
  /** member path -> size and sha256 as read (SHA256SUMS itself excluded). */
  seen: Map<string, { size: number; sha256: string }>;
  checksums?: { sums: Map<string, string>; problems: string[] };
  /** Members found after SHA256SUMS, which must be last. */
  afterChecksums: string[];
  /** Directory-format dumps, by folder: their files are read as they stream (directory-inspect.ts). */
  directoryDumps: Map<string, DirectoryDumpInspection>;
  walkError?: string;
}

export async function inspectBundleMembers(
  deps: InspectDeps,
  options: InspectOptions,
  result: VerifyResult,
  stream: Readable,
): Promise<void> {
  const walked = await walkBundle(deps, options, result, stream);
  const { manifest, seen, checksums } = walked;
  result.layers.push({
    name: 'bundle readable',
    ok: !walked.walkError,
    detail: walked.walkError ?? `tar archive with ${seen.size + (checksums ? 1 : 0)} member(s)`,
  });
  const dirDumps = [...walked.directoryDumps.values()];
  if (
    !seen.has(MANIFEST_MEMBER) &&
    dirDumps.length > 0 &&
    seen.size === dirDumps.reduce((n, d) => n + d.files, 0)
  ) {
    // Nothing but pg_dump -Fd files: a directory dump tarred by another tool.
    result.kind = 'bare-pg-dump';
    result.layers.push({
      name: 'manifest',
      ok: true,
      skipped: true,
      detail:
        'not applicable: a pg_dump -Fd tarball has no manifest, so member checksums, table counts and secret files are not checked',
    });
    return;
  }
  if (!seen.has(MANIFEST_MEMBER)) {
    result.layers.push({
      name: 'manifest valid',
      ok: false,
      detail: 'manifest.json is missing: this tar is not a complete dbdrill bundle',
    });
    return;
  }
  result.layers.push({
    name: 'manifest valid',
    ok: !walked.manifestProblems?.length && !!manifest,
    detail: walked.manifestProblems?.length
      ? walked.manifestProblems.join('; ')
      : `format ${manifest!.formatVersion}, ${manifest!.components.length} component(s), written by dbdrill ${manifest!.dbdrillVersion}`,
  });
  if (!manifest) return;
  result.manifest = manifest;
  const memberProblems = checkMembers(manifest, walked);
  result.layers.push({
    name: 'member checksums',
    ok: memberProblems.length === 0,
    detail: memberProblems.length
      ? memberProblems.join('; ')
      : `${manifest.members.length} member(s): sizes and sha256 match${checksums ? ` (manifest and ${CHECKSUMS_MEMBER})` : ''}`,
  });
  if (manifest.secrets) {
    const secretMembers = manifest.members.filter((m) => m.role === 'secret');
    const actual = secretsFingerprint(
      secretMembers.map((m) => ({ member: m.path, sha256: seen.get(m.path)?.sha256 ?? 'missing' })),
    );
    const ok = actual === manifest.secrets.fingerprint;
    result.layers.push({
      name: 'secret files',
      ok,
      detail: ok
        ? `${secretMembers.length} file(s), fingerprint ${manifest.secrets.fingerprint.slice(0, 23)}…`
        : `the secret set does not match the manifest's fingerprint`,
    });
  }
}

/**
 * Reads every member once. The manifest comes first, so later members are known by their
 * component; without a valid manifest, names (`.dump`, `.archive`) still get them inspected.
 */
async function walkBundle(
  deps: InspectDeps,
  options: InspectOptions,
  result: VerifyResult,
  stream: Readable,
): Promise<Walked> {
  const walked: Walked = { seen: new Map(), afterChecksums: [], directoryDumps: new Map() };
  const extracted: Record<string, string> = {};
  const members = options.deep && options.localFile ? await indexTarFile(options.localFile) : undefined;
  const seekable = members && { path: options.localFile!, members };
  let first = true;
  try {
    await walkTar(stream, async (entry) => {
      const isFirst = first;
      first = false;
      if (walked.checksums) walked.afterChecksums.push(entry.path);
      if (entry.path === CHECKSUMS_MEMBER && !walked.checksums) {
        walked.checksums = parseSha256Sums(await readSmall(entry.stream, 4 << 20));
      } else if (entry.path === MANIFEST_MEMBER) {
        await readManifest(entry, isFirst, walked);
        if (isFirst && walked.manifest) options.onManifest?.(walked.manifest);
      } else {
        await inspectMember(deps, options, result, entry, walked, extracted, seekable);
      }
    });
  } catch (err) {
    walked.walkError =
      err instanceof BundleFormatError ? err.message : `bundle cannot be read: ${messageOf(err)}`;
  }
  for (const inspection of walked.directoryDumps.values()) {
    const out = await inspection.finish();
    if (out.summary) result.pgDump = out.summary;
    result.layers.push(...out.layers);
    if (out.summary && walked.manifest && inspection.component)
      result.layers.push(tablesLayer(inspection.component, out.summary, options.deep));
    if (options.extractTo) {
      const dir = resolve(options.extractTo, inspection.folder);
      extracted[inspection.folder || '.'] = dir;
      // A -Fd tarball from another tool restores like a bare dump.
      if (!walked.manifest) extracted['postgres.dump'] = dir;
    }
  }
  if (options.extractTo) result.extracted = extracted;
  return walked;
}

async function readManifest(entry: TarEntry, isFirst: boolean, walked: Walked): Promise<void> {
  const text = await readSmall(entry.stream, 16 << 20);
  walked.seen.set(entry.path, {
    size: Buffer.byteLength(text),
    sha256: createHash('sha256').update(text).digest('hex'),
  });
  if (!isFirst) walked.manifestProblems = ['manifest.json is not the first member'];
  try {
    const parsed = JSON.parse(text) as unknown;
    const problems = validateManifest(parsed);
    walked.manifestProblems = [...(walked.manifestProblems ?? []), ...problems];
    if (problems.length === 0) walked.manifest = parsed as Manifest;
  } catch (err) {
    walked.manifestProblems = [`manifest.json is not valid JSON (${messageOf(err)})`];
  }
}

/** One data or secret member: hashed, extracted when asked, and read by its engine's inspector. */
async function inspectMember(
  deps: InspectDeps,
  options: InspectOptions,
  result: VerifyResult,
  entry: TarEntry,
  walked: Walked,
  extracted: Record<string, string>,
  seekable: SeekableTar | undefined,
): Promise<void> {
  const { manifest } = walked;
  const dirDump = directoryDumpOf(manifest, entry.path);
  if (dirDump) {
    let inspection = walked.directoryDumps.get(dirDump.folder);
    if (!inspection) {
      // Without a manifest the dump's own rows are the only counts: read it deep when asked to.
      const deep = options.deep || (!manifest && !!options.deepForBareDumps);
      inspection = new DirectoryDumpInspection(
        deps,
        dirDump.folder,
        { deep, pgBinDir: options.pgBinDir },
        dirDump.component,
        seekable,
      );
      walked.directoryDumps.set(dirDump.folder, inspection);
    }
    const sink = options.extractTo ? await openExtract(options.extractTo, entry.path, extracted) : undefined;
    walked.seen.set(entry.path, await inspection.file(entry.path, entry.stream, sink));
    return;
  }
  const component = manifest?.components.find((c) => c.member === entry.path);
  const isDump = component?.engine === 'postgres' || (!manifest && entry.path.endsWith('.dump'));
  const isMongo = component?.engine === 'mongodb' || (!manifest && /\.archive(\.gz)?$/.test(entry.path));
  const sink = options.extractTo ? await openExtract(options.extractTo, entry.path, extracted) : undefined;
  if (isMongo) {
    const inspected = await inspectMongoStream(entry.stream, entry.path, sink, deps.signal);
    walked.seen.set(entry.path, { size: inspected.bytes, sha256: inspected.sha256 });
    if (inspected.summary) (result.mongo ??= []).push(inspected.summary);
    result.layers.push(...inspected.layers);
    if (inspected.report && component?.engine === 'mongodb')
      result.layers.push(collectionsLayer(component, inspected.report));
  } else if (isDump) {
    const inspected = await inspectPgDumpStream(
      deps,
      entry.stream,
      entry.path,
      { deep: options.deep, pgBinDir: options.pgBinDir },
      sink,
    );
    walked.seen.set(entry.path, { size: inspected.bytes, sha256: inspected.sha256 });
    result.pgDump = inspected.summary;
    result.layers.push(...inspected.layers);
    if (inspected.summary && manifest && component?.engine === 'postgres')
      result.layers.push(tablesLayer(component, inspected.summary, options.deep));
  } else {
    const h = new HashingStream();
    if (sink) {
      entry.stream.pipe(h).pipe(sink);
      await finished(sink);
    } else {
      for await (const chunk of entry.stream.pipe(h)) void chunk;
    }
    walked.seen.set(entry.path, { size: h.bytes, sha256: h.digest() });
  }
}

/** Every manifest member present with its size and recorded sha256; SHA256SUMS consistent and last. */
function checkMembers(manifest: Manifest, walked: Walked): string[] {
  const { seen, checksums } = walked;
  const problems: string[] = [];
  const sums = checksums?.sums;
  if (manifest.checksums === CHECKSUMS_MEMBER) {
    if (!checksums) problems.push(`${CHECKSUMS_MEMBER} is missing: the bundle ends early (truncated?)`);
    else {
      problems.push(...checksums.problems.map((p) => `${CHECKSUMS_MEMBER}: ${p}`));
      if (walked.afterChecksums.length)
        problems.push(`${walked.afterChecksums.join(', ')} follow ${CHECKSUMS_MEMBER}, which must be last`);
      if (sums!.get(MANIFEST_MEMBER) !== seen.get(MANIFEST_MEMBER)?.sha256) {
        problems.push(
          `${MANIFEST_MEMBER} sha256 differs from ${CHECKSUMS_MEMBER} (the manifest was changed)`,
        );
      }
      for (const path of sums!.keys()) {
        if (path !== MANIFEST_MEMBER && !manifest.members.some((m) => m.path === path)) {
          problems.push(`${CHECKSUMS_MEMBER} lists ${path}, which the manifest does not`);
        }
      }
    }
  }
  for (const m of manifest.members) {
    const got = seen.get(m.path);
    const expected = m.sha256 ?? sums?.get(m.path);
    if (!got) problems.push(`${m.path} is missing`);
    else if (got.size !== m.sizeBytes)
      problems.push(`${m.path} has ${got.size} bytes, the manifest says ${m.sizeBytes}`);
    else if (!expected) problems.push(`${m.path} has no recorded sha256`);
    else if (got.sha256 !== expected)
      problems.push(`${m.path} sha256 differs from the one recorded at backup time (corrupted)`);
  }
  for (const path of seen.keys()) {
    if (path !== MANIFEST_MEMBER && !manifest.members.some((m) => m.path === path)) {
      problems.push(`${path} is not listed in the manifest`);
    }
  }
  return problems;
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
