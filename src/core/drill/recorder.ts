/**
 * The drill's running record: the report being filled in, each phase timed on the monotonic
 * clock (wall time jumps), every check by name. A phase that throws is marked failed (or
 * cancelled) with its reason before the error travels on, so the report says where it stopped.
 */
import { hostname } from 'node:os';

import type { Clock } from '../clock.js';
import { messageOf, throwIfCancelled } from '../errors.js';
import type { DrillLedger } from '../engines/engine.js';
import type { Logger } from '../logger.js';
import {
  DRILL_REPORT_SCHEMA_VERSION,
  type DrillCheck,
  type DrillPhase,
  type DrillReport,
} from '../report/model.js';
import { DBDRILL_VERSION } from '../version.js';

/** Seconds with millisecond precision, as the report carries them. */
export const roundSeconds = (n: number): number => Math.round(n * 1000) / 1000;

export class DrillRecorder implements DrillLedger {
  readonly report: DrillReport;
  readonly startedAt: Date;
  /** The monotonic instant the drill started: RTO counts from here. */
  readonly t0: number;
  /**
   * Where the drill is: the phase running, or the step between phases. A failure outside any
   * phase (no bundle, a store that does not exist) is reported as stopping here.
   */
  stage = 'locate bundle';

  constructor(
    private readonly deps: { clock: Clock; logger: Logger; signal?: AbortSignal },
    name: string | undefined,
  ) {
    this.startedAt = deps.clock.now();
    this.t0 = deps.clock.monotonicMs();
    this.report = {
      schemaVersion: DRILL_REPORT_SCHEMA_VERSION,
      tool: { name: 'dbdrill', version: DBDRILL_VERSION },
      status: 'failed',
      ok: false,
      name,
      runner: {
        host: hostname(),
        platform: `${process.platform}-${process.arch}`,
        node: process.versions.node,
      },
      startedAt: this.startedAt.toISOString(),
      finishedAt: this.startedAt.toISOString(),
      objectives: {},
      phases: [],
      checks: [],
      counts: [],
      restoreErrors: [],
      health: [],
      notes: [],
    };
  }

  readonly check = (c: DrillCheck): void => {
    this.report.checks.push(c);
  };

  /** Seconds since the drill started, on the monotonic clock. */
  secondsSince(startMs: number, endMs = this.deps.clock.monotonicMs()): number {
    return roundSeconds((endMs - startMs) / 1000);
  }

  async phase<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const { clock, logger, signal } = this.deps;
    const begin = clock.monotonicMs();
    const entry: DrillPhase = { name, startedAt: clock.now().toISOString(), seconds: 0, status: 'ok' };
    this.report.phases.push(entry);
    this.stage = name;
    logger.startGroup(`drill: ${name}`);
    const checksBefore = this.report.checks.length;
    try {
      throwIfCancelled(signal);
      const out = await fn();
      throwIfCancelled(signal);
      entry.detail ??= summarizeChecks(this.report.checks.slice(checksBefore));
      return out;
    } catch (err) {
      entry.status = signal?.aborted ? 'cancelled' : 'failed';
      entry.detail = entry.detail ? `${entry.detail}; ${messageOf(err)}` : messageOf(err);
      throw err;
    } finally {
      entry.seconds = this.secondsSince(begin);
      logger.endGroup();
    }
  }

  /**
   * What a phase did, shown in the report's phase table (e.g. restore: jobs, entries, errors
   * ignored). Called while the phase runs; a later failure appends its reason.
   */
  describe(name: string, detail: string): void {
    const entry = [...this.report.phases].reverse().find((p) => p.name === name);
    if (entry) entry.detail = entry.detail ? `${entry.detail}; ${detail}` : detail;
  }

  /** A phase the options leave out still appears in the report, with why. */
  skip(name: string, detail: string): void {
    this.report.phases.push({
      name,
      startedAt: this.deps.clock.now().toISOString(),
      seconds: 0,
      status: 'skipped',
      detail,
    });
  }
}

/**
 * A phase's default detail: what its checks said. One check is shown as it is (pg_restore's
 * jobs, entries and ignored errors); several are counted, naming the first that failed.
 */
function summarizeChecks(checks: DrillCheck[]): string | undefined {
  if (!checks.length) return undefined;
  if (checks.length === 1)
    return `${checks[0].name}: ${checks[0].detail ?? (checks[0].ok ? 'ok' : 'failed')}`;
  const failed = checks.filter((c) => !c.ok && !c.skipped);
  const skipped = checks.filter((c) => c.skipped).length;
  const ran = checks.length - skipped;
  return (
    `${ran - failed.length}/${ran} check(s) passed` +
    (skipped ? `, ${skipped} skipped` : '') +
    (failed.length ? `; first failure: ${failed[0].name}` : '')
  );
}
