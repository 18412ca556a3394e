/**
 * The PostgreSQL half of a restore drill: which dump, a scratch server for it (refusing the
 * source and non-empty databases), pg_restore with every error judged, post-restore SQL, and the
 * structure and data checks afterwards. Mirrors `engines/mongodb/drill.ts`.
 */
import type { PostgresComponent } from '../../bundle/manifest.js';
import { CheckFailed, ConfigError, messageOf } from '../../errors.js';
import type { IgnorePattern, SqlScript } from '../../options/index.js';
import type { DrillTarget } from '../../report/model.js';
import type { Engine, EngineDrill, EngineDrillContext, ScratchTarget } from '../engine.js';
import { connectPg, libpqEnv, parsePgUrl } from './connection.js';
import { checkRestoredPostgres, type PostgresCheckOptions, type RestoredDump } from './drill-checks.js';
import { restorePostgres } from './restore.js';
import { refuseUnsafeTarget } from './target-safety.js';

export interface PostgresDrillOptions extends PostgresCheckOptions {
  /** The postgres:// target-url. */
  targetUrl?: string;
  provision?: 'local' | 'docker';
  pgBinDir?: string;
  clean: boolean;
  jobs?: number;
  noOwner: boolean;
  noAcl: boolean;
  createRoles: boolean;
  ignoreRestoreErrors: IgnorePattern[];
}

export const postgresEngine: Engine<PostgresDrillOptions> = {
  name: 'postgres',
  planDrill(bundle, options, context) {
    const component = bundle.manifest?.components.find(
      (c): c is PostgresComponent => c.engine === 'postgres',
    );
    const hasDump = !!component || (!bundle.manifest && !!bundle.pgDump);
    if (!hasDump) return undefined;
    const label = context.deps.label ?? ((n: string) => n);
    if (!options.targetUrl && !options.provision) {
      throw new ConfigError(
        `this bundle holds a PostgreSQL dump: add a postgres:// ${label('target-url')} next to the mongodb:// one, or ${label('provision')}: local`,
      );
    }
    const dumpPath = bundle.extracted?.[component?.member ?? 'postgres.dump'];
    if (!dumpPath || !bundle.pgDump) throw new CheckFailed('the bundle holds no PostgreSQL dump to restore');
    if (!bundle.manifest) {
      context.ledger.report.notes.push(
        'bare pg_dump file (no dbdrill manifest): member checksums, secret files and the snapshot row counts do not apply; rows are compared with the COPY data in the dump itself',
      );
    }
    return new PostgresDrill(
      { component, dump: bundle.pgDump, toc: bundle.pgDump.report.toc, dumpPath },
      options,
      context,
    );
  },
};

class PostgresDrill implements EngineDrill {
  readonly engine = 'postgres';
  private target: ScratchTarget | undefined;

  constructor(
    private readonly plan: RestoredDump & { dumpPath: string },
    private readonly options: PostgresDrillOptions,
    private readonly context: EngineDrillContext,
  ) {}

  async prepareTarget(announce: (target: DrillTarget) => void): Promise<void> {
    const { component, dump } = this.plan;
    const t = await this.context.deps.provisionPostgres({
      database: component?.database ?? dump.database ?? 'drill',
      sourceMajor: component
        ? Math.floor(component.serverVersionNum / 10000)
        : leadingNumber(dump.serverVersion),
    });
    this.target = t;
    announce({ kind: t.kind, display: t.display });
    const serverVersion = await refuseUnsafeTarget(t.url, component, this.options.clean, {
      logger: this.context.deps.logger,
      notes: this.context.ledger.report.notes,
    });
    announce({ kind: t.kind, display: t.display, serverVersion });
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
      toc: this.plan.toc,
      tier: o.tier,
      sampleTables: o.sampleTables,
      jobs: o.jobs,
      noOwner: o.noOwner,
      noAcl: o.noAcl,
      createRoles: o.createRoles,
      extraRoles: this.plan.component?.roles,
      ignore: o.ignoreRestoreErrors,
      pgBinDir: o.pgBinDir,
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
          ? `${out.tool}, ${out.jobs} job(s), tier ${o.tier}${ignored ? `, ${ignored} error(s) ignored by ignore-restore-errors` : ', no errors'}`
          : `${out.unignored} pg_restore error(s) not covered by ignore-restore-errors; first: ${out.errors.find((e) => !e.ignored)?.message}`,
    });
    if (out.sequentialBecausePiped) {
      ledger.report.notes.push(
        'the dump was written to a pipe (no data offsets), so pg_restore ran with 1 job instead of --jobs',
      );
    }
    if (out.rolesCreated.length)
      ledger.report.notes.push(`created roles before restoring: ${out.rolesCreated.join(', ')}`);
    if (out.unignored > 0)
      throw new CheckFailed(`pg_restore reported ${out.unignored} error(s); see the report`);
  }

  /** Each statement is one check; the first that fails stops the drill (later ones may depend on it). */
  async runSql(scripts: SqlScript[]): Promise<void> {
    const client = await connectPg(this.prepared().url, 'target-url');
    try {
      for (const { label, sql } of scripts) {
        const name = `post-restore-sql: ${label.slice(0, 60)}`;
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
    return checkRestoredPostgres(this.prepared().url, this.plan, this.options, this.context.ledger);
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
