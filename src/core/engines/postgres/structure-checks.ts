/**
 * After a restore: does every object the dump's TOC lists exist, do sequences stand at or above
 * the columns they feed, and do the row counts equal the ones taken in the dump's snapshot?
 */
import type pg from 'pg';

import type { TableCount } from '../../bundle/manifest.js';
import type { DrillCount, StructureKind } from '../../report/model.js';
import { quoteIdent } from './connection.js';
import { countObjectsByKind, type PgTocEntry } from './pgdump-reader.js';
import { countLargeObjects, userSchemaFilter } from './system-catalog.js';

interface KindRule {
  kind: string;
  descs: string[];
  /** The identity of a TOC entry of this kind, comparable with `actualSql`'s rows. */
  identity: (e: PgTocEntry) => string;
  actualSql: string;
}

const nsTag = (e: PgTocEntry) => `${e.namespace}.${e.tag}`;
/** CONSTRAINT/TRIGGER tags are "<table> <name>"; the name is what is unique per table. */
const nsTableName = (e: PgTocEntry) => `${e.namespace}.${e.tag}`;
const fnName = (e: PgTocEntry) => `${e.namespace}.${e.tag.replace(/\(.*$/s, '')}`;

const USER_NS = userSchemaFilter('n.nspname');

const RULES: KindRule[] = [
  {
    kind: 'schemas',
    descs: ['SCHEMA'],
    identity: (e) => e.tag,
    actualSql: `SELECT n.nspname AS id FROM pg_namespace n WHERE ${USER_NS}`,
  },
  {
    kind: 'tables',
    descs: ['TABLE'],
    identity: nsTag,
    actualSql: `SELECT n.nspname || '.' || c.relname AS id FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p') AND ${USER_NS}`,
  },
  {
    kind: 'views',
    descs: ['VIEW'],
    identity: nsTag,
    actualSql: `SELECT n.nspname || '.' || c.relname AS id FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'v' AND ${USER_NS}`,
  },
  {
    kind: 'materialized views',
    descs: ['MATERIALIZED VIEW'],
    identity: nsTag,
    actualSql: `SELECT n.nspname || '.' || c.relname AS id FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'm' AND ${USER_NS}`,
  },
  {
    kind: 'sequences',
    descs: ['SEQUENCE'],
    identity: nsTag,
    actualSql: `SELECT n.nspname || '.' || c.relname AS id FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'S' AND ${USER_NS}`,
  },
  {
    kind: 'indexes',
    descs: ['INDEX'],
    identity: nsTag,
    actualSql: `SELECT n.nspname || '.' || c.relname AS id FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('i', 'I') AND ${USER_NS}`,
  },
  {
    kind: 'constraints',
    descs: ['CONSTRAINT', 'FK CONSTRAINT', 'CHECK CONSTRAINT'],
    identity: nsTableName,
    actualSql: `SELECT n.nspname || '.' || c.relname || ' ' || k.conname AS id FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE ${USER_NS}
                UNION SELECT n.nspname || '.' || t.typname || ' ' || k.conname FROM pg_constraint k JOIN pg_type t ON t.oid = k.contypid JOIN pg_namespace n ON n.oid = t.typnamespace WHERE ${USER_NS}`,
  },
  {
    kind: 'functions',
    descs: ['FUNCTION', 'PROCEDURE', 'AGGREGATE'],
    identity: fnName,
    actualSql: `SELECT n.nspname || '.' || p.proname AS id FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE ${USER_NS}`,
  },
  {
    kind: 'triggers',
    descs: ['TRIGGER'],
    identity: nsTableName,
    actualSql: `SELECT n.nspname || '.' || c.relname || ' ' || t.tgname AS id FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE NOT t.tgisinternal AND ${USER_NS}`,
  },
];

/** Compares the TOC's objects with the restored catalog, kind by kind, naming what is missing. */
export async function checkStructure(
  client: pg.Client,
  toc: PgTocEntry[],
  options: { schemaOnly?: boolean } = {},
): Promise<StructureKind[]> {
  const out: StructureKind[] = [];
  for (const rule of RULES) {
    const expected = [...new Set(toc.filter((e) => rule.descs.includes(e.desc)).map(rule.identity))];
    if (expected.length === 0) continue;
    const actual = new Set((await client.query<{ id: string }>(rule.actualSql)).rows.map((r) => r.id));
    const missing = expected.filter((id) => !actual.has(id));
    out.push({
      kind: rule.kind,
      expected: expected.length,
      actual: expected.length - missing.length,
      missing,
    });
  }
  const expectedLo = countObjectsByKind(toc).largeObjects ?? 0;
  // Large objects count as data: pg_restore --schema-only does not create them.
  if (expectedLo > 0 && !options.schemaOnly) {
    const n = await countLargeObjects(client);
    out.push({
      kind: 'large objects',
      expected: expectedLo,
      actual: Math.min(n, expectedLo),
      missing: n >= expectedLo ? [] : [`${expectedLo - n} large object(s)`],
    });
  }
  return out;
}

export interface SequenceProblem {
  sequence: string;
  column: string;
  lastValue: string | null;
  maxValue: string;
}

/** Every sequence owned by a column (serial, identity) must stand at or above that column's maximum. */
export async function checkSequences(
  client: pg.Client,
): Promise<{ checked: number; problems: SequenceProblem[] }> {
  const owned = await client.query<{
    seq_schema: string;
    seq: string;
    tbl_schema: string;
    tbl: string;
    col: string;
  }>(`
    SELECT sn.nspname AS seq_schema, s.relname AS seq, tn.nspname AS tbl_schema, t.relname AS tbl, a.attname AS col
    FROM pg_depend d
    JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
    JOIN pg_namespace sn ON sn.oid = s.relnamespace
    JOIN pg_class t ON t.oid = d.refobjid
    JOIN pg_namespace tn ON tn.oid = t.relnamespace
    JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
    WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
      AND t.relkind IN ('r', 'p')`);
  const problems: SequenceProblem[] = [];
  for (const r of owned.rows) {
    const seq = `${quoteIdent(r.seq_schema)}.${quoteIdent(r.seq)}`;
    const tbl = `${quoteIdent(r.tbl_schema)}.${quoteIdent(r.tbl)}`;
    const res = await client.query<{ last: string | null; called: boolean; mx: string | null }>(
      `SELECT s.last_value::text AS last, s.is_called AS called, (SELECT max(${quoteIdent(r.col)})::text FROM ${tbl}) AS mx FROM ${seq} s`,
    );
    const { last, called, mx } = res.rows[0];
    if (mx === null) continue;
    // An uncalled sequence hands out last_value next; a called one hands out last_value + 1.
    const next = BigInt(last ?? '1') + (called ? 1n : 0n);
    if (next <= BigInt(mx)) {
      problems.push({
        sequence: `${r.seq_schema}.${r.seq}`,
        column: `${r.tbl_schema}.${r.tbl}.${r.col}`,
        lastValue: last,
        maxValue: mx,
      });
    }
  }
  return { checked: owned.rows.length, problems };
}

/** Exact counts of the restored tables against the counts taken in the dump's snapshot. */
export async function compareCounts(
  client: pg.Client,
  expected: { name: string; schema: string; table: string; rows: number | null }[],
  source: DrillCount['source'] = 'manifest',
): Promise<DrillCount[]> {
  const out: DrillCount[] = [];
  for (const t of expected) {
    let actual: number | null = null;
    try {
      const r = await client.query<{ n: string }>(
        `SELECT count(*) AS n FROM ONLY ${quoteIdent(t.schema)}.${quoteIdent(t.table)}`,
      );
      actual = Number(r.rows[0].n);
    } catch {
      actual = null;
    }
    out.push({ name: t.name, expected: t.rows, actual, ok: actual !== null && actual === t.rows, source });
  }
  return out;
}

export function manifestExpectations(
  tables: TableCount[],
): { name: string; schema: string; table: string; rows: number | null }[] {
  return tables
    .filter((t) => t.kind === 'table')
    .map((t) => ({ name: `${t.schema}.${t.name}`, schema: t.schema, table: t.name, rows: t.rows }));
}

/**
 * Production drift: counts from compare-url against the restored ones. Small drift (writes since
 * the backup) passes within the tolerance; an order-of-magnitude gap fails.
 */
export async function compareWithProduction(
  prod: pg.Client,
  restored: DrillCount[],
  tolerance: { percent?: number; rows?: number },
): Promise<DrillCount[]> {
  const out: DrillCount[] = [];
  for (const c of restored) {
    const [schema, ...rest] = c.name.split('.');
    const table = rest.join('.');
    let prodRows: number | null = null;
    try {
      const r = await prod.query<{ n: string }>(
        `SELECT count(*) AS n FROM ONLY ${quoteIdent(schema)}.${quoteIdent(table)}`,
      );
      prodRows = Number(r.rows[0].n);
    } catch {
      prodRows = null;
    }
    const actual = c.actual;
    let ok = prodRows !== null && actual !== null;
    if (ok) {
      const diff = Math.abs(prodRows! - actual!);
      const allowed = tolerance.rows ?? Math.ceil((prodRows! * (tolerance.percent ?? 10)) / 100);
      ok = diff <= allowed;
    }
    out.push({ name: c.name, expected: prodRows, actual, ok, source: 'compare-url' });
  }
  return out;
}

/** assert-sql: each query's first column of its first row must be true (or a non-zero number / 't'). */
export async function runAssertions(
  client: pg.Client,
  queries: string[],
): Promise<{ sql: string; ok: boolean; detail: string }[]> {
  const out: { sql: string; ok: boolean; detail: string }[] = [];
  for (const sql of queries) {
    try {
      const r = await client.query({ text: sql, rowMode: 'array' });
      const v = (r.rows[0] as unknown[] | undefined)?.[0];
      const ok =
        v === true ||
        v === 't' ||
        v === 'true' ||
        (typeof v === 'number' && v !== 0) ||
        (typeof v === 'string' && /^[1-9]\d*$/.test(v));
      out.push({
        sql,
        ok,
        detail: ok ? 'returned true' : `returned ${JSON.stringify(v ?? null)}, expected true`,
      });
    } catch (err) {
      out.push({ sql, ok: false, detail: `failed: ${(err as Error).message}` });
    }
  }
  return out;
}
