/**
 * The one-line "why" of a drill that did not pass. Readers of a red drill (a job summary, a
 * JUnit viewer, a dashboard reading the JSON) should not have to find the failing row in five
 * tables: the report says the phase it stopped in, the message of the step that failed, and
 * where to look next.
 */
import { Cancelled, ConfigError, messageOf, EnvironmentFault } from '../errors.js';
import type { DrillError, DrillReport } from '../report/model.js';

/** Where to look next, per phase; the message itself already says what went wrong. */
const PHASE_HINTS: Record<string, string> = {
  'locate bundle':
    'check store and name (or bundle); `dbdrill list --store <store>` shows the bundles the store holds',
  'fetch + verify':
    'the bundle is not restorable as stored; `dbdrill verify --deep` shows every layer, and an older bundle may verify',
  provision:
    'the scratch target could not be made: check provision, pg-version and target-url (with docker, that the docker daemon runs)',
  restore:
    'see "Restore errors": an error that is harmless for this app can be accepted with ignore-restore-errors and a reason',
  migrate: 'see the migrate-command output in the log; it ran against the restored database',
  'kek check':
    'the restored key does not open the restored data: the secret store and the database are from different points in time',
  'app start': 'see "App log": the app exited right after it was started on the restored data',
  health: 'see "Health checks" and "App log": the app did not answer its health checks within health-timeout',
  checks: 'see "Failed checks": the restored data differs from the source',
  objectives: 'the drill ran to the end; a recovery objective was not met (see "Objectives")',
};

/** The error record for a drill that stopped in `stage` with `err`. */
export function describeFailure(stage: string, err: unknown, signal?: AbortSignal): DrillError {
  if (signal?.aborted || err instanceof Cancelled) {
    const by = err instanceof Cancelled ? err.message : `cancelled by ${String(signal?.reason ?? 'signal')}`;
    return {
      phase: stage,
      message: by,
      hint: 'the drill was stopped from outside; everything it started was torn down',
    };
  }
  const message = messageOf(err);
  if (err instanceof ConfigError)
    return { phase: stage, message, hint: 'a usage error: fix the option the message names and run again' };
  if (err instanceof EnvironmentFault)
    return {
      phase: stage,
      message,
      hint: 'a fault on the machine running the drill or on the way to the store, not in the bundle: fix what the message names and run again',
    };
  return { phase: stage, message, hint: PHASE_HINTS[stage] };
}

/**
 * A drill that ran to the end and still failed (a failed check, an objective over budget) has no
 * thrown error: its first failed check is the reason.
 */
export function failureFromChecks(report: DrillReport): DrillError | undefined {
  const failed = report.checks.filter((c) => !c.ok && !c.skipped);
  if (!failed.length) return undefined;
  const first = failed[0];
  const phase = first.group === 'objective' ? 'objectives' : 'checks';
  const more = failed.length > 1 ? ` (and ${failed.length - 1} more failed check(s))` : '';
  return {
    phase,
    message: `${first.name}: ${first.detail ?? 'failed'}${more}`,
    hint: PHASE_HINTS[phase],
  };
}
