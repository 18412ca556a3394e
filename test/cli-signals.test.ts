/**
 * Real signals to the real CLI process: GitHub cancels a job with SIGINT, then SIGTERM. A drill
 * cancelled in the middle of its restore must tear its throwaway cluster down and still write its
 * report; a cancelled backup must leave nothing that looks like a bundle.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync, spawn as spawnChild } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { backup, type BackupResult } from '../src/core/backup.js';
import { OptionReader, parseBackupOptions } from '../src/core/options/index.js';
import { startTestCluster, type TestCluster } from './helpers/pg-cluster.js';
import { tempDir, testDeps } from './helpers/deps.js';

const CLI = resolve('dist/cli/index.js');
let cluster: TestCluster;
let work: { dir: string; remove: () => Promise<void> };
let bundle: BackupResult;

beforeAll(async () => {
  cluster = await startTestCluster({ database: 'big' });
  // big enough that pg_dump and pg_restore take a noticeable moment
  await cluster.sql(
    `CREATE TABLE filler AS SELECT g AS id, repeat(md5(g::text), 8) AS pad FROM generate_series(1, 400000) g;
     CREATE INDEX ON filler (pad);`,
  );
  work = await tempDir();
  bundle = await backup(
    testDeps(),
    parseBackupOptions(
      new OptionReader({ 'database-url': cluster.url, store: join(work.dir, 'store'), name: 'big' }),
    ),
  );
});

afterAll(async () => {
  await cluster?.stop();
  await work?.remove();
});

/** Runs the CLI and sends `signal` once stderr shows `trigger`; resolves with its exit code and stderr. */
function runAndSignal(
  args: string[],
  trigger: RegExp,
  signal: NodeJS.Signals,
): Promise<{ code: number | null; stderr: string }> {
  return new Promise((res) => {
    const child = spawnChild(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let sent = false;
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      if (!sent && trigger.test(stderr)) {
        sent = true;
        child.kill(signal);
      }
    });
    child.stdout.resume();
    child.on('close', (code) => res({ code, stderr }));
  });
}

describe('signals', () => {
  it('SIGTERM during the drill restore: exit 1, report "cancelled", throwaway cluster removed', async () => {
    const reportDir = join(work.dir, 'report');
    const { code, stderr } = await runAndSignal(
      ['drill', '--bundle', bundle.bundle, '--provision', 'local', '--report-dir', reportDir],
      /pg_restore --dbname/,
      'SIGTERM',
    );
    expect(code).toBe(1);
    expect(stderr).toMatch(/received SIGTERM/);
    const report = JSON.parse(readFileSync(join(reportDir, 'drill-report.json'), 'utf8'));
    expect(report.status).toBe('cancelled');
    const dataDir = /scratch PostgreSQL \S+ from \S+ in (\S+)/.exec(stderr)?.[1];
    expect(dataDir).toBeDefined();
    expect(existsSync(dataDir!)).toBe(false);
  });

  // SIGHUP: the terminal running dbdrill closed (an ssh session dropped); it cleans up the same way.
  it.each(['SIGINT', 'SIGHUP'] as const)(
    '%s during a backup: exit 1 and no bundle in the store',
    async (sig) => {
      const store = join(work.dir, `store-${sig}`);
      const { code, stderr } = await runAndSignal(
        ['backup', '--database-url', cluster.url, '--store', store, '--name', 'big'],
        /pg_dump --format=/,
        sig,
      );
      expect(code).toBe(1);
      expect(stderr).toMatch(new RegExp(`received ${sig}`));
      const left = existsSync(store) ? readdirSync(store) : [];
      expect(left.filter((f) => f.endsWith('.dbdrill.tar'))).toEqual([]);
      expect(left.filter((f) => f.includes('partial'))).toEqual([]);
    },
  );

  /**
   * `dbdrill drill ... | head`, and the terminal closing under a drill: the reader of stdout and
   * stderr goes away (EPIPE on the next write) or SIGHUP arrives mid-restore. Either way the
   * scratch cluster must be stopped and removed and the work dir (with the extracted dump) deleted.
   */
  it.each(['EPIPE', 'SIGHUP'] as const)(
    '%s during the drill restore: cancelled, no server process and no work file left',
    async (how) => {
      const reportDir = join(work.dir, `report-${how}`);
      const runnerTemp = join(work.dir, `runner-temp-${how}`);
      mkdirSync(runnerTemp, { mode: 0o700 });
      const child = spawnChild(
        process.execPath,
        [CLI, 'drill', '--bundle', bundle.bundle, '--provision', 'local', '--report-dir', reportDir],
        { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, RUNNER_TEMP: runnerTemp } },
      );
      let stderr = '';
      let dataDir: string | undefined;
      const code = await new Promise<number | null>((res) => {
        child.stderr.setEncoding('utf8').on('data', (d: string) => {
          stderr += d;
          dataDir ??= /scratch PostgreSQL \S+ from \S+ in (\S+)/.exec(stderr)?.[1];
          if (dataDir && /pg_restore --dbname/.test(stderr) && !child.stderr.destroyed) {
            if (how === 'SIGHUP') child.kill('SIGHUP');
            // Closing the read ends makes the drill's next write fail with EPIPE.
            child.stdout.destroy();
            child.stderr.destroy();
          }
        });
        child.stdout.resume();
        child.on('exit', (c) => res(c));
      });
      expect(code).toBe(1);
      const report = JSON.parse(readFileSync(join(reportDir, 'drill-report.json'), 'utf8'));
      expect(report.status).toBe('cancelled');
      expect(report.notes.join('\n')).toContain(`cancelled by ${how}`);
      expect(report.error).toMatchObject({ message: `cancelled by ${how}` });
      expect(dataDir).toBeDefined();
      expect(existsSync(dataDir!)).toBe(false);
      const processes = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
      expect(processes.split('\n').filter((l) => l.includes(dataDir!))).toEqual([]);
      // The drill's work dir held the extracted dump: nothing of it may remain.
      expect(readdirSync(runnerTemp)).toEqual([]);
    },
  );

  /**
   * SIGKILL (an OOM kill, a runner killed hard) gives dbdrill no chance to clean up: the reaper it
   * started beside the scratch cluster and the work dir must stop the server and delete both.
   */
  it('SIGKILL during the drill restore: the reaper stops the server and deletes the work dir', async () => {
    const runnerTemp = join(work.dir, 'runner-temp-SIGKILL');
    mkdirSync(runnerTemp, { mode: 0o700 });
    const child = spawnChild(
      process.execPath,
      [
        CLI,
        'drill',
        '--bundle',
        bundle.bundle,
        '--provision',
        'local',
        '--report-dir',
        join(work.dir, 'r-kill'),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, RUNNER_TEMP: runnerTemp } },
    );
    let stderr = '';
    let dataDir: string | undefined;
    const signal = await new Promise<NodeJS.Signals | null>((res) => {
      child.stderr.setEncoding('utf8').on('data', (d: string) => {
        stderr += d;
        dataDir ??= /scratch PostgreSQL \S+ from \S+ in (\S+)/.exec(stderr)?.[1];
        if (dataDir && /pg_restore --dbname/.test(stderr)) child.kill('SIGKILL');
      });
      child.stdout.resume();
      child.on('exit', (_c, sig) => res(sig));
    });
    expect(signal).toBe('SIGKILL');
    expect(dataDir).toBeDefined();
    const serving = () =>
      execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
        .split('\n')
        .filter((l) => l.includes(dataDir!) && !l.includes('dbdrill-reaper'));
    // the reaper polls once a second, then waits for the postmaster to exit
    for (let i = 0; i < 300 && (existsSync(dataDir!) || readdirSync(runnerTemp).length); i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(existsSync(dataDir!)).toBe(false);
    expect(serving()).toEqual([]);
    expect(readdirSync(runnerTemp)).toEqual([]);
  });
});
