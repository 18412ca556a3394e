/**
 * How dbdrill talks to a store beyond its URI: S3 encryption and addressing, the workflow-artifact
 * token and retention. Parsed with the other options, before any work, into the settings openStore
 * takes; each command reads only the settings that apply to it.
 */
import type { S3StoreOptions } from '../stores/s3-store.js';
import { ConfigError } from '../errors.js';
import { COMMANDS, type Command, type OptionSource, type OptionSpec } from './spec.js';

/** Commands that write to the store (bundles, verification records, drill history). */
const WRITERS: Command[] = ['backup', 'verify', 'drill'];

export const STORE_OPTION_SPECS: OptionSpec[] = [
  {
    name: 's3-sse',
    kind: 'string',
    commands: COMMANDS,
    choices: ['AES256', 'aws:kms'],
    description: 'S3 server-side encryption for objects dbdrill writes: AES256 (S3-managed keys) or aws:kms.',
  },
  {
    name: 's3-kms-key-id',
    kind: 'string',
    commands: COMMANDS,
    description:
      "KMS key id or ARN for s3-sse aws:kms (without it S3 uses the bucket's default KMS key). Implies aws:kms when s3-sse is not set.",
  },
  {
    name: 's3-force-path-style',
    kind: 'boolean',
    commands: COMMANDS,
    description:
      'S3 path-style addressing (https://host/bucket/key). Unset: on exactly when AWS_ENDPOINT_URL_S3 names a custom endpoint (MinIO, R2, B2).',
  },
  {
    name: 'github-token',
    kind: 'string',
    commands: COMMANDS,
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
export function parseStoreSettings(o: OptionSource, command: Command): StoreSettings {
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
