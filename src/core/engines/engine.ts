/**
 * One database engine's part in each use case, so the use cases loop over the engines (`ENGINES`
 * in `registry.ts`) instead of branching on their names: backup asks each database's engine to
 * `dump` it and to summarize the component it wrote; verify asks every engine whether it
 * recognises a bare dump by its first bytes, lets each claim the bundle members it reads, and
 * has it add its layers and summaries to the result; the drill asks each for its half of a drill
 * (`planDrill`). Adding an engine is a folder, a line in the registry and its name in the types
 * (`EngineName`, the manifest's components), not a branch in each use case.
 *
 * Nothing here imports an engine's behaviour: each engine imports this file, and `registry.ts`
 * lists them. What the engines fill in for verify is declared here (`InspectionFindings`), not
 * imported from the inspection, so the dependency points one way.
 */
import type { Writable } from 'node:stream';

import type { Component, DatabaseLocale, Manifest } from '../bundle/manifest.js';
import type { ByteInput } from '../bundle/stream-utils.js';
import type { TarEntry } from '../bundle/tar.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { ProcessRunner } from '../process.js';
import type { DrillCheck, DrillReport, DrillSource, DrillTarget } from '../report/model.js';
import type { BackupOptions } from '../options/backup-options.js';
import type { SqlScript } from '../options/drill-options.js';
import type { VerifyLayer } from '../verify-layer.js';
import type { MongoArchiveSummary } from './mongodb/inspect.js';
import type { MongoToolDownloader } from './mongodb/mongo-tools.js';
import type { PgDumpSummary } from './postgres/inspect.js';
import type { PgClientPorts } from './postgres/pg-client.js';
import type { PgClientChoice } from '../options/tool-options.js';
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
    /** As the dump's header states it, e.g. `gzip (level 1)`; the drill reports it. */
    compression?: string;
    database: string;
    serverVersion: string;
    /** schema.table -> rows counted in the dump's own COPY data (bare dumps only). */
    rows?: Record<string, number>;
    report: PgDumpReport;
  };
  /**
   * Each PostgreSQL component's own dump summary, by component id: a bundle with several
   * PostgreSQL dumps is checked against each dump's TOC, never the last one read (`pgDump`).
   */
  pgDumps?: Record<string, NonNullable<VerifiedBundle['pgDump']>>;
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
  pgClientPorts?: PgClientPorts;
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

/** The ports a dump uses. */
export interface EngineDumpDeps {
  runner: ProcessRunner;
  logger: Logger;
  clock: Clock;
  searchRoots?: string[];
  signal?: AbortSignal;
  mongoToolDownloader?: MongoToolDownloader;
  pgClientPorts?: PgClientPorts;
}

/** One database of a backup run, for its engine to dump. */
export interface EngineDumpRequest {
  databaseUrl: string;
  /** The component id, also the member's base name (`postgres`, `mongodb-2`). */
  id: string;
  /** The backup's private work directory: the dump is written here before it is packed. */
  workDir: string;
  /** The backup's options: each engine takes its tool directory, the dump format, docker-container. */
  options: BackupOptions;
  /**
   * How many databases this run dumps. With several, docker-container can name only one
   * engine's container, and each engine knows whether that is its own.
   */
  databaseCount: number;
  /** The input's name as the user typed it (`--database-url` on the CLI, `database-url` in an action). */
  label: (input: string) => string;
}

/** A dump written to the work dir (a file, or a directory of files) and the manifest component that describes it. */
export interface DumpedComponent {
  component: Component;
  dumpPath: string;
  /**
   * A directory dump's files hashed while the tool wrote them (file name -> sha256 and the size
   * and mtime it was taken at): the bundle is then packed without a second hash pass.
   */
  fileHashes?: ReadonlyMap<string, { sha256: string; size: number; mtimeMs: number }>;
}

/** One line of a backup's `components` output: what was dumped, from which server, with which tool. */
export interface ComponentSummary {
  id: string;
  engine: string;
  database: string;
  serverVersion: string;
  tool: string;
}

/**
 * What one component adds to the backup's totals (`tables`/`rows` for SQL engines,
 * `collections`/`documents` for document stores); a total an engine does not count stays 0.
 */
export type ComponentTotals = Partial<Record<'tables' | 'rows' | 'collections' | 'documents', number>>;

/** The ports inspection hands an engine. */
export interface EngineInspectDeps {
  runner: ProcessRunner;
  logger?: Logger;
  searchRoots?: string[];
  signal?: AbortSignal;
  pgClientPorts?: PgClientPorts;
}

export interface EngineInspectOptions {
  /** Inflate and count every data block / document, not only check the framing. */
  deep: boolean;
  /** Read a dump without a manifest deep anyway: its own rows are then the only counts. */
  deepForBareDumps?: boolean;
  pgBinDir?: string;
  /** pg-client, pg-client-image: where pg_restore --list comes from. */
  pgClient?: PgClientChoice;
}

/**
 * The part of verify's result the engines fill in: their layers, the dump summaries the drill
 * plans from, and, for a dump without a bundle around it, what kind of file it was. Declared
 * here rather than imported from the inspection; the inspection's result satisfies it as it is.
 */
export interface InspectionFindings {
  kind: 'bundle' | 'unknown' | `bare-${string}`;
  layers: VerifyLayer[];
  pgDump?: PgDumpSummary;
  /** Each PostgreSQL component's dump summary, by component id (a bundle may hold several). */
  pgDumps?: Record<string, PgDumpSummary>;
  mongo?: MongoArchiveSummary[];
}

/** What an engine is given to inspect one stored object's dumps. */
export interface EngineInspectContext {
  deps: EngineInspectDeps;
  options: EngineInspectOptions;
  findings: InspectionFindings;
  /** The file a member is copied to while it is read (the drill restores from it); undefined when verify does not extract. */
  extract(member: string): Promise<Writable | undefined>;
  /**
   * Notes where an extracted member folder (or an alias the drill looks up, such as a bare
   * dump's default member name) lies locally; does nothing when verify does not extract.
   */
  recordExtracted(key: string, member: string): void;
  /** The bundle as a local file with its members' byte spans: a deep read may open data members at their offsets, several at once. */
  seekable?: { path: string; members: ReadonlyMap<string, { offset: number; size: number }> };
}

/**
 * One engine's reading of one bundle's members, opened for each tar walk so that an engine can
 * keep state across members (a directory-format dump is many members, judged once all are read).
 * The manifest is passed with each call because the walk learns it as it goes (it is the first
 * member of a sound bundle); undefined means the tar has none (yet).
 */
export interface BundleMemberReader {
  /** True when this engine reads the member: by its manifest component, or without a manifest by its name. */
  claims(path: string, manifest: Manifest | undefined): boolean;
  /**
   * Reads a claimed member to its end (copying it to `sink`), records its layers; returns what the
   * member checksums need. The member's bytes come as `member.stream` (chunks to keep) or
   * `member.chunks()` (no copy; each valid until the next is asked for), one or the other.
   */
  read(
    member: TarEntry,
    sink: Writable | undefined,
    manifest: Manifest | undefined,
  ): Promise<{ size: number; sha256: string }>;
  /** After the last member: judges what needed every member, and records those layers. */
  finish(manifest: Manifest | undefined): Promise<void>;
  /**
   * Without a manifest: when the members this engine read are one dump another tool tarred
   * (pg_dump -Fd's files), the result's kind, how many members that dump has, and what the
   * `manifest` layer says instead of failing. Undefined when they are not.
   */
  foreignTarball?():
    { kind: InspectionFindings['kind']; members: number; manifestLayer: VerifyLayer } | undefined;
}

export interface Engine<Options = unknown> {
  readonly name: EngineName;

  /** Dumps one database of a backup run into the work dir; throws ConfigError/CheckFailed as the engine's dump does. */
  dump(deps: EngineDumpDeps, request: EngineDumpRequest): Promise<DumpedComponent>;
  /** A directory dump's file names in the order they go into the bundle; absent: by name. */
  orderDumpFiles?(names: string[]): string[];
  /** The component as backup's `components` output lists it. */
  summarize(component: Component): ComponentSummary;
  /** What the component adds to backup's totals. */
  totals(component: Component): ComponentTotals;
  /** The database a component was taken from, as the drill report names it for an auditor. */
  describeSource(component: Component): DrillSource;

  /** Whether a stored object's first bytes (at most 512) start one of this engine's dump files, stored bare. */
  recognizesBareDump(head: Buffer): boolean;
  /**
   * Reads a bare dump this engine recognised: its kind, its layers, and the `manifest` layer that
   * does not apply. The input may be transient chunks (a local file read through one buffer).
   */
  inspectBareDump(head: Buffer, input: ByteInput, context: EngineInspectContext): Promise<void>;
  /** A reader for the members of one bundle this engine may hold. */
  readMembers(context: EngineInspectContext): BundleMemberReader;
  /** Whether a local directory holds one of this engine's dumps in a form verify reads in place (pg_dump -Fd); absent: none does. */
  recognizesDumpDirectory?(dir: string): Promise<boolean>;
  /**
   * Reads such a directory in place, like `inspectBareDump` (kind, layers, the `manifest` that
   * does not apply); returns when the dump was made, when the dump itself says so.
   */
  inspectDumpDirectory?(dir: string, context: EngineInspectContext): Promise<{ createdAt?: Date }>;

  /**
   * This engine's half of a drill of `bundle`, or undefined when the bundle holds none of its
   * dumps. Throws ConfigError when it holds one and the options give it nowhere to go.
   */
  planDrill(bundle: VerifiedBundle, options: Options, context: EngineDrillContext): EngineDrill | undefined;
}
