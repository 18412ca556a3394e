/**
 * Does every sequence that feeds a column hand out a value the column does not hold yet? Run on
 * the restored database by the drill, and at backup in the dump's snapshot, so that a sequence the
 * application itself left behind is told apart from one the restore set back.
 */
import type pg from 'pg';

import type { SequenceBehind } from '../../bundle/manifest.js';
import { quoteIdent } from './connection.js';

export type { SequenceBehind };

export interface SequenceSkip {
  schema: string;
  name: string;
  column: string;
  reason: string;
}

export interface SequenceCheck {
  checked: number;
  behind: SequenceBehind[];
  skipped: SequenceSkip[];
}

const INTEGER_TYPES = new Set(['int2', 'int4', 'int8']);

/**
 * Uses each sequence's own increment, direction and cycling: an ascending sequence must hand out
 * more than the column's maximum, a descending one less than its minimum. Columns that are not
 * integers (a text code built from nextval) and cycling sequences (which legitimately revisit
 * values) cannot be judged this way and are listed as skipped with the reason.
 */
export async function checkOwnedSequences(client: pg.Client): Promise<SequenceCheck> {
  const owned = await client.query<{
    seq_schema: string;
    seq: string;
    tbl_schema: string;
    tbl: string;
    col: string;
    coltype: string;
    increment: string;
    cycle: boolean;
  }>(`
    SELECT sn.nspname AS seq_schema, s.relname AS seq, tn.nspname AS tbl_schema, t.relname AS tbl, a.attname AS col,
           coalesce(bt.typname, ct.typname) AS coltype, q.seqincrement::text AS increment, q.seqcycle AS cycle
    FROM pg_depend d
    JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
    JOIN pg_sequence q ON q.seqrelid = s.oid
    JOIN pg_namespace sn ON sn.oid = s.relnamespace
    JOIN pg_class t ON t.oid = d.refobjid
    JOIN pg_namespace tn ON tn.oid = t.relnamespace
    JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
    JOIN pg_type ct ON ct.oid = a.atttypid
    LEFT JOIN pg_type bt ON ct.typtype = 'd' AND bt.oid = ct.typbasetype
    WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
      AND t.relkind IN ('r', 'p')
    ORDER BY 1, 2`);
  const behind: SequenceBehind[] = [];
  const skipped: SequenceSkip[] = [];
  for (const r of owned.rows) {
    const column = `${r.tbl_schema}.${r.tbl}.${r.col}`;
    if (!INTEGER_TYPES.has(r.coltype)) {
      skipped.push({
        schema: r.seq_schema,
        name: r.seq,
        column,
        reason: `column type ${r.coltype} is not an integer, so its values cannot be compared with the sequence`,
      });
      continue;
    }
    if (r.cycle) {
      skipped.push({
        schema: r.seq_schema,
        name: r.seq,
        column,
        reason: 'the sequence cycles, so it legitimately hands out values the column already held',
      });
      continue;
    }
    const ascending = !r.increment.startsWith('-');
    const res = await client.query<{ last: string; called: boolean; edge: string | null }>(
      `SELECT s.last_value::text AS last, s.is_called AS called,
              (SELECT ${ascending ? 'max' : 'min'}(${quoteIdent(r.col)})::text FROM ${quoteIdent(r.tbl_schema)}.${quoteIdent(r.tbl)}) AS edge
       FROM ${quoteIdent(r.seq_schema)}.${quoteIdent(r.seq)} s`,
    );
    const { last, called, edge } = res.rows[0];
    if (edge === null) continue;
    // An uncalled sequence hands out last_value next; a called one last_value + increment.
    const next = BigInt(last) + (called ? BigInt(r.increment) : 0n);
    const collides = ascending ? next <= BigInt(edge) : next >= BigInt(edge);
    if (collides) {
      behind.push({
        schema: r.seq_schema,
        name: r.seq,
        tableSchema: r.tbl_schema,
        table: r.tbl,
        column: r.col,
        lastValue: last,
        isCalled: called,
        increment: r.increment,
        columnEdge: edge,
      });
    }
  }
  return { checked: owned.rows.length, behind, skipped };
}

/** The restored sequence is in the same state the source already had at backup time. */
export function inheritedFromSource(b: SequenceBehind, source: SequenceBehind[] | undefined): boolean {
  return !!source?.some(
    (s) =>
      s.schema === b.schema &&
      s.name === b.name &&
      s.lastValue === b.lastValue &&
      s.isCalled === b.isCalled &&
      s.columnEdge === b.columnEdge,
  );
}

export function describeBehind(b: SequenceBehind): string {
  const next = BigInt(b.lastValue) + (b.isCalled ? BigInt(b.increment) : 0n);
  const edge = b.increment.startsWith('-') ? 'min' : 'max';
  return `${quoteIdent(b.schema)}.${quoteIdent(b.name)} hands out ${next} next, but ${quoteIdent(b.tableSchema)}.${quoteIdent(b.table)}.${quoteIdent(b.column)} already has ${edge} ${b.columnEdge}`;
}
