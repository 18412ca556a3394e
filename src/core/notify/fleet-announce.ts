/**
 * A fleet run is heard from per member and once as a whole: one webhook notification and one
 * metrics series per member (labelled by the member's name, so members never overwrite each
 * other's metrics), and one dead-man ping for the fleet run (`/start` before, success or `/fail`
 * after), because the ping's check watches that the scheduled run happens at all. Fail-soft like
 * every channel: nothing here changes the run's result or exit code.
 */
import { announce, announceStart, type NotifyDeps } from './announce.js';
import { errorOutcome, type NotifyCommand, type Outcome } from './outcome.js';
import type { NotifySettings } from './settings.js';

export interface FleetOutcomes {
  members: Outcome[];
  /** The fleet as a whole, for the dead-man ping. */
  fleet: Outcome;
}

/**
 * `outcomesOf` describes a finished fleet run; `resultOf` finds the fleet result on a failed
 * run's error (a fleet with failed members still has one). A run that ended before it had a
 * result (a usage error) is announced once, as the fleet, on every channel.
 */
export async function runFleetAnnounced<T>(
  deps: NotifyDeps,
  settings: NotifySettings,
  command: NotifyCommand,
  name: string,
  run: () => Promise<T>,
  outcomesOf: (result: T) => FleetOutcomes,
  resultOf: (error: unknown) => T | undefined,
): Promise<T> {
  await announceStart(deps, settings, command, name);
  const started = deps.clock.monotonicMs();
  let result: T | undefined;
  let thrown: { error: unknown } | undefined;
  try {
    result = await run();
  } catch (error) {
    thrown = { error };
    result = resultOf(error);
  }
  let outcomes: FleetOutcomes | undefined;
  try {
    if (result !== undefined) outcomes = outcomesOf(result);
  } catch {
    outcomes = undefined;
  }
  if (!outcomes) {
    const durationSeconds = Math.round(deps.clock.monotonicMs() - started) / 1000;
    await announce(deps, settings, errorOutcome(command, name, thrown?.error, { durationSeconds }));
  } else {
    const perMember: NotifySettings = { ...settings, pingUrl: undefined };
    for (const outcome of outcomes.members) await announce(deps, perMember, outcome);
    const pingOnly: NotifySettings = {
      ...settings,
      notifyUrls: [],
      metricsFile: undefined,
      pushgatewayUrl: undefined,
    };
    await announce(deps, pingOnly, outcomes.fleet);
  }
  if (thrown) throw thrown.error;
  return result!;
}
