/**
 * The two kinds of failure the contract distinguishes. Everything in core throws one of
 * these (or lets an unexpected error escape); only the entry-point wrappers turn them into
 * exit codes or `core.setFailed`.
 */

/** A user mistake in options or environment: exit code 2. The message names the thing and the fix. */
export class ConfigError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/**
 * A verification, drill objective or health check that did not hold: exit code 1. `R` is the
 * result type of the use case that failed (`new CheckFailed(message, result)` infers it); a catch
 * block sees `CheckFailed<unknown>`, so adapters recover the type with `resultOf`.
 */
export class CheckFailed<R = unknown> extends Error {
  readonly exitCode = 1;
  constructor(
    message: string,
    /** The use case's result, so adapters can still print JSON and set outputs on failure. */
    readonly result?: R,
  ) {
    super(message);
    this.name = 'CheckFailed';
  }

  /**
   * The result attached to `error` when it is a CheckFailed whose result has the `key` that only
   * results of type R have (e.g. `layers` for a verify result); undefined otherwise, so a failure
   * thrown before the use case had a result is never mistaken for one.
   */
  static resultOf<R extends object>(error: unknown, key: keyof R & string): R | undefined {
    if (!(error instanceof CheckFailed)) return undefined;
    const result: unknown = error.result;
    return typeof result === 'object' && result !== null && key in result ? (result as R) : undefined;
  }
}

/**
 * Something around the check failed, not the thing being checked: the machine running dbdrill (a
 * full disk, a dir that is not writable) or the way to the store (a cut connection). Exit code 1
 * like a failed check, but never reported as a finding about the bundle, so nobody goes looking
 * for a better backup.
 */
export class EnvironmentFault extends Error {
  readonly exitCode = 1;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EnvironmentFault';
  }
}

/** The run was cancelled (SIGINT/SIGTERM); treated like a failed check (exit 1) after clean-up. */
export class Cancelled extends Error {
  readonly exitCode = 1;
  constructor(signal: string) {
    super(`cancelled by ${signal}`);
    this.name = 'Cancelled';
  }
}

export function exitCodeOf(error: unknown): number {
  if (error instanceof ConfigError || error instanceof CheckFailed || error instanceof Cancelled) {
    return error.exitCode;
  }
  return 1;
}

export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  // an Error from another realm (a vm context, jest's module VM) is still an error with a message
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : String(error);
}

/**
 * Throws Cancelled when the run's signal fired. The reason is the signal name (e.g. SIGINT), or
 * already a Cancelled, which is thrown as it is so the first cause survives nested checks.
 */
export function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (!signal?.aborted) return;
  if (signal.reason instanceof Cancelled) throw signal.reason;
  throw new Cancelled(typeof signal.reason === 'string' ? signal.reason : 'abort');
}
