/**
 * Runs one zoo case end to end: a database on the shared source cluster, the REAL CLI
 * (`backup --json`, `verify --deep --json`, `drill --json --target-url`), then the oracle:
 *
 * - backup good: the bundle's own dump, restored by plain pg_restore into a reference database on
 *   the source cluster (same roles, tablespaces, encoding and locale), equals the source;
 * - target compatible: the scratch database shares the source's encoding and locale, and holds (or
 *   the drill was asked to create) every role the restored objects must name;
 * - target faithful: the database dbdrill restored equals the source, within what the tier and the
 *   options legitimately leave out.
 *
 * The right verdict is pass when the backup is good and the target compatible, fail otherwise,
 * exit 2 when the case asks for something that does not exist; a pass is only right when the
 * restored target is faithful (anything else is a false pass).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

import pg from 'pg';

import { runCli } from '../../src/cli/main.js';
import type { TestCluster } from '../helpers/pg-cluster.js';
import { startStandby } from './env.js';
import {
  collectFacts,
  diffFacts,
  FULL_SCOPE,
  localeDifferences,
  type CompareScope,
  type DatabaseFacts,
} from './oracle.js';

const run = promisify(execFile);

export type Verdict = 'pass' | 'fail' | 'usage-error';

export interface CaseContext {
  /** libpq URL of the case's source database. */
  url: string;
  /** A connected client on the case's source database (statements run one by one, outside a transaction). */
  sql: (query: string) => Promise<pg.QueryResult>;
  /** A prefix unique to the case, for cluster-wide names (roles, tablespaces). */
  prefix: string;
  env: ZooEnv;
}

export interface ZooCase {
  id: string;
  family: string;
  covers: string;
  /** CREATE DATABASE options for the source database (encoding, locale provider). */
  createDb?: string;
  /** Statements run one at a time (for those that refuse a transaction block), before setup. */
  pre?: (prefix: string, env: ZooEnv) => string[];
  /** SQL run in the case database as one multi-statement query; `$P` stands for the case prefix. */
  setup: string;
  tier?: 'full' | 'schema' | 'sample';
  sampleTables?: string[];
  /** Extra drill flags. `$SOURCE` stands for the source database URL. */
  drillArgs?: string[];
  /** The scratch cluster's major when it is not the source's (a pre-upgrade drill). */
  targetMajor?: number;
  /** Started before the backup, stopped after it: returns the stop function. */
  duringBackup?: (ctx: CaseContext) => Promise<() => Promise<void>>;
  /** Row sets checked by `extraOracle` instead of the generic digest. */
  skipRowsOf?: string[];
  /** Sequence states checked by `extraOracle` instead of the generic comparison. */
  skipSequences?: string[];
  /** A case's own oracle check of a copy against the source; returns the differences. */
  extraOracle?: (source: pg.Client, copy: pg.Client) => Promise<string[]>;
  /** Back up a hot standby of the source (pg_basebackup -R) instead of the primary. */
  fromStandby?: boolean;
  /** Why today's dbdrill verdict is wrong; the verdict test is then `test.failing`. */
  wrongToday?: string;
}

export interface ZooEnv {
  source: TestCluster;
  sourceMajor: number;
  /** The source major's client tools, for the oracle's own pg_dump/pg_restore. */
  binDir: string;
  targets: Record<number, TestCluster>;
  workDir: string;
}

export interface CliRun {
  code: number;
  json: Record<string, unknown> | undefined;
  stderr: string;
}

export interface CaseResult {
  id: string;
  steps: { backup: CliRun; verify?: CliRun; drill?: CliRun };
  dbdrill: Verdict;
  /** Why dbdrill said what it said: the failing step's error or check failures. */
  dbdrillWhy: string;
  backupGood: boolean;
  backupDiffs: string[];
  compatible: boolean;
  compatibility: string[];
  targetFaithful: boolean;
  targetDiffs: string[];
  expected: Verdict;
  right: boolean;
  seconds: number;
  /** Seconds per stage: setup, dbdrill (backup + verify + drill), oracle. */
  timings: Record<string, number>;
}

export function dbUrl(cluster: TestCluster, database: string): string {
  const u = new URL(cluster.url);
  u.pathname = '/' + encodeURIComponent(database);
  return u.toString();
}

export async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, ssl: false });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

const qi = (s: string) => `"${s.replace(/"/g, '""')}"`;
const ql = (s: string) => `'${s.replace(/'/g, "''")}'`;

async function waitForReplay(primaryUrl: string, standbyUrl: string): Promise<void> {
  const lsn = await withClient(primaryUrl, async (p) => {
    await p.query('SELECT pg_switch_wal()');
    return (await p.query<{ l: string }>('SELECT pg_current_wal_lsn()::text AS l')).rows[0].l;
  });
  for (let i = 0; i < 300; i++) {
    const done = await withClient(
      standbyUrl,
      async (s) =>
        (await s.query<{ ok: boolean }>('SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS ok', [lsn])).rows[0]
          .ok,
    ).catch(() => false);
    if (done) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the standby did not replay the source WAL');
}

/** Drops a case database; its subscriptions first (a database with one cannot be dropped). */
export async function dropDatabase(cluster: TestCluster, database: string): Promise<void> {
  await withClient(dbUrl(cluster, database), async (c) => {
    const subs = await c.query<{ subname: string }>(
      'SELECT subname FROM pg_subscription WHERE subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())',
    );
    for (const s of subs.rows) {
      await c.query(`ALTER SUBSCRIPTION ${qi(s.subname)} DISABLE`);
      await c.query(`ALTER SUBSCRIPTION ${qi(s.subname)} SET (slot_name = NONE)`);
      await c.query(`DROP SUBSCRIPTION ${qi(s.subname)}`);
    }
  }).catch(() => undefined);
  await withClient(cluster.url, (a) => a.query(`DROP DATABASE IF EXISTS ${qi(database)} WITH (FORCE)`)).catch(
    () => undefined,
  );
}

export async function runCliCapture(argv: string[]): Promise<CliRun> {
  let out = '';
  let err = '';
  const code = await runCli(argv, {
    stdout: (t) => (out += t),
    stderr: (t) => (err += t),
    env: process.env,
  });
  let json: Record<string, unknown> | undefined;
  try {
    json = out.trim() ? (JSON.parse(out) as Record<string, unknown>) : undefined;
  } catch {
    json = undefined;
  }
  return { code, json, stderr: err };
}

const verdictOf = (code: number): Verdict => (code === 0 ? 'pass' : code === 2 ? 'usage-error' : 'fail');

function whyOf(r: CliRun): string {
  const failures = (r.json?.checks as { failures?: string[] } | undefined)?.failures;
  if (failures?.length) return failures.join(' | ');
  const lastError = r.stderr
    .split('\n')
    .filter((l) => /error|fail/i.test(l))
    .slice(-1)[0];
  return (r.json?.error as string | undefined) ?? lastError ?? r.stderr.trim().split('\n').slice(-1)[0] ?? '';
}

/** The names the case's sample-tables mean, resolved by the oracle itself against the source. */
async function resolveSample(
  sourceUrl: string,
  names: string[],
  facts: DatabaseFacts,
): Promise<{ leaves: string[]; unknown: string[] }> {
  const leaves: string[] = [];
  const unknown: string[] = [];
  await withClient(sourceUrl, async (c) => {
    await c.query(`SET search_path = ''`);
    for (const n of names) {
      const qualified = n.includes('.') ? n : `public.${n}`;
      const r = await c.query<{ rel: string | null }>(`SELECT to_regclass($1)::text AS rel`, [qualified]);
      const rel = r.rows[0].rel;
      if (!rel) unknown.push(n);
      else leaves.push(...(facts.leavesOf[rel] ?? [rel]));
    }
  });
  return { leaves, unknown };
}

export async function runCase(env: ZooEnv, c: ZooCase): Promise<CaseResult> {
  const started = Date.now();
  const timings: Record<string, number> = {};
  let mark = started;
  const lap = (name: string) => {
    const now = Date.now();
    timings[name] = Math.round((now - mark) / 100) / 10;
    mark = now;
  };
  const prefix = `z_${c.id.replace(/[^a-z0-9]/g, '_')}`;
  const sourceDb = `${prefix}_src`;
  const refDb = `${prefix}_ref`;
  const targetDb = `${prefix}_target`;
  const caseDir = join(env.workDir, prefix);
  await rm(caseDir, { recursive: true, force: true });
  await mkdir(caseDir, { recursive: true });
  const store = join(caseDir, 'store');
  const sourceUrl = dbUrl(env.source, sourceDb);
  const target = env.targets[c.targetMajor ?? env.sourceMajor];
  const targetUrl = dbUrl(target, targetDb);

  // the source
  await withClient(env.source.url, (a) => a.query(`CREATE DATABASE ${qi(sourceDb)} ${c.createDb ?? ''}`));
  await withClient(target.url, (a) => a.query(`CREATE DATABASE ${qi(targetDb)}`));
  await withClient(sourceUrl, async (client) => {
    for (const s of c.pre?.(prefix, env) ?? []) await client.query(s);
    await client.query(c.setup.replace(/\$P/g, prefix));
  });
  const ctx: CaseContext = {
    url: sourceUrl,
    prefix,
    env,
    sql: (q) => withClient(sourceUrl, (x) => x.query(q)),
  };

  lap('setup');
  // dbdrill, as a user runs it
  let backupUrl = sourceUrl;
  let standby: { port: number; stop: () => Promise<void> } | undefined;
  if (c.fromStandby) {
    standby = await startStandby(env);
    const u = new URL(sourceUrl);
    u.port = String(standby.port);
    backupUrl = u.toString();
    await waitForReplay(env.source.url, backupUrl);
  }
  const stop = c.duringBackup ? await c.duringBackup(ctx) : undefined;
  let backup: CliRun;
  try {
    backup = await runCliCapture([
      'backup',
      '--database-url',
      backupUrl,
      '--store',
      store,
      '--name',
      'zoo',
      '--json',
    ]);
  } finally {
    await stop?.();
  }
  const steps: CaseResult['steps'] = { backup };
  let dbdrill: Verdict = verdictOf(backup.code);
  let dbdrillWhy = backup.code ? whyOf(backup) : '';
  const bundle = backup.json?.bundle as string | undefined;
  if (backup.code === 0) {
    steps.verify = await runCliCapture(['verify', '--store', store, '--name', 'zoo', '--deep', '--json']);
    dbdrill = verdictOf(steps.verify.code);
    dbdrillWhy = steps.verify.code ? whyOf(steps.verify) : '';
  }
  const targetRolesBefore = await withClient(target.url, async (a) =>
    (await a.query<{ rolname: string }>('SELECT rolname FROM pg_roles')).rows.map((r) => r.rolname),
  );
  if (backup.code === 0 && steps.verify?.code === 0) {
    const args = (c.drillArgs ?? []).map((a) => a.replace(/\$SOURCE/g, sourceUrl).replace(/\$P/g, prefix));
    if (c.tier) args.push('--tier', c.tier);
    for (const t of c.sampleTables ?? []) args.push('--sample-tables', t.replace(/\$P/g, prefix));
    steps.drill = await runCliCapture([
      'drill',
      '--store',
      store,
      '--name',
      'zoo',
      '--target-url',
      targetUrl,
      '--report-dir',
      join(caseDir, 'report'),
      ...args,
      '--json',
    ]);
    dbdrill = verdictOf(steps.drill.code);
    dbdrillWhy = steps.drill.code ? whyOf(steps.drill) : '';
  }

  lap('dbdrill');
  // the oracle
  // the three reads run side by side: the source, the reference restore, dbdrill's target
  const sourceFactsP = collectFacts(sourceUrl);
  const refFactsP = (async () => {
    let dumpFile = join(caseDir, 'postgres.dump');
    if (bundle) {
      // dbdrill's own dump, in whichever format the backup wrote it: postgres.dir/ (the default,
      // pg_dump -Fd) or postgres.dump (-Fc); pg_restore reads either as extracted.
      await run('tar', ['-xf', bundle, '-C', caseDir, '--wildcards', 'postgres.d*']);
      if (existsSync(join(caseDir, 'postgres.dir'))) dumpFile = join(caseDir, 'postgres.dir');
    } else {
      // dbdrill could not back it up: does plain pg_dump manage?
      await run(join(env.binDir, 'pg_dump'), ['-Fc', '-f', dumpFile, '-d', backupUrl]);
    }
    await standby?.stop();
    const d = (await sourceFactsP).database;
    await withClient(env.source.url, (a) =>
      a.query(
        `CREATE DATABASE ${qi(refDb)} TEMPLATE template0 ENCODING ${ql(d.encoding)} LC_COLLATE ${ql(d.collate)} LC_CTYPE ${ql(d.ctype)}` +
          (d.provider === 'i' ? ` LOCALE_PROVIDER icu ICU_LOCALE ${ql(d.icuLocale ?? '')}` : ''),
      ),
    );
    await run(join(env.binDir, 'pg_restore'), ['-d', dbUrl(env.source, refDb), dumpFile]).catch(
      (e: { stderr?: string }) => e,
    );
    return collectFacts(dbUrl(env.source, refDb));
  })();
  const [sourceFacts, refFacts, targetFacts] = await Promise.all([
    sourceFactsP,
    refFactsP,
    collectFacts(targetUrl),
  ]);
  const extra = async (copyUrl: string) =>
    c.extraOracle ? withClient(sourceUrl, (s) => withClient(copyUrl, (t) => c.extraOracle!(s, t))) : [];
  const backupDiffs = [
    ...diffFacts(sourceFacts, refFacts, {
      ...FULL_SCOPE,
      skipRowsOf: c.skipRowsOf,
      skipSequences: c.skipSequences,
    }),
    ...(await extra(dbUrl(env.source, refDb))),
  ];

  const noOwner = !(c.drillArgs ?? []).some((a) => /^--no-owner=false$/.test(a));
  const noAcl = !(c.drillArgs ?? []).some((a) => /^--no-acl=false$/.test(a));
  const createRoles = (c.drillArgs ?? []).includes('--create-roles');
  const compatibility = localeDifferences(sourceFacts, targetFacts);
  const needed = new Set([
    ...sourceFacts.roles.policies,
    ...(noOwner ? [] : sourceFacts.roles.owners),
    ...(noAcl ? [] : [...sourceFacts.roles.grantees, ...sourceFacts.roles.defaultPrivileges]),
  ]);
  if (!createRoles) {
    const missingRoles = [...needed].filter((r) => !targetRolesBefore.includes(r));
    if (missingRoles.length)
      compatibility.push(`roles the objects name are absent from the target: ${missingRoles.join(', ')}`);
  }
  let usage = false;
  let rowsScope: CompareScope['rows'] = 'all';
  if (c.tier === 'schema') rowsScope = 'none';
  if (c.tier === 'sample') {
    const sample = await resolveSample(
      sourceUrl,
      (c.sampleTables ?? []).map((t) => t.replace(/\$P/g, prefix)),
      sourceFacts,
    );
    usage = sample.unknown.length > 0;
    rowsScope = sample.leaves;
  }
  const scope: CompareScope = {
    rows: rowsScope,
    largeObjects: !c.tier || c.tier === 'full',
    sequenceStates: c.tier !== 'schema',
    owners: !noOwner,
    privileges: !noAcl,
    skipRowsOf: c.skipRowsOf,
    skipSequences: c.skipSequences,
    // deparsed view text changes between majors; the views themselves are compared as relations and columns
    viewDefinitions: (c.targetMajor ?? env.sourceMajor) === env.sourceMajor,
  };
  const targetDiffs = [
    ...localeDifferences(sourceFacts, targetFacts),
    ...diffFacts(sourceFacts, targetFacts, scope),
    ...(c.tier === 'schema' ? [] : await extra(targetUrl)),
  ];
  const backupGood = backupDiffs.length === 0;
  const compatible = compatibility.length === 0;
  const expected: Verdict = usage ? 'usage-error' : backupGood && compatible ? 'pass' : 'fail';
  const targetFaithful = targetDiffs.length === 0;
  const right = dbdrill === expected && (dbdrill !== 'pass' || targetFaithful);

  // the databases go; the clusters stay for the next case
  lap('oracle');
  await dropDatabase(env.source, refDb);
  await dropDatabase(target, targetDb);
  await dropDatabase(env.source, sourceDb);
  return {
    id: c.id,
    steps,
    dbdrill,
    dbdrillWhy,
    backupGood,
    backupDiffs,
    compatible,
    compatibility,
    targetFaithful,
    targetDiffs,
    expected,
    right,
    seconds: Math.round((Date.now() - started) / 100) / 10,
    timings,
  };
}
