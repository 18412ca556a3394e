/**
 * The CLI bundle as users run it (`node dist/cli/index.js`, the package's `dbdrill` bin): the
 * contract's exit codes (0 ok, 1 a check failed, 2 bad usage), `--json` printing exactly one JSON
 * object on stdout, and one clear line without a stack trace for each mistake.
 */
import { beforeAll, afterAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { tempDir } from './helpers/deps.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'dist', 'cli', 'index.js');
const SHOP_DUMP = join(ROOT, 'test', 'fixtures', 'postgres', 'pg15-shop.gzip.dump');
const STACK_FRAME = /\n\s+at .+:\d+:\d+\)?$/m;

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

function dbdrill(args: string[], cwd = ROOT): Promise<CliRun> {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('INPUT_') || k.startsWith('DBDRILL_')) delete env[k];
  const child = spawn(process.execPath, [CLI, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

let work: { dir: string; remove: () => Promise<void> };

beforeAll(async () => {
  if (!existsSync(CLI)) {
    const { build } = (await import(join(ROOT, 'scripts', 'build.mjs'))) as {
      build: (o: { only: string[] }) => unknown;
    };
    build({ only: ['cli'] });
  }
  work = await tempDir('dbdrill-cli-');
});

afterAll(async () => {
  await work?.remove();
});

describe('dbdrill (dist/cli/index.js)', () => {
  it('is an executable node script, as the package bin must be', () => {
    expect(readFileSync(CLI, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
    expect(statSync(CLI).mode & 0o111).not.toBe(0);
  });

  it('--help prints the usage and the commands, exit 0', async () => {
    const run = await dbdrill(['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Usage: dbdrill/);
    for (const command of ['backup', 'verify', 'drill', 'prune', 'list'])
      expect(run.stdout).toContain(command);
  });

  it('a bare dbdrill prints the usage on stderr and exits 2: no command is a usage mistake', async () => {
    const run = await dbdrill([]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/Usage: dbdrill/);
  });

  it('drill --help leaves out the inputs only the GitHub Action has, and rejects them as flags', async () => {
    const help = await dbdrill(['drill', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--health-urls');
    expect(help.stdout).not.toContain('report-artifact-name');
    expect(help.stdout).not.toContain('report-retention-days');
    const run = await dbdrill(['drill', '--report-artifact-name', 'x']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--report-artifact-name is an input of the GitHub Action only/);
  });

  it('<command> --help lists that command’s flags', async () => {
    const run = await dbdrill(['backup', '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('--database-url');
    expect(run.stdout).toContain('--secret-files');
  });

  it('--version prints the package version', async () => {
    const run = await dbdrill(['--version']);
    expect(run.code).toBe(0);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(run.stdout.trim()).toBe(pkg.version);
  });

  it('an unknown command exits 2 naming it and the valid ones', async () => {
    const run = await dbdrill(['frobnicate']);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('frobnicate');
    expect(run.stderr).toMatch(/backup.*verify/);
    expect(run.stderr).not.toMatch(STACK_FRAME);
  });

  it('an unknown flag exits 2 naming the flag', async () => {
    const run = await dbdrill(['verify', '--no-such-flag', 'x']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--no-such-flag');
  });

  it('backup without --database-url exits 2 naming --database-url, and writes nothing', async () => {
    const store = join(work.dir, 'never-created');
    const run = await dbdrill(['backup', '--store', store, '--name', 'shop']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--database-url');
    expect(run.stderr).not.toMatch(STACK_FRAME);
    expect(existsSync(store)).toBe(false);
  });

  it('list, verify, prune and drill with a store that does not exist exit 2 and create nothing', async () => {
    const store = join(work.dir, 'no-such-store');
    const runs = await Promise.all([
      dbdrill(['list', '--store', store, '--name', 'shop']),
      dbdrill(['verify', '--store', store, '--name', 'shop']),
      dbdrill(['prune', '--store', store, '--name', 'shop', '--keep-last', '1', '--dry-run']),
      dbdrill([
        'drill',
        '--store',
        store,
        '--name',
        'shop',
        '--provision',
        'local',
        '--report-dir',
        join(work.dir, 'r-no-store'),
      ]),
    ]);
    for (const run of runs) {
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(`store ${store} does not exist`);
      expect(run.stderr).not.toMatch(STACK_FRAME);
    }
    expect(existsSync(store)).toBe(false);
    const report = JSON.parse(readFileSync(join(work.dir, 'r-no-store', 'drill-report.json'), 'utf8'));
    expect(report.error).toMatchObject({ phase: 'locate bundle' });
    expect(report.error.message).toContain('does not exist');
  });

  it('a duration without a unit exits 2 naming the flag and the accepted units', async () => {
    const run = await dbdrill(['verify', '--bundle', SHOP_DUMP, '--max-age', '45', '--json']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--max-age "45" has no unit/);
    expect(run.stderr).toMatch(/s \(seconds\), m \(minutes\), h \(hours\), d \(days\) or w \(weeks\)/);
    expect((JSON.parse(run.stdout) as { ok: boolean; exitCode: number }).exitCode).toBe(2);
  });

  describe('drill options that name files or expressions are parsed before any work', () => {
    /**
     * Each drill below would restore the dump into a throwaway cluster first if the option were
     * parsed late; parsed up front it exits 2 at once, and the report directory is never created.
     */
    const drillWith = async (extra: string[]) => {
      const reportDir = join(work.dir, `report-${randomBytes(4).toString('hex')}`);
      const run = await dbdrill([
        'drill',
        '--bundle',
        SHOP_DUMP,
        '--provision',
        'local',
        '--report-dir',
        reportDir,
        ...extra,
      ]);
      return { ...run, reportWritten: existsSync(reportDir) };
    };

    it('a malformed --health-urls line', async () => {
      const run = await drillWith(['--health-urls', 'FETCH http://127.0.0.1:1/healthz']);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/--health-urls line 1: "FETCH http:\/\/127\.0\.0\.1:1\/healthz"/);
      expect(run.stderr).not.toMatch(/restor/i);
      expect(run.reportWritten).toBe(false);
    });

    it('a --health-checks file that is not valid YAML, or holds a bad check', async () => {
      const broken = join(work.dir, 'broken-checks.yml');
      await writeFile(broken, 'checks: [url: http://x\n  - : :\n');
      const run = await drillWith(['--health-checks', broken]);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(`--health-checks: "${broken}" is not valid YAML or JSON`);
      expect(run.reportWritten).toBe(false);
      const wrongScheme = join(work.dir, 'ftp-checks.yml');
      await writeFile(wrongScheme, 'checks:\n  - url: ftp://127.0.0.1/healthz\n');
      const run2 = await drillWith(['--health-checks', wrongScheme]);
      expect(run2.code).toBe(2);
      expect(run2.stderr).toMatch(/--health-checks \(".*ftp-checks\.yml"\) check #1 uses the scheme "ftp:"/);
      expect(run2.reportWritten).toBe(false);
    });

    it('a --post-restore-sql @file that does not exist, or a directory without *.sql', async () => {
      const missing = join(work.dir, 'nope.sql');
      const run = await drillWith(['--post-restore-sql', `@${missing}`]);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(`--post-restore-sql "@${missing}": "${missing}" does not exist`);
      expect(run.reportWritten).toBe(false);
      const noSql = join(work.dir, 'no-sql');
      await mkdir(noSql);
      await writeFile(join(noSql, 'README.md'), 'not SQL');
      const run2 = await drillWith(['--post-restore-sql', `@${noSql}`]);
      expect(run2.code).toBe(2);
      expect(run2.stderr).toContain(`the directory "${noSql}" holds no *.sql file`);
      expect(run2.reportWritten).toBe(false);
    });

    it('an --rto without a unit', async () => {
      const run = await drillWith(['--rto', '45']);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/--rto "45" has no unit/);
      expect(run.reportWritten).toBe(false);
    });
  });

  it('verify --json of a bare pg_dump file prints one JSON object with the contract keys, exit 0', async () => {
    const run = await dbdrill(['verify', '--bundle', SHOP_DUMP, '--json']);
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(out).toEqual(
      expect.objectContaining({
        ok: true,
        bundle: expect.stringContaining('pg15-shop.gzip.dump'),
        problems: [],
      }),
    );
    expect(typeof out.ageSeconds).toBe('number');
    expect(out.ageSeconds as number).toBeGreaterThan(0);
  });

  it('verify --json --deep of the same dump still passes', async () => {
    const run = await dbdrill(['verify', '--bundle', SHOP_DUMP, '--deep', '--json']);
    expect(run.code).toBe(0);
    expect((JSON.parse(run.stdout) as { ok: boolean }).ok).toBe(true);
  });

  it('verify --json of a random file exits 1 with ok:false and the problems', async () => {
    const junk = join(work.dir, 'junk.dump');
    await writeFile(junk, randomBytes(64 * 1024));
    const run = await dbdrill(['verify', '--bundle', junk, '--json']);
    expect(run.code).toBe(1);
    const out = JSON.parse(run.stdout) as { ok: boolean; bundle: string; problems: string[] };
    expect(out.ok).toBe(false);
    expect(out.bundle).toContain('junk.dump');
    expect(out.problems.length).toBeGreaterThan(0);
    expect(run.stderr).not.toMatch(STACK_FRAME);
  });

  it('verify --json of a truncated dump exits 1, never a pass', async () => {
    const cut = join(work.dir, 'cut.dump');
    const bytes = readFileSync(SHOP_DUMP);
    await writeFile(cut, bytes.subarray(0, Math.floor(bytes.length * 0.7)));
    const run = await dbdrill(['verify', '--bundle', cut, '--json']);
    expect(run.code).toBe(1);
    expect((JSON.parse(run.stdout) as { ok: boolean }).ok).toBe(false);
  });

  it('verify of a bundle that does not exist fails with a line naming it, no stack trace', async () => {
    const missing = join(work.dir, 'nope.dbdrill.tar');
    const run = await dbdrill(['verify', '--bundle', missing]);
    expect([1, 2]).toContain(run.code);
    expect(run.stderr).toContain('nope.dbdrill.tar');
    expect(run.stderr).not.toMatch(STACK_FRAME);
  });
});
