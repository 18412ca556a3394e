/**
 * pg_restore into a scratch database, with every error captured for the report and judged
 * against the user's ignore list (each ignore carries a reason an auditor can read).
 */
import { stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { availableParallelism } from 'node:os';

import type { Logger } from '../../logger.js';
import type { IgnorePattern } from '../../options/index.js';
import type { ProcessRunner } from '../../process.js';
import type { RestoreError } from '../../report/model.js';
import type { PgClientChoice } from '../../options/tool-options.js';
import { pgClientMounts, pgEnvNames, resolvePgClient, type PgClientPorts } from './pg-client.js';
import { connectPg, libpqEnv, parsePgUrl } from './connection.js';
import type { PgTocEntry } from './pgdump-reader.js';
import { createMissingRoles, rolesNeeded } from './restore-roles.js';
import {
  displayOf,
  foreignKeysIntoUnsampled,
  keyOf,
  notValidDefinition,
  type ForeignKeyEntry,
  type TableName,
} from './sample-plan.js';

export interface RestoreOptions {
  /** A custom-format file, or the extracted folder of a directory-format dump. */
  dumpPath: string;
  /** The dump's compression as the verifier read it (for the report). */
  compression?: string;
  targetUrl: string;
  archiveMinor: number;
  toc: PgTocEntry[];
  tier: 'full' | 'schema' | 'sample';
  /** The tables whose rows the sample tier restores, already resolved (see planSample). */
  sampleTables: TableName[];
  jobs?: number;
  noOwner: boolean;
  noAcl: boolean;
  createRoles: boolean;
  /** Owners the manifest recorded at backup. */
  extraRoles?: string[];
  /** Restore into the dump's tablespaces instead of the target's default one. */
  keepTablespaces?: boolean;
  ignore: IgnorePattern[];
  pgBinDir?: string;
  /** pg-client, pg-client-image; absent: the installed pg_restore only. */
  pgClient?: PgClientChoice;
  pgClientPorts?: PgClientPorts;
  /** The dumped server's major: the pg-client-image major when pg_restore runs from an image. */
  dumpedMajor?: number;
  searchRoots?: string[];
  workDir: string;
  signal?: AbortSignal;
}

export interface RestoreOutcome {
  tool: string;
  jobs: number;
  format: 'custom' | 'directory';
  compression?: string;
  exitCode: number | null;
  errors: RestoreError[];
  /** Errors not covered by an ignore pattern: any makes the restore fail. */
  unignored: number;
  rolesCreated: string[];
  /** Sample tier: foreign keys into unsampled tables, added NOT VALID after the restore. */
  notValidForeignKeys: string[];
  /** Sample tier: foreign keys that could not be added even NOT VALID, with the server's reason. */
  droppedForeignKeys: { name: string; reason: string; dumpId: number }[];
  args: string[];
  /** Set when jobs had to drop to 1 because the archive has no data offsets. */
  sequentialBecausePiped: boolean;
}

/** Archive version -> the first PostgreSQL major whose pg_restore reads it. */
export function minPgRestoreMajor(archiveMinor: number): number {
  if (archiveMinor >= 16) return 17;
  if (archiveMinor === 15) return 16;
  if (archiveMinor === 14) return 12;
  return 10;
}

export async function restorePostgres(
  deps: { runner: ProcessRunner; logger: Logger },
  o: RestoreOptions,
): Promise<RestoreOutcome> {
  const minMajor = minPgRestoreMajor(o.archiveMinor);
  const tool = await resolvePgClient(deps, {
    tool: 'pg_restore',
    minMajor,
    imageMajor: Math.max(minMajor, o.dumpedMajor ?? 0),
    choice: o.pgClient,
    pgBinDir: o.pgBinDir,
    searchRoots: o.searchRoots,
    ports: o.pgClientPorts,
  });
  const target = parsePgUrl(o.targetUrl, 'target-url');
  const rolesCreated = o.createRoles
    ? await createMissingRoles(
        o.targetUrl,
        rolesNeeded(o.toc, { noOwner: o.noOwner, noAcl: o.noAcl, recordedOwners: o.extraRoles }),
      )
    : [];
  // A dump written to a pipe records no data offsets, and pg_restore cannot run it in parallel
  // ("could not find block ID ... lack of data offsets"): such dumps restore with one job.
  const piped = o.toc.some((e) => e.dataOffsetState === 'not-set');
  const wanted = o.jobs ?? Math.max(1, availableParallelism());
  const jobs = piped ? 1 : wanted;
  if (piped && wanted > 1) {
    deps.logger.info(
      'the dump was written to a pipe and records no data offsets: restoring with 1 job instead of ' + wanted,
    );
  }
  const args = ['--dbname', target.safeUrl, '--jobs', String(jobs)];
  if (o.noOwner) args.push('--no-owner');
  if (o.noAcl) args.push('--no-acl');
  // A scratch cluster has none of production's tablespace paths: without this every object
  // placed in one fails with "tablespace ... does not exist".
  if (!o.keepTablespaces) args.push('--no-tablespaces');
  if (o.tier === 'schema') args.push('--schema-only');
  let deferred: ForeignKeyEntry[] = [];
  if (o.tier === 'sample') {
    deferred = foreignKeysIntoUnsampled(o.toc, o.sampleTables);
    const listFile = join(o.workDir, 'sample.list');
    await writeFile(
      listFile,
      sampleList(
        o.toc,
        o.sampleTables,
        deferred.map((d) => d.entry.dumpId),
      ),
      { mode: 0o600 },
    );
    args.push('--use-list', listFile);
  }
  args.push(o.dumpPath);
  const format = (await stat(o.dumpPath)).isDirectory() ? 'directory' : 'custom';
  deps.logger.info(
    `restoring a ${format}-format dump${o.compression ? ` (${o.compression})` : ''} with pg_restore ${tool.version}${tool.via === 'local' ? '' : ` (${tool.display})`}, ${jobs} job(s)`,
  );
  const env = libpqEnv(target);
  // From an image: the dump, the work dir (sample.list) and the target's socket/TLS files are
  // mounted at the same paths, libpq settings pass by name; the target is on the host network.
  const cmd = tool.invocation(args, {
    mounts: [o.workDir, dirname(o.dumpPath), ...pgClientMounts(o.targetUrl, env)],
    env: pgEnvNames(env),
  });
  const run = await deps.runner.run(cmd.command, cmd.args, {
    env,
    signal: o.signal,
    maxStderrBytes: 4 << 20,
  });
  const errors = parseRestoreErrors(run.stderr).map((message): RestoreError => {
    const hit = o.ignore.find((p) => p.pattern.test(message));
    return hit ? { message, ignored: true, reason: hit.reason } : { message, ignored: false };
  });
  if (run.code !== 0 && errors.length === 0) {
    const tail = run.stderr.trim().split('\n').slice(-3).join(' ');
    errors.push({
      message: `pg_restore exited with ${run.code ?? run.signal}: ${tail || 'no message'}`,
      ignored: false,
    });
  }
  const fks = await addNotValid(o.targetUrl, deferred);
  return {
    tool: `pg_restore ${tool.version}${tool.image ? ` from ${tool.image}` : ''}`,
    jobs,
    format,
    ...(o.compression ? { compression: o.compression } : {}),
    exitCode: run.code,
    errors,
    unignored: errors.filter((e) => !e.ignored).length,
    rolesCreated,
    notValidForeignKeys: fks.added,
    droppedForeignKeys: fks.dropped,
    args,
    sequentialBecausePiped: piped && wanted > 1,
  };
}

/**
 * pg_restore reports each failure as "pg_restore: error: ..." followed by "Command was: ...";
 * one entry per error, with the command's first line for context.
 */
export function parseRestoreErrors(stderr: string): string[] {
  const out: string[] = [];
  const lines = stderr.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const m = /^pg_restore: error: (.*)$/.exec(line);
    if (!m) continue;
    if (/^errors ignored on restore/.test(m[1])) continue;
    let message = m[1];
    // continuation lines (ERROR:, DETAIL:) and the failing command
    for (let j = i + 1; j < lines.length && j <= i + 4; j++) {
      const next = lines[j];
      if (/^pg_restore: /.test(next)) break;
      if (/^Command was: /.test(next)) {
        message += ` [${next.replace(/^Command was: /, '').slice(0, 200)}]`;
        break;
      }
      if (next.trim()) message += ' ' + next.trim();
    }
    out.push(message);
  }
  return out;
}

/**
 * Adds the deferred foreign keys NOT VALID: new rows are still checked, the sampled rows whose
 * parents were not restored are not. Where even that is refused (NOT VALID on a partitioned
 * table before PostgreSQL 18), the key is left out and reported.
 */
async function addNotValid(
  targetUrl: string,
  fks: ForeignKeyEntry[],
): Promise<{ added: string[]; dropped: { name: string; reason: string; dumpId: number }[] }> {
  const added: string[] = [];
  const dropped: { name: string; reason: string; dumpId: number }[] = [];
  if (!fks.length) return { added, dropped };
  const client = await connectPg(targetUrl, 'target-url');
  try {
    for (const fk of fks) {
      const name = `${displayOf(fk.from)} ${fk.entry.tag.split(' ').slice(1).join(' ') || fk.entry.tag} -> ${displayOf(fk.to)}`;
      try {
        await client.query(notValidDefinition(fk.entry.defn));
        added.push(name);
      } catch (err) {
        dropped.push({
          name,
          reason: err instanceof Error ? err.message : String(err),
          dumpId: fk.entry.dumpId,
        });
      }
    }
  } finally {
    await client.end().catch(() => undefined);
  }
  return { added, dropped };
}

/**
 * A pg_restore --use-list that keeps every entry except TABLE DATA of tables not in the sample
 * and the entries in `leaveOut` (foreign keys added NOT VALID afterwards).
 */
export function sampleList(toc: PgTocEntry[], sampleTables: TableName[], leaveOut: number[] = []): string {
  const wanted = new Set(sampleTables.map(keyOf));
  const skip = new Set(leaveOut);
  const lines: string[] = [];
  for (const e of toc) {
    if (skip.has(e.dumpId)) continue;
    if (e.desc === 'TABLE DATA' && !wanted.has(keyOf({ schema: e.namespace, table: e.tag }))) continue;
    if (e.desc === 'BLOBS' || e.desc === 'LARGE OBJECTS') continue;
    lines.push(`${e.dumpId}; ${e.tableOid} ${e.oid} ${e.desc} ${e.namespace || '-'} ${e.tag} ${e.owner}`);
  }
  return lines.join('\n') + '\n';
}
