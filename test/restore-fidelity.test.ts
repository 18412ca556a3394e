/**
 * Restores that come back whole, on real parts: a real source cluster and bundle, throwaway local
 * clusters as targets (they have none of the source's roles), the real pg_restore. The parsing of
 * pg_dump's ACL and policy SQL is also tested on the statements pg_dump writes.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';

import { backup } from '../src/core/backup.js';
import { drill, type DrillResult } from '../src/core/drill.js';
import { CheckFailed, ConfigError } from '../src/core/errors.js';
import { aclRoles, policyRoles } from '../src/core/engines/postgres/restore-roles.js';
import { closest } from '../src/core/engines/postgres/sample-plan.js';
import {
  OptionReader,
  parseBackupOptions,
  parseDrillOptions,
  type RawOptions,
} from '../src/core/options/index.js';
import { startTestCluster, type TestCluster } from './helpers/pg-cluster.js';
import { tempDir, testDeps } from './helpers/deps.js';

let source: TestCluster;
let work: { dir: string; remove: () => Promise<void> };
let storeDir: string;

async function runDrill(raw: RawOptions): Promise<DrillResult> {
  const reportDir = join(work.dir, 'reports', String(Math.random()).slice(2));
  try {
    return await drill(
      testDeps(),
      parseDrillOptions(
        new OptionReader({
          store: storeDir,
          name: 'rf',
          provision: 'local',
          'report-dir': reportDir,
          ...raw,
        }),
      ),
    );
  } catch (err) {
    if (err instanceof CheckFailed && err.result) return err.result as DrillResult;
    throw err;
  }
}

beforeAll(async () => {
  source = await startTestCluster({ database: 'rf' });
  await source.sql(`
    CREATE ROLE rf_reader NOLOGIN; CREATE ROLE rf_tenant NOLOGIN;
    CREATE ROLE rf_deployer NOLOGIN; CREATE ROLE "Rf App" NOLOGIN;
    CREATE TABLE customers (id int PRIMARY KEY); INSERT INTO customers SELECT generate_series(1, 5);
    CREATE TABLE orders (id int PRIMARY KEY, customer int REFERENCES customers);
    INSERT INTO orders SELECT g, 1 + g % 5 FROM generate_series(1, 20) g;
    CREATE TABLE audit (id int);
    CREATE TABLE p (id int) PARTITION BY RANGE (id);
    CREATE TABLE p_1 PARTITION OF p FOR VALUES FROM (0) TO (100);
    CREATE TABLE p_2 PARTITION OF p FOR VALUES FROM (100) TO (200);
    INSERT INTO p SELECT generate_series(0, 149);
    CREATE TABLE events (id int); INSERT INTO events VALUES (1), (2);
    CREATE TABLE events_old () INHERITS (events); INSERT INTO events_old VALUES (3);
    GRANT SELECT ON customers TO rf_reader;
    ALTER TABLE orders ENABLE ROW LEVEL SECURITY;
    CREATE POLICY mine ON orders TO rf_tenant USING (customer > 0);
    ALTER DEFAULT PRIVILEGES FOR ROLE rf_deployer GRANT SELECT ON TABLES TO "Rf App";`);
  work = await tempDir();
  storeDir = join(work.dir, 'store');
  await backup(
    testDeps(),
    parseBackupOptions(new OptionReader({ 'database-url': source.url, store: storeDir, name: 'rf' })),
  );
});

afterAll(async () => {
  await source?.stop();
  await work?.remove();
});

describe('create-roles', () => {
  it('creates the policy roles only, by default (no owners or grants are restored)', async () => {
    const r = await runDrill({ 'create-roles': 'true' });
    expect(r.checks.failures).toEqual([]);
    expect(r.report.notes).toContain('created roles before restoring: rf_tenant');
  });

  it('creates grantees and default-privilege roles too with no-acl false', async () => {
    const r = await runDrill({ 'create-roles': 'true', 'no-acl': 'false' });
    expect(r.checks.failures).toEqual([]);
    const note = r.report.notes.find((n) => n.startsWith('created roles before restoring:'));
    expect(note).toBe('created roles before restoring: Rf App, rf_deployer, rf_reader, rf_tenant');
  });

  it('without create-roles a policy role absent from the target fails the restore', async () => {
    const r = await runDrill({});
    expect(r.status).toBe('failed');
    expect(r.report.restoreErrors.some((e) => /rf_tenant/.test(e.message) && !e.ignored)).toBe(true);
  });
});

describe('tier sample', () => {
  it('an unknown table is a usage error naming the input and the closest names', async () => {
    const err = await runDrill({ tier: 'sample', 'sample-tables': ['public.custmers'] }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(
      /^sample-tables names a table the dump does not hold: "public\.custmers"/,
    );
    expect((err as Error).message).toContain('closest: public.customers');
  });

  it('a partitioned parent means its leaves', async () => {
    const r = await runDrill({ tier: 'sample', 'sample-tables': ['p'], 'create-roles': 'true' });
    expect(r.checks.failures).toEqual([]);
    expect(r.counts.map((c) => [c.name, c.actual])).toEqual([
      ['public.p_1', 100],
      ['public.p_2', 50],
    ]);
    expect(r.report.notes).toContain('sample-tables "p" means public.p_1, public.p_2');
  });

  it('an inheritance parent means its own rows and its children', async () => {
    const r = await runDrill({ tier: 'sample', 'sample-tables': ['public.events'], 'create-roles': 'true' });
    expect(r.checks.failures).toEqual([]);
    expect(r.counts.map((c) => [c.name, c.actual])).toEqual([
      ['public.events', 2],
      ['public.events_old', 1],
    ]);
  });

  it('a sample of zero rows fails unless allow-empty-sample', async () => {
    const empty = await runDrill({
      tier: 'sample',
      'sample-tables': ['public.audit'],
      'create-roles': 'true',
    });
    expect(empty.status).toBe('failed');
    expect(empty.checks.failures.join()).toMatch(/the sample holds rows.*0 rows/);
    const allowed = await runDrill({
      tier: 'sample',
      'sample-tables': ['public.audit'],
      'create-roles': 'true',
      'allow-empty-sample': 'true',
    });
    expect(allowed.checks.failures).toEqual([]);
  });

  it('a foreign key into an unsampled table is added NOT VALID and reported', async () => {
    const r = await runDrill({
      tier: 'sample',
      'sample-tables': ['public.orders'],
      'create-roles': 'true',
    });
    expect(r.checks.failures).toEqual([]);
    expect(r.report.notes.join('\n')).toContain(
      'added NOT VALID: public.orders orders_customer_fkey -> public.customers',
    );
  });
});

describe('the SQL pg_dump writes', () => {
  it('finds grantees, grantors and FOR ROLE roles, not PUBLIC or words inside signatures', () => {
    expect(
      aclRoles(`SET SESSION AUTHORIZATION "Deploy Bot";
GRANT SELECT ON TABLE public.t TO reader WITH GRANT OPTION;
RESET SESSION AUTHORIZATION;
GRANT ALL ON FUNCTION public.f(to_do integer) TO "Mixed Case", other;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
REVOKE SELECT ON TABLE public.t FROM gone;
GRANT UPDATE(val) ON TABLE public.t TO col_writer GRANTED BY grantor_x;
ALTER DEFAULT PRIVILEGES FOR ROLE deployer IN SCHEMA public GRANT SELECT ON TABLES TO app;`),
    ).toEqual([
      'Deploy Bot',
      'reader',
      'Mixed Case',
      'other',
      'gone',
      'col_writer',
      'grantor_x',
      'deployer',
      'app',
    ]);
  });

  it("takes a policy's TO list and nothing from its expressions", () => {
    expect(
      policyRoles(
        `CREATE POLICY p ON public.t AS RESTRICTIVE FOR SELECT TO a, "B c" USING ((owner = 'TO x'::text));`,
      ),
    ).toEqual(['a', 'B c']);
    expect(policyRoles(`CREATE POLICY p ON public.t USING (true) WITH CHECK (current_user = 'to');`)).toEqual(
      [],
    );
  });

  it('suggests names by edit distance', () => {
    expect(closest('public.custmers', ['public.customers', 'public.orders', 'app.custom'])).toEqual([
      'public.customers',
    ]);
  });
});
