import { describe, expect, it } from '@jest/globals';
import { bundleKey } from '../src/core/bundle/naming.js';
import { ConfigError } from '../src/core/errors.js';
import {
  checkRetention,
  isoWeek,
  periodOf,
  planRetention,
  type RetentionCandidate,
  type RetentionPolicy,
} from '../src/core/retention.js';

const HOUR = 3_600_000;
const at = (iso: string): Date => new Date(iso);
const b = (iso: string, verified?: boolean): RetentionCandidate => ({
  key: bundleKey('shop', at(iso)),
  timestamp: at(iso),
  verified,
});

/** Every 6 h from 2023-01-01 for three years, with two outages (no backups for weeks). */
function threeYears(): RetentionCandidate[] {
  const out: RetentionCandidate[] = [];
  const start = Date.UTC(2023, 0, 1, 1, 30);
  const end = Date.UTC(2026, 0, 1, 0, 0);
  const gaps = [
    [Date.UTC(2023, 6, 10), Date.UTC(2023, 7, 20)], // 41 days in summer 2023: all of a week and most of a month
    [Date.UTC(2025, 11, 20), Date.UTC(2025, 11, 30)], // ten days before new year 2026
  ];
  for (let t = start; t < end; t += 6 * HOUR) {
    if (gaps.some(([a, z]) => t >= a && t < z)) continue;
    out.push({ key: bundleKey('shop', new Date(t)), timestamp: new Date(t), verified: true });
  }
  return out;
}

const keysOf = (xs: { key: string }[]): string[] => xs.map((x) => x.key);

describe('periods', () => {
  it('uses ISO weeks, whose year can differ from the calendar year', () => {
    expect(isoWeek(at('2026-01-01T12:00:00Z'))).toEqual({ year: 2026, week: 1 }); // a Thursday
    expect(isoWeek(at('2025-12-29T00:00:00Z'))).toEqual({ year: 2026, week: 1 }); // Monday of that week
    expect(isoWeek(at('2027-01-01T00:00:00Z'))).toEqual({ year: 2026, week: 53 }); // a Friday
    expect(isoWeek(at('2027-01-04T00:00:00Z'))).toEqual({ year: 2027, week: 1 });
    expect(isoWeek(at('2024-12-30T00:00:00Z'))).toEqual({ year: 2025, week: 1 });
    expect(periodOf('weekly', at('2021-01-03T23:59:59Z'))).toBe('2020-W53');
    expect(periodOf('daily', at('2026-11-21T23:59:59Z'))).toBe('2026-11-21');
    expect(periodOf('hourly', at('2026-11-21T07:59:59Z'))).toBe('2026-11-21T07');
    expect(periodOf('monthly', at('2026-02-28T23:00:00Z'))).toBe('2026-02');
    expect(periodOf('yearly', at('2026-12-31T23:59:59Z'))).toBe('2026');
  });
});

describe('planRetention', () => {
  const now = at('2026-01-01T00:00:00Z');

  it('keeps the newest bundle of each of the last N periods per tier over three years with gaps', () => {
    const bundles = threeYears();
    const policy: RetentionPolicy = {
      keepLast: 3,
      keepDaily: 7,
      keepWeekly: 5,
      keepMonthly: 12,
      keepYearly: 10,
    };
    const plan = planRetention(bundles, policy, now);
    expect(plan.keep.length + plan.delete.length).toBe(bundles.length);
    const reasons = new Map(plan.keep.map((k) => [k.key, k.reasons]));
    const reasonList = plan.keep.flatMap((k) => k.reasons);

    // Newest first; the newest is at 2025-12-31T19:30Z.
    expect(plan.keep[0].key).toBe(bundleKey('shop', at('2025-12-31T19:30:00Z')));
    expect(reasons.get(plan.keep[0].key)).toEqual(
      expect.arrayContaining([
        'newest bundle',
        'newest verified',
        'last 1 of 3',
        'daily 2025-12-31',
        'weekly 2026-W01',
        'monthly 2025-12',
        'yearly 2025',
      ]),
    );
    // Daily: the ten-day gap (Dec 20-29) is skipped, not counted: 7 days that have bundles.
    expect(reasonList.filter((r) => r.startsWith('daily ')).sort()).toEqual(
      ['2025-12-31', '2025-12-30', '2025-12-19', '2025-12-18', '2025-12-17', '2025-12-16', '2025-12-15']
        .map((d) => `daily ${d}`)
        .sort(),
    );
    // Each daily keep is the last bundle of its day (19:30Z).
    for (const k of plan.keep.filter((k) => k.reasons.some((r) => r.startsWith('daily ')))) {
      expect(k.timestamp.getUTCHours()).toBe(19);
    }
    // Weekly across the new year: 2025-12-29..31 is ISO week 2026-W01; the gap empties W52.
    expect(reasonList.filter((r) => r.startsWith('weekly ')).sort()).toEqual(
      ['weekly 2026-W01', 'weekly 2025-W51', 'weekly 2025-W50', 'weekly 2025-W49', 'weekly 2025-W48'].sort(),
    );
    // Month boundaries: each monthly keep is the last bundle of its month.
    const monthly = plan.keep.filter((k) => k.reasons.some((r) => r.startsWith('monthly ')));
    expect(monthly).toHaveLength(12);
    for (const k of monthly.slice(1)) {
      const next = new Date(k.timestamp.getTime() + 6 * HOUR);
      expect(next.getUTCMonth()).not.toBe(k.timestamp.getUTCMonth());
    }
    expect(monthly.map((k) => k.key)).toContain(bundleKey('shop', at('2025-02-28T19:30:00Z')));
    // Yearly: only three years exist, so three are kept (the promise is min(N, available)).
    expect(reasonList.filter((r) => r.startsWith('yearly ')).sort()).toEqual([
      'yearly 2023',
      'yearly 2024',
      'yearly 2025',
    ]);
    expect(keysOf(plan.keep)).toContain(bundleKey('shop', at('2023-12-31T19:30:00Z')));
    expect(keysOf(plan.keep)).toContain(bundleKey('shop', at('2024-12-31T19:30:00Z')));

    // Tiers overlap (restic semantics), so the kept set is smaller than the sum of the tiers.
    expect(plan.keep.length).toBeLessThan(3 + 7 + 5 + 12 + 10);
    expect(checkRetention(plan.keep, policy, bundles)).toEqual([]);
  });

  it('is idempotent: planning again on what was kept keeps everything', () => {
    const bundles = threeYears();
    for (const policy of [
      { keepLast: 3, keepDaily: 7, keepWeekly: 5, keepMonthly: 12, keepYearly: 10 },
      { keepHourly: 48, keepMonthly: 3 },
      { keepWeekly: 200 },
      { keepDaily: 30, minAge: 10 * 86_400 },
    ]) {
      const first = planRetention(bundles, policy, now);
      const second = planRetention(first.keep, policy, now);
      expect(second.delete).toEqual([]);
      expect(keysOf(second.keep)).toEqual(keysOf(first.keep));
      expect(checkRetention(first.keep, policy, bundles)).toEqual([]);
    }
  });

  it('keeps the month and year boundary bundles for hourly/monthly across 2024-02-29 and new year', () => {
    const bundles = [
      b('2024-02-29T23:59:59Z'),
      b('2024-03-01T00:00:00Z'),
      b('2024-12-31T23:00:00Z'),
      b('2024-12-31T23:59:59Z'),
      b('2025-01-01T00:00:00Z'),
    ];
    const plan = planRetention(bundles, { keepMonthly: 10, keepYearly: 10 }, now);
    expect(plan.delete.map((d) => d.key)).toEqual([bundleKey('shop', at('2024-12-31T23:00:00Z'))]);
    const reasons = Object.fromEntries(plan.keep.map((k) => [k.timestamp.toISOString(), k.reasons]));
    expect(reasons['2024-02-29T23:59:59.000Z']).toEqual(['monthly 2024-02']);
    expect(reasons['2024-03-01T00:00:00.000Z']).toEqual(['monthly 2024-03']);
    expect(reasons['2024-12-31T23:59:59.000Z']).toEqual(['monthly 2024-12', 'yearly 2024']);
    expect(reasons['2025-01-01T00:00:00.000Z']).toEqual(['newest bundle', 'monthly 2025-01', 'yearly 2025']);

    const hourly = planRetention(bundles, { keepHourly: 2 }, now);
    expect(keysOf(hourly.keep)).toEqual([
      bundleKey('shop', at('2025-01-01T00:00:00Z')),
      bundleKey('shop', at('2024-12-31T23:59:59Z')),
    ]);
  });

  it('orders same-second bundles by sequence number, not by key text', () => {
    const t = at('2026-01-01T00:00:00Z');
    const seq = (n: number): RetentionCandidate => ({
      key: bundleKey('shop', t, { sequence: n }),
      timestamp: t,
    });
    const plan = planRetention([seq(0), seq(2), seq(10)], { keepLast: 1 }, now);
    expect(keysOf(plan.keep)).toEqual([bundleKey('shop', t, { sequence: 10 })]);
  });

  describe('protections', () => {
    it('never deletes the newest bundle nor the newest verified one', () => {
      const bundles = [
        b('2025-12-31T00:00:00Z'),
        b('2025-12-30T00:00:00Z', true),
        b('2025-12-29T00:00:00Z', true),
      ];
      // keep-yearly 1 alone would keep only the newest of 2025.
      const plan = planRetention(bundles, { keepYearly: 1 }, now);
      expect(plan.keep.map((k) => [k.timestamp.toISOString().slice(0, 10), k.reasons])).toEqual([
        ['2025-12-31', ['newest bundle', 'yearly 2025']],
        ['2025-12-30', ['newest verified']],
      ]);
      expect(plan.newestVerified).toBe(bundles[1].key);
      expect(keysOf(plan.delete)).toEqual([bundles[2].key]);
    });

    it('deletes nothing while the newest bundle failed verification', () => {
      const bundles = [...threeYears().slice(0, -1), b('2025-12-31T23:00:00Z', false)];
      const plan = planRetention(bundles, { keepLast: 1 }, now);
      expect(plan.delete).toEqual([]);
      expect(plan.keep).toHaveLength(bundles.length);
      expect(plan.blockedReason).toMatch(/newest bundle .* failed verification; nothing is deleted/);
    });

    it('a failed older bundle does not block, and unknown status is not "verified"', () => {
      const bundles = [
        b('2025-12-31T00:00:00Z'),
        b('2025-12-30T00:00:00Z', false),
        b('2025-12-29T00:00:00Z'),
      ];
      const plan = planRetention(bundles, { keepLast: 1 }, now);
      expect(plan.blockedReason).toBeUndefined();
      expect(plan.newestVerified).toBeUndefined();
      expect(keysOf(plan.delete)).toEqual([bundles[1].key, bundles[2].key]);
    });

    it('keeps everything younger than min-age, including timestamps in the future (clock skew)', () => {
      const bundles = [
        b('2026-01-01T06:00:00Z'),
        b('2025-12-31T23:00:00Z'),
        b('2025-12-31T01:00:00Z'),
        b('2025-12-30T00:00:00Z'),
      ];
      const plan = planRetention(bundles, { keepLast: 1, minAge: 86_400 }, now);
      expect(plan.keep.map((k) => [k.timestamp.toISOString(), k.reasons])).toEqual([
        ['2026-01-01T06:00:00.000Z', ['newest bundle', 'younger than min-age (1d)', 'last 1 of 1']],
        ['2025-12-31T23:00:00.000Z', ['younger than min-age (1d)']],
        ['2025-12-31T01:00:00.000Z', ['younger than min-age (1d)']],
      ]);
      expect(keysOf(plan.delete)).toEqual([bundles[3].key]);
    });
  });

  it('refuses a policy that keeps nothing, and malformed numbers', () => {
    const bundles = [b('2025-12-31T00:00:00Z'), b('2025-12-30T00:00:00Z')];
    for (const policy of [{}, { minAge: 3600 }, { keepDaily: 0, keepLast: 0 }]) {
      expect(() => planRetention(bundles, policy, now)).toThrow(ConfigError);
      expect(() => planRetention(bundles, policy, now)).toThrow(/keep-last, keep-hourly, keep-daily/);
    }
    expect(() => planRetention(bundles, { keepDaily: -1 }, now)).toThrow(/keep-daily must be a whole number/);
    expect(() => planRetention(bundles, { keepLast: 1.5 }, now)).toThrow(/keep-last must be a whole number/);
    expect(() => planRetention(bundles, { keepLast: Number.NaN }, now)).toThrow(ConfigError);
  });

  it('handles an empty store and duplicate keys', () => {
    expect(planRetention([], { keepLast: 1 }, now)).toEqual({ keep: [], delete: [] });
    const one = b('2025-12-31T00:00:00Z');
    expect(planRetention([one, one], { keepLast: 5 }, now).keep).toHaveLength(1);
  });
});

describe('checkRetention', () => {
  const now = at('2026-01-01T00:00:00Z');
  const policy: RetentionPolicy = { keepLast: 2, keepDaily: 7, keepMonthly: 6 };

  it('reports a tier that lost a period and a missing keep-last bundle', () => {
    const bundles = threeYears();
    const plan = planRetention(bundles, policy, now);
    const monthlyVictim = plan.keep.find(
      (k) => k.reasons.length === 1 && k.reasons[0] === 'monthly 2025-09',
    )!;
    expect(monthlyVictim).toBeDefined();
    const remaining = plan.keep.filter((k) => k !== monthlyVictim && k.key !== plan.keep[1].key);
    const problems = checkRetention(remaining, policy, bundles);
    expect(problems).toEqual(
      expect.arrayContaining([
        `keep-last 2: ${plan.keep[1].key} is missing`,
        'keep-monthly 6: holds 5 of the 6 monthly periods it should (2025-09 missing)',
      ]),
    );
  });

  it('reports when an older bundle stands in for the newest of its period', () => {
    const day = [b('2025-12-31T18:00:00Z'), b('2025-12-31T12:00:00Z')];
    expect(checkRetention([day[1]], { keepDaily: 1 }, day)).toEqual([
      `the newest bundle ${day[0].key} is missing`,
      `daily 2025-12-31: its newest bundle ${day[0].key} is missing`,
    ]);
  });

  it('holds min(N, available): a young store is not a failure', () => {
    const few = [b('2025-12-31T00:00:00Z'), b('2025-12-30T00:00:00Z')];
    expect(checkRetention(few, { keepDaily: 7, keepYearly: 10 }, few)).toEqual([]);
    expect(checkRetention([], { keepDaily: 7 }, few)[0]).toBe('no bundle is left of the 2 there were');
  });
});
