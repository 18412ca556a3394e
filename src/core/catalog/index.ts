/**
 * Shim: the names and lookups of a store's contents (bundles, the drill history) as the drill
 * sees them. It re-exports today's implementations and holds the lookups that lived in drill.ts;
 * its real home replaces this file.
 */
import { inspectBundle, type VerifyDeps } from '../inspection/index.js';
import type { HistoryEntry } from '../report/model.js';
import type { Store } from '../stores/store.js';
import { listBundles } from '../verify.js';

export { listBundles, locateBundle, resolveNewest, type BundleLocation } from '../verify.js';

export const DRILL_HISTORY_SUFFIX = '.drill-history.jsonl';

/** The newest of `name`'s bundles (other than `exceptKey`, the one that just failed) that verifies. */
export async function newestThatVerifies(
  deps: VerifyDeps,
  store: Store,
  name: string,
  options: { exceptKey: string; pgBinDir?: string },
): Promise<string | undefined> {
  const bundles = (await listBundles(store, name)).filter((b) => b.key !== options.exceptKey).slice(0, 10);
  for (const b of bundles) {
    const r = await inspectBundle(
      deps,
      { store, key: b.key, display: b.key, object: b },
      { deep: false, pgBinDir: options.pgBinDir },
    );
    if (r.ok) return `${store.displayUri.replace(/\/$/, '')}/${b.key}`;
  }
  return undefined;
}

export async function readDrillHistory(store: Store, name: string): Promise<HistoryEntry[]> {
  const text = await store.readText(name + DRILL_HISTORY_SUFFIX);
  if (!text) return [];
  const out: HistoryEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as HistoryEntry);
    } catch {
      /* a torn line from a crashed writer is skipped, not fatal */
    }
  }
  return out;
}

export async function appendDrillHistory(store: Store, name: string, entry: HistoryEntry): Promise<void> {
  const current = (await store.readText(name + DRILL_HISTORY_SUFFIX)) ?? '';
  const lines = current.split('\n').filter((l) => l.trim());
  lines.push(JSON.stringify(entry));
  await store.writeText(name + DRILL_HISTORY_SUFFIX, lines.slice(-500).join('\n') + '\n');
}
