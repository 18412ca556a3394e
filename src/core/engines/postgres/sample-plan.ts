/**
 * The sample tier, resolved against the dump before anything is restored: a name the dump does
 * not hold is a usage error (a typo otherwise restores nothing and the drill "passes"), a
 * partitioned parent means its leaf partitions (only leaves carry rows in a dump) and an
 * inheritance parent its children too (a query on the parent reads them), and a foreign
 * key from a sampled table into one whose rows are not sampled is restored NOT VALID (its rows'
 * parents are absent by design, so validating it can only fail).
 */
import { ConfigError } from '../../errors.js';
import type { PgTocEntry } from './pgdump-reader.js';
import { isKeyword, readQualifiedName, tokenizeSql } from './sql-names.js';

export interface TableName {
  schema: string;
  table: string;
}

export interface SamplePlan {
  /** The tables whose TABLE DATA is restored (partitions and inheritance children of named tables included). */
  tables: TableName[];
  /** Each name as given, with the tables it means. */
  resolved: { given: string; tables: TableName[] }[];
}

export const keyOf = (t: TableName): string => `${t.schema}\u0000${t.table}`;
export const displayOf = (t: TableName): string => `${t.schema}.${t.table}`;

/**
 * Resolves `sample-tables` names (`schema.table`, `"quoted.schema"."table"`, or a bare table in
 * public). Throws ConfigError naming the input and the closest names the dump holds.
 */
export function planSample(toc: PgTocEntry[], names: string[], input: string): SamplePlan {
  const known = toc.filter((e) => e.desc === 'TABLE').map((e) => ({ schema: e.namespace, table: e.tag }));
  const withData = new Set(
    toc.filter((e) => e.desc === 'TABLE DATA').map((e) => keyOf({ schema: e.namespace, table: e.tag })),
  );
  // Inheritance children too: selecting from a parent reads them, so naming it means their rows.
  const children = mergeChildren(partitionChildren(toc), inheritanceChildren(toc));
  const resolved: SamplePlan['resolved'] = [];
  const unknown: string[] = [];
  for (const given of names) {
    const match = lookUp(known, given);
    if (!match) {
      unknown.push(given);
      continue;
    }
    const leaves: TableName[] = [];
    const walk = (t: TableName, seen: Set<string>): void => {
      if (seen.has(keyOf(t))) return;
      seen.add(keyOf(t));
      if (withData.has(keyOf(t))) leaves.push(t);
      for (const c of children.get(keyOf(t)) ?? []) walk(c, seen);
    };
    walk(match, new Set());
    resolved.push({ given, tables: leaves });
  }
  if (unknown.length) {
    const all = known.map(displayOf);
    const hints = unknown.map((u) => {
      const close = closest(u.includes('.') ? u : `public.${u}`, all);
      return `"${u}"${close.length ? ` (closest: ${close.join(', ')})` : ''}`;
    });
    throw new ConfigError(
      `${input} names ${unknown.length === 1 ? 'a table' : 'tables'} the dump does not hold: ${hints.join('; ')}; expected schema.table of a table in the backup`,
    );
  }
  const seen = new Set<string>();
  const tables: TableName[] = [];
  for (const r of resolved)
    for (const t of r.tables)
      if (!seen.has(keyOf(t))) {
        seen.add(keyOf(t));
        tables.push(t);
      }
  return { tables, resolved };
}

function lookUp(known: TableName[], given: string): TableName | undefined {
  // a name whose parts contain "." matches as written first
  const exact = known.find((k) => displayOf(k) === given);
  if (exact) return exact;
  const tokens = tokenizeSql(given);
  const q = readQualifiedName(tokens, 0);
  if (q && q.next === tokens.length) {
    const want = { schema: q.schema ?? 'public', table: q.name };
    const hit = known.find((k) => k.schema === want.schema && k.table === want.table);
    if (hit) return hit;
    // as typed, without case folding: "public.Orders" for a table created as "Orders"
    const raw = given.includes('.') ? given.split('.') : ['public', given];
    if (raw.length === 2) return known.find((k) => k.schema === raw[0] && k.table === raw[1]);
  }
  return undefined;
}

/** Parent -> attached partitions, from the TABLE ATTACH entries (`ALTER TABLE ONLY p ATTACH PARTITION c ...`). */
function partitionChildren(toc: PgTocEntry[]): Map<string, TableName[]> {
  const out = new Map<string, TableName[]>();
  for (const e of toc) {
    if (e.desc !== 'TABLE ATTACH') continue;
    const tokens = tokenizeSql(e.defn);
    let i = tokens.findIndex((t) => isKeyword(t, 'TABLE'));
    if (i < 0) continue;
    i++;
    if (isKeyword(tokens[i], 'ONLY')) i++;
    const parent = readQualifiedName(tokens, i);
    if (!parent) continue;
    const key = keyOf({ schema: parent.schema ?? e.namespace, table: parent.name });
    out.set(key, [...(out.get(key) ?? []), { schema: e.namespace, table: e.tag }]);
  }
  return out;
}

/** Parent -> inheriting tables, from `CREATE TABLE c (...) INHERITS (p, q)` definitions. */
function inheritanceChildren(toc: PgTocEntry[]): Map<string, TableName[]> {
  const out = new Map<string, TableName[]>();
  for (const e of toc) {
    if (e.desc !== 'TABLE' || !/\bINHERITS\b/.test(e.defn)) continue;
    const tokens = tokenizeSql(e.defn);
    const at = tokens.findIndex((t) => isKeyword(t, 'INHERITS'));
    if (at < 0 || tokens[at + 1]?.text !== '(') continue;
    let i = at + 2;
    while (i < tokens.length) {
      const parent = readQualifiedName(tokens, i);
      if (!parent) break;
      const key = keyOf({ schema: parent.schema ?? e.namespace, table: parent.name });
      out.set(key, [...(out.get(key) ?? []), { schema: e.namespace, table: e.tag }]);
      if (tokens[parent.next]?.text !== ',') break;
      i = parent.next + 1;
    }
  }
  return out;
}

function mergeChildren(a: Map<string, TableName[]>, b: Map<string, TableName[]>): Map<string, TableName[]> {
  const out = new Map(a);
  for (const [k, v] of b) out.set(k, [...(out.get(k) ?? []), ...v]);
  return out;
}

/** Up to three known names nearest to `name` by edit distance (case-insensitive). */
export function closest(name: string, known: string[]): string[] {
  const scored = known
    .map((k) => ({ k, d: editDistance(name.toLowerCase(), k.toLowerCase()) }))
    .filter((s) => s.d <= Math.max(2, Math.floor(name.length / 4)))
    .sort((a, b) => a.d - b.d || a.k.localeCompare(b.k));
  return scored.slice(0, 3).map((s) => s.k);
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}

export interface ForeignKeyEntry {
  entry: PgTocEntry;
  from: TableName;
  to: TableName;
}

/**
 * FK CONSTRAINT entries whose table has sampled rows and whose referenced table does not: these
 * are left out of the pg_restore list and added NOT VALID afterwards.
 */
export function foreignKeysIntoUnsampled(toc: PgTocEntry[], sample: TableName[]): ForeignKeyEntry[] {
  const sampled = new Set(sample.map(keyOf));
  const children = partitionChildren(toc);
  const withData = new Set(
    toc.filter((e) => e.desc === 'TABLE DATA').map((e) => keyOf({ schema: e.namespace, table: e.tag })),
  );
  /** Every table below `t` (itself included) that carries rows. */
  const dataTables = (t: TableName, seen = new Set<string>()): string[] => {
    if (seen.has(keyOf(t))) return [];
    seen.add(keyOf(t));
    const own = withData.has(keyOf(t)) ? [keyOf(t)] : [];
    return [...own, ...(children.get(keyOf(t)) ?? []).flatMap((c) => dataTables(c, seen))];
  };
  const out: ForeignKeyEntry[] = [];
  for (const e of toc) {
    if (e.desc !== 'FK CONSTRAINT') continue;
    const fk = parseForeignKey(e);
    if (!fk) continue;
    const fromRows = dataTables(fk.from).some((k) => sampled.has(k));
    const toComplete = dataTables(fk.to).every((k) => sampled.has(k));
    if (fromRows && !toComplete) out.push({ entry: e, ...fk });
  }
  return out;
}

/** `ALTER TABLE [ONLY] s.t ADD CONSTRAINT c FOREIGN KEY (...) REFERENCES s2.t2(...) ...`. */
export function parseForeignKey(e: PgTocEntry): { from: TableName; to: TableName } | undefined {
  const tokens = tokenizeSql(e.defn);
  let i = tokens.findIndex((t) => isKeyword(t, 'TABLE'));
  if (i < 0) return undefined;
  i++;
  if (isKeyword(tokens[i], 'ONLY')) i++;
  const from = readQualifiedName(tokens, i);
  const r = tokens.findIndex((t) => isKeyword(t, 'REFERENCES'));
  const to = r < 0 ? undefined : readQualifiedName(tokens, r + 1);
  if (!from || !to) return undefined;
  return {
    from: { schema: from.schema ?? e.namespace, table: from.name },
    to: { schema: to.schema ?? e.namespace, table: to.name },
  };
}

/** The FK's definition with NOT VALID before its final semicolon. */
export function notValidDefinition(defn: string): string {
  return defn.replace(/;\s*$/, '') + ' NOT VALID;';
}
