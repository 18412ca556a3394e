/**
 * The drill end to end on real parts: a real source cluster, real bundles, throwaway local
 * clusters (15 and 17), the real pg_restore, and a real app process with health checks.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { readFile, writeFile, mkdir, copyFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import net from 'node:net';
import { XMLParser, XMLValidator } from 'fast-xml-parser';

import { backup, type BackupResult } from '../src/core/backup.js';
import { drill, type DrillResult } from '../src/core/drill.js';
import { CheckFailed, ConfigError } from '../src/core/errors.js';
import {
  OptionReader,
  parseBackupOptions,
  parseDrillOptions,
  type RawOptions,
} from '../src/core/options/index.js';
import { validateDrillReport } from '../src/core/report/validate.js';
import { REALISTIC_COUNTS, startTestCluster, type TestCluster } from './helpers/pg-cluster.js';
import { tempDir, testDeps } from './helpers/deps.js';
import { freePort } from '../src/core/provision/free-port.js';

let source: TestCluster;
let work: { dir: string; remove: () => Promise<void> };
let storeDir: string;
let secretsDir: string;
let first: BackupResult;
let port = 41000;

const APP = resolve('test/apps/tiny-app.mjs');

async function appOptions(mode = 'normal'): Promise<RawOptions> {
  port = await freePort();
  return {
    'app-command': `TINY_APP_MODE=${mode} TINY_APP_PORT=${port} exec node ${APP}`,
    'health-urls': [`GET http://127.0.0.1:${port}/healthz 200 "status":"ok"`],
    'health-timeout': '20s',
  };
}

async function runDrill(
  raw: RawOptions,
  signal?: AbortSignal,
): Promise<{ result: DrillResult; logger: ReturnType<typeof testDeps>['logger'] }> {
  const deps = testDeps({ signal });
  const reportDir = join(work.dir, 'reports', String(Math.random()).slice(2));
  try {
    const result = await drill(
      deps,
      parseDrillOptions(new OptionReader({ 'report-dir': reportDir, ...raw })),
    );
    return { result, logger: deps.logger };
  } catch (err) {
    if (err instanceof CheckFailed && err.result)
      return { result: err.result as DrillResult, logger: deps.logger };
    throw err;
  }
}

async function portAnswers(p: number): Promise<boolean> {
  return new Promise((res) => {
    const s = net.connect(p, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      res(true);
    });
    s.once('error', () => res(false));
  });
}

function localPortOf(result: DrillResult): number | undefined {
  const m = /:(\d+)\//.exec(result.report.target?.display ?? '');
  return m ? Number(m[1]) : undefined;
}

beforeAll(async () => {
  source = await startTestCluster({ database: 'shop' });
  await source.loadRealisticSchema();
  work = await tempDir();
  storeDir = join(work.dir, 'store');
  secretsDir = join(work.dir, 'secrets');
  await mkdir(secretsDir);
  await writeFile(join(secretsDir, 'kek.key'), 'KEK-0123456789abcdef0123456789abcdef\n', { mode: 0o600 });
  first = await backup(
    testDeps(),
    parseBackupOptions(
      new OptionReader({
        'database-url': source.url,
        store: storeDir,
        name: 'shop',
        'secret-files': [join(secretsDir, 'kek.key')],
        'allow-unencrypted-secrets': 'true',
      }),
    ),
  );
});

afterAll(async () => {
  await source?.stop();
  await work?.remove();
});

describe('drill: the happy path', () => {
  let result: DrillResult;
  beforeAll(async () => {
    ({ result } = await runDrill({
      store: storeDir,
      name: 'shop',
      provision: 'local',
      rto: '10m',
      rpo: '26h',
      ...(await appOptions()),
    }));
  });

  it('passes, with every phase timed and the contract JSON', () => {
    expect(result.checks.failures).toEqual([]);
    expect(result.status).toBe('passed');
    expect(result.ok).toBe(true);
    expect(result.phases.map((p) => p.name)).toEqual([
      'fetch + verify',
      'provision',
      'restore',
      'migrate',
      'app start',
      'health',
      'checks',
    ]);
    expect(result.rtoSeconds).toBeGreaterThan(0);
    expect(result.rpoSeconds).toBeGreaterThanOrEqual(0);
    expect(result.bundle).toContain(first.key);
  });

  it('finds every table with exactly the rows counted at backup', () => {
    const counts = Object.fromEntries(result.counts.map((c) => [c.name, c.actual]));
    expect(counts).toEqual(REALISTIC_COUNTS);
    expect(result.counts.every((c) => c.ok)).toBe(true);
  });

  it('checks structure per kind, sequences, and hands the app its secret store', () => {
    const kinds = Object.fromEntries((result.report.structure ?? []).map((s) => [s.kind, s.missing.length]));
    expect(kinds).toMatchObject({
      tables: 0,
      views: 0,
      'materialized views': 0,
      sequences: 0,
      indexes: 0,
      constraints: 0,
      functions: 0,
      'large objects': 0,
    });
    expect(result.report.checks.find((c) => c.name.startsWith('sequences'))?.ok).toBe(true);
    expect(result.report.health[0].ok).toBe(true);
  });

  it('writes a JSON report that validates, Markdown with a gantt, and parseable JUnit', async () => {
    const json = JSON.parse(await readFile(join(result.reportDir, 'drill-report.json'), 'utf8'));
    expect(validateDrillReport(json)).toEqual([]);
    const md = await readFile(join(result.reportDir, 'drill-report.md'), 'utf8');
    expect(md).toContain('gantt');
    const xml = await readFile(join(result.reportDir, 'junit.xml'), 'utf8');
    expect(XMLValidator.validate(xml)).toBe(true);
    const parsed = new XMLParser({ ignoreAttributes: false }).parse(xml);
    expect(JSON.stringify(parsed)).toContain('row counts equal the backup snapshot');
  });

  it('tears the scratch cluster down', async () => {
    const p = localPortOf(result);
    expect(p).toBeDefined();
    expect(await portAnswers(p!)).toBe(false);
  });

  it('records the drill in the store history, and the next report charts it', async () => {
    expect(existsSync(join(storeDir, 'shop.drill-history.jsonl'))).toBe(true);
    const { result: second } = await runDrill({
      store: storeDir,
      name: 'shop',
      provision: 'local',
      tier: 'schema',
    });
    expect(second.report.history?.length).toBeGreaterThanOrEqual(1);
  });
});

describe('drill: options', () => {
  it('restores into a newer major (dumped by 15, restored into 17 from the npm package)', async () => {
    const { result } = await runDrill({
      store: storeDir,
      name: 'shop',
      provision: 'local',
      'pg-version': '17',
    });
    expect(result.checks.failures).toEqual([]);
    expect(result.report.target?.serverVersion).toMatch(/^17\./);
  });

  it('tier schema restores no data and skips counts; tier sample restores only the named tables', async () => {
    const schema = await runDrill({ store: storeDir, name: 'shop', provision: 'local', tier: 'schema' });
    expect(schema.result.checks.failures).toEqual([]);
    expect(schema.result.counts).toEqual([]);
    const sample = await runDrill({
      store: storeDir,
      name: 'shop',
      provision: 'local',
      tier: 'sample',
      'sample-tables': ['public.customers'],
    });
    expect(sample.result.checks.failures).toEqual([]);
    expect(sample.result.counts.map((c) => c.name)).toEqual(['public.customers']);
  });

  it('runs migrate-command and assert-sql against the scratch database', async () => {
    const { result } = await runDrill({
      store: storeDir,
      name: 'shop',
      provision: 'local',
      'migrate-command': `psql -v ON_ERROR_STOP=1 -c 'ALTER TABLE public.customers ADD COLUMN loyalty int NOT NULL DEFAULT 0'`,
      'assert-sql': [
        `SELECT count(*) = 500 FROM public.customers WHERE loyalty = 0`,
        `SELECT EXISTS (SELECT 1 FROM app.documents)`,
      ],
    });
    expect(result.checks.failures).toEqual([]);
    const failing = await runDrill({
      store: storeDir,
      name: 'shop',
      provision: 'local',
      'assert-sql': ['SELECT count(*) = 1 FROM public.orders'],
    });
    expect(failing.result.status).toBe('failed');
    expect(failing.result.checks.failures.join()).toMatch(/assert-sql/);
  });

  it('restores into a given target-url, refuses a non-empty one, and cleans it when asked', async () => {
    const target = await startTestCluster({ database: 'scratch' });
    try {
      const ok = await runDrill({ store: storeDir, name: 'shop', 'target-url': target.url });
      expect(ok.result.checks.failures).toEqual([]);
      await expect(
        drill(
          testDeps(),
          parseDrillOptions(
            new OptionReader({
              store: storeDir,
              name: 'shop',
              'target-url': target.url,
              'report-dir': join(work.dir, 'r-nonempty'),
            }),
          ),
        ),
      ).rejects.toThrow(/is not empty .*clean: true/);
      const cleaned = await runDrill({
        store: storeDir,
        name: 'shop',
        'target-url': target.url,
        clean: 'true',
      });
      expect(cleaned.result.checks.failures).toEqual([]);
    } finally {
      await target.stop();
    }
  });

  it('refuses to restore into the backup source', async () => {
    const err = await drill(
      testDeps(),
      parseDrillOptions(
        new OptionReader({
          store: storeDir,
          name: 'shop',
          'target-url': source.url,
          'report-dir': join(work.dir, 'r-src'),
        }),
      ),
    ).catch((e) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toMatch(/own source/);
  });

  it('lists pg_restore errors, fails on them, and passes when each is ignored with a reason', async () => {
    await source.sql(
      `CREATE ROLE app_owner NOLOGIN; CREATE TABLE public.owned (id int); ALTER TABLE public.owned OWNER TO app_owner`,
    );
    const owned = await backup(
      testDeps(),
      parseBackupOptions(
        new OptionReader({ 'database-url': source.url, store: join(work.dir, 'store-owned'), name: 'owned' }),
      ),
    );
    await source.sql(`DROP TABLE public.owned; DROP ROLE app_owner`);
    const failing = await runDrill({ bundle: owned.bundle, provision: 'local', 'no-owner': 'false' });
    expect(failing.result.status).toBe('failed');
    expect(failing.result.report.restoreErrors.some((e) => /app_owner/.test(e.message) && !e.ignored)).toBe(
      true,
    );
    const ignored = await runDrill({
      bundle: owned.bundle,
      provision: 'local',
      'no-owner': 'false',
      'ignore-restore-errors': [
        'role "app_owner" does not exist # roles are created by terraform in production',
      ],
    });
    expect(ignored.result.checks.failures).toEqual([]);
    expect(
      ignored.result.report.restoreErrors.every((e) => e.ignored && e.reason?.includes('terraform')),
    ).toBe(true);
    const created = await runDrill({
      bundle: owned.bundle,
      provision: 'local',
      'no-owner': 'false',
      'create-roles': 'true',
    });
    expect(created.result.checks.failures).toEqual([]);
    expect(created.result.report.restoreErrors).toEqual([]);
  });

  it('compares with production: small drift passes, an order-of-magnitude gap fails', async () => {
    await source.sql(
      `INSERT INTO public.customers (name, email) SELECT 'late' || g, 'late' || g || '@x.test' FROM generate_series(1, 10) g`,
    );
    const drift = await runDrill({
      store: storeDir,
      name: 'shop',
      provision: 'local',
      'compare-url': source.url,
    });
    expect(drift.result.checks.failures).toEqual([]);
    await source.sql(
      `INSERT INTO public.order_items SELECT o.id, 100 + g, 'X', 1, 1 FROM public.orders o, generate_series(1, 25) g`,
    );
    const gap = await runDrill({
      store: storeDir,
      name: 'shop',
      provision: 'local',
      'compare-url': source.url,
    });
    expect(gap.result.status).toBe('failed');
    expect(gap.result.checks.failures.join()).toMatch(/public\.order_items: production \d+, restored 5000/);
  });

  it('drills a bare pg_dump file from another tool, saying what does not apply', async () => {
    const bare = join(work.dir, 'shop.dump');
    await copyFile('test/fixtures/postgres/pg15-shop.gzip.dump', bare);
    const { result } = await runDrill({ bundle: bare, provision: 'local' });
    expect(result.checks.failures).toEqual([]);
    expect(result.report.notes.join()).toMatch(/bare pg_dump file/);
    expect(Object.fromEntries(result.counts.map((c) => [c.name, c.actual]))).toEqual({
      'public.customers': 100,
      'public.orders': 1000,
    });
  });

  it('drills a piped dump (no data offsets) with one pg_restore job, and says so', async () => {
    const { result } = await runDrill({
      bundle: resolve('test/fixtures/postgres/pg15-lo.piped.dump'),
      provision: 'local',
      jobs: '2',
    });
    expect(result.checks.failures).toEqual([]);
    expect(result.report.notes.join()).toMatch(/written to a pipe .*1 job/);
    expect(Object.fromEntries(result.counts.map((c) => [c.name, c.actual]))).toEqual({
      'public.a': 2000,
      'public.b': 3000,
    });
  });

  it('fails an RTO budget that is exceeded', async () => {
    const { result } = await runDrill({ store: storeDir, name: 'shop', provision: 'local', rto: '0.001s' });
    expect(result.status).toBe('failed');
    expect(result.report.objectives.rto?.ok).toBe(false);
  });
});

describe('drill: faults', () => {
  it('no bundle in the store: the report says so, in every file', async () => {
    await mkdir(join(work.dir, 'empty'), { recursive: true });
    const err = await drill(
      testDeps(),
      parseDrillOptions(
        new OptionReader({
          store: join(work.dir, 'empty'),
          name: 'shop',
          provision: 'local',
          'report-dir': join(work.dir, 'r-empty'),
        }),
      ),
    ).catch((e) => e);
    expect(err).toBeInstanceOf(CheckFailed);
    expect(err.message).toMatch(/no bundle named "shop"/);
    const dir = join(work.dir, 'r-empty');
    const report = JSON.parse(await readFile(join(dir, 'drill-report.json'), 'utf8'));
    expect(report.error).toMatchObject({ phase: 'locate bundle' });
    expect(report.error.message).toMatch(/no bundle named "shop"/);
    expect(report.error.hint).toContain('dbdrill list');
    const md = (await readFile(join(dir, 'drill-report.md'), 'utf8')).split('\n');
    expect(md[2]).toMatch(/^\*\*Why:\*\* stopped in locate bundle: no bundle named "shop"/);
    expect(md.join('\n')).not.toContain('0/0');
    const junit = await readFile(join(dir, 'junit.xml'), 'utf8');
    expect(junit).toMatch(/<failure message="stopped in locate bundle: no bundle named &quot;shop&quot;/);
  });

  it('the newest bundle is corrupt: fails and names the newest that verifies', async () => {
    const store = join(work.dir, 'store-corrupt');
    const good = await backup(
      testDeps(),
      parseBackupOptions(new OptionReader({ 'database-url': source.url, store, name: 'shop' })),
    );
    await new Promise((r) => setTimeout(r, 1100));
    const bad = await backup(
      testDeps(),
      parseBackupOptions(new OptionReader({ 'database-url': source.url, store, name: 'shop' })),
    );
    const bytes = await readFile(bad.bundle);
    bytes[Math.floor(bytes.length / 2)] ^= 0xff;
    await writeFile(bad.bundle, bytes);
    const { result } = await runDrill({ store, name: 'shop', provision: 'local' });
    expect(result.status).toBe('failed');
    expect(
      result.report.checks.find((c) => c.name === 'drill ran to the end' || (c.group === 'verify' && !c.ok)),
    ).toBeDefined();
    expect(result.report.phases[0].detail).toContain(good.key);
    expect(result.phases.map((p) => p.name)).toEqual(['fetch + verify']);
    expect(result.report.error).toMatchObject({ phase: 'fetch + verify' });
    expect(result.report.error?.message).toContain(good.key);
  });

  it('an app that exits at once: failed, with its log tail in the report', async () => {
    const { result } = await runDrill({
      store: storeDir,
      name: 'shop',
      provision: 'local',
      ...(await appOptions('exit')),
    });
    expect(result.status).toBe('failed');
    expect(result.report.appLogTail?.join('\n')).toContain('cannot read config');
    expect(await portAnswers(localPortOf(result)!)).toBe(false);
  });

  it('an app that never becomes healthy: failed at health-timeout', async () => {
    const opts = await appOptions('never');
    const { result } = await runDrill({
      store: storeDir,
      name: 'shop',
      provision: 'local',
      ...opts,
      'health-timeout': '2s',
    });
    expect(result.status).toBe('failed');
    expect(result.report.health[0].ok).toBe(false);
    expect(result.report.health[0].attempts).toBeGreaterThan(1);
    expect(await portAnswers(port)).toBe(false);
  });

  it('target unreachable: a clear error naming host and port', async () => {
    const err = await drill(
      testDeps(),
      parseDrillOptions(
        new OptionReader({
          store: storeDir,
          name: 'shop',
          'target-url': 'postgres://u:pw-xyz@127.0.0.1:1/scratch',
          'report-dir': join(work.dir, 'r-unreach'),
        }),
      ),
    ).catch((e) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toContain('127.0.0.1:1');
    expect(err.message).not.toContain('pw-xyz');
  });

  it('SIGTERM in the middle of the restore: cancelled, report written, cluster torn down', async () => {
    const controller = new AbortController();
    const deps = testDeps({ signal: controller.signal });
    const reportDir = join(work.dir, 'r-cancel');
    const watcher = setInterval(() => {
      if (deps.logger.lines.some((l) => l.includes('pg_restore --dbname'))) controller.abort('SIGTERM');
    }, 2);
    const err = await drill(
      deps,
      parseDrillOptions(
        new OptionReader({ store: storeDir, name: 'shop', provision: 'local', 'report-dir': reportDir }),
      ),
    ).catch((e) => e);
    clearInterval(watcher);
    expect(err).toBeInstanceOf(CheckFailed);
    const result = (err as CheckFailed).result as DrillResult;
    expect(result.status).toBe('cancelled');
    const json = JSON.parse(await readFile(join(reportDir, 'drill-report.json'), 'utf8'));
    expect(json.status).toBe('cancelled');
    expect(await portAnswers(localPortOf(result)!)).toBe(false);
  });
});
