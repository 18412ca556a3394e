import { ConfigError } from '../errors.js';

/**
 * Bundle names sort by time, also as plain strings: `<name>-<UTC yyyymmddTHHMMSSZ>[_<nn>].dbdrill.tar[.age]`
 * (`_` sorts after `.`, so a second bundle in the same second sorts after the first).
 * The timestamp is the backup's start, so RPO math and GFS retention need no manifest read.
 */
export const BUNDLE_SUFFIX = '.dbdrill.tar';
export const ENCRYPTED_SUFFIX = '.age';

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const KEY_RE = /^(.+)-(\d{8}T\d{6}Z)(?:_(\d{2,}))?\.dbdrill\.tar(\.age)?$/;

export function validateName(name: string, input = 'name'): string {
  if (!name) throw new ConfigError(`${input} is required: a short label for this database, e.g. "shop"`);
  if (name.includes('/') || name.includes('\\')) {
    throw new ConfigError(
      `${input} "${name}" contains a path separator; use letters, digits, ".", "_" or "-" (the store URI chooses the folder)`,
    );
  }
  if (!NAME_RE.test(name)) {
    throw new ConfigError(
      `${input} "${name}" is not a valid bundle name; use 1-100 letters, digits, ".", "_" or "-", starting with a letter or digit`,
    );
  }
  return name;
}

export function formatTimestamp(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
}

export function parseTimestamp(stamp: string): Date {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(stamp);
  if (!m) throw new Error(`not a bundle timestamp: ${stamp}`);
  return new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]));
}

export function bundleKey(
  name: string,
  startedAt: Date,
  options: { encrypted?: boolean; sequence?: number } = {},
): string {
  const seq = options.sequence ? `_${String(options.sequence).padStart(2, '0')}` : '';
  return `${name}-${formatTimestamp(startedAt)}${seq}${BUNDLE_SUFFIX}${options.encrypted ? ENCRYPTED_SUFFIX : ''}`;
}

export interface ParsedBundleKey {
  key: string;
  name: string;
  timestamp: Date;
  sequence: number;
  encrypted: boolean;
}

/** Parses a store key (its last path segment) as a bundle name, or undefined when it is not one. */
export function parseBundleKey(key: string): ParsedBundleKey | undefined {
  const base = key.slice(key.lastIndexOf('/') + 1);
  const m = KEY_RE.exec(base);
  if (!m) return undefined;
  return {
    key,
    name: m[1],
    timestamp: parseTimestamp(m[2]),
    sequence: m[3] ? Number(m[3]) : 0,
    encrypted: !!m[4],
  };
}

/** Newest first by (timestamp, sequence); never by store modification time. */
export function compareNewestFirst(a: ParsedBundleKey, b: ParsedBundleKey): number {
  return b.timestamp.getTime() - a.timestamp.getTime() || b.sequence - a.sequence;
}

/** The bundles of `name` among store keys, newest first. A name that is a prefix of another does not match it. */
export function bundlesOf(name: string, keys: string[]): ParsedBundleKey[] {
  return keys
    .map(parseBundleKey)
    .filter((p): p is ParsedBundleKey => !!p && p.name === name)
    .sort(compareNewestFirst);
}
