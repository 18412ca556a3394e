/**
 * The bundle packer that reuses its read buffers (`bundleChunks`), and the two consumers allowed
 * to take reused chunks: the file store's `putChunks` and dbdrill's age encryptor (`sealTransient`).
 * Oracles: tar-stream 3's packer (the writer before it: bundles must stay byte for byte the
 * same), GNU tar, `sha256sum`, and the real `age` CLI. The consumers are fed by an adversarial
 * producer that scribbles over its buffer the moment the next chunk is asked for, so a consumer
 * that kept a chunk would store the scribble.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  appendFileSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tarStream from 'tar-stream';

import { bundleChunks, packBundle, type PackEntry } from '../src/core/bundle/tar.js';
import { fileHeader } from '../src/core/bundle/tar-header.js';
import { createEncryptStream } from '../src/core/crypto/age.js';
import { ConsoleLogger } from '../src/core/logger.js';
import { FileStore } from '../src/core/stores/file-store.js';

let dir: string;
const logger = new ConsoleLogger({ write: () => undefined });
const mtime = new Date('2026-11-30T12:34:56Z');

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'dbdrill-bundle-chunks-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function patterned(size: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) b[i] = (i * 31 + seed) % 251;
  return b;
}

/** Files of awkward sizes (empty, one byte short of a block, several read chunks) and awkward names. */
function sampleEntries(): PackEntry[] {
  const files: [string, number][] = [
    ['postgres.dir/toc.dat', 6148],
    ['postgres.dir/3370.dat.gz', 0],
    ['postgres.dir/3371.dat.gz', 511],
    ['postgres.dir/3372.dat.gz', 512],
    ['postgres.dir/3374.dat.gz', 3 * 1024 * 1024 + 123],
    [`postgres.dir/${'long-directory-name-'.repeat(6)}/3375.dat.gz`, 70000], // > 100 bytes: split at "/"
    [`secrets/${'k'.repeat(120)}.key`, 33], // one component > 100 bytes: a pax record
    ['secrets/clé-ünïcode.key', 44], // not ASCII: a pax record
  ];
  const entries: PackEntry[] = [
    { path: 'manifest.json', content: Buffer.from('{"formatVersion":2}\n'), mtime },
  ];
  files.forEach(([name, size], i) => {
    const file = path.join(dir, `src-${i}`);
    writeFileSync(file, patterned(size, i));
    entries.push({ path: name, file, mtime });
  });
  return entries;
}

async function collect(chunks: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of chunks) parts.push(Buffer.from(c)); // copied: reused chunks are only valid until next()
  return Buffer.concat(parts);
}

async function* slowly(stream: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let n = 0;
  for await (const c of stream) {
    if (n++ % 8 === 0) await new Promise((r) => setTimeout(r, 2));
    yield c;
  }
}

/** What tar-stream 3 wrote for the same entries (the packer before this one), SHA256SUMS included. */
async function tarStreamReference(entries: PackEntry[]): Promise<Buffer> {
  const pack = tarStream.pack();
  const sums: string[] = [];
  const out = collect(pack as unknown as AsyncIterable<Buffer>);
  const add = (name: string, content: Buffer) =>
    new Promise<void>((resolve, reject) =>
      pack.entry({ name, mode: 0o600, mtime, type: 'file' }, content, (e) => (e ? reject(e) : resolve())),
    );
  for (const e of entries) {
    const content = 'content' in e ? e.content : readFileSync(e.file);
    sums.push(`${createHash('sha256').update(content).digest('hex')}  ${e.path}`);
    await add(e.path, content);
  }
  await add('SHA256SUMS', Buffer.from(sums.join('\n') + '\n'));
  pack.finalize();
  return out;
}

/**
 * Yields the source through one buffer and overwrites it as soon as the next chunk is asked for:
 * anything the consumer kept instead of writing or copying turns into 0xEE bytes.
 */
async function* scribblingProducer(source: Buffer, chunk: number): AsyncGenerator<Buffer> {
  const buffer = Buffer.allocUnsafe(chunk);
  for (let at = 0; at < source.length; at += chunk) {
    const n = source.copy(buffer, 0, at, Math.min(at + chunk, source.length));
    yield buffer.subarray(0, n);
    buffer.fill(0xee);
  }
}

describe('bundleChunks', () => {
  it('writes exactly the bytes tar-stream wrote, with and without reused buffers', async () => {
    const entries = sampleEntries();
    const reference = await tarStreamReference(entries);
    const reused = await collect(
      bundleChunks(entries, { checksumsMember: 'SHA256SUMS', reuseBuffers: true }),
    );
    const fresh = await collect(bundleChunks(entries, { checksumsMember: 'SHA256SUMS' }));
    expect(reused.equals(reference)).toBe(true);
    expect(fresh.equals(reference)).toBe(true);
    const streamed = await collect(packBundle(entries, { checksumsMember: 'SHA256SUMS' }));
    expect(streamed.equals(reference)).toBe(true);
  });

  it('makes a tar GNU tar extracts and sha256sum -c accepts', async () => {
    const entries = sampleEntries();
    const file = path.join(dir, 'gnu-check.tar');
    writeFileSync(
      file,
      await collect(bundleChunks(entries, { checksumsMember: 'SHA256SUMS', reuseBuffers: true })),
    );
    const out = path.join(dir, 'gnu-out');
    rmSync(out, { recursive: true, force: true });
    execFileSync('mkdir', ['-p', out]);
    execFileSync('tar', ['-xf', file, '-C', out]);
    for (const e of entries) {
      const want = 'content' in e ? e.content : readFileSync(e.file);
      expect(readFileSync(path.join(out, e.path)).equals(want)).toBe(true);
    }
    const check = spawnSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: out, encoding: 'utf8' });
    expect(check.status).toBe(0);
  });

  it('a size of 8 GiB or more goes in GNU base-256, which GNU tar reads back', () => {
    const size = 9 * 1024 ** 3 + 5;
    const file = path.join(dir, 'big-header.tar');
    writeFileSync(file, fileHeader({ name: 'postgres.dir/4000.dat.gz', size, mtime }));
    // The data is missing, so tar ends with an error after listing the header it read.
    const listed = spawnSync('tar', ['-tvf', file], { encoding: 'utf8' });
    expect(listed.stdout).toContain(` ${size} `);
    expect(listed.stdout).toContain('postgres.dir/4000.dat.gz');
  });

  it('with reuseBuffers, a file member comes through one buffer; without, through fresh ones', async () => {
    const file = path.join(dir, 'reuse-src');
    writeFileSync(file, patterned(3 * 1024 * 1024, 9));
    const entries: PackEntry[] = [{ path: 'postgres.dir/1.dat.gz', file, mtime }];
    const backing = async (reuseBuffers: boolean) => {
      const seen = new Set<ArrayBufferLike>();
      for await (const c of bundleChunks(entries, { reuseBuffers }))
        if (c.length === 1024 * 1024) seen.add(c.buffer);
      return seen.size;
    };
    expect(await backing(true)).toBe(1);
    expect(await backing(false)).toBe(3);
  });

  it('refuses a file that shrinks or grows while it is packed, and closes it', async () => {
    for (const change of ['shrink', 'grow'] as const) {
      const file = path.join(dir, `changing-${change}`);
      writeFileSync(file, patterned(3 * 1024 * 1024, 1));
      const chunks = bundleChunks([{ path: 'postgres.dir/2.dat.gz', file, mtime }], { reuseBuffers: true });
      let error: Error | undefined;
      try {
        let n = 0;
        for await (const c of chunks) {
          if (c.length === 1024 * 1024 && n++ === 0) {
            if (change === 'shrink') truncateSync(file, 1024 * 1024 + 10);
            else appendFileSync(file, Buffer.alloc(100));
          }
        }
      } catch (e) {
        error = e as Error;
      }
      expect(error?.message).toBe(`${file} changed size while it was bundled`);
    }
  });

  it('stops with the abort reason at the next chunk', async () => {
    const file = path.join(dir, 'abort-src');
    writeFileSync(file, patterned(3 * 1024 * 1024, 2));
    const abort = new AbortController();
    const reason = new Error('cancelled by the test');
    let chunks = 0;
    const run = (async () => {
      for await (const c of bundleChunks([{ path: 'x', file, mtime }], { signal: abort.signal })) {
        chunks++;
        if (c.length === 1024 * 1024) abort.abort(reason);
      }
    })();
    await expect(run).rejects.toBe(reason);
    expect(chunks).toBe(2); // the header, then one data chunk
  });
});

describe('FileStore.putChunks', () => {
  it('stores every byte of a producer that overwrites its buffer at once, past the early-writeback size', async () => {
    const store = new FileStore(path.join(dir, 'store'), { logger });
    // 72 MiB: more than one early `datasync` (every 64 MiB) runs beside the writes.
    const source = Buffer.concat(Array.from({ length: 72 }, (_, i) => patterned(1024 * 1024, i)));
    const put = await store.putChunks('b-20261130T123456Z.dbdrill.tar', scribblingProducer(source, 1 << 20));
    const stored = readFileSync(put.location);
    const want = createHash('sha256').update(source).digest('hex');
    expect(stored.length).toBe(source.length);
    expect(createHash('sha256').update(stored).digest('hex')).toBe(want);
    expect(put.sha256).toBe(want);
    expect(put.sizeBytes).toBe(source.length);
  });

  it('a producer that fails mid-way leaves no listed object and no partial', async () => {
    const storeDir = path.join(dir, 'store-fail');
    const store = new FileStore(storeDir, { logger });
    async function* failing(): AsyncGenerator<Buffer> {
      yield* scribblingProducer(patterned(3 << 20, 3), 1 << 20);
      throw new Error('the dump file vanished');
    }
    await expect(store.putChunks('b-20261130T123457Z.dbdrill.tar', failing())).rejects.toThrow(
      'the dump file vanished',
    );
    expect(await store.list('b-')).toEqual([]);
    expect(readdirSync(storeDir)).toEqual([]);
  });
});

describe('the age encryptor from and to reused buffers (sealTransient)', () => {
  let identity: string;
  let recipient: string;
  beforeAll(() => {
    identity = path.join(dir, 'id.txt');
    execFileSync('age-keygen', ['-o', identity], { stdio: 'ignore' });
    recipient = execFileSync('age-keygen', ['-y', identity], { encoding: 'utf8' }).trim();
  });

  const ageDecrypt = (file: string) =>
    execFileSync('age', ['-d', '-i', identity, file], { maxBuffer: 64 << 20 });

  it('encrypts every byte of a producer that overwrites its buffer at once (age decrypts it)', async () => {
    // around age's 64 KiB payload chunk (copied into its buffer, or sealed in place) and its
    // final flag: empty, exactly two and exactly sixteen chunks (one output buffer's worth), odd sizes
    const sources = [
      patterned(0, 1),
      patterned(2 * 64 * 1024, 2),
      patterned(16 * 64 * 1024, 3),
      patterned(5 * 1024 * 1024 + 777, 4),
    ];
    for (const source of sources) {
      for (const chunk of [1000, 64 * 1024, (1 << 20) + 3]) {
        const encryptor = await createEncryptStream({ recipients: [recipient] });
        // a slow reader that copies each chunk before asking for the next, as a store writes it
        const encrypted = await collect(slowly(encryptor.sealTransient(scribblingProducer(source, chunk))));
        const file = path.join(dir, `enc-${source.length}-${chunk}.age`);
        writeFileSync(file, encrypted);
        expect(ageDecrypt(file).equals(source)).toBe(true);
      }
    }
  });

  it('hands over one reused buffer of about 1 MiB, not a fresh one per sealed chunk', async () => {
    const encryptor = await createEncryptStream({ recipients: [recipient] });
    const backing = new Set<ArrayBufferLike>();
    const sizes: number[] = [];
    for await (const c of encryptor.sealTransient(scribblingProducer(patterned(4 << 20, 5), 1 << 20))) {
      backing.add(c.buffer);
      sizes.push(c.length);
    }
    // the header (its own buffer), then 1 MiB + 16 tags at a time from one buffer, then the rest
    expect(backing.size).toBe(2);
    expect(sizes.slice(1, -1).every((n) => n === 16 * (64 * 1024 + 16))).toBe(true);
  });

  it('through the file store: the stored object is what age decrypts, its .sha256 that of the file', async () => {
    const store = new FileStore(path.join(dir, 'store-enc'), { logger });
    const source = patterned(3 * 1024 * 1024 + 5, 6);
    const encryptor = await createEncryptStream({ recipients: [recipient] });
    const put = await store.putChunks(
      'e-20261130T123456Z.dbdrill.tar.age',
      encryptor.sealTransient(scribblingProducer(source, 1 << 20)),
    );
    expect(ageDecrypt(put.location).equals(source)).toBe(true);
    expect(put.sha256).toBe(createHash('sha256').update(readFileSync(put.location)).digest('hex'));
  });

  it('a failing producer fails the encryption; a reader that stops closes the producer', async () => {
    async function* failing(): AsyncGenerator<Buffer> {
      yield Buffer.alloc(1000, 1);
      throw new Error('read error in the dump');
    }
    const encryptor = await createEncryptStream({ recipients: [recipient] });
    await expect(collect(encryptor.sealTransient(failing()))).rejects.toThrow('read error in the dump');

    let closed = false;
    async function* endless(): AsyncGenerator<Buffer> {
      const b = Buffer.alloc(1 << 20, 2);
      try {
        for (;;) yield b;
      } finally {
        closed = true;
      }
    }
    const sealed = (await createEncryptStream({ recipients: [recipient] })).sealTransient(endless());
    let n = 0;
    for await (const _ of sealed) if (++n === 3) break;
    expect(closed).toBe(true);
  });
});
