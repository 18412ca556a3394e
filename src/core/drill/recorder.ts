/**
 * The drill's running record: the report being filled in, each phase timed on the monotonic
 * clock (wall time jumps), every check by name. A phase that throws is marked failed (or
 * cancelled) with its reason before the error travels on, so the report says where it stopped.
 */
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
    logger.startGroup(`drill: ${name}`);
    try {
      throwIfCancelled(signal);
      const out = await fn();
      throwIfCancelled(signal);
      return out;
    } catch (err) {
      entry.status = signal?.aborted ? 'cancelled' : 'failed';
      entry.detail = messageOf(err);
      throw err;
    } finally {
      entry.seconds = this.secondsSince(begin);
      logger.endGroup();
    }
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
