/**
 * One recovery point for the whole app: every database of one backup run is dumped (at the same
 * time, so their skew stays close to the longest dump) into one bundle. Each dump is a component
 * with a unique id that also names its member (`postgres.dump`, `mongodb.archive.gz`).
 */
import { chmod, readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';

import type { Component, MemberRecord, SkewRecord } from './bundle/manifest.js';
import type { PackEntry } from './bundle/tar.js';
import type { UseCaseDeps } from './deps.js';
import type { ComponentSummary, ComponentTotals, DumpedComponent } from './engines/engine.js';
import { ENGINES, engineNamed, type RegisteredEngine } from './engines/registry.js';
import { CheckFailed, ConfigError } from './errors.js';
import type { BackupOptions, Engine } from './options/index.js';

export type { DumpedComponent };

export type ComponentDeps = Pick<
  UseCaseDeps,
  | 'runner'
  | 'logger'
  | 'clock'
  | 'searchRoots'
  | 'signal'
  | 'mongoToolDownloader'
  | 'engines'
  | 'pgClientPorts'
>;

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
  const engines = deps.engines ?? ENGINES;
  const runs = databases.map((db, i): Promise<DumpedComponent> =>
    engineNamed(db.engine, engines).dump(deps, {
      databaseUrl: db.url,
      id: ids[i],
      workDir,
      options,
      databaseCount: databases.length,
      label,
    }),
  );
  const settled = await Promise.allSettled(runs);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
  const dumps = settled.map((s) => (s as PromiseFulfilledResult<DumpedComponent>).value);
  for (const d of dumps) {
    if ((await stat(d.dumpPath)).isDirectory()) {
      await chmod(d.dumpPath, 0o700);
      for (const f of await dumpFiles(d, engines)) await chmod(f.file, 0o600);
    } else await chmod(d.dumpPath, 0o600);
  }
  return dumps;
}

/**
 * The files a dump contributes to the bundle, as member path and local file: the dump itself,
 * or every file of a directory dump under its folder member (`postgres.dir/toc.dat`, ...).
 */
export async function dumpFiles(
  d: DumpedComponent,
  engines: readonly RegisteredEngine[] = ENGINES,
): Promise<{ path: string; file: string; size: number }[]> {
  const info = await stat(d.dumpPath);
  if (!info.isDirectory()) return [{ path: d.component.member, file: d.dumpPath, size: info.size }];
  const entries = await readdir(d.dumpPath, { withFileTypes: true });
  const odd = entries.find((e) => !e.isFile());
  if (odd)
    throw new Error(
      `the ${d.component.engine} dump left ${odd.name} in ${d.dumpPath}, which is not a regular file`,
    );
  const names = entries.map((e) => e.name);
  const engine = engineNamed(d.component.engine, engines);
  const out = [];
  for (const name of engine.orderDumpFiles ? engine.orderDumpFiles(names) : [...names].sort()) {
    const file = join(d.dumpPath, name);
    out.push({ path: `${d.component.member}/${name}`, file, size: (await stat(file)).size });
  }
  return out;
}

/** Sizes now; hashes go into the trailing SHA256SUMS member while the bundle streams (no extra read). */
export async function dumpMembers(
  dumps: DumpedComponent[],
  engines: readonly RegisteredEngine[] = ENGINES,
): Promise<MemberRecord[]> {
  const out: MemberRecord[] = [];
  for (const d of dumps) {
    for (const f of await dumpFiles(d, engines)) {
      out.push({ path: f.path, sizeBytes: f.size, sha256: null, role: 'dump', component: d.component.id });
    }
  }
  return out;
}

/** The dumps' pack entries, in the same order as dumpMembers lists them. */
export async function dumpPackEntries(
  dumps: DumpedComponent[],
  mtime: Date,
  engines: readonly RegisteredEngine[] = ENGINES,
): Promise<PackEntry[]> {
  const out: PackEntry[] = [];
  for (const d of dumps)
    for (const f of await dumpFiles(d, engines)) {
      const precomputed = d.fileHashes?.get(basename(f.file));
      out.push({ path: f.path, file: f.file, mtime, ...(precomputed ? { precomputed } : {}) });
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

/** The component as backup's `components` output lists it, in its engine's words. */
export function componentSummary(
  c: Component,
  engines: readonly RegisteredEngine[] = ENGINES,
): ComponentSummary {
  return engineNamed(c.engine, engines).summarize(c);
}

/** Backup's totals over every component: tables and rows, collections and documents. */
export function componentTotals(
  components: Component[],
  engines: readonly RegisteredEngine[] = ENGINES,
): Required<ComponentTotals> {
  const sum: Required<ComponentTotals> = { tables: 0, rows: 0, collections: 0, documents: 0 };
  for (const c of components) {
    const t = engineNamed(c.engine, engines).totals(c);
    for (const k of Object.keys(sum) as (keyof ComponentTotals)[]) sum[k] += t[k] ?? 0;
  }
  return sum;
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
