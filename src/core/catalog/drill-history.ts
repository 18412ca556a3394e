/**
 * The drill history: `<name>.drill-history.jsonl` in the store, one JSON line per drill, so each
 * report can chart the trend of RTO and RPO across runs wherever the drill ran.
 */
import type { HistoryEntry } from '../report/model.js';
import type { Store } from '../stores/store.js';

export const DRILL_HISTORY_SUFFIX = '.drill-history.jsonl';

/** Lines kept in the file; a report shows fewer. */
const MAX_LINES = 500;

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

/** Read, append, write back: stores have no append, and a drill per name at a time is the norm. */
export async function appendDrillHistory(store: Store, name: string, entry: HistoryEntry): Promise<void> {
  const current = (await store.readText(name + DRILL_HISTORY_SUFFIX)) ?? '';
  const lines = current.split('\n').filter((l) => l.trim());
  lines.push(JSON.stringify(entry));
  await store.writeText(name + DRILL_HISTORY_SUFFIX, lines.slice(-MAX_LINES).join('\n') + '\n');
}
