/**
 * dbdrill's tar reader (src/core/bundle/tar-reader.ts, through `walkTar`) against tar-stream 3,
 * whose extractor it replaced, on archives GNU tar writes in each of its formats: the same members
 * with the same bytes, from a stream and from one reused buffer that is scribbled over after every
 * chunk; and the same verdict on truncated, corrupted and hostile archives.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import * as tarStream from 'tar-stream';

import {
  ChunkHandoff,
  TransientChunks,
  readFileTransient,
  type ByteInput,
} from '../src/core/bundle/stream-utils.js';
import { BundleFormatError, walkTar } from '../src/core/bundle/tar.js';

let work: string;
const tars: Record<string, string> = {};
const LONG = `${'d'.repeat(60)}/${'e'.repeat(70)}/${'f'.repeat(80)}.dat`;

beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), 'dbdrill-tar-reader-'));
  const src = path.join(work, 'src');
  mkdirSync(path.join(src, path.dirname(LONG)), { recursive: true });
  writeFileSync(path.join(src, LONG), randomBytes(3000));
  writeFileSync(path.join(src, 'empty'), '');
  writeFileSync(path.join(src, 'b511'), randomBytes(511));
  writeFileSync(path.join(src, 'b512'), randomBytes(512));
  writeFileSync(path.join(src, 'b513'), randomBytes(513));
  writeFileSync(path.join(src, 'notes.txt'), 'notes\n');
  writeFileSync(path.join(src, 'big.bin'), randomBytes(3 * 1024 * 1024 + 77));
  // LONG is a prefix + name split in ustar, a GNU long name in gnu, a pax path record in pax
  const members = ['empty', 'b511', 'b512', 'b513', 'notes.txt', 'big.bin', LONG];
  for (const format of ['ustar', 'gnu', 'pax']) {
    tars[format] = path.join(work, `${format}.tar`);
    execFileSync('tar', [`--format=${format}`, '-C', src, '-cf', tars[format], ...members]);
  }
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

interface Seen {
  path: string;
  size: number;
  sha256: string;
}

/** What tar-stream's extractor reads: regular files only, as walkTar hands them over. */
async function withTarStream(file: string): Promise<Seen[]> {
  const extract = tarStream.extract();
  const out: Seen[] = [];
  const done = (async () => {
    for await (const entry of extract) {
      const hash = createHash('sha256');
      let size = 0;
      for await (const chunk of entry) {
        hash.update(chunk as Buffer);
        size += (chunk as Buffer).length;
      }
      if (entry.header.type === 'file')
        out.push({ path: entry.header.name.replace(/^\.\//, ''), size, sha256: hash.digest('hex') });
    }
  })();
  createReadStream(file).pipe(extract);
  await done;
  return out;
}

/** Overwrites each chunk once the next is asked for: a kept chunk shows as 0xEE bytes. */
function scribbling(source: AsyncIterable<Buffer>): TransientChunks {
  return new TransientChunks(
    (async function* () {
      for await (const chunk of source) {
        yield chunk;
        chunk.fill(0xee);
      }
    })(),
  );
}

async function withWalk(input: ByteInput, via: 'chunks' | 'stream'): Promise<Seen[]> {
  const out: Seen[] = [];
  await walkTar(input, async (entry) => {
    const hash = createHash('sha256');
    let size = 0;
    const data: AsyncIterable<Buffer> = via === 'chunks' ? entry.chunks() : entry.stream;
    for await (const chunk of data) {
      hash.update(chunk);
      size += chunk.length;
    }
    expect(size).toBe(entry.size);
    out.push({ path: entry.path, size, sha256: hash.digest('hex') });
  });
  return out;
}

describe('walkTar reads what tar-stream read', () => {
  it.each(['ustar', 'gnu', 'pax'])(
    '%s archives from GNU tar: same members and bytes from a stream, and from a reused buffer',
    async (format) => {
      const expected = await withTarStream(tars[format]!);
      expect(expected.map((e) => e.path)).toEqual([
        'empty',
        'b511',
        'b512',
        'b513',
        'notes.txt',
        'big.bin',
        LONG,
      ]);
      expect(await withWalk(createReadStream(tars[format]!), 'chunks')).toEqual(expected);
      expect(await withWalk(createReadStream(tars[format]!), 'stream')).toEqual(expected);
      // 1000-byte reads: headers straddle chunks; every chunk is scribbled over after use
      for (const via of ['chunks', 'stream'] as const) {
        const input = scribbling(readFileTransient(tars[format]!, { bufferSize: 1000 }));
        expect(await withWalk(input, via)).toEqual(expected);
      }
    },
  );

  it('chunks() hands out slices of the one reused buffer: no copy per read', async () => {
    const backing = new Set<ArrayBufferLike>();
    let chunks = 0;
    await walkTar(new TransientChunks(readFileTransient(tars.pax!, { bufferSize: 65536 })), async (entry) => {
      if (entry.path !== 'big.bin') return;
      for await (const chunk of entry.chunks()) {
        backing.add(chunk.buffer);
        chunks++;
      }
    });
    expect(chunks).toBeGreaterThan(40);
    expect(backing.size).toBe(1);
  });

  it('a member the handler leaves unread, or half read, is skipped to the next header', async () => {
    const expected = await withTarStream(tars.gnu!);
    const seen: string[] = [];
    await walkTar(new TransientChunks(readFileTransient(tars.gnu!, { bufferSize: 4096 })), async (entry) => {
      seen.push(entry.path);
      if (entry.path === 'big.bin') {
        for await (const chunk of entry.chunks()) if (chunk.length) break;
      }
      if (entry.path === 'b513') {
        const it = entry.stream[Symbol.asyncIterator]();
        await it.next();
      }
    });
    expect(seen).toEqual(expected.map((e) => e.path));
  });
});

/** Both readers' verdicts on the same bytes: rejected (with walkTar's message) or accepted. */
async function bothOn(bytes: Buffer): Promise<{ ours: string; theirs: string }> {
  const file = path.join(work, `case-${randomBytes(4).toString('hex')}.tar`);
  writeFileSync(file, bytes);
  const input = new TransientChunks(readFileTransient(file, { bufferSize: 700 }));
  const ours = await walkTar(input, async (e) => {
    for await (const c of e.chunks()) void c;
  }).then(
    () => 'accepted',
    (err: Error) =>
      err instanceof BundleFormatError ? err.message : `not a BundleFormatError: ${err.message}`,
  );
  // a stopped walk leaves the input open for its caller (verify reads the rest): close it
  await input[Symbol.asyncIterator]().return?.();
  const theirs = await withTarStream(file).then(
    () => 'accepted',
    (err: Error) => err.message,
  );
  return { ours, theirs };
}

describe('damaged and hostile archives', () => {
  it('truncated anywhere inside a header or a member: both refuse, ours says truncated', async () => {
    const whole = readFileSync(tars.pax!);
    // in the first header, in a pax body, in data, in padding, in the last member's data
    for (const cut of [100, 512 + 40, 2048 + 700, 512 * 9 + 300, whole.length - 1024 * 10 - 5]) {
      const { ours, theirs } = await bothOn(whole.subarray(0, cut));
      expect(ours).toMatch(/^bundle is truncated: Unexpected end of data/);
      expect(theirs).not.toBe('accepted');
    }
  });

  it('an archive cut at a member boundary (no end blocks) is accepted by both', async () => {
    const whole = readFileSync(tars.ustar!);
    // GNU tar pads to a 10240-byte record: strip every trailing zero block
    let cut = whole.length;
    while (cut > 0 && whole.subarray(cut - 512, cut).every((b) => b === 0)) cut -= 512;
    expect(cut).toBeLessThan(whole.length - 1024);
    expect(await bothOn(whole.subarray(0, cut))).toEqual({ ours: 'accepted', theirs: 'accepted' });
  });

  it('a header with a wrong checksum, or of no known format, is refused by both', async () => {
    const flipped = Buffer.from(readFileSync(tars.ustar!));
    flipped[512 + 10]! ^= 0x01; // a name byte of the second header ("empty" has no data)
    const a = await bothOn(flipped);
    expect(a.ours).toMatch(/^bundle is not a valid tar archive \(Invalid tar header/);
    expect(a.theirs).toMatch(/Invalid tar header/);

    const unknown = Buffer.from(readFileSync(tars.ustar!));
    unknown.write('xxxxx\0', 257, 'latin1');
    fixChecksum(unknown, 0);
    const b = await bothOn(unknown);
    expect(b.ours).toMatch(/unknown format/);
    expect(b.theirs).toMatch(/unknown format/);
  });

  it('garbage after the end-of-archive blocks is refused by both', async () => {
    const whole = readFileSync(tars.ustar!);
    const { ours, theirs } = await bothOn(Buffer.concat([whole, randomBytes(512)]));
    expect(ours).toMatch(/^bundle is not a valid tar archive/);
    expect(theirs).not.toBe('accepted');
  });

  it('links and unsafe paths are refused before any handler sees them', async () => {
    const linkDir = path.join(work, 'links');
    mkdirSync(linkDir);
    writeFileSync(path.join(linkDir, 'target'), 'x');
    execFileSync('ln', ['-s', 'target', path.join(linkDir, 'link')]);
    const linkTar = path.join(work, 'link.tar');
    execFileSync('tar', ['-C', linkDir, '-cf', linkTar, 'link']);
    await expect(walkTar(createReadStream(linkTar), async () => undefined)).rejects.toThrow(
      /"link" is a symlink; bundles hold regular files only/,
    );

    const pack = tarStream.pack();
    pack.entry({ name: '../escape.txt' }, 'bad');
    pack.finalize();
    await expect(
      walkTar(Readable.from(pack as unknown as AsyncIterable<Buffer>), async () => undefined),
    ).rejects.toThrow(/"\.\.\/escape\.txt" has an unsafe path/);
  });

  it.each(['stream', 'one reused buffer'])(
    'a walk stopped early (from a %s) leaves the rest of the input to be read, so the whole hash holds',
    async (kind) => {
      // verify hashes each chunk as the walk pulls it, then reads the rest: every byte, once
      const file = tars.pax!;
      const hash = createHash('sha256');
      const source =
        kind === 'stream'
          ? createReadStream(file, { highWaterMark: 65536 })
          : new TransientChunks(readFileTransient(file, { bufferSize: 65536 }));
      const hashed = (async function* () {
        for await (const chunk of source as AsyncIterable<Buffer>) {
          hash.update(chunk);
          yield chunk;
        }
      })();
      const input = kind === 'stream' ? Readable.from(hashed) : new TransientChunks(hashed);
      const stop = new Error('the handler stops in big.bin, half read');
      await expect(
        walkTar(input, async (entry) => {
          if (entry.path !== 'big.bin') return;
          let n = 0;
          for await (const chunk of entry.chunks()) if ((n += chunk.length) > 1 << 20) throw stop;
        }),
      ).rejects.toBe(stop);
      for await (const _ of input) void _;
      expect(hash.digest('hex')).toBe(createHash('sha256').update(readFileSync(file)).digest('hex'));
    },
  );
});

describe('ChunkHandoff', () => {
  it('each push resolves only once the consumer asks for the next chunk, or stops', async () => {
    const handoff = new ChunkHandoff();
    const got: string[] = [];
    let release: () => void = () => undefined;
    const consumer = (async () => {
      for await (const chunk of handoff) {
        got.push(chunk.toString());
        if (got.length === 2) await new Promise<void>((r) => (release = r));
        if (got.length === 3) break;
      }
    })();
    const buf = Buffer.alloc(1);
    const pushed: number[] = [];
    for (const c of 'abcd') {
      buf.write(c);
      const p = handoff.push(buf).then(() => pushed.push(pushed.length));
      if (c === 'b') {
        // the consumer holds "b" until released: the producer must not reuse the buffer yet
        await new Promise((r) => setTimeout(r, 20));
        expect(pushed).toHaveLength(1);
        release();
      }
      await p;
    }
    handoff.end();
    await consumer;
    // "d" was pushed after the consumer stopped: it resolved at once, unread
    expect(got).toEqual(['a', 'b', 'c']);
  });
});

function fixChecksum(buf: Buffer, at: number): void {
  buf.fill(0x20, at + 148, at + 156);
  let sum = 0;
  for (let i = at; i < at + 512; i++) sum += buf[i]!;
  buf.write(sum.toString(8).padStart(6, '0') + '\0 ', at + 148, 'latin1');
}
