/**
 * sha256 off the main thread, where that is cheaper. Verify hashes every byte twice (the stored
 * object against its `.sha256`, each member against the manifest): two different claims, so
 * neither pass can go, but on the main thread they compete with the tar walk and the COPY row
 * counting that feed the inflating threads. Off the thread, the main thread only copies each
 * chunk into one shared worker, which keeps one hash per caller.
 *
 * That copy is not free: with SHA extensions (x86 SHA-NI, ARMv8 SHA2) sha256 runs at memcpy-like
 * speed, and copying plus messaging cost the main thread more than hashing in place. Measured on
 * the bench's deep verify (SHA-NI, two cores): worker 1.65 s and 2.49 CPU-seconds, in place 1.52 s
 * and 2.16 CPU-seconds. So each process times sha256 once (`sha256Placement`) and hashes in place
 * when it runs at 1 GB/s or more; without SHA extensions (about 0.4 GB/s) the worker stays.
 *
 * The bytes hashed are the very bytes the caller saw (copied, in order), so no layer gets weaker.
 * Memory is bounded: past `MAX_IN_FLIGHT` bytes not yet hashed, `write` waits. When no worker can
 * be started, the hash runs on the main thread as before.
 */
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { Worker } from 'node:worker_threads';

/**
 * Chunks are copied into buffers of this size, which move to the worker and back (one copy, one
 * message each way): recycled, not left for the worker's garbage collector, whose heap barely
 * grows and so seldom collects (fresh buffers added 70 MB of RSS to a verify).
 */
const BATCH = 256 * 1024;
const MAX_IN_FLIGHT = 8 * 1024 * 1024;

// Plain CommonJS evaluated in the worker: no file to locate inside an ncc bundle.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const open = new Map();
parentPort.on('message', (m) => {
  let h = open.get(m.id);
  if (!h) open.set(m.id, (h = createHash('sha256')));
  if (m.data) {
    h.update(m.data.subarray(0, m.length));
    parentPort.postMessage({ ack: m.length, data: m.data }, [m.data.buffer]);
  } else {
    open.delete(m.id);
    parentPort.postMessage({ id: m.id, hex: h.digest('hex') });
  }
});
`;

interface Shared {
  worker: Worker;
  /** Digests and writers waiting on the worker: while any, it keeps the process alive. */
  holds: number;
  inFlight: number;
  /** Empty BATCH-sized buffers back from the worker. */
  free: Uint8Array[];
  waiting: (() => void)[];
  digests: Map<number, { resolve: (hex: string) => void; reject: (e: Error) => void }>;
  failed?: Error;
}

let shared: Shared | undefined;
let nextId = 1;

/** Where a hash runs: `auto` decides once per process from sha256's measured speed. */
export type Sha256Placement = 'auto' | 'worker' | 'inline';

/** In-place hashing wins from this speed on (bytes per nanosecond, i.e. GB/s). */
const INLINE_BYTES_PER_NS = 1;
let measuredPlacement: 'worker' | 'inline' | undefined;

/**
 * 'inline' when this CPU hashes at 1 GB/s or more. Times a 256 KiB sample three times (about half a
 * millisecond) and keeps the best, so one scheduling hiccup cannot make a fast CPU look slow.
 */
export function sha256Placement(): 'worker' | 'inline' {
  if (!measuredPlacement) {
    const sample = Buffer.alloc(256 * 1024, 0x5a);
    let best = Infinity;
    for (let i = 0; i < 3; i++) {
      const start = process.hrtime.bigint();
      createHash('sha256').update(sample).digest();
      best = Math.min(best, Number(process.hrtime.bigint() - start));
    }
    measuredPlacement = sample.length / Math.max(best, 1) >= INLINE_BYTES_PER_NS ? 'inline' : 'worker';
  }
  return measuredPlacement;
}

function getShared(): Shared | undefined {
  if (shared && !shared.failed) return shared;
  if (shared?.failed) return undefined;
  let worker: Worker;
  try {
    worker = new Worker(WORKER_SOURCE, { eval: true });
  } catch {
    return undefined;
  }
  const s: Shared = { worker, holds: 0, inFlight: 0, free: [], waiting: [], digests: new Map() };
  worker.unref();
  worker.on('message', (m: { ack?: number; data?: Uint8Array; id?: number; hex?: string }) => {
    if (m.ack !== undefined) {
      s.inFlight -= m.ack;
      if (m.data) s.free.push(m.data);
      if (s.inFlight <= MAX_IN_FLIGHT / 2) for (const w of s.waiting.splice(0)) w();
    } else if (m.id !== undefined) {
      s.digests.get(m.id)?.resolve(m.hex!);
      s.digests.delete(m.id);
    }
  });
  const fail = (e: Error): void => {
    s.failed = e;
    for (const d of s.digests.values()) d.reject(new Error(`the sha256 worker failed: ${e.message}`));
    s.digests.clear();
    for (const w of s.waiting.splice(0)) w();
  };
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`it exited with code ${code}`)));
  shared = s;
  return s;
}

/**
 * The worker is unref'd except while someone waits on it, so an abandoned hash (a read that
 * failed half way) never keeps the process alive.
 */
function hold(s: Shared): void {
  if (s.holds++ === 0) s.worker.ref();
}
function release(s: Shared): void {
  if (--s.holds === 0) s.worker.unref();
}

/** One sha256, on the shared worker or in place (see the module comment); `write` then `digest` once. */
export class OffThreadSha256 {
  bytes = 0;
  private readonly id = nextId++;
  private readonly shared: Shared | undefined;
  private readonly local: Hash | undefined;
  /** The buffer being filled, and how far. */
  private batch?: Uint8Array;
  private filled = 0;
  private result?: Promise<string>;

  constructor(placement: Sha256Placement = 'auto') {
    const where = placement === 'auto' ? sha256Placement() : placement;
    this.shared = where === 'worker' ? getShared() : undefined;
    if (!this.shared) this.local = createHash('sha256');
  }

  /** Resolves at once unless too much is waiting to be hashed. */
  write(chunk: Buffer): Promise<void> | undefined {
    this.bytes += chunk.length;
    if (this.local) {
      this.local.update(chunk);
      return undefined;
    }
    const s = this.shared!;
    for (let at = 0; at < chunk.length;) {
      this.batch ??= s.free.pop() ?? new Uint8Array(BATCH);
      const n = Math.min(BATCH - this.filled, chunk.length - at);
      this.batch.set(chunk.subarray(at, at + n), this.filled);
      this.filled += n;
      at += n;
      if (this.filled === BATCH) this.flush();
    }
    if (s.inFlight <= MAX_IN_FLIGHT || s.failed) return undefined;
    hold(s);
    return new Promise<void>((r) => s.waiting.push(r)).finally(() => release(s));
  }

  /** Moves (not clones) the filled buffer to the worker. */
  private flush(): void {
    if (!this.batch || this.filled === 0) return;
    const s = this.shared!;
    const data = this.batch;
    s.inFlight += this.filled;
    s.worker.postMessage({ id: this.id, data, length: this.filled }, [data.buffer as ArrayBuffer]);
    this.batch = undefined;
    this.filled = 0;
  }

  /** The hex digest of everything written. */
  digest(): Promise<string> {
    this.result ??= this.local
      ? Promise.resolve(this.local.digest('hex'))
      : (() => {
          const s = this.shared!;
          this.flush();
          const hex = new Promise<string>((resolve, reject) => {
            if (s.failed) reject(new Error(`the sha256 worker failed: ${s.failed.message}`));
            else s.digests.set(this.id, { resolve, reject });
          });
          hold(s);
          s.worker.postMessage({ id: this.id });
          return hex.finally(() => release(s));
        })();
    return this.result;
  }
}

/** Counts and hashes (on the worker or in place) what flows through, without changing it. */
export class OffThreadHashingStream extends Transform {
  private readonly hash: OffThreadSha256;
  constructor(placement: Sha256Placement = 'auto') {
    super();
    this.hash = new OffThreadSha256(placement);
  }
  get bytes(): number {
    return this.hash.bytes;
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    const wait = this.hash.write(chunk);
    if (wait) void wait.then(() => cb(null, chunk));
    else cb(null, chunk);
  }
  digest(): Promise<string> {
    return this.hash.digest();
  }
}
