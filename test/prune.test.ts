/**
 * prune end to end on real stores (a directory and a real S3 protocol server): synthetic bundles
 * are tiny tar files named with bundle keys, with `.sha256` and `.verify.json` sidecars written
 * the way backup and verify write them. Store doubles appear only for the faults a real store
 * will not produce on demand (a delete that silently does nothing, a delete that hits the wrong key).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';

import {
  bundleKey,
  listWithRecords,
  pruneStore,
  readVerifyRecord,
  recordKey,
  type VerifyRecord,
} from '../src/core/catalog/index.js';
import { fixedClock } from '../src/core/clock.js';
import { CheckFailed, ConfigError } from '../src/core/errors.js';
import { MemoryLogger } from './helpers/memory-logger.js';
import { NodeProcessRunner } from '../src/core/process.js';
import { prune, type PruneDeps, type PruneResult } from '../src/core/prune.js';
import { parsePruneOptions } from '../src/core/options/index.js';
import { OptionReader } from '../src/core/options/index.js';
import { FileStore } from '../src/core/stores/file-store.js';
import { openStore } from '../src/core/stores/open-store.js';
import type { Store } from '../src/core/stores/store.js';
import { startS3Server, type S3TestServer } from './helpers/s3-server.js';
import { tempDir } from './helpers/deps.js';

const NOW = new Date('2026-03-01T12:00:00Z');
const HOUR = 3_600_000;

function depsFor(store: Store, now = NOW): PruneDeps & { logger: MemoryLogger } {
  const logger = new MemoryLogger();
  return {
    logger,
    clock: fixedClock(now),
    runner: new NodeProcessRunner(logger),
    openStore: () => store,
    label: (n) => n,
  };
}

/** A tiny tar-looking object (512 zero bytes: an end-of-archive block); content is not what prune looks at. */
async function addBundle(store: Store, name: string, at: Date, verified?: boolean): Promise<string> {
  const key = bundleKey(name, at);
  const put = await store.put(key, Readable.from([Buffer.alloc(1024)]));
  await store.writeText(key + '.sha256', `${put.sha256}  ${key}\n`);
  if (verified !== undefined) {
    const record: VerifyRecord = {
      ok: verified,
      verifiedAt: at.toISOString(),
      deep: false,
      problems: verified ? [] : ['bundle readable: synthetic failure'],
    };
    await store.writeText(recordKey(key), JSON.stringify(record));
  }
  return key;
}

async function keysOf(store: Store, prefix = ''): Promise<string[]> {
  return (await store.list(prefix)).map((o) => o.key).sort();
}

async function failure(p: Promise<unknown>): Promise<CheckFailed> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CheckFailed);
  return err as CheckFailed;
}

/** Every 6 h for three years up to NOW, with a five-week gap in 2024 (no backups at all). */
async function threeYears(store: Store, name: string): Promise<string[]> {
  const keys: string[] = [];
  const start = Date.UTC(2023, 2, 1, 3, 0);
  for (let t = start; t <= NOW.getTime(); t += 6 * HOUR) {
    if (t >= Date.UTC(2024, 9, 1) && t < Date.UTC(2024, 10, 5)) continue;
    keys.push(await addBundle(store, name, new Date(t), true));
  }
  return keys;
}

describe('prune on a file store', () => {
  let dir: { dir: string; remove: () => Promise<void> };
  beforeAll(async () => (dir = await tempDir('dbdrill-prune-')));
  afterAll(async () => dir.remove());
  let n = 0;
  const fresh = () => new FileStore(join(dir.dir, `s${++n}`), { logger: new MemoryLogger() });

  it('keeps GFS tiers over three years (month, year boundaries, a gap), deletes the rest with sidecars, and is idempotent', async () => {
    const store = fresh();
    const all = await threeYears(store, 'shop');
    expect(all.length).toBeGreaterThan(4000);
    const policy = { keepLast: 3, keepDaily: 7, keepWeekly: 5, keepMonthly: 24, keepYearly: 5 };
    const deps = depsFor(store);
    const result = await pruneStore(deps, store, 'shop', policy, false);
    expect(result.problems).toEqual([]);
    expect(result.ok).toBe(true);
    const remaining = (await keysOf(store, 'shop')).filter((k) => k.endsWith('.dbdrill.tar'));
    expect(remaining.length).toBe(result.kept.length);
    // 3 last (within the daily), 7 daily, 5 weekly, 24 monthly, 4 yearly (2023..2026): overlaps collapse.
    expect(result.kept.length).toBeLessThanOrEqual(3 + 7 + 5 + 24 + 4);
    expect(result.kept.length).toBeGreaterThanOrEqual(24 + 3);
    // The newest bundle carries its reasons; the yearly tier kept the newest of 2023 (a December bundle).
    expect(result.kept[0].reasons).toEqual(
      expect.arrayContaining(['newest bundle', 'newest verified', 'last 1 of 3']),
    );
    const y2023 = result.kept.find((k) => k.reasons.includes('yearly 2023'));
    expect(y2023?.key).toBe(bundleKey('shop', new Date(Date.UTC(2023, 11, 31, 21, 0))));
    // The gap: October 2024 has no bundle, so the 24-month tier reaches one month further back (March 2024).
    expect(result.kept.some((k) => k.reasons.includes('monthly 2024-10'))).toBe(false);
    expect(result.kept.some((k) => k.reasons.includes('monthly 2024-03'))).toBe(true);
    expect(result.kept.some((k) => k.reasons.includes('monthly 2024-02'))).toBe(false);
    // Sidecars go with their bundles; none is left orphaned, none of a kept bundle is missing.
    const files = readdirSync(store.dir);
    const bundles = new Set(files.filter((f) => f.endsWith('.dbdrill.tar')));
    expect(
      files.filter(
        (f) => !f.endsWith('.dbdrill.tar') && !bundles.has(f.replace(/\.(sha256|verify\.json)$/, '')),
      ),
    ).toEqual([]);
    expect([...bundles].filter((b) => !existsSync(join(store.dir, b + '.verify.json')))).toEqual([]);
    expect(deps.logger.lines.join('\n')).toMatch(
      /keep {3}shop-20260301T090000Z\.dbdrill\.tar \(verified: yes\): newest bundle/,
    );

    const again = await pruneStore(depsFor(store), store, 'shop', policy, false);
    expect(again.deleted).toEqual([]);
    expect(again.kept.map((k) => k.key)).toEqual(result.kept.map((k) => k.key));
    // about 13,000 files written and deleted: 40 s on an idle 2-core machine, much more on a busy one
  }, 600_000);

  it('dry-run deletes nothing and reports what it would delete', async () => {
    const store = fresh();
    for (let i = 0; i < 6; i++) await addBundle(store, 'shop', new Date(NOW.getTime() - i * 24 * HOUR), true);
    const before = await keysOf(store);
    const result = await pruneStore(depsFor(store), store, 'shop', { keepLast: 2 }, true);
    expect(result.dryRun).toBe(true);
    expect(result.deleted).toHaveLength(4);
    expect(await keysOf(store)).toEqual(before);
  });

  it('dry-run writes nothing, not even the record of the newest bundle it verifies', async () => {
    const store = fresh();
    for (let i = 1; i < 4; i++) await addBundle(store, 'shop', new Date(NOW.getTime() - i * 24 * HOUR), true);
    // The synthetic newest bundle has no record and does not verify: a real run would record that.
    await addBundle(store, 'shop', NOW, undefined);
    const before = await keysOf(store);
    const err = await failure(pruneStore(depsFor(store), store, 'shop', { keepLast: 1 }, true));
    expect(err.message).toMatch(/failed verification/);
    expect(await keysOf(store)).toEqual(before);
    await failure(pruneStore(depsFor(store), store, 'shop', { keepLast: 1 }, false));
    expect(await keysOf(store)).toContain(recordKey(bundleKey('shop', NOW)));
  });

  it('a bytes-only check of an encrypted bundle is "stored object intact", never the newest verified', async () => {
    const store = fresh();
    const old = await addBundle(store, 'shop', new Date(NOW.getTime() - 48 * HOUR), true);
    const mid = await addBundle(store, 'shop', new Date(NOW.getTime() - 24 * HOUR));
    const bytesOnly: VerifyRecord = {
      ok: true,
      verifiedAt: NOW.toISOString(),
      deep: false,
      problems: [],
      scope: 'stored-object',
    };
    await store.writeText(recordKey(mid), JSON.stringify(bytesOnly));
    const newest = await addBundle(store, 'shop', NOW, true);
    await store.writeText(recordKey(newest), JSON.stringify({ ...bytesOnly, verifiedAt: NOW.toISOString() }));
    const result = await pruneStore(depsFor(store), store, 'shop', { keepLast: 1 }, true);
    // The full verification of `old` is what protects a known-good bundle, not the byte checks.
    expect(result.newestVerified).toBe(old);
    expect(result.kept.find((k) => k.key === newest)?.level).toBe('stored-object-intact');
    expect(result.kept.find((k) => k.key === old)).toMatchObject({
      level: 'verified',
      reasons: ['newest verified'],
    });
    const listed = await listWithRecords(store, 'shop', fixedClock(NOW));
    expect(listed.map((b) => [b.verified, b.level])).toEqual([
      ['unknown', 'stored-object-intact'],
      ['unknown', 'stored-object-intact'],
      ['yes', 'verified'],
    ]);
  });

  it('never deletes the newest verified bundle, and keeps the unverified newest', async () => {
    const store = fresh();
    const old = await addBundle(store, 'shop', new Date(NOW.getTime() - 72 * HOUR), true);
    await addBundle(store, 'shop', new Date(NOW.getTime() - 48 * HOUR), undefined);
    const mid = await addBundle(store, 'shop', new Date(NOW.getTime() - 24 * HOUR), true);
    const newest = await addBundle(store, 'shop', new Date(NOW.getTime() - 1 * HOUR), undefined);
    // The newest has no record: prune verifies it now; a 1 KiB zero file is no bundle, so it fails and blocks.
    const err = await failure(pruneStore(depsFor(store), store, 'shop', { keepLast: 1 }, false));
    expect(err.message).toMatch(/newest bundle .* failed verification/);
    expect((err.result as PruneResult).deleted).toEqual([]);
    expect((await readVerifyRecord(store, newest))?.ok).toBe(false);
    expect((await keysOf(store)).filter((k) => k.endsWith('.tar'))).toHaveLength(4);

    // Once the newest is known good, keep-last 1 keeps it, and the newest *verified* protection is it too.
    await store.writeText(
      recordKey(newest),
      JSON.stringify({ ok: true, verifiedAt: NOW.toISOString(), deep: true, problems: [] }),
    );
    const ok = await pruneStore(depsFor(store), store, 'shop', { keepLast: 1 }, false);
    expect(ok.kept.map((k) => k.key)).toEqual([newest]);
    expect(ok.deleted).toContain(mid);
    expect(ok.deleted).toContain(old);
  });

  it('min-age keeps young bundles whatever keep-last says', async () => {
    const store = fresh();
    for (let i = 0; i < 5; i++) await addBundle(store, 'shop', new Date(NOW.getTime() - i * 12 * HOUR), true);
    const result = await pruneStore(depsFor(store), store, 'shop', { keepLast: 1, minAge: 30 * 3600 }, false);
    expect(result.kept).toHaveLength(3); // 0 h, 12 h, 24 h old
    expect(result.kept[2].reasons).toEqual(['younger than min-age (30h)']);
    expect(result.deleted).toHaveLength(2);
  });

  it('does not touch other names that share a prefix', async () => {
    const store = fresh();
    for (let i = 0; i < 3; i++) await addBundle(store, 'shop', new Date(NOW.getTime() - i * HOUR), true);
    const other = await addBundle(store, 'shop-eu', new Date(NOW.getTime() - 100 * HOUR), true);
    await pruneStore(depsFor(store), store, 'shop', { keepLast: 1 }, false);
    expect(await keysOf(store, 'shop-eu')).toContain(other);
  });

  it('an empty store prunes to nothing without error; a store that does not exist is a usage error', async () => {
    const missing = fresh();
    const err = await pruneStore(depsFor(missing), missing, 'shop', { keepLast: 1 }, true).catch((e) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toBe(
      `store ${missing.dir} does not exist: check the store path (a backup creates it; list, verify, prune and drill only read it)`,
    );
    await expect(stat(missing.dir)).rejects.toThrow(/ENOENT/);
    const store = fresh();
    await mkdir(store.dir);
    const result = await pruneStore(depsFor(store), store, 'shop', { keepLast: 1 }, false);
    expect(result).toMatchObject({ ok: true, kept: [], deleted: [] });
  });

  it('fails loudly when the store silently ignores deletes (a no-op-delete double)', async () => {
    const real = fresh();
    for (let i = 0; i < 4; i++) await addBundle(real, 'shop', new Date(NOW.getTime() - i * 24 * HOUR), true);
    /** Double: a store whose delete reports success but does nothing (an eventually-consistent or broken backend). */
    const noOpDeleteDouble: Store = Object.assign(Object.create(real) as Store, {
      delete: async () => undefined,
    });
    const err = await failure(
      pruneStore(depsFor(noOpDeleteDouble), noOpDeleteDouble, 'shop', { keepLast: 1 }, false),
    );
    expect(err.message).toMatch(/was deleted but is still listed/);
    expect((err.result as PruneResult).ok).toBe(false);
  });

  it('checkRetention catches a delete that removed a bundle the policy keeps (a wrong-key-delete double)', async () => {
    const real = fresh();
    const keys: string[] = [];
    for (let i = 0; i < 4; i++)
      keys.push(await addBundle(real, 'shop', new Date(NOW.getTime() - i * 24 * HOUR), true));
    let hit = false;
    /** Double: the first delete removes the newest bundle instead of the one asked for. */
    const wrongKeyDeleteDouble: Store = Object.assign(Object.create(real) as Store, {
      delete: async (key: string) => {
        if (!hit && key.endsWith('.dbdrill.tar')) {
          hit = true;
          return real.delete(keys[0]);
        }
        return real.delete(key);
      },
    });
    const err = await failure(
      pruneStore(depsFor(wrongKeyDeleteDouble), wrongKeyDeleteDouble, 'shop', { keepLast: 2 }, false),
    );
    expect(err.message).toMatch(/the newest bundle .* is missing/);
  });

  it('rejects a policy that keeps nothing or is malformed (exit 2)', () => {
    const read = (raw: Record<string, string>) => parsePruneOptions(new OptionReader(raw, (n) => `--${n}`));
    expect(() => read({ store: '/tmp/x', name: 'shop' })).toThrow(/--keep-last/);
    expect(() => read({ store: '/tmp/x', name: 'shop', 'min-age': '7d' })).toThrow(/min-age alone/);
    expect(() => read({ store: '/tmp/x', name: 'shop', 'keep-last': '0' })).toThrow(ConfigError);
    expect(() => read({ store: '/tmp/x', name: 'shop', 'keep-daily': 'many' })).toThrow(
      /--keep-daily "many"/,
    );
    expect(
      read({ store: '/tmp/x', name: 'shop', 'keep-daily': '7', 'min-age': '2d', 'dry-run': 'true' }),
    ).toEqual({
      store: '/tmp/x',
      name: 'shop',
      policy: { keepDaily: 7, minAge: 172800 },
      dryRun: true,
    });
  });
});

describe('prune on a real S3 protocol server', () => {
  let server: S3TestServer;
  beforeAll(async () => (server = await startS3Server()));
  afterAll(async () => server?.stop());

  it('behaves like the file store: same plan, sidecars deleted, idempotent, via openStore', async () => {
    const logger = new MemoryLogger();
    const store = openStore(`s3://${server.bucket}/prune`, { logger, env: server.env });
    const fileDir = await tempDir('dbdrill-prune-cmp-');
    try {
      const file = new FileStore(fileDir.dir, { logger });
      for (let d = 0; d < 40; d++) {
        const at = new Date(Date.UTC(2025, 11, 10) + d * 24 * HOUR + (d % 3) * HOUR);
        await addBundle(store, 'shop', at, true);
        await addBundle(file, 'shop', at, true);
      }
      const now = new Date(Date.UTC(2026, 0, 20));
      const policy = { keepDaily: 5, keepWeekly: 3, keepMonthly: 2 };
      const s3Result = await prune(
        { ...depsFor(store, now), openStore: () => store },
        { store: 'x', name: 'shop', policy, dryRun: false },
      );
      const fileResult = await pruneStore(depsFor(file, now), file, 'shop', policy, false);
      expect(s3Result.kept).toEqual(fileResult.kept);
      expect(s3Result.deleted).toEqual(fileResult.deleted);
      const left = await keysOf(store, 'shop');
      expect(left.filter((k) => k.endsWith('.tar'))).toHaveLength(s3Result.kept.length);
      expect(left).toHaveLength(s3Result.kept.length * 3); // bundle, .sha256, .verify.json
      const again = await pruneStore(depsFor(store, now), store, 'shop', policy, false);
      expect(again.deleted).toEqual([]);
    } finally {
      await fileDir.remove();
    }
  });
});
