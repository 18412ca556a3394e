import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, promises as fsp, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { bundleKey, bundlesOf } from '../src/core/bundle/naming.js';
import { ConfigError } from '../src/core/errors.js';
import { MemoryLogger } from './helpers/memory-logger.js';
import { FileStore } from '../src/core/stores/file-store.js';
import { openStore } from '../src/core/stores/open-store.js';
import { S3Store } from '../src/core/stores/s3-store.js';
import { ObjectExistsError, ObjectNotFoundError } from '../src/core/stores/store-errors.js';

let root: string;
const logger = new MemoryLogger();

beforeAll(() => {
  root = mkdtempSync(path.join(tmpdir(), 'file-store-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Emits `good` bytes, then fails: a dump that dies half-way. */
function failingStream(good: Buffer, after = 3): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent < after) {
        this.push(good.subarray((sent * good.length) / after, ((sent + 1) * good.length) / after));
        sent++;
      } else {
        this.destroy(new Error('pg_dump exited with code 1'));
      }
    },
  });
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('FileStore', () => {
  it('creates the directory 0700 and round-trips a streamed object with its sha256, mode 0600', async () => {
    const dir = path.join(root, 'a', 'nested');
    const store = new FileStore(dir, { logger });
    const data = randomBytes(3 * 1024 * 1024 + 7);
    const key = bundleKey('shop', new Date('2026-03-01T02:03:04Z'));
    const result = await store.put(key, Readable.from([data.subarray(0, 1000), data.subarray(1000)]));
    expect(result).toEqual({
      key,
      sizeBytes: data.length,
      sha256: createHash('sha256').update(data).digest('hex'),
      location: path.join(dir, key),
    });
    expect((await fsp.stat(dir)).mode & 0o777).toBe(0o700);
    expect((await fsp.stat(path.join(dir, key))).mode & 0o777).toBe(0o600);
    expect((await readAll(await store.get(key))).equals(data)).toBe(true);
    expect(store.localPath(key)).toBe(path.join(dir, key));
    const listed = await store.list('shop-');
    expect(listed.map(({ key, sizeBytes }) => ({ key, sizeBytes }))).toEqual([
      { key, sizeBytes: data.length },
    ]);
    expect(typeof listed[0].modifiedAt?.getTime()).toBe('number');
    expect(await fsp.readdir(dir)).toEqual([key]);
  });

  it('accepts file:///abs/dir and refuses file:relative', async () => {
    const dir = path.join(root, 'uri');
    const store = new FileStore(pathToFileURL(dir).href, { logger });
    expect(store.dir).toBe(dir);
    await store.writeText('x.txt', 'hi');
    expect(await fsp.readFile(path.join(dir, 'x.txt'), 'utf8')).toBe('hi');
    expect(() => new FileStore('file:relative/dir', { logger })).toThrow(ConfigError);
    expect(() => new FileStore('file:relative/dir', { logger })).toThrow(/file:\/\/\/absolute\/dir/);
  });

  it('a stream that errors mid-way rejects and leaves no listed object and no partial', async () => {
    const dir = path.join(root, 'fail');
    const store = new FileStore(dir, { logger });
    const key = bundleKey('shop', new Date('2026-03-01T00:00:00Z'));
    await expect(store.put(key, failingStream(randomBytes(1024 * 1024)))).rejects.toThrow(
      /pg_dump exited with code 1/,
    );
    expect(await store.list('')).toEqual([]);
    expect(await fsp.readdir(dir)).toEqual([]);
    await expect(store.get(key)).rejects.toBeInstanceOf(ObjectNotFoundError);
  });

  it('refuses to overwrite by default, leaves the original intact, and overwrites only when asked', async () => {
    const store = new FileStore(path.join(root, 'noover'), { logger });
    const key = 'shop-20260101T000000Z.dbdrill.tar';
    await store.put(key, Readable.from([Buffer.from('first')]));
    const err = await store.put(key, Readable.from([Buffer.from('second')])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ObjectExistsError);
    expect((err as ObjectExistsError).code).toBe('EEXIST');
    expect((err as Error).message).toMatch(/already exists.*never overwritten/);
    expect((await readAll(await store.get(key))).toString()).toBe('first');
    expect(await fsp.readdir(path.join(root, 'noover'))).toEqual([key]);
    await store.put(key, Readable.from([Buffer.from('third')]), { noOverwrite: false });
    expect((await readAll(await store.get(key))).toString()).toBe('third');
  });

  it('parallel puts of the same key: exactly one wins, no partial remains', async () => {
    const dir = path.join(root, 'race');
    const store = new FileStore(dir, { logger });
    const key = 'shop-20260101T000000Z.dbdrill.tar';
    const results = await Promise.allSettled(
      [1, 2, 3, 4].map((i) => store.put(key, Readable.from([randomBytes(200_000), Buffer.from(String(i))]))),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(
      results
        .filter((r) => r.status === 'rejected')
        .every((r) => (r as PromiseRejectedResult).reason instanceof ObjectExistsError),
    ).toBe(true);
    expect(await fsp.readdir(dir)).toEqual([key]);
  });

  it('list ignores partial files, dot files, directories and other prefixes; bundlesOf resolves the newest by name', async () => {
    const dir = path.join(root, 'list');
    const store = new FileStore(dir, { logger });
    const stamps = ['2026-01-01T00:00:00Z', '2026-03-01T00:00:00Z', '2026-02-01T00:00:00Z'];
    for (const s of stamps) await store.put(bundleKey('shop', new Date(s)), Readable.from([Buffer.from(s)]));
    await store.put(
      bundleKey('shop2', new Date('2027-01-01T00:00:00Z')),
      Readable.from([Buffer.from('other')]),
    );
    // A put killed with SIGKILL leaves exactly this behind; it must never count as a bundle.
    const newer = bundleKey('shop', new Date('2026-12-01T00:00:00Z'));
    writeFileSync(path.join(dir, `.${newer}.partial-abc123`), 'half');
    await fsp.mkdir(path.join(dir, bundleKey('shop', new Date('2026-11-01T00:00:00Z'))));
    // Modification time must not matter: make the oldest the most recently touched.
    await fsp.utimes(
      path.join(dir, bundleKey('shop', new Date(stamps[0]))),
      new Date(),
      new Date(Date.now() + 3600_000),
    );
    const listed = await store.list('shop-');
    expect(listed.map((o) => o.key).sort()).toEqual(stamps.map((s) => bundleKey('shop', new Date(s))).sort());
    const newest = bundlesOf(
      'shop',
      (await store.list('')).map((o) => o.key),
    )[0];
    expect(newest.key).toBe(bundleKey('shop', new Date('2026-03-01T00:00:00Z')));
  });

  it('delete is idempotent; readText of a missing key is undefined; writeText replaces atomically', async () => {
    const store = new FileStore(path.join(root, 'text'), { logger });
    expect(await store.readText('shop.drill-history.jsonl')).toBeUndefined();
    await store.writeText('shop.drill-history.jsonl', '{"a":1}\n');
    await store.writeText('shop.drill-history.jsonl', '{"a":1}\n{"a":2}\n');
    expect(await store.readText('shop.drill-history.jsonl')).toBe('{"a":1}\n{"a":2}\n');
    expect((await fsp.stat(path.join(root, 'text', 'shop.drill-history.jsonl'))).mode & 0o777).toBe(0o600);
    await store.delete('shop.drill-history.jsonl');
    await store.delete('shop.drill-history.jsonl');
    expect(await store.list('')).toEqual([]);
  });

  it('listing a store that does not exist (or is a file) is a usage error, and creates nothing', async () => {
    const never = path.join(root, 'never-created');
    await expect(new FileStore(never, { logger }).list('')).rejects.toThrow(
      new ConfigError(
        `store ${never} does not exist: check the store path (a backup creates it; list, verify, prune and drill only read it)`,
      ),
    );
    await expect(fsp.stat(never)).rejects.toThrow(/ENOENT/);
    const file = path.join(root, 'a-file');
    await fsp.writeFile(file, 'x');
    await expect(new FileStore(`file://${file}`, { logger }).list('')).rejects.toThrow(
      `store file://${file} (${file}) is not a directory`,
    );
  });

  it('an unwritable directory is a ConfigError naming the path and the fix', async () => {
    // CI runs as root, which ignores permission bits: use places nobody can write to.
    const file = path.join(root, 'plain-file');
    writeFileSync(file, 'x');
    for (const dir of [path.join(file, 'sub'), file, '/proc/dbdrill-store']) {
      const store = new FileStore(dir, { logger });
      const err = await store.put('k.txt', Readable.from([Buffer.from('x')])).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toContain(dir);
      expect((err as Error).message).toContain('check permissions or choose another store');
    }
  });

  it('rejects keys that would leave the store or look like partials', async () => {
    const store = new FileStore(path.join(root, 'keys'), { logger });
    for (const key of ['../escape', 'a/b', '.hidden', '']) {
      await expect(store.put(key, Readable.from([Buffer.from('x')]))).rejects.toBeInstanceOf(ConfigError);
    }
  });
});

describe('openStore', () => {
  it('maps each URI form to its store and refuses the rest with the accepted forms', () => {
    expect(openStore(path.join(root, 'o'), { logger })).toBeInstanceOf(FileStore);
    expect(openStore('relative/dir', { logger })).toBeInstanceOf(FileStore);
    expect(openStore(pathToFileURL(path.join(root, 'o')).href, { logger })).toBeInstanceOf(FileStore);
    const s3 = openStore('s3://bucket/some/prefix/', { logger, env: { AWS_REGION: 'eu-west-1' } });
    expect(s3).toBeInstanceOf(S3Store);
    expect(s3.displayUri).toBe('s3://bucket/some/prefix');
    expect(() => openStore('artifact://backups', { logger, env: {} })).toThrow(
      /only works inside a GitHub Actions job/,
    );
    for (const bad of ['gs://bucket/x', 'https://user:pw@example.com/x', '']) {
      let message = '';
      try {
        openStore(bad, { logger });
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        message = (e as Error).message;
      }
      expect(message).toContain('s3://bucket/prefix');
      expect(message).toContain('file:///');
      expect(message).not.toContain('pw@');
    }
    expect(() => openStore('s3://', { logger })).toThrow(ConfigError);
    expect(() => openStore('s3://key:secret@bucket/x', { logger })).toThrow(/must not contain credentials/);
  });
});
