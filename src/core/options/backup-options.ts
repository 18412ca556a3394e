/** The backup command: which databases to dump and which secret files go into the same recovery point. */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

import { validateName } from '../bundle/naming.js';
import { ConfigError } from '../errors.js';
import { parseDumpFormat, type DumpFormatOptions } from './dump-format-options.js';
import { engineFromUrl, type Engine } from './database-urls.js';
import { parseBackupSecurity, type BackupSecurityOptions } from './encryption-options.js';
import type { OptionSource, OptionSpec } from './spec.js';
import { parseMongoBinDir, parsePgBinDir, parsePgClient, type PgClientChoice } from './tool-options.js';

export const BACKUP_OPTION_SPECS: OptionSpec[] = [
  {
    name: 'engine',
    kind: 'string',
    commands: ['backup'],
    choices: ['postgres', 'mongodb'],
    description: 'Database engine; by default taken from the database-url scheme (postgres://, mongodb://).',
  },
  {
    name: 'database-url',
    kind: 'list',
    commands: ['backup'],
    secret: true,
    description:
      'Connection URL of the database to back up, e.g. postgres://user:pass@host:5432/db or mongodb://user:pass@host:27017/db. One a line (repeat the flag): several databases (e.g. one postgres:// and one mongodb://) make one recovery point.',
  },
  {
    name: 'max-skew',
    kind: 'duration',
    commands: ['backup'],
    description:
      'With several database-url: fail (and store nothing) when the dumps span more than this from first start to last end (e.g. 5m).',
  },
  {
    name: 'secret-files',
    kind: 'list',
    commands: ['backup'],
    description:
      "The app's secret store: files or directories (KEK, .env, TLS) stored in the same bundle; one path a line.",
  },
];

export interface BackupOptions extends BackupSecurityOptions, Partial<DumpFormatOptions> {
  engine: Engine;
  databaseUrl: string;
  store: string;
  name: string;
  secretFiles: string[];
  pgBinDir?: string;
  /** pg-client, pg-client-image. */
  pgClient?: PgClientChoice;
  dockerContainer?: string;
  /** Every database-url with its engine (engine/databaseUrl above are the first). */
  databases?: { engine: Engine; url: string }[];
  mongoBinDir?: string;
  maxSkewSeconds?: number;
}

export function parseBackupOptions(o: OptionSource): BackupOptions {
  const urls = o.list('database-url');
  const databaseUrl = urls[0] ?? o.required('database-url', 'the connection URL of the database to back up');
  const databases = urls.map((url) => ({ engine: engineFromUrl(url, o.name('database-url')), url }));
  if (urls.length > 1 && o.string('engine')) {
    throw new ConfigError(
      `${o.name('engine')} only applies with one ${o.name('database-url')}; with ${urls.length} URLs each engine comes from its URL scheme, so remove ${o.name('engine')}`,
    );
  }
  const detected = engineFromUrl(databaseUrl, o.name('database-url'));
  const engine = (o.string('engine') as Engine | undefined) ?? detected;
  if (engine !== detected) {
    throw new ConfigError(
      `${o.name('engine')} is "${engine}" but ${o.name('database-url')} is a ${detected} URL; remove ${o.name('engine')} or fix the URL`,
    );
  }
  const store = o.required(
    'store',
    'where to put the bundle: a directory, file:///dir or s3://bucket/prefix',
  );
  const name = validateName(
    o.required('name', 'a short label for this database, e.g. "shop"'),
    o.name('name'),
  );
  const secretFiles = o.list('secret-files').map((p) => resolve(p));
  for (const file of secretFiles) {
    if (!existsSync(file)) {
      throw new ConfigError(
        `${o.name('secret-files')}: "${file}" does not exist; list the app's secret files (KEK, .env, TLS) that must be restorable with the data`,
      );
    }
  }
  const pgBinDir = parsePgBinDir(o);
  return {
    engine,
    databaseUrl,
    store,
    name,
    secretFiles,
    pgBinDir,
    pgClient: parsePgClient(o),
    dockerContainer: o.string('docker-container'),
    ...parseBackupSecurity(o),
    databases,
    mongoBinDir: parseMongoBinDir(o),
    maxSkewSeconds: o.duration('max-skew'),
    ...parseDumpFormat(o),
  };
}
