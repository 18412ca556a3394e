/**
 * backup with keep-* on a real scratch cluster: each backup verifies its new bundle where it was
 * stored, records that, and only then prunes. Then the CLI's list, verify and prune over the same
 * store, in process, with their JSON shapes and exit codes.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { backupAndPrune, type BackupAndPruneResult } from '../src/core/backup.js';
import { fixedClock } from '../src/core/clock.js';
import { OptionReader, parseBackupOptions, type RawOptions } from '../src/core/options/index.js';
import { parseRetentionPolicy } from '../src/core/options/index.js';
import { runCli } from '../src/cli/main.js';
import { startTestCluster, type TestCluster } from './helpers/pg-cluster.js';
import { tempDir, testDeps } from './helpers/deps.js';

let cluster: TestCluster;
let work: { dir: string; remove: () => Promise<void> };
let storeDir: string;
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 1, 1, 3, 0, 0);

async function backupAt(at: number, extra: RawOptions = {}): Promise<BackupAndPruneResult> {
  const reader = new OptionReader({ 'database-url': cluster.url, store: storeDir, name: 'shop', ...extra });
  return backupAndPrune(
    testDeps({ clock: fixedClock(new Date(at)) }),
    parseBackupOptions(reader),
    parseRetentionPolicy(reader),
  );
}

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(args, { stdout: (t) => (out += t), stderr: (t) => (err += t), env: process.env });
  return { code, out, err };
}

beforeAll(async () => {
  cluster = await startTestCluster({ database: 'shop' });
  await cluster.sql('CREATE TABLE t (id int primary key); INSERT INTO t SELECT generate_series(1, 100)');
  work = await tempDir();
  storeDir = join(work.dir, 'store');
});

afterAll(async () => {
  await cluster?.stop();
  await work?.remove();
});

describe('backup with keep-last', () => {
  it('verifies each new bundle, records it, and prunes the oldest once more than keep-last exist', async () => {
    const first = await backupAt(T0, { 'keep-last': '2' });
    expect(first.verification).toMatchObject({ ok: true, deep: false, scope: 'full', by: 'backup' });
    expect(first.prune).toMatchObject({ ok: true, deleted: [] });
    await backupAt(T0 + DAY, { 'keep-last': '2' });
    const third = await backupAt(T0 + 2 * DAY, { 'keep-last': '2' });
    expect(third.prune?.deleted).toEqual([first.key]);
    expect(third.prune?.kept.map((k) => k.key)).toEqual([
      third.key,
      expect.stringMatching(/^shop-20260202T030000Z/),
    ]);
    const files = readdirSync(storeDir).sort();
    expect(files.filter((f) => f.startsWith(first.key))).toEqual([]); // bundle and both sidecars gone
    expect(files).toContain(third.key + '.verify.json');
    expect(files).toContain(third.key + '.sha256');
  });

  it('without keep-* it neither verifies nor prunes', async () => {
    const r = await backupAt(T0 + 3 * DAY);
    expect(r.verification).toBeUndefined();
    expect(r.prune).toBeUndefined();
  });

  it('rejects min-age without a keep-* before dumping anything (exit 2)', async () => {
    const before = readdirSync(storeDir).length;
    await expect(backupAt(T0 + 4 * DAY, { 'min-age': '1d' })).rejects.toThrow(/min-age alone/);
    expect(readdirSync(storeDir)).toHaveLength(before);
  });
});

describe('the CLI over the same store', () => {
  it('list --json shows each bundle newest first with its verification', async () => {
    const { code, out } = await cli(['list', '--store', storeDir, '--name', 'shop', '--json']);
    expect(code).toBe(0);
    const json = JSON.parse(out) as {
      ok: boolean;
      bundles: {
        key: string;
        verified: string;
        verifiedAt: string | null;
        sizeBytes: number;
        ageSeconds: number;
        createdAt: string;
      }[];
    };
    expect(json.ok).toBe(true);
    expect(json.bundles.map((b) => b.createdAt)).toEqual([
      '2026-02-04T03:00:00.000Z',
      '2026-02-03T03:00:00.000Z',
      '2026-02-02T03:00:00.000Z',
    ]);
    expect(json.bundles.map((b) => b.verified)).toEqual(['unknown', 'yes', 'yes']);
    expect(json.bundles[1].verifiedAt).toMatch(/^2026-02-03T03:00:00/);
    expect(json.bundles[0].sizeBytes).toBeGreaterThan(1000);
  });

  it('verify records its result, so list then says yes', async () => {
    expect((await cli(['verify', '--store', storeDir, '--name', 'shop'])).code).toBe(0);
    const { out } = await cli(['list', '--store', storeDir, '--name', 'shop']);
    expect(out.split('\n')[0]).toMatch(/^shop-20260204T030000Z\.dbdrill\.tar\t.* old\t.*\tverified: yes \(/);
  });

  it('prune --dry-run --json plans without deleting; prune deletes; again deletes nothing', async () => {
    const before = readdirSync(storeDir).sort();
    const dry = await cli([
      'prune',
      '--store',
      storeDir,
      '--name',
      'shop',
      '--keep-last',
      '1',
      '--dry-run',
      '--json',
    ]);
    expect(dry.code).toBe(0);
    const plan = JSON.parse(dry.out) as {
      ok: boolean;
      dryRun: boolean;
      kept: { key: string; reasons: string[] }[];
      deleted: string[];
      problems: string[];
    };
    expect(plan).toMatchObject({ ok: true, dryRun: true, problems: [] });
    expect(plan.kept).toEqual([
      {
        key: expect.stringMatching(/^shop-20260204/),
        reasons: ['newest bundle', 'newest verified', 'last 1 of 1'],
        level: 'verified',
      },
    ]);
    expect(plan.deleted).toHaveLength(2);
    expect(readdirSync(storeDir).sort()).toEqual(before);

    const real = await cli(['prune', '--store', storeDir, '--name', 'shop', '--keep-last', '1', '--json']);
    expect(real.code).toBe(0);
    expect((JSON.parse(real.out) as { deleted: string[] }).deleted).toEqual(plan.deleted);
    const again = await cli(['prune', '--store', storeDir, '--name', 'shop', '--keep-last', '1', '--json']);
    expect((JSON.parse(again.out) as { deleted: string[] }).deleted).toEqual([]);
  });

  it('prune exits 1 and deletes nothing when the newest bundle fails verification', async () => {
    // A newer "bundle" that is no bundle, with no record: prune verifies it and must refuse.
    const bad = join(storeDir, 'shop-20260301T000000Z.dbdrill.tar');
    await writeFile(bad, 'not a tar at all', { mode: 0o600 });
    const before = readdirSync(storeDir)
      .filter((f) => f.endsWith('.tar'))
      .sort();
    const r = await cli(['prune', '--store', storeDir, '--name', 'shop', '--keep-last', '1', '--json']);
    expect(r.code).toBe(1);
    const json = JSON.parse(r.out) as { ok: boolean; deleted: string[]; blockedReason: string };
    expect(json).toMatchObject({ ok: false, deleted: [] });
    expect(json.blockedReason).toMatch(/shop-20260301T000000Z\.dbdrill\.tar failed verification/);
    expect(
      readdirSync(storeDir)
        .filter((f) => f.endsWith('.tar'))
        .sort(),
    ).toEqual(before);
    expect(r.err).toMatch(/prune deleted nothing/);
  });

  it('bad prune options exit 2 naming the flag', async () => {
    const r = await cli(['prune', '--store', storeDir, '--name', 'shop']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--keep-last/);
    const s = await cli(['list', '--store', storeDir, '--name', 'shop', '--s3-sse', 'rot13']);
    expect(s.code).toBe(2);
    expect(s.err).toMatch(/--s3-sse "rot13" is not valid; expected one of: AES256, aws:kms/);
  });
});
