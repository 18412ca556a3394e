import { open } from 'node:fs/promises';
import zlib from 'node:zlib';
import type { Transform } from 'node:stream';

import { Lz4FrameDecoder } from './lz4-frame.js';

/**
 * Counts the rows of pg_dump's COPY text: one line per row, ended by the `\.` line that
 * pg_dump always writes. COPY escapes newlines inside values as `\n`, so a raw newline byte
 * always ends a row. Works across arbitrary buffer boundaries without copying.
 */
export class CopyRowCounter {
  rows = 0;
  /** The `\.` end-of-data line was seen. */
  ended = false;
  private lineLen = 0;
  private head0 = -1;
  private head1 = -1;

  feed(buf: Buffer): void {
    if (this.ended) return;
    let start = 0;
    for (;;) {
      const nl = buf.indexOf(10, start);
      if (nl === -1) {
        this.carry(buf, start, buf.length);
        return;
      }
      if (this.lineLen + (nl - start) === 2 && this.isEndMarker(buf, start)) {
        this.ended = true;
        return;
      }
      this.rows++;
      this.lineLen = 0;
      this.head0 = this.head1 = -1;
      start = nl + 1;
    }
  }

  private carry(buf: Buffer, from: number, to: number): void {
    let i = from;
    for (; i < to && this.lineLen < 2; i++) {
      if (this.lineLen === 0) this.head0 = buf[i]!;
      else this.head1 = buf[i]!;
      this.lineLen++;
    }
    // Longer than two bytes: can no longer be the end marker, the exact length is irrelevant.
    if (i < to) this.lineLen = 3;
  }

  private isEndMarker(buf: Buffer, start: number): boolean {
    // The line is exactly two bytes: some carried from earlier buffers, the rest at `start`.
    const b0 = this.lineLen >= 1 ? this.head0 : buf[start]!;
    const b1 = this.lineLen >= 2 ? this.head1 : this.lineLen === 1 ? buf[start]! : buf[start + 1]!;
    return b0 === 0x5c && b1 === 0x2e;
  }
}

/** Why a compressed stream failed, reported by the pool to the parser. */
export class InflateFailure extends Error {
  constructor(
    message: string,
    readonly offset: number,
    readonly label: string,
  ) {
    super(message);
    this.name = 'InflateFailure';
  }
}

/**
 * `gzip` is the zlib stream pg_dump writes into custom archives; `gzip-file` the gzip container
 * of a directory dump's `.gz` files; `lz4` LZ4 frames (decoded in JavaScript, on the main thread).
 */
export type DecompressAlgorithm = 'gzip' | 'gzip-file' | 'lz4' | 'zstd';

/**
 * Output chunk of a table's inflater as created (LZ4, and zlib where `reuseZlibOutput` cannot
 * apply): large, so a big table costs few threadpool round trips and few fresh buffers (each one is
 * new memory the kernel must fault in). 1 MiB against 256 KiB: deep verify of the bench bundle
 * 1.68 s against 1.80 s (mean of four), peak RSS 8 to 15 MB higher.
 */
const OUTPUT_CHUNK = 1024 * 1024;
/**
 * The output buffer a zlib or zstd job writes into instead (`reuseZlibOutput`): one per job in
 * flight, lent by the pool. Every write starts at its first byte, so only as much of it is ever
 * touched as one input batch inflates to (a 256 KiB batch of pgbench's blank-padded rows inflates
 * to more than 4 MiB); the rest is address space. Each time one write's output fills the buffer,
 * Node's zlib allocates a fresh one (which this stream drops untouched): at 1 MiB that was 473
 * buffers for the bench bundle's 498 MB, and the memory V8 counted for them made Node.js 24 run 11
 * full mark-compacts per deep verify. At 16 MiB none is allocated there, and deep verify took 1.06
 * instead of 1.24 s on Node.js 24, 1.03 instead of 1.12 s on Node.js 20 (medians of seven,
 * interleaved).
 */
const LENT_OUTPUT = 16 * 1024 * 1024;
/** Large objects are often small and many: a smaller buffer per stream. */
const LO_OUTPUT_CHUNK = 32 * 1024;
/**
 * Input is copied into batches of this size before it is handed to zlib (pg_dump writes ~4 KiB
 * chunks). The batches are the pool's and come back to it once zlib has consumed them, so the
 * caller's chunks are only read during `write` (a reader may refill one buffer) and no fresh
 * memory is taken per batch: on the bench machine every fresh buffer costs a page fault per 4 KiB
 * (reading 100 MB through fresh buffers took 0.4 s, through one reused buffer 0.05 s).
 */
const INPUT_BATCH = 256 * 1024;

export interface InflateResult {
  compressedBytes: number;
  uncompressedBytes: number;
  rows?: number;
}

/** Whether this Node.js can decompress the algorithm, and if not, the reason to report. */
export function decompressSupport(algorithm: 'none' | 'gzip' | 'lz4' | 'zstd'): string | undefined {
  if (algorithm === 'none' || algorithm === 'gzip') return undefined;
  if (algorithm === 'zstd') {
    return typeof (zlib as unknown as Record<string, unknown>).createZstdDecompress === 'function'
      ? undefined
      : `zstd compression cannot be inflated by this Node.js (${process.version}; zlib.createZstdDecompress needs Node.js >= 22.15)`;
  }
  return undefined;
}

function createDecompressor(algorithm: DecompressAlgorithm, small: boolean): Transform {
  const chunkSize = small ? LO_OUTPUT_CHUNK : OUTPUT_CHUNK;
  if (algorithm === 'zstd') {
    const create = (zlib as unknown as Record<string, (o: object) => Transform>).createZstdDecompress!;
    return create({ chunkSize });
  }
  if (algorithm === 'lz4') return new Lz4FrameDecoder({ chunkSize });
  if (algorithm === 'gzip-file') return zlib.createGunzip({ chunkSize });
  // pg_dump's gzip is a zlib stream (deflateInit), not a gzip container: header + adler32.
  return zlib.createInflate({ chunkSize });
}

/**
 * Makes a zlib stream write all its output into one buffer instead of a fresh one per chunk, each
 * write from its first byte. Only for a stream whose one reader is a synchronous `'data'` listener
 * that keeps no chunk. With `output`, that buffer is the caller's (the stream's chunk size becomes
 * its length). Returns false, and changes nothing, where this Node.js lacks the private fields
 * (`_outBuffer`, `_outOffset`, `_chunkSize` of lib/zlib.js, the same in Node.js 20 to 24).
 *
 * Node's zlib takes a new `Buffer.allocUnsafe(chunkSize)` each time its output buffer is used up
 * (`processCallback` in lib/zlib.js), and every 4 KiB page of that new memory faults when zlib
 * first writes to it: deep verify of the bench bundle (97 MB, inflating to 500 MB) spent 6 to 7%
 * of its CPU time in those faults. Reusing the buffer took it from 1.48 to 1.27 s on Node.js 20
 * and from 1.78 to 1.38 s on Node.js 24 (medians of 8 and 5, interleaved), and its peak RSS from
 * 109 to 76 MB. Starting each write at the buffer's first byte means the buffer fills only when one
 * write's output does (`LENT_OUTPUT`).
 *
 * A chunk may be written over only once the stream holds no unread output. Both decisions are
 * taken at that point, right after zlib pushed its output: the fresh buffer zlib asks for is then
 * dropped untouched, and the next write starts at 0. The offset is judged at its first read after
 * zlib moved it, in the same synchronous run as the push (zlib reads it there to decide whether
 * the buffer is full); a later read, as when a full readable buffer deferred zlib's next write,
 * keeps zlib's offset. While output is queued, zlib's own behaviour is kept.
 */
export function reuseZlibOutput(z: Transform, output?: Buffer): boolean {
  const fields = z as unknown as { _outBuffer?: unknown; _outOffset?: unknown; _chunkSize?: unknown };
  const initial = fields._outBuffer;
  if (!Buffer.isBuffer(initial) || fields._outOffset !== 0 || typeof fields._chunkSize !== 'number')
    return false;
  let current: Buffer = output ?? initial;
  if (output) fields._chunkSize = output.length;
  Object.defineProperty(z, '_outBuffer', {
    configurable: true,
    enumerable: true,
    get: () => current,
    set: (fresh: unknown) => {
      // Output still queued in the stream points into `current`: only then is a new buffer needed.
      if (z.readableLength > 0 || !Buffer.isBuffer(fresh) || fresh.length !== current.length)
        current = fresh as Buffer;
    },
  });
  let offset = 0;
  let judge = false;
  Object.defineProperty(z, '_outOffset', {
    configurable: true,
    enumerable: true,
    get: () => {
      if (judge) {
        judge = false;
        if (z.readableLength === 0) offset = 0;
      }
      return offset;
    },
    set: (next: number) => {
      offset = next;
      if (next === 0) judge = false;
      else if (!judge) {
        judge = true;
        // the chance to start over ends with this synchronous run (see above)
        queueMicrotask(() => (judge = false));
      }
    },
  });
  return true;
}

/** Buffers of one size, reused once given back: no fresh memory per batch or per job. */
class FreeList {
  private readonly free: Buffer[] = [];
  allocated = 0;

  constructor(private readonly size: number) {}

  get idle(): number {
    return this.free.length;
  }

  take(): Buffer {
    const reused = this.free.pop();
    if (reused) return reused;
    this.allocated++;
    return Buffer.allocUnsafeSlow(this.size);
  }

  give(buffer: Buffer): void {
    this.free.push(buffer);
  }
}

/**
 * Keeps several compressed streams inflating on libuv's threadpool at once while the parser
 * walks on. Bounded by the number of streams in flight and by the compressed bytes handed to
 * zlib and not yet consumed, so memory stays flat whatever the dump size.
 */
export class InflatePool {
  private readonly active = new Set<InflateJob>();
  private waiters: Array<() => void> = [];
  /** Input batches; zlib's come back once it has consumed them. */
  private readonly batches = new FreeList(INPUT_BATCH);
  /** Output buffers (`LENT_OUTPUT`), at most one per job in flight; back when a stream ends. */
  private readonly outputs = new FreeList(LENT_OUTPUT);
  /** Input batches allocated so far; the rest were reused. */
  get batchesAllocated(): number {
    return this.batches.allocated;
  }
  /** Output buffers allocated so far. */
  get outputsAllocated(): number {
    return this.outputs.allocated;
  }
  /** Output buffers waiting for the next job. */
  get outputsIdle(): number {
    return this.outputs.idle;
  }
  /** Bytes copied into batches (the rest went to zlib in the batch they were read into). */
  copiedBytes = 0;
  /** Chunks `readFile` yielded and their batch, so a job can take the batch instead of copying it. */
  private readonly lent = new WeakMap<Buffer, { batch: Buffer; taken: boolean }>();
  inflightBytes = 0;
  failure?: InflateFailure;
  private readonly onAbort = (): void => this.notify();

  constructor(
    private readonly maxJobs: number,
    private readonly maxInflightBytes: number,
    private readonly signal?: AbortSignal,
  ) {
    signal?.addEventListener('abort', this.onAbort);
  }

  /** Start a stream; waits while too many are in flight. */
  async start(
    algorithm: DecompressAlgorithm,
    label: string,
    small: boolean,
    counter: CopyRowCounter | undefined,
    onDone: (r: InflateResult) => void,
    /** False when the caller cannot yet know whether the data is COPY text: rows are counted, the end line is judged later. */
    requireEndMarker = true,
  ): Promise<InflateJob> {
    this.check();
    while (this.active.size >= this.maxJobs) {
      await this.changed();
      this.check();
    }
    const job = new InflateJob(this, algorithm, label, small, counter, onDone, requireEndMarker);
    this.active.add(job);
    return job;
  }

  overBudget(): boolean {
    return this.inflightBytes > this.maxInflightBytes;
  }

  /** Wait while more compressed bytes are queued in zlib than the budget allows. */
  async throttle(): Promise<void> {
    this.check();
    while (this.inflightBytes > this.maxInflightBytes) {
      await this.changed();
      this.check();
    }
  }

  async drain(): Promise<void> {
    this.check();
    while (this.active.size > 0) {
      await this.changed();
      this.check();
    }
  }

  /** Throws the first failure (or the abort reason). */
  check(): void {
    this.signal?.throwIfAborted();
    if (this.failure) throw this.failure;
  }

  destroy(): void {
    this.signal?.removeEventListener('abort', this.onAbort);
    for (const job of this.active) job.destroy();
    this.active.clear();
    this.notify();
  }

  /**
   * A byte range of a file, read straight into the pool's input batches. A job that gets a whole
   * chunk hands it to zlib as it is (`InflateJob.write`) instead of copying it into a batch of its
   * own: for deep verify of a 97 MB bundle that copy was 126 ms of the main thread's time. A chunk
   * no job took is read over for the next one, like `readFileTransient`'s.
   */
  async *readFile(file: string, range: { start?: number; end?: number } = {}): AsyncGenerator<Buffer> {
    const handle = await open(file, 'r');
    let batch: Buffer | undefined;
    try {
      const end = range.end ?? Infinity;
      for (let at = range.start ?? 0; at < end;) {
        batch ??= this.takeBatch();
        const { bytesRead } = await handle.read(batch, 0, Math.min(batch.length, end - at), at);
        if (bytesRead === 0) return;
        at += bytesRead;
        const chunk = batch.subarray(0, bytesRead);
        const loan = { batch, taken: false };
        this.lent.set(chunk, loan);
        yield chunk;
        if (loan.taken) batch = undefined;
      }
    } finally {
      if (batch) this.returnBatch(batch);
      await handle.close();
    }
  }

  /** @internal The whole batch behind a chunk `readFile` yielded, now the caller's; else undefined. */
  takeLent(chunk: Buffer): Buffer | undefined {
    const loan = this.lent.get(chunk);
    if (!loan || loan.taken) return undefined;
    loan.taken = true;
    return loan.batch;
  }

  /** @internal */
  takeBatch(): Buffer {
    return this.batches.take();
  }

  /** @internal */
  returnBatch(batch: Buffer): void {
    this.batches.give(batch);
  }

  /** @internal */
  takeOutput(): Buffer {
    return this.outputs.take();
  }

  /** @internal Only once zlib can no longer write into it: after the stream's 'end'. */
  returnOutput(output: Buffer): void {
    this.outputs.give(output);
  }

  /** @internal */
  finished(job: InflateJob, failure?: InflateFailure): void {
    this.active.delete(job);
    if (failure && !this.failure) this.failure = failure;
    this.notify();
  }

  /** @internal */
  notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  private changed(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}

/** One compressed stream: a table's data block, or one large object. */
export class InflateJob {
  private readonly z: Transform;
  private fed = 0;
  private out = 0;
  /** The batch being filled (the pool's), how far, and the file offset of its first byte. */
  private batch?: Buffer;
  private pendingLen = 0;
  private pendingOffset = 0;
  /**
   * Whether a batch may go back to the pool once its write completed. Node's zlib has read all of
   * a batch by then; the JavaScript LZ4 decoder keeps slices of its input for the next frame.
   */
  private readonly recycle: boolean;
  /** File offsets of the batches zlib has not finished yet, oldest first: for error messages. */
  private readonly batchOffsets: number[] = [];
  private lastOffset = 0;
  private settled = false;
  /** The pool's output buffer zlib writes into, given back when the stream ends. */
  private output?: Buffer;

  constructor(
    private readonly pool: InflatePool,
    readonly algorithm: DecompressAlgorithm,
    private readonly label: string,
    small: boolean,
    private readonly counter: CopyRowCounter | undefined,
    private readonly onDone: (r: InflateResult) => void,
    private readonly requireEndMarker = true,
  ) {
    this.z = createDecompressor(algorithm, small);
    this.recycle = algorithm !== 'lz4';
    if (algorithm !== 'lz4') {
      // Large objects are small and many: their own small buffer each, not a lent one.
      const lent = small ? undefined : pool.takeOutput();
      if (reuseZlibOutput(this.z, lent)) this.output = lent;
      else if (lent) pool.returnOutput(lent);
    }
    this.z.on('data', (d: Buffer) => {
      this.out += d.length;
      this.counter?.feed(d);
    });
    this.z.on('error', (err: Error & { code?: string }) => {
      const at = this.batchOffsets[0] ?? this.lastOffset;
      this.fail(
        `corrupted compressed data in ${label} at or after byte ${at}: ${algorithm.startsWith('gzip') ? 'zlib' : algorithm} says "${err.message}"${err.code ? ` (${err.code})` : ''}`,
        at,
      );
    });
    this.z.on('end', () => {
      // Ended: zlib writes no more, and every chunk has been read. After a failure or a destroy a
      // write may still be running on the threadpool, so the buffer is not given back then.
      if (this.output) this.pool.returnOutput(this.output);
      this.output = undefined;
      const consumed = (this.z as unknown as { bytesWritten?: number }).bytesWritten;
      if (typeof consumed === 'number' && consumed < this.fed) {
        const at = this.lastOffset;
        this.fail(
          `corrupted compressed data in ${label}: ${this.fed - consumed} bytes follow the end of its compressed stream (near byte ${at})`,
          at,
        );
        return;
      }
      if (this.counter && this.requireEndMarker && !this.counter.ended) {
        this.fail(
          `the COPY data of ${label} does not end with pg_dump's "\\." end-of-data line`,
          this.lastOffset,
        );
        return;
      }
      this.settled = true;
      this.onDone({
        compressedBytes: this.fed,
        uncompressedBytes: this.out,
        rows: this.counter?.rows,
      });
      this.pool.finished(this);
    });
  }

  /**
   * Queue a slice of compressed payload that starts at file offset `offset`. The slice is copied
   * before this returns: the caller may reuse its buffer.
   */
  write(slice: Buffer, offset: number): void {
    if (this.settled) return;
    this.fed += slice.length;
    this.lastOffset = offset + slice.length;
    // A chunk read into one of the pool's batches goes to zlib as it is, when nothing is pending
    // before it (the order of the bytes must stay) and the batch comes back once zlib is done.
    const own = this.recycle && this.pendingLen === 0 ? this.pool.takeLent(slice) : undefined;
    if (own) {
      this.batch = own;
      this.pendingLen = slice.length;
      this.pendingOffset = offset;
      this.flush();
      return;
    }
    for (let at = 0; at < slice.length;) {
      if (!this.batch) {
        this.batch = this.pool.takeBatch();
        this.pendingOffset = offset + at;
      }
      const n = Math.min(INPUT_BATCH - this.pendingLen, slice.length - at);
      slice.copy(this.batch, this.pendingLen, at, at + n);
      this.pool.copiedBytes += n;
      this.pendingLen += n;
      at += n;
      if (this.pendingLen === INPUT_BATCH) this.flush();
    }
  }

  /** No more input: zlib must now reach the end of its stream, or it reports an error. */
  end(): void {
    if (this.settled) return;
    this.flush();
    this.z.end();
  }

  destroy(): void {
    this.settled = true;
    this.z.destroy();
  }

  private flush(): void {
    if (this.pendingLen === 0 || !this.batch) return;
    const batch = this.batch;
    const len = this.pendingLen;
    this.batch = undefined;
    this.pendingLen = 0;
    this.batchOffsets.push(this.pendingOffset);
    this.pool.inflightBytes += len;
    this.z.write(batch.subarray(0, len), (err) => {
      this.pool.inflightBytes -= len;
      this.batchOffsets.shift();
      // after an error zlib may stop half way through the batch: leave it to the collector
      if (this.recycle && !err) this.pool.returnBatch(batch);
      this.pool.notify();
    });
  }

  private fail(message: string, offset: number): void {
    if (this.settled) return;
    this.settled = true;
    this.z.destroy();
    this.pool.finished(this, new InflateFailure(message, offset, this.label));
  }
}
