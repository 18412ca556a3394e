/**
 * A fleet backup: the members resolved (every database of the cluster, named ones, or the
 * database-url lines), then the backup use case once per member (separate) or once for all
 * (one-recovery-point), the fleet record written, and the summary built. Members of a separate
 * fleet are backed up one after another and a failing member does not stop the others.
 */
import { backupAndPrune, type BackupAndPruneResult } from '../backup.js';
import { readDrillHistory } from '../catalog/index.js';
import { componentIds } from '../components.js';
import type { UseCaseDeps } from '../deps.js';
import { listClusterDatabases, urlForDatabase } from '../engines/postgres/cluster-databases.js';
import { CheckFailed, ConfigError, messageOf, throwIfCancelled } from '../errors.js';
import type { BackupOptions, Engine, FleetMode, FleetSelection } from '../options/index.js';
import type { RetentionPolicy } from '../retention.js';
import {
  assertDistinctNames,
  memberBundleName,
  readFleetRecord,
  writeFleetRecord,
  type FleetMemberRecord,
  type FleetRecord,
} from './record.js';
import { makeSummary, type FleetMemberRow, type FleetSummary } from './summary.js';

export interface BackupFleetMember extends FleetMemberRecord {
  engine: Engine;
  url: string;
}

export interface FleetBackupMemberResult {
  member: BackupFleetMember;
  /** The member's backup (separate), or the joint one (one-recovery-point). */
  result?: BackupAndPruneResult;
  error?: unknown;
}

export interface FleetBackupResult {
  ok: boolean;
  name: string;
  mode: FleetMode;
  members: FleetBackupMemberResult[];
  summary: FleetSummary;
  /** The fleet's wall time. */
  durationSeconds: number;
}

/** The databases a fleet backup covers, in order, each with its URL and bundle name. */
export async function resolveBackupMembers(
  options: BackupOptions,
  selection: FleetSelection,
  label: (input: string) => string,
  list: typeof listClusterDatabases = listClusterDatabases,
): Promise<BackupFleetMember[]> {
  const mode = selection.mode ?? 'separate';
  let members: BackupFleetMember[];
  if (selection.fromUrls) {
    members = (options.databases ?? []).map((d, i) => {
      const database = databaseOfUrl(d.url);
      if (!database) {
        throw new ConfigError(
          `${label('database-url')} line ${i + 1} names no database; a fleet names each member by its database (postgres://host/db, mongodb://host/db)`,
        );
      }
      return { database, name: memberBundleName(options.name, database), engine: d.engine, url: d.url };
    });
    const dup = members.find((m, i) => members.findIndex((x) => x.database === m.database) !== i);
    if (dup) {
      throw new ConfigError(
        `${label('database-url')} names the database "${dup.database}" twice; a fleet names each member by its database, so give each once`,
      );
    }
  } else {
    const existing = await list(options.databaseUrl, label('database-url'));
    const names = existing.map((d) => d.name);
    const known = (n: string) => names.includes(n);
    let chosen: string[];
    if (selection.databases === 'all') {
      const unknown = selection.exclude.filter((n) => !known(n));
      if (unknown.length) {
        throw new ConfigError(
          `${label('exclude-databases')} names ${unknown.map((n) => `"${n}"`).join(', ')}, which the cluster does not have; its databases: ${names.join(', ')}`,
        );
      }
      chosen = existing.filter((d) => d.dumpable && !selection.exclude.includes(d.name)).map((d) => d.name);
      if (!chosen.length) {
        throw new ConfigError(
          `${label('databases')}: all leaves no database to back up after ${label('exclude-databases')} (${selection.exclude.join(', ') || 'none'}) and the templates; the cluster's databases: ${names.join(', ')}`,
        );
      }
    } else {
      chosen = selection.databases;
      const unknown = chosen.filter((n) => !known(n));
      if (unknown.length) {
        throw new ConfigError(
          `${label('databases')} names ${unknown.map((n) => `"${n}"`).join(', ')}, which the cluster does not have; its databases: ${names.join(', ')}`,
        );
      }
      const closed = chosen.filter((n) => !existing.find((d) => d.name === n)!.dumpable);
      if (closed.length) {
        throw new ConfigError(
          `${label('databases')} names ${closed.map((n) => `"${n}"`).join(', ')}: a template or a database that does not accept connections, which pg_dump cannot dump; leave it out`,
        );
      }
    }
    members = chosen.map((database) => ({
      database,
      name: memberBundleName(options.name, database),
      engine: 'postgres',
      url: urlForDatabase(options.databaseUrl, database),
    }));
  }
  if (mode === 'separate') assertDistinctNames(members, label('databases'));
  else {
    const ids = componentIds(members.map((m) => m.engine));
    members.forEach((m, i) => (m.component = ids[i]));
  }
  return members;
}

/** The database a URL names (its path, or a dbname= parameter), decoded; '' when none. */
function databaseOfUrl(url: string): string {
  try {
    const u = new URL(url);
    return decodeURIComponent(u.pathname.replace(/^\//, '')) || u.searchParams.get('dbname') || '';
  } catch {
    return '';
  }
}

export async function backupFleet(
  deps: UseCaseDeps,
  options: BackupOptions,
  selection: FleetSelection,
  policy: RetentionPolicy | undefined,
): Promise<FleetBackupResult> {
  const label = deps.label ?? ((n: string) => n);
  const { logger, clock } = deps;
  const t0 = clock.monotonicMs();
  const mode = selection.mode ?? 'separate';
  const members = await resolveBackupMembers(options, selection, label);
  logger.info(
    `fleet ${options.name} (${mode}): ${members.length} database(s): ${members.map((m) => m.database).join(', ')}`,
  );
  const store = deps.openStore(options.store);
  const done: FleetBackupMemberResult[] = [];
  if (mode === 'separate') {
    for (const member of members) {
      throwIfCancelled(deps.signal);
      logger.startGroup(`Fleet member ${member.database}: backup as ${member.name}`);
      try {
        const result = await backupAndPrune(
          deps,
          {
            ...options,
            name: member.name,
            engine: member.engine,
            databaseUrl: member.url,
            databases: [{ engine: member.engine, url: member.url }],
          },
          policy,
        );
        done.push({ member, result });
      } catch (error) {
        throwIfCancelled(deps.signal);
        logger.error(`fleet member ${member.database}: ${messageOf(error)}`);
        done.push({ member, error });
      } finally {
        logger.endGroup();
      }
    }
  } else {
    // One recovery point: one backup, so a failure of any dump fails it as a joint backup does.
    const result = await backupAndPrune(
      deps,
      {
        ...options,
        engine: members[0].engine,
        databaseUrl: members[0].url,
        databases: members.map((m) => ({ engine: m.engine, url: m.url })),
      },
      policy,
    );
    for (const member of members) done.push({ member, result });
  }

  const stored = done.some((d) => d.result);
  if (stored)
    await writeFleetRecord(
      store,
      await nextRecord(store, options.name, mode, members, selection, clock.now()),
    );
  const now = clock.now();
  const rows: FleetMemberRow[] = [];
  for (const d of done) rows.push(await backupRow(store, d, now, mode === 'separate'));
  const summary = makeSummary('backup', options.name, mode, rows, now);
  const out: FleetBackupResult = {
    ok: summary.ok,
    name: options.name,
    mode,
    members: done,
    summary,
    durationSeconds: Math.round(clock.monotonicMs() - t0) / 1000,
  };
  if (!summary.ok) {
    const errors = done.map((d) => d.error).filter((e) => e !== undefined);
    // The same usage mistake for every member (a store that is not writable) is a usage error.
    if (!stored && errors.every((e) => e instanceof ConfigError)) throw errors[0];
    throw new CheckFailed(
      `fleet backup: ${summary.failed.length} of ${members.length} member(s) failed (${summary.failed.join(', ')}); the others were stored`,
      out,
    );
  }
  return out;
}

/**
 * The record after this run. `all` (and a list of URLs) is the whole fleet, so it replaces the
 * record; named databases of a separate fleet are a part of it, so they join the members already
 * recorded (a later `databases: beta` backup must not drop alpha and gamma from the next
 * `databases: all` drill). A joint bundle holds exactly its members, so it always replaces.
 */
async function nextRecord(
  store: ReturnType<UseCaseDeps['openStore']>,
  name: string,
  mode: FleetMode,
  members: BackupFleetMember[],
  selection: FleetSelection,
  now: Date,
): Promise<FleetRecord> {
  const fresh: FleetMemberRecord[] = members.map(({ database, name: n, component }) => ({
    database,
    name: n,
    ...(component ? { component } : {}),
  }));
  const partial = mode === 'separate' && Array.isArray(selection.databases) && !selection.fromUrls;
  const previous = partial ? await readFleetRecord(store, name).catch(() => undefined) : undefined;
  const kept =
    previous?.mode === mode
      ? previous.members.filter((m) => !fresh.some((f) => f.database === m.database))
      : [];
  return {
    format: 'dbdrill-fleet',
    formatVersion: 1,
    name,
    mode,
    updatedAt: now.toISOString(),
    // merged members are listed by name; a fresh list keeps its own order (the URLs', or pg_database's)
    members: kept.length ? [...kept, ...fresh].sort((a, b) => a.database.localeCompare(b.database)) : fresh,
  };
}

async function backupRow(
  store: ReturnType<UseCaseDeps['openStore']>,
  d: FleetBackupMemberResult,
  now: Date,
  separate: boolean,
): Promise<FleetMemberRow> {
  const history = await readDrillHistory(store, d.member.name).catch(() => []);
  const last = history[history.length - 1];
  const ended = d.result ? Date.parse(d.result.endedAt) : NaN;
  return {
    database: d.member.database,
    name: separate ? d.member.name : (d.result?.name ?? d.member.name),
    ...(d.member.component ? { component: d.member.component } : {}),
    bundle: d.result?.key,
    bundleAgeSeconds: Number.isNaN(ended) ? null : Math.max(0, Math.round((now.getTime() - ended) / 1000)),
    ...(last ? { lastDrill: { status: last.status, at: last.startedAt } } : {}),
    rtoSeconds: last?.rtoSeconds ?? null,
    rpoSeconds: last?.rpoSeconds ?? null,
    status: d.result ? 'passed' : 'failed',
    ...(d.error !== undefined ? { reason: messageOf(d.error) } : {}),
  };
}
