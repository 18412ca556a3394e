/**
 * A dbdrill bundle's layers: the tar walk (each member hashed, engine members read by their
 * engine's inspector), then what the walk proves: `bundle readable`, `manifest valid`, `member
 * checksums` (against the manifest and the trailing SHA256SUMS), and `secret files`.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';

import { CHECKSUMS_MEMBER, MANIFEST_MEMBER, validateManifest, type Manifest } from '../bundle/manifest.js';
import { writeTransient, type ByteInput } from '../bundle/stream-utils.js';
import { BundleFormatError, indexTarFile, parseSha256Sums, walkTar, type TarEntry } from '../bundle/tar.js';
import type { BundleMemberReader } from '../engines/engine.js';
import { ENGINES } from '../engines/registry.js';
import { messageOf } from '../errors.js';
import { secretsFingerprint } from '../secrets.js';
import { engineInspectContext } from './engine-context.js';
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
  /** One per engine, in the registry's order: the first that claims a member reads it. */
  readers: BundleMemberReader[];
  walkError?: string;
}

export async function inspectBundleMembers(
  deps: InspectDeps,
  options: InspectOptions,
  result: VerifyResult,
  stream: ByteInput,
): Promise<void> {
  const walked = await walkBundle(deps, options, result, stream);
  const { manifest, seen, checksums } = walked;
  result.layers.push({
    name: 'bundle readable',
    ok: !walked.walkError,
    detail: walked.walkError ?? `tar archive with ${seen.size + (checksums ? 1 : 0)} member(s)`,
  });
  const foreign = seen.has(MANIFEST_MEMBER)
    ? undefined
    : walked.readers.map((r) => r.foreignTarball?.()).find((t) => t && t.members === seen.size);
  if (foreign) {
    // Nothing but one engine's dump files: a dump another tool tarred (pg_dump -Fd's files).
    result.kind = foreign.kind;
    result.layers.push(foreign.manifestLayer);
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
  stream: ByteInput,
): Promise<Walked> {
  const extracted: Record<string, string> = {};
  // A local plain bundle read deep: data members can also be read from their own offsets, in parallel.
  const members = options.deep && options.localFile ? await indexTarFile(options.localFile) : undefined;
  const seekable = members && { path: options.localFile!, members };
  const context = engineInspectContext(deps, options, result, () => extracted, seekable);
  const readers = (deps.engines ?? ENGINES).map((e) => e.readMembers(context));
  const walked: Walked = { seen: new Map(), afterChecksums: [], readers };
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
        await inspectMember(options, entry, walked, extracted, result);
        // a member that could not be extracted ends the walk: nothing after it can be restored
        if (result.inconclusive) throw new StopWalk();
      }
    });
  } catch (err) {
    if (!result.inconclusive)
      walked.walkError =
        err instanceof BundleFormatError ? err.message : `bundle cannot be read: ${messageOf(err)}`;
  }
  for (const reader of readers) await reader.finish(walked.manifest);
  if (options.extractTo) result.extracted = extracted;
  return walked;
}

/** Ends the walk after a fault on this runner, which `result.inconclusive` already says. */
class StopWalk extends Error {}

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

/** One data or secret member: hashed, extracted when asked, and read by the engine that claims it. */
async function inspectMember(
  options: InspectOptions,
  entry: TarEntry,
  walked: Walked,
  extracted: Record<string, string>,
  result: VerifyResult,
): Promise<void> {
  const { manifest } = walked;
  const reader = walked.readers.find((r) => r.claims(entry.path, manifest));
  const sink = options.extractTo
    ? await openExtract(options.extractTo, entry.path, extracted, result)
    : undefined;
  if (reader) {
    walked.seen.set(entry.path, await reader.read(entry, sink, manifest));
    return;
  }
  // hashed and written before the next chunk is read: the chunks may be one reused buffer
  const hash = createHash('sha256');
  let size = 0;
  try {
    for await (const chunk of entry.chunks()) {
      hash.update(chunk);
      size += chunk.length;
      if (sink) await writeTransient(sink, chunk);
    }
  } finally {
    sink?.end();
  }
  // a failed write was handed to result.inconclusive as it happened
  if (sink) await finished(sink).catch(() => undefined);
  walked.seen.set(entry.path, { size, sha256: hash.digest('hex') });
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
