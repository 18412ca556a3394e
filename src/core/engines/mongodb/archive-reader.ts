import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { constants as zlibConstants, createGunzip, gunzipSync } from 'node:zlib';
import { ARCHIVE_MAGIC, ArchiveParser } from './archive-parser.js';
import { MongoArchiveError, type MongoArchiveReport } from './archive-types.js';

export { MongoArchiveError } from './archive-types.js';
export type { MongoArchiveReport, MongoNamespaceReport, MongoDumpDirReport } from './archive-types.js';

const GZIP_ID = [0x1f, 0x8b];

/** Larger inflate output chunks mean fewer parser calls; 256 KiB keeps memory small. */
const INFLATE_CHUNK = 256 * 1024;

export interface ReadMongoArchiveOptions {
  signal?: AbortSignal;
  /** Names the input in error messages (a path or "bundle entry db.archive.gz"). */
  name?: string;
}

/**
 * Reads a whole mongodump archive, plain or gzipped (told apart by the first two bytes, so a
 * `.gz` that is not compressed, or the reverse, still reads), validating every document, the
 * per-namespace CRC-64 and the structure mongorestore relies on. It streams: memory stays at one
 * inflate window plus at most one document split across chunks.
 */
export async function readMongoArchive(
  input: Readable | AsyncIterable<Buffer>,
  options: ReadMongoArchiveOptions = {},
): Promise<MongoArchiveReport> {
  const where = options.name ?? 'mongodump archive';
  const { signal } = options;
  signal?.throwIfAborted();
  const source = (input as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  // Peek far enough to see the gzip ID (first chunks can be tiny).
  const head: Buffer[] = [];
  let headLen = 0;
  let done = false;
  while (headLen < 2) {
    const next = await source.next();
    if (next.done) {
      done = true;
      break;
    }
    const chunk = toBuffer(next.value);
    head.push(chunk);
    headLen += chunk.length;
  }
  const first = Buffer.concat(head);
  const compressed = first.length >= 2 && first[0] === GZIP_ID[0] && first[1] === GZIP_ID[1];
  const parser = new ArchiveParser(
    compressed ? `${where} (gzip; offsets are in the decompressed stream)` : where,
  );

  async function* chunks(): AsyncGenerator<Buffer> {
    if (first.length > 0) yield first;
    if (done) return;
    for (;;) {
      const next = await source.next();
      if (next.done) return;
      yield toBuffer(next.value);
    }
  }

  try {
    if (!compressed) {
      for await (const chunk of chunks()) {
        signal?.throwIfAborted();
        parser.write(chunk);
      }
      return parser.end(false);
    }
    return await readGzip(chunks(), parser, where, signal);
  } finally {
    // Releases (destroys) a Readable we stopped reading early.
    await source.return?.();
  }
}

async function readGzip(
  chunks: AsyncIterable<Buffer>,
  parser: ArchiveParser,
  where: string,
  signal: AbortSignal | undefined,
): Promise<MongoArchiveReport> {
  let compressedBytes = 0;
  async function* counted(): AsyncGenerator<Buffer> {
    for await (const chunk of chunks) {
      compressedBytes += chunk.length;
      yield chunk;
    }
  }
  const gunzip = createGunzip({ chunkSize: INFLATE_CHUNK });
  try {
    await pipeline(
      Readable.from(counted(), { objectMode: false }),
      gunzip,
      async (inflated: AsyncIterable<Buffer>) => {
        for await (const chunk of inflated) parser.write(chunk);
      },
      { signal },
    );
  } catch (error) {
    if (error instanceof MongoArchiveError || signal?.aborted) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && code.startsWith('Z_')) {
      throw new MongoArchiveError(
        `${where}: the gzip layer is corrupt or truncated (${(error as Error).message}) after ${compressedBytes} compressed bytes`,
        compressedBytes,
      );
    }
    throw error;
  }
  // zlib silently drops bytes after the last gzip member (e.g. zero padding); Go's reader, and so
  // mongorestore, would not, and they are no part of the archive.
  if (gunzip.bytesWritten < compressedBytes) {
    throw new MongoArchiveError(
      `${where}: ${compressedBytes - gunzip.bytesWritten} bytes of trailing data after the end of the gzip stream`,
      gunzip.bytesWritten,
    );
  }
  return parser.end(true);
}

function toBuffer(value: unknown): Buffer {
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (typeof value === 'string') return Buffer.from(value);
  throw new TypeError('readMongoArchive: input must yield Buffers');
}

/**
 * True when the bytes start a mongodump archive: the magic number, or a gzip member whose
 * decompressed start is the magic number (a few hundred bytes of gzip are always enough).
 */
export function isMongoArchive(firstBytes: Buffer): boolean {
  return sniffBytes(firstBytes) !== undefined;
}

function sniffBytes(firstBytes: Buffer): 'plain' | 'gzip' | undefined {
  if (firstBytes.length >= 4 && firstBytes.compare(ARCHIVE_MAGIC, 0, 4, 0, 4) === 0) return 'plain';
  if (firstBytes.length >= 2 && firstBytes[0] === GZIP_ID[0] && firstBytes[1] === GZIP_ID[1]) {
    try {
      const start = gunzipSync(firstBytes, { finishFlush: zlibConstants.Z_SYNC_FLUSH });
      if (start.length >= 4 && start.compare(ARCHIVE_MAGIC, 0, 4, 0, 4) === 0) return 'gzip';
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** Looks at the start of a file to tell whether it is a mongodump archive and whether it is gzipped. */
export async function sniffMongoArchive(path: string): Promise<{ isArchive: boolean; compressed: boolean }> {
  const handle = await open(path, 'r');
  try {
    const buf = Buffer.alloc(64 * 1024);
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    const kind = sniffBytes(buf.subarray(0, bytesRead));
    return { isArchive: kind !== undefined, compressed: kind === 'gzip' };
  } finally {
    await handle.close();
  }
}
