/**
 * Hashes the files of a directory while a tool is still writing them (pg_dump -Fd's data files),
 * so the sha256 of every member is ready when the tool exits and the bundle is packed with one
 * hash pass instead of two, without re-reading the dump. pg_dump writes each file front to back
 * and never rewrites a byte (compressed streams, then toc.dat last), so the bytes up to a file's
 * current size are final: each poll hashes what was appended since the last one, on the shared
 * sha256 worker. `finish` reads every file to its end once the tool has exited.
 *
 * A hash is handed out with the size and mtime it was taken at; the packer uses it only when the
 * file still has both (else it hashes while packing, as before), so a file touched afterwards can
 * never carry a stale hash into SHA256SUMS.
 */
import { open, readdir, stat } from 'node:fs/promises';
import path from 'node:path';

import { OffThreadSha256 } from './sha256-worker.js';

export interface PrecomputedHash {
  sha256: string;
  size: number;
  mtimeMs: number;
}

const READ_CHUNK = 1 << 20;

export class GrowingFilesHasher {
  private readonly files = new Map<string, { hash: OffThreadSha256; offset: number }>();
  private timer?: NodeJS.Timeout;
  private polling?: Promise<void>;
  private stopped = false;
  private broken?: Error;
  /** Polls run one at a time and read one file at a time: one buffer, never a fresh one per poll. */
  private readonly buffer = Buffer.allocUnsafe(READ_CHUNK);

  constructor(
    private readonly dir: string,
    private readonly intervalMs = 200,
  ) {}

  start(): this {
    const tick = (): void => {
      this.polling = this.poll().finally(() => {
        if (!this.stopped) this.timer = setTimeout(tick, this.intervalMs);
      });
    };
    this.timer = setTimeout(tick, this.intervalMs);
    return this;
  }

  /** Stops polling; whatever was hashed is dropped. */
  async cancel(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.polling?.catch(() => undefined);
  }

  /**
   * After the writer exited: every file read to its end. Undefined when anything went wrong (the
   * packer then hashes as it packs).
   */
  async finish(): Promise<Map<string, PrecomputedHash> | undefined> {
    await this.cancel();
    try {
      await this.poll();
      if (this.broken) return undefined;
      const out = new Map<string, PrecomputedHash>();
      for (const [name, f] of this.files) {
        const s = await stat(path.join(this.dir, name));
        if (s.size !== f.offset) return undefined;
        out.set(name, { sha256: await f.hash.digest(), size: f.offset, mtimeMs: s.mtimeMs });
      }
      return out;
    } catch {
      return undefined;
    }
  }

  private async poll(): Promise<void> {
    if (this.broken) return;
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return; // not created yet
      this.broken = e as Error;
      return;
    }
    try {
      for (const name of names) {
        const full = path.join(this.dir, name);
        const s = await stat(full);
        if (!s.isFile()) continue;
        let f = this.files.get(name);
        if (!f) this.files.set(name, (f = { hash: new OffThreadSha256(), offset: 0 }));
        if (s.size < f.offset) throw new Error(`${name} shrank while it was written`);
        if (s.size > f.offset) await this.readRange(full, f, s.size);
      }
    } catch (e) {
      this.broken = e as Error;
    }
  }

  private async readRange(file: string, f: { hash: OffThreadSha256; offset: number }, end: number) {
    const handle = await open(file, 'r');
    try {
      const buf = this.buffer;
      while (f.offset < end) {
        const { bytesRead } = await handle.read(buf, 0, Math.min(READ_CHUNK, end - f.offset), f.offset);
        if (bytesRead === 0) throw new Error(`${file} ended early`);
        const wait = f.hash.write(buf.subarray(0, bytesRead));
        if (wait) await wait;
        f.offset += bytesRead;
      }
    } finally {
      await handle.close();
    }
  }
}
