/**
 * One database engine's part in a use case, so the use cases loop over the engines a bundle
 * holds instead of branching on each. Today that is the drill; `dump` and `inspect` can join
 * `planDrill` here when backup and verify move onto engines, without the drill changing.
 *
 * Nothing here imports an engine: each engine imports this file, and `registry.ts` lists them.
 */
import type { DatabaseLocale, Manifest } from '../bundle/manifest.js';
import type { Logger } from '../logger.js';
import type { ProcessRunner } from '../process.js';
import type { DrillCheck, DrillReport, DrillTarget } from '../report/model.js';
import type { SqlScript } from '../options/drill-options.js';
import type { MongoArchiveSummary } from './mongodb/inspect.js';
import type { MongoToolDownloader } from './mongodb/mongo-tools.js';
import type { PgDumpReport } from './postgres/pgdump-reader.js';

export type EngineName = 'postgres' | 'mongodb';

/**
 * What bundle inspection proved, as far as the engines read it. Declared here, not imported
 * from the inspection, so engines never depend on the use cases that call them; the inspection's
 * result satisfies it as it is.
 */
export interface VerifiedBundle {
  /** Absent for a bare dump file from another tool. */
  manifest?: Manifest;
  pgDump?: {
    member: string;
    archiveVersion: string;
    database: string;
    serverVersion: string;
    /** schema.table -> rows counted in the dump's own COPY data (bare dumps only). */
    rows?: Record<string, number>;
    report: PgDumpReport;
  };
  mongo?: MongoArchiveSummary[];
  /** Member path -> the local file it was extracted to. */
  extracted?: Record<string, string>;
}

/**
 * A scratch database a drill restores into. Whatever dbdrill created, `teardown` removes;
 * a target the user gave has a teardown that does nothing.
 */
export interface ScratchTarget {
  kind: 'url' | 'local' | 'docker';
  url: string;
  display: string;
  /** Variables the target's clients need (e.g. PGHOST/PGPORT of a throwaway cluster). */
  env: NodeJS.ProcessEnv;
  teardown(): Promise<void>;
}

/** What a PostgreSQL drill asks of provisioning: a server for this database, ideally of this major. */
export interface PostgresTargetRequest {
  database: string;
  /** The backup source's major: the server a throwaway cluster defaults to. */
  sourceMajor?: number;
  /** The source database's encoding and locale: a throwaway database is created with them. */
  locale?: DatabaseLocale;
}

/**
 * Ports an engine's drill uses. Provisioning is passed in (not imported) because provisioning
 * uses the engines' connection and tool lookup; the dependency points one way.
 */
export interface EngineDrillDeps {
  runner: ProcessRunner;
  logger: Logger;
  signal?: AbortSignal;
  /** The input's name as the user typed it (`--target-url` on the CLI, `target-url` in an action). */
  label?: (input: string) => string;
  searchRoots?: string[];
  mongoToolDownloader?: MongoToolDownloader;
  provisionPostgres: (request: PostgresTargetRequest) => Promise<ScratchTarget>;
}

/** Where an engine's drill records what it finds: the report the drill writes. */
export interface DrillLedger {
  report: DrillReport;
  /** Records one check; any check that is not ok fails the drill. */
  check(c: DrillCheck): void;
}

export interface EngineDrillContext {
  deps: EngineDrillDeps;
  ledger: DrillLedger;
  /** The drill's private work directory (0700), removed when the drill ends. */
  workDir: string;
}

/**
 * One engine's half of one drill. The drill calls the steps in this order, each inside its own
 * timed phase, and always calls `teardown`, whichever step threw.
 */
export interface EngineDrill {
  readonly engine: EngineName;
  /**
   * Creates or adopts the scratch target and refuses the restores that destroy data (into the
   * backup's own source; over a database that holds objects, unless the engine's clean applies).
   * `announce` is called as soon as the target exists, and again when more is known about it,
   * so a report of a refused drill still names the target it refused.
   */
  prepareTarget(announce: (target: DrillTarget) => void): Promise<void>;
  /** The prepared target's URL: DATABASE_URL for the app when this is the first engine, and what the KEK check reads. */
  targetUrl(): string;
  /** Variables that point the app and migrate-command at this engine's restored data. */
  appEnv(): NodeJS.ProcessEnv;
  restore(): Promise<void>;
  /** post-restore-sql; absent for an engine that takes no SQL. */
  runSql?(scripts: SqlScript[]): Promise<void>;
  /** Structure and data checks against the restored target, recorded in the ledger (not thrown). */
  checkRestored(): Promise<void>;
  /** Stops what the drill started; with keep, leaves it running and notes where. Never throws. */
  teardown(keep: boolean): Promise<void>;
}

export interface Engine<Options = unknown> {
  readonly name: EngineName;
  /**
   * This engine's half of a drill of `bundle`, or undefined when the bundle holds none of its
   * dumps. Throws ConfigError when it holds one and the options give it nowhere to go.
   */
  planDrill(bundle: VerifiedBundle, options: Options, context: EngineDrillContext): EngineDrill | undefined;
}
