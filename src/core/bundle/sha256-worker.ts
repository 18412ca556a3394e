/**
 * sha256 off the main thread. Verify hashes every byte twice (the stored object against its
 * `.sha256`, each member against the manifest): two different claims, so neither pass can go, but
 * on the main thread they compete with the tar walk and the COPY row counting that feed the
 * inflating threads. Here the main thread only copies each chunk (a memcpy, several times cheaper
 * than sha256 even with SHA-NI) into one shared worker, which keeps one hash per caller.
 *
 * The bytes hashed are the very bytes the caller saw (copied, in order), so no layer gets weaker.
 * Memory is bounded: past `MAX_IN_FLIGHT` bytes not yet hashed, `write` waits. When no worker can
 * be started, the hash runs on the main thread as before.
 */
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { Worker } from 'node:worker_threads';

/** Chunks are batched to this size before they cross to the worker (one copy, one message). */
const BATCH = 256 * 1024;
const MAX_IN_FLIGHT = 16 * 1024 * 1024;

// Plain CommonJS evaluated in the worker: no file to locate inside an ncc bundle.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const open = new Map();
parentPort.on('message', (m) => {
  let h = open.get(m.id);
  if (!h) open.set(m.id, (h = createHash('sha256')));
  if (m.data) {
    h.update(m.data);
    parentPort.postMessage({ ack: m.data.byteLength });
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
  waiting: (() => void)[];
  digests: Map<number, { resolve: (hex: string) => void; reject: (e: Error) => void }>;
  failed?: Error;
}

let shared: Shared | undefined;
let nextId = 1;

function getShared(): Shared | undefined {
  if (shared && !shared.failed) return shared;
  if (shared?.failed) return undefined;
  let worker: Worker;
  try {
    worker = new Worker(WORKER_SOURCE, { eval: true });
  } catch {
    return undefined;
  }
  const s: Shared = { worker, holds: 0, inFlight: 0, waiting: [], digests: new Map() };
  worker.unref();
  worker.on('message', (m: { ack?: number; id?: number; hex?: string }) => {
    if (m.ack !== undefined) {
      s.inFlight -= m.ack;
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

/** One sha256 whose work happens on the shared worker; `write` then `digest` once. */
export class OffThreadSha256 {
  bytes = 0;
  private readonly id = nextId++;
  private readonly shared = getShared();
  private readonly local: Hash | undefined;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private result?: Promise<string>;

  constructor() {
    if (!this.shared) this.local = createHash('sha256');
  }

  /** Resolves at once unless too much is waiting to be hashed. */
  write(chunk: Buffer): Promise<void> | undefined {
    this.bytes += chunk.length;
    if (this.local) {
      this.local.update(chunk);
      return undefined;
    }
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes >= BATCH) this.flush();
    const s = this.shared!;
    if (s.inFlight <= MAX_IN_FLIGHT || s.failed) return undefined;
    hold(s);
    return new Promise<void>((r) => s.waiting.push(r)).finally(() => release(s));
  }

  private flush(): void {
    if (this.pendingBytes === 0) return;
    const s = this.shared!;
    // a fresh buffer of its own, so it can be moved (not cloned) to the worker
    const data = new Uint8Array(this.pendingBytes);
    let at = 0;
    for (const p of this.pending) {
      data.set(p, at);
      at += p.length;
    }
    this.pending = [];
    this.pendingBytes = 0;
    s.inFlight += data.byteLength;
    s.worker.postMessage({ id: this.id, data }, [data.buffer]);
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

/** Counts and hashes (off the main thread) what flows through, without changing it. */
export class OffThreadHashingStream extends Transform {
  private readonly hash = new OffThreadSha256();
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
