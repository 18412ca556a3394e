/**
 * The drill command: where to restore, how, what to run and check afterwards, and the budgets.
 * Everything a drill will use is parsed here, files included (health-checks, post-restore-sql's
 * @file.sql), so a typo fails at once with exit 2, not after a restore that took an hour.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

import {
  healthChecksFromText,
  parseHealthUrls,
  unreadableHealthChecks,
  type HealthCheck,
} from '../checks/health.js';
import { loadedYaml } from '../checks/yaml.js';
import { ConfigError } from '../errors.js';
import { byEngine } from './database-urls.js';
import { parseDrillSecurity, type DrillSecurityOptions } from './encryption-options.js';
import { parseSelection, type BundleSelection } from './location-options.js';
import {
  parseRestoreFidelity,
  RESTORE_FIDELITY_OPTION_SPECS,
  type RestoreFidelityOptions,
} from './restore-fidelity-options.js';
import type { Command, OptionSource, OptionSpec } from './spec.js';
import { parseTargetLocaleOptions, type TargetLocaleOptions } from './target-locale-options.js';
import {
  existingDir,
  parseMongoBinDir,
  parsePgBinDir,
  parsePgClient,
  type PgClientChoice,
} from './tool-options.js';

const DRILL: Command[] = ['drill'];

export const DRILL_OPTION_SPECS: OptionSpec[] = [
  {
    name: 'target-url',
    kind: 'list',
    commands: DRILL,
    secret: true,
    description:
      'A scratch database to restore into (e.g. a service container). Never the source. One per engine, matched by scheme (postgres://, mongodb://) for a bundle with both.',
  },
  {
    name: 'ns-from',
    kind: 'list',
    commands: DRILL,
    description: 'mongorestore --nsFrom patterns (e.g. app.*), paired line by line with ns-to.',
  },
  {
    name: 'ns-to',
    kind: 'list',
    commands: DRILL,
    description: 'mongorestore --nsTo patterns (e.g. restored.*), paired line by line with ns-from.',
  },
  {
    name: 'provision',
    kind: 'string',
    commands: DRILL,
    choices: ['local', 'docker'],
    description:
      'Create a throwaway PostgreSQL server instead of a postgres:// target-url: local (initdb/pg_ctl) or docker (image). A MongoDB component always needs a mongodb:// target-url.',
  },
  {
    name: 'pg-version',
    kind: 'int',
    commands: DRILL,
    description:
      "Server major version for provision (e.g. 17 for a pre-upgrade drill); default: the source's major (provision: local takes the nearest newer installed major when that one is missing).",
  },
  {
    name: 'image',
    kind: 'string',
    commands: DRILL,
    description:
      "Docker image for provision: docker (default postgres:<pg-version>, else postgres:<the source's major>).",
  },
  {
    name: 'clean',
    kind: 'boolean',
    commands: DRILL,
    default: 'false',
    description: 'Allow restoring into a non-empty target-url database (its objects are dropped first).',
  },
  {
    name: 'tier',
    kind: 'string',
    commands: DRILL,
    choices: ['full', 'schema', 'sample'],
    default: 'full',
    description:
      'full: everything; schema: schema only (fast PR checks); sample: schema plus the data of sample-tables.',
  },
  {
    name: 'sample-tables',
    kind: 'list',
    commands: DRILL,
    description: 'Tables (schema.table) whose data the sample tier restores.',
  },
  {
    name: 'jobs',
    kind: 'int',
    commands: DRILL,
    description:
      'Parallel pg_restore jobs and mongorestore --numParallelCollections; default: the number of cores.',
  },
  {
    name: 'no-owner',
    kind: 'boolean',
    commands: DRILL,
    default: 'true',
    description:
      'pg_restore --no-owner: objects belong to the restoring user. false: objects keep their owners (with create-roles, the owners are created).',
  },
  {
    name: 'no-acl',
    kind: 'boolean',
    commands: DRILL,
    default: 'true',
    description:
      'pg_restore --no-acl: skip GRANT/REVOKE and ALTER DEFAULT PRIVILEGES. false: privileges are restored (with create-roles, the grantees are created).',
  },
  {
    name: 'create-roles',
    kind: 'boolean',
    commands: DRILL,
    default: 'false',
    description:
      'Create the roles the restore needs (NOLOGIN, no passwords) before restoring: policy roles always, owners with no-owner false, grantees and default-privilege roles with no-acl false. The report lists them.',
  },
  // tablespaces and the sample tier: how a scratch target differs from production
  ...RESTORE_FIDELITY_OPTION_SPECS,
  {
    name: 'ignore-restore-errors',
    kind: 'list',
    commands: DRILL,
    description:
      'pg_restore errors to tolerate, one a line: "<regex> # <reason>"; the reason is shown in the report.',
  },
  {
    name: 'migrate-command',
    kind: 'string',
    commands: DRILL,
    description:
      "Shell command run after the restore (e.g. the PR's migrations), with DATABASE_URL and PG* set.",
  },
  {
    name: 'post-restore-sql',
    kind: 'list',
    commands: DRILL,
    description:
      'SQL statements run against the scratch database after the restore; @file.sql reads a file, @dir every *.sql file in it (by name).',
  },
  {
    name: 'app-command',
    kind: 'string',
    commands: DRILL,
    description:
      'Shell command that starts the app in the background, with DATABASE_URL, PG* and DBDRILL_SECRETS_DIR set.',
  },
  {
    name: 'app-cwd',
    kind: 'string',
    commands: DRILL,
    description: 'Working directory of app-command and migrate-command; default: the current directory.',
  },
  {
    name: 'health-urls',
    kind: 'list',
    commands: DRILL,
    description: 'Health checks, one a line: [METHOD] URL [expected status] [expected body substring].',
  },
  {
    name: 'health-checks',
    kind: 'string',
    commands: DRILL,
    description: 'A YAML/JSON file of health checks with JSON-path expectations.',
  },
  {
    name: 'health-timeout',
    kind: 'duration',
    commands: DRILL,
    default: '120s',
    description: 'How long the app may take to pass every health check.',
  },
  {
    name: 'compare-url',
    kind: 'list',
    commands: DRILL,
    secret: true,
    description:
      'Production (read-only) to compare row/document counts with, within count-tolerance; one per engine, matched by scheme.',
  },
  {
    name: 'count-tolerance',
    kind: 'string',
    commands: DRILL,
    default: '10%',
    description: 'Allowed drift against compare-url, as a percentage (10%) or a row count (500).',
  },
  {
    name: 'assert-sql',
    kind: 'list',
    commands: DRILL,
    description: 'SQL queries that must return true (one a line), run against the restored database.',
  },
  {
    name: 'rto',
    kind: 'duration',
    commands: DRILL,
    description: 'RTO budget: drill start until the app is healthy (e.g. 45m).',
  },
  {
    name: 'rpo',
    kind: 'duration',
    commands: DRILL,
    description: "RPO budget: drill start minus the backup's end time (e.g. 26h).",
  },
  {
    name: 'report-dir',
    kind: 'string',
    commands: DRILL,
    default: 'dbdrill-report',
    description: 'Where drill-report.json, drill-report.md and junit.xml are written.',
  },
  {
    name: 'keep-target',
    kind: 'boolean',
    commands: DRILL,
    default: 'false',
    description: 'Leave a provisioned server running after the drill (for debugging); never on cancel.',
  },
];

/** Inputs of the restore-drill action only: they publish the report through GitHub itself. */
export const REPORT_UPLOAD_OPTION_SPECS: OptionSpec[] = [
  {
    name: 'report-artifact-name',
    kind: 'string',
    commands: DRILL,
    actionOnly: true,
    default: 'dbdrill-drill-report',
    description:
      'Name of the workflow artifact the report directory is uploaded as, after a passed or a failed drill, when the step runs on GitHub (an upload error is a warning). Empty: the default name.',
  },
  {
    name: 'report-retention-days',
    kind: 'int',
    commands: DRILL,
    actionOnly: true,
    description: 'Days GitHub keeps the report artifact (1-90; default: the repository setting).',
  },
];

export interface IgnorePattern {
  pattern: RegExp;
  source: string;
  reason: string;
}

/** One post-restore SQL script: its text, and how the report names it (the statement, or its file). */
export interface SqlScript {
  label: string;
  sql: string;
}

export interface DrillOptions
  extends BundleSelection, DrillSecurityOptions, RestoreFidelityOptions, TargetLocaleOptions {
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
  /** pg-client, pg-client-image: where pg_restore comes from. */
  pgClient?: PgClientChoice;
  clean: boolean;
  tier: 'full' | 'schema' | 'sample';
  sampleTables: string[];
  jobs?: number;
  noOwner: boolean;
  noAcl: boolean;
  createRoles: boolean;
  ignoreRestoreErrors: IgnorePattern[];
  migrateCommand?: string;
  /** post-restore-sql with every @file and @dir read, in the order given. */
  postRestoreSql: SqlScript[];
  appCommand?: string;
  appCwd?: string;
  /** health-urls lines, then the checks of the health-checks file. */
  healthChecks: HealthCheck[];
  healthTimeoutSeconds: number;
  compareUrl?: string;
  countTolerance: { percent?: number; rows?: number };
  assertSql: string[];
  rtoSeconds?: number;
  rpoSeconds?: number;
  reportDir: string;
  keepTarget: boolean;
  /**
   * Not an option: a fleet drill of a one-recovery-point bundle drills one component (`postgres-2`)
   * per member. Absent: every engine's first component.
   */
  component?: string;
  /** Not an option: the name the drill history is kept under (a fleet member's); default `name`. */
  historyName?: string;
  /**
   * Not an option: drill this bundle of `name` in the store instead of the newest one. A fleet
   * drill of one recovery point resolves the newest joint bundle once and pins every member to it,
   * so a backup landing mid-drill cannot split the members across two recovery points.
   */
  bundleKey?: string;
}

export function parseDrillOptions(o: OptionSource): DrillOptions {
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
  const pgBinDir = parsePgBinDir(o);
  // Health checks without app-command are allowed: they may probe an app dbdrill did not start.
  const healthChecks = parseHealthChecks(o);
  const appCommand = o.string('app-command');
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
    mongoBinDir: parseMongoBinDir(o),
    dockerContainer: o.string('docker-container'),
    mongoCompareUrl: compares.mongodb,
    provision,
    pgVersion: o.int('pg-version', 10, 99),
    image: o.string('image'),
    pgBinDir,
    pgClient: parsePgClient(o),
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
    postRestoreSql: loadSqlScripts(o.list('post-restore-sql'), o.name('post-restore-sql')),
    appCommand,
    appCwd: existingDir(o, 'app-cwd', 'the app (app-command and migrate-command run there)'),
    healthChecks,
    healthTimeoutSeconds: o.duration('health-timeout') ?? 120,
    compareUrl,
    countTolerance: parseTolerance(o.string('count-tolerance') ?? '10%', o.name('count-tolerance')),
    assertSql: o.list('assert-sql'),
    rtoSeconds: o.duration('rto'),
    rpoSeconds: o.duration('rpo'),
    reportDir: resolve(o.string('report-dir') ?? 'dbdrill-report'),
    keepTarget: o.boolean('keep-target'),
    ...parseDrillSecurity(o),
    ...parseRestoreFidelity(o),
    ...parseTargetLocaleOptions(o),
  };
}

export interface ReportUploadOptions {
  /** The workflow artifact the report directory is uploaded as. */
  artifactName: string;
  /** Undefined: the repository's setting. */
  retentionDays?: number;
}

/** The restore-drill action's report-artifact-name and report-retention-days. */
export function parseReportUpload(o: OptionSource): ReportUploadOptions {
  return {
    artifactName: o.string('report-artifact-name') ?? 'dbdrill-drill-report',
    retentionDays: o.int('report-retention-days', 1, 90),
  };
}

function parseHealthChecks(o: OptionSource): HealthCheck[] {
  const checks = parseHealthUrls(o.list('health-urls'), o.name('health-urls'));
  const file = o.string('health-checks');
  if (file) checks.push(...readHealthChecksFile(file, o.name('health-checks')));
  return checks;
}

/** The health-checks file: YAML or JSON (YAML is a superset); its shape is checked by the health checks' own parser. */
function readHealthChecksFile(path: string, input: string): HealthCheck[] {
  if (!existsSync(path)) {
    throw new ConfigError(`${input} "${path}" does not exist; give a YAML or JSON file`);
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw unreadableHealthChecks(path, input, e);
  }
  return healthChecksFromText(text, path, input, loadedYaml());
}

/**
 * post-restore-sql items: a statement as given, `@file.sql` that file, `@dir` every `*.sql` in
 * it sorted by name (so numbered migrations run in order).
 */
function loadSqlScripts(items: string[], input: string): SqlScript[] {
  const out: SqlScript[] = [];
  for (const item of items) {
    if (!item.startsWith('@')) {
      out.push({ label: item, sql: item });
      continue;
    }
    const path = item.slice(1).trim();
    const info = path ? statSync(path, { throwIfNoEntry: false }) : undefined;
    if (!info) {
      throw new ConfigError(
        `${input} "${item}": ${path ? `"${path}" does not exist` : 'names no file'}; write @file.sql, @dir (its *.sql files) or the SQL itself`,
      );
    }
    const files = info.isDirectory()
      ? readdirSync(path)
          .filter((f) => f.endsWith('.sql'))
          .sort()
          .map((f) => join(path, f))
      : [path];
    if (files.length === 0) {
      throw new ConfigError(`${input} "${item}": the directory "${path}" holds no *.sql file`);
    }
    for (const file of files) {
      try {
        out.push({ label: file, sql: readFileSync(file, 'utf8') });
      } catch (e) {
        throw new ConfigError(
          `${input} "${item}": cannot read "${file}" (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
        );
      }
    }
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
