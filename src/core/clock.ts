/** Time is a dependency so tests can pin "now" for age, RPO and bundle names. */
export interface Clock {
  now(): Date;
  /** Monotonic milliseconds, for phase timings that must not jump with the wall clock. */
  monotonicMs(): number;
}

export const systemClock: Clock = {
  now: () => new Date(),
  monotonicMs: () => performance.now(),
};

export function fixedClock(at: Date): Clock {
  return { now: () => new Date(at.getTime()), monotonicMs: () => performance.now() };
}
