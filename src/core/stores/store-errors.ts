import { ConfigError } from '../errors.js';

/**
 * Bundles are immutable: a put that would replace an object fails with this, so a caller can
 * pick another key (a sequence suffix) instead of losing a backup. `code` matches Node's EEXIST.
 */
export class ObjectExistsError extends ConfigError {
  readonly code = 'EEXIST';
  constructor(
    readonly key: string,
    store: string,
  ) {
    super(
      `"${key}" already exists in store ${store}; bundles are never overwritten: use a new name or timestamp`,
    );
    this.name = 'ObjectExistsError';
  }
}

/** A named object that is not in the store; usually a mistyped bundle name or store URI (exit 2). */
export class ObjectNotFoundError extends ConfigError {
  readonly code = 'ENOENT';
  constructor(
    readonly key: string,
    store: string,
  ) {
    super(`"${key}" not found in store ${store}: check the name and store, or run "dbdrill list"`);
    this.name = 'ObjectNotFoundError';
  }
}

/**
 * Store keys are single path segments (bundle names, `<name>.drill-history.jsonl`). Rejecting
 * separators and dot-names keeps a key from escaping the store folder or looking like a partial.
 */
export function validateStoreKey(key: string): string {
  if (!key || key.length > 512 || /[/\\\0]/.test(key) || key.startsWith('.')) {
    throw new ConfigError(
      `store key "${key}" is not valid: use one file name of letters, digits, ".", "_" or "-" that does not start with "." or contain "/"`,
    );
  }
  return key;
}
