/**
 * Hashing a dump directory while it is written (src/core/bundle/growing-files.ts), and packing
 * with those hashes (packBundle's `precomputed`), checked against sha256sum and GNU tar.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buffer } from 'node:stream/consumers';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { GrowingFilesHasher } from '../src/core/bundle/growing-files.js';
import { packBundle } from '../src/core/bundle/tar.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'dbdrill-growing-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sha256sum = (file: string) => execFileSync('sha256sum', [file], { encoding: 'utf8' }).split(' ')[0];

describe('GrowingFilesHasher', () => {
  it('hashes files appended to over several polls (and one created at the end) like sha256sum', async () => {
    const d = path.join(dir, 'dump1');
    const hasher = new GrowingFilesHasher(d, 10).start();
    await sleep(30); // the directory does not exist yet: no problem
    mkdirSync(d);
    for (let i = 0; i < 6; i++) {
      appendFileSync(path.join(d, '3001.dat.gz'), randomBytes(200_000 + i));
      appendFileSync(path.join(d, '3002.dat.gz'), randomBytes(1000));
      await sleep(25);
    }
    writeFileSync(path.join(d, 'toc.dat'), randomBytes(5000));
    const hashes = await hasher.finish();
    expect(hashes).toBeDefined();
    expect([...hashes!.keys()].sort()).toEqual(['3001.dat.gz', '3002.dat.gz', 'toc.dat']);
    for (const [name, h] of hashes!) {
      expect(h.sha256).toBe(sha256sum(path.join(d, name)));
      expect(h.size).toBe(statSync(path.join(d, name)).size);
    }
  });

  it('gives nothing when a file shrinks (rewritten, not appended) while it is watched', async () => {
    const d = path.join(dir, 'dump2');
    mkdirSync(d);
    const hasher = new GrowingFilesHasher(d, 10).start();
    writeFileSync(path.join(d, 'a.dat'), randomBytes(100_000));
    // Until a poll has read the first version: on a busy machine 60 ms was not always enough, and a
    // shrink the hasher never saw is no shrink to it (it then hashes the final file, correctly).
    const seen = (): number =>
      (hasher as unknown as { files: Map<string, { offset: number }> }).files.get('a.dat')?.offset ?? 0;
    for (let i = 0; i < 500 && seen() < 100_000; i++) await sleep(10);
    expect(seen()).toBe(100_000);
    writeFileSync(path.join(d, 'a.dat'), randomBytes(10));
    await sleep(60);
    expect(await hasher.finish()).toBeUndefined();
  });

  it('cancel stops polling and leaves no timer behind', async () => {
    const d = path.join(dir, 'dump3');
    mkdirSync(d);
    const hasher = new GrowingFilesHasher(d, 10).start();
    await hasher.cancel();
    writeFileSync(path.join(d, 'late.dat'), 'x');
    await sleep(40);
    // finish still catches up in one last read
    const hashes = await hasher.finish();
    expect(hashes?.get('late.dat')?.sha256).toBe(createHash('sha256').update('x').digest('hex'));
  });
});

describe('packBundle with precomputed hashes', () => {
  it('uses a hash whose size and mtime still match, and rehashes a file touched since', async () => {
    const d = path.join(dir, 'pack');
    mkdirSync(d);
    const a = path.join(d, 'a.dat');
    const b = path.join(d, 'b.dat');
    writeFileSync(a, randomBytes(300_000));
    writeFileSync(b, randomBytes(300_000));
    const hasher = new GrowingFilesHasher(d, 10).start();
    const hashes = (await hasher.finish())!;
    // b changes after it was hashed (same size, new mtime): its recorded hash must not be used
    writeFileSync(b, randomBytes(300_000));
    utimesSync(b, new Date(), new Date(Date.now() + 5000));
    const mtime = new Date(0);
    const tarBytes = await buffer(
      packBundle(
        [
          { path: 'd/a.dat', file: a, mtime, precomputed: hashes.get('a.dat') },
          { path: 'd/b.dat', file: b, mtime, precomputed: hashes.get('b.dat') },
        ],
        { checksumsMember: 'SHA256SUMS' },
      ),
    );
    const out = path.join(dir, 'out');
    mkdirSync(out);
    writeFileSync(path.join(dir, 'p.tar'), tarBytes);
    execFileSync('tar', ['-xf', path.join(dir, 'p.tar'), '-C', out]);
    // GNU sha256sum agrees with every line: a's from the early hash, b's from the pack
    expect(execFileSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: out, encoding: 'utf8' })).toMatch(
      /d\/a.dat: OK\nd\/b.dat: OK/,
    );
  });

  it('writes the recorded hash it is given when size and mtime match (the trust is in growing-files)', async () => {
    const d = path.join(dir, 'trust');
    mkdirSync(d);
    const f = path.join(d, 'f.dat');
    writeFileSync(f, 'hello');
    const s = statSync(f);
    const bogus = 'f'.repeat(64);
    const tarBytes = await buffer(
      packBundle(
        [
          {
            path: 'f.dat',
            file: f,
            mtime: new Date(0),
            precomputed: { sha256: bogus, size: s.size, mtimeMs: s.mtimeMs },
          },
        ],
        {
          checksumsMember: 'SHA256SUMS',
        },
      ),
    );
    // the packer did not hash f: a recorded hash it was handed is what SHA256SUMS says
    expect(tarBytes.toString('latin1')).toContain(`${bogus}  f.dat`);
  });
});
