/**
 * What a finished backup, verify or drill tells the outside world. One shape for all three so
 * notifications, dead-man pings and metrics are written once, and the use-case adapters only
 * translate their result (or the error that ended the run) into it.
 */
import { CheckFailed, messageOf } from '../errors.js';

export type NotifyCommand = 'backup' | 'verify' | 'drill';

export interface Outcome {
  command: NotifyCommand;
  /** The bundle name (the `name` input), the label every metric and message carries. */
  name: string;
  ok: boolean;
  /** `passed`, `failed` or `cancelled` (a drill's own status word; backup and verify use the same three). */
  status: OutcomeStatus;
  /** Where it failed (a drill phase such as `restore`), when known. */
  phase?: string;
  /** Why it failed, in words; redacted before it leaves the process. */
  reason?: string;
  bundle?: string;
  /** When the run finished; default: the clock's now when announced. */
  finishedAt?: Date;
  durationSeconds?: number;
  sizeBytes?: number;
  rows?: number;
  rtoSeconds?: number;
  /** Drill: start minus the backup's end. Verify: the newest bundle's age (the RPO exposure right now). */
  rpoSeconds?: number;
}

export type OutcomeStatus = 'passed' | 'failed' | 'cancelled';

/**
 * The link to the run that produced an outcome: GitHub Actions' run page, or a GitLab job, or
 * nothing (a laptop or cron run has no page to link to).
 */
export function runUrlFrom(env: Readonly<Record<string, string | undefined>>): string | undefined {
  const { GITHUB_SERVER_URL: server, GITHUB_REPOSITORY: repo, GITHUB_RUN_ID: runId } = env;
  if (server && repo && runId) return `${server.replace(/\/+$/, '')}/${repo}/actions/runs/${runId}`;
  return env.CI_JOB_URL || undefined;
}

// The builders below take the fields they read, not the use cases' result types, so a use case can
// grow or be reshaped without this module following it.

/** What a backup result offers (BackupResult has these). */
export interface BackupFacts {
  bundle: string;
  sizeBytes: number;
  durationSeconds: number;
  rows?: number;
  documents?: number;
}

export function backupOutcome(name: string, result: BackupFacts): Outcome {
  const rows = (result.rows ?? 0) + (result.documents ?? 0);
  return {
    command: 'backup',
    name,
    ok: true,
    status: 'passed',
    bundle: result.bundle,
    sizeBytes: result.sizeBytes,
    durationSeconds: result.durationSeconds,
    rows: result.rows === undefined && result.documents === undefined ? undefined : rows,
  };
}

/** What a verify result offers (VerifyResult has these). */
export interface VerifyFacts {
  ok: boolean;
  bundle: string;
  ageSeconds: number | null;
  problems: string[];
  /** Deep verify: schema.table -> rows counted in the dump. */
  pgDump?: { rows?: Record<string, number> };
}

export function verifyOutcome(name: string, result: VerifyFacts, durationSeconds?: number): Outcome {
  const perTable = result.pgDump?.rows;
  return {
    command: 'verify',
    name,
    ok: result.ok,
    status: result.ok ? 'passed' : 'failed',
    reason: result.ok ? undefined : result.problems.join('\n') || undefined,
    bundle: result.bundle,
    durationSeconds,
    rpoSeconds: result.ageSeconds ?? undefined,
    rows: perTable ? Object.values(perTable).reduce((a, b) => a + b, 0) : undefined,
  };
}

/** What a drill result offers (DrillResult has these). */
export interface DrillFacts {
  ok: boolean;
  status: OutcomeStatus;
  bundle?: string;
  rtoSeconds: number | null;
  rpoSeconds: number | null;
  phases: { name: string; seconds: number; status: string }[];
  counts?: { actual: number | null }[];
  checks?: { failures: string[] };
}

export function drillOutcome(name: string, result: DrillFacts): Outcome {
  const failedPhase = result.phases.find((p) => p.status !== 'ok' && p.status !== 'skipped');
  const actual = result.counts?.map((c) => c.actual).filter((n): n is number => typeof n === 'number');
  return {
    command: 'drill',
    name,
    ok: result.ok,
    status: result.status,
    phase: result.ok ? undefined : failedPhase?.name,
    reason: result.ok ? undefined : result.checks?.failures.join('\n') || undefined,
    bundle: result.bundle,
    durationSeconds: result.phases.reduce((a, p) => a + p.seconds, 0),
    rtoSeconds: result.rtoSeconds ?? undefined,
    rpoSeconds: result.rpoSeconds ?? undefined,
    rows: actual && actual.length ? actual.reduce((a, b) => a + b, 0) : undefined,
  };
}

/**
 * A run that ended in an error. A CheckFailed that carries its use case's result keeps that
 * result's numbers (a drill that missed its RTO still measured it); the error's message is the reason.
 */
export function errorOutcome(
  command: NotifyCommand,
  name: string,
  error: unknown,
  extra: Partial<Pick<Outcome, 'phase' | 'bundle' | 'durationSeconds'>> = {},
): Outcome {
  const cancelled = error instanceof Error && error.name === 'Cancelled';
  let base: Outcome = { command, name, ok: false, status: cancelled ? 'cancelled' : 'failed' };
  const result = error instanceof CheckFailed ? error.result : undefined;
  if (result && typeof result === 'object') {
    const r = result as Record<string, unknown>;
    if (command === 'drill' && Array.isArray(r.phases)) base = drillOutcome(name, result as DrillFacts);
    if (command === 'verify' && Array.isArray(r.problems)) base = verifyOutcome(name, result as VerifyFacts);
  }
  return {
    ...base,
    ...Object.fromEntries(Object.entries(extra).filter(([, v]) => v !== undefined)),
    ok: false,
    status: cancelled ? 'cancelled' : base.status === 'passed' ? 'failed' : base.status,
    reason: messageOf(error) || base.reason,
  };
}
