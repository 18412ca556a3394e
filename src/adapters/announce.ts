/**
 * Makes a backup, verify or drill heard from: parses the notify options together with the
 * command's other options (so a typo in a webhook fails before any work, exit 2), registers the
 * URLs' secrets with the logger, and wraps the use case in the start ping, the outcome
 * notification and the metrics. Every channel fails soft: the use case's result and exit code
 * stay its own.
 */
import { basename } from 'node:path';

import {
  backupOutcome,
  drillOutcome,
  notifyDisabled,
  registerNotifySecrets,
  runAnnounced,
  runFleetAnnounced,
  verifyOutcome,
  type FleetOutcomes,
  type NotifyCommand,
  type Outcome,
} from '../core/notify/index.js';
import { parseNotifySettings, type OptionSource } from '../core/options/index.js';
import type { SessionDeps } from './startup.js';

export type Announced = <T>(
  command: NotifyCommand,
  name: string,
  run: () => Promise<T>,
  outcomeOf: (result: T) => Outcome,
) => Promise<T>;

export function announcer(reader: OptionSource, deps: SessionDeps, env: NodeJS.ProcessEnv): Announced {
  const settings = parseNotifySettings(reader);
  registerNotifySecrets(deps.logger, settings);
  return (command, name, run, outcomeOf) =>
    notifyDisabled(settings)
      ? run()
      : runAnnounced(
          { logger: deps.logger, clock: deps.clock, env, redact: deps.redact },
          settings,
          command,
          name,
          run,
          outcomeOf,
        );
}

export type FleetAnnounced = <T>(
  command: NotifyCommand,
  name: string,
  run: () => Promise<T>,
  outcomesOf: (result: T) => FleetOutcomes,
  resultOf: (error: unknown) => T | undefined,
) => Promise<T>;

/** Like `announcer`, for a fleet: a notification and metrics per member, one dead-man ping for the run. */
export function fleetAnnouncer(
  reader: OptionSource,
  deps: SessionDeps,
  env: NodeJS.ProcessEnv,
): FleetAnnounced {
  const settings = parseNotifySettings(reader);
  registerNotifySecrets(deps.logger, settings);
  return (command, name, run, outcomesOf, resultOf) =>
    notifyDisabled(settings)
      ? run()
      : runFleetAnnounced(
          { logger: deps.logger, clock: deps.clock, env, redact: deps.redact },
          settings,
          command,
          name,
          run,
          outcomesOf,
          resultOf,
        );
}

/** The name a notification carries: the bundle name, or the file name of a bundle given directly. */
export function announcedName(options: { name?: string; bundle?: string }): string {
  return options.name ?? (options.bundle ? basename(options.bundle) : 'dbdrill');
}

export { backupOutcome, drillOutcome, verifyOutcome };
