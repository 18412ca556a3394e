/**
 * Retention: which bundles to keep (grandfather-father-son keep-* counts, a min-age floor) for
 * prune, and for backup when it prunes after a verified upload.
 */
import { validateName } from '../bundle/naming.js';
import { ConfigError } from '../errors.js';
import { validateRetentionPolicy, type RetentionPolicy } from '../retention.js';
import type { Command, OptionSource, OptionSpec } from './spec.js';

const PRUNERS: Command[] = ['backup', 'prune'];

export const RETENTION_OPTION_SPECS: OptionSpec[] = [
  {
    name: 'keep-last',
    kind: 'int',
    commands: PRUNERS,
    description:
      'Prune: keep the N newest bundles. On backup, any keep-* prunes after the new bundle uploaded and verified.',
  },
  {
    name: 'keep-hourly',
    kind: 'int',
    commands: PRUNERS,
    description: 'Prune: keep the newest bundle of each of the N most recent UTC hours that have one.',
  },
  {
    name: 'keep-daily',
    kind: 'int',
    commands: PRUNERS,
    description: 'Prune: keep the newest bundle of each of the N most recent UTC days that have one.',
  },
  {
    name: 'keep-weekly',
    kind: 'int',
    commands: PRUNERS,
    description: 'Prune: keep the newest bundle of each of the N most recent ISO weeks that have one.',
  },
  {
    name: 'keep-monthly',
    kind: 'int',
    commands: PRUNERS,
    description: 'Prune: keep the newest bundle of each of the N most recent UTC months that have one.',
  },
  {
    name: 'keep-yearly',
    kind: 'int',
    commands: PRUNERS,
    description: 'Prune: keep the newest bundle of each of the N most recent UTC years that have one.',
  },
  {
    name: 'min-age',
    kind: 'duration',
    commands: PRUNERS,
    description: 'Prune: never delete a bundle younger than this (e.g. 7d), whatever the keep-* options say.',
  },
  {
    name: 'dry-run',
    kind: 'boolean',
    commands: ['prune'],
    default: 'false',
    description: 'Prune: print what would be kept and deleted, delete nothing.',
  },
];

/** The keep-* / min-age options as a policy, or undefined when none is set (backup then does not prune). */
export function parseRetentionPolicy(o: OptionSource): RetentionPolicy | undefined {
  const policy: RetentionPolicy = {
    keepLast: o.int('keep-last', 0),
    keepHourly: o.int('keep-hourly', 0),
    keepDaily: o.int('keep-daily', 0),
    keepWeekly: o.int('keep-weekly', 0),
    keepMonthly: o.int('keep-monthly', 0),
    keepYearly: o.int('keep-yearly', 0),
    minAge: o.duration('min-age'),
  };
  for (const k of Object.keys(policy) as (keyof RetentionPolicy)[])
    if (policy[k] === undefined) delete policy[k];
  if (Object.keys(policy).length === 0) return undefined;
  const keeps = Object.keys(policy).filter((k) => k !== 'minAge');
  if (keeps.length === 0) {
    throw new ConfigError(
      `${o.name('min-age')} alone is not a retention policy: add at least one of ${o.name('keep-last')}, ${o.name('keep-daily')}, ${o.name('keep-weekly')}, ${o.name('keep-monthly')} or ${o.name('keep-yearly')}`,
    );
  }
  try {
    return validateRetentionPolicy(policy);
  } catch (err) {
    if (err instanceof ConfigError)
      throw new ConfigError(err.message.replace(/\b(keep-[a-z]+|min-age)\b/g, (m) => o.name(m)));
    throw err;
  }
}

export interface PruneOptions {
  store: string;
  name: string;
  policy: RetentionPolicy;
  dryRun: boolean;
}

export function parsePruneOptions(o: OptionSource): PruneOptions {
  const store = o.required('store', 'the store to prune: a directory, file:///dir or s3://bucket/prefix');
  const name = validateName(o.required('name', 'the bundle name to prune, e.g. "shop"'), o.name('name'));
  const policy = parseRetentionPolicy(o);
  if (!policy) {
    throw new ConfigError(
      `prune needs a retention policy: set at least one of ${['keep-last', 'keep-hourly', 'keep-daily', 'keep-weekly', 'keep-monthly', 'keep-yearly'].map((n) => o.name(n)).join(', ')}`,
    );
  }
  return { store, name, policy, dryRun: o.boolean('dry-run') };
}
