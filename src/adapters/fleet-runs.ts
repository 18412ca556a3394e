/**
 * A fleet backup, verify or drill as both front ends run it: the command's options parsed first (a bad
 * one exits 2 before any work), then the fleet layer wrapped in its notifications (one per member,
 * one dead-man ping per run). The CLI prints the result, the actions set outputs from it.
 */
import {
  backupFleet,
  drillFleet,
  fleetBackupOutcomes,
  fleetDrillOutcomes,
  fleetResultOf,
  fleetVerifyOutcomes,
  verifyFleet,
  type FleetBackupResult,
  type FleetDrillResult,
  type FleetVerifyResult,
} from '../core/fleet/index.js';
import {
  parseBackupOptions,
  parseDrillOptions,
  parseRetentionPolicy,
  parseVerifyOptions,
  type FleetSelection,
  type OptionSource,
} from '../core/options/index.js';
import { fleetAnnouncer } from './announce.js';
import type { SessionDeps } from './startup.js';

export function fleetBackupRun(
  deps: SessionDeps,
  reader: OptionSource,
  selection: FleetSelection,
  env: NodeJS.ProcessEnv,
): () => Promise<FleetBackupResult> {
  const options = parseBackupOptions(reader);
  const retention = parseRetentionPolicy(reader);
  const announced = fleetAnnouncer(reader, deps, env);
  return () =>
    announced(
      'backup',
      options.name,
      () => backupFleet(deps, options, selection, retention),
      fleetBackupOutcomes,
      (e) => fleetResultOf<FleetBackupResult>(e),
    );
}

export function fleetDrillRun(
  deps: SessionDeps,
  reader: OptionSource,
  selection: FleetSelection,
  env: NodeJS.ProcessEnv,
): () => Promise<FleetDrillResult> {
  const options = parseDrillOptions(reader);
  const announced = fleetAnnouncer(reader, deps, env);
  return () =>
    announced(
      'drill',
      options.name!,
      () => drillFleet(deps, options, selection),
      fleetDrillOutcomes,
      (e) => fleetResultOf<FleetDrillResult>(e),
    );
}

export function fleetVerifyRun(
  deps: SessionDeps,
  reader: OptionSource,
  selection: FleetSelection,
  env: NodeJS.ProcessEnv,
): () => Promise<FleetVerifyResult> {
  const options = parseVerifyOptions(reader);
  const announced = fleetAnnouncer(reader, deps, env);
  return () =>
    announced(
      'verify',
      options.name!,
      () => verifyFleet(deps, options, selection),
      fleetVerifyOutcomes,
      (e) => fleetResultOf<FleetVerifyResult>(e),
    );
}
