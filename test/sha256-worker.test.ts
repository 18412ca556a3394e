/**
 * The shared sha256 worker (src/core/bundle/sha256-worker.ts) against node:crypto and the real
 * sha256sum: same digests for any chunking, several hashes at once, and bounded memory; in both
 * placements (on the worker, and in place, which a CPU with SHA extensions gets by default).
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';

import { describe, expect, it } from '@jest/globals';

import {
  OffThreadHashingStream,
  OffThreadSha256,
  sha256Placement,
  type Sha256Placement,
} from '../src/core/bundle/sha256-worker.js';

function chunked(data: Buffer, sizes: number[]): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0, i = 0; at < data.length; i++) {
    const n = sizes[i % sizes.length]!;
    out.push(data.subarray(at, at + n));
    at += n;
  }
  return out;
}

describe.each<Sha256Placement>(['worker', 'inline', 'auto'])('OffThreadSha256 (%s)', (placement) => {
  it('gives the sha256 of what was written, for any chunking, equal to sha256sum', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 12345);
    const dir = mkdtempSync(path.join(tmpdir(), 'dbdrill-sha-'));
    try {
      writeFileSync(path.join(dir, 'f'), data);
      const expected = execFileSync('sha256sum', [path.join(dir, 'f')], { encoding: 'utf8' }).split(' ')[0];
      for (const sizes of [[1], [7, 65536, 300_000], [262_144], [1 << 20, 3]]) {
        const h = new OffThreadSha256(placement);
        // a 1-byte chunking of 3 MB would take long: use it on a prefix only
        const input = sizes[0] === 1 ? data.subarray(0, 70_000) : data;
        for (const c of chunked(input, sizes)) await h.write(c);
        expect(h.bytes).toBe(input.length);
        const want = input === data ? expected : createHash('sha256').update(input).digest('hex');
        expect(await h.digest()).toBe(want);
        // digest is memoised
        expect(await h.digest()).toBe(want);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps several hashes apart when they interleave, and hashes nothing as the empty string', async () => {
    const a = randomBytes(1_000_000);
    const b = randomBytes(700_001);
    const ha = new OffThreadSha256(placement);
    const hb = new OffThreadSha256(placement);
    const empty = new OffThreadSha256(placement);
    const ca = chunked(a, [100_000]);
    const cb = chunked(b, [70_000]);
    for (let i = 0; i < Math.max(ca.length, cb.length); i++) {
      if (ca[i]) await ha.write(ca[i]!);
      if (cb[i]) await hb.write(cb[i]!);
    }
    const [da, db, de] = await Promise.all([ha.digest(), hb.digest(), empty.digest()]);
    expect(da).toBe(createHash('sha256').update(a).digest('hex'));
    expect(db).toBe(createHash('sha256').update(b).digest('hex'));
    expect(de).toBe(createHash('sha256').digest('hex'));
  });

  it('a flipped byte changes the digest (the caller is not handed a stale or shared result)', async () => {
    const data = randomBytes(600_000);
    const h1 = new OffThreadSha256(placement);
    await h1.write(data);
    const flipped = Buffer.from(data);
    flipped[599_999]! ^= 1;
    const h2 = new OffThreadSha256(placement);
    await h2.write(flipped);
    expect(await h1.digest()).not.toBe(await h2.digest());
    expect(await h2.digest()).toBe(createHash('sha256').update(flipped).digest('hex'));
  });

  it('as a stream: passes the bytes through unchanged and hashes 64 MB with bounded memory', async () => {
    const block = randomBytes(1 << 20);
    const expected = createHash('sha256');
    for (let i = 0; i < 64; i++) expected.update(block);
    const hs = new OffThreadHashingStream(placement);
    let passed = 0;
    let same = true;
    const rssBefore = process.memoryUsage().rss;
    let rssPeak = rssBefore;
    await pipeline(
      Readable.from(
        (function* () {
          for (let i = 0; i < 64; i++) yield block;
        })(),
      ),
      hs,
      new Writable({
        write(chunk: Buffer, _enc, cb) {
          if (!chunk.equals(block.subarray(passed % block.length, (passed % block.length) + chunk.length)))
            same = false;
          passed += chunk.length;
          rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
          cb();
        },
      }),
    );
    expect(same).toBe(true);
    expect(passed).toBe(64 << 20);
    expect(hs.bytes).toBe(64 << 20);
    expect(await hs.digest()).toBe(expected.digest('hex'));
    // at most 8 MB waits to be hashed; 64 MB held would show
    expect(rssPeak - rssBefore).toBeLessThan(48 << 20);
  });
});

describe('where the hash runs', () => {
  it('auto measures sha256 once per process and keeps the answer', () => {
    const first = sha256Placement();
    expect(['worker', 'inline']).toContain(first);
    for (let i = 0; i < 5; i++) expect(sha256Placement()).toBe(first);
  });

  it('worker hashes off the thread (writes queue and push back), inline never waits', async () => {
    const block = randomBytes(1 << 20);
    const expected = createHash('sha256');
    for (let i = 0; i < 24; i++) expected.update(block);
    const want = expected.digest('hex');
    for (const placement of ['worker', 'inline'] as const) {
      const h = new OffThreadSha256(placement);
      // written without awaiting: only a worker lets bytes pile up past its 8 MB bound
      const waits = Array.from({ length: 24 }, () => h.write(block)).filter((w) => w !== undefined);
      if (placement === 'worker') expect(waits.length).toBeGreaterThan(0);
      else expect(waits).toHaveLength(0);
      await Promise.all(waits);
      expect(await h.digest()).toBe(want);
    }
  });
});
