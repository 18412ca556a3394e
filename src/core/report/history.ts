import type { HistoryEntry } from './model.js';

/**
 * Flags a drill whose RTO is more than `threshold` (25 %) above the median RTO of earlier
 * drills. The median, not the mean, so one pathological drill does not hide a regression.
 * Cancelled drills and drills without an RTO (the app never became healthy) are left out.
 */
export function slowerThanMedian(
  history: readonly Pick<HistoryEntry, 'rtoSeconds' | 'status'>[],
  current: number | undefined,
  threshold = 0.25,
): { flag: boolean; median?: number } {
  const values = history
    .filter((h) => h.status !== 'cancelled')
    .map((h) => h.rtoSeconds)
    .filter((v): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0);
  if (values.length === 0) return { flag: false };
  const m = median(values);
  const flag = typeof current === 'number' && Number.isFinite(current) && current > m * (1 + threshold);
  return { flag, median: m };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
