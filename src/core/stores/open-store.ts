import { ConfigError } from '../errors.js';
import type { Logger } from '../logger.js';
import { ArtifactStore, type ArtifactService } from './artifact-store.js';
import { FileStore } from './file-store.js';
import { S3Store, type S3StoreOptions } from './s3-store.js';
import type { Store } from './store.js';

export { ObjectExistsError, ObjectNotFoundError } from './store-errors.js';

export interface OpenStoreDeps {
  logger: Logger;
  /** Where AWS_* settings come from; process.env when omitted. */
  env?: NodeJS.ProcessEnv;
  /** S3-only settings (s3-sse, s3-kms-key-id, s3-force-path-style); ignored by other stores. */
  s3?: S3StoreOptions;
  /** artifact:// settings and the GitHub client (plugged in by the adapters; core never imports @actions/*). */
  artifact?: { retentionDays?: number; githubToken?: string; service?: () => ArtifactService };
}

const ACCEPTED = 'a directory path, file:///absolute/dir, s3://bucket/prefix, or artifact://<name>';

/** The one place a store URI becomes a Store, so CLI and actions accept exactly the same forms. */
export function openStore(uri: string, deps: OpenStoreDeps): Store {
  const value = (uri ?? '').trim();
  if (!value) throw new ConfigError(`store is required: give ${ACCEPTED}`);
  if (value.startsWith('s3://'))
    return new S3Store(value, { logger: deps.logger, env: deps.env, options: deps.s3 });
  if (value.startsWith('artifact://'))
    return new ArtifactStore(value, { logger: deps.logger, env: deps.env, ...deps.artifact });
  if (value.startsWith('file:')) return new FileStore(value, { logger: deps.logger });
  // Any other scheme (s3a://, gs://, https://, C:\ is no scheme) would silently become a relative folder.
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(value);
  if (scheme && scheme[1].length > 1) {
    throw new ConfigError(
      `store "${redact(value)}" has an unsupported scheme "${scheme[1]}:": use ${ACCEPTED}`,
    );
  }
  return new FileStore(value, { logger: deps.logger });
}

function redact(uri: string): string {
  return uri.replace(/\/\/([^/@]*)@/, '//***@');
}
