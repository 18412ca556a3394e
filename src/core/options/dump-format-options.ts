/**
 * How pg_dump writes the PostgreSQL dump: archive format, compression and parallel jobs. The
 * table only spreads the specs in and backup-options.ts only calls parseDumpFormat, so the
 * choice of format can evolve without touching either.
 */
import { ConfigError } from '../errors.js';
import type { OptionSource, OptionSpec } from './spec.js';

export type DumpFormat = 'auto' | 'custom' | 'directory';
export type CompressAlgorithm = 'none' | 'gzip' | 'lz4' | 'zstd';

/** `auto`, or an algorithm with an optional level (`zstd:1`); levels as pg_dump accepts them. */
export type CompressChoice = { algorithm: 'auto' } | { algorithm: CompressAlgorithm; level?: number };

export interface DumpFormatOptions {
  format: DumpFormat;
  compress: CompressChoice;
  /** pg_dump --jobs for the directory format; undefined: one per core. */
  dumpJobs?: number;
}

const LEVELS: Record<Exclude<CompressAlgorithm, 'none'>, [number, number]> = {
  gzip: [1, 9],
  lz4: [1, 12],
  zstd: [1, 22],
};

export const DUMP_FORMAT_OPTION_SPECS: OptionSpec[] = [
  {
    name: 'format',
    kind: 'string',
    commands: ['backup'],
    choices: ['auto', 'custom', 'directory'],
    default: 'auto',
    description:
      'PostgreSQL dump format: directory (pg_dump -Fd, parallel dump and restore, one file per table in the bundle), custom (pg_dump -Fc, one file) or auto (directory; custom with docker-container).',
  },
  {
    name: 'compress',
    kind: 'string',
    commands: ['backup'],
    default: 'auto',
    description:
      'pg_dump compression: auto (zstd:1 with pg_dump 16+, else gzip:1), none, gzip[:1-9], lz4[:1-12] or zstd[:1-22] (lz4 and zstd need pg_dump 16+).',
  },
  {
    name: 'dump-jobs',
    kind: 'int',
    commands: ['backup'],
    description: 'Parallel pg_dump jobs for format directory (pg_dump --jobs); default: the number of cores.',
  },
];

export function parseCompress(value: string, input: string): CompressChoice {
  const v = value.trim().toLowerCase();
  if (v === 'auto') return { algorithm: 'auto' };
  const m = /^(none|gzip|lz4|zstd)(?::(\d+))?$/.exec(v);
  if (!m) {
    throw new ConfigError(
      `${input} "${value}" is not valid; expected auto, none, gzip[:level], lz4[:level] or zstd[:level] (e.g. zstd:1)`,
    );
  }
  const algorithm = m[1] as CompressAlgorithm;
  if (m[2] === undefined) return { algorithm };
  if (algorithm === 'none') throw new ConfigError(`${input} "${value}" is not valid: none takes no level`);
  const [min, max] = LEVELS[algorithm];
  const level = Number(m[2]);
  if (level < min || level > max) {
    throw new ConfigError(
      `${input} "${value}" is not valid: the ${algorithm} level must be from ${min} to ${max}`,
    );
  }
  return { algorithm, level };
}

export function parseDumpFormat(o: OptionSource): DumpFormatOptions {
  const format = (o.string('format') ?? 'auto') as DumpFormat;
  const compress = parseCompress(o.string('compress') ?? 'auto', o.name('compress'));
  const dumpJobs = o.int('dump-jobs', 1, 256);
  if (dumpJobs !== undefined && format === 'custom') {
    throw new ConfigError(
      `${o.name('dump-jobs')} only applies to ${o.name('format')} directory (pg_dump -Fc dumps with one job); remove it or use directory`,
    );
  }
  return { format, compress, ...(dumpJobs !== undefined ? { dumpJobs } : {}) };
}

export function describeCompress(c: CompressChoice): string {
  return c.algorithm === 'auto' || c.algorithm === 'none' || c.level === undefined
    ? c.algorithm
    : `${c.algorithm}:${c.level}`;
}
