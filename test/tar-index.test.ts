/**
 * The tar index that lets deep verify open a local bundle's members by offset: against tars made
 * by dbdrill's own writer (pax headers for long names) and by GNU tar (its own long-name records),
 * each span must hold exactly the member's bytes; anything it cannot fully read gives no index.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import {
  createWriteStream,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';

import { indexTarFile, packBundle } from '../src/core/bundle/tar.js';

let dir: string;
const longName = `postgres.dir/${'x'.repeat(120)}/3001.dat.gz`;
const members: Record<string, Buffer> = {
  'manifest.json': Buffer.from('{"a":1}\n'),
  'postgres.dir/toc.dat': Buffer.alloc(1000, 7),
  [longName]: Buffer.from(Array.from({ length: 70000 }, (_, i) => i % 251)),
  'postgres.dir/3002.dat.gz': Buffer.alloc(0),
};

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'dbdrill-tar-index-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function expectSpans(file: string, index: Awaited<ReturnType<typeof indexTarFile>>): void {
  expect(index).toBeDefined();
  const bytes = readFileSync(file);
  for (const [name, content] of Object.entries(members)) {
    const span = index!.get(name);
    expect(span).toBeDefined();
    expect(bytes.subarray(span!.offset, span!.offset + span!.size).equals(content)).toBe(true);
  }
}

describe('indexTarFile', () => {
  it("finds every member of dbdrill's own tar, pax long names included", async () => {
    const file = path.join(dir, 'own.tar');
    const entries = Object.entries(members).map(([p, content]) => ({ path: p, content, mtime: new Date() }));
    await pipeline(packBundle(entries, { checksumsMember: 'SHA256SUMS' }), createWriteStream(file));
    const index = await indexTarFile(file);
    expectSpans(file, index);
    expect(index!.has('SHA256SUMS')).toBe(true);
  });

  it('finds every member of a GNU tar archive (its own long-name records)', async () => {
    const src = path.join(dir, 'src');
    for (const [name, content] of Object.entries(members)) {
      mkdirSync(path.dirname(path.join(src, name)), { recursive: true });
      writeFileSync(path.join(src, name), content);
    }
    const file = path.join(dir, 'gnu.tar');
    execFileSync('tar', ['--format=gnu', '-cf', file, '-C', src, ...Object.keys(members)]);
    expectSpans(file, await indexTarFile(file));
  });

  it('gives no index for a truncated tar or a file that is not a tar', async () => {
    const file = path.join(dir, 'cut.tar');
    const entries = Object.entries(members).map(([p, content]) => ({ path: p, content, mtime: new Date() }));
    await pipeline(packBundle(entries), createWriteStream(file));
    truncateSync(file, 40000);
    expect(await indexTarFile(file)).toBeUndefined();
    const junk = path.join(dir, 'junk.bin');
    writeFileSync(junk, Buffer.alloc(4096, 0x41));
    expect(await indexTarFile(junk)).toBeUndefined();
  });

  it('gives no index when a name occurs twice (the walk then sees and reports both)', async () => {
    const src = path.join(dir, 'twice');
    mkdirSync(src, { recursive: true });
    writeFileSync(path.join(src, '3001.dat'), 'first\n');
    const file = path.join(dir, 'twice.tar');
    execFileSync('tar', ['-cf', file, '-C', src, '3001.dat']);
    writeFileSync(path.join(src, '3001.dat'), 'second, longer\n');
    execFileSync('tar', ['-rf', file, '-C', src, '3001.dat']);
    expect(execFileSync('tar', ['-tf', file], { encoding: 'utf8' })).toBe('3001.dat\n3001.dat\n');
    expect(await indexTarFile(file)).toBeUndefined();
  });

  it('skips the pax header GNU tar writes before each member in pax format', async () => {
    const src = path.join(dir, 'pax');
    mkdirSync(src, { recursive: true });
    writeFileSync(path.join(src, 'a.dat'), Buffer.alloc(3000, 1));
    const file = path.join(dir, 'pax.tar');
    // --format=pax writes a pax header for every member (mtime records): the index must skip them
    execFileSync('tar', ['--format=pax', '-cf', file, '-C', src, 'a.dat']);
    const index = await indexTarFile(file);
    expect(index?.get('a.dat')).toEqual({ offset: expect.any(Number), size: 3000 });
    const bytes = readFileSync(file);
    const span = index!.get('a.dat')!;
    expect(bytes.subarray(span.offset, span.offset + span.size).equals(Buffer.alloc(3000, 1))).toBe(true);
  });
});
