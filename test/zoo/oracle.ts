/**
 * The zoo's independent oracle: what a database holds, read straight from pg_catalog with SQL of
 * its own (nothing here imports dbdrill's checks), so that a source and a restored copy can be
 * compared object kind by object kind, row set by row set, byte by byte.
 *
 * Every session runs with an empty search_path, so regclass/regtype/regprocedure render
 * schema-qualified and quoted by the server itself: names are never split or re-quoted here.
 */
import pg from 'pg';

/** One fact per line, grouped by kind; a fact is a string holding the identity and its attributes. */
export type Inventory = Record<string, string[]>;

export interface DatabaseFacts {
  database: { encoding: string; collate: string; ctype: string; provider: string; icuLocale: string | null };
  inventory: Inventory;
  /** `count:md5` of every table's rows, keyed `<regclass> only` (its own rows) and `<regclass> tree` (with descendants). */
  rows: Record<string, string>;
  /** Leaves whose placement depends on the cluster (hash partitioning over an enum): compared at the root only. */
  unstableLeaves: string[];
  /** md5 of every large object's content, keyed by OID. */
  largeObjects: Record<string, string>;
  /** `last_value/is_called` of every sequence. */
  sequenceStates: Record<string, string>;
  /** Roles the database's objects name, by how they are named. */
  roles: { owners: string[]; grantees: string[]; policies: string[]; defaultPrivileges: string[] };
  /** Every leaf (or plain table) below each table: `sample-tables` naming a parent means these. */
  leavesOf: Record<string, string[]>;
}

const USER_NS = `n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'`;

/** kind -> query returning one text column `f`. */
const INVENTORY_SQL: Record<string, string> = {
  schemas: `SELECT quote_ident(n.nspname) AS f FROM pg_namespace n WHERE ${USER_NS}`,
  relations: `
    SELECT c.relkind::text || ' ' || c.oid::regclass::text || ' ' || c.relpersistence::text
           || CASE WHEN c.relrowsecurity THEN ' rls' ELSE '' END
           || CASE WHEN c.relforcerowsecurity THEN ' force-rls' ELSE '' END
           || coalesce(' partition by ' || pg_get_partkeydef(c.oid), '')
           || CASE WHEN c.relispartition THEN ' ' || pg_get_expr(c.relpartbound, c.oid) ELSE '' END AS f
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE ${USER_NS} AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f', 'c')`,
  columns: `
    SELECT c.oid::regclass::text || '.' || quote_ident(a.attname) || ' ' || format_type(a.atttypid, a.atttypmod)
           || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
           || CASE WHEN c.relispartition THEN '' ELSE CASE a.attidentity WHEN 'a' THEN ' identity always' WHEN 'd' THEN ' identity by default' ELSE '' END END
           || CASE a.attgenerated WHEN 's' THEN ' generated' ELSE '' END
           || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '')
           || CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation
                   THEN ' collate ' || a.attcollation::regcollation::text ELSE '' END AS f
    FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_type t ON t.oid = a.atttypid
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE ${USER_NS} AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'c') AND a.attnum > 0 AND NOT a.attisdropped`,
  indexes: `
    SELECT pg_get_indexdef(i.indexrelid) || CASE WHEN i.indisclustered THEN ' clustered' ELSE '' END AS f
    FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE ${USER_NS}`,
  constraints: `
    SELECT coalesce(k.conrelid::regclass::text, k.contypid::regtype::text) || ' ' || quote_ident(k.conname)
           || ' ' || pg_get_constraintdef(k.oid)
           || CASE WHEN k.condeferrable THEN ' deferrable' ELSE '' END
           || CASE WHEN NOT k.convalidated THEN ' not valid' ELSE '' END AS f
    FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace WHERE ${USER_NS}`,
  functions: `
    SELECT p.oid::regprocedure::text || ' ' || p.prokind::text || ' returns ' || pg_get_function_result(p.oid)
           || ' ' || md5(coalesce(p.prosrc, '')) AS f
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE ${USER_NS}`,
  types: `
    SELECT t.oid::regtype::text || ' ' || t.typtype::text
           || CASE t.typtype::text
                WHEN 'e' THEN ' (' || (SELECT string_agg(quote_literal(e.enumlabel), ',' ORDER BY e.enumsortorder)
                                       FROM pg_enum e WHERE e.enumtypid = t.oid) || ')'
                WHEN 'd' THEN ' over ' || format_type(t.typbasetype, t.typtypmod)
                               || CASE WHEN t.typnotnull THEN ' not null' ELSE '' END
                               || coalesce(' default ' || t.typdefault, '')
                WHEN 'r' THEN ' of ' || (SELECT r.rngsubtype::regtype::text FROM pg_range r WHERE r.rngtypid = t.oid)
                ELSE '' END AS f
    FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
    LEFT JOIN pg_class c ON c.oid = t.typrelid
    WHERE ${USER_NS} AND t.typcategory <> 'A' AND (t.typrelid = 0 OR c.relkind = 'c')`,
  policies: `
    SELECT p.polrelid::regclass::text || ' ' || quote_ident(p.polname) || ' ' || p.polcmd::text
           || CASE WHEN p.polpermissive THEN ' permissive' ELSE ' restrictive' END
           || ' to ' || (SELECT string_agg(CASE WHEN r = 0 THEN 'public' ELSE r::regrole::text END, ',' ORDER BY 1)
                         FROM unnest(p.polroles) r)
           || coalesce(' using ' || pg_get_expr(p.polqual, p.polrelid), '')
           || coalesce(' check ' || pg_get_expr(p.polwithcheck, p.polrelid), '') AS f
    FROM pg_policy p`,
  rules: `
    SELECT r.ev_class::regclass::text || ' ' || quote_ident(r.rulename) || ' ' || md5(pg_get_ruledef(r.oid)) AS f
    FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE ${USER_NS} AND r.rulename <> '_RETURN'`,
  triggers: `
    SELECT pg_get_triggerdef(t.oid) || ' enabled=' || t.tgenabled::text AS f
    FROM pg_trigger t WHERE NOT t.tgisinternal`,
  'event triggers': `
    SELECT quote_ident(e.evtname) || ' on ' || e.evtevent || ' ' || e.evtfoid::regprocedure::text
           || ' enabled=' || e.evtenabled::text || coalesce(' tags ' || array_to_string(e.evttags, ','), '') AS f
    FROM pg_event_trigger e`,
  extensions: `SELECT quote_ident(e.extname) || ' in ' || e.extnamespace::regnamespace::text AS f FROM pg_extension e`,
  publications: `
    SELECT quote_ident(p.pubname) || CASE WHEN p.puballtables THEN ' all tables' ELSE '' END
           || ' ' || p.pubinsert || p.pubupdate || p.pubdelete || p.pubtruncate || ' root=' || p.pubviaroot AS f
    FROM pg_publication p
    UNION ALL
    SELECT quote_ident(p.pubname) || ' table ' || r.prrelid::regclass::text
           || coalesce(' where ' || pg_get_expr(r.prqual, r.prrelid), '')
    FROM pg_publication_rel r JOIN pg_publication p ON p.oid = r.prpubid
    UNION ALL
    SELECT quote_ident(p.pubname) || ' schema ' || s.pnnspid::regnamespace::text
    FROM pg_publication_namespace s JOIN pg_publication p ON p.oid = s.pnpubid`,
  subscriptions: `
    SELECT quote_ident(s.subname) || ' enabled=' || s.subenabled || ' publications ' || array_to_string(s.subpublications, ',')
           || ' slot ' || coalesce(s.subslotname::text, '-') AS f
    FROM pg_subscription s WHERE s.subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())`,
  casts: `
    SELECT c.castsource::regtype::text || ' -> ' || c.casttarget::regtype::text || ' ' || c.castcontext::text || c.castmethod::text
           || coalesce(' via ' || nullif(c.castfunc, 0)::regprocedure::text, '') AS f
    FROM pg_cast c WHERE c.oid >= 16384`,
  operators: `
    SELECT o.oid::regoperator::text || ' ' || o.oprcode::regprocedure::text AS f
    FROM pg_operator o JOIN pg_namespace n ON n.oid = o.oprnamespace WHERE ${USER_NS}`,
  collations: `
    SELECT c.oid::regcollation::text || ' ' || c.collprovider::text || ' ' || coalesce(c.collcollate, '') || '/'
           || coalesce(c.collctype, '') || ' ' || coalesce(to_jsonb(c) ->> 'colliculocale', to_jsonb(c) ->> 'colllocale', '')
           || ' deterministic=' || c.collisdeterministic AS f
    FROM pg_collation c JOIN pg_namespace n ON n.oid = c.collnamespace WHERE ${USER_NS}`,
  'statistics objects': `
    SELECT s.oid::regclass::text || ' ' || quote_ident(s.stxname) AS f
    FROM pg_statistic_ext s JOIN pg_namespace n ON n.oid = s.stxnamespace WHERE ${USER_NS}`,
  'text search configurations': `
    SELECT c.oid::regconfig::text || ' parser ' || c.cfgparser::regproc::text AS f
    FROM pg_ts_config c JOIN pg_namespace n ON n.oid = c.cfgnamespace WHERE ${USER_NS}`,
  'foreign servers': `
    SELECT quote_ident(s.srvname) || ' wrapper ' || quote_ident(w.fdwname)
           || coalesce(' options ' || array_to_string(s.srvoptions, ','), '') AS f
    FROM pg_foreign_server s JOIN pg_foreign_data_wrapper w ON w.oid = s.srvfdw
    UNION ALL
    SELECT 'table ' || t.ftrelid::regclass::text || ' on ' || quote_ident(s.srvname)
           || coalesce(' options ' || array_to_string(t.ftoptions, ','), '')
    FROM pg_foreign_table t JOIN pg_foreign_server s ON s.oid = t.ftserver`,
  inheritance: `
    SELECT i.inhrelid::regclass::text || ' inherits ' || i.inhparent::regclass::text || ' #' || i.inhseqno AS f
    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE c.relkind IN ('r', 'p', 'f')`,
  'sequence definitions': `
    SELECT s.seqrelid::regclass::text || ' ' || s.seqtypid::regtype::text || ' start ' || s.seqstart
           || ' increment ' || s.seqincrement || ' min ' || s.seqmin || ' max ' || s.seqmax || ' cache ' || s.seqcache
           || CASE WHEN s.seqcycle THEN ' cycle' ELSE '' END
           || coalesce((SELECT ' owned by ' || d.refobjid::regclass::text || '.' || quote_ident(a.attname)
                        FROM pg_depend d JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
                        WHERE d.classid = 'pg_class'::regclass AND d.objid = s.seqrelid
                          AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i') LIMIT 1), '') AS f
    FROM pg_sequence s`,
  'view definitions': `
    SELECT c.oid::regclass::text || ' ' || md5(pg_get_viewdef(c.oid)) AS f
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE ${USER_NS} AND c.relkind IN ('v', 'm')`,
  'materialized view data': `
    SELECT c.oid::regclass::text || ' populated=' || c.relispopulated AS f
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE ${USER_NS} AND c.relkind = 'm'`,
  comments: `
    SELECT pg_describe_object(d.classoid, d.objoid, d.objsubid) || ' = ' || d.description AS f
    FROM pg_description d WHERE d.objoid >= 16384`,
  'default privileges': `
    SELECT d.defaclrole::regrole::text || ' in ' || coalesce(d.defaclnamespace::regnamespace::text, '*') || ' '
           || d.defaclobjtype::text || ' ' || d.defaclacl::text AS f
    FROM pg_default_acl d`,
  owners: `
    SELECT 'relation ' || c.oid::regclass::text || ' ' || c.relowner::regrole::text AS f
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE ${USER_NS} AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
    UNION ALL SELECT 'schema ' || quote_ident(n.nspname) || ' ' || n.nspowner::regrole::text FROM pg_namespace n WHERE ${USER_NS}
    UNION ALL SELECT 'function ' || p.oid::regprocedure::text || ' ' || p.proowner::regrole::text
      FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE ${USER_NS}`,
  privileges: `
    SELECT 'relation ' || c.oid::regclass::text || ' ' || c.relacl::text AS f
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE ${USER_NS} AND c.relacl IS NOT NULL
    UNION ALL SELECT 'column ' || a.attrelid::regclass::text || '.' || quote_ident(a.attname) || ' ' || a.attacl::text
      FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE ${USER_NS} AND a.attacl IS NOT NULL
    UNION ALL SELECT 'schema ' || quote_ident(n.nspname) || ' ' || n.nspacl::text
      FROM pg_namespace n WHERE ${USER_NS} AND n.nspacl IS NOT NULL
    UNION ALL SELECT 'function ' || p.oid::regprocedure::text || ' ' || p.proacl::text
      FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE ${USER_NS} AND p.proacl IS NOT NULL`,
};

const ROLES_SQL = `
  SELECT 'owners' AS how, r.rolname FROM pg_roles r WHERE r.oid IN (
      SELECT c.relowner FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE ${USER_NS}
      UNION SELECT n.nspowner FROM pg_namespace n WHERE ${USER_NS}
      UNION SELECT p.proowner FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE ${USER_NS}
      UNION SELECT t.typowner FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE ${USER_NS}
      UNION SELECT l.lomowner FROM pg_largeobject_metadata l)
  UNION SELECT 'grantees', r.rolname FROM pg_roles r WHERE r.oid IN (
      SELECT (aclexplode(c.relacl)).grantee FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE ${USER_NS}
      UNION SELECT (aclexplode(a.attacl)).grantee FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace WHERE ${USER_NS}
      UNION SELECT (aclexplode(n.nspacl)).grantee FROM pg_namespace n WHERE ${USER_NS}
      UNION SELECT (aclexplode(p.proacl)).grantee FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE ${USER_NS})
  UNION SELECT 'policies', r.rolname FROM pg_roles r WHERE r.oid IN (SELECT unnest(polroles) FROM pg_policy)
  UNION SELECT 'defaultPrivileges', r.rolname FROM pg_roles r WHERE r.oid IN (
      SELECT defaclrole FROM pg_default_acl UNION SELECT (aclexplode(defaclacl)).grantee FROM pg_default_acl)`;

/** A session with settings that make text output identical wherever it runs. */
export async function oracleClient(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, ssl: false });
  client.on('error', () => undefined);
  await client.connect();
  await client.query(
    `SET search_path = ''; SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres';
     SET extra_float_digits = 1; SET bytea_output = 'hex'; SET row_security = off`,
  );
  return client;
}

export async function collectFacts(url: string): Promise<DatabaseFacts> {
  const client = await oracleClient(url);
  try {
    const db = (
      await client.query<{
        encoding: string;
        collate: string;
        ctype: string;
        provider: string;
        icu: string | null;
      }>(
        `SELECT pg_encoding_to_char(d.encoding) AS encoding, d.datcollate AS collate, d.datctype AS ctype,
                d.datlocprovider::text AS provider,
                coalesce(to_jsonb(d) ->> 'daticulocale', to_jsonb(d) ->> 'datlocale') AS icu
         FROM pg_database d WHERE d.datname = current_database()`,
      )
    ).rows[0];
    const inventory: Inventory = {};
    for (const [kind, sql] of Object.entries(INVENTORY_SQL)) {
      const rows = (await client.query<{ f: string | null }>(sql)).rows;
      inventory[kind] = rows.map((r) => r.f ?? '(null)').sort();
    }
    const tables = (
      await client.query<{ rel: string; relkind: string; has_children: boolean; populated: boolean }>(`
        SELECT c.oid::regclass::text AS rel, c.relkind, c.relispopulated AS populated,
               EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhparent = c.oid) AS has_children
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE ${USER_NS} AND c.relkind IN ('r', 'p', 'm')`)
    ).rows;
    const rows: Record<string, string> = {};
    for (const t of tables) {
      if (t.relkind === 'm' && !t.populated) continue;
      const digest = (only: boolean) =>
        client
          .query<{ d: string }>(
            `SELECT count(*)::text || ':' || coalesce(md5(string_agg(t::text, E'\\n' ORDER BY t::text COLLATE "C")), '-') AS d
             FROM ${only ? 'ONLY ' : ''}${t.rel} t`,
          )
          .then((r) => r.rows[0].d);
      if (t.relkind !== 'p') rows[`${t.rel} only`] = await digest(true);
      if (t.has_children) rows[`${t.rel} tree`] = await digest(false);
    }
    const unstableLeaves = (
      await client.query<{ rel: string }>(`
        WITH RECURSIVE hashed AS (
          SELECT p.partrelid AS root FROM pg_partitioned_table p
          WHERE p.partstrat = 'h' AND EXISTS (
            SELECT 1 FROM unnest(p.partattrs::int2[]) k JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = k
            JOIN pg_type ty ON ty.oid = a.atttypid WHERE ty.typtype = 'e')),
        below AS (
          SELECT i.inhrelid AS rel FROM pg_inherits i JOIN hashed h ON i.inhparent = h.root
          UNION SELECT i.inhrelid FROM pg_inherits i JOIN below b ON i.inhparent = b.rel)
        SELECT rel::regclass::text AS rel FROM below`)
    ).rows.map((r) => r.rel);
    const leavesOf: Record<string, string[]> = {};
    for (const r of (
      await client.query<{ rel: string; leaves: string[] }>(`
        SELECT c.oid::regclass::text AS rel,
               array(SELECT t.relid::regclass::text FROM pg_partition_tree(c.oid) t WHERE t.isleaf ORDER BY 1) AS leaves
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE ${USER_NS} AND c.relkind IN ('r', 'p')`)
    ).rows)
      leavesOf[r.rel] = r.leaves;
    const largeObjects: Record<string, string> = {};
    for (const r of (
      await client.query<{ oid: string; d: string }>(
        'SELECT l.oid::text AS oid, md5(lo_get(l.oid)) AS d FROM pg_largeobject_metadata l',
      )
    ).rows)
      largeObjects[r.oid] = r.d;
    const sequenceStates: Record<string, string> = {};
    for (const s of (
      await client.query<{ seq: string }>('SELECT seqrelid::regclass::text AS seq FROM pg_sequence')
    ).rows) {
      const st = (
        await client.query<{ v: string; c: boolean }>(
          `SELECT last_value::text AS v, is_called AS c FROM ${s.seq}`,
        )
      ).rows[0];
      sequenceStates[s.seq] = `${st.v}/${st.c}`;
    }
    const roles: DatabaseFacts['roles'] = { owners: [], grantees: [], policies: [], defaultPrivileges: [] };
    for (const r of (await client.query<{ how: keyof DatabaseFacts['roles']; rolname: string }>(ROLES_SQL))
      .rows)
      roles[r.how].push(r.rolname);
    return {
      database: {
        encoding: db.encoding,
        collate: db.collate,
        ctype: db.ctype,
        provider: db.provider,
        icuLocale: db.icu,
      },
      inventory,
      rows,
      unstableLeaves,
      largeObjects,
      sequenceStates,
      roles,
      leavesOf,
    };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** What a comparison legitimately leaves out. */
export interface CompareScope {
  /** Which tables' rows must match: all, none (schema tier), or the listed leaves (sample tier). */
  rows: 'all' | 'none' | string[];
  largeObjects: boolean;
  sequenceStates: boolean;
  owners: boolean;
  privileges: boolean;
  /** Row sets deliberately left to a case's own check (live writers). */
  skipRowsOf?: string[];
  skipSequences?: string[];
  /** Deparsed view text: comparable within one major only. */
  viewDefinitions?: boolean;
}

export const FULL_SCOPE: CompareScope = {
  rows: 'all',
  largeObjects: true,
  sequenceStates: true,
  owners: true,
  privileges: true,
};

/** Differences between a source and a copy, one readable line each; empty when the copy is faithful. */
export function diffFacts(source: DatabaseFacts, copy: DatabaseFacts, scope: CompareScope): string[] {
  const out: string[] = [];
  const skipKinds = new Set<string>();
  if (!scope.owners) skipKinds.add('owners');
  if (!scope.privileges) skipKinds.add('privileges').add('default privileges');
  if (scope.rows !== 'all') skipKinds.add('materialized view data');
  if (scope.viewDefinitions === false) skipKinds.add('view definitions');
  for (const kind of Object.keys(source.inventory)) {
    if (skipKinds.has(kind)) continue;
    let want = source.inventory[kind];
    let got = copy.inventory[kind] ?? [];
    if (kind === 'comments' && !scope.largeObjects) {
      want = want.filter((c) => !c.startsWith('large object'));
      got = got.filter((c) => !c.startsWith('large object'));
    }
    if (kind === 'constraints' && Array.isArray(scope.rows))
      got = got.map(sampledForeignKey(source, scope.rows));
    const gotSet = new Set(got);
    const wantSet = new Set(want);
    const missing = want.filter((f) => !gotSet.has(f));
    const extra = got.filter((f) => !wantSet.has(f));
    for (const m of missing.slice(0, 5)) out.push(`${kind}: missing ${m}`);
    for (const e of extra.slice(0, 5)) out.push(`${kind}: unexpected ${e}`);
    if (missing.length + extra.length > 10)
      out.push(`${kind}: ${missing.length} missing, ${extra.length} unexpected`);
  }
  if (scope.rows !== 'none') {
    const skip = new Set(scope.skipRowsOf ?? []);
    const unstable = new Set(source.unstableLeaves);
    const wanted = scope.rows === 'all' ? undefined : new Set(scope.rows);
    for (const [key, digest] of Object.entries(source.rows)) {
      const rel = key.replace(/ (only|tree)$/, '');
      if (skip.has(rel)) continue;
      if (wanted && !(wanted.has(rel) && key.endsWith(' only'))) continue;
      if (unstable.has(rel) && key.endsWith(' only')) continue;
      if (copy.rows[key] !== digest)
        out.push(`rows: ${key} is ${copy.rows[key] ?? 'absent'}, source ${digest} (count:md5)`);
    }
  }
  if (scope.largeObjects) {
    for (const [oid, digest] of Object.entries(source.largeObjects))
      if (copy.largeObjects[oid] !== digest)
        out.push(`large objects: ${oid} is ${copy.largeObjects[oid] ?? 'absent'}, source ${digest}`);
    for (const oid of Object.keys(copy.largeObjects))
      if (!(oid in source.largeObjects)) out.push(`large objects: unexpected ${oid}`);
  }
  if (scope.sequenceStates) {
    for (const [seq, state] of Object.entries(source.sequenceStates))
      if (!scope.skipSequences?.includes(seq) && copy.sequenceStates[seq] !== state)
        out.push(`sequence state: ${seq} is ${copy.sequenceStates[seq] ?? 'absent'}, source ${state}`);
  }
  return out;
}

/**
 * A sample copy cannot hold a validated foreign key from a sampled table into one whose rows were
 * not sampled (the referenced rows are absent by design): NOT VALID is the faithful best there,
 * so such a key compares as the source's. A key into fully sampled rows must still be valid.
 */
function sampledForeignKey(source: DatabaseFacts, leaves: string[]): (f: string) => string {
  const sampled = new Set(leaves);
  return (f) => {
    const m = / FOREIGN KEY \(.*?\) REFERENCES (.+?)\(.*( NOT VALID| not valid)/.exec(f);
    if (!m) return f;
    const ref = m[1];
    const refLeaves = source.leavesOf[ref]?.length ? source.leavesOf[ref] : [ref];
    return refLeaves.every((l) => sampled.has(l))
      ? f
      : f.replace(/ NOT VALID/, '').replace(/ not valid$/, '');
  };
}

/** The database-level settings a copy must share to hold the same text the same way. */
export function localeDifferences(source: DatabaseFacts, copy: DatabaseFacts): string[] {
  const out: string[] = [];
  for (const k of ['encoding', 'collate', 'ctype', 'provider', 'icuLocale'] as const)
    if ((source.database[k] ?? '') !== (copy.database[k] ?? ''))
      out.push(`database ${k}: ${copy.database[k] ?? '-'}, source ${source.database[k] ?? '-'}`);
  return out;
}
