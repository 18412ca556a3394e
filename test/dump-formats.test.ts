/**
 * Dump formats end to end, on real parts: dbdrill backup with the default (pg_dump -Fd, one job
 * per core, gzip:1 with pg_dump 15) and with explicit choices; the bundle is a plain tar that GNU
 * tar extracts into a directory `sha256sum -c` and `pg_restore -j 2` accept; verify --deep reads
 * it natively and catches damage in one data file; the drill restores it with pg_restore -j and
 * says format, compression and jobs. Also verify of a bare -Fd directory and of a -Fd tarball.
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { backup, type BackupResult } from '../src/core/backup.js';
import type { Manifest, PostgresComponent } from '../src/core/bundle/manifest.js';
import { drill } from '../src/core/drill.js';
import { parseCompress } from '../src/core/options/dump-format-options.js';
import { planDump } from '../src/core/engines/postgres/dump.js';
import { CheckFailed, ConfigError } from '../src/core/errors.js';
import {
  OptionReader,
  parseBackupOptions,
  parseDrillOptions,
  parseVerifyOptions,
  type RawOptions,
} from '../src/core/options/index.js';
import { verify, type VerifyResult } from '../src/core/verify.js';
import { testDeps } from './helpers/deps.js';
import { REALISTIC_COUNTS, withSourceCluster } from './helpers/pg-cluster.js';

const PG_BIN = '/usr/lib/postgresql/15/bin';

let def: BackupResult;
let manifest: Manifest;
let defLog: string[];

function backupOpts(extra: RawOptions = {}) {
  return parseBackupOptions(
    new OptionReader({ 'database-url': env.cluster.url, store: env.storeDir, name: 'shop', ...extra }),
  );
}

async function verifyOf(bundle: string, deep = true): Promise<VerifyResult> {
  try {
    return await verify(testDeps(), parseVerifyOptions(new OptionReader({ bundle, deep: String(deep) })));
  } catch (err) {
    if (err instanceof CheckFailed && err.result) return err.result as VerifyResult;
    throw err;
  }
}

function layer(r: VerifyResult, name: string) {
  return r.layers.find((l) => l.name === name);
}

const env = withSourceCluster({ setup: (cluster) => cluster.loadRealisticSchema() });

beforeAll(async () => {
  const deps = testDeps();
  def = await backup(deps, backupOpts());
  defLog = deps.logger.lines;
  manifest = JSON.parse(
    execFileSync('tar', ['-xOf', def.bundle, 'manifest.json'], { encoding: 'utf8' }),
  ) as Manifest;
}, 120_000);

describe('the default backup: a directory-format dump as a folder of members', () => {
  it('records format, compression and jobs in the manifest (manifest format 2)', () => {
    const pg = manifest.components[0] as PostgresComponent;
    expect(pg).toMatchObject({ member: 'postgres.dir', format: 'directory', compression: 'gzip:1' });
    expect(pg.jobs).toBeGreaterThanOrEqual(1);
    expect(pg.tool.options).toEqual(
      expect.arrayContaining(['--format=directory', '--compress=1', `--jobs=${pg.jobs}`]),
    );
    expect(manifest.formatVersion).toBe(2);
  });

  it('is a plain tar: toc.dat first, then the data files, SHA256SUMS over every file; pg_restore -j 2 restores the extracted folder', async () => {
    const listing = execFileSync('tar', ['-tf', def.bundle], { encoding: 'utf8' }).trim().split('\n');
    expect(listing[0]).toBe('manifest.json');
    expect(listing[1]).toBe('postgres.dir/toc.dat');
    expect(listing.at(-1)).toBe('SHA256SUMS');
    const dumpFiles = listing.filter((p) => p.startsWith('postgres.dir/'));
    expect(dumpFiles.length).toBeGreaterThan(8);
    const out = join(env.work.dir, 'untar');
    mkdirSync(out);
    execFileSync('tar', ['-xf', def.bundle, '-C', out]);
    const sums = readFileSync(join(out, 'SHA256SUMS'), 'utf8');
    for (const f of dumpFiles) expect(sums).toContain(`  ${f}\n`);
    execFileSync('sha256sum', ['-c', '--quiet', 'SHA256SUMS'], { cwd: out });
    // those sums were taken while pg_dump wrote the files, not in a second pass after it
    expect(defLog.join('\n')).toMatch(
      new RegExp(`debug: hashed ${dumpFiles.length} dump file\\(s\\) while pg_dump wrote them`),
    );
    await env.cluster.sql('CREATE DATABASE restored');
    execFileSync(join(PG_BIN, 'pg_restore'), [
      '--jobs',
      '2',
      '--no-owner',
      '--dbname',
      env.cluster.url.replace(/\/shop$/, '/restored'),
      join(out, 'postgres.dir'),
    ]);
    const { Client } = (await import('pg')).default;
    const c = new Client({ connectionString: env.cluster.url.replace(/\/shop$/, '/restored') });
    await c.connect();
    try {
      const n = await c.query<{ n: string }>('SELECT count(*) AS n FROM public.order_items');
      expect(Number(n.rows[0]!.n)).toBe(REALISTIC_COUNTS['public.order_items']);
    } finally {
      await c.end();
    }
  });

  it('verify --deep reads every file natively and compares the rows with the counts taken at backup', async () => {
    const r = await verifyOf(def.bundle);
    expect(r.problems).toEqual([]);
    expect(layer(r, 'dump header and TOC')?.detail).toMatch(/directory-format dump/);
    expect(layer(r, 'data blocks')?.detail).toMatch(/inflated to the end/);
    expect(layer(r, 'pg_restore --list')?.detail).toMatch(/all found by the native reader/);
    expect(layer(r, 'tables match manifest')?.detail).toMatch(/row count\(s\) in the dump equal/);
    expect(r.pgDump?.rows).toMatchObject(REALISTIC_COUNTS);
  });

  /** The bundle with one byte of the biggest data file flipped, or that file cut short (its size field kept). */
  function damaged(how: 'flip' | 'truncate'): string {
    const tar = readFileSync(def.bundle);
    const big = manifest.members
      .filter((m) => /\/\d+\.dat/.test(m.path))
      .sort((a, b) => b.sizeBytes - a.sizeBytes)[0]!;
    const header = tar.indexOf(Buffer.from(big.path + '\0'));
    const data = header + 512;
    const out = Buffer.from(tar);
    if (how === 'flip') out[data + Math.floor(big.sizeBytes / 2)] ^= 0x20;
    else out.fill(0, data + Math.floor(big.sizeBytes / 3), data + big.sizeBytes);
    const file = join(env.work.dir, `${how}.dbdrill.tar`);
    writeFileSync(file, out);
    return file;
  }

  it('verify --deep fails on a flipped byte in one data file, naming the file', async () => {
    const r = await verifyOf(damaged('flip'));
    expect(r.ok).toBe(false);
    expect(layer(r, 'data blocks')?.ok).toBe(false);
    expect(layer(r, 'data blocks')?.detail).toMatch(
      /corrupted compressed data in table public\.\w+ .*file \d+\.dat\.gz/,
    );
    expect(layer(r, 'member checksums')?.detail).toMatch(/postgres\.dir\/\d+\.dat\.gz sha256 differs/);
  });

  it('verify --deep fails on a data file whose tail is zeros (truncated and padded)', async () => {
    const r = await verifyOf(damaged('truncate'));
    expect(r.ok).toBe(false);
    expect(layer(r, 'data blocks')?.ok).toBe(false);
  });

  it('the drill restores it with pg_restore --jobs and says format, compression and jobs', async () => {
    const deps = testDeps();
    const result = await drill(
      deps,
      parseDrillOptions(
        new OptionReader({
          bundle: def.bundle,
          provision: 'local',
          jobs: '2',
          'report-dir': join(env.work.dir, 'report'),
        }),
      ),
    );
    expect(result.ok).toBe(true);
    const restore = result.report.checks.find((c) => c.name === 'pg_restore');
    expect(restore?.detail).toMatch(/directory format, gzip \(level 1\), 2 job\(s\)/);
    expect(result.counts.every((c) => c.ok)).toBe(true);
    expect(deps.logger.lines.some((l) => /pg_restore .*--jobs 2 .*postgres\.dir/.test(l))).toBe(true);
  }, 120_000);
});

describe('explicit choices', () => {
  it('format custom with compress none writes one uncompressed postgres.dump', async () => {
    const r = await backup(testDeps(), backupOpts({ format: 'custom', compress: 'none', name: 'plain' }));
    const listing = execFileSync('tar', ['-tf', r.bundle], { encoding: 'utf8' }).trim().split('\n');
    expect(listing).toContain('postgres.dump');
    const v = await verifyOf(r.bundle);
    expect(v.problems).toEqual([]);
    expect(v.pgDump?.compression).toBe('none (level 0)');
  });

  it('format directory with dump-jobs 1 and gzip:6', async () => {
    const deps = testDeps();
    const r = await backup(
      deps,
      backupOpts({ format: 'directory', compress: 'gzip:6', 'dump-jobs': '1', name: 'g6' }),
    );
    expect(
      deps.logger.lines.some((l) => /dump format directory, compression gzip:6, 1 job\(s\)/.test(l)),
    ).toBe(true);
    const v = await verifyOf(r.bundle);
    expect(v.problems).toEqual([]);
    expect(v.pgDump?.compression).toBe('gzip (level 6)');
  });

  it('lz4/zstd with pg_dump 15 is a configuration error naming the input', async () => {
    await expect(backup(testDeps(), backupOpts({ compress: 'zstd:3', name: 'z' }))).rejects.toThrow(
      /compress zstd:3 needs pg_dump 16 or newer, and the pg_dump used is 15/,
    );
  });

  it('bad values are refused with what is expected', () => {
    expect(() => backupOpts({ compress: 'brotli' })).toThrow(ConfigError);
    expect(() => backupOpts({ compress: 'gzip:12' })).toThrow(/gzip level must be from 1 to 9/);
    expect(() => backupOpts({ format: 'tar' })).toThrow(
      /format "tar" is not valid; expected one of: auto, custom, directory/,
    );
    expect(() => backupOpts({ format: 'custom', 'dump-jobs': '4' })).toThrow(
      /dump-jobs only applies to format directory/,
    );
    expect(parseCompress('zstd', 'compress')).toEqual({ algorithm: 'zstd' });
  });

  it('auto: zstd:1 with pg_dump 16+, gzip:1 before; custom with docker-container', () => {
    expect(planDump('17.2', undefined, 'local', (n) => n)).toMatchObject({
      format: 'directory',
      compression: 'zstd:1',
    });
    expect(planDump('17.2', undefined, 'local').args).toContain('--compress=zstd:1');
    expect(planDump('15.8', undefined, 'local').args).toContain('--compress=1');
    expect(planDump('16.1', { compress: { algorithm: 'lz4' } }, 'local').args).toContain('--compress=lz4');
    expect(planDump('17.2', undefined, 'docker')).toMatchObject({ format: 'custom', jobs: 1 });
    expect(() => planDump('17.2', { format: 'directory' }, 'docker')).toThrow(ConfigError);
  });
});

describe('directory dumps made by other tools', () => {
  it('verify reads a bare pg_dump -Fd directory, and fails it when a file is missing', async () => {
    const dir = join(env.work.dir, 'bare');
    execFileSync(join(PG_BIN, 'pg_dump'), ['-Fd', '-j', '2', '-f', dir, '--dbname', env.cluster.url]);
    const r = await verifyOf(dir);
    expect(r.problems).toEqual([]);
    expect(r.pgDump?.rows).toMatchObject(REALISTIC_COUNTS);
    expect(layer(r, 'pg_restore --list')?.ok).toBe(true);
    const victim = readdirSync(dir).find((f) => /^\d+\.dat\.gz$/.test(f))!;
    execFileSync('rm', [join(dir, victim)]);
    const bad = await verifyOf(dir);
    expect(bad.ok).toBe(false);
    expect(layer(bad, 'data blocks')?.detail).toMatch(
      new RegExp(`missing from the dump directory: .*${victim.split('.')[0]}\\.dat`),
    );
  });

  it('verify and drill read a -Fd tarball made by GNU tar (no manifest)', async () => {
    const dir = join(env.work.dir, 'fd');
    execFileSync(join(PG_BIN, 'pg_dump'), ['-Fd', '-f', dir, '--dbname', env.cluster.url]);
    const tarFile = join(env.work.dir, 'shop-fd.tar');
    execFileSync('tar', ['-cf', tarFile, '-C', env.work.dir, 'fd']);
    const r = await verifyOf(tarFile, false);
    expect(r.problems).toEqual([]);
    expect(layer(r, 'manifest')?.skipped).toBe(true);
    const result = await drill(
      testDeps(),
      parseDrillOptions(
        new OptionReader({
          bundle: tarFile,
          provision: 'local',
          'report-dir': join(env.work.dir, 'report-fd'),
        }),
      ),
    );
    expect(result.ok).toBe(true);
    expect(result.counts.find((c) => c.name === 'public.order_items')?.actual).toBe(
      REALISTIC_COUNTS['public.order_items'],
    );
  }, 120_000);
});
