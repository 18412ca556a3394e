/**
 * The drill's engine seam and the post-restore SQL it routes through the PostgreSQL engine: which
 * engine claims which bundle, and SQL files applied in order against a real scratch database
 * (a bare pg_dump fixture restored into a real cluster by the real pg_restore).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

import { drill, type DrillResult } from '../src/core/drill.js';
import type { EngineDrillContext, VerifiedBundle } from '../src/core/engines/engine.js';
import { ENGINES, type EngineDrillOptions } from '../src/core/engines/registry.js';
import { CheckFailed, ConfigError } from '../src/core/errors.js';
import { OptionReader, parseDrillOptions, type RawOptions } from '../src/core/options/index.js';
import type { DrillReport } from '../src/core/report/model.js';
import { startTestCluster, type TestCluster } from './helpers/pg-cluster.js';
import { tempDir, testDeps } from './helpers/deps.js';

const BARE_DUMP = resolve('test/fixtures/postgres/pg15-shop.gzip.dump');

let work: { dir: string; remove: () => Promise<void> };

beforeAll(async () => {
  work = await tempDir('dbdrill-drill-engines-');
});
afterAll(async () => {
  await work?.remove();
});

describe('which engine drills which bundle', () => {
  const report = { notes: [] as string[] } as unknown as DrillReport;
  const context = (): EngineDrillContext => {
    const deps = testDeps();
    return {
      deps: {
        ...deps,
        label: (n) => `--${n}`,
        provisionPostgres: () => Promise.reject(new Error('planning must not provision')),
      },
      ledger: { report, check: () => undefined },
      workDir: work.dir,
    };
  };
  const bareDump: VerifiedBundle = {
    pgDump: {
      member: 'postgres.dump',
      archiveVersion: '1.14',
      database: 'shop',
      serverVersion: '15.8',
      report: { toc: [] } as unknown as NonNullable<VerifiedBundle['pgDump']>['report'],
    },
    extracted: { 'postgres.dump': BARE_DUMP },
  };
  const options = (o: Partial<EngineDrillOptions>) =>
    ({
      clean: false,
      tier: 'full',
      sampleTables: [],
      noOwner: true,
      noAcl: false,
      createRoles: false,
      ignoreRestoreErrors: [],
      assertSql: [],
      countTolerance: {},
      ...o,
    }) as EngineDrillOptions;

  it('runs PostgreSQL first: its target is the app DATABASE_URL in a joint bundle', () => {
    expect(ENGINES.map((e) => e.name)).toEqual(['postgres', 'mongodb']);
  });

  it('a bare pg_dump is PostgreSQL only, and says what does not apply', () => {
    report.notes.length = 0;
    const planned = ENGINES.map((e) => e.planDrill(bareDump, options({ provision: 'local' }), context()));
    expect(planned.map((d) => d?.engine)).toEqual(['postgres', undefined]);
    expect(report.notes.join()).toMatch(/bare pg_dump file/);
  });

  it('a PostgreSQL dump with nowhere to go names the inputs as the user typed them', () => {
    const postgres = ENGINES.find((e) => e.name === 'postgres')!;
    expect(() =>
      postgres.planDrill(bareDump, options({ mongoTargetUrl: 'mongodb://h/x' }), context()),
    ).toThrow(
      new ConfigError(
        'this bundle holds a PostgreSQL dump: add a postgres:// --target-url next to the mongodb:// one, or --provision: local',
      ),
    );
  });

  it('a dump the inspection did not extract is a failed check, not a crash', () => {
    const postgres = ENGINES.find((e) => e.name === 'postgres')!;
    expect(() =>
      postgres.planDrill({ ...bareDump, extracted: {} }, options({ provision: 'local' }), context()),
    ).toThrow(CheckFailed);
  });
});

describe('post-restore SQL against a real scratch database', () => {
  let target: TestCluster;
  beforeAll(async () => {
    target = await startTestCluster({ database: 'scratch' });
  });
  afterAll(async () => {
    await target?.stop();
  });

  const run = async (raw: RawOptions): Promise<DrillResult> => {
    const options = parseDrillOptions(
      new OptionReader({
        bundle: BARE_DUMP,
        'target-url': target.url,
        clean: 'true',
        // the fixture dump comes from a C.UTF-8 database; this scratch one is C (ASCII data only)
        'accept-locale-mismatch': 'fixture from a C.UTF-8 database, ASCII data only',
        'report-dir': join(work.dir, `report-${Math.random().toString(36).slice(2)}`),
        ...raw,
      }),
    );
    try {
      return await drill(testDeps(), options);
    } catch (err) {
      if (err instanceof CheckFailed && err.result) return err.result as DrillResult;
      throw err;
    }
  };

  it('applies each statement in order, one check each, before the data checks', async () => {
    const dir = join(work.dir, 'sql-dir');
    await mkdir(dir);
    await writeFile(join(dir, '01-add.sql'), 'ALTER TABLE public.customers ADD COLUMN tier int');
    await writeFile(join(dir, '02-fill.sql'), 'UPDATE public.customers SET tier = 3');
    const result = await run({
      'post-restore-sql': ['CREATE TABLE public.migrated (id int)', `@${dir}`],
      'assert-sql': [
        'SELECT count(*) = 100 FROM public.customers WHERE tier = 3',
        `SELECT to_regclass('public.migrated') IS NOT NULL`,
      ],
    });
    expect(result.checks.failures).toEqual([]);
    expect(result.phases.map((p) => p.name)).toContain('migrate');
    const sqlChecks = result.report.checks.filter((c) => c.name.startsWith('post-restore-sql: '));
    expect(sqlChecks.map((c) => [c.name, c.ok])).toEqual([
      ['post-restore-sql: CREATE TABLE public.migrated (id int)', true],
      ['post-restore-sql: 01-add.sql', true],
      ['post-restore-sql: 02-fill.sql', true],
    ]);
  });

  it('a failing statement fails the drill in the migrate phase and stops there', async () => {
    const result = await run({
      'post-restore-sql': ['SELECT * FROM public.no_such_table', 'CREATE TABLE public.never (id int)'],
    });
    expect(result.status).toBe('failed');
    const migrate = result.report.phases.find((p) => p.name === 'migrate');
    expect(migrate?.status).toBe('failed');
    expect(migrate?.detail).toMatch(/post-restore-sql failed: .*no_such_table/);
    expect(result.report.checks.filter((c) => c.group === 'migrate').map((c) => c.ok)).toEqual([false]);
    expect(result.phases.map((p) => p.name)).not.toContain('checks');
  });
});
