/**
 * The zoo's oracle must itself be trustworthy: an exact copy (CREATE DATABASE ... TEMPLATE) shows
 * no difference, and each single fault injected into a copy is reported under its own kind.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';

import { startTestCluster, type TestCluster } from './helpers/pg-cluster.js';
import { dbUrl, withClient } from './zoo/harness.js';
import { collectFacts, diffFacts, FULL_SCOPE, localeDifferences, type DatabaseFacts } from './zoo/oracle.js';

let cluster: TestCluster;
let source: DatabaseFacts;
let copies = 0;

const SCHEMA = `
  CREATE TYPE mood AS ENUM ('sad', 'happy');
  CREATE TABLE t (id serial PRIMARY KEY, m mood, body text);
  INSERT INTO t (m, body) SELECT 'happy', 'row ' || g FROM generate_series(1, 20) g;
  CREATE TABLE p (id int) PARTITION BY HASH (id);
  CREATE TABLE p0 PARTITION OF p FOR VALUES WITH (MODULUS 2, REMAINDER 0);
  CREATE TABLE p1 PARTITION OF p FOR VALUES WITH (MODULUS 2, REMAINDER 1);
  INSERT INTO p SELECT generate_series(1, 10);
  ALTER TABLE t ENABLE ROW LEVEL SECURITY;
  CREATE POLICY readers ON t FOR SELECT USING (id > 0);
  CREATE FUNCTION "f(x)"(a int) RETURNS int LANGUAGE sql AS 'SELECT a';
  CREATE RULE r AS ON DELETE TO p0 DO INSTEAD NOTHING;
  CREATE PUBLICATION pub FOR TABLE t;
  COMMENT ON TABLE t IS 'the table';
  SELECT lo_from_bytea(4242, 'content');
  SELECT setval('t_id_seq', 100);`;

/** A fresh exact copy of the source database, with `fault` applied to it. */
async function copyWith(fault: string): Promise<DatabaseFacts> {
  const name = `copy${++copies}`;
  await cluster.sql(`CREATE DATABASE ${name} TEMPLATE src`);
  const url = dbUrl(cluster, name);
  if (fault) await withClient(url, (c) => c.query(fault));
  return collectFacts(url);
}

beforeAll(async () => {
  cluster = await startTestCluster();
  await cluster.sql('CREATE DATABASE src');
  await withClient(dbUrl(cluster, 'src'), (c) => c.query(SCHEMA));
  source = await collectFacts(dbUrl(cluster, 'src'));
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
});

describe('zoo oracle', () => {
  test('an exact copy shows no difference', async () => {
    const copy = await copyWith('');
    expect(diffFacts(source, copy, FULL_SCOPE)).toEqual([]);
    expect(localeDifferences(source, copy)).toEqual([]);
  });

  test.each([
    ['policies', 'DROP POLICY readers ON t'],
    ['functions', 'DROP FUNCTION "f(x)"(int)'],
    ['rules', 'DROP RULE r ON p0'],
    ['publications', 'DROP PUBLICATION pub'],
    ['comments', `COMMENT ON TABLE t IS 'changed'`],
    ['types', `ALTER TYPE mood ADD VALUE 'ok'`],
    ['constraints', 'ALTER TABLE t DROP CONSTRAINT t_pkey'],
    ['rows: public.t only', `UPDATE t SET body = 'changed' WHERE id = 3`],
    ['rows: public.p tree', 'DELETE FROM p WHERE id = 1'],
    ['large objects', `SELECT lo_put(4242, 0, 'C')`],
    ['sequence state', `SELECT setval('t_id_seq', 101)`],
  ])('a copy with a changed %s is reported', async (kind, fault) => {
    const diffs = diffFacts(source, await copyWith(fault), FULL_SCOPE);
    expect(diffs.some((d) => d.startsWith(kind))).toBe(true);
  });

  test('rows lost from one leaf show at the leaf and at the root', async () => {
    const diffs = diffFacts(source, await copyWith('DELETE FROM p1'), FULL_SCOPE);
    expect(diffs.some((d) => d.startsWith('rows: public.p1 only'))).toBe(true);
    expect(diffs.some((d) => d.startsWith('rows: public.p tree'))).toBe(true);
  });

  test('what a scope leaves out is not reported', async () => {
    const copy = await copyWith(`DELETE FROM t; SELECT lo_unlink(4242); SELECT setval('t_id_seq', 5)`);
    expect(
      diffFacts(source, copy, { ...FULL_SCOPE, rows: 'none', largeObjects: false, sequenceStates: false }),
    ).toEqual([]);
  });

  test('a database with another encoding is a locale difference', async () => {
    await cluster.sql(
      `CREATE DATABASE latin TEMPLATE template0 ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C'`,
    );
    const other = await collectFacts(dbUrl(cluster, 'latin'));
    expect(localeDifferences(source, other)).toEqual(['database encoding: LATIN1, source UTF8']);
  });
});
