/**
 * The Logger port (after github/codeql-action): core logs through this, the actions adapter
 * maps it to `@actions/core`, the CLI to stderr. Every message passes through the redactor
 * first, so a secret registered once never reaches a log in plain text.
 */
export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warning(message: string): void;
  error(message: string): void;
  startGroup(title: string): void;
  endGroup(): void;
  /** Registers a value that must never be printed (passwords, passphrases, secret-file values). */
  addSecret(value: string): void;
}

/**
 * Replaces registered secrets with `***`. Shared by every logger and by report writers, so a
 * secret is masked the same way in logs, reports and summaries.
 */
export class Redactor {
  private readonly secrets = new Set<string>();

  add(value: string | undefined): void {
    if (!value) return;
    const trimmed = value.trim();
    // Very short values would mask ordinary words everywhere; 4 chars is the same floor GitHub uses in practice.
    if (trimmed.length >= 4) this.secrets.add(trimmed);
    if (value.length >= 4) this.secrets.add(value);
    try {
      const encoded = encodeURIComponent(value);
      if (encoded !== value && encoded.length >= 4) this.secrets.add(encoded);
    } catch {
      /* lone surrogates cannot be URI-encoded; the raw value is still registered */
    }
  }

  redact(text: string): string {
    let out = text;
    // Longest first, so a secret containing another is masked whole.
    for (const s of [...this.secrets].sort((a, b) => b.length - a.length)) {
      if (out.includes(s)) out = out.split(s).join('***');
    }
    return redactUrlPasswords(out);
  }
}

/** Masks the password part of any URL in free text (`postgres://user:pw@host` → `postgres://user:***@host`). */
export function redactUrlPasswords(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/[^:/?#\s@]*):([^@/\s]+)@/gi, '$1:***@');
}

export interface ConsoleLoggerOptions {
  verbose?: boolean;
  write?: (line: string) => void;
  redactor?: Redactor;
}

/** The CLI's logger: human-readable lines on stderr, so stdout stays clean for `--json`. */
export class ConsoleLogger implements Logger {
  readonly redactor: Redactor;
  private readonly write: (line: string) => void;
  private readonly verbose: boolean;
  private depth = 0;

  constructor(options: ConsoleLoggerOptions = {}) {
    this.redactor = options.redactor ?? new Redactor();
    this.write = options.write ?? ((line) => process.stderr.write(line + '\n'));
    this.verbose = options.verbose ?? false;
  }

  private emit(prefix: string, message: string): void {
    const indent = '  '.repeat(this.depth);
    for (const line of this.redactor.redact(message).split('\n')) this.write(`${indent}${prefix}${line}`);
  }

  debug(message: string): void {
    if (this.verbose) this.emit('debug: ', message);
  }
  info(message: string): void {
    this.emit('', message);
  }
  warning(message: string): void {
    this.emit('warning: ', message);
  }
  error(message: string): void {
    this.emit('error: ', message);
  }
  startGroup(title: string): void {
    this.emit('', `▸ ${title}`);
    this.depth++;
  }
  endGroup(): void {
    if (this.depth > 0) this.depth--;
  }
  addSecret(value: string): void {
    this.redactor.add(value);
  }
}

/** Registers a secret value; for URLs, the password part alone. */
export function maskUrlOrValue(logger: { addSecret(v: string): void }, value: string): void {
  try {
    const u = new URL(value);
    if (u.password) {
      logger.addSecret(decodeURIComponent(u.password));
      return;
    }
    if (u.protocol) return;
  } catch {
    /* not a URL: mask the whole value */
  }
  logger.addSecret(value);
}
