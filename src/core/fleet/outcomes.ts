/**
 * What a fleet run tells notifications and metrics: one outcome per member, named by the member's
 * bundle name (the metrics label), and one for the fleet as a whole (the dead-man ping).
 */
import { CheckFailed } from '../errors.js';
import {
  backupOutcome,
  drillOutcome,
  errorOutcome,
  type FleetOutcomes,
  type Outcome,
  verifyOutcome,
} from '../notify/index.js';
import type { FleetBackupResult } from './backup-fleet.js';
import type { FleetDrillResult } from './drill-fleet.js';
import type { FleetSummary } from './summary.js';
import type { FleetVerifyResult } from './verify-fleet.js';

function fleetOutcome(command: FleetSummary['command'], s: FleetSummary, durationSeconds?: number): Outcome {
  return {
    command,
    name: s.name,
    ok: s.ok,
    status: s.ok ? 'passed' : 'failed',
    reason: s.ok
      ? undefined
      : s.members
          .filter((m) => m.status !== 'passed')
          .map((m) => `${m.database}: ${m.reason ?? m.status}`)
          .join('\n'),
    durationSeconds,
  };
}

export function fleetBackupOutcomes(r: FleetBackupResult): FleetOutcomes {
  return {
    members: r.members.map((m) =>
      m.result ? backupOutcome(m.member.name, m.result) : errorOutcome('backup', m.member.name, m.error),
    ),
    fleet: fleetOutcome('backup', r.summary, r.durationSeconds),
  };
}

export function fleetDrillOutcomes(r: FleetDrillResult): FleetOutcomes {
  return {
    members: r.members.map((m) =>
      m.error === undefined && m.result
        ? drillOutcome(m.member.name, m.result)
        : errorOutcome('drill', m.member.name, m.error),
    ),
    fleet: fleetOutcome('drill', r.summary),
  };
}

/** One outcome per member even in one-recovery-point mode: metrics and alerts stay per database. */
export function fleetVerifyOutcomes(r: FleetVerifyResult): FleetOutcomes {
  return {
    members: r.members.map((m) =>
      m.error === undefined && m.result
        ? verifyOutcome(m.member.name, m.result)
        : errorOutcome('verify', m.member.name, m.error),
    ),
    fleet: fleetOutcome('verify', r.summary),
  };
}

/** The fleet result a failed fleet run carries (members failed), or undefined (it ended before). */
export function fleetResultOf<R extends FleetBackupResult | FleetDrillResult | FleetVerifyResult>(
  error: unknown,
): R | undefined {
  return CheckFailed.resultOf<R>(error, 'summary' as keyof R & string);
}
