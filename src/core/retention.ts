import { parseBundleKey } from './bundle/naming.js';
import { ConfigError } from './errors.js';

/**
 * Grandfather-father-son retention over bundle timestamps (UTC), with restic's semantics: every
 * tier is applied on its own to the full list (a bundle may be kept by several tiers), and a
 * tier keeps the newest bundle of each of its N most recent periods that have a bundle.
 */
export interface RetentionPolicy {
  keepLast?: number;
  keepHourly?: number;
  keepDaily?: number;
  keepWeekly?: number;
  keepMonthly?: number;
  keepYearly?: number;
  /** Seconds: a bundle younger than this is never deleted, whatever the tiers say. */
  minAge?: number;
}

export interface RetentionCandidate {
  key: string;
  timestamp: Date;
  /** true: verified; false: verification failed; undefined: not known. */
  verified?: boolean;
}

export interface KeptBundle {
  key: string;
  timestamp: Date;
  reasons: string[];
}

export interface RetentionPlan {
  /** Newest first. */
  keep: KeptBundle[];
  /** Newest first. */
  delete: { key: string; timestamp: Date }[];
  /** Set when pruning must not delete anything (then `delete` is empty and everything is kept). */
  blockedReason?: string;
  newest?: string;
  newestVerified?: string;
}

export type Tier = 'hourly' | 'daily' | 'weekly' | 'monthly' | 'yearly';

export const TIERS: { tier: Tier; option: keyof RetentionPolicy; flag: string }[] = [
  { tier: 'hourly', option: 'keepHourly', flag: 'keep-hourly' },
  { tier: 'daily', option: 'keepDaily', flag: 'keep-daily' },
  { tier: 'weekly', option: 'keepWeekly', flag: 'keep-weekly' },
  { tier: 'monthly', option: 'keepMonthly', flag: 'keep-monthly' },
  { tier: 'yearly', option: 'keepYearly', flag: 'keep-yearly' },
];

const KEEP_OPTIONS: { option: keyof RetentionPolicy; flag: string }[] = [
  { option: 'keepLast', flag: 'keep-last' },
  ...TIERS,
];

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** ISO 8601 week-numbering year and week: the week belongs to the year of its Thursday. */
export function isoWeek(date: Date): { year: number; week: number } {
  const day = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
  const weekday = day.getUTCDay() || 7;
  day.setUTCDate(day.getUTCDate() + 4 - weekday);
  const yearStart = Date.UTC(day.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((day.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return { year: day.getUTCFullYear(), week };
}

/** The period label a timestamp falls in; also the text of the keep reason ("daily 2026-11-21"). */
export function periodOf(tier: Tier, date: Date): string {
  const y = date.getUTCFullYear();
  const m = pad(date.getUTCMonth() + 1);
  const d = pad(date.getUTCDate());
  switch (tier) {
    case 'hourly':
      return `${y}-${m}-${d}T${pad(date.getUTCHours())}`;
    case 'daily':
      return `${y}-${m}-${d}`;
    case 'weekly': {
      const w = isoWeek(date);
      return `${w.year}-W${pad(w.week)}`;
    }
    case 'monthly':
      return `${y}-${m}`;
    case 'yearly':
      return String(y);
  }
}

/** Rejects a policy that is malformed or would keep nothing: pruning everything is never what was meant. */
export function validateRetentionPolicy(policy: RetentionPolicy): RetentionPolicy {
  for (const { option, flag } of [...KEEP_OPTIONS, { option: 'minAge' as const, flag: 'min-age' }]) {
    const value = policy[option];
    if (value === undefined) continue;
    if (
      typeof value !== 'number' ||
      !Number.isFinite(value) ||
      value < 0 ||
      (option !== 'minAge' && !Number.isInteger(value))
    ) {
      throw new ConfigError(`${flag} must be a whole number of 0 or more, got ${String(value)}`);
    }
  }
  if (!KEEP_OPTIONS.some(({ option }) => (policy[option] ?? 0) > 0)) {
    throw new ConfigError(
      'prune needs a retention policy: set at least one of keep-last, keep-hourly, keep-daily, keep-weekly, keep-monthly or keep-yearly (a policy that keeps nothing would delete every bundle)',
    );
  }
  return policy;
}

function sortNewestFirst<T extends { key: string; timestamp: Date }>(bundles: T[]): T[] {
  const seq = (key: string): number => parseBundleKey(key)?.sequence ?? 0;
  return [...bundles].sort(
    (a, b) =>
      b.timestamp.getTime() - a.timestamp.getTime() ||
      seq(b.key) - seq(a.key) ||
      (a.key < b.key ? 1 : a.key > b.key ? -1 : 0),
  );
}

function formatSeconds(seconds: number): string {
  if (seconds % 86_400 === 0) return `${seconds / 86_400}d`;
  if (seconds % 3_600 === 0) return `${seconds / 3_600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}

/** Which bundle each tier keeps, newest period first; shared by the plan and the post-prune check. */
function tierPicks(
  sorted: { key: string; timestamp: Date }[],
  tier: Tier,
  count: number,
): { key: string; period: string }[] {
  const picks: { key: string; period: string }[] = [];
  const seen = new Set<string>();
  for (const b of sorted) {
    if (picks.length >= count) break;
    const period = periodOf(tier, b.timestamp);
    if (seen.has(period)) continue;
    seen.add(period);
    picks.push({ key: b.key, period });
  }
  return picks;
}

/**
 * Decides what to keep and why. Pure: no store access, `now` is passed in. Protections beat the
 * policy: the newest bundle, the newest verified bundle and bundles younger than min-age stay,
 * and nothing at all is deleted while the newest bundle is known to have failed verification
 * (so a run of bad backups cannot rotate the last good ones away).
 */
export function planRetention(
  bundles: RetentionCandidate[],
  policy: RetentionPolicy,
  now: Date,
): RetentionPlan {
  validateRetentionPolicy(policy);
  const unique = new Map<string, RetentionCandidate>();
  for (const b of bundles) {
    if (!(b.timestamp instanceof Date) || Number.isNaN(b.timestamp.getTime())) {
      throw new Error(`bundle ${b.key} has no valid timestamp`);
    }
    unique.set(b.key, b);
  }
  const sorted = sortNewestFirst([...unique.values()]);
  if (sorted.length === 0) return { keep: [], delete: [] };

  const reasons = new Map<string, string[]>(sorted.map((b) => [b.key, []]));
  const add = (key: string, reason: string): void => void reasons.get(key)!.push(reason);
  const newest = sorted[0];
  const newestVerified = sorted.find((b) => b.verified === true);

  if (newest.verified === false) {
    const blockedReason = `the newest bundle ${newest.key} failed verification; nothing is deleted until a newer bundle verifies`;
    return {
      keep: sorted.map((b) => ({
        key: b.key,
        timestamp: b.timestamp,
        reasons: ['pruning blocked: newest bundle failed verification'],
      })),
      delete: [],
      blockedReason,
      newest: newest.key,
      newestVerified: newestVerified?.key,
    };
  }

  add(newest.key, 'newest bundle');
  if (newestVerified) add(newestVerified.key, 'newest verified');
  if (policy.minAge && policy.minAge > 0) {
    const label = `younger than min-age (${formatSeconds(policy.minAge)})`;
    for (const b of sorted) {
      if ((now.getTime() - b.timestamp.getTime()) / 1000 < policy.minAge) add(b.key, label);
    }
  }
  const keepLast = policy.keepLast ?? 0;
  sorted.slice(0, keepLast).forEach((b, i) => add(b.key, `last ${i + 1} of ${keepLast}`));
  for (const { tier, option } of TIERS) {
    const count = policy[option] ?? 0;
    for (const pick of tierPicks(sorted, tier, count)) add(pick.key, `${tier} ${pick.period}`);
  }

  const plan: RetentionPlan = {
    keep: [],
    delete: [],
    newest: newest.key,
    newestVerified: newestVerified?.key,
  };
  for (const b of sorted) {
    const why = reasons.get(b.key)!;
    if (why.length > 0) plan.keep.push({ key: b.key, timestamp: b.timestamp, reasons: why });
    else plan.delete.push({ key: b.key, timestamp: b.timestamp });
  }
  return plan;
}

/**
 * Checks, after pruning, that the store still holds what the policy promises: for each tier,
 * the newest bundle of each of its N newest periods (among the bundles that existed before),
 * and the keep-last bundles. Pass `before` (the listing the plan was made from) for the full
 * check; without it, the remaining bundles are checked against themselves (tier counts only).
 * Returns the problems, empty when the promise holds.
 */
export function checkRetention(
  remaining: { key: string; timestamp: Date }[],
  policy: RetentionPolicy,
  before?: { key: string; timestamp: Date }[],
): string[] {
  validateRetentionPolicy(policy);
  const problems: string[] = [];
  const after = sortNewestFirst(remaining);
  const prior = sortNewestFirst(before ?? remaining);
  const present = new Set(after.map((b) => b.key));
  if (prior.length > 0 && after.length === 0)
    problems.push(`no bundle is left of the ${prior.length} there were`);
  if (prior.length > 0 && !present.has(prior[0].key))
    problems.push(`the newest bundle ${prior[0].key} is missing`);

  const keepLast = policy.keepLast ?? 0;
  for (const b of prior.slice(0, keepLast)) {
    if (!present.has(b.key)) problems.push(`keep-last ${keepLast}: ${b.key} is missing`);
  }
  for (const { tier, option, flag } of TIERS) {
    const count = policy[option] ?? 0;
    if (count === 0) continue;
    const expected = tierPicks(prior, tier, count);
    const held = new Set(after.map((b) => periodOf(tier, b.timestamp)));
    const heldOfExpected = expected.filter((p) => held.has(p.period)).length;
    if (heldOfExpected < expected.length) {
      problems.push(
        `${flag} ${count}: holds ${heldOfExpected} of the ${expected.length} ${tier} periods it should (${expected
          .filter((p) => !held.has(p.period))
          .map((p) => p.period)
          .join(', ')} missing)`,
      );
    }
    for (const pick of expected) {
      if (held.has(pick.period) && !present.has(pick.key)) {
        problems.push(`${tier} ${pick.period}: its newest bundle ${pick.key} is missing`);
      }
    }
  }
  return problems;
}
