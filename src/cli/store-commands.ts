/**
 * The CLI's `list` and `prune`: parse, call core, print. Text goes to stdout (it is the answer);
 * with --json, one JSON object instead.
 */
import type { RuntimeDeps } from '../core/deps.js';
import { formatBytes, formatDuration } from '../core/duration.js';
import { LEVEL_TEXT } from '../core/catalog/index.js';
import { list, listJson, type ListedBundle } from '../core/list.js';
import { parseListOptions, parsePruneOptions, type OptionSource } from '../core/options/index.js';
import { prune, type PruneResult } from '../core/prune.js';

export interface CommandIo {
  json: boolean;
  stdout: (text: string) => void;
  print: (obj: unknown) => void;
}

function verifiedText(b: ListedBundle): string {
  if (b.level === 'unknown') return 'verified: unknown';
  // A bytes-only check of an encrypted bundle is not a verification of its contents.
  if (b.level === 'stored-object-intact') return `verified: no, ${LEVEL_TEXT[b.level]} (${b.verifiedAt})`;
  return `verified: ${b.verified} (${b.verifiedAt}${b.record?.deep ? ', deep' : ''})`;
}

export async function runList(deps: RuntimeDeps, reader: OptionSource, io: CommandIo): Promise<number> {
  const options = parseListOptions(reader);
  const result = await list(deps, options);
  if (io.json) {
    io.print(listJson(result));
    return 0;
  }
  if (result.bundles.length === 0) io.stdout(`no bundles named "${options.name}" in ${result.store}\n`);
  for (const b of result.bundles) {
    io.stdout(
      `${b.key}\t${formatDuration(b.ageSeconds)} old\t${formatBytes(b.sizeBytes)}\t${verifiedText(b)}\n`,
    );
  }
  return 0;
}

export function pruneJson(r: PruneResult): Record<string, unknown> {
  return {
    ok: r.ok,
    store: r.store,
    name: r.name,
    dryRun: r.dryRun,
    kept: r.kept,
    deleted: r.deleted,
    problems: r.problems,
    ...(r.blockedReason ? { blockedReason: r.blockedReason } : {}),
    newest: r.newest ?? null,
    newestVerified: r.newestVerified ?? null,
  };
}

export async function runPrune(deps: RuntimeDeps, reader: OptionSource, io: CommandIo): Promise<number> {
  const result = await prune(deps, parsePruneOptions(reader));
  if (io.json) io.print(pruneJson(result));
  else {
    for (const k of result.kept)
      io.stdout(`keep\t${k.key}\t${k.reasons.join(', ')}\t${LEVEL_TEXT[k.level ?? 'unknown']}\n`);
    for (const d of result.deleted) io.stdout(`${result.dryRun ? 'would delete' : 'deleted'}\t${d}\n`);
  }
  return 0;
}
