/**
 * The drill starts its throwaway server while the bundle is still fetched and verified (the
 * manifest, the first member, says what it needs), adopts it in the provision phase, and stops it
 * when the bundle fails verification. Real scratch clusters, real pg_dump/pg_restore.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';

import { backup, type BackupResult } from '../src/core/backup.js';
import type { Manifest } from '../src/core/bundle/manifest.js';
import { drill } from '../src/core/drill.js';
import { CheckFailed } from '../src/core/errors.js';
import { OptionReader, parseBackupOptions, parseDrillOptions } from '../src/core/options/index.js';
import type { Store } from '../src/core/stores/store.js';
import { tempDir, testDeps } from './helpers/deps.js';
import { startTestCluster, type TestCluster } from './helpers/pg-cluster.js';

const EARLY = 'starting the scratch PostgreSQL target while the bundle is verified';

let source: TestCluster;
let work: { dir: string; remove: () => Promise<void> };
let def: BackupResult;
let manifest: Manifest;

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
  await source?.stop();
  await work?.remove();
});

/** The scratch cluster's directory, from the line the local provisioner logs when it makes it. */
function scratchDirOf(lines: string[]): string | undefined {
  const line = lines.find((l) => l.startsWith('starting a scratch PostgreSQL'));
  return line ? / in (\S+)$/.exec(line)?.[1] : undefined;
}

/**
 * A test double of a slow network store: the real file store, except that its stream stops right
 * after the manifest until the early server has made its directory (at most a minute). Without it
 * a small test bundle may be verified before the early server has started at all.
 */
function gatedAfterManifest(deps: ReturnType<typeof testDeps>, manifestBytes: number): typeof deps.openStore {
  const gate = 512 + Math.ceil(manifestBytes / 512) * 512;
  const open = async () => {
    for (let waited = 0; !scratchDirOf(deps.logger.lines) && waited < 60_000; waited += 20)
      await new Promise((r) => setTimeout(r, 20));
  };
  return (uri) => {
    const real = deps.openStore(uri);
    const gated: Store = Object.create(real) as Store;
    gated.get = async (key) => {
      const raw = await real.get(key);
      return Readable.from(
        (async function* () {
          let at = 0;
          for await (const chunk of raw as AsyncIterable<Buffer>) {
            if (at < gate && at + chunk.length > gate) {
              yield chunk.subarray(0, gate - at);
              await open();
              yield chunk.subarray(gate - at);
            } else yield chunk;
            at += chunk.length;
          }
        })(),
      );
    };
    gated.localPath = undefined;
    return gated;
  };
}

describe('the throwaway target starts during fetch + verify', () => {
  it('is started during fetch + verify, adopted by the provision phase, and runs with minimal WAL and no TLS', async () => {
    const deps = testDeps();
    const result = await drill(
      deps,
      parseDrillOptions(
        new OptionReader({
          bundle: def.bundle,
          provision: 'local',
          'report-dir': join(work.dir, 'report-ok'),
          // checked on dbdrill's own connection to the target, after the restore
          'assert-sql': `SELECT current_setting('wal_level') = 'minimal' AND NOT (SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid())`,
        }),
      ),
    );
    expect(result.ok).toBe(true);
    expect(result.report.checks.find((c) => c.name.startsWith('assert-sql'))?.ok).toBe(true);
    const lines = deps.logger.lines;
    const early = lines.indexOf(EARLY);
    const fetchPhase = lines.findIndex((l) => /drill: fetch \+ verify/.test(l));
    const provision = lines.findIndex((l) => /drill: provision/.test(l));
    // requested inside fetch + verify (a small bundle may finish verifying before initdb runs)
    expect(early).toBeGreaterThan(fetchPhase);
    expect(provision).toBeGreaterThan(early);
    // one server only: the provision phase adopted the early one; the end removed it
    // (a data directory from initdb, or a copy of the cached initdb template)
    expect(
      lines.filter((l) => l.includes('/initdb -D ') || l.includes('initdb skipped: copied')).length,
    ).toBe(1);
    expect(existsSync(scratchDirOf(lines)!)).toBe(false);
    expect(result.report.checks.find((c) => c.name === 'pg_restore')?.ok).toBe(true);
  }, 120_000);

  it('is stopped and removed when the bundle fails verification, and nothing is restored', async () => {
    const tar = readFileSync(def.bundle);
    const big = manifest.members
      .filter((m) => /\/\d+\.dat/.test(m.path))
      .sort((a, b) => b.sizeBytes - a.sizeBytes)[0]!;
    const data = tar.indexOf(Buffer.from(big.path + '\0')) + 512;
    tar[data + Math.floor(big.sizeBytes / 2)] ^= 0x20;
    const bad = join(work.dir, 'flipped.dbdrill.tar');
    writeFileSync(bad, tar);
    const deps = testDeps();
    const manifestBytes = Buffer.byteLength(
      execFileSync('tar', ['-xOf', bad, 'manifest.json'], { encoding: 'utf8' }),
    );
    const run = drill(
      { ...deps, openStore: gatedAfterManifest(deps, manifestBytes) },
      parseDrillOptions(
        new OptionReader({ bundle: bad, provision: 'local', 'report-dir': join(work.dir, 'report-bad') }),
      ),
    );
    await expect(run).rejects.toThrow(CheckFailed);
    await expect(run).rejects.toThrow(/failed verification/);
    expect(deps.logger.lines).toContain(EARLY);
    expect(deps.logger.lines.some((l) => /drill: (provision|restore)/.test(l))).toBe(false);
    const dir = scratchDirOf(deps.logger.lines);
    expect(dir).toBeDefined();
    expect(existsSync(dir!)).toBe(false);
  }, 120_000);
});
