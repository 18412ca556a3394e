/**
 * A native reader of directory-format dumps (`pg_dump -Fd`): `toc.dat` (the custom format's
 * header and TOC, each entry naming its data file), one file per table (`<dumpId>.dat`, with
 * `.gz`, `.lz4` or `.zst` when compressed), and for large objects a plain-text TOC
 * (`blobs.toc`, or `blobs_<dumpId>.toc` from archive 1.16) listing `blob_<oid>.dat` files.
 *
 * Files arrive one at a time in any order (a dbdrill bundle puts toc.dat first; a tarball made
 * by another tool may not), from a tar stream or a directory on disk. Each is checked as it
 * streams and, in deep mode, inflated on the shared pool while the next one is read, so several
 * files inflate at once and memory stays bounded by the pool's budget, never by a file's size.
 * The cross-checks that need the whole set (every entry has exactly one file, no file is left
 * over) run in `finish`.
 */
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import zlib from 'node:zlib';

import { readFileTransient } from '../../bundle/stream-utils.js';

import {
  CopyRowCounter,
  InflateFailure,
  InflatePool,
  decompressSupport,
  type DecompressAlgorithm,
  type InflateJob,
} from './pgdump-inflate.js';
import {
  PgDumpFormatError,
  describeEntry,
  expectsData,
  readPgDumpDirectoryToc,
  type PgDataBlock,
  type PgDumpHeader,
  type PgDumpReport,
  type PgTocEntry,
  type ReadPgDumpOptions,
} from './pgdump-reader.js';

export const TOC_FILE = 'toc.dat';
const DATA_RE = /^(\d+\.dat)(\.gz|\.lz4|\.zst)?$/;
const BLOB_RE = /^(blob_(\d+)\.dat)(\.gz|\.lz4|\.zst)?$/;
const BLOBS_TOC_RE = /^(blobs(?:_\d+)?\.toc)(\.gz)?$/;
/** A blobs TOC line is ~25 bytes: 256 MiB is ten million large objects. */
const MAX_BLOBS_TOC = 256 * 1024 * 1024;
const DEFAULT_MAX_BUFFERED_BYTES = 8 * 1024 * 1024;
/** Magic numbers of the compressed files, checked even without deep. */
const MAGIC: Record<string, Buffer> = {
  '.gz': Buffer.from([0x1f, 0x8b]),
  '.lz4': Buffer.from([0x04, 0x22, 0x4d, 0x18]),
  '.zst': Buffer.from([0x28, 0xb5, 0x2f, 0xfd]),
};
const ALGORITHM_OF: Record<string, DecompressAlgorithm> = {
  '.gz': 'gzip-file',
  '.lz4': 'lz4',
  '.zst': 'zstd',
};
const ALGORITHM_NAME: Record<string, 'gzip' | 'lz4' | 'zstd'> = {
  '.gz': 'gzip',
  '.lz4': 'lz4',
  '.zst': 'zstd',
};

/**
 * A directory dump's files in the order they go into a bundle: toc.dat first (a reader knows the
 * dump before its data arrives), table data by dump id, then each large-object TOC before its blobs.
 */
export function directoryBundleOrder(names: string[]): string[] {
  const rank = (n: string): [number, number] => {
    if (n === 'toc.dat') return [0, 0];
    const data = /^(\d+)\.dat/.exec(n);
    if (data) return [1, Number(data[1])];
    if (/^blobs(_\d+)?\.toc/.test(n)) return [2, Number(/_(\d+)/.exec(n)?.[1] ?? 0)];
    const blob = /^blob_(\d+)\.dat/.exec(n);
    if (blob) return [3, Number(blob[1])];
    return [4, 0];
  };
  return [...names].sort((a, b) => {
    const [ka, na] = rank(a);
    const [kb, nb] = rank(b);
    return ka - kb || na - nb || (a < b ? -1 : a > b ? 1 : 0);
  });
}

/** Whether a file name is one pg_dump -Fd writes (used to spot a -Fd dump inside a foreign tar). */
export function isDirectoryDumpFile(name: string): boolean {
  return name === TOC_FILE || DATA_RE.test(name) || BLOB_RE.test(name) || BLOBS_TOC_RE.test(name);
}

interface FileState {
  name: string;
  /** The name without its compression suffix, as the TOC (or a blobs TOC) records it. */
  base: string;
  kind: 'data' | 'blob' | 'blobs-toc';
  suffix: string;
  bytes: number;
  uncompressedBytes?: number;
  counter?: CopyRowCounter;
}

export class PgDumpDirectoryReader {
  private header?: PgDumpHeader;
  private toc?: PgTocEntry[];
  private byFile = new Map<string, PgTocEntry>();
  private readonly files: FileState[] = [];
  private readonly others: string[] = [];
  /** blobs TOC base name -> (blob file base name -> oid) */
  private readonly blobTocs = new Map<string, Map<string, number>>();
  private pool?: InflatePool;
  private readonly deepUnsupported = new Set<string>();
  private failure?: unknown;
  private bytes = 0;

  constructor(private readonly options: ReadPgDumpOptions = {}) {
    if (options.deep) {
      const concurrency = Math.max(
        1,
        Math.floor(options.concurrency ?? Math.max(2, Math.min(4, availableParallelism()))),
      );
      this.pool = new InflatePool(
        concurrency,
        options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES,
        options.signal,
      );
    }
  }

  /**
   * A byte range of a file on disk, as input for `addFile`: read deep, into the inflate pool's
   * own batches, which zlib then takes without a copy; otherwise through one reused buffer.
   */
  fileInput(file: string, range: { start?: number; end?: number } = {}): AsyncIterable<Buffer> {
    return this.pool ? this.pool.readFile(file, range) : readFileTransient(file, range);
  }

  /** The header of toc.dat, once read (also when the dump fails later). */
  get tocHeader(): PgDumpHeader | undefined {
    return this.header;
  }

  /** The first problem found so far (the rest of the files need only be drained). */
  get failed(): boolean {
    return this.failure !== undefined || !!this.pool?.failure;
  }

  /**
   * Reads one file of the dump (its name relative to the dump directory) to its end. Throws
   * PgDumpFormatError for a file that cannot be right whatever else arrives. A chunk is done with
   * once the iterator is advanced (what is kept is copied), so `input` may refill one buffer.
   */
  async addFile(name: string, input: AsyncIterable<Buffer | Uint8Array>): Promise<void> {
    try {
      await this.read(name, input);
    } catch (err) {
      const e = toFormatError(err);
      this.failure ??= e;
      throw e;
    }
  }

  private async read(name: string, input: AsyncIterable<Buffer | Uint8Array>): Promise<void> {
    this.options.signal?.throwIfAborted();
    if (name === TOC_FILE) {
      if (this.toc) throw new PgDumpFormatError('the dump directory has two toc.dat files', 0);
      const counted = countBytes(input, (n) => (this.bytes += n));
      const { header, toc } = await readPgDumpDirectoryToc(counted).catch((err: unknown) => {
        throw err instanceof PgDumpFormatError
          ? new PgDumpFormatError(`toc.dat: ${err.message}`, err.offset, err.missingBlocks)
          : err;
      });
      this.header = header;
      this.toc = toc;
      for (const e of toc) if (e.dataFile) this.byFile.set(e.dataFile, e);
      return;
    }
    const data = DATA_RE.exec(name);
    const blob = data ? null : BLOB_RE.exec(name);
    const blobs = data || blob ? null : BLOBS_TOC_RE.exec(name);
    if (!data && !blob && !blobs) {
      this.others.push(name);
      for await (const chunk of input) this.bytes += chunk.length;
      return;
    }
    if (blobs) {
      await this.readBlobsToc(name, blobs[1]!, blobs[2] ?? '', input);
      return;
    }
    const base = (data ?? blob)![1]!;
    const suffix = (data ? data[2] : blob![3]) ?? '';
    const file: FileState = { name, base, kind: data ? 'data' : 'blob', suffix, bytes: 0 };
    this.files.push(file);
    const entry = data ? this.byFile.get(base) : undefined;
    const label = `${entry ? describeEntry(entry) + ', ' : ''}file ${name}`;
    const deep = !!this.options.deep;
    const unsupported = suffix ? decompressSupport(ALGORITHM_NAME[suffix]!) : undefined;
    if (deep && unsupported) this.deepUnsupported.add(unsupported);
    // With the TOC known only COPY data is counted; a file read before toc.dat is counted anyway
    // and the count used only if its entry turns out to hold COPY data.
    const counted = data && (!this.toc || !!entry?.copyStmt);
    if (deep && !unsupported) {
      file.uncompressedBytes = 0;
      if (counted) file.counter = new CopyRowCounter();
    }
    let job: InflateJob | undefined;
    if (deep && !unsupported && suffix && this.pool) {
      job = await this.pool.start(
        ALGORITHM_OF[suffix]!,
        label,
        file.kind === 'blob',
        file.counter,
        (r) => (file.uncompressedBytes = r.uncompressedBytes),
        !!this.toc,
      );
    }
    const magic = MAGIC[suffix];
    let head = Buffer.alloc(0);
    for await (const raw of input) {
      const chunk = Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
      if (magic && head.length < magic.length) {
        head = Buffer.concat([head, chunk.subarray(0, magic.length - head.length)]);
        if (head.length >= magic.length && !head.equals(magic)) {
          throw new PgDumpFormatError(
            `${label} does not start like a ${suffix.slice(1)} file (it starts with ${head.toString('hex')}): corrupted or misnamed`,
            0,
          );
        }
      }
      const at = file.bytes;
      file.bytes += chunk.length;
      this.bytes += chunk.length;
      if (job) {
        job.write(chunk, at);
        if (this.pool!.failure || this.pool!.overBudget()) await this.pool!.throttle();
      } else if (deep && !suffix && !unsupported) {
        file.uncompressedBytes! += chunk.length;
        file.counter?.feed(chunk);
      }
    }
    if (magic && head.length < magic.length)
      throw new PgDumpFormatError(
        `${label} is truncated: ${file.bytes} bytes, not even a header`,
        file.bytes,
      );
    if (job) job.end();
    if (deep && !suffix && file.counter && this.toc && !file.counter.ended) {
      throw new PgDumpFormatError(
        `the COPY data of ${label} does not end with pg_dump's "\\." end-of-data line`,
        file.bytes,
      );
    }
  }

  private async readBlobsToc(
    name: string,
    base: string,
    suffix: string,
    input: AsyncIterable<Buffer | Uint8Array>,
  ): Promise<void> {
    this.files.push({ name, base, kind: 'blobs-toc', suffix, bytes: 0 });
    const parts: Buffer[] = [];
    let n = 0;
    for await (const chunk of input) {
      n += chunk.length;
      this.bytes += chunk.length;
      if (n > MAX_BLOBS_TOC) throw new PgDumpFormatError(`${name} is larger than ${MAX_BLOBS_TOC} bytes`, n);
      parts.push(Buffer.from(chunk));
    }
    let text: string;
    try {
      text = (suffix ? zlib.gunzipSync(Buffer.concat(parts)) : Buffer.concat(parts)).toString('utf8');
    } catch (err) {
      throw new PgDumpFormatError(`${name} cannot be inflated: ${(err as Error).message}`, 0);
    }
    const listed = new Map<string, number>();
    let line = 0;
    for (const l of text.split('\n')) {
      line++;
      if (!l) continue;
      const m = /^(\d+) (blob_(\d+)\.dat)$/.exec(l);
      if (!m || m[1] !== m[3]) {
        throw new PgDumpFormatError(
          `${name} line ${line} is not "<oid> blob_<oid>.dat": ${JSON.stringify(l.slice(0, 60))}`,
          0,
        );
      }
      if (listed.has(m[2]!)) throw new PgDumpFormatError(`${name} lists large object ${m[1]} twice`, 0);
      listed.set(m[2]!, Number(m[1]));
    }
    if (!text.endsWith('\n') && text.length)
      throw new PgDumpFormatError(`${name} is truncated (no final newline)`, n);
    this.blobTocs.set(base, listed);
  }

  /** After the last file: waits for the inflaters, cross-checks the set, returns the report. */
  async finish(): Promise<PgDumpReport> {
    try {
      if (this.failure) throw this.failure;
      await this.pool?.drain();
      if (!this.toc || !this.header) {
        throw new PgDumpFormatError(
          'toc.dat is missing: not a complete directory-format dump (pg_dump -Fd)',
          0,
        );
      }
      return this.crossCheck(this.header, this.toc);
    } catch (err) {
      if (this.pool?.failure && !(err instanceof DOMException)) throw toFormatError(this.pool.failure);
      throw toFormatError(err);
    } finally {
      this.destroy();
    }
  }

  destroy(): void {
    this.pool?.destroy();
  }

  private crossCheck(header: PgDumpHeader, toc: PgTocEntry[]): PgDumpReport {
    const byBase = new Map<string, FileState[]>();
    for (const f of this.files) byBase.set(f.base, [...(byBase.get(f.base) ?? []), f]);
    const blocks: PgDataBlock[] = [];
    const missing: PgTocEntry[] = [];
    const problems: string[] = [];
    const claimed = new Set<FileState>();
    const claim = (base: string, what: string): FileState | undefined => {
      const found = byBase.get(base) ?? [];
      if (found.length > 1)
        problems.push(`${what} has ${found.length} files: ${found.map((f) => f.name).join(', ')}`);
      for (const f of found) claimed.add(f);
      return found[0];
    };
    const deep = !!this.options.deep;
    for (const e of toc.filter(expectsData)) {
      const label = describeEntry(e);
      const file = claim(e.dataFile!, label);
      if (!file) {
        missing.push(e);
        continue;
      }
      if (e.desc === 'BLOBS') {
        if (file.kind !== 'blobs-toc') {
          problems.push(`${label} names ${e.dataFile}, which is not a large-object TOC`);
          continue;
        }
        const listed = this.blobTocs.get(file.base) ?? new Map<string, number>();
        const block: PgDataBlock = {
          dumpId: e.dumpId,
          kind: 'blobs',
          compressedBytes: 0,
          chunks: 0,
          largeObjects: 0,
          entry: e,
          ...(deep ? { uncompressedBytes: 0 } : {}),
        };
        for (const [blobBase, oid] of listed) {
          const blob = claim(blobBase, `large object ${oid} of ${label}`);
          if (!blob) {
            problems.push(`large object ${oid} of ${label}: ${blobBase} is missing`);
            continue;
          }
          block.largeObjects!++;
          block.chunks++;
          block.compressedBytes += blob.bytes;
          if (block.uncompressedBytes !== undefined) block.uncompressedBytes += blob.uncompressedBytes ?? 0;
        }
        blocks.push(block);
        continue;
      }
      if (file.kind !== 'data') {
        problems.push(`${label} names ${e.dataFile}, which is not a table data file`);
        continue;
      }
      const block: PgDataBlock = {
        dumpId: e.dumpId,
        kind: 'data',
        compressedBytes: file.bytes,
        chunks: 1,
        entry: e,
      };
      if (file.uncompressedBytes !== undefined) block.uncompressedBytes = file.uncompressedBytes;
      if (file.counter && e.copyStmt) {
        if (!file.counter.ended) {
          problems.push(
            `the COPY data of ${label}, file ${file.name}, does not end with pg_dump's "\\." end-of-data line`,
          );
        }
        block.rows = file.counter.rows;
      }
      blocks.push(block);
    }
    const extra = [...this.files.filter((f) => !claimed.has(f)).map((f) => f.name), ...this.others];
    if (extra.length) {
      problems.push(
        `${extra.length} file(s) in the dump directory that no TOC entry names: ${extra.slice(0, 5).join(', ')}${extra.length > 5 ? ', …' : ''}`,
      );
    }
    if (missing.length) {
      throw new PgDumpFormatError(
        `${missing.length} data file(s) missing from the dump directory: ${missing
          .slice(0, 5)
          .map((e) => `${describeEntry(e)} (${e.dataFile})`)
          .join(
            ', ',
          )}${missing.length > 5 ? ', …' : ''}${problems.length ? `; also ${problems.join('; ')}` : ''}`,
        0,
        missing,
      );
    }
    if (problems.length) throw new PgDumpFormatError(problems.join('; '), 0);
    return {
      header,
      toc,
      blocks,
      missingBlocks: [],
      bytesRead: this.bytes,
      ...(this.options.deep && this.deepUnsupported.size
        ? { deepUnsupported: [...this.deepUnsupported].join('; ') }
        : {}),
    };
  }
}

/** Counts and copies: the TOC parser keeps slices of its input across chunks. */
async function* countBytes(
  input: AsyncIterable<Buffer | Uint8Array>,
  count: (n: number) => void,
): AsyncIterable<Buffer> {
  for await (const chunk of input) {
    count(chunk.length);
    yield Buffer.from(chunk);
  }
}

function toFormatError(err: unknown): unknown {
  return err instanceof InflateFailure ? new PgDumpFormatError(err.message, err.offset) : err;
}

/** Whether `path` is a directory holding a toc.dat: a bare `pg_dump -Fd` output. */
export async function isDumpDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory() && (await stat(join(path, TOC_FILE))).isFile();
  } catch {
    return false;
  }
}

/**
 * Reads a directory dump on disk: toc.dat first, then the other files, several at once (their
 * inflation overlaps on the threadpool). Subdirectories and anything that is not a regular file
 * count as extra files.
 */
export async function readPgDumpDirectory(
  dir: string,
  options: ReadPgDumpOptions & { readers?: number } = {},
): Promise<PgDumpReport> {
  const reader = new PgDumpDirectoryReader(options);
  try {
    const names = await readdir(dir, { withFileTypes: true });
    if (!names.some((d) => d.name === TOC_FILE && d.isFile())) {
      throw new PgDumpFormatError(`${dir} has no toc.dat: not a directory-format dump (pg_dump -Fd)`, 0);
    }
    await reader.addFile(TOC_FILE, createReadStream(join(dir, TOC_FILE)));
    const rest = names.filter((d) => d.name !== TOC_FILE);
    // Largest first, so the long inflations start early and overlap the short ones.
    const sized = await Promise.all(
      rest.map(async (d) => ({ d, size: d.isFile() ? (await stat(join(dir, d.name))).size : 0 })),
    );
    sized.sort((a, b) => b.size - a.size);
    let next = 0;
    const lanes = Math.max(1, options.readers ?? Math.max(2, Math.min(4, availableParallelism())));
    const lane = async (): Promise<void> => {
      while (next < sized.length && !reader.failed) {
        const { d } = sized[next++]!;
        if (!d.isFile()) {
          await reader.addFile(`${d.name}/`, (async function* () {})());
          continue;
        }
        await reader.addFile(d.name, reader.fileInput(join(dir, d.name)));
      }
    };
    await Promise.all(Array.from({ length: lanes }, lane));
    return await reader.finish();
  } finally {
    reader.destroy();
  }
}
