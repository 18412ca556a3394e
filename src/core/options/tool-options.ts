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
];

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
