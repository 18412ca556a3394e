/**
 * The PostgreSQL drill's checks after the restore, each recorded by name in the ledger: every
 * TOC object present, sequences ahead of their columns, row counts equal to the snapshot's,
 * near production's (compare-url), and the user's assert-sql.
 */
import { availableParallelism } from 'node:os';

import type pg from 'pg';

import type { PostgresComponent } from '../../bundle/manifest.js';
import { describeDrift } from '../../checks/drift.js';
import type { DrillCount } from '../../report/model.js';
import type { DrillLedger, VerifiedBundle } from '../engine.js';
import { connectPg } from './connection.js';
import type { PgTocEntry } from './pgdump-reader.js';
import { checkOwnedSequences, describeBehind, inheritedFromSource } from './sequence-checks.js';
import {
  checkStructure,
  compareCounts,
  compareWithProduction,
  manifestExpectations,
  runAssertions,
  type CountExpectation,
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
  /** pg_restore ran with --no-acl, so default privileges are not expected in the target. */
  noAcl?: boolean;
  /** TOC entries (dump ids) the restore left out on purpose and reported elsewhere. */
  leftOut?: ReadonlySet<number>;
  /** pg_restore jobs; the row counts also run on this many connections (at most 4). Default: the cores. */
  jobs?: number;
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
  // The row counts scan every table while the catalog checks take a fraction of a second: the
  // counts start first, on connections of their own, and are recorded in their place afterwards.
  const counting = o.tier !== 'schema' ? countRestored(targetUrl, restored, o) : undefined;
  counting?.catch(() => undefined);
  try {
    await recordStructure(client, restored.toc, o, ledger);
    if (o.tier !== 'schema') {
      await recordSequences(client, restored.component, ledger);
      const counts = recordCounts(await counting!, o, ledger);
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
  const structure = await checkStructure(client, toc, {
    schemaOnly: o.tier === 'schema',
    noAcl: o.noAcl,
    leftOut: o.leftOut,
  });
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

/**
 * A sequence behind its column fails the drill only when the restore put it there. One the source
 * already had in the same state at backup (an application bug, restored faithfully) passes, and
 * the check and a note say it came from the source.
 */
async function recordSequences(
  client: pg.Client,
  component: PostgresComponent | undefined,
  ledger: DrillLedger,
): Promise<void> {
  const seq = await checkOwnedSequences(client);
  const recorded = component?.sequencesBehind;
  const inherited = seq.behind.filter((b) => inheritedFromSource(b, recorded));
  const caused = seq.behind.filter((b) => !inheritedFromSource(b, recorded));
  const parts: string[] = [];
  if (caused.length) {
    const why = recorded
      ? 'not so in the source at backup'
      : "the bundle does not record the source's sequence states, so this may be inherited from the source";
    parts.push(`${caused.map(describeBehind).join('; ')} (${why})`);
  }
  if (inherited.length) {
    parts.push(
      `inherited from the source, which had the same state at backup: ${inherited.map(describeBehind).join('; ')}`,
    );
    ledger.report.notes.push(
      `the source database already had ${inherited.length} sequence(s) behind their column at backup (an application bug, restored faithfully): ${inherited.map(describeBehind).join('; ')}`,
    );
  }
  const judged = seq.checked - seq.skipped.length;
  parts.push(`${judged} owned sequence(s) checked`);
  if (seq.skipped.length) {
    parts.push(
      `${seq.skipped.length} skipped: ${seq.skipped.map((s) => `${s.schema}.${s.name} (${s.reason})`).join('; ')}`,
    );
  }
  ledger.check({
    name: 'sequences ahead of their columns',
    group: 'data',
    ok: caused.length === 0,
    detail: parts.join('; '),
  });
}

/**
 * At most this many count(*) scans at once, whatever jobs says: past a few, they only compete for
 * the same disk, and a target-url may be a small server with few connections to spare.
 */
const MAX_COUNT_CONNECTIONS = 4;

/** The tables the counts cover (the sample's only, for tier sample), counted exactly. */
async function countRestored(
  targetUrl: string,
  restored: RestoredDump,
  o: PostgresCheckOptions,
): Promise<{ expectations: CountExpectation[]; counts: DrillCount[] }> {
  let expectations = expectedRows(restored);
  if (o.tier === 'sample') {
    const wanted = new Set(o.sampleTables.map((t) => (t.includes('.') ? t : `public.${t}`)));
    expectations = expectations.filter((e) => wanted.has(e.name));
  }
  const client = await connectPg(targetUrl, 'target-url');
  try {
    const counts = await compareCounts(client, expectations, 'manifest', {
      concurrency: Math.min(o.jobs ?? availableParallelism(), MAX_COUNT_CONNECTIONS),
      connect: () => connectPg(targetUrl, 'target-url'),
    });
    return { expectations, counts };
  } finally {
    await client.end().catch(() => undefined);
  }
}

function recordCounts(
  { expectations, counts }: { expectations: CountExpectation[]; counts: DrillCount[] },
  o: PostgresCheckOptions,
  ledger: DrillLedger,
): DrillCount[] {
  if (o.tier === 'sample') {
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
  ledger.report.counts.push(...counts);
  const wrong = counts.filter((c) => !c.ok);
  const trees = counts.filter((c) => c.tree);
  const treeNote = trees.length
    ? `; compared at the partition root: ${trees.map((c) => `${c.name} (${c.tree!.leaves.length} leaves, ${c.tree!.why})`).join('; ')}`
    : '';
  ledger.check({
    name: 'row counts equal the backup snapshot',
    group: 'data',
    ok: wrong.length === 0,
    detail: wrong.length
      ? wrong
          .slice(0, 10)
          .map(
            (c) =>
              `${c.name}${c.tree ? ' (partition tree)' : ''}: expected ${c.expected}, got ${c.actual ?? 'no readable table'}`,
          )
          .join('; ') + treeNote
      : `${counts.length} table(s), ${counts.reduce((n, c) => n + (c.actual ?? 0), 0)} rows, all exact${treeNote}`,
  });
  return counts;
}

/**
 * The snapshot's counts: the manifest's (taken in the dump's own snapshot), or for a bare dump
 * file the rows in its COPY data.
 */
function expectedRows(restored: RestoredDump): CountExpectation[] {
  const data = restored.toc.filter((e) => e.desc === 'TABLE DATA');
  if (restored.component) {
    const copyOf = new Map(data.map((e) => [JSON.stringify([e.namespace, e.tag]), e.copyStmt]));
    return manifestExpectations(restored.component.tables).map((t) => ({
      ...t,
      copyStmt: copyOf.get(JSON.stringify([t.schema, t.table])),
    }));
  }
  const byName = new Map<string, PgTocEntry>();
  for (const e of data) byName.set(e.namespace ? `${e.namespace}.${e.tag}` : e.tag, e);
  // Table names reach here only as the bare-dump reader's joined keys: the TOC entry holds the pair.
  return Object.entries(restored.dump.rows ?? {}).flatMap(([name, rows]) => {
    const e = byName.get(name);
    return e ? [{ name, schema: e.namespace, table: e.tag, rows, copyStmt: e.copyStmt }] : [];
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
