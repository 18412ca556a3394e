/** The verify command: which bundle, how deep to read it, and how old it may be. */
import { parseDecryptSecurity, type DecryptSecurityOptions } from './encryption-options.js';
import { parseSelection, type BundleSelection } from './location-options.js';
import type { OptionSource, OptionSpec } from './spec.js';
import { parsePgBinDir, parsePgClient, type PgClientChoice } from './tool-options.js';

export const VERIFY_OPTION_SPECS: OptionSpec[] = [
  {
    name: 'max-age',
    kind: 'duration',
    commands: ['verify'],
    description: 'RPO budget: fail when the newest bundle is older than this (e.g. 26h).',
  },
  {
    name: 'deep',
    kind: 'boolean',
    commands: ['verify'],
    default: 'false',
    description: 'Also inflate every data block to its end and count the rows in the dump.',
  },
];

export interface VerifyOptions extends BundleSelection, DecryptSecurityOptions {
  maxAgeSeconds?: number;
  deep: boolean;
  pgBinDir?: string;
  /** pg-client, pg-client-image: where pg_restore --list comes from. */
  pgClient?: PgClientChoice;
}

export function parseVerifyOptions(o: OptionSource): VerifyOptions {
  const pgBinDir = parsePgBinDir(o);
  return {
    ...parseSelection(o),
    maxAgeSeconds: o.duration('max-age'),
    deep: o.boolean('deep'),
    pgBinDir,
    pgClient: parsePgClient(o),
    ...parseDecryptSecurity(o),
  };
}
