/**
 * One recovery point for the whole app: every database of one backup run is dumped (at the same
 * time, so their skew stays close to the longest dump) into one bundle. Each dump is a component
 * with a unique id that also names its member (`postgres.dump`, `mongodb.archive.gz`).
 */
import { chmod, stat } from 'node:fs/promises';

import type { Component, MemberRecord, SkewRecord } from './bundle/manifest.js';
import type { UseCaseDeps } from './deps.js';
import { dumpMongo } from './engines/mongodb/dump.js';
import { dumpPostgres } from './engines/postgres/dump.js';
import { CheckFailed, ConfigError } from './errors.js';
import type { BackupOptions, Engine } from './options/index.js';

export type ComponentDeps = Pick<
  UseCaseDeps,
  'runner' | 'logger' | 'clock' | 'searchRoots' | 'signal' | 'mongoToolDownloader'
>;

export interface DumpedComponent {
  component: Component;
  dumpPath: string;
}

/** `postgres`, `mongodb`, then `postgres-2`, ... for a second database of the same engine. */
export function componentIds(engines: Engine[]): string[] {
  const seen = new Map<Engine, number>();
  return engines.map((e) => {
    const n = (seen.get(e) ?? 0) + 1;
    seen.set(e, n);
    return n === 1 ? e : `${e}-${n}`;
  });
}

export async function dumpComponents(
  deps: ComponentDeps,
  options: BackupOptions,
  workDir: string,
  label: (input: string) => string,
): Promise<DumpedComponent[]> {
  const databases = options.databases?.length
    ? options.databases
    : [{ engine: options.engine, url: options.databaseUrl }];
  const ids = componentIds(databases.map((d) => d.engine));
  const urlInput = label('database-url');
  const runs = databases.map(async (db, i): Promise<DumpedComponent> => {
    if (db.engine === 'postgres') {
      return dumpPostgres(deps, {
        databaseUrl: db.url,
        urlInput,
        workDir,
        pgBinDir: options.pgBinDir,
        dockerContainer: databases.length === 1 ? options.dockerContainer : undefined,
        searchRoots: deps.searchRoots,
        signal: deps.signal,
        id: ids[i],
      });
    }
    return dumpMongo(deps, {
      databaseUrl: db.url,
      urlInput,
      workDir,
      mongoBinDir: options.mongoBinDir,
      // With several databases the container is the mongo one (pg_dump then comes from the host).
      dockerContainer: options.dockerContainer,
      label,
      signal: deps.signal,
      id: ids[i],
    });
  });
  const settled = await Promise.allSettled(runs);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
  const dumps = settled.map((s) => (s as PromiseFulfilledResult<DumpedComponent>).value);
  for (const d of dumps) await chmod(d.dumpPath, 0o600);
  return dumps;
}

/** Sizes now; hashes go into the trailing SHA256SUMS member while the bundle streams (no extra read). */
export async function dumpMembers(dumps: DumpedComponent[]): Promise<MemberRecord[]> {
  const out: MemberRecord[] = [];
  for (const d of dumps) {
    const { size } = await stat(d.dumpPath);
    out.push({
      path: d.component.member,
      sizeBytes: size,
      sha256: null,
      role: 'dump',
      component: d.component.id,
    });
  }
  return out;
}

/** Undefined for a single dump: skew is between dumps. */
export function computeSkew(components: Component[]): SkewRecord | undefined {
  if (components.length < 2) return undefined;
  const from = Math.min(...components.map((c) => Date.parse(c.startedAt)));
  const to = Math.max(...components.map((c) => Date.parse(c.endedAt)));
  return {
    seconds: Math.round(to - from) / 1000,
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    components: components.map((c) => ({ id: c.id, startedAt: c.startedAt, endedAt: c.endedAt })),
  };
}

/** max-skew: a recovery point whose dumps are too far apart is not stored. */
export function checkMaxSkew(
  skew: SkewRecord | undefined,
  maxSkewSeconds: number | undefined,
  label: (n: string) => string,
): void {
  if (maxSkewSeconds === undefined || !skew) return;
  if (skew.seconds > maxSkewSeconds) {
    throw new CheckFailed(
      `the dumps are ${skew.seconds} s apart (${skew.components.map((c) => c.id).join(' and ')}, from ${skew.from} to ${skew.to}), over ${label('max-skew')} ${maxSkewSeconds} s; nothing was stored. Run the backup when the databases are quieter, or raise ${label('max-skew')}`,
    );
  }
}

export function latestEnd(components: Component[]): Date {
  return new Date(Math.max(...components.map((c) => Date.parse(c.endedAt))));
}

export function componentSummary(c: Component): {
  id: string;
  engine: string;
  database: string;
  serverVersion: string;
  tool: string;
} {
  if (c.engine === 'postgres') {
    return {
      id: c.id,
      engine: c.engine,
      database: c.database,
      serverVersion: c.serverVersion,
      tool: `pg_dump ${c.tool.version}`,
    };
  }
  return {
    id: c.id,
    engine: c.engine,
    database: c.database ?? '(all)',
    serverVersion: c.serverVersion ?? 'unknown',
    tool: `mongodump ${c.tool.version}`,
  };
}

/** Databases from the (repeatable) database-url; `engine` only applies to a single URL. */
export function assertEngineForOne(
  count: number,
  engine: string | undefined,
  label: (n: string) => string,
): void {
  if (count > 1 && engine) {
    throw new ConfigError(
      `${label('engine')} only applies with one ${label('database-url')}; with ${count} URLs each engine comes from its URL scheme, so remove ${label('engine')}`,
    );
  }
}
