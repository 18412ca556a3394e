/**
 * The CLI's fleet runs (`backup`/`verify`/`drill` with `--databases` or `--fleet-mode`): the same option
 * parsers, the fleet layer, then the fleet table on stdout (the answer, like `list`), or with
 * --json one object whose `fleet` key is the summary.
 */
import { fleetBackupRun, fleetDrillRun, fleetVerifyRun } from '../adapters/fleet-runs.js';
import type { SessionDeps } from '../adapters/startup.js';
import {
  fleetResultOf,
  fleetText,
  type FleetBackupResult,
  type FleetDrillResult,
  type FleetVerifyResult,
} from '../core/fleet/index.js';
import { type FleetSelection, type OptionSource } from '../core/options/index.js';
import type { CommandIo } from './store-commands.js';

/**
 * Backup's keys for a fleet: `bundle`/`sha256` of the first member stored, `bundles` every
 * member's, `sizeBytes` their total, `durationSeconds` the fleet's wall time, `fleet` the summary.
 */
export function fleetBackupJson(r: FleetBackupResult): Record<string, unknown> {
  const stored = [
    ...new Map(r.members.filter((m) => m.result).map((m) => [m.result!.key, m.result!])).values(),
  ];
  return {
    ok: r.ok,
    bundle: stored[0]?.bundle ?? null,
    sha256: stored[0]?.sha256 ?? null,
    bundles: stored.map((b) => b.bundle),
    sizeBytes: stored.reduce((n, b) => n + b.sizeBytes, 0),
    durationSeconds: r.durationSeconds,
    fleet: r.summary,
  };
}

/**
 * The drill's keys for a fleet: status failed when any member failed, the worst RTO and RPO,
 * `phases`/`counts` of the first failed member (else the first member), `fleet` the summary.
 */
export function fleetDrillJson(r: FleetDrillResult): Record<string, unknown> {
  const shown = r.members.find((m) => m.result && !m.result.ok) ?? r.members.find((m) => m.result);
  return {
    ok: r.ok,
    status: r.status,
    rtoSeconds: r.rtoSeconds,
    rpoSeconds: r.rpoSeconds,
    phases: shown?.result?.phases ?? [],
    counts: shown?.result?.counts ?? [],
    reportDir: r.reportDir,
    fleet: r.summary,
  };
}

/**
 * Verify's keys for a fleet: `bundle` the first member's, `bundles` every distinct bundle read,
 * `ageSeconds` the oldest member's, `problems` every failed member's (prefixed with its database).
 */
export function fleetVerifyJson(r: FleetVerifyResult): Record<string, unknown> {
  const bundles = [...new Set(r.members.flatMap((m) => (m.result ? [m.result.bundle] : [])))];
  return {
    ok: r.ok,
    bundle: bundles[0] ?? null,
    bundles,
    ageSeconds: r.ageSeconds,
    problems: r.summary.members
      .filter((m) => m.status !== 'passed')
      .map((m) => `${m.database}: ${m.reason ?? m.status}`),
    fleet: r.summary,
  };
}

/** The --json answer of a failed fleet run, or undefined when the error is no fleet's. */
export function fleetFailureJson(err: unknown): Record<string, unknown> | undefined {
  const r = fleetResultOf<FleetBackupResult | FleetDrillResult | FleetVerifyResult>(err);
  if (!r) return undefined;
  switch (r.summary.command) {
    case 'backup':
      return fleetBackupJson(r as FleetBackupResult);
    case 'verify':
      return fleetVerifyJson(r as FleetVerifyResult);
    case 'drill':
      return fleetDrillJson(r as FleetDrillResult);
  }
}

async function printing<T extends FleetBackupResult | FleetDrillResult | FleetVerifyResult>(
  io: CommandIo & { redact: (text: string) => string },
  run: () => Promise<T>,
  json: (r: T) => Record<string, unknown>,
): Promise<number> {
  let result: T;
  try {
    result = await run();
  } catch (err) {
    // the failure's JSON is printed by the CLI's catch (fleetFailureJson); the table is printed here
    const failed = fleetResultOf<T>(err);
    if (failed && !io.json) io.stdout(io.redact(fleetText(failed.summary)));
    throw err;
  }
  if (io.json) io.print(json(result));
  else io.stdout(io.redact(fleetText(result.summary)));
  return 0;
}

export function runBackupFleet(
  deps: SessionDeps,
  reader: OptionSource,
  selection: FleetSelection,
  env: NodeJS.ProcessEnv,
  io: CommandIo,
): Promise<number> {
  return printing(
    { ...io, redact: deps.redact },
    fleetBackupRun(deps, reader, selection, env),
    fleetBackupJson,
  );
}

export function runDrillFleet(
  deps: SessionDeps,
  reader: OptionSource,
  selection: FleetSelection,
  env: NodeJS.ProcessEnv,
  io: CommandIo,
): Promise<number> {
  return printing(
    { ...io, redact: deps.redact },
    fleetDrillRun(deps, reader, selection, env),
    fleetDrillJson,
  );
}

export function runVerifyFleet(
  deps: SessionDeps,
  reader: OptionSource,
  selection: FleetSelection,
  env: NodeJS.ProcessEnv,
  io: CommandIo,
): Promise<number> {
  return printing(
    { ...io, redact: deps.redact },
    fleetVerifyRun(deps, reader, selection, env),
    fleetVerifyJson,
  );
}
