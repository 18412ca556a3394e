/**
 * After a restore: does every object the dump's TOC lists exist, and do the row counts equal
 * the ones taken in the dump's snapshot (and, with compare-url, production's)?
 */
import type pg from 'pg';

import type { TableCount } from '../../bundle/manifest.js';
import type { DrillCount, StructureKind } from '../../report/model.js';
import { quoteIdent } from './connection.js';
import { countObjectsByKind, type PgTocEntry } from './pgdump-reader.js';
import { countLargeObjects, userSchemaFilter } from './system-catalog.js';

/**
 * One kind of object the TOC can list. The catalog query renders each object exactly as pg_dump
 * writes its TOC entry (namespace and tag, with `search_path = ''` so types come out qualified the
 * same way), so the two sides compare as (namespace, tag) pairs and nothing is ever split on "."
 * or "(" (names may contain both).
 */
interface KindRule {
  kind: string;
  descs: string[];
  /** Rows of (ns, tag[, owner]) for every such object in the restored database. */
  actualSql: string;
  /** Entries only some objects of a desc carry (COMMENT): which TOC entries this rule can judge. */
  judges?: (e: PgTocEntry) => boolean;
  /** Default privileges are keyed by their role too: the same tag exists once per role. */
  withOwner?: boolean;
  /** Left out of the restore on purpose by an option. */
  skippedWhen?: (o: StructureOptions) => boolean;
}

export interface StructureOptions {
  schemaOnly?: boolean;
  /** pg_restore ran with --no-acl: DEFAULT ACL entries were not restored on purpose. */
  noAcl?: boolean;
  /**
   * TOC entries (by dump id) the restore left out on purpose, e.g. a sample tier's foreign keys
   * into tables it did not sample; the caller reports them, this check does not expect them.
   */
  leftOut?: ReadonlySet<number>;
}

const USER_NS = userSchemaFilter('n.nspname');
/** Relations of the given relkinds as (schema, name). */
const relationsSql = (relkinds: string) =>
  `SELECT n.nspname AS ns, c.relname AS tag FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN (${relkinds}) AND ${USER_NS}`;

/** "<table> <name>": how pg_dump tags objects that belong to a table. */
const tableScopedSql = (catalog: string, relCol: string, nameCol: string, where = 'true') =>
  `SELECT n.nspname AS ns, c.relname || ' ' || x.${nameCol} AS tag FROM ${catalog} x JOIN pg_class c ON c.oid = x.${relCol} JOIN pg_namespace n ON n.oid = c.relnamespace WHERE ${where} AND ${USER_NS}`;

/** pg_dump's function tag: the bare name, then the input argument types rendered by format_type. */
const FUNCTION_TAG = `p.proname || '(' || CASE WHEN p.prokind = 'a' AND p.pronargs = 0 THEN '*' ELSE coalesce((SELECT string_agg(format_type(t.oid, NULL), ', ' ORDER BY t.i) FROM unnest(p.proargtypes::oid[]) WITH ORDINALITY AS t(oid, i)), '') END || ')'`;

const COMMENT_KINDS = [
  'SCHEMA',
  'TABLE',
  'VIEW',
  'MATERIALIZED VIEW',
  'SEQUENCE',
  'INDEX',
  'FOREIGN TABLE',
  'COLUMN',
  'FUNCTION',
  'PROCEDURE',
  'AGGREGATE',
  'TYPE',
  'DOMAIN',
  'EXTENSION',
  'POLICY',
  'CONSTRAINT',
  'TRIGGER',
  'RULE',
  'LARGE OBJECT',
];
const commentKindOf = (tag: string) =>
  COMMENT_KINDS.filter((k) => tag.startsWith(`${k} `)).sort((a, b) => b.length - a.length)[0];

/**
 * Every commented object as pg_dump tags its COMMENT entry: "<KIND> <quoted name>", the
 * namespace apart; functions with their identity arguments; table-scoped ones "... ON <table>".
 */
const COMMENTS_SQL = `
SELECT '' AS ns, 'SCHEMA ' || quote_ident(n.nspname) AS tag FROM pg_description d JOIN pg_namespace n ON d.classoid = 'pg_namespace'::regclass AND d.objoid = n.oid WHERE ${USER_NS}
UNION ALL SELECT n.nspname, CASE c.relkind WHEN 'v' THEN 'VIEW ' WHEN 'm' THEN 'MATERIALIZED VIEW ' WHEN 'S' THEN 'SEQUENCE ' WHEN 'i' THEN 'INDEX ' WHEN 'I' THEN 'INDEX ' WHEN 'f' THEN 'FOREIGN TABLE ' ELSE 'TABLE ' END || quote_ident(c.relname)
  FROM pg_description d JOIN pg_class c ON d.classoid = 'pg_class'::regclass AND d.objoid = c.oid AND d.objsubid = 0 JOIN pg_namespace n ON n.oid = c.relnamespace WHERE ${USER_NS}
UNION ALL SELECT n.nspname, 'COLUMN ' || quote_ident(c.relname) || '.' || quote_ident(a.attname)
  FROM pg_description d JOIN pg_class c ON d.classoid = 'pg_class'::regclass AND d.objoid = c.oid JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.objsubid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE d.objsubid > 0 AND ${USER_NS}
UNION ALL SELECT n.nspname, CASE p.prokind WHEN 'p' THEN 'PROCEDURE ' WHEN 'a' THEN 'AGGREGATE ' ELSE 'FUNCTION ' END || quote_ident(p.proname) || '(' || CASE WHEN p.prokind = 'a' AND p.pronargs = 0 THEN '*' ELSE pg_get_function_identity_arguments(p.oid) END || ')'
  FROM pg_description d JOIN pg_proc p ON d.classoid = 'pg_proc'::regclass AND d.objoid = p.oid JOIN pg_namespace n ON n.oid = p.pronamespace WHERE ${USER_NS}
UNION ALL SELECT n.nspname, CASE t.typtype WHEN 'd' THEN 'DOMAIN ' ELSE 'TYPE ' END || quote_ident(t.typname)
  FROM pg_description d JOIN pg_type t ON d.classoid = 'pg_type'::regclass AND d.objoid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace WHERE ${USER_NS}
UNION ALL SELECT '', 'EXTENSION ' || quote_ident(e.extname) FROM pg_description d JOIN pg_extension e ON d.classoid = 'pg_extension'::regclass AND d.objoid = e.oid
UNION ALL SELECT n.nspname, 'POLICY ' || quote_ident(x.polname) || ' ON ' || quote_ident(c.relname)
  FROM pg_description d JOIN pg_policy x ON d.classoid = 'pg_policy'::regclass AND d.objoid = x.oid JOIN pg_class c ON c.oid = x.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace
UNION ALL SELECT n.nspname, 'TRIGGER ' || quote_ident(x.tgname) || ' ON ' || quote_ident(c.relname)
  FROM pg_description d JOIN pg_trigger x ON d.classoid = 'pg_trigger'::regclass AND d.objoid = x.oid JOIN pg_class c ON c.oid = x.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
UNION ALL SELECT n.nspname, 'RULE ' || quote_ident(x.rulename) || ' ON ' || quote_ident(c.relname)
  FROM pg_description d JOIN pg_rewrite x ON d.classoid = 'pg_rewrite'::regclass AND d.objoid = x.oid JOIN pg_class c ON c.oid = x.ev_class JOIN pg_namespace n ON n.oid = c.relnamespace
UNION ALL SELECT n.nspname, 'CONSTRAINT ' || quote_ident(x.conname) || ' ON ' || CASE WHEN x.contypid <> 0 THEN 'DOMAIN ' || quote_ident(t.typname) ELSE quote_ident(c.relname) END
  FROM pg_description d JOIN pg_constraint x ON d.classoid = 'pg_constraint'::regclass AND d.objoid = x.oid LEFT JOIN pg_class c ON c.oid = x.conrelid LEFT JOIN pg_type t ON t.oid = x.contypid JOIN pg_namespace n ON n.oid = x.connamespace
UNION ALL SELECT '', 'LARGE OBJECT ' || d.objoid FROM pg_description d WHERE d.classoid = 'pg_largeobject'::regclass`;

const RULES: KindRule[] = [
  {
    kind: 'schemas',
    descs: ['SCHEMA'],
    actualSql: `SELECT '' AS ns, n.nspname AS tag FROM pg_namespace n WHERE ${USER_NS}`,
  },
  {
    kind: 'extensions',
    descs: ['EXTENSION'],
    actualSql: `SELECT '' AS ns, extname AS tag FROM pg_extension`,
  },
  {
    kind: 'types',
    descs: ['TYPE', 'DOMAIN', 'SHELL TYPE'],
    actualSql: `SELECT n.nspname AS ns, t.typname AS tag FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE ${USER_NS}`,
  },
  {
    kind: 'collations',
    descs: ['COLLATION'],
    actualSql: `SELECT n.nspname AS ns, x.collname AS tag FROM pg_collation x JOIN pg_namespace n ON n.oid = x.collnamespace WHERE ${USER_NS}`,
  },
  { kind: 'tables', descs: ['TABLE'], actualSql: relationsSql(`'r', 'p'`) },
  { kind: 'foreign tables', descs: ['FOREIGN TABLE'], actualSql: relationsSql(`'f'`) },
  { kind: 'views', descs: ['VIEW'], actualSql: relationsSql(`'v'`) },
  { kind: 'materialized views', descs: ['MATERIALIZED VIEW'], actualSql: relationsSql(`'m'`) },
  { kind: 'sequences', descs: ['SEQUENCE'], actualSql: relationsSql(`'S'`) },
  { kind: 'indexes', descs: ['INDEX'], actualSql: relationsSql(`'i', 'I'`) },
  {
    kind: 'partition attachments',
    descs: ['TABLE ATTACH', 'INDEX ATTACH'],
    actualSql: `SELECT n.nspname AS ns, c.relname AS tag FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relispartition AND ${USER_NS}`,
  },
  {
    kind: 'constraints',
    descs: ['CONSTRAINT', 'FK CONSTRAINT', 'CHECK CONSTRAINT'],
    actualSql: `${tableScopedSql('pg_constraint', 'conrelid', 'conname')}
      UNION ALL SELECT n.nspname, t.typname || ' ' || k.conname FROM pg_constraint k JOIN pg_type t ON t.oid = k.contypid JOIN pg_namespace n ON n.oid = t.typnamespace WHERE ${USER_NS}`,
  },
  {
    kind: 'functions',
    descs: ['FUNCTION', 'PROCEDURE', 'AGGREGATE'],
    actualSql: `SELECT n.nspname AS ns, ${FUNCTION_TAG} AS tag FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE ${USER_NS}`,
  },
  {
    kind: 'operators',
    descs: ['OPERATOR'],
    actualSql: `SELECT n.nspname AS ns, o.oprname AS tag FROM pg_operator o JOIN pg_namespace n ON n.oid = o.oprnamespace WHERE ${USER_NS}`,
  },
  {
    kind: 'casts',
    descs: ['CAST'],
    actualSql: `SELECT '' AS ns, 'CAST (' || format_type(c.castsource, NULL) || ' AS ' || format_type(c.casttarget, NULL) || ')' AS tag FROM pg_cast c`,
  },
  {
    kind: 'triggers',
    descs: ['TRIGGER'],
    actualSql: tableScopedSql('pg_trigger', 'tgrelid', 'tgname', 'NOT x.tgisinternal'),
  },
  {
    kind: 'rules',
    descs: ['RULE'],
    actualSql: tableScopedSql('pg_rewrite', 'ev_class', 'rulename', `x.rulename <> '_RETURN'`),
  },
  { kind: 'policies', descs: ['POLICY'], actualSql: tableScopedSql('pg_policy', 'polrelid', 'polname') },
  {
    kind: 'row level security',
    descs: ['ROW SECURITY'],
    actualSql: `SELECT n.nspname AS ns, c.relname AS tag FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relrowsecurity AND ${USER_NS}`,
  },
  {
    kind: 'event triggers',
    descs: ['EVENT TRIGGER'],
    actualSql: `SELECT '' AS ns, evtname AS tag FROM pg_event_trigger`,
  },
  {
    kind: 'extended statistics',
    descs: ['STATISTICS'],
    actualSql: `SELECT n.nspname AS ns, s.stxname AS tag FROM pg_statistic_ext s JOIN pg_namespace n ON n.oid = s.stxnamespace WHERE ${USER_NS}`,
  },
  {
    kind: 'text search',
    descs: ['TEXT SEARCH CONFIGURATION', 'TEXT SEARCH DICTIONARY'],
    actualSql: `SELECT n.nspname AS ns, x.cfgname AS tag FROM pg_ts_config x JOIN pg_namespace n ON n.oid = x.cfgnamespace WHERE ${USER_NS}
      UNION ALL SELECT n.nspname, x.dictname FROM pg_ts_dict x JOIN pg_namespace n ON n.oid = x.dictnamespace WHERE ${USER_NS}`,
  },
  {
    kind: 'foreign servers',
    descs: ['SERVER', 'FOREIGN DATA WRAPPER'],
    actualSql: `SELECT '' AS ns, srvname AS tag FROM pg_foreign_server UNION ALL SELECT '', fdwname FROM pg_foreign_data_wrapper`,
  },
  {
    kind: 'publications',
    descs: ['PUBLICATION'],
    actualSql: `SELECT '' AS ns, pubname AS tag FROM pg_publication`,
  },
  {
    kind: 'publication members',
    descs: ['PUBLICATION TABLE', 'PUBLICATION TABLES IN SCHEMA'],
    actualSql: `SELECT n.nspname AS ns, p.pubname || ' ' || c.relname AS tag FROM pg_publication_rel r JOIN pg_publication p ON p.oid = r.prpubid JOIN pg_class c ON c.oid = r.prrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      UNION ALL SELECT n.nspname, p.pubname || ' ' || n.nspname FROM pg_publication_namespace r JOIN pg_publication p ON p.oid = r.pnpubid JOIN pg_namespace n ON n.oid = r.pnnspid`,
  },
  {
    kind: 'subscriptions',
    descs: ['SUBSCRIPTION'],
    actualSql: `SELECT '' AS ns, subname AS tag FROM pg_subscription WHERE subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())`,
  },
  {
    kind: 'default privileges',
    descs: ['DEFAULT ACL'],
    withOwner: true,
    skippedWhen: (o) => !!o.noAcl,
    actualSql: `SELECT coalesce(n.nspname, '') AS ns, 'DEFAULT PRIVILEGES FOR ' || CASE a.defaclobjtype WHEN 'r' THEN 'TABLES' WHEN 'S' THEN 'SEQUENCES' WHEN 'f' THEN 'FUNCTIONS' WHEN 'T' THEN 'TYPES' WHEN 'n' THEN 'SCHEMAS' END AS tag, pg_get_userbyid(a.defaclrole) AS owner
      FROM pg_default_acl a LEFT JOIN pg_namespace n ON n.oid = a.defaclnamespace`,
  },
  {
    kind: 'comments',
    descs: ['COMMENT'],
    judges: (e) => commentKindOf(e.tag) !== undefined,
    actualSql: COMMENTS_SQL,
  },
];

/** Every TOC desc some rule judges (the rest are data, ACLs, database-level or owner entries). */
export const STRUCTURE_DESCS: ReadonlySet<string> = new Set(RULES.flatMap((r) => r.descs));

const keyOf = (ns: string, tag: string, owner?: string) =>
  JSON.stringify(owner === undefined ? [ns, tag] : [ns, tag, owner]);
/** The TOC writes "-" for "no namespace" in listings; the archive itself holds an empty string. */
const tocNs = (e: PgTocEntry) => (e.namespace === '-' ? '' : e.namespace);

/**
 * Compares the TOC's objects with the restored catalog, kind by kind, naming what is missing, so
 * that a restore error ignored by pattern can never hide a lost object.
 */
export async function checkStructure(
  client: pg.Client,
  toc: PgTocEntry[],
  options: StructureOptions = {},
): Promise<StructureKind[]> {
  const out: StructureKind[] = [];
  const saved = (await client.query<{ p: string }>(`SELECT current_setting('search_path') AS p`)).rows[0].p;
  // format_type and regclass render names as pg_dump did: qualified, since pg_dump runs with an empty path.
  await client.query(`SELECT set_config('search_path', '', false)`);
  try {
    for (const rule of RULES) {
      if (rule.skippedWhen?.(options)) continue;
      const entries = toc.filter(
        (e) =>
          rule.descs.includes(e.desc) &&
          (rule.judges?.(e) ?? true) &&
          !options.leftOut?.has(e.dumpId) &&
          // Large objects are data: a schema-only restore creates none, so none of their comments.
          !(options.schemaOnly && e.desc === 'COMMENT' && e.tag.startsWith('LARGE OBJECT ')),
      );
      const expected = new Map<string, PgTocEntry>();
      for (const e of entries) expected.set(keyOf(tocNs(e), e.tag, rule.withOwner ? e.owner : undefined), e);
      if (expected.size === 0) continue;
      const rows = (await client.query<{ ns: string; tag: string; owner?: string }>(rule.actualSql)).rows;
      const actual = new Set(rows.map((r) => keyOf(r.ns, r.tag, rule.withOwner ? r.owner : undefined)));
      const missingEntries = [...expected].filter(([k]) => !actual.has(k)).map(([, e]) => e);
      out.push({
        kind: rule.kind,
        expected: expected.size,
        actual: expected.size - missingEntries.length,
        missing: await displayNames(client, missingEntries, toc),
      });
    }
  } finally {
    await client.query(`SELECT set_config('search_path', $1, false)`, [saved]);
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

/**
 * How a missing object is named: names quoted by the server itself (quote_ident), the schema
 * apart. A table-scoped tag ("<table> <name>") is split only at the name of the table the entry
 * depends on, which the TOC names, so a name with spaces or dots is never cut apart; signatures
 * (functions, casts, comments) are kept as pg_dump wrote them.
 */
async function displayNames(client: pg.Client, entries: PgTocEntry[], toc: PgTocEntry[]): Promise<string[]> {
  if (entries.length === 0) return [];
  const byId = new Map(toc.map((e) => [e.dumpId, e]));
  const parts = entries.map((e) => {
    if (!TABLE_SCOPED.has(e.desc))
      return { ns: tocNs(e), name: e.tag, table: null, plain: !COMPOSITE_TAGS.has(e.desc) };
    const owner = e.dependencies
      .map((d) => byId.get(d))
      .find(
        (d) =>
          d && RELATION_DESCS.has(d.desc) && d.namespace === e.namespace && e.tag.startsWith(`${d.tag} `),
      );
    return owner
      ? { ns: tocNs(e), name: e.tag.slice(owner.tag.length + 1), table: owner.tag, plain: true }
      : { ns: tocNs(e), name: e.tag, table: null, plain: false };
  });
  const r = await client.query<{ ns: string | null; name: string; tbl: string | null }>(
    `SELECT CASE WHEN ns = '' THEN NULL ELSE quote_ident(ns) END AS ns,
            CASE WHEN plain THEN quote_ident(name) ELSE name END AS name,
            quote_ident(tbl) AS tbl
     FROM unnest($1::text[], $2::text[], $3::text[], $4::bool[]) WITH ORDINALITY AS u(ns, name, tbl, plain, i) ORDER BY i`,
    [parts.map((p) => p.ns), parts.map((p) => p.name), parts.map((p) => p.table), parts.map((p) => p.plain)],
  );
  return r.rows.map((x, i) => {
    const e = entries[i];
    let shown: string;
    if (x.tbl !== null) shown = `${x.name} on ${x.ns}.${x.tbl}`;
    else if (x.ns === null) shown = x.name;
    else if (!COMPOSITE_TAGS.has(e.desc) || SIGNATURE_TAGS.has(e.desc)) shown = `${x.ns}.${x.name}`;
    else shown = `${x.name} (schema ${x.ns})`;
    return e.desc === 'DEFAULT ACL' ? `${shown} (role ${e.owner})` : shown;
  });
}

const TABLE_SCOPED = new Set([
  'CONSTRAINT',
  'FK CONSTRAINT',
  'CHECK CONSTRAINT',
  'TRIGGER',
  'RULE',
  'POLICY',
]);
const RELATION_DESCS = new Set(['TABLE', 'VIEW', 'MATERIALIZED VIEW', 'FOREIGN TABLE', 'DOMAIN']);
/** Tags that are more than one name ("table constraint", "CAST (a AS b)"): shown as pg_dump wrote them. */
const SIGNATURE_TAGS = new Set(['FUNCTION', 'PROCEDURE', 'AGGREGATE']);
const COMPOSITE_TAGS = new Set([
  ...SIGNATURE_TAGS,
  'CONSTRAINT',
  'FK CONSTRAINT',
  'CHECK CONSTRAINT',
  'TRIGGER',
  'RULE',
  'POLICY',
  'CAST',
  'COMMENT',
  'DEFAULT ACL',
  'PUBLICATION TABLE',
  'PUBLICATION TABLES IN SCHEMA',
]);

export interface CountExpectation {
  /** Display name, "schema.table" as recorded; never parsed back. */
  name: string;
  schema: string;
  table: string;
  rows: number | null;
  /** The TOC's COPY statement for this table's data: it names the root when pg_dump loads via the root. */
  copyStmt?: string;
}

/** Extra connections for counting: each `count(*)` is one scan, so several run at once. */
export interface CountParallelism {
  /** Connections counting at once, the given client included (the drill passes its jobs). */
  concurrency: number;
  /** Opens one more connection to the same database; the caller's client is never closed here. */
  connect: () => Promise<pg.Client>;
}

/**
 * Exact counts of the restored tables against the counts taken in the dump's snapshot. Leaves
 * of a hash-partitioned tree are compared as one sum at the tree's root: pg_dump loads them through
 * the root (--load-via-partition-root, implied for hash keys on enums) and a hash can differ
 * between clusters, so rows legitimately land in other leaves while the tree holds the same rows.
 *
 * With `parallel`, the scans are spread over that many connections, largest table first: the
 * restore has just finished, so nothing else competes for the cores, and a schema of several large
 * tables no longer scans them one after another (on the 6 GB bench the checks went from 3.0 to
 * 2.5-2.9 s). A connection that cannot be opened only lowers the concurrency; the results are the
 * same either way.
 */
export async function compareCounts(
  client: pg.Client,
  expected: CountExpectation[],
  source: DrillCount['source'] = 'manifest',
  parallel?: CountParallelism,
): Promise<DrillCount[]> {
  const roots = await hashTreeRoots(client, expected);
  const out: DrillCount[] = [];
  const trees = new Map<string, DrillCount & { schema: string; table: string }>();
  const scans: { rows: number; run: (c: pg.Client) => Promise<void> }[] = [];
  for (const [i, t] of expected.entries()) {
    const root = roots.get(i);
    if (root) {
      const key = JSON.stringify([root.schema, root.table]);
      let tree = trees.get(key);
      if (!tree) {
        tree = {
          name: `${root.schema}.${root.table}`,
          schema: root.schema,
          table: root.table,
          expected: 0,
          actual: null,
          ok: false,
          source,
          tree: {
            leaves: [],
            why: root.viaRoot
              ? 'pg_dump loads its rows through the root, so they may land in other leaves'
              : 'hash-partitioned: rows may land in other leaves on restore',
          },
        };
        trees.set(key, tree);
        out.push(tree);
      }
      tree.tree!.leaves.push(t.name);
      tree.expected = tree.expected === null || t.rows === null ? null : tree.expected + t.rows;
      continue;
    }
    const row: DrillCount = {
      name: t.name,
      schema: t.schema,
      table: t.table,
      expected: t.rows,
      actual: null,
      ok: false,
      source,
    };
    out.push(row);
    scans.push({
      rows: t.rows ?? 0,
      run: async (c) => {
        row.actual = await countOf(c, t.schema, t.table, true);
        row.ok = row.actual !== null && row.actual === t.rows;
      },
    });
  }
  for (const tree of trees.values()) {
    scans.push({
      rows: tree.expected ?? 0,
      run: async (c) => {
        tree.actual = await countOf(c, tree.schema, tree.table, false);
        tree.ok = tree.actual !== null && tree.actual === tree.expected;
      },
    });
  }
  scans.sort((a, b) => b.rows - a.rows);
  await runOnConnections(client, scans, parallel);
  return out;
}

/** Each task on the first free connection: the caller's client and up to concurrency - 1 more. */
async function runOnConnections(
  client: pg.Client,
  tasks: { run: (c: pg.Client) => Promise<void> }[],
  parallel: CountParallelism | undefined,
): Promise<void> {
  let next = 0;
  const drain = async (c: pg.Client): Promise<void> => {
    while (next < tasks.length) await tasks[next++]!.run(c);
  };
  const extra = Math.min(Math.max(0, (parallel?.concurrency ?? 1) - 1), Math.max(0, tasks.length - 1));
  const workers = [drain(client)];
  for (let i = 0; i < extra; i++) {
    workers.push(
      (async () => {
        let c: pg.Client;
        try {
          c = await parallel!.connect();
        } catch {
          return; // fewer connections, same counts
        }
        try {
          await drain(c);
        } finally {
          await c.end().catch(() => undefined);
        }
      })(),
    );
  }
  await Promise.all(workers);
}

/** `count(*)` of one table (ONLY: its own rows) or of a whole partition tree; null when unreadable. */
async function countOf(
  client: pg.Client,
  schema: string,
  table: string,
  only: boolean,
): Promise<number | null> {
  try {
    const r = await client.query<{ n: string }>(
      `SELECT count(*) AS n FROM ${only ? 'ONLY ' : ''}${quoteIdent(schema)}.${quoteIdent(table)}`,
    );
    return Number(r.rows[0].n);
  } catch {
    return null;
  }
}

/**
 * For each expected leaf whose rows may legitimately move between leaves: the root of its tree.
 * That is a tree with a hash-partitioned level, or a leaf whose TOC COPY statement does not name
 * the leaf itself (pg_dump loads it through the root).
 */
async function hashTreeRoots(
  client: pg.Client,
  expected: CountExpectation[],
): Promise<Map<number, { schema: string; table: string; viaRoot: boolean }>> {
  const roots = new Map<number, { schema: string; table: string; viaRoot: boolean }>();
  if (expected.length === 0) return roots;
  const r = await client.query<{ i: string; schema: string; tbl: string; via_root: boolean }>(
    `SELECT u.i, rn.nspname AS schema, r.relname AS tbl, coalesce(v.via_root, false) AS via_root
     FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS u(s, t, copy, i)
     CROSS JOIN LATERAL (SELECT u.copy IS NOT NULL
       AND NOT starts_with(u.copy, 'COPY ' || quote_ident(u.s) || '.' || quote_ident(u.t) || ' ')
       AND NOT starts_with(u.copy, 'COPY ' || u.s || '.' || u.t || ' ') AS via_root) v
     JOIN pg_namespace n ON n.nspname = u.s
     JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = u.t AND c.relispartition
     JOIN pg_class r ON r.oid = pg_partition_root(c.oid)
     JOIN pg_namespace rn ON rn.oid = r.relnamespace
     WHERE v.via_root OR EXISTS (SELECT 1 FROM pg_partition_tree(r.oid) pt
                   JOIN pg_partitioned_table p ON p.partrelid = pt.relid WHERE p.partstrat = 'h')`,
    [expected.map((e) => e.schema), expected.map((e) => e.table), expected.map((e) => e.copyStmt ?? null)],
  );
  for (const row of r.rows) {
    roots.set(Number(row.i) - 1, { schema: row.schema, table: row.tbl, viaRoot: row.via_root });
  }
  return roots;
}

export function manifestExpectations(tables: TableCount[]): CountExpectation[] {
  return (
    tables
      // a table with no count and a recorded reason (unlogged on a standby) has nothing to compare
      .filter((t) => t.kind === 'table' && !(t.rows === null && t.reason))
      .map((t) => ({ name: `${t.schema}.${t.name}`, schema: t.schema, table: t.name, rows: t.rows }))
  );
}

/**
 * Production drift: counts from compare-url against the restored ones. Small drift (writes since
 * the backup) passes within the tolerance; an order-of-magnitude gap fails. Each count names its
 * table as a (schema, table) pair; a partition tree is counted at its root in both databases.
 */
export async function compareWithProduction(
  prod: pg.Client,
  restored: DrillCount[],
  tolerance: { percent?: number; rows?: number },
): Promise<DrillCount[]> {
  const out: DrillCount[] = [];
  for (const c of restored) {
    const prodRows =
      c.schema !== undefined && c.table !== undefined
        ? await countOf(prod, c.schema, c.table, !c.tree)
        : null;
    const actual = c.actual;
    let ok = prodRows !== null && actual !== null;
    if (ok) {
      const diff = Math.abs(prodRows! - actual!);
      const allowed = tolerance.rows ?? Math.ceil((prodRows! * (tolerance.percent ?? 10)) / 100);
      ok = diff <= allowed;
    }
    out.push({
      name: c.name,
      schema: c.schema,
      table: c.table,
      ...(c.tree ? { tree: c.tree } : {}),
      expected: prodRows,
      actual,
      ok,
      source: 'compare-url',
    });
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
