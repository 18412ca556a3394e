/**
 * Where the database tools come from (pg_dump/pg_restore, mongodump/mongorestore): options shared
 * by the commands that run them, so each is described and checked once.
 */
import { existsSync, statSync } from 'node:fs';

import { ConfigError } from '../errors.js';
import type { OptionSource, OptionSpec } from './spec.js';

export const TOOL_OPTION_SPECS: OptionSpec[] = [
  {
    name: 'mongo-bin-dir',
    kind: 'string',
    commands: ['backup', 'drill'],
    description:
      'Directory with mongodump/mongorestore, tried before PATH, docker-container and the pinned MongoDB Database Tools download.',
  },
  {
    name: 'pg-bin-dir',
    kind: 'string',
    commands: ['backup', 'verify', 'drill'],
    description:
      'Directory with pg_dump/pg_restore (and initdb/pg_ctl for provision: local) to use before PATH and /usr/lib/postgresql/<N>/bin.',
  },
  {
    name: 'docker-container',
    kind: 'string',
    commands: ['backup', 'drill'],
    description:
      "Run pg_dump (one postgres:// URL) or mongodump/mongorestore inside this container (docker exec), so the tool's version always matches the server.",
  },
  {
    name: 'pg-client',
    kind: 'string',
    commands: ['backup', 'verify', 'drill'],
    default: 'auto',
    choices: ['auto', 'local', 'docker', 'apt'],
    description:
      'Where pg_dump/pg_restore come from. auto: the installed ones, unless older than the server (or the archive); then the postgres:<major> image with docker, else (GitHub-hosted runner, root or sudo, Debian/Ubuntu) postgresql-client-<major> from apt.postgresql.org. local: installed only. docker, apt: force that path.',
  },
  {
    name: 'pg-client-image',
    kind: 'string',
    commands: ['backup', 'verify', 'drill'],
    default: 'postgres:{major}',
    description:
      'The image pg-client runs pg_dump/pg_restore from ({major} becomes the PostgreSQL major needed), e.g. a mirror: registry.example.com/postgres:{major}.',
  },
];

export type PgClientMode = 'auto' | 'local' | 'docker' | 'apt';
export const DEFAULT_PG_CLIENT_IMAGE = 'postgres:{major}';

/** `pg-client` and `pg-client-image`, for the engines' client lookup. */
export interface PgClientChoice {
  mode: PgClientMode;
  /** An image reference; `{major}` is replaced by the PostgreSQL major needed. */
  image: string;
}

export function parsePgClient(o: OptionSource): PgClientChoice {
  const mode = (o.string('pg-client') ?? 'auto') as PgClientMode;
  const image = (o.string('pg-client-image') ?? DEFAULT_PG_CLIENT_IMAGE).trim();
  if (!image || /\s/.test(image)) {
    throw new ConfigError(
      `${o.name('pg-client-image')} "${image}" is not an image reference; write one like ${DEFAULT_PG_CLIENT_IMAGE} or registry.example.com/postgres:{major}`,
    );
  }
  return { mode, image };
}

/** A directory option that must exist now, not when the first tool is looked up mid-run. */
export function existingDir(o: OptionSource, input: string, holding: string): string | undefined {
  const dir = o.string(input);
  if (dir && !(existsSync(dir) && statSync(dir).isDirectory())) {
    throw new ConfigError(
      `${o.name(input)} "${dir}" is not a directory; point it at the directory holding ${holding}`,
    );
  }
  return dir;
}

export const parsePgBinDir = (o: OptionSource) => existingDir(o, 'pg-bin-dir', 'pg_dump/pg_restore');
export const parseMongoBinDir = (o: OptionSource) =>
  existingDir(o, 'mongo-bin-dir', 'mongodump/mongorestore');
