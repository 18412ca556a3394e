/** Typed access to raw options, applying the table's defaults and validation in one place. */
import { parseDuration } from '../duration.js';
import { ConfigError } from '../errors.js';
import type { OptionSource, RawOptions } from './spec.js';
import { specOf } from './table.js';

export class OptionReader implements OptionSource {
  constructor(
    private readonly raw: RawOptions,
    /** How an input is named in messages: `--x` on the CLI, `x` in actions. */
    private readonly label: (name: string) => string = (n) => n,
  ) {}

  name(name: string): string {
    return this.label(name);
  }

  private first(name: string): string | undefined {
    const v = this.raw[name];
    const s = Array.isArray(v) ? v[v.length - 1] : v;
    const trimmed = s?.trim();
    if (trimmed) return trimmed;
    return specOf(name).default;
  }

  string(name: string): string | undefined {
    const value = this.first(name);
    const spec = specOf(name);
    if (value !== undefined && spec.choices && !spec.choices.includes(value)) {
      throw new ConfigError(
        `${this.label(name)} "${value}" is not valid; expected one of: ${spec.choices.join(', ')}`,
      );
    }
    return value;
  }

  required(name: string, hint: string): string {
    const v = this.string(name);
    if (!v) throw new ConfigError(`${this.label(name)} is required: ${hint}`);
    return v;
  }

  boolean(name: string): boolean {
    const v = this.first(name);
    if (v === undefined) return false;
    const t = v.toLowerCase();
    if (['true', 'yes', '1', 'on'].includes(t)) return true;
    if (['false', 'no', '0', 'off'].includes(t)) return false;
    throw new ConfigError(`${this.label(name)} "${v}" is not a boolean; expected true or false`);
  }

  int(name: string, min = 1, max = 1_000_000): number | undefined {
    const v = this.first(name);
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) {
      throw new ConfigError(
        `${this.label(name)} "${v}" is not valid; expected a whole number from ${min} to ${max}`,
      );
    }
    return Number(v);
  }

  duration(name: string): number | undefined {
    const v = this.first(name);
    return v === undefined ? undefined : parseDuration(v, this.label(name));
  }

  list(name: string): string[] {
    const v = this.raw[name];
    const values = v === undefined ? [] : Array.isArray(v) ? v : [v];
    return values
      .flatMap((s) => s.split(/\r?\n/))
      .map((s) => s.trim())
      .filter((s) => s && !s.startsWith('#'));
  }
}
