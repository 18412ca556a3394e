/**
 * mongodump --archive --gzip, then the counts: read back from the archive just written, so they
 * are exactly what the dump holds (mongodump has no snapshot to count in, unlike pg_dump). The
 * server and tool versions come from the archive's own header.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';

import type { MongoComponent } from '../../bundle/manifest.js';
import type { Clock } from '../../clock.js';
import { CheckFailed, ConfigError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { ProcessRunner } from '../../process.js';
import { readMongoArchive, sniffMongoArchive, type MongoArchiveReport } from './archive-reader.js';
import {
  describeMongo,
  formatMongoUrl,
  parseMongoUrl,
  toolConfigText,
  writeToolConfig,
  type MongoTarget,
} from './connection.js';
import { findMongoTool, type MongoTool, type MongoToolDownloader } from './mongo-tools.js';

export interface MongoDumpDeps {
  runner: ProcessRunner;
  logger: Logger;
  clock: Clock;
  mongoToolDownloader?: MongoToolDownloader;
}

export interface MongoDumpOptions {
  databaseUrl: string;
  urlInput: string;
  workDir: string;
  mongoBinDir?: string;
  dockerContainer?: string;
  label?: (input: string) => string;
  id?: string;
  signal?: AbortSignal;
}

export interface MongoDumpResult {
  component: MongoComponent;
  dumpPath: string;
  report: MongoArchiveReport;
}

/** Options every dump gets; the URI (with the password) travels in the --config file. */
export const MONGODUMP_OPTIONS = ['--archive', '--gzip'];

/** The argv for a local mongodump: no URI, no password, only the config file's path. */
export function mongodumpArgs(configPath: string, archivePath: string): string[] {
  return [`--config=${configPath}`, `--archive=${archivePath}`, '--gzip'];
}

/**
 * Inside the container the server is local; the URI reaches the tool as an environment variable
 * (docker exec -e NAME copies it from our environment, so it is on no command line) and is
 * written to a private temp file there, since mongodump reads passwords from --config only.
 */
export const DOCKER_CONFIG_ENV = 'DBDRILL_MONGO_CONFIG';
export function dockerToolScript(tool: string, args: string[]): string {
  const quoted = args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  return `umask 077; f=$(mktemp); printf '%s' "$${DOCKER_CONFIG_ENV}" > "$f"; ${tool} --config="$f" ${quoted}; rc=$?; rm -f "$f"; exit $rc`;
}

/** The container reaches its own mongod on 127.0.0.1:27017, whatever port the host maps. */
export function inContainerUrl(t: MongoTarget): string {
  const query = new URLSearchParams(t.query);
  query.delete('replicaSet');
  query.set('directConnection', 'true');
  return formatMongoUrl({ ...t, scheme: 'mongodb' }, { hosts: [{ host: '127.0.0.1', port: 27017 }], query });
}

export async function dumpMongo(deps: MongoDumpDeps, o: MongoDumpOptions): Promise<MongoDumpResult> {
  const { logger, clock } = deps;
  const target = parseMongoUrl(o.databaseUrl, o.urlInput);
  if (target.password) logger.addSecret(target.password);
  const id = o.id ?? 'mongodb';
  const tool = await findMongoTool(deps, 'mongodump', {
    binDir: o.mongoBinDir,
    dockerContainer: o.dockerContainer,
    label: o.label,
    signal: o.signal,
  });
  logger.info(
    `MongoDB ${describeMongo(target)}: using ${tool.display} (${tool.version}, from ${tool.source})`,
  );
  const tmpPath = join(o.workDir, `${id}.archive.tmp`);
  const startedAt = clock.now();
  await runMongodump(deps, o, tool, target, tmpPath);
  const endedAt = clock.now();
  await chmod(tmpPath, 0o600);

  const sniff = await sniffMongoArchive(tmpPath);
  if (!sniff.isArchive) {
    throw new CheckFailed(
      `${tool.display} exited 0 but did not write a mongodump archive; see its output above`,
    );
  }
  const member = `${id}.archive${sniff.compressed ? '.gz' : ''}`;
  const dumpPath = join(o.workDir, member);
  await rename(tmpPath, dumpPath);
  let report: MongoArchiveReport;
  try {
    report = await readMongoArchive(createReadStream(dumpPath), {
      name: `the archive mongodump just wrote`,
      signal: o.signal,
    });
  } catch (err) {
    await rm(dumpPath, { force: true });
    throw err;
  }
  if (report.namespaces.length === 0) {
    logger.warning(
      `the archive holds no collections: database "${target.database ?? '(all)'}" is empty or does not exist; check the database in ${o.urlInput}`,
    );
  }
  logger.info(
    `archive: ${report.namespaces.length} namespace(s), ${report.totalDocuments} document(s), server ${report.serverVersion ?? 'unknown'}, tool ${report.toolVersion ?? tool.version}`,
  );
  const component: MongoComponent = {
    id,
    engine: 'mongodb',
    member,
    database: target.database,
    host: target.hosts.map((h) => `${h.host}:${h.port}`).join(','),
    hosts: target.hosts,
    replicaSet: target.query.get('replicaSet') ?? undefined,
    serverVersion: report.serverVersion,
    tool: {
      name: 'mongodump',
      version: report.toolVersion ?? tool.version,
      path: tool.display,
      options: sniff.compressed ? MONGODUMP_OPTIONS : ['--archive'],
      via: tool.via,
    },
    compressed: sniff.compressed,
    startedAt: startedAt.toISOString(),
    endedAt: endedAt.toISOString(),
    collections: report.namespaces.map((n) => ({ ns: n.ns, type: n.type, documents: n.documents })),
  };
  return { component, dumpPath, report };
}

async function runMongodump(
  deps: MongoDumpDeps,
  o: MongoDumpOptions,
  tool: MongoTool,
  target: MongoTarget,
  archivePath: string,
): Promise<void> {
  let result;
  if (tool.via === 'docker') {
    const args = [
      ...tool.prefixArgs,
      '-e',
      DOCKER_CONFIG_ENV,
      tool.container!,
      'sh',
      '-c',
      dockerToolScript('mongodump', MONGODUMP_OPTIONS),
    ];
    const out = createWriteStream(archivePath, { mode: 0o600 });
    result = await deps.runner.run('docker', args, {
      env: { ...process.env, [DOCKER_CONFIG_ENV]: toolConfigText(inContainerUrl(target)) },
      stdout: out,
      signal: o.signal,
    });
  } else {
    const config = await writeToolConfig(o.workDir, `${o.id ?? 'mongodb'}.mongodump.yaml`, o.databaseUrl);
    try {
      result = await deps.runner.run(tool.command, mongodumpArgs(config, archivePath), { signal: o.signal });
    } finally {
      await rm(config, { force: true });
    }
  }
  if (result.code !== 0) {
    const why = result.stderr.trim().split('\n').slice(-5).join('\n');
    if (/authentication failed|auth.*error/i.test(why)) {
      throw new ConfigError(
        `mongodump could not authenticate to ${describeMongo(target)}; check the user and password in ${o.urlInput} (not shown): ${why}`,
      );
    }
    if (/server selection|no reachable servers|connection refused/i.test(why)) {
      throw new ConfigError(
        `mongodump cannot reach ${describeMongo(target)}; check the host and port in ${o.urlInput} and that mongod runs: ${why}`,
      );
    }
    throw new Error(
      `mongodump failed (${result.signal ? 'killed by ' + result.signal : 'exit ' + result.code}): ${why}`,
    );
  }
}
