/**
 * The PostgreSQL half of a restore drill: which dump, a scratch server for it (refusing the
 * source and non-empty databases), pg_restore with every error judged, post-restore SQL, and the
 * structure and data checks afterwards. Mirrors `engines/mongodb/drill.ts`.
 */
import { basename } from 'node:path';

import type { PostgresComponent } from '../../bundle/manifest.js';
import { CheckFailed, ConfigError, messageOf } from '../../errors.js';
import type { IgnorePattern, SqlScript } from '../../options/index.js';
import type { PgClientChoice } from '../../options/tool-options.js';
import type { DrillTarget } from '../../report/model.js';
import type { EngineDrill, EngineDrillContext, ScratchTarget, VerifiedBundle } from '../engine.js';
import { connectPg, libpqEnv, parsePgUrl } from './connection.js';
import { checkRestoredPostgres, type PostgresCheckOptions, type RestoredDump } from './drill-checks.js';
import { restorePostgres } from './restore.js';
import { localeFromToc } from './database-locale.js';
import { displayOf, planSample, type TableName } from './sample-plan.js';
import { checkTargetLocale, localeMismatch, refuseUnsafeTarget } from './target-safety.js';

export interface PostgresDrillOptions extends PostgresCheckOptions {
  /**
   * Drill only this component of a bundle with several PostgreSQL dumps (a fleet member of a
   * one-recovery-point bundle); absent: the bundle's first PostgreSQL component.
   */
  component?: string;
  /** The postgres:// target-url. */
  targetUrl?: string;
  provision?: 'local' | 'docker';
  pgBinDir?: string;
  /** pg-client, pg-client-image: where pg_restore comes from. */
  pgClient?: PgClientChoice;
  clean: boolean;
  noOwner: boolean;
  noAcl: boolean;
  createRoles: boolean;
  keepTablespaces?: boolean;
  ignoreRestoreErrors: IgnorePattern[];
  /** The reason a target-url whose encoding/locale differs from the source's is accepted. */
  acceptLocaleMismatch?: string;
}

/** The PostgreSQL half of a drill of `bundle` (`Engine.planDrill`), or undefined when it holds no PostgreSQL dump. */
export function planPostgresDrill(
  bundle: VerifiedBundle,
  options: PostgresDrillOptions,
  context: EngineDrillContext,
): EngineDrill | undefined {
  const component = bundle.manifest?.components.find(
    (c): c is PostgresComponent =>
      c.engine === 'postgres' && (options.component === undefined || c.id === options.component),
  );
  if (options.component && !component) return undefined;
  const hasDump = !!component || (!bundle.manifest && !!bundle.pgDump);
  if (!hasDump) return undefined;
  const label = context.deps.label ?? ((n: string) => n);
  if (!options.targetUrl && !options.provision) {
    throw new ConfigError(
      `this bundle holds a PostgreSQL dump: add a postgres:// ${label('target-url')} next to the mongodb:// one, or ${label('provision')}: local`,
    );
  }
  const dumpPath = bundle.extracted?.[component?.member ?? 'postgres.dump'];
  // This component's own dump: with several PostgreSQL dumps, `pgDump` is only the last one read.
  const dump = (component && bundle.pgDumps?.[component.id]) || bundle.pgDump;
  if (!dumpPath || !dump) throw new CheckFailed('the bundle holds no PostgreSQL dump to restore');
  if (!bundle.manifest) {
    context.ledger.report.notes.push(
      'bare pg_dump file (no dbdrill manifest): member checksums, secret files and the snapshot row counts do not apply; rows are compared with the COPY data in the dump itself',
    );
  }
  const toc = dump.report.toc;
  // Resolved before any target exists: a misspelt table is a usage error, not a drill that
  // restores nothing and passes.
  let sample: TableName[] = [];
  let drillOptions = options;
  if (options.tier === 'sample') {
    const plan = planSample(toc, options.sampleTables, label('sample-tables'));
    sample = plan.tables;
    for (const r of plan.resolved) {
      const meant = r.tables.map(displayOf);
      if (meant.length !== 1 || meant[0] !== r.given)
        context.ledger.report.notes.push(
          `sample-tables "${r.given}" means ${meant.length ? meant.join(', ') : 'no table with rows in the dump'}`,
        );
    }
    drillOptions = { ...options, sampleTables: sample.map(displayOf) };
  }
  return new PostgresDrill({ component, dump, toc, dumpPath, sample }, drillOptions, context);
}

class PostgresDrill implements EngineDrill {
  readonly engine = 'postgres';
  private target: ScratchTarget | undefined;
  /** TOC entries the restore left out on purpose and reported: the structure check must not expect them. */
  private readonly leftOut = new Set<number>();

  constructor(
    private readonly plan: RestoredDump & { dumpPath: string; sample: TableName[] },
    private readonly options: PostgresDrillOptions,
    private readonly context: EngineDrillContext,
  ) {}

  async prepareTarget(announce: (target: DrillTarget) => void): Promise<void> {
    const { component, dump } = this.plan;
    const { ledger, deps } = this.context;
    const locale = component?.locale ?? localeFromToc(this.plan.toc);
    for (const t of component?.tables ?? [])
      if (t.kind === 'table' && t.rows === null && t.reason)
        ledger.report.notes.push(`${t.schema}.${t.name}: rows not compared (${t.reason})`);
    const t = await deps.provisionPostgres({
      database: component?.database ?? dump.database ?? 'drill',
      sourceMajor: component
        ? Math.floor(component.serverVersionNum / 10000)
        : leadingNumber(dump.serverVersion),
      locale,
    });
    this.target = t;
    announce({ kind: t.kind, display: t.display });
    const serverVersion = await refuseUnsafeTarget(t.url, component, this.options.clean, {
      logger: this.context.deps.logger,
      notes: this.context.ledger.report.notes,
    });
    announce({ kind: t.kind, display: t.display, serverVersion });
    const localeCheck = await checkTargetLocale(t.url, locale, this.options.acceptLocaleMismatch, {
      logger: deps.logger,
      notes: ledger.report.notes,
      label: deps.label ?? ((n: string) => n),
    });
    ledger.check(localeCheck);
    if (!localeCheck.ok) throw localeMismatch(localeCheck.detail);
  }

  targetUrl(): string {
    return this.prepared().url;
  }

  appEnv(): NodeJS.ProcessEnv {
    const t = this.prepared();
    return { ...libpqEnv(parsePgUrl(t.url, 'target-url')), ...t.env };
  }

  async restore(): Promise<void> {
    const { deps, ledger, workDir } = this.context;
    const o = this.options;
    const out = await restorePostgres(deps, {
      dumpPath: this.plan.dumpPath,
      targetUrl: this.prepared().url,
      archiveMinor: Number(this.plan.dump.archiveVersion.split('.')[1]),
      compression: this.plan.dump.compression,
      toc: this.plan.toc,
      tier: o.tier,
      sampleTables: this.plan.sample,
      jobs: o.jobs,
      noOwner: o.noOwner,
      noAcl: o.noAcl,
      createRoles: o.createRoles,
      keepTablespaces: o.keepTablespaces,
      extraRoles: this.plan.component?.roles,
      ignore: o.ignoreRestoreErrors,
      pgBinDir: o.pgBinDir,
      pgClient: o.pgClient,
      pgClientPorts: deps.pgClientPorts,
      dumpedMajor: Number(/^\d+/.exec(this.plan.dump.serverVersion)?.[0] ?? 0) || undefined,
      searchRoots: deps.searchRoots,
      workDir,
      signal: deps.signal,
    });
    ledger.report.restoreErrors = out.errors;
    for (const e of out.errors)
      deps.logger[e.ignored ? 'info' : 'warning'](
        `pg_restore: ${e.message}${e.ignored ? ` (ignored: ${e.reason})` : ''}`,
      );
    const ignored = out.errors.length - out.unignored;
    ledger.check({
      name: 'pg_restore',
      group: 'restore',
      ok: out.unignored === 0,
      detail:
        out.unignored === 0
          ? `${out.tool}, ${out.format} format, ${out.compression ?? 'compression unknown'}, ${out.jobs} job(s), tier ${o.tier}${ignored ? `, ${ignored} error(s) ignored by ignore-restore-errors` : ', no errors'}`
          : `${out.unignored} pg_restore error(s) not covered by ignore-restore-errors; first: ${out.errors.find((e) => !e.ignored)?.message}`,
    });
    if (out.sequentialBecausePiped) {
      ledger.report.notes.push(
        'the dump was written to a pipe (no data offsets), so pg_restore ran with 1 job instead of --jobs',
      );
    }
    if (out.rolesCreated.length)
      ledger.report.notes.push(`created roles before restoring: ${out.rolesCreated.join(', ')}`);
    else if (o.createRoles)
      ledger.report.notes.push('create-roles: every role the restore needs already existed');
    if (!o.keepTablespaces && this.plan.toc.some((e) => e.tablespace))
      ledger.report.notes.push(
        `restored without tablespaces (everything in the target's default tablespace); the dump names: ${[...new Set(this.plan.toc.map((e) => e.tablespace).filter(Boolean))].sort().join(', ')}; keep-tablespaces restores into them`,
      );
    if (out.notValidForeignKeys.length)
      ledger.report.notes.push(
        `sample tier: foreign key(s) into tables whose rows were not sampled were added NOT VALID: ${out.notValidForeignKeys.join('; ')}`,
      );
    for (const d of out.droppedForeignKeys) this.leftOut.add(d.dumpId);
    for (const d of out.droppedForeignKeys)
      ledger.report.notes.push(
        `sample tier: foreign key ${d.name} left out (even NOT VALID was refused: ${d.reason})`,
      );
    if (out.unignored > 0)
      throw new CheckFailed(`pg_restore reported ${out.unignored} error(s); see the report`);
  }

  /** Each statement is one check; the first that fails stops the drill (later ones may depend on it). */
  async runSql(scripts: SqlScript[]): Promise<void> {
    const client = await connectPg(this.prepared().url, 'target-url');
    try {
      for (const { label, sql } of scripts) {
        // a file is named by its file name (the path's tail), inline SQL by its first words
        const name = `post-restore-sql: ${label === sql ? sql.slice(0, 60) : basename(label)}`;
        try {
          await client.query(sql);
          this.context.ledger.check({ name, group: 'migrate', ok: true });
        } catch (err) {
          this.context.ledger.check({ name, group: 'migrate', ok: false, detail: messageOf(err) });
          throw new CheckFailed(`post-restore-sql failed: ${messageOf(err)}`);
        }
      }
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  checkRestored(): Promise<void> {
    return checkRestoredPostgres(
      this.prepared().url,
      this.plan,
      { ...this.options, leftOut: this.leftOut },
      this.context.ledger,
    );
  }

  async teardown(keep: boolean): Promise<void> {
    const t = this.target;
    if (!t) return;
    if (keep) {
      this.context.ledger.report.notes.push(
        `keep-target: the scratch database was left running at ${t.display}`,
      );
      return;
    }
    await t.teardown().catch((e) => this.context.deps.logger.warning(`teardown failed: ${messageOf(e)}`));
  }

  private prepared(): ScratchTarget {
    if (!this.target) throw new Error('the PostgreSQL target is used before it was prepared');
    return this.target;
  }
}

/** "15.8 (Debian ...)" -> 15; a bare dump records only the server's version text. */
function leadingNumber(version: string): number | undefined {
  const m = /^(\d+)/.exec(version);
  return m ? Number(m[1]) : undefined;
}
