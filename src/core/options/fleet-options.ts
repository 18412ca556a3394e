/**
 * Fleets: one backup, verify or drill run over many databases. `databases` picks the members (every
 * database of a cluster, or names), `exclude-databases` trims `all`, `fleet-mode` says whether
 * each member gets its own bundle or all share one recovery point. Only the combinations are
 * checked here; which databases exist is known only once the cluster (backup) or the store's
 * fleet record (verify, drill) is read, so those errors come from `core/fleet`.
 */
import { ConfigError } from '../errors.js';
import { engineFromUrl } from './database-urls.js';
import type { OptionSource, OptionSpec } from './spec.js';

export type FleetMode = 'separate' | 'one-recovery-point';

export const FLEET_OPTION_SPECS: OptionSpec[] = [
  {
    name: 'databases',
    kind: 'list',
    commands: ['backup', 'verify', 'drill'],
    description:
      'A fleet: "all" (every database of the cluster that accepts connections, templates excluded) or database names (comma-separated or one a line). Backup: needs exactly one postgres:// database-url, the cluster connection. Verify and drill: the members of the fleet record in store/name.',
  },
  {
    name: 'exclude-databases',
    kind: 'list',
    commands: ['backup', 'verify', 'drill'],
    description: 'With databases "all": database names to leave out (comma-separated or one a line).',
  },
  {
    name: 'fleet-mode',
    kind: 'string',
    commands: ['backup', 'verify', 'drill'],
    choices: ['separate', 'one-recovery-point'],
    description:
      'separate: one bundle per database, named <name>-<database>; one-recovery-point: one bundle with a component per database. Default with databases: separate. Several database-url lines without it stay one joint recovery point; fleet-mode separate makes them one bundle each.',
  },
];

/** What a fleet run selects; the members themselves are resolved against the cluster or the record. */
export interface FleetSelection {
  /** `all`, or the names given, in order, without duplicates. */
  databases: 'all' | string[];
  exclude: string[];
  /** Undefined when not given: the default (backup: separate; drill: the record's mode). */
  mode?: FleetMode;
  /**
   * Backup only: the members are the database-url lines themselves (several URLs with an
   * explicit fleet-mode), not databases listed from one cluster.
   */
  fromUrls?: boolean;
}

/** A list input whose items may also be comma-separated on one line. */
function names(o: OptionSource, input: string): string[] {
  const out: string[] = [];
  for (const item of o.list(input).flatMap((l) => l.split(','))) {
    const n = item.trim();
    if (n && !out.includes(n)) out.push(n);
  }
  return out;
}

function parseCommon(o: OptionSource): FleetSelection | undefined {
  const given = names(o, 'databases');
  const exclude = names(o, 'exclude-databases');
  const mode = o.string('fleet-mode') as FleetMode | undefined;
  const all = given.some((n) => n.toLowerCase() === 'all');
  if (all && given.length > 1) {
    throw new ConfigError(
      `${o.name('databases')} "${given.join(', ')}" mixes "all" with names; give "all" (and ${o.name('exclude-databases')}), or only names`,
    );
  }
  if (exclude.length && !all) {
    throw new ConfigError(
      `${o.name('exclude-databases')} only applies with ${o.name('databases')}: all${given.length ? `; with names, leave "${exclude.join(', ')}" out of ${o.name('databases')} instead` : ''}`,
    );
  }
  if (!given.length) return mode ? { databases: [], exclude, mode } : undefined;
  return { databases: all ? 'all' : given, exclude, mode };
}

/**
 * Backup: undefined when the run is no fleet (one URL, or several URLs without fleet-mode: one
 * joint recovery point as before).
 */
export function parseBackupFleet(o: OptionSource): FleetSelection | undefined {
  const selection = parseCommon(o);
  if (!selection) return undefined;
  const urls = o.list('database-url');
  if (selection.databases.length === 0) {
    // fleet-mode without databases: the database-url lines are the members
    if (urls.length < 2) {
      throw new ConfigError(
        `${o.name('fleet-mode')} applies to a fleet: set ${o.name('databases')} (all, or names) with the cluster's ${o.name('database-url')}, or give several ${o.name('database-url')} lines`,
      );
    }
    return { ...selection, fromUrls: true };
  }
  if (urls.length !== 1) {
    throw new ConfigError(
      `${o.name('databases')} needs exactly one ${o.name('database-url')} (the cluster's connection; its database is only where dbdrill connects to list the databases), got ${urls.length}`,
    );
  }
  const engine = engineFromUrl(urls[0], o.name('database-url'));
  if (engine !== 'postgres') {
    throw new ConfigError(
      `${o.name('databases')} lists the databases of a PostgreSQL cluster, but ${o.name('database-url')} is a ${engine} URL; give a postgres:// URL, or back up each MongoDB database with its own ${o.name('database-url')} line and ${o.name('fleet-mode')}`,
    );
  }
  return { ...selection, mode: selection.mode ?? 'separate' };
}

/** Drill: undefined when the run is no fleet. A fleet drill picks newest bundles by name from a store. */
export function parseDrillFleet(o: OptionSource): FleetSelection | undefined {
  const selection = parseCommon(o);
  if (!selection) return undefined;
  if (selection.databases.length === 0) {
    throw new ConfigError(
      `${o.name('fleet-mode')} applies to a fleet drill: set ${o.name('databases')} (all, or names) too`,
    );
  }
  if (o.string('bundle')) {
    throw new ConfigError(
      `${o.name('databases')} drills the newest bundle of each member in ${o.name('store')}/${o.name('name')}; remove ${o.name('bundle')}`,
    );
  }
  if (!o.string('store') || !o.string('name')) {
    throw new ConfigError(
      `${o.name('databases')} needs ${o.name('store')} and ${o.name('name')}: the fleet's store and the name its backup used`,
    );
  }
  const targets = o.list('target-url').filter((u) => /^postgres(ql)?:\/\//i.test(u));
  if (targets.length) {
    throw new ConfigError(
      `a fleet drill restores each member into its own throwaway server; remove the postgres:// ${o.name('target-url')} and set ${o.name('provision')}: local or docker`,
    );
  }
  return selection;
}

/**
 * Verify: undefined when the run is no fleet. Like the drill, a fleet verify picks newest bundles
 * by name from a store, never a bundle given directly.
 */
export function parseVerifyFleet(o: OptionSource): FleetSelection | undefined {
  const selection = parseCommon(o);
  if (!selection) return undefined;
  if (selection.databases.length === 0) {
    throw new ConfigError(
      `${o.name('fleet-mode')} applies to a fleet verify: set ${o.name('databases')} (all, or names) too`,
    );
  }
  if (o.string('bundle')) {
    throw new ConfigError(
      `${o.name('databases')} verifies the newest bundle of each member in ${o.name('store')}/${o.name('name')}; remove ${o.name('bundle')}`,
    );
  }
  if (!o.string('store') || !o.string('name')) {
    throw new ConfigError(
      `${o.name('databases')} needs ${o.name('store')} and ${o.name('name')}: the fleet's store and the name its backup used`,
    );
  }
  return selection;
}
