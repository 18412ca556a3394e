/**
 * The drill starts its throwaway server while the bundle is still fetched and verified (the
 * manifest, the first member, says what it needs), adopts it in the provision phase, and stops it
 * when the bundle fails verification. Real scratch clusters, real pg_dump/pg_restore.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';

import { backup, type BackupResult } from '../src/core/backup.js';
import type { Manifest } from '../src/core/bundle/manifest.js';
import { drill } from '../src/core/drill.js';
import { CheckFailed } from '../src/core/errors.js';
import { OptionReader, parseBackupOptions, parseDrillOptions } from '../src/core/options/index.js';
import { tempDir, testDeps } from './helpers/deps.js';
import { startTestCluster, type TestCluster } from './helpers/pg-cluster.js';

const PG_BIN = '/usr/lib/postgresql/15/bin';
const EARLY = 'starting the scratch PostgreSQL target while the bundle is verified';

let source: TestCluster;
let work: { dir: string; remove: () => Promise<void> };
let def: BackupResult;
let manifest: Manifest;
const savedTmp = process.env.TMPDIR;

beforeAll(async () => {
  work = await tempDir();
  source = await startTestCluster({ database: 'shop' });
  await source.loadRealisticSchema();
  def = await backup(
    testDeps(),
    parseBackupOptions(
      new OptionReader({ 'database-url': source.url, store: join(work.dir, 'store'), name: 'shop' }),
    ),
  );
  manifest = JSON.parse(
    execFileSync('tar', ['-xOf', def.bundle, 'manifest.json'], { encoding: 'utf8' }),
  ) as Manifest;
}, 120_000);

afterAll(async () => {
  process.env.TMPDIR = savedTmp;
  await source?.stop();
  await work?.remove();
});

/** A private TMPDIR the postgres user can traverse: scratch clusters land there, and only there. */
function privateTmp(name: string): string {
  const dir = join(work.dir, name);
  mkdirSync(dir);
  chmodSync(work.dir, 0o755);
  chmodSync(dir, 0o755);
  process.env.TMPDIR = dir;
  return dir;
}

const scratchDirs = (dir: string) => readdirSync(dir).filter((f) => f.startsWith('dbdrill-pg-'));

describe('the throwaway target starts during fetch + verify', () => {
  it('is started before the provision phase, adopted, and runs with minimal WAL and no TLS', async () => {
    const tmp = privateTmp('tmp-ok');
    const deps = testDeps();
    let kept: string | undefined;
    try {
      const result = await drill(
        deps,
        parseDrillOptions(
          new OptionReader({
            bundle: def.bundle,
            provision: 'local',
            'keep-target': 'true',
            'report-dir': join(work.dir, 'report-ok'),
          }),
        ),
      );
      expect(result.ok).toBe(true);
      const lines = deps.logger.lines;
      const early = lines.indexOf(EARLY);
      const initdb = lines.findIndex((l) => l.includes('/initdb -D '));
      const provision = lines.findIndex((l) => /drill: provision/.test(l));
      expect(early).toBeGreaterThanOrEqual(0);
      expect(initdb).toBeGreaterThan(early);
      expect(provision).toBeGreaterThan(initdb);
      // one server only: the provision phase adopted the early one
      expect(lines.filter((l) => l.includes('/initdb -D ')).length).toBe(1);
      expect(scratchDirs(tmp).length).toBe(1);
      kept = join(tmp, scratchDirs(tmp)[0]!);
      const url = /ready at (postgres:\/\/\S+)/.exec(lines.find((l) => l.includes('ready at'))!)![1]!;
      const c = new pg.Client({ connectionString: `${url}?sslmode=disable` });
      await c.connect();
      try {
        const r = await c.query<{ w: string; ssl: boolean }>(
          `SELECT current_setting('wal_level') AS w, (SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()) AS ssl`,
        );
        expect(r.rows[0]).toEqual({ w: 'minimal', ssl: false });
      } finally {
        await c.end();
      }
      const pgRestore = result.report.checks.find((c) => c.name === 'pg_restore');
      expect(pgRestore?.ok).toBe(true);
    } finally {
      if (kept)
        execFileSync('runuser', [
          '-u',
          'postgres',
          '--',
          join(PG_BIN, 'pg_ctl'),
          'stop',
          '-D',
          join(kept, 'data'),
          '-m',
          'immediate',
        ]);
    }
  }, 120_000);

  it('is stopped and removed when the bundle fails verification, and nothing is restored', async () => {
    const tmp = privateTmp('tmp-bad');
    const tar = readFileSync(def.bundle);
    const big = manifest.members
      .filter((m) => /\/\d+\.dat/.test(m.path))
      .sort((a, b) => b.sizeBytes - a.sizeBytes)[0]!;
    const data = tar.indexOf(Buffer.from(big.path + '\0')) + 512;
    tar[data + Math.floor(big.sizeBytes / 2)] ^= 0x20;
    const bad = join(work.dir, 'flipped.dbdrill.tar');
    writeFileSync(bad, tar);
    const deps = testDeps();
    const run = drill(
      deps,
      parseDrillOptions(
        new OptionReader({ bundle: bad, provision: 'local', 'report-dir': join(work.dir, 'report-bad') }),
      ),
    );
    await expect(run).rejects.toThrow(CheckFailed);
    await expect(run).rejects.toThrow(/failed verification/);
    expect(deps.logger.lines).toContain(EARLY);
    expect(deps.logger.lines.some((l) => /drill: (provision|restore)/.test(l))).toBe(false);
    expect(scratchDirs(tmp)).toEqual([]);
  }, 120_000);
});
