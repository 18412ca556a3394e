/**
 * The options of issue 4 (S3 settings, workflow-artifact settings, retention/prune), kept beside
 * options.ts so that file only spreads them in. Parsing is synchronous; the store options are read
 * lazily (when a store is opened) so a bad s3-sse names its input inside the command's error path.
 */
import { validateName } from './bundle/naming.js';
import { ConfigError } from './errors.js';
import type { Command, OptionReader, OptionSpec } from './options.js';
import { validateRetentionPolicy, type RetentionPolicy } from './retention.js';
import type { S3StoreOptions } from './stores/s3-store.js';

const STORE_CMDS: Command[] = ['backup', 'verify', 'drill', 'prune', 'list'];
/** Commands that write to the store (bundles, verification records, drill history). */
const WRITERS: Command[] = ['backup', 'verify', 'drill'];
const PRUNERS: Command[] = ['backup', 'prune'];

export const STORE_OPTION_SPECS: OptionSpec[] = [
  {
    name: 's3-sse',
    kind: 'string',
    commands: STORE_CMDS,
    choices: ['AES256', 'aws:kms'],
    description: 'S3 server-side encryption for objects dbdrill writes: AES256 (S3-managed keys) or aws:kms.',
  },
  {
    name: 's3-kms-key-id',
    kind: 'string',
    commands: STORE_CMDS,
    description:
      "KMS key id or ARN for s3-sse aws:kms (without it S3 uses the bucket's default KMS key). Implies aws:kms when s3-sse is not set.",
  },
  {
    name: 's3-force-path-style',
    kind: 'boolean',
    commands: STORE_CMDS,
    description:
      'S3 path-style addressing (https://host/bucket/key). Unset: on exactly when AWS_ENDPOINT_URL_S3 names a custom endpoint (MinIO, R2, B2).',
  },
  {
    name: 'github-token',
    kind: 'string',
    commands: STORE_CMDS,
    secret: true,
    description:
      "artifact:// stores: a token with actions: read (actions: write to delete) that finds other runs' artifacts through the REST API. Default: the GITHUB_TOKEN environment variable.",
  },
  {
    name: 'retention-days',
    kind: 'int',
    commands: WRITERS,
    description:
      "artifact:// stores: days GitHub keeps what dbdrill uploads (1-90 on public repositories, up to the repository's limit). Default: the repository's setting.",
  },
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

/** What openStore needs beyond the URI; other stores ignore the parts that are not theirs. */
export interface StoreSettings {
  s3?: S3StoreOptions;
  artifact?: ArtifactSettings;
}

export interface ArtifactSettings {
  retentionDays?: number;
  githubToken?: string;
}

/** Reads only the options the command has, so one parser serves every command. */
export function parseStoreSettings(o: OptionReader, command: Command): StoreSettings {
  const applies = (name: string) =>
    STORE_OPTION_SPECS.some((s) => s.name === name && s.commands.includes(command));
  const s3: S3StoreOptions = {};
  const sse = applies('s3-sse') ? (o.string('s3-sse') as S3StoreOptions['sse']) : undefined;
  const kmsKeyId = applies('s3-kms-key-id') ? o.string('s3-kms-key-id') : undefined;
  if (kmsKeyId && sse === 'AES256') {
    throw new ConfigError(
      `${o.name('s3-kms-key-id')} only applies with ${o.name('s3-sse')} aws:kms, but ${o.name('s3-sse')} is AES256: remove one of them`,
    );
  }
  if (sse || kmsKeyId) s3.sse = sse ?? 'aws:kms';
  if (kmsKeyId) s3.kmsKeyId = kmsKeyId;
  if (applies('s3-force-path-style') && o.string('s3-force-path-style') !== undefined)
    s3.s3ForcePathStyle = o.boolean('s3-force-path-style');
  const artifact: ArtifactSettings = {};
  if (applies('retention-days')) artifact.retentionDays = o.int('retention-days', 1, 400);
  if (applies('github-token')) artifact.githubToken = o.string('github-token');
  return { s3, artifact };
}

/** The keep-* / min-age options as a policy, or undefined when none is set (backup then does not prune). */
export function parseRetentionPolicy(o: OptionReader): RetentionPolicy | undefined {
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

export function parsePruneOptions(o: OptionReader): PruneOptions {
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
