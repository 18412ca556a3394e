/**
 * The PostgreSQL layers of directory-format dumps: inside a dbdrill bundle (a folder member such
 * as `postgres.dir/`), inside a `-Fd` tarball made by another tool, or as a bare directory on
 * disk. Each file is hashed (for the member checksums), optionally extracted for the drill, and
 * read by the native directory reader in the same pass; `pg_restore --list` cross-checks toc.dat.
 * The inspection module places these layers among the bundle's; this file knows no verdicts.
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import type { Writable } from 'node:stream';

import type { Manifest, PostgresComponent } from '../../bundle/manifest.js';
import { OffThreadSha256 } from '../../bundle/sha256-worker.js';
import { ChunkHandoff, passTransient } from '../../bundle/stream-utils.js';
import type { TarEntry, TarMemberSpan } from '../../bundle/tar.js';
import { messageOf } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { ProcessRunner } from '../../process.js';
import type { VerifyLayer } from '../../verify-layer.js';
import type { PgDumpSummary } from './inspect.js';
import type { PgClientChoice } from '../../options/tool-options.js';
import { resolvePgClient, type PgClient, type PgClientPorts } from './pg-client.js';
import {
  PgDumpDirectoryReader,
  TOC_FILE,
  isDirectoryDumpFile,
  readPgDumpDirectory,
} from './pgdump-directory.js';
import { readPgDumpDirectoryToc, type PgDumpHeader, type PgDumpReport } from './pgdump-reader.js';
import { minPgRestoreMajor } from './restore.js';

export interface DirectoryInspectDeps {
  runner: ProcessRunner;
  logger?: Logger;
  searchRoots?: string[];
  signal?: AbortSignal;
  pgClientPorts?: PgClientPorts;
}

export interface DirectoryInspectOptions {
  deep: boolean;
  pgBinDir?: string;
  pgClient?: PgClientChoice;
}

/** toc.dat is kept for `pg_restore --list` up to this size (it holds no table data). */
const MAX_TOC_COPY = 64 * 1024 * 1024;

/**
 * Which directory dump a bundle member belongs to: the component whose folder holds it, or
 * (no manifest: a tarball from another tool) the folder of any file named like pg_dump -Fd's.
 */
export function directoryDumpOf(
  manifest: Manifest | undefined,
  path: string,
): { folder: string; component?: PostgresComponent } | undefined {
  if (manifest) {
    const component = manifest.components.find(
      (c): c is PostgresComponent =>
        c.engine === 'postgres' && c.format === 'directory' && path.startsWith(c.member + '/'),
    );
    return component ? { folder: component.member, component } : undefined;
  }
  const base = posix.basename(path);
  return isDirectoryDumpFile(base)
    ? { folder: posix.dirname(path) === '.' ? '' : posix.dirname(path) }
    : undefined;
}

/**
 * The tar a dump's members come from, when it is a local plain file: each data file can then be
 * inflated from its own offset while the walk goes on, several at once.
 */
export interface SeekableTar {
  path: string;
  members: ReadonlyMap<string, TarMemberSpan>;
}

/**
 * Data files read apart at once: one more than the cores, at least three. The reader inflates at
 * most one per core at a time; the extra lane has its first chunk read when a job ends.
 */
const APART_MIN_LANES = 3;

/** A data file of a directory dump (not toc.dat, large-object TOCs or blobs). */
const DATA_FILE_RE = /^\d+\.dat(\.gz|\.lz4|\.zst)?$/;

/** One directory dump being read from a stream of tar members. */
export class DirectoryDumpInspection {
  private readonly reader: PgDumpDirectoryReader;
  private tocCopy: Buffer[] | undefined = [];
  private tocCopyBytes = 0;
  /** `pg_restore --list` of toc.dat, started as soon as toc.dat has been read. */
  private listing?: Promise<Listing>;
  /** Data files being inflated from the tar file by offset, apart from the walk. */
  private readonly apart: Promise<void>[] = [];
  /** Names (relative to the folder) queued or read apart: the walk only hashes these. */
  private readonly apartNames = new Set<string>();
  private readonly apartQueue: { name: string; span: TarMemberSpan }[] = [];
  private apartRunning = 0;
  private readonly apartLimit = Math.max(APART_MIN_LANES, Math.min(4, availableParallelism() + 1));
  /** Names the walk has seen: a second member of the same name goes to the reader, which reports it. */
  private readonly walked = new Set<string>();
  files = 0;

  constructor(
    private readonly deps: DirectoryInspectDeps,
    /** The folder member (`postgres.dir`), or '' when the files sit at the tar's root. */
    readonly folder: string,
    private readonly options: DirectoryInspectOptions,
    readonly component?: PostgresComponent,
    private readonly seekable?: SeekableTar,
  ) {
    this.reader = new PgDumpDirectoryReader({ deep: options.deep, signal: deps.signal });
  }

  /**
   * Reads one member to its end; returns its size and sha256. Its chunks (`member.chunks()`, maybe
   * one reused buffer) are hashed, written to `sink` and handed to the native reader, each before
   * the next is read. With a seekable tar and deep, a data file is only hashed (and extracted) here:
   * the reader inflates it from the file by offset meanwhile (`queueAllApart`).
   */
  async file(member: TarEntry, sink?: Writable): Promise<{ size: number; sha256: string }> {
    const name = this.folder ? member.path.slice(this.folder.length + 1) : member.path;
    const isToc = name === TOC_FILE;
    this.files++;
    // on the shared sha256 worker or in place (sha256-worker.ts), beside the stored object's hash
    const hash = new OffThreadSha256();
    const repeated = this.walked.has(name);
    this.walked.add(name);
    if (!repeated && !this.apartNames.has(name)) {
      const span = this.apartSpan(name);
      // read before toc.dat (a tar from another tool): counted anyway, judged once the TOC is known
      if (span) this.queueApart([{ name, span }]);
    }
    // read apart, or the reader already failed: the walk only hashes (and extracts) this file
    const toReader = !this.reader.failed && (repeated || !this.apartNames.has(name));
    const handoff = toReader ? new ChunkHandoff() : undefined;
    const reading = handoff
      ? this.reader
          .addFile(name, handoff)
          // the reader keeps the first failure for finish(); the rest of the file is only hashed
          .catch(() => undefined)
          .finally(() => handoff.close())
      : Promise.resolve();
    const size = await passTransient(member.chunks(), {
      hash,
      sink,
      reader: handoff,
      also: (chunk) => {
        if (!isToc || !this.tocCopy) return;
        this.tocCopyBytes += chunk.length;
        if (this.tocCopyBytes > MAX_TOC_COPY) this.tocCopy = undefined;
        else this.tocCopy.push(Buffer.from(chunk));
      },
    });
    if (isToc && this.tocCopy && !this.listing) {
      const toc = Buffer.concat(this.tocCopy);
      this.listing = listToc(this.deps, this.options, toc, { toc });
      this.listing.catch(() => undefined);
    }
    await reading;
    if (isToc && !repeated) this.queueAllApart();
    return { size, sha256: await hash.digest() };
  }

  /** The byte range of a non-empty data file of this dump in the seekable tar, when deep. */
  private apartSpan(name: string): TarMemberSpan | undefined {
    if (!this.options.deep || !this.seekable || !DATA_FILE_RE.test(name)) return undefined;
    const found = this.seekable.members.get(this.folder ? `${this.folder}/${name}` : name);
    // an empty member has no byte range to open; the stream path reports it as before
    return found && found.size > 0 ? found : undefined;
  }

  /**
   * Once toc.dat is known, every data file of the dump is queued from the tar's index, largest
   * first, and the walk only hashes them. Started as the walk reached them, with a slot free, a
   * large table late in dump-id order waited behind small ones and then inflated alone on one core.
   */
  private queueAllApart(): void {
    if (!this.seekable) return;
    const prefix = this.folder ? `${this.folder}/` : '';
    const files: { name: string; span: TarMemberSpan }[] = [];
    for (const path of this.seekable.members.keys()) {
      if (!path.startsWith(prefix)) continue;
      const name = path.slice(prefix.length);
      if (name.includes('/') || this.walked.has(name) || this.apartNames.has(name)) continue;
      const span = this.apartSpan(name);
      if (span) files.push({ name, span });
    }
    this.queueApart(files.sort((a, b) => b.span.size - a.span.size));
  }

  private queueApart(files: { name: string; span: TarMemberSpan }[]): void {
    for (const f of files) {
      this.apartNames.add(f.name);
      this.apartQueue.push(f);
    }
    while (this.apartRunning < this.apartLimit && this.apartQueue.length) {
      const next = this.apartQueue.shift()!;
      this.apart.push(this.readApart(next.name, next.span));
    }
  }

  /** Inflates one data file from the tar file by offset, then starts the next queued one. */
  private async readApart(name: string, span: TarMemberSpan): Promise<void> {
    this.apartRunning++;
    try {
      const input = this.reader.fileInput(this.seekable!.path, {
        start: span.offset,
        end: span.offset + span.size,
      });
      if (!this.reader.failed) await this.reader.addFile(name, input);
    } catch {
      // the reader keeps the first failure for finish()
    } finally {
      this.apartRunning--;
    }
    this.queueApart([]);
  }

  /** After the last member: the layers and, when the dump reads, its summary. */
  async finish(): Promise<{ summary?: PgDumpSummary; layers: VerifyLayer[] }> {
    let report: PgDumpReport | undefined;
    let error: unknown;
    try {
      // each read apart queues the next before it settles, so the list is complete once all settle
      for (let i = 0; i < this.apart.length; i++) await this.apart[i];
      report = await this.reader.finish();
    } catch (err) {
      error = err;
    }
    const member = this.folder || '(tar root)';
    const out = dumpLayers(member, report, error, this.reader.tocHeader, this.options.deep);
    out.layers.push(listLayer(await this.listing, report));
    return out;
  }
}

/**
 * The dump layers of a bare `pg_dump -Fd` directory on disk (`dump header and TOC`, `data
 * blocks`, `pg_restore --list`), read in place; the caller adds what a bare dump has instead of a
 * bundle's layers.
 */
export async function inspectPgDumpDirectoryPath(
  deps: DirectoryInspectDeps,
  dir: string,
  options: DirectoryInspectOptions,
): Promise<{ summary?: PgDumpSummary; layers: VerifyLayer[] }> {
  let report: PgDumpReport | undefined;
  let error: unknown;
  // pg_restore --list reads only toc.dat: it runs while the native reader inflates the data files
  const head = await readHead(join(dir, TOC_FILE), 8);
  const listing = listToc(deps, options, head, { dir });
  listing.catch(() => undefined);
  try {
    report = await readPgDumpDirectory(dir, { deep: options.deep, signal: deps.signal });
  } catch (err) {
    error = err;
  }
  // On failure the header still tells what the dump is (toc.dat is small).
  const header = report
    ? undefined
    : await readPgDumpDirectoryToc(createReadStream(join(dir, TOC_FILE)))
        .then((t) => t.header)
        .catch(() => undefined);
  const out = dumpLayers(dir, report, error, header, options.deep);
  out.layers.push(listLayer(await listing, report));
  return out;
}

function compressionText(h: PgDumpHeader): string {
  return (
    h.compression.algorithm + (h.compression.level !== undefined ? ` (level ${h.compression.level})` : '')
  );
}

function dumpLayers(
  member: string,
  report: PgDumpReport | undefined,
  error: unknown,
  header: PgDumpHeader | undefined,
  deep: boolean,
): { summary?: PgDumpSummary; layers: VerifyLayer[] } {
  const layers: VerifyLayer[] = [];
  const h = report?.header ?? header;
  if (!h) {
    layers.push({ name: 'dump header and TOC', ok: false, detail: messageOf(error) });
    return { layers };
  }
  const tocEntries = report?.toc.length;
  layers.push({
    name: 'dump header and TOC',
    ok: true,
    detail: `directory-format dump (pg_dump -Fd), archive ${h.archiveVersion}, ${compressionText(h)}, database "${h.database}", server ${h.serverVersion}, pg_dump ${h.pgDumpVersion}${tocEntries !== undefined ? `, ${tocEntries} TOC entries` : ''}`,
  });
  if (!report) {
    layers.push({ name: 'data blocks', ok: false, detail: messageOf(error) });
    return { layers };
  }
  const rows: Record<string, number> = {};
  for (const b of report.blocks)
    if (b.kind === 'data' && b.rows !== undefined && b.entry)
      rows[`${b.entry.namespace}.${b.entry.tag}`] = b.rows;
  if (deep && report.deepUnsupported) {
    layers.push({ name: 'data blocks', ok: false, detail: `cannot inflate: ${report.deepUnsupported}` });
  } else {
    const totalRows = Object.values(rows).reduce((a, b) => a + b, 0);
    const inflated = report.blocks.reduce((n, b) => n + (b.uncompressedBytes ?? 0), 0);
    layers.push({
      name: 'data blocks',
      ok: true,
      detail: deep
        ? `${report.blocks.length} data file set(s) inflated to the end, several at once (${inflated} bytes, ${totalRows} rows of COPY data)`
        : `${report.blocks.length} data file set(s): exactly one file for every TOC entry with data, nothing extra (use deep to inflate them)`,
    });
  }
  const summary: PgDumpSummary = {
    member,
    archiveVersion: h.archiveVersion,
    compression: compressionText(h),
    database: h.database,
    serverVersion: h.serverVersion,
    pgDumpVersion: h.pgDumpVersion,
    tocEntries: report.toc.length,
    dataBlocks: report.blocks.length,
    rows: deep ? rows : undefined,
    report,
  };
  return { summary, layers };
}

/** What `pg_restore --list` said of toc.dat, or the finished layer when it could not say. */
type Listing = { label: string; ids: number[] } | VerifyLayer;

const LIST_LAYER = 'pg_restore --list';

/**
 * The real pg_restore's view of toc.dat (`pg_restore --list <dir>` reads only toc.dat). It runs as
 * soon as toc.dat has been read, beside the data files' inflating, not after them: finding the tool
 * and running it took a quarter of a second at the end of every verify. From a stream, toc.dat is
 * written alone to a private temp dir for it. `head` is toc.dat's first bytes (the archive header,
 * whose 7th byte is the format's minor version).
 */
async function listToc(
  deps: DirectoryInspectDeps,
  options: DirectoryInspectOptions,
  head: Buffer | undefined,
  from: { dir: string } | { toc: Buffer },
): Promise<Listing> {
  const minor = head && head.length > 6 ? head[6]! : 12;
  const needed = minPgRestoreMajor(minor);
  let tool: PgClient;
  try {
    tool = await resolvePgClient(deps, {
      tool: 'pg_restore',
      minMajor: needed,
      choice: options.pgClient,
      pgBinDir: options.pgBinDir,
      searchRoots: deps.searchRoots,
      ports: deps.pgClientPorts,
    });
  } catch (err) {
    // Forced docker/apt that cannot work is the user's mistake; otherwise the native reader suffices.
    if (options.pgClient?.mode === 'docker' || options.pgClient?.mode === 'apt') throw err;
    return {
      name: LIST_LAYER,
      ok: true,
      skipped: true,
      detail: `no installed pg_restore reads archive version 1.${minor} (needs PostgreSQL ${needed} or newer); the native reader covers this dump alone`,
    };
  }
  let temp: string | undefined;
  try {
    let dir: string;
    if ('dir' in from) dir = from.dir;
    else {
      temp = await mkdtemp(join(tmpdir(), 'dbdrill-toc-'));
      await writeFile(join(temp, TOC_FILE), from.toc, { mode: 0o600 });
      dir = temp;
    }
    const run = tool.invocation(['--list', dir], { mounts: [dir] });
    const r = await deps.runner.run(run.command, run.args, { quiet: true, signal: deps.signal });
    const label = `pg_restore ${tool.version}`;
    if (r.code !== 0) {
      return {
        name: LIST_LAYER,
        ok: false,
        detail: `${label} --list failed: ${r.stderr.trim().split('\n').pop()}`,
      };
    }
    return { label, ids: [...r.stdout.matchAll(/^(\d+);/gm)].map((m) => Number(m[1])) };
  } catch (err) {
    return { name: LIST_LAYER, ok: false, detail: `cannot run pg_restore --list: ${messageOf(err)}` };
  } finally {
    if (temp) await rm(temp, { recursive: true, force: true });
  }
}

/** A file's first bytes; undefined when it cannot be read (the reader reports why). */
async function readHead(file: string, bytes: number): Promise<Buffer | undefined> {
  try {
    const handle = await open(file, 'r');
    try {
      const { buffer, bytesRead } = await handle.read(Buffer.alloc(bytes), 0, bytes, 0);
      return buffer.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  } catch {
    return undefined;
  }
}

/** Every id pg_restore lists must be one the native reader found. */
function listLayer(listing: Listing | undefined, report: PgDumpReport | undefined): VerifyLayer {
  if (!listing)
    return {
      name: LIST_LAYER,
      ok: true,
      skipped: true,
      detail: 'toc.dat is too large to hand to pg_restore separately',
    };
  if ('name' in listing) return listing;
  const { label, ids } = listing;
  if (!report) return { name: LIST_LAYER, ok: true, detail: `${label} lists ${ids.length} entries` };
  const known = new Set(report.toc.map((e) => e.dumpId));
  const unknown = ids.filter((id) => !known.has(id));
  return {
    name: LIST_LAYER,
    ok: unknown.length === 0,
    detail: unknown.length
      ? `pg_restore lists dump ids the native reader did not find: ${unknown.slice(0, 5).join(', ')}`
      : `${label} lists ${ids.length} entries, all found by the native reader`,
  };
}
