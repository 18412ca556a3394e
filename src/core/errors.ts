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

/** A verification, drill objective or health check that did not hold: exit code 1. */
export class CheckFailed extends Error {
  readonly exitCode = 1;
  constructor(
    message: string,
    /** The use case's result, so adapters can still print JSON and set outputs on failure. */
    readonly result?: unknown,
  ) {
    super(message);
    this.name = 'CheckFailed';
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
  return error instanceof Error ? error.message : String(error);
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
