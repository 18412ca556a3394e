/**
 * The post-restore checks against a real server: every object kind pg_dump lists is found in a
 * faithful restore (no false failure) and named when it is gone (no false pass); sequences are
 * judged with their own direction and increment; hash partition trees are counted at the root;
 * compare-url finds a table in a schema whose name contains ".".
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

import { findClientTool } from '../src/core/engines/postgres/pg-binaries.js';
import { readPgDumpToc, type PgTocEntry } from '../src/core/engines/postgres/pgdump-reader.js';
import { checkOwnedSequences, inheritedFromSource } from '../src/core/engines/postgres/sequence-checks.js';
import {
  checkStructure,
  compareCounts,
  compareWithProduction,
  STRUCTURE_DESCS,
} from '../src/core/engines/postgres/structure-checks.js';
import { startTestCluster, type TestCluster } from './helpers/pg-cluster.js';

/** One object of every kind the structure check knows, with names that contain "." and "(". */
const SOURCE_SQL = `
  CREATE SCHEMA "acme.prod";
  CREATE TABLE "acme.prod"."T x" (id int PRIMARY KEY, v text CHECK (v <> ''));
  INSERT INTO "acme.prod"."T x" SELECT g, 'v' || g FROM generate_series(1, 20) g;
  CREATE FUNCTION public."calc(v2)"(a int) RETURNS int LANGUAGE sql AS 'SELECT a + 1';
  CREATE FUNCTION public."calc(v2)"(a text) RETURNS text LANGUAGE sql AS 'SELECT a';
  CREATE FUNCTION public."odd)name"() RETURNS int LANGUAGE sql AS 'SELECT 1';
  CREATE TYPE mood AS ENUM ('sad', 'ok');
  CREATE TYPE comp AS (x int);
  CREATE DOMAIN posint AS int CHECK (VALUE > 0);
  CREATE FUNCTION "acme.prod".f2(x mood, y "acme.prod"."T x") RETURNS int LANGUAGE sql AS 'SELECT 1';
  ALTER TABLE "acme.prod"."T x" ENABLE ROW LEVEL SECURITY;
  CREATE POLICY "my pol" ON "acme.prod"."T x" USING (true);
  CREATE RULE "no del" AS ON DELETE TO "acme.prod"."T x" WHERE false DO INSTEAD NOTHING;
  CREATE FUNCTION evt() RETURNS event_trigger LANGUAGE plpgsql AS 'BEGIN END';
  CREATE EVENT TRIGGER "Evt" ON ddl_command_start EXECUTE FUNCTION evt();
  CREATE EXTENSION hstore;
  CREATE PUBLICATION p1 FOR TABLE "acme.prod"."T x";
  CREATE PUBLICATION p2 FOR TABLES IN SCHEMA public;
  CREATE CAST (comp AS text) WITH INOUT;
  CREATE FUNCTION opf(int, mood) RETURNS bool LANGUAGE sql AS 'SELECT true';
  CREATE OPERATOR === (LEFTARG = int, RIGHTARG = mood, FUNCTION = opf);
  CREATE COLLATION "Coll x" (provider = icu, locale = 'de-DE');
  ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO PUBLIC;
  COMMENT ON TABLE "acme.prod"."T x" IS 'table';
  COMMENT ON COLUMN "acme.prod"."T x".v IS 'column';
  COMMENT ON FUNCTION public."calc(v2)"(int) IS 'function';
  COMMENT ON POLICY "my pol" ON "acme.prod"."T x" IS 'policy';
  COMMENT ON SCHEMA "acme.prod" IS 'schema';
  CREATE AGGREGATE agg1(int) (sfunc = int4pl, stype = int4);
  CREATE PROCEDURE pr(a int) LANGUAGE sql AS 'SELECT 1';
  CREATE TEXT SEARCH CONFIGURATION tsc (COPY = english);
  CREATE STATISTICS st1 ON id, v FROM "acme.prod"."T x";
  CREATE TABLE he (id int, c mood) PARTITION BY HASH (c);
  CREATE TABLE he0 PARTITION OF he FOR VALUES WITH (MODULUS 2, REMAINDER 0);
  CREATE TABLE he1 PARTITION OF he FOR VALUES WITH (MODULUS 2, REMAINDER 1);
  INSERT INTO he SELECT g, (ARRAY['sad','ok']::mood[])[1 + g % 2] FROM generate_series(1, 30) g;
  CREATE TRIGGER "tr 1" BEFORE UPDATE ON "acme.prod"."T x" FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger();
  CREATE VIEW "v.w" AS SELECT 1 AS one;
  CREATE MATERIALIZED VIEW mv AS SELECT 1 AS one;
  CREATE INDEX "idx.v" ON "acme.prod"."T x" (v);
  SELECT lo_from_bytea(0, 'lo');`;

/** TOC descs that are data, privileges, owners or settings rather than objects of their own. */
const NOT_OBJECTS = new Set([
  'TABLE DATA',
  'BLOB',
  'BLOBS',
  'ACL',
  'ENCODING',
  'STDSTRINGS',
  'SEARCHPATH',
  'DATABASE',
  'DATABASE PROPERTIES',
  'SEQUENCE SET',
  'SEQUENCE OWNED BY',
  'DEFAULT',
  'MATERIALIZED VIEW DATA',
]);

let cluster: TestCluster;
let work: string;
let toc: PgTocEntry[];
let target: pg.Client;
let source: pg.Client;
const tgtUrl = () => cluster.url.replace(/\/[^/]*$/, '/tgt');
const srcUrl = () => cluster.url.replace(/\/[^/]*$/, '/src');

beforeAll(async () => {
  cluster = await startTestCluster();
  work = await mkdtemp(join(tmpdir(), 'structure-checks-'));
  await cluster.sql('CREATE DATABASE src');
  await cluster.sql('CREATE DATABASE tgt');
  source = new pg.Client({ connectionString: srcUrl() });
  await source.connect();
  await source.query(SOURCE_SQL);
  const dump = join(work, 'src.dump');
  const pgDump = await findClientTool(cluster.runner, 'pg_dump', cluster.major);
  const pgRestore = await findClientTool(cluster.runner, 'pg_restore', cluster.major);
  const d = await cluster.runner.run(pgDump.path, ['-Fc', '-f', dump, '-d', srcUrl()]);
  expect(d.code).toBe(0);
  const r = await cluster.runner.run(pgRestore.path, ['-d', tgtUrl(), '--no-owner', dump]);
  expect(r.stderr).toBe('');
  toc = (await readPgDumpToc(createReadStream(dump))).toc;
  target = new pg.Client({ connectionString: tgtUrl() });
  await target.connect();
}, 120_000);

afterAll(async () => {
  await target?.end().catch(() => undefined);
  await source?.end().catch(() => undefined);
  await cluster?.stop();
  await rm(work, { recursive: true, force: true });
});

describe('structure check', () => {
  it('has a rule for every object kind the dump lists', () => {
    const unjudged = [...new Set(toc.map((e) => e.desc))].filter(
      (d) => !STRUCTURE_DESCS.has(d) && !NOT_OBJECTS.has(d),
    );
    expect(unjudged).toEqual([]);
  });

  it('finds every object of a faithful restore, names with "." and "(" included', async () => {
    const kinds = await checkStructure(target, toc, { noAcl: false });
    expect(kinds.filter((k) => k.missing.length)).toEqual([]);
    const byKind = Object.fromEntries(kinds.map((k) => [k.kind, k.expected]));
    expect(byKind).toMatchObject({ functions: expect.any(Number), policies: 1, rules: 1, casts: 1 });
    expect(byKind['comments']).toBeGreaterThanOrEqual(5);
    expect(byKind['default privileges']).toBe(1);
    // The search path of the session is left as it was.
    expect((await target.query('SHOW search_path')).rows[0].search_path).toBe('"$user", public');
  });

  it('names each lost object under its kind, quoted by the server', async () => {
    await target.query(`
      DROP POLICY "my pol" ON "acme.prod"."T x";
      DROP RULE "no del" ON "acme.prod"."T x";
      DROP EVENT TRIGGER "Evt";
      DROP PUBLICATION p2;
      ALTER PUBLICATION p1 DROP TABLE "acme.prod"."T x";
      DROP CAST (comp AS text);
      DROP COLLATION "Coll x";
      COMMENT ON COLUMN "acme.prod"."T x".v IS NULL;
      ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE SELECT ON TABLES FROM PUBLIC;
      DROP FUNCTION public."calc(v2)"(text);
      DROP OPERATOR === (int, mood);
      DROP TRIGGER "tr 1" ON "acme.prod"."T x";
      DROP STATISTICS st1;
      DROP TEXT SEARCH CONFIGURATION tsc;
      ALTER TABLE "acme.prod"."T x" DISABLE ROW LEVEL SECURITY;
      ALTER TABLE "acme.prod"."T x" DROP CONSTRAINT "T x_pkey";`);
    const kinds = await checkStructure(target, toc, { noAcl: false });
    const missing = Object.fromEntries(kinds.filter((k) => k.missing.length).map((k) => [k.kind, k.missing]));
    expect(missing).toEqual({
      policies: ['"my pol" on "acme.prod"."T x"'],
      rules: ['"no del" on "acme.prod"."T x"'],
      'event triggers': ['"Evt"'],
      publications: ['p2'],
      'publication members': ['p1 T x (schema "acme.prod")', 'p2 public (schema public)'],
      casts: ['CAST (public.comp AS text)'],
      collations: ['public."Coll x"'],
      // The policy's comment went with the policy.
      comments: ['COLUMN "T x".v (schema "acme.prod")', 'POLICY "my pol" ON "T x" (schema "acme.prod")'],
      'default privileges': ['DEFAULT PRIVILEGES FOR TABLES (schema public) (role postgres)'],
      functions: ['public.calc(v2)(text)'],
      operators: ['public."==="'],
      triggers: ['"tr 1" on "acme.prod"."T x"'],
      'extended statistics': ['public.st1'],
      'text search': ['public.tsc'],
      'row level security': ['"acme.prod"."T x"'],
      constraints: ['"T x_pkey" on "acme.prod"."T x"'],
    });
    // Entries the restore left out on purpose (and reported) are not expected.
    const pkey = toc.find((e) => e.desc === 'CONSTRAINT' && e.tag === 'T x T x_pkey')!;
    const leftOut = await checkStructure(target, toc, { noAcl: false, leftOut: new Set([pkey.dumpId]) });
    expect(leftOut.filter((k) => k.kind === 'constraints' && k.missing.length)).toEqual([]);
    // With no-acl, default privileges were left out on purpose and are not judged.
    const noAcl = await checkStructure(target, toc, { noAcl: true });
    expect(noAcl.map((k) => k.kind)).not.toContain('default privileges');
  });
});

describe('sequence check', () => {
  it('uses each sequence own direction and increment, skips text and cycling ones with a reason', async () => {
    await source.query(`
      CREATE SEQUENCE down_seq INCREMENT -1 MINVALUE -1000 MAXVALUE -1 START -1;
      CREATE TABLE down (id int DEFAULT nextval('down_seq') PRIMARY KEY);
      ALTER SEQUENCE down_seq OWNED BY down.id;
      INSERT INTO down SELECT FROM generate_series(1, 7);
      CREATE SEQUENCE ten_seq INCREMENT 10;
      CREATE TABLE ten (id bigint DEFAULT nextval('ten_seq') PRIMARY KEY);
      ALTER SEQUENCE ten_seq OWNED BY ten.id;
      INSERT INTO ten SELECT FROM generate_series(1, 5);
      CREATE SEQUENCE inv_seq;
      CREATE TABLE invoice (code text DEFAULT 'INV-' || nextval('inv_seq') PRIMARY KEY);
      ALTER SEQUENCE inv_seq OWNED BY invoice.code;
      INSERT INTO invoice SELECT FROM generate_series(1, 12);
      CREATE SEQUENCE cyc MAXVALUE 3 CYCLE;
      CREATE TABLE ring (id int DEFAULT nextval('cyc'));
      ALTER SEQUENCE cyc OWNED BY ring.id;
      INSERT INTO ring SELECT FROM generate_series(1, 5);
      CREATE TABLE acct (id serial PRIMARY KEY);
      INSERT INTO acct SELECT generate_series(1, 10);
      INSERT INTO acct VALUES (500);
      SELECT setval('acct_id_seq', 20);`);
    const atBackup = await checkOwnedSequences(source);
    expect(atBackup.behind.map((b) => [b.name, b.lastValue, b.columnEdge])).toEqual([
      ['acct_id_seq', '20', '500'],
    ]);
    expect(atBackup.skipped.map((s) => [s.name, s.reason])).toEqual([
      ['cyc', expect.stringContaining('cycles')],
      ['inv_seq', expect.stringContaining('column type text is not an integer')],
    ]);
    // A descending sequence set back above its column's minimum collides, and is said to.
    await source.query(`SELECT setval('down_seq', -3)`);
    const after = await checkOwnedSequences(source);
    const down = after.behind.find((b) => b.name === 'down_seq');
    expect(down).toMatchObject({ lastValue: '-3', columnEdge: '-7', increment: '-1' });
    // The recorded source state tells the inherited one from one the restore changed.
    expect(
      inheritedFromSource(
        after.behind.find((b) => b.name === 'acct_id_seq')!,
        atBackup.behind,
      ),
    ).toBe(true);
    expect(inheritedFromSource(down!, atBackup.behind)).toBe(false);
    expect(inheritedFromSource(down!, undefined)).toBe(false);
  });
});

describe('row counts', () => {
  it('compares a hash-partitioned tree at its root, and still sees lost rows there', async () => {
    const leaves = (
      await target.query<{ t: string; n: string }>(
        `SELECT 'he0' AS t, count(*) AS n FROM ONLY he0 UNION ALL SELECT 'he1', count(*) FROM ONLY he1`,
      )
    ).rows;
    // As if the source had placed the rows differently: the per-leaf numbers are swapped.
    const expected = leaves.map((l, i) => ({
      name: `public.${l.t}`,
      schema: 'public',
      table: l.t,
      rows: Number(leaves[1 - i].n) + (i === 0 ? 1 : -1),
    }));
    const counts = await compareCounts(target, [
      ...expected,
      { name: 'acme.prod.T x', schema: 'acme.prod', table: 'T x', rows: 20 },
    ]);
    expect(counts[0]).toMatchObject({
      name: 'public.he',
      expected: 30,
      actual: 30,
      ok: true,
      tree: { leaves: ['public.he0', 'public.he1'] },
    });
    expect(counts[1]).toMatchObject({ name: 'acme.prod.T x', schema: 'acme.prod', table: 'T x', ok: true });
    await target.query(`DELETE FROM he WHERE id = 1`);
    const lost = await compareCounts(target, expected);
    expect(lost).toEqual([
      expect.objectContaining({ name: 'public.he', expected: 30, actual: 29, ok: false }),
    ]);
  });

  it('counts a leaf at its root when the TOC loads it through the root, leaf by leaf otherwise', async () => {
    await target.query(`
      CREATE TABLE lp (id int, k text) PARTITION BY LIST (k);
      CREATE TABLE "lp.a" PARTITION OF lp FOR VALUES IN ('a');
      CREATE TABLE lp_b PARTITION OF lp FOR VALUES IN ('b');
      INSERT INTO lp VALUES (1, 'a'), (2, 'b'), (3, 'b');`);
    const viaRoot = await compareCounts(target, [
      {
        name: 'public.lp.a',
        schema: 'public',
        table: 'lp.a',
        rows: 2,
        copyStmt: 'COPY public.lp (id, k) FROM stdin;\n',
      },
      {
        name: 'public.lp_b',
        schema: 'public',
        table: 'lp_b',
        rows: 1,
        copyStmt: 'COPY public.lp (id, k) FROM stdin;\n',
      },
    ]);
    expect(viaRoot).toEqual([
      expect.objectContaining({
        name: 'public.lp',
        expected: 3,
        actual: 3,
        ok: true,
        tree: { leaves: ['public.lp.a', 'public.lp_b'], why: expect.stringContaining('through the root') },
      }),
    ]);
    const direct = await compareCounts(target, [
      {
        name: 'public.lp.a',
        schema: 'public',
        table: 'lp.a',
        rows: 1,
        copyStmt: 'COPY public."lp.a" (id, k) FROM stdin;\n',
      },
      {
        name: 'public.lp_b',
        schema: 'public',
        table: 'lp_b',
        rows: 1,
        copyStmt: 'COPY public.lp_b (id, k) FROM stdin;\n',
      },
    ]);
    expect(direct.map((c) => [c.name, c.actual, c.ok, c.tree])).toEqual([
      ['public.lp.a', 1, true, undefined],
      ['public.lp_b', 2, false, undefined],
    ]);
  });

  it('counts on several connections, largest table first, with the same results as one connection', async () => {
    await target.query(`
      CREATE TABLE par_big AS SELECT g AS id FROM generate_series(1, 5000) g;
      CREATE TABLE par_mid AS SELECT g AS id FROM generate_series(1, 300) g;
      CREATE TABLE par_small AS SELECT g AS id FROM generate_series(1, 7) g;`);
    const expected = [
      { name: 'public.par_small', schema: 'public', table: 'par_small', rows: 7 },
      { name: 'public.par_big', schema: 'public', table: 'par_big', rows: 5000 },
      { name: 'public.par_mid', schema: 'public', table: 'par_mid', rows: 299 },
      { name: 'public.par_gone', schema: 'public', table: 'par_gone', rows: 1 },
      { name: 'acme.prod.T x', schema: 'acme.prod', table: 'T x', rows: 20 },
    ];
    const serial = await compareCounts(target, expected);
    const opened: pg.Client[] = [];
    const parallel = await compareCounts(target, expected, 'manifest', {
      concurrency: 3,
      connect: async () => {
        const c = new pg.Client({ connectionString: tgtUrl(), application_name: 'dbdrill-count-extra' });
        await c.connect();
        opened.push(c);
        return c;
      },
    });
    // Same verdicts, in the order of the expectations (not the order of the scans).
    expect(parallel).toEqual(serial);
    expect(parallel.map((c) => [c.name, c.actual, c.ok])).toEqual([
      ['public.par_small', 7, true],
      ['public.par_big', 5000, true],
      ['public.par_mid', 300, false],
      ['public.par_gone', null, false],
      ['acme.prod.T x', 20, true],
    ]);
    // Two more connections were opened, used and closed again.
    expect(opened).toHaveLength(2);
    // (a backend leaves pg_stat_activity a moment after its client closed the socket)
    let left = -1;
    for (let i = 0; i < 100 && left !== 0; i++) {
      if (i) await new Promise((r) => setTimeout(r, 20));
      left = (
        await target.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'dbdrill-count-extra'`,
        )
      ).rows[0].n;
    }
    expect(left).toBe(0);

    // A connection that cannot be opened lowers the concurrency, never the result.
    const refused = await compareCounts(target, expected, 'manifest', {
      concurrency: 4,
      connect: () => Promise.reject(new Error('too many connections (TEST DOUBLE)')),
    });
    expect(refused).toEqual(serial);
  });

  it('compare-url counts a table in a schema whose name contains "."', async () => {
    const restored = await compareCounts(target, [
      { name: 'acme.prod.T x', schema: 'acme.prod', table: 'T x', rows: 20 },
    ]);
    const drift = await compareWithProduction(source, restored, { percent: 10 });
    expect(drift).toEqual([
      expect.objectContaining({ expected: 20, actual: 20, ok: true, source: 'compare-url' }),
    ]);
  });
});
