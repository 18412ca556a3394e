/**
 * The fleet record, `<name>.fleet.json` in the store: which databases a fleet backup covered, in
 * which mode, under which bundle names and component ids. A fleet drill reads it, so drilling
 * `databases: all` never needs a connection to production.
 */
import { validateName } from '../bundle/naming.js';
import { ConfigError } from '../errors.js';
import type { FleetMode, FleetSelection } from '../options/index.js';
import type { Store } from '../stores/store.js';

export const FLEET_RECORD_SUFFIX = '.fleet.json';
export const FLEET_RECORD_FORMAT = 'dbdrill-fleet';

export interface FleetMemberRecord {
  /** The database's name in its cluster. */
  database: string;
  /** The bundle name of the member's own bundles (separate), and the name its drill history is kept under. */
  name: string;
  /** one-recovery-point: the member's component id in the joint bundle (`postgres`, `postgres-2`, ...). */
  component?: string;
}

export interface FleetRecord {
  format: typeof FLEET_RECORD_FORMAT;
  formatVersion: 1;
  /** The fleet's name (the `name` input); the joint bundle's name in one-recovery-point mode. */
  name: string;
  mode: FleetMode;
  /** When the backup that wrote the record finished. */
  updatedAt: string;
  members: FleetMemberRecord[];
}

export function fleetRecordKey(name: string): string {
  return name + FLEET_RECORD_SUFFIX;
}

export async function writeFleetRecord(store: Store, record: FleetRecord): Promise<void> {
  await store.writeText(fleetRecordKey(record.name), JSON.stringify(record, null, 2) + '\n');
}

/** Undefined when the store holds no record for `name`; a record that does not parse is a ConfigError. */
export async function readFleetRecord(store: Store, name: string): Promise<FleetRecord | undefined> {
  const key = fleetRecordKey(name);
  const text = await store.readText(key);
  if (text === undefined) return undefined;
  let doc: Partial<FleetRecord>;
  try {
    doc = JSON.parse(text) as Partial<FleetRecord>;
  } catch (e) {
    throw new ConfigError(
      `the fleet record ${key} in ${store.displayUri} is not JSON: ${(e as Error).message}`,
    );
  }
  const ok =
    doc.format === FLEET_RECORD_FORMAT &&
    (doc.mode === 'separate' || doc.mode === 'one-recovery-point') &&
    Array.isArray(doc.members) &&
    doc.members.every((m) => typeof m?.database === 'string' && typeof m?.name === 'string');
  if (!ok) {
    throw new ConfigError(
      `the fleet record ${key} in ${store.displayUri} is not a dbdrill fleet record (format ${FLEET_RECORD_FORMAT}, mode, members); run the fleet backup again to rewrite it`,
    );
  }
  return doc as FleetRecord;
}

/**
 * A member's bundle name: `<name>-<database>`, with every character a bundle name cannot hold
 * replaced by `_` and cut to the 100 characters a name may have.
 */
export function memberBundleName(name: string, database: string): string {
  const safe = database.replace(/[^A-Za-z0-9._-]/g, '_');
  return validateName(`${name}-${safe}`.slice(0, 100));
}

/** Member bundle names must stay apart: `a b` and `a_b` would share one after sanitising. */
export function assertDistinctNames(members: FleetMemberRecord[], input: string): void {
  const seen = new Map<string, string>();
  for (const m of members) {
    const other = seen.get(m.name);
    if (other !== undefined) {
      throw new ConfigError(
        `${input}: the databases "${other}" and "${m.database}" would share the bundle name "${m.name}" (characters other than letters, digits, ".", "_" and "-" become "_"); back them up in separate runs with different names`,
      );
    }
    seen.set(m.name, m.database);
  }
}

/**
 * The members to drill or verify and the mode, from the selection and the store's fleet record
 * (never from the cluster: a drill or verify of `all` needs no connection to production).
 */
export function resolveRecordedMembers(
  name: string,
  selection: FleetSelection,
  record: FleetRecord | undefined,
  where: string,
  label: (input: string) => string,
  verb: 'drill' | 'verify' = 'drill',
): { mode: FleetMode; members: FleetMemberRecord[] } {
  if (record && selection.mode && record.mode !== selection.mode) {
    throw new ConfigError(
      `${label('fleet-mode')} is "${selection.mode}" but the fleet record ${name}.fleet.json in ${where} says "${record.mode}"; remove ${label('fleet-mode')} (the record knows it)`,
    );
  }
  const mode = selection.mode ?? record?.mode ?? 'separate';
  const recorded = record?.members.map((m) => m.database) ?? [];
  if (selection.databases === 'all') {
    if (!record) {
      throw new ConfigError(
        `${label('databases')}: all needs the fleet record ${name}.fleet.json in ${where}, which a fleet backup writes; none is there. Run the fleet backup first, or name the databases`,
      );
    }
    const unknown = selection.exclude.filter((n) => !recorded.includes(n));
    if (unknown.length) {
      throw new ConfigError(
        `${label('exclude-databases')} names ${unknown.map((n) => `"${n}"`).join(', ')}, which the fleet ${name} does not have; its members: ${recorded.join(', ')}`,
      );
    }
    const members = record.members.filter((m) => !selection.exclude.includes(m.database));
    if (!members.length) {
      throw new ConfigError(
        `${label('databases')}: all leaves no member to ${verb} after ${label('exclude-databases')}; the fleet's members: ${recorded.join(', ')}`,
      );
    }
    return { mode, members };
  }
  if (record) {
    const unknown = selection.databases.filter((n) => !recorded.includes(n));
    if (unknown.length) {
      throw new ConfigError(
        `${label('databases')} names ${unknown.map((n) => `"${n}"`).join(', ')}, which the fleet ${name} does not have; its members: ${recorded.join(', ')}`,
      );
    }
    return { mode, members: selection.databases.map((n) => record.members.find((m) => m.database === n)!) };
  }
  if (mode === 'one-recovery-point') {
    throw new ConfigError(
      `${label('fleet-mode')} one-recovery-point needs the fleet record ${name}.fleet.json in ${where} (it maps each database to its component); none is there. Run the fleet backup first`,
    );
  }
  return {
    mode,
    members: selection.databases.map((database) => ({ database, name: memberBundleName(name, database) })),
  };
}
