/**
 * The PostgreSQL drill's checks after the restore, each recorded by name in the ledger: every
 * TOC object present, sequences ahead of their columns, row counts equal to the snapshot's,
 * near production's (compare-url), and the user's assert-sql.
 */
import type pg from 'pg';

import type { PostgresComponent } from '../../bundle/manifest.js';
import { describeDrift } from '../../checks/drift.js';
import type { DrillCount } from '../../report/model.js';
import type { DrillLedger, VerifiedBundle } from '../engine.js';
import { connectPg } from './connection.js';
import type { PgTocEntry } from './pgdump-reader.js';
import {
  checkSequences,
  checkStructure,
  compareCounts,
  compareWithProduction,
  manifestExpectations,
  runAssertions,
} from './structure-checks.js';

export interface PostgresCheckOptions {
  tier: 'full' | 'schema' | 'sample';
  /** For tier sample: the resolved tables (`schema.table`, leaves of named partitioned tables). */
  sampleTables: string[];
  /** Tier sample: a sample of zero rows passes instead of failing. */
  allowEmptySample?: boolean;
  compareUrl?: string;
  countTolerance: { percent?: number; rows?: number };
  assertSql: string[];
}

export interface RestoredDump {
  component?: PostgresComponent;
  dump: NonNullable<VerifiedBundle['pgDump']>;
  toc: PgTocEntry[];
}

export async function checkRestoredPostgres(
  targetUrl: string,
  restored: RestoredDump,
  o: PostgresCheckOptions,
  ledger: DrillLedger,
): Promise<void> {
  const client = await connectPg(targetUrl, 'target-url');
  try {
    await recordStructure(client, restored.toc, o, ledger);
    if (o.tier !== 'schema') {
      await recordSequences(client, ledger);
      const counts = await recordCounts(client, restored, o, ledger);
      if (o.compareUrl) await recordProductionDrift(o.compareUrl, counts, o, ledger);
    } else {
      ledger.report.notes.push(
        'tier schema: data was not restored, so sequences and row counts are not checked',
      );
    }
    for (const a of await runAssertions(client, o.assertSql)) {
      ledger.check({ name: `assert-sql: ${a.sql.slice(0, 80)}`, group: 'data', ok: a.ok, detail: a.detail });
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function recordStructure(
  client: pg.Client,
  toc: PgTocEntry[],
  o: PostgresCheckOptions,
  ledger: DrillLedger,
): Promise<void> {
  const structure = await checkStructure(client, toc, { schemaOnly: o.tier === 'schema' });
  ledger.report.structure = structure;
  for (const s of structure) {
    ledger.check({
      name: `structure: ${s.kind}`,
      group: 'structure',
      ok: s.missing.length === 0,
      detail: s.missing.length
        ? `${s.missing.length} missing: ${s.missing.slice(0, 10).join(', ')}`
        : `${s.actual} of ${s.expected} present`,
    });
  }
}

async function recordSequences(client: pg.Client, ledger: DrillLedger): Promise<void> {
  const seq = await checkSequences(client);
  ledger.check({
    name: 'sequences at or above their columns',
    group: 'data',
    ok: seq.problems.length === 0,
    detail: seq.problems.length
      ? seq.problems
          .map((p) => `${p.sequence} is at ${p.lastValue}, ${p.column} has ${p.maxValue}`)
          .join('; ')
      : `${seq.checked} owned sequence(s) checked`,
  });
}

async function recordCounts(
  client: pg.Client,
  restored: RestoredDump,
  o: PostgresCheckOptions,
  ledger: DrillLedger,
): Promise<DrillCount[]> {
  let expectations = expectedRows(restored);
  if (o.tier === 'sample') {
    const wanted = new Set(o.sampleTables.map((t) => (t.includes('.') ? t : `public.${t}`)));
    expectations = expectations.filter((e) => wanted.has(e.name));
    // A sample of nothing restores nothing and every count matches: it proves no restore at all.
    const rows = expectations.reduce((n, e) => n + (e.rows ?? 0), 0);
    const unknown = expectations.some((e) => e.rows === null);
    if (rows === 0 && !unknown) {
      ledger.check({
        name: 'the sample holds rows',
        group: 'data',
        ok: !!o.allowEmptySample,
        detail: `the sampled table(s) ${o.sampleTables.join(', ') || '(none with rows in the dump)'} held 0 rows in the backup${o.allowEmptySample ? ' (allow-empty-sample)' : '; sample tables with rows, or set allow-empty-sample'}`,
      });
    }
  }
  const counts = await compareCounts(client, expectations);
  ledger.report.counts.push(...counts);
  const wrong = counts.filter((c) => !c.ok);
  ledger.check({
    name: 'row counts equal the backup snapshot',
    group: 'data',
    ok: wrong.length === 0,
    detail: wrong.length
      ? wrong
          .slice(0, 10)
          .map((c) => `${c.name}: expected ${c.expected}, got ${c.actual}`)
          .join('; ')
      : `${counts.length} table(s), ${counts.reduce((n, c) => n + (c.actual ?? 0), 0)} rows, all exact`,
  });
  return counts;
}

/**
 * The snapshot's counts: the manifest's (taken in the dump's own snapshot), or for a bare dump
 * file the rows in its COPY data.
 */
function expectedRows(
  restored: RestoredDump,
): { name: string; schema: string; table: string; rows: number | null }[] {
  if (restored.component) return manifestExpectations(restored.component.tables);
  return Object.entries(restored.dump.rows ?? {}).map(([name, rows]) => {
    const e = restored.toc.find((x) => x.desc === 'TABLE DATA' && `${x.namespace}.${x.tag}` === name);
    return {
      name,
      schema: e?.namespace ?? name.split('.')[0],
      table: e?.tag ?? name.split('.').slice(1).join('.'),
      rows,
    };
  });
}

async function recordProductionDrift(
  compareUrl: string,
  counts: DrillCount[],
  o: PostgresCheckOptions,
  ledger: DrillLedger,
): Promise<void> {
  const prod = await connectPg(compareUrl, 'compare-url', {
    applicationName: 'dbdrill drill compare (read-only)',
  });
  try {
    await prod.query('SET default_transaction_read_only = on');
    const drift = await compareWithProduction(prod, counts, o.countTolerance);
    ledger.report.counts.push(...drift);
    ledger.check({
      name: 'row counts near production (compare-url)',
      group: 'data',
      ...describeDrift(drift, o.countTolerance, { things: 'table(s)', units: 'rows' }),
    });
  } finally {
    await prod.end().catch(() => undefined);
  }
}
