/**
 * Every option of every use case, parsed and validated once, here, for both the CLI and the
 * actions (after actions/checkout's input-helper). Raw options are strings keyed by the
 * kebab-case input name, which is also the CLI flag: `database-url` is `--database-url`.
 * Errors name the input, the bad value and what is expected.
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';

import { validateName } from './bundle/naming.js';
import { parseDuration } from './duration.js';
import { ConfigError } from './errors.js';
import {
  parseBackupSecurity,
  parseDecryptSecurity,
  parseDrillSecurity,
  SECURITY_OPTION_SPECS,
  type BackupSecurityOptions,
  type DecryptSecurityOptions,
  type DrillSecurityOptions,
} from './security-options.js';
import { STORE_OPTION_SPECS } from './store-options.js';
import { DUMP_FORMAT_OPTION_SPECS, parseDumpFormat, type DumpFormatOptions } from './dump-format-options.js';

export type Command = 'backup' | 'verify' | 'drill' | 'prune' | 'list';
export type OptionKind = 'string' | 'boolean' | 'list' | 'int' | 'duration';

export interface OptionSpec {
  name: string;
  kind: OptionKind;
  commands: Command[];
  description: string;
  default?: string;
  /** Never logged; masked in Actions and redacted in CLI output. */
  secret?: boolean;
  /** Accepted values, for enums. */
  choices?: string[];
}

const B: Command[] = ['backup'];
const V: Command[] = ['verify'];
const D: Command[] = ['drill'];
const STORE_CMDS: Command[] = ['backup', 'verify', 'drill', 'prune', 'list'];
const READERS: Command[] = ['verify', 'drill', 'prune', 'list'];

export const OPTION_SPECS: OptionSpec[] = [
  // where bundles live
  {
    name: 'store',
    kind: 'string',
    commands: STORE_CMDS,
    description:
      'Where bundles live: a directory path, file:///abs/dir, s3://bucket/prefix or artifact://name.',
  },
  {
    name: 'name',
    kind: 'string',
    commands: STORE_CMDS,
    description:
      'Bundle name prefix (letters, digits, ".", "_", "-"); bundles are <name>-<UTC timestamp>.dbdrill.tar.',
  },
  {
    name: 'bundle',
    kind: 'string',
    commands: READERS.filter((c) => c === 'verify' || c === 'drill'),
    description:
      'One bundle to use instead of the newest of name in store: a path, file:// or s3:// URI. May be a bare pg_dump -Fc file from another tool.',
  },
  // backup
  {
    name: 'engine',
    kind: 'string',
    commands: B,
    choices: ['postgres', 'mongodb'],
    description: 'Database engine; by default taken from the database-url scheme (postgres://, mongodb://).',
  },
  {
    name: 'database-url',
    kind: 'list',
    commands: B,
    secret: true,
    description:
      'Connection URL of the database to back up, e.g. postgres://user:pass@host:5432/db or mongodb://user:pass@host:27017/db. One a line (repeat the flag): several databases (e.g. one postgres:// and one mongodb://) make one recovery point.',
  },
  {
    name: 'max-skew',
    kind: 'duration',
    commands: B,
    description:
      'With several database-url: fail (and store nothing) when the dumps span more than this from first start to last end (e.g. 5m).',
  },
  {
    name: 'mongo-bin-dir',
    kind: 'string',
    commands: ['backup', 'drill'],
    description:
      'Directory with mongodump/mongorestore, tried before PATH, docker-container and the pinned MongoDB Database Tools download.',
  },
  {
    name: 'secret-files',
    kind: 'list',
    commands: B,
    description:
      "The app's secret store: files or directories (KEK, .env, TLS) stored in the same bundle; one path a line.",
  },
  {
    name: 'pg-bin-dir',
    kind: 'string',
    commands: ['backup', 'verify', 'drill'],
    description:
      'Directory with pg_dump/pg_restore (and initdb/pg_ctl for provision: local) to use before PATH and /usr/lib/postgresql/<N>/bin.',
  },
  {
    name: 'docker-container',
    kind: 'string',
    commands: ['backup', 'drill'],
    description:
      "Run pg_dump (one postgres:// URL) or mongodump/mongorestore inside this container (docker exec), so the tool's version always matches the server.",
  },
  // verify
  {
    name: 'max-age',
    kind: 'duration',
    commands: V,
    description: 'RPO budget: fail when the newest bundle is older than this (e.g. 26h).',
  },
  {
    name: 'deep',
    kind: 'boolean',
    commands: V,
    default: 'false',
    description: 'Also inflate every data block to its end and count the rows in the dump.',
  },
  // drill
  {
    name: 'target-url',
    kind: 'list',
    commands: D,
    secret: true,
    description:
      'A scratch database to restore into (e.g. a service container). Never the source. One per engine, matched by scheme (postgres://, mongodb://) for a bundle with both.',
  },
  {
    name: 'ns-from',
    kind: 'list',
    commands: D,
    description: 'mongorestore --nsFrom patterns (e.g. app.*), paired line by line with ns-to.',
  },
  {
    name: 'ns-to',
    kind: 'list',
    commands: D,
    description: 'mongorestore --nsTo patterns (e.g. restored.*), paired line by line with ns-from.',
  },
  {
    name: 'provision',
    kind: 'string',
    commands: D,
    choices: ['local', 'docker'],
    description:
      'Create a throwaway PostgreSQL server instead of a postgres:// target-url: local (initdb/pg_ctl) or docker (image). A MongoDB component always needs a mongodb:// target-url.',
  },
  {
    name: 'pg-version',
    kind: 'int',
    commands: D,
    description:
      'Server major version for provision (e.g. 17 for a pre-upgrade drill); default: the newest found.',
  },
  {
    name: 'image',
    kind: 'string',
    commands: D,
    description: 'Docker image for provision: docker (default postgres:<pg-version or 16>).',
  },
  {
    name: 'clean',
    kind: 'boolean',
    commands: D,
    default: 'false',
    description: 'Allow restoring into a non-empty target-url database (its objects are dropped first).',
  },
  {
    name: 'tier',
    kind: 'string',
    commands: D,
    choices: ['full', 'schema', 'sample'],
    default: 'full',
    description:
      'full: everything; schema: schema only (fast PR checks); sample: schema plus the data of sample-tables.',
  },
  {
    name: 'sample-tables',
    kind: 'list',
    commands: D,
    description: 'Tables (schema.table) whose data the sample tier restores.',
  },
  {
    name: 'jobs',
    kind: 'int',
    commands: D,
    description:
      'Parallel pg_restore jobs and mongorestore --numParallelCollections; default: the number of cores.',
  },
  {
    name: 'no-owner',
    kind: 'boolean',
    commands: D,
    default: 'true',
    description: 'pg_restore --no-owner: objects belong to the restoring user.',
  },
  {
    name: 'no-acl',
    kind: 'boolean',
    commands: D,
    default: 'true',
    description: 'pg_restore --no-acl: skip GRANT/REVOKE.',
  },
  {
    name: 'create-roles',
    kind: 'boolean',
    commands: D,
    default: 'false',
    description:
      'Create the roles the dump names (as NOLOGIN) before restoring, so ownership and grants apply.',
  },
  {
    name: 'ignore-restore-errors',
    kind: 'list',
    commands: D,
    description:
      'pg_restore errors to tolerate, one a line: "<regex> # <reason>"; the reason is shown in the report.',
  },
  {
    name: 'migrate-command',
    kind: 'string',
    commands: D,
    description:
      "Shell command run after the restore (e.g. the PR's migrations), with DATABASE_URL and PG* set.",
  },
  {
    name: 'post-restore-sql',
    kind: 'list',
    commands: D,
    description: 'SQL statements (or @file.sql) run against the scratch database after the restore.',
  },
  {
    name: 'app-command',
    kind: 'string',
    commands: D,
    description:
      'Shell command that starts the app in the background, with DATABASE_URL, PG* and DBDRILL_SECRETS_DIR set.',
  },
  {
    name: 'app-cwd',
    kind: 'string',
    commands: D,
    description: 'Working directory of app-command and migrate-command; default: the current directory.',
  },
  {
    name: 'health-urls',
    kind: 'list',
    commands: D,
    description: 'Health checks, one a line: [METHOD] URL [expected status] [expected body substring].',
  },
  {
    name: 'health-checks',
    kind: 'string',
    commands: D,
    description: 'A YAML/JSON file of health checks with JSON-path expectations.',
  },
  {
    name: 'health-timeout',
    kind: 'duration',
    commands: D,
    default: '120s',
    description: 'How long the app may take to pass every health check.',
  },
  {
    name: 'compare-url',
    kind: 'list',
    commands: D,
    secret: true,
    description:
      'Production (read-only) to compare row/document counts with, within count-tolerance; one per engine, matched by scheme.',
  },
  {
    name: 'count-tolerance',
    kind: 'string',
    commands: D,
    default: '10%',
    description: 'Allowed drift against compare-url, as a percentage (10%) or a row count (500).',
  },
  {
    name: 'assert-sql',
    kind: 'list',
    commands: D,
    description: 'SQL queries that must return true (one a line), run against the restored database.',
  },
  {
    name: 'rto',
    kind: 'duration',
    commands: D,
    description: 'RTO budget: drill start until the app is healthy (e.g. 45m).',
  },
  {
    name: 'rpo',
    kind: 'duration',
    commands: D,
    description: "RPO budget: drill start minus the backup's end time (e.g. 26h).",
  },
  {
    name: 'report-dir',
    kind: 'string',
    commands: D,
    default: 'dbdrill-report',
    description: 'Where drill-report.json, drill-report.md and junit.xml are written.',
  },
  {
    name: 'keep-target',
    kind: 'boolean',
    commands: D,
    default: 'false',
    description: 'Leave a provisioned server running after the drill (for debugging); never on cancel.',
  },
  // encryption, the KEK pairing check, secrets for the drill's app (issue 5)
  ...SECURITY_OPTION_SPECS,
  // S3 and artifact store settings, retention and prune (issue 4)
  ...STORE_OPTION_SPECS,
  // pg_dump format, compression and jobs
  ...DUMP_FORMAT_OPTION_SPECS,
];

export type RawOptions = Record<string, string | string[] | undefined>;

export function specsFor(command: Command): OptionSpec[] {
  return OPTION_SPECS.filter((s) => s.commands.includes(command));
}

function specOf(name: string): OptionSpec {
  const spec = OPTION_SPECS.find((s) => s.name === name);
  if (!spec) throw new Error(`internal: no option spec named ${name}`);
  return spec;
}

/** Typed access to raw options, applying defaults and validation in one place. */
export class OptionReader {
  constructor(
    private readonly raw: RawOptions,
    /** How an input is named in messages: `--x` on the CLI, `x` in actions. */
    private readonly label: (name: string) => string = (n) => n,
  ) {}

  name(name: string): string {
    return this.label(name);
  }

  private first(name: string): string | undefined {
    const v = this.raw[name];
    const s = Array.isArray(v) ? v[v.length - 1] : v;
    const trimmed = s?.trim();
    if (trimmed) return trimmed;
    const def = specOf(name).default;
    return def;
  }

  string(name: string): string | undefined {
    const value = this.first(name);
    const spec = specOf(name);
    if (value !== undefined && spec.choices && !spec.choices.includes(value)) {
      throw new ConfigError(
        `${this.label(name)} "${value}" is not valid; expected one of: ${spec.choices.join(', ')}`,
      );
    }
    return value;
  }

  required(name: string, hint: string): string {
    const v = this.string(name);
    if (!v) throw new ConfigError(`${this.label(name)} is required: ${hint}`);
    return v;
  }

  boolean(name: string): boolean {
    const v = this.first(name);
    if (v === undefined) return false;
    const t = v.toLowerCase();
    if (['true', 'yes', '1', 'on'].includes(t)) return true;
    if (['false', 'no', '0', 'off'].includes(t)) return false;
    throw new ConfigError(`${this.label(name)} "${v}" is not a boolean; expected true or false`);
  }

  int(name: string, min = 1, max = 1_000_000): number | undefined {
    const v = this.first(name);
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) {
      throw new ConfigError(
        `${this.label(name)} "${v}" is not valid; expected a whole number from ${min} to ${max}`,
      );
    }
    return Number(v);
  }

  duration(name: string): number | undefined {
    const v = this.first(name);
    return v === undefined ? undefined : parseDuration(v, this.label(name));
  }

  /** Multiline inputs and repeatable flags: one item a line; blank lines and `#` comment lines dropped. */
  list(name: string): string[] {
    const v = this.raw[name];
    const values = v === undefined ? [] : Array.isArray(v) ? v : [v];
    return values
      .flatMap((s) => s.split(/\r?\n/))
      .map((s) => s.trim())
      .filter((s) => s && !s.startsWith('#'));
  }
}

export type Engine = 'postgres' | 'mongodb';

export function engineFromUrl(url: string, input: string): Engine {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme === 'postgres' || scheme === 'postgresql') return 'postgres';
  if (scheme === 'mongodb' || scheme === 'mongodb+srv') return 'mongodb';
  throw new ConfigError(
    `${input} must be a URL starting with postgres://, postgresql://, mongodb:// or mongodb+srv:// (got "${scheme ? scheme + '://…' : 'no scheme'}")`,
  );
}

export interface BackupOptions extends BackupSecurityOptions, Partial<DumpFormatOptions> {
  engine: Engine;
  databaseUrl: string;
  store: string;
  name: string;
  secretFiles: string[];
  pgBinDir?: string;
  dockerContainer?: string;
  /** Every database-url with its engine (engine/databaseUrl above are the first). */
  databases?: { engine: Engine; url: string }[];
  mongoBinDir?: string;
  maxSkewSeconds?: number;
}

export function parseBackupOptions(o: OptionReader): BackupOptions {
  const urls = o.list('database-url');
  const databaseUrl = urls[0] ?? o.required('database-url', 'the connection URL of the database to back up');
  const databases = urls.map((url) => ({ engine: engineFromUrl(url, o.name('database-url')), url }));
  if (urls.length > 1 && o.string('engine')) {
    throw new ConfigError(
      `${o.name('engine')} only applies with one ${o.name('database-url')}; with ${urls.length} URLs each engine comes from its URL scheme, so remove ${o.name('engine')}`,
    );
  }
  const detected = engineFromUrl(databaseUrl, o.name('database-url'));
  const engine = (o.string('engine') as Engine | undefined) ?? detected;
  if (engine !== detected) {
    throw new ConfigError(
      `${o.name('engine')} is "${engine}" but ${o.name('database-url')} is a ${detected} URL; remove ${o.name('engine')} or fix the URL`,
    );
  }
  const store = o.required(
    'store',
    'where to put the bundle: a directory, file:///dir or s3://bucket/prefix',
  );
  const name = validateName(
    o.required('name', 'a short label for this database, e.g. "shop"'),
    o.name('name'),
  );
  const secretFiles = o.list('secret-files').map((p) => resolve(p));
  for (const file of secretFiles) {
    if (!existsSync(file)) {
      throw new ConfigError(
        `${o.name('secret-files')}: "${file}" does not exist; list the app's secret files (KEK, .env, TLS) that must be restorable with the data`,
      );
    }
  }
  const pgBinDir = o.string('pg-bin-dir');
  checkDir(pgBinDir, o.name('pg-bin-dir'));
  return {
    engine,
    databaseUrl,
    store,
    name,
    secretFiles,
    pgBinDir,
    dockerContainer: o.string('docker-container'),
    ...parseBackupSecurity(o),
    databases,
    mongoBinDir: checkedDir(o, 'mongo-bin-dir', 'mongodump/mongorestore'),
    maxSkewSeconds: o.duration('max-skew'),
    ...parseDumpFormat(o),
  };
}

function checkedDir(o: OptionReader, input: string, holding: string): string | undefined {
  const dir = o.string(input);
  if (dir && !(existsSync(dir) && statSync(dir).isDirectory())) {
    throw new ConfigError(
      `${o.name(input)} "${dir}" is not a directory; point it at the directory holding ${holding}`,
    );
  }
  return dir;
}

function checkDir(dir: string | undefined, input: string): void {
  if (dir && !(existsSync(dir) && statSync(dir).isDirectory())) {
    throw new ConfigError(
      `${input} "${dir}" is not a directory; point it at the directory holding pg_dump/pg_restore`,
    );
  }
}

export interface BundleSelection {
  bundle?: string;
  store?: string;
  name?: string;
}

function parseSelection(o: OptionReader): BundleSelection {
  const bundle = o.string('bundle');
  const store = o.string('store');
  const nameRaw = o.string('name');
  if (bundle) return { bundle };
  if (!store || !nameRaw) {
    throw new ConfigError(
      `which bundle? set ${o.name('bundle')} (a bundle file or URI), or ${o.name('store')} and ${o.name('name')} to use the newest bundle of that name`,
    );
  }
  return { store, name: validateName(nameRaw, o.name('name')) };
}

export interface VerifyOptions extends BundleSelection, DecryptSecurityOptions {
  maxAgeSeconds?: number;
  deep: boolean;
  pgBinDir?: string;
}

export function parseVerifyOptions(o: OptionReader): VerifyOptions {
  const pgBinDir = o.string('pg-bin-dir');
  checkDir(pgBinDir, o.name('pg-bin-dir'));
  return {
    ...parseSelection(o),
    maxAgeSeconds: o.duration('max-age'),
    deep: o.boolean('deep'),
    pgBinDir,
    ...parseDecryptSecurity(o),
  };
}

export interface IgnorePattern {
  pattern: RegExp;
  source: string;
  reason: string;
}

export interface DrillOptions extends BundleSelection, DrillSecurityOptions {
  /** The postgres:// target-url. */
  targetUrl?: string;
  /** The mongodb:// target-url. */
  mongoTargetUrl?: string;
  /** ns-from/ns-to pairs for mongorestore. */
  nsRenames?: { from: string; to: string }[];
  mongoBinDir?: string;
  dockerContainer?: string;
  /** The mongodb:// compare-url. */
  mongoCompareUrl?: string;
  provision?: 'local' | 'docker';
  pgVersion?: number;
  image?: string;
  pgBinDir?: string;
  clean: boolean;
  tier: 'full' | 'schema' | 'sample';
  sampleTables: string[];
  jobs?: number;
  noOwner: boolean;
  noAcl: boolean;
  createRoles: boolean;
  ignoreRestoreErrors: IgnorePattern[];
  migrateCommand?: string;
  postRestoreSql: string[];
  appCommand?: string;
  appCwd?: string;
  healthUrls: string[];
  healthChecksFile?: string;
  healthTimeoutSeconds: number;
  compareUrl?: string;
  countTolerance: { percent?: number; rows?: number };
  assertSql: string[];
  rtoSeconds?: number;
  rpoSeconds?: number;
  reportDir: string;
  keepTarget: boolean;
}

export function parseDrillOptions(o: OptionReader): DrillOptions {
  const selection = parseSelection(o);
  const targets = byEngine(o.list('target-url'), o.name('target-url'));
  const targetUrl = targets.postgres;
  const mongoTargetUrl = targets.mongodb;
  const provision = o.string('provision') as DrillOptions['provision'];
  if (targetUrl && provision) {
    throw new ConfigError(
      `${o.name('target-url')} and ${o.name('provision')} both given; use one: a database you provide, or one dbdrill creates`,
    );
  }
  if (!targetUrl && !mongoTargetUrl && !provision) {
    throw new ConfigError(
      `where should the drill restore? set ${o.name('target-url')} (a scratch database) or ${o.name('provision')}: local`,
    );
  }
  const tier = o.string('tier') as DrillOptions['tier'];
  const sampleTables = o.list('sample-tables');
  if (tier === 'sample' && sampleTables.length === 0) {
    throw new ConfigError(
      `${o.name('tier')} "sample" needs ${o.name('sample-tables')}: the tables (schema.table) whose data to restore`,
    );
  }
  const healthChecksFile = o.string('health-checks');
  if (healthChecksFile && !existsSync(healthChecksFile)) {
    throw new ConfigError(
      `${o.name('health-checks')} "${healthChecksFile}" does not exist; give a YAML or JSON file`,
    );
  }
  const pgBinDir = o.string('pg-bin-dir');
  checkDir(pgBinDir, o.name('pg-bin-dir'));
  const healthUrls = o.list('health-urls');
  const appCommand = o.string('app-command');
  // Health checks without app-command are allowed: they may probe an app dbdrill did not start.
  const compares = byEngine(o.list('compare-url'), o.name('compare-url'));
  const compareUrl = compares.postgres;
  const nsFrom = o.list('ns-from');
  const nsTo = o.list('ns-to');
  if (nsFrom.length !== nsTo.length) {
    throw new ConfigError(
      `${o.name('ns-from')} has ${nsFrom.length} pattern(s) and ${o.name('ns-to')} ${nsTo.length}; give them in pairs, line by line (e.g. app.* and restored.*)`,
    );
  }
  return {
    ...selection,
    targetUrl,
    mongoTargetUrl,
    nsRenames: nsFrom.map((from, i) => ({ from, to: nsTo[i] })),
    mongoBinDir: checkedDir(o, 'mongo-bin-dir', 'mongodump/mongorestore'),
    dockerContainer: o.string('docker-container'),
    mongoCompareUrl: compares.mongodb,
    provision,
    pgVersion: o.int('pg-version', 10, 99),
    image: o.string('image'),
    pgBinDir,
    clean: o.boolean('clean'),
    tier,
    sampleTables,
    jobs: o.int('jobs', 1, 256),
    noOwner: o.boolean('no-owner'),
    noAcl: o.boolean('no-acl'),
    createRoles: o.boolean('create-roles'),
    ignoreRestoreErrors: o
      .list('ignore-restore-errors')
      .map((line) => parseIgnore(line, o.name('ignore-restore-errors'))),
    migrateCommand: o.string('migrate-command'),
    postRestoreSql: o.list('post-restore-sql'),
    appCommand,
    appCwd: o.string('app-cwd'),
    healthUrls,
    healthChecksFile,
    healthTimeoutSeconds: o.duration('health-timeout') ?? 120,
    compareUrl,
    countTolerance: parseTolerance(o.string('count-tolerance') ?? '10%', o.name('count-tolerance')),
    assertSql: o.list('assert-sql'),
    rtoSeconds: o.duration('rto'),
    rpoSeconds: o.duration('rpo'),
    reportDir: resolve(o.string('report-dir') ?? 'dbdrill-report'),
    keepTarget: o.boolean('keep-target'),
    ...parseDrillSecurity(o),
  };
}

/** One URL per engine, matched by scheme (target-url, compare-url). */
function byEngine(urls: string[], input: string): Partial<Record<Engine, string>> {
  const out: Partial<Record<Engine, string>> = {};
  for (const url of urls) {
    const engine = engineFromUrl(url, input);
    if (out[engine]) {
      throw new ConfigError(
        `${input} has two ${engine} URLs; give at most one per engine (postgres://, mongodb://)`,
      );
    }
    out[engine] = url;
  }
  return out;
}

function parseIgnore(line: string, input: string): IgnorePattern {
  const hash = line.indexOf(' # ');
  const source = (hash >= 0 ? line.slice(0, hash) : line).trim();
  const reason = hash >= 0 ? line.slice(hash + 3).trim() : '';
  if (!reason) {
    throw new ConfigError(
      `${input} "${line}" has no reason; write "<pattern> # <why this error is acceptable>" so the report can show it`,
    );
  }
  try {
    return { pattern: new RegExp(source, 'i'), source, reason };
  } catch (e) {
    throw new ConfigError(`${input} "${source}" is not a valid regular expression: ${(e as Error).message}`);
  }
}

function parseTolerance(value: string, input: string): { percent?: number; rows?: number } {
  const pct = /^(\d+(?:\.\d+)?)\s*%$/.exec(value);
  if (pct) return { percent: Number(pct[1]) };
  if (/^\d+$/.test(value)) return { rows: Number(value) };
  throw new ConfigError(
    `${input} "${value}" is not valid; expected a percentage like 10% or a row count like 500`,
  );
}

export interface ListOptions {
  store: string;
  name: string;
}

export function parseListOptions(o: OptionReader): ListOptions {
  return {
    store: o.required('store', 'the store to list: a directory, file:///dir or s3://bucket/prefix'),
    name: validateName(o.required('name', 'the bundle name to list'), o.name('name')),
  };
}
