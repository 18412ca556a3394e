/**
 * Deep verify's input path without fresh buffers: `readFileTransient` refills one buffer, and the
 * inflate pool copies each chunk into batches of its own, which come back to it once zlib has
 * consumed them. Checked against files made by the real gzip, lz4 and zstd CLIs, fed by a producer
 * that scribbles over every chunk as soon as the next one is asked for: a batch or a chunk kept
 * past its time would inflate to garbage or fail.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import zlib from 'node:zlib';

import { readFileTransient } from '../src/core/bundle/stream-utils.js';
import {
  CopyRowCounter,
  InflatePool,
  type DecompressAlgorithm,
  type InflateResult,
  reuseZlibOutput,
} from '../src/core/engines/postgres/pgdump-inflate.js';
import { Lz4FrameDecoder } from '../src/core/engines/postgres/lz4-frame.js';

const hasZstd = typeof (zlib as unknown as Record<string, unknown>).createZstdDecompress === 'function';

let work: string;
/** COPY text: ROWS lines of random base64 (compresses poorly, so the input spans many batches). */
let plain: string;
const ROWS = 60_000;

beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), 'dbdrill-inflate-reuse-'));
  const lines: string[] = [];
  for (let i = 0; i < ROWS; i++) lines.push(`${i}\t${randomBytes(96).toString('base64')}\n`);
  plain = path.join(work, 'copy.dat');
  // pg_dump ends COPY data with the "\." line and a blank line
  writeFileSync(plain, lines.join('') + '\\.\n\n');
  execFileSync('gzip', ['-1', '-k', '-f', plain]);
  execFileSync('lz4', ['-q', '-BD', '-f', plain, plain + '.lz4']);
  execFileSync('zstd', ['-q', '-1', '-f', plain, '-o', plain + '.zst']);
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Overwrites each chunk with 0xEE once the consumer asks for the next: reuse at its harshest. */
async function* scribbling(chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  for await (const chunk of chunks) {
    yield chunk;
    chunk.fill(0xee);
  }
}

async function inflate(
  file: string,
  algorithm: DecompressAlgorithm,
  maxInflightBytes: number,
): Promise<{ result: InflateResult; counter: CopyRowCounter; pool: InflatePool; chunks: number }> {
  const pool = new InflatePool(2, maxInflightBytes);
  const counter = new CopyRowCounter();
  let result: InflateResult | undefined;
  const job = await pool.start(algorithm, file, false, counter, (r) => (result = r));
  let at = 0;
  let chunks = 0;
  try {
    for await (const chunk of scribbling(readFileTransient(file, { bufferSize: 64 * 1024 }))) {
      job.write(chunk, at);
      at += chunk.length;
      chunks++;
      if (pool.overBudget()) await pool.throttle();
    }
    job.end();
    await pool.drain();
  } finally {
    pool.destroy();
  }
  return { result: result!, counter, pool, chunks };
}

describe('readFileTransient', () => {
  it('yields a byte range through one buffer, and stops early at the end of a short file', async () => {
    const data = randomBytes(300_000);
    const file = path.join(work, 'range.bin');
    writeFileSync(file, data);
    const got: Buffer[] = [];
    const backing = new Set<ArrayBufferLike>();
    for await (const c of readFileTransient(file, { start: 1000, end: 250_001, bufferSize: 65536 })) {
      backing.add(c.buffer);
      got.push(Buffer.from(c));
    }
    expect(Buffer.concat(got).equals(data.subarray(1000, 250_001))).toBe(true);
    expect(got.length).toBeGreaterThan(3);
    expect(backing.size).toBe(1);
    let n = 0;
    for await (const c of readFileTransient(file, { start: 290_000, end: 1 << 30 })) n += c.length;
    expect(n).toBe(10_000);
  });
});

describe('the inflate pool takes chunks it must not keep', () => {
  const kinds: [string, DecompressAlgorithm][] = [
    ['.gz', 'gzip-file'],
    ['.lz4', 'lz4'],
    ...(hasZstd ? ([['.zst', 'zstd']] as [string, DecompressAlgorithm][]) : []),
  ];

  it.each(kinds)(
    '%s from the real CLI: every byte and row, though each chunk is overwritten',
    async (ext, algorithm) => {
      const file = plain + ext;
      // the file the CLI compressed is the oracle
      const expectedBytes = statSync(plain).size;
      const { result, counter, chunks } = await inflate(file, algorithm, 1 << 20);
      expect(chunks).toBeGreaterThan(20);
      expect(result.uncompressedBytes).toBe(expectedBytes);
      expect(counter.rows).toBe(ROWS);
      expect(counter.ended).toBe(true);
    },
  );

  it('recycles its input batches: a few allocated however long the file', async () => {
    const { result, pool } = await inflate(plain + '.gz', 'gzip-file', 1 << 20);
    // the compressed file spans this many 256 KiB batches; with 1 MiB in flight a handful suffice
    const batches = Math.ceil(result.compressedBytes / (256 * 1024));
    expect(batches).toBeGreaterThan(20);
    expect(pool.batchesAllocated).toBeLessThanOrEqual(8);
  });
});

describe('reuseZlibOutput: one output buffer for a zlib stream read at once', () => {
  const decompressors: [string, string, () => zlib.Gunzip | zlib.Inflate][] = [
    ['gunzip', '.gz', () => zlib.createGunzip({ chunkSize: 64 * 1024 })],
    ...(hasZstd
      ? ([
          [
            'zstd',
            '.zst',
            () =>
              (zlib as unknown as Record<string, (o: object) => zlib.Gunzip>).createZstdDecompress!({
                chunkSize: 64 * 1024,
              }),
          ],
        ] as [string, string, () => zlib.Gunzip][])
      : []),
  ];

  it.each(decompressors)(
    '%s: a synchronous reader gets every byte, all of it written into one buffer',
    async (_name, ext, create) => {
      const z = create();
      reuseZlibOutput(z);
      const hash = createHash('sha256');
      const backing = new Set<ArrayBufferLike>();
      let chunks = 0;
      z.on('data', (d: Buffer) => {
        backing.add(d.buffer);
        hash.update(d);
        chunks++;
      });
      const done = once(z, 'end');
      createReadStream(plain + ext).pipe(z);
      await done;
      // the file the CLI compressed is the oracle
      expect(hash.digest('hex')).toBe(createHash('sha256').update(readFileSync(plain)).digest('hex'));
      expect(chunks).toBeGreaterThan(50);
      // Node.js 20 to 24 have the private field this relies on; a new version without it would
      // fail only this line, and the optimisation would be gone, not the data
      expect(backing.size).toBe(1);
    },
  );

  it('a reader that lets output queue up still gets every byte: queued chunks are never written over', async () => {
    const z = zlib.createGunzip({ chunkSize: 16 * 1024 });
    reuseZlibOutput(z);
    createReadStream(plain + '.gz').pipe(z);
    const hash = createHash('sha256');
    const backing = new Set<ArrayBufferLike>();
    // an async reader: zlib runs ahead while it waits, so output is queued in the stream
    for await (const chunk of z as AsyncIterable<Buffer>) {
      backing.add(chunk.buffer);
      await new Promise((resolve) => setImmediate(resolve));
      hash.update(chunk);
    }
    // output was queued, so fresh buffers were taken
    expect(backing.size).toBeGreaterThan(1);
    expect(hash.digest('hex')).toBe(createHash('sha256').update(readFileSync(plain)).digest('hex'));
  });
});

describe('reuseZlibOutput with a lent buffer: every write from its first byte', () => {
  const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

  it('a synchronous reader gets every byte, each chunk at the start of the lent buffer', async () => {
    const z = zlib.createGunzip({ chunkSize: 16 * 1024 });
    const lent = Buffer.alloc(512 * 1024);
    expect(reuseZlibOutput(z, lent)).toBe(true);
    const hash = createHash('sha256');
    const starts = new Set<number>();
    let foreign = 0;
    let chunks = 0;
    z.on('data', (d: Buffer) => {
      if (d.buffer !== lent.buffer) foreign++;
      starts.add(d.byteOffset - lent.byteOffset);
      hash.update(d);
      chunks++;
    });
    const done = once(z, 'end');
    createReadStream(plain + '.gz', { highWaterMark: 64 * 1024 }).pipe(z);
    await done;
    expect(hash.digest('hex')).toBe(sha(plain));
    expect(chunks).toBeGreaterThan(20);
    // all of it in the lent buffer, and every chunk from its first byte: zlib's offset is reset
    // once its output was read (without the reset, chunks would start further and further in)
    expect(foreign).toBe(0);
    expect([...starts]).toEqual([0]);
  });

  it('a lent buffer smaller than one write fills: zlib continues at its start, every byte arrives', async () => {
    const z = zlib.createGunzip();
    const lent = Buffer.alloc(8 * 1024);
    expect(reuseZlibOutput(z, lent)).toBe(true);
    const hash = createHash('sha256');
    const backing = new Set<ArrayBufferLike>();
    z.on('data', (d: Buffer) => {
      backing.add(d.buffer);
      hash.update(d);
    });
    const done = once(z, 'end');
    createReadStream(plain + '.gz', { highWaterMark: 256 * 1024 }).pipe(z);
    await done;
    expect(hash.digest('hex')).toBe(sha(plain));
    expect(backing.size).toBe(1);
  });

  it('a reader that lets output queue up: zlib is held back, and nothing it held is written over', async () => {
    const z = zlib.createGunzip({ chunkSize: 16 * 1024 });
    const lent = Buffer.alloc(64 * 1024);
    expect(reuseZlibOutput(z, lent)).toBe(true);
    createReadStream(plain + '.gz').pipe(z);
    const hash = createHash('sha256');
    let chunks = 0;
    // An async reader: each chunk is hashed only after a turn of the event loop, while zlib may
    // run. When its readable buffer is full, zlib waits for the reader and then writes on; starting
    // that write at the lent buffer's first byte would overwrite the chunk being held.
    for await (const chunk of z as AsyncIterable<Buffer>) {
      await new Promise((resolve) => setImmediate(resolve));
      hash.update(chunk);
      chunks++;
    }
    expect(chunks).toBeGreaterThan(20);
    expect(hash.digest('hex')).toBe(sha(plain));
  });

  it('the offset starts over only in the synchronous run that moved it, and only with nothing unread', async () => {
    // a stand-in with zlib's three fields, moved by hand as lib/zlib.js moves them
    const z = new PassThrough() as PassThrough & {
      _outBuffer: Buffer;
      _outOffset: number;
      _chunkSize: number;
    };
    Object.assign(z, { _outBuffer: Buffer.alloc(64), _outOffset: 0, _chunkSize: 64 });
    expect(reuseZlibOutput(z)).toBe(true);
    z._outOffset = 10;
    expect(z._outOffset).toBe(0);
    // read in a later turn (as a write deferred until the reader drained): zlib's offset stands
    z._outOffset = 10;
    await Promise.resolve();
    expect(z._outOffset).toBe(10);
    // output still unread: zlib's offset stands
    z.write(Buffer.from('unread'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(z.readableLength).toBeGreaterThan(0);
    z._outOffset = 30;
    expect(z._outOffset).toBe(30);
  });

  it('changes nothing on a stream without the fields it relies on', () => {
    const other = new Lz4FrameDecoder();
    expect(reuseZlibOutput(other, Buffer.alloc(1024))).toBe(false);
    expect(Object.getOwnPropertyDescriptor(other, '_outOffset')).toBeUndefined();
  });

  it('the pool lends one buffer per job in flight, and takes it back only from a stream that ended', async () => {
    const pool = new InflatePool(2, 1 << 20);
    const rows: number[] = [];
    try {
      // eight files, two at a time: two buffers serve them all
      for (let round = 0; round < 4; round++) {
        const jobs = await Promise.all(
          [0, 1].map(async () => {
            const counter = new CopyRowCounter();
            const job = await pool.start('gzip-file', plain + '.gz', false, counter, () =>
              rows.push(counter.rows),
            );
            return job;
          }),
        );
        for (const job of jobs) {
          let at = 0;
          for await (const chunk of pool.readFile(plain + '.gz')) {
            job.write(chunk, at);
            at += chunk.length;
            if (pool.overBudget()) await pool.throttle();
          }
          job.end();
        }
        await pool.drain();
      }
      expect(rows).toEqual(Array(8).fill(ROWS));
      expect(pool.outputsAllocated).toBe(2);
      expect(pool.outputsIdle).toBe(2);

      // a job destroyed mid-stream may still have a write running on the threadpool: its buffer
      // is not given back
      const job = await pool.start('gzip-file', plain + '.gz', false, new CopyRowCounter(), () => {});
      expect(pool.outputsIdle).toBe(1);
      job.write(readFileSync(plain + '.gz').subarray(0, 200_000), 0);
      pool.destroy();
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(pool.outputsIdle).toBe(1);
    } finally {
      pool.destroy();
    }
  });
});

describe("InflatePool.readFile: input read straight into the pool's batches", () => {
  async function inflateFile(
    file: string,
    algorithm: DecompressAlgorithm,
    range: { start?: number; end?: number } = {},
  ): Promise<{ result?: InflateResult; counter: CopyRowCounter; pool: InflatePool; error?: unknown }> {
    const pool = new InflatePool(2, 1 << 20);
    const counter = new CopyRowCounter();
    let result: InflateResult | undefined;
    try {
      const job = await pool.start(algorithm, file, false, counter, (r) => (result = r));
      let at = 0;
      for await (const chunk of pool.readFile(file, range)) {
        job.write(chunk, at);
        at += chunk.length;
        if (pool.failure || pool.overBudget()) await pool.throttle();
      }
      job.end();
      await pool.drain();
      return { result, counter, pool };
    } catch (error) {
      return { counter, pool, error };
    } finally {
      pool.destroy();
    }
  }

  const kinds: [string, DecompressAlgorithm][] = [
    ['.gz', 'gzip-file'],
    ['.lz4', 'lz4'],
    ...(hasZstd ? ([['.zst', 'zstd']] as [string, DecompressAlgorithm][]) : []),
  ];

  it.each(kinds)('%s from the real CLI: every byte and row', async (ext, algorithm) => {
    const { result, counter, pool, error } = await inflateFile(plain + ext, algorithm);
    expect(error).toBeUndefined();
    expect(result!.uncompressedBytes).toBe(statSync(plain).size);
    expect(counter.rows).toBe(ROWS);
    expect(counter.ended).toBe(true);
    const compressed = statSync(plain + ext).size;
    expect(result!.compressedBytes).toBe(compressed);
    // zlib takes the batches as read; the JavaScript LZ4 decoder keeps slices, so it gets copies
    expect(pool.copiedBytes).toBe(algorithm === 'lz4' ? compressed : 0);
    // zlib's batches come back to the pool once consumed; LZ4's copies stay with the decoder
    if (algorithm !== 'lz4') expect(pool.batchesAllocated).toBeLessThanOrEqual(8);
  });

  it('reads only the byte range asked for, as from a tar member', async () => {
    const gz = readFileSync(plain + '.gz');
    const file = path.join(work, 'embedded.bin');
    const before = randomBytes(300_001);
    writeFileSync(file, Buffer.concat([before, gz, randomBytes(70_000)]));
    const { result, counter, error } = await inflateFile(file, 'gzip-file', {
      start: before.length,
      end: before.length + gz.length,
    });
    expect(error).toBeUndefined();
    expect(result!.compressedBytes).toBe(gz.length);
    expect(counter.rows).toBe(ROWS);
  });

  it('a chunk after a partly filled batch is copied, so the bytes keep their order', async () => {
    const pool = new InflatePool(2, 1 << 20);
    const counter = new CopyRowCounter();
    let result: InflateResult | undefined;
    const file = plain + '.gz';
    try {
      const job = await pool.start('gzip-file', file, false, counter, (r) => (result = r));
      const head = readFileSync(file).subarray(0, 1000);
      job.write(Buffer.from(head), 0);
      let at = head.length;
      for await (const chunk of pool.readFile(file, { start: head.length })) {
        job.write(chunk, at);
        at += chunk.length;
        if (pool.overBudget()) await pool.throttle();
      }
      job.end();
      await pool.drain();
      expect(counter.rows).toBe(ROWS);
      expect(result!.uncompressedBytes).toBe(statSync(plain).size);
      expect(pool.copiedBytes).toBe(statSync(file).size);
    } finally {
      pool.destroy();
    }
  });

  it('a flipped byte is still found and named, and the read stops', async () => {
    const gz = Buffer.from(readFileSync(plain + '.gz'));
    gz[Math.floor(gz.length / 2)] ^= 0xff;
    const file = path.join(work, 'flipped.gz');
    writeFileSync(file, gz);
    const { error } = await inflateFile(file, 'gzip-file');
    expect(String(error)).toMatch(
      /corrupted compressed data in .*flipped\.gz at or after byte \d+: zlib says/,
    );
  });
});
