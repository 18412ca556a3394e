/**
 * Verify's PostgreSQL layers: one pass over a pg_dump custom-format member that hashes it, writes
 * it out for the drill when asked, parses it natively and, when an installed pg_restore can read
 * the archive's version, feeds the same bytes to `pg_restore --list` as an independent reader.
 */
import type { Readable, Writable } from 'node:stream';
import { finished } from 'node:stream/promises';

import type { PostgresComponent } from '../../bundle/manifest.js';
import { OffThreadSha256 } from '../../bundle/sha256-worker.js';
import {
  ChunkHandoff,
  passTransient,
  peekTransient,
  type TransientChunks,
} from '../../bundle/stream-utils.js';
import { messageOf } from '../../errors.js';
import type { ProcessRunner } from '../../process.js';
import type { PgClientChoice } from '../../options/tool-options.js';
import type { Logger } from '../../logger.js';
import { resolvePgClient, type PgClient, type PgClientPorts } from './pg-client.js';
import type { VerifyLayer } from '../../verify-layer.js';
import { isPgDump, readPgDump, tableDataEntries, type PgDumpReport } from './pgdump-reader.js';
import { minPgRestoreMajor } from './restore.js';

export interface PgDumpSummary {
  member: string;
  archiveVersion: string;
  compression: string;
  database: string;
  serverVersion: string;
  pgDumpVersion: string;
  tocEntries: number;
  dataBlocks: number;
  /** schema.table -> rows counted in the dump (deep only, COPY data). */
  rows?: Record<string, number>;
  report: PgDumpReport;
}

export interface PgInspectDeps {
  runner: ProcessRunner;
  logger?: Logger;
  searchRoots?: string[];
  signal?: AbortSignal;
  pgClientPorts?: PgClientPorts;
}

export interface PgInspectOptions {
  /** Inflate every data block and count COPY rows. */
  deep: boolean;
  pgBinDir?: string;
  pgClient?: PgClientChoice;
}

export interface InspectedPgDump {
  bytes: number;
  sha256: string;
  summary?: PgDumpSummary;
  layers: VerifyLayer[];
}

/**
 * The layers `dump header and TOC`, `data blocks` and `pg_restore --list`, from one read of the
 * dump. Its chunks may refill one buffer (a bundle member's `chunks()`): each is hashed, written to
 * `sink` and to pg_restore, and handed to the native reader before the next is read.
 */
export async function inspectPgDumpStream(
  deps: PgInspectDeps,
  input: Readable | TransientChunks,
  member: string,
  options: PgInspectOptions,
  sink: Writable | undefined,
): Promise<InspectedPgDump> {
  const { head, rest: stream } = await peekTransient(input, 8);
  // on the shared sha256 worker or in place (sha256-worker.ts), beside the stored object's hash
  const hash = new OffThreadSha256();

  const handoff = new ChunkHandoff();
  // a reader that fails closes the handoff: the rest of the dump is only hashed and copied
  const reading = readPgDump(handoff, { deep: options.deep, signal: deps.signal }).finally(() =>
    handoff.close(),
  );
  reading.catch(() => undefined);

  const list = await startPgRestoreList(deps, head, options);
  let bytes: number;
  try {
    bytes = await passTransient(stream, { hash, sink, reader: handoff, also: (buf) => list.write(buf) });
  } finally {
    list.end();
  }

  const layers: VerifyLayer[] = [];
  let summary: PgDumpSummary | undefined;
  try {
    summary = summarize(await reading, member, options.deep);
    layers.push(headerLayer(summary), dataBlocksLayer(summary, options.deep));
  } catch (err) {
    layers.push({ name: 'dump header and TOC', ok: false, detail: messageOf(err) });
  }
  layers.push(listLayer(await list.result(), summary));
  return { bytes, sha256: await hash.digest(), summary, layers };
}

function summarize(report: PgDumpReport, member: string, deep: boolean): PgDumpSummary {
  const h = report.header;
  const rows: Record<string, number> = {};
  for (const b of report.blocks) {
    if (b.kind === 'data' && b.rows !== undefined && b.entry)
      rows[`${b.entry.namespace}.${b.entry.tag}`] = b.rows;
  }
  return {
    member,
    archiveVersion: h.archiveVersion,
    compression:
      h.compression.algorithm + (h.compression.level !== undefined ? ` (level ${h.compression.level})` : ''),
    database: h.database,
    serverVersion: h.serverVersion,
    pgDumpVersion: h.pgDumpVersion,
    tocEntries: report.toc.length,
    dataBlocks: report.blocks.length,
    rows: deep ? rows : undefined,
    report,
  };
}

function headerLayer(summary: PgDumpSummary): VerifyLayer {
  return {
    name: 'dump header and TOC',
    ok: true,
    detail: `archive ${summary.archiveVersion}, ${summary.compression}, database "${summary.database}", server ${summary.serverVersion}, pg_dump ${summary.pgDumpVersion}, ${summary.tocEntries} TOC entries`,
  };
}

function dataBlocksLayer(summary: PgDumpSummary, deep: boolean): VerifyLayer {
  const report = summary.report;
  const missing = report.missingBlocks ?? [];
  const deepUnsupported = (report as { deepUnsupported?: string }).deepUnsupported;
  if (missing.length) {
    return {
      name: 'data blocks',
      ok: false,
      detail: `${missing.length} data block(s) missing (truncated dump?): ${missing
        .slice(0, 5)
        .map((e) => `${e.namespace}.${e.tag}`)
        .join(', ')}`,
    };
  }
  if (deep && deepUnsupported) {
    return { name: 'data blocks', ok: false, detail: `cannot inflate: ${deepUnsupported}` };
  }
  const totalRows = Object.values(summary.rows ?? {}).reduce((a, b) => a + b, 0);
  const inflated = report.blocks.reduce((n, b) => n + (b.uncompressedBytes ?? 0), 0);
  return {
    name: 'data blocks',
    ok: true,
    detail: deep
      ? `${report.blocks.length} block(s) inflated to the end (${inflated} bytes, ${totalRows} rows of COPY data)`
      : `${report.blocks.length} block(s) framed correctly to the end of the dump (use deep to inflate them)`,
  };
}

function listLayer(listed: ListOutcome, summary: PgDumpSummary | undefined): VerifyLayer {
  const name = 'pg_restore --list';
  if (listed.skipped) return { name, ok: true, skipped: true, detail: listed.skipped };
  if (listed.error) return { name, ok: false, detail: listed.error };
  if (!summary) return { name, ok: true, detail: `${listed.tool} lists ${listed.ids.length} entries` };
  const ids = new Set(summary.report.toc.map((e) => e.dumpId));
  const unknown = listed.ids.filter((id) => !ids.has(id));
  return {
    name,
    ok: unknown.length === 0,
    detail: unknown.length
      ? `pg_restore lists dump ids the native reader did not find: ${unknown.slice(0, 5).join(', ')}`
      : `${listed.tool} lists ${listed.ids.length} entries, all found by the native reader`,
  };
}

/** The manifest's tables (counted at backup) against the dump's TOC and, when deep, its COPY rows. */
export function tablesLayer(component: PostgresComponent, dump: PgDumpSummary, deep: boolean): VerifyLayer {
  const entries = tableDataEntries(dump.report.toc);
  const problems: string[] = [];
  // a table pg_dump dumps without data (unlogged, from a standby) has no TABLE DATA entry
  const tables = component.tables.filter((t) => t.kind === 'table' && !t.noData);
  let compared = 0;
  for (const t of tables) {
    const key = `${t.schema}.${t.name}`;
    if (!entries.has(key)) {
      problems.push(`${key} has no TABLE DATA entry in the dump`);
      continue;
    }
    if (deep && dump.rows && key in dump.rows && t.rows !== null) {
      compared++;
      if (dump.rows[key] !== t.rows)
        problems.push(`${key}: ${dump.rows[key]} rows in the dump, ${t.rows} counted at backup`);
    }
  }
  const detail = problems.length
    ? problems.slice(0, 10).join('; ') + (problems.length > 10 ? `; and ${problems.length - 10} more` : '')
    : deep
      ? `${tables.length} table(s) in the TOC; ${compared} row count(s) in the dump equal the counts taken at backup`
      : `${tables.length} table(s) in the manifest all have TABLE DATA in the TOC`;
  return { name: 'tables match manifest', ok: problems.length === 0, detail };
}

interface ListOutcome {
  skipped?: string;
  error?: string;
  ids: number[];
  tool?: string;
}

/** The `pg_restore --list` child, fed chunk by chunk by the caller's single read of the dump. */
interface ListRun {
  /** Resolves once the child has the chunk (or reads no more): the caller may then reuse it. */
  write(buf: Buffer): Promise<void> | void;
  end(): void;
  result(): Promise<ListOutcome>;
}

async function startPgRestoreList(
  deps: PgInspectDeps,
  head: Buffer,
  options: PgInspectOptions,
): Promise<ListRun> {
  const noop = (skipped?: string, error?: string): ListRun => ({
    write: () => undefined,
    end: () => undefined,
    result: async () => ({ skipped, error, ids: [] }),
  });
  if (!isPgDump(head)) return noop(undefined, 'not a pg_dump archive');
  const minor = head[6];
  const needed = minPgRestoreMajor(minor);
  let tool: PgClient;
  try {
    tool = await resolvePgClient(deps, {
      tool: 'pg_restore',
      minMajor: needed,
      choice: options.pgClient,
      pgBinDir: options.pgBinDir,
      searchRoots: deps.searchRoots,
      ports: deps.pgClientPorts,
    });
  } catch (err) {
    // Forced docker/apt that cannot work is the user's mistake; otherwise the native reader suffices.
    if (options.pgClient?.mode === 'docker' || options.pgClient?.mode === 'apt') throw err;
    return noop(
      `no installed pg_restore reads archive version 1.${minor} (needs PostgreSQL ${needed} or newer); the native reader covers this archive alone`,
    );
  }
  const run = tool.invocation(['--list']);
  const child = deps.runner.spawn(run.command, run.args, { stdin: 'pipe' });
  const stdin = child.stdin!;
  // pg_restore stops reading once it has the TOC; what follows is not needed and must not be queued.
  let stdinOpen = true;
  const stdinClosed = new Promise<void>((resolve) => {
    const close = () => {
      stdinOpen = false;
      resolve();
    };
    stdin.once('close', close);
    stdin.once('error', close);
  });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-4000)));
  const outputRead = Promise.all([finished(child.stdout), finished(child.stderr)]).catch(() => undefined);
  const label = `pg_restore ${tool.version}`;
  const done = child.exited.then(async ({ code, error }): Promise<ListOutcome> => {
    if (error) return { error: `cannot run ${tool.display}: ${error.message}`, ids: [], tool: tool.display };
    await outputRead;
    const ids = [...out.matchAll(/^(\d+);/gm)].map((m) => Number(m[1]));
    if (code !== 0)
      return { error: `${label} --list failed: ${err.trim().split('\n').pop()}`, ids, tool: label };
    return { ids, tool: label };
  });
  return {
    write(buf) {
      if (!stdinOpen) return;
      return Promise.race([new Promise<void>((r) => stdin.write(buf, () => r())), stdinClosed]);
    },
    end() {
      if (stdinOpen) stdin.end();
    },
    result: () => done,
  };
}
