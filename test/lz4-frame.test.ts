/**
 * The LZ4 frame decoder against frames the real `lz4` CLI writes with every option pg_dump's LZ4F
 * preferences (or another tool) may use, and against damaged frames.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';

import { Lz4FrameDecoder, xxh32 } from '../src/core/engines/postgres/lz4-frame.js';

let dir: string;
let plain: Buffer;

/** COPY-like text with long repeats (matches far back) and random runs (literals). */
function sample(): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < 20000; i++)
    parts.push(Buffer.from(`${i}\tcustomer ${i % 97}\t${'x'.repeat(i % 50)}\n`));
  parts.push(Buffer.from(randomBytes(300_000).toString('base64')));
  return Buffer.concat(parts);
}

function compress(args: string[]): Buffer {
  const input = path.join(dir, 'in');
  const out = path.join(dir, `out-${args.join('')}.lz4`);
  execFileSync('lz4', ['-q', '-f', ...args, input, out]);
  return readFileSync(out);
}

/** Decodes in small odd-sized chunks, so every field straddles a chunk boundary. */
async function decode(frame: Buffer, chunk = 777): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (let i = 0; i < frame.length; i += chunk) parts.push(frame.subarray(i, i + chunk));
  const out: Buffer[] = [];
  for await (const c of Readable.from(parts).pipe(new Lz4FrameDecoder())) out.push(c as Buffer);
  return Buffer.concat(out);
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'dbdrill-lz4-'));
  plain = sample();
  writeFileSync(path.join(dir, 'in'), plain);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('LZ4 frames from the real lz4 CLI', () => {
  it.each([
    [[]],
    [['-BD']],
    [['-BX']],
    [['-B4', '-BD']],
    [['-B7', '--content-size']],
    [['--no-frame-crc']],
    [['-9']],
  ])('lz4 %j decodes to the original bytes', async (args) => {
    expect(sha(await decode(compress(args)))).toBe(sha(plain));
  });

  it('two concatenated frames decode to both inputs', async () => {
    const f = compress([]);
    expect(sha(await decode(Buffer.concat([f, f])))).toBe(sha(Buffer.concat([plain, plain])));
  });

  it('xxHash32 matches the reference values', () => {
    expect(xxh32(Buffer.alloc(0))).toBe(0x02cc5d05);
    expect(xxh32(Buffer.from('abc'))).toBe(0x32d153ff);
  });
});

describe('damaged LZ4 frames', () => {
  it('a flipped byte fails the content checksum (or the block structure)', async () => {
    const bad = Buffer.from(compress([]));
    bad[Math.floor(bad.length / 2)]! ^= 0x10;
    await expect(decode(bad)).rejects.toThrow(/checksum|offset|block|literal|match/);
  });

  it('a flipped byte in the frame header fails the header checksum', async () => {
    const bad = Buffer.from(compress([]));
    bad[5]! ^= 0x01;
    await expect(decode(bad)).rejects.toThrow(/header checksum|reserved|block size/);
  });

  it('a truncated frame fails at the end of the input', async () => {
    const f = compress([]);
    await expect(decode(f.subarray(0, f.length - 100))).rejects.toThrow(/truncated/);
  });

  it('something that is not LZ4 names its magic number', async () => {
    await expect(decode(Buffer.from('PGDMP not lz4 at all'))).rejects.toThrow(
      /not an LZ4 frame: magic number/,
    );
  });
});
