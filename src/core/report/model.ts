/**
 * The drill report, version 1. This is a published format (auditors archive it, dashboards
 * read it): new optional keys may be added without a version bump and readers must ignore
 * keys they do not know; removing or retyping a key bumps `schemaVersion`.
 */
export const DRILL_REPORT_SCHEMA_VERSION = 1 as const;

export type DrillStatus = 'passed' | 'failed' | 'cancelled';
export type PhaseStatus = 'ok' | 'failed' | 'skipped' | 'cancelled';

export interface Objective {
  budgetSeconds: number;
  /** Absent when the drill ended before the objective could be measured (e.g. the app never became healthy). */
  actualSeconds?: number;
  ok: boolean;
}

export interface DrillPhase {
  name: string;
  startedAt: string;
  seconds: number;
  status: PhaseStatus;
  detail?: string;
}

export interface DrillCheck {
  name: string;
  /** verify | restore | structure | data | health | objective | kek | ... */
  group: string;
  ok: boolean;
  skipped?: boolean;
  detail?: string;
  seconds?: number;
}

export interface DrillCount {
  name: string;
  expected: number | null;
  actual: number | null;
  ok: boolean;
  source: 'manifest' | 'compare-url';
  /** The PostgreSQL table as a (schema, name) pair, so nothing splits `name` again. */
  schema?: string;
  table?: string;
  /** Counted over the whole partition tree at its root (rows move between its leaves on restore). */
  tree?: { leaves: string[]; why: string };
}

export interface StructureKind {
  kind: string;
  expected: number;
  actual: number;
  missing: string[];
}

export interface RestoreError {
  message: string;
  ignored: boolean;
  reason?: string;
}

/** One health check's outcome: the report's health table. */
export interface HealthResult {
  name: string;
  /** The URL with any password masked. */
  url: string;
  ok: boolean;
  attempts: number;
  status?: number;
  lastError?: string;
  /** The first 500 characters of the last response body. */
  bodySnippet?: string;
  /** From the first attempt until the check passed or was given up. */
  seconds: number;
}

export interface DrillTarget {
  kind: 'url' | 'local' | 'docker';
  /** Host, port, database and user; never a password. */
  display: string;
  serverVersion?: string;
}

/**
 * Why a drill did not pass, in one place: the phase it stopped in, the error as the step that
 * failed worded it, and what to look at or change next. Absent on a passed drill.
 */
export interface DrillError {
  /** The phase the drill stopped in (`locate bundle`, `fetch + verify`, `provision`, `restore`, ...). */
  phase: string;
  message: string;
  /** The next thing to look at or change; absent when there is nothing better than the message. */
  hint?: string;
}

/** The database the bundle was taken from, as its manifest recorded it. */
export interface DrillSource {
  engine?: string;
  database?: string;
  serverVersion?: string;
  /** pg_control's system identifier: tells two clusters with the same name apart. */
  systemIdentifier?: string;
}

/** Where the drill ran: an auditor's "which machine, which tool" question. */
export interface DrillRunner {
  host: string;
  platform?: string;
  node?: string;
}

export interface HistoryEntry {
  startedAt: string;
  rtoSeconds?: number | null;
  rpoSeconds?: number | null;
  status: DrillStatus;
}

export interface DrillReport {
  schemaVersion: typeof DRILL_REPORT_SCHEMA_VERSION;
  tool: { name: 'dbdrill'; version: string };
  status: DrillStatus;
  /** Always `status === 'passed'`; kept for consumers that only want a boolean. */
  ok: boolean;
  name?: string;
  bundle?: string;
  bundleCreatedAt?: string;
  /** The full sha256 of the bundle object as fetched (hex). */
  bundleSha256?: string;
  /** The first database restored (kept for consumers that read one source). */
  source?: DrillSource;
  /** Every database the drill restored, when there is more than one (a joint bundle). */
  sources?: DrillSource[];
  runner?: DrillRunner;
  /** Set whenever status is not `passed`: the first line a reader needs. */
  error?: DrillError;
  startedAt: string;
  finishedAt: string;
  /** Drill start until every health check passed. */
  rtoSeconds?: number;
  /** Drill start minus the backup's end time: the data a real restore would have lost. */
  rpoSeconds?: number;
  objectives: { rto?: Objective; rpo?: Objective };
  phases: DrillPhase[];
  checks: DrillCheck[];
  counts: DrillCount[];
  structure?: StructureKind[];
  restoreErrors: RestoreError[];
  health: HealthResult[];
  appLogTail?: string[];
  target?: DrillTarget;
  notes: string[];
  /** Earlier drills, oldest first, not including this one. */
  history?: HistoryEntry[];
}

/** The line this drill adds to the history that the next drill's report charts. */
export function toHistoryEntry(report: DrillReport): HistoryEntry {
  return {
    startedAt: report.startedAt,
    rtoSeconds: report.rtoSeconds ?? null,
    rpoSeconds: report.rpoSeconds ?? null,
    status: report.status,
  };
}
