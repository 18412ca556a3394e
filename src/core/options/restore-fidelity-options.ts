/**
 * Options that decide how faithfully a drill's restore mirrors production when the scratch
 * target cannot hold everything (no tablespaces, no rows for unsampled tables). The drill's
 * table spreads them in.
 */
import type { Command, OptionSource, OptionSpec } from './spec.js';

const D: Command[] = ['drill'];

export const RESTORE_FIDELITY_OPTION_SPECS: OptionSpec[] = [
  {
    name: 'keep-tablespaces',
    kind: 'boolean',
    commands: D,
    default: 'false',
    description:
      "Restore objects into their tablespaces (pg_restore without --no-tablespaces); the target must have every tablespace the dump names. Without it everything goes to the target's default tablespace.",
  },
  {
    name: 'allow-empty-sample',
    kind: 'boolean',
    commands: D,
    default: 'false',
    description:
      'With tier sample, pass even when the sampled tables hold no rows in the backup (otherwise such a drill proves nothing and fails).',
  },
];

export interface RestoreFidelityOptions {
  keepTablespaces: boolean;
  allowEmptySample: boolean;
}

export function parseRestoreFidelity(o: OptionSource): RestoreFidelityOptions {
  return {
    keepTablespaces: o.boolean('keep-tablespaces'),
    allowEmptySample: o.boolean('allow-empty-sample'),
  };
}
