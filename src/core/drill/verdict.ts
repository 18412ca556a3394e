/**
 * How a drill is judged: the RPO and RTO objectives as checks, then one status from everything
 * recorded. A drill passes only when it ran to the end and every check held; cancelled is its
 * own status, so a SIGTERM never reads as a failed backup.
 */
import { Cancelled, CheckFailed, ConfigError, messageOf } from '../errors.js';
import type { DrillOptions } from '../options/index.js';
import type { DrillReport } from '../report/model.js';
import { describeFailure, failureFromChecks } from './failure.js';
import type { DrillRecorder } from './recorder.js';

export interface DrillResult {
  ok: boolean;
  status: 'passed' | 'failed' | 'cancelled';
  bundle?: string;
  rtoSeconds: number | null;
  rpoSeconds: number | null;
  phases: { name: string; seconds: number; status: string }[];
  counts: { name: string; expected: number | null; actual: number | null; ok: boolean }[];
  checks: { total: number; failed: number; failures: string[] };
  reportDir: string;
  reportPath: string;
  report: DrillReport;
}

type Budgets = Pick<DrillOptions, 'rpoSeconds' | 'rtoSeconds'>;

/** The objectives as checks, once the drill reached its end (RTO is known). */
export function checkObjectives(recorder: DrillRecorder, options: Budgets): void {
  const { report } = recorder;
  if (options.rpoSeconds !== undefined) {
    const actual = report.rpoSeconds;
    const ok = actual !== undefined && actual <= options.rpoSeconds;
    report.objectives.rpo = { budgetSeconds: options.rpoSeconds, actualSeconds: actual, ok };
    recorder.check({
      name: 'RPO within budget',
      group: 'objective',
      ok,
      detail: `RPO ${actual ?? 'unknown'} s, budget ${options.rpoSeconds} s`,
    });
  }
  if (options.rtoSeconds !== undefined && report.rtoSeconds !== undefined) {
    const ok = report.rtoSeconds <= options.rtoSeconds;
    report.objectives.rto = { budgetSeconds: options.rtoSeconds, actualSeconds: report.rtoSeconds, ok };
    recorder.check({
      name: 'RTO within budget',
      group: 'objective',
      ok,
      detail: `RTO ${report.rtoSeconds} s, budget ${options.rtoSeconds} s`,
    });
  }
}

/**
 * Sets status and finishedAt. An objective the drill never reached is still reported: an RPO
 * known from the bundle is judged; an RTO that was never measured is not met.
 */
export function decideVerdict(
  recorder: DrillRecorder,
  options: Budgets,
  finishedAt: Date,
  end: { thrown: unknown; signal?: AbortSignal },
): { cancelled: boolean } {
  const { report } = recorder;
  const cancelled = !!end.signal?.aborted || end.thrown instanceof Cancelled;
  const failedChecks = report.checks.some((c) => !c.ok && !c.skipped);
  report.status = cancelled ? 'cancelled' : end.thrown || failedChecks ? 'failed' : 'passed';
  report.ok = report.status === 'passed';
  if (report.ok) delete report.error;
  else if (!report.error)
    report.error =
      end.thrown !== undefined || cancelled
        ? describeFailure(recorder.stage, end.thrown, end.signal)
        : failureFromChecks(report);
  report.finishedAt = finishedAt.toISOString();
  if (report.rpoSeconds !== undefined && !report.objectives.rpo && options.rpoSeconds !== undefined) {
    report.objectives.rpo = {
      budgetSeconds: options.rpoSeconds,
      actualSeconds: report.rpoSeconds,
      ok: report.rpoSeconds <= options.rpoSeconds,
    };
  }
  if (options.rtoSeconds !== undefined && !report.objectives.rto)
    report.objectives.rto = { budgetSeconds: options.rtoSeconds, ok: false };
  if (cancelled)
    report.notes.push(
      `cancelled by ${String(end.signal?.reason ?? 'signal')}; the scratch target was torn down`,
    );
  return { cancelled };
}

/**
 * Records why the drill stopped: the report's `error` (phase, message, hint), and a failed check
 * when no failed check already carries the reason, so every output (JUnit included) shows a red
 * line with the message. An error that is not a check failing (a crash, a lost connection, no
 * bundle) is the "drill ran to the end" check.
 */
export function recordUnexpected(recorder: DrillRecorder, err: unknown, signal?: AbortSignal): void {
  const error = describeFailure(recorder.stage, err, signal);
  recorder.report.error = error;
  if (err instanceof Cancelled || signal?.aborted) return;
  const alreadyRed = recorder.report.checks.some((c) => !c.ok && !c.skipped);
  if (!(err instanceof CheckFailed) || !alreadyRed) {
    recorder.check({
      name: 'drill ran to the end',
      group: 'drill',
      ok: false,
      detail: `stopped in ${error.phase}: ${error.message}`,
    });
  }
}

export function toDrillResult(report: DrillReport, reportDir: string, reportPath: string): DrillResult {
  const failed = report.checks.filter((c) => !c.ok && !c.skipped);
  return {
    ok: report.ok,
    status: report.status,
    bundle: report.bundle,
    rtoSeconds: report.rtoSeconds ?? null,
    rpoSeconds: report.rpoSeconds ?? null,
    phases: report.phases.map((p) => ({ name: p.name, seconds: p.seconds, status: p.status })),
    counts: report.counts.map((c) => ({ name: c.name, expected: c.expected, actual: c.actual, ok: c.ok })),
    checks: {
      total: report.checks.length,
      failed: failed.length,
      failures: failed.map((c) => `${c.name}: ${c.detail ?? ''}`),
    },
    reportDir,
    reportPath,
    report,
  };
}

/**
 * What the caller sees once the report is written: a configuration mistake stays a ConfigError
 * (exit 2), any other failure is CheckFailed carrying the result (exit 1, outputs still set).
 */
export function throwUnlessPassed(
  result: DrillResult,
  end: { thrown: unknown; cancelled: boolean; signal?: AbortSignal },
): void {
  if (end.thrown instanceof ConfigError) throw end.thrown;
  if (result.ok) return;
  const why = end.cancelled
    ? `drill cancelled by ${String(end.signal?.reason ?? 'signal')}`
    : `drill failed: ${end.thrown ? messageOf(end.thrown) : result.checks.failures.slice(0, 3).join('; ')}`;
  throw new CheckFailed(why, result);
}
