import type { DrillCount } from '../report/model.js';

/**
 * The one wording of a compare-url drift check, for tables and collections alike: which counts are
 * off, or how many are within the tolerance.
 */
export function describeDrift(
  drift: DrillCount[],
  tolerance: { percent?: number; rows?: number },
  nouns: { things: string; units: string },
): { ok: boolean; detail: string } {
  const off = drift.filter((c) => !c.ok);
  if (off.length) {
    return {
      ok: false,
      detail: off
        .slice(0, 10)
        .map(
          (c) =>
            `${c.name}${c.tree ? ' (partition tree)' : ''}: production ${c.expected ?? 'not found or unreadable'}, restored ${c.actual ?? 'not found or unreadable'}`,
        )
        .join('; '),
    };
  }
  const within =
    tolerance.percent !== undefined ? `${tolerance.percent}%` : `${tolerance.rows} ${nouns.units}`;
  return { ok: true, detail: `${drift.length} ${nouns.things} within ${within}` };
}
