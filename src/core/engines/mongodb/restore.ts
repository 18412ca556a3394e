/**
 * mongorestore --drop from an archive into the drill's target. The target database is reached
 * by renames (nsFrom/nsTo), not by a database in --uri, which mongorestore would treat as a
 * filter; the password is in a 0600 --config file (or, in a container, an inherited env var).
 */
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';

import type { Logger } from '../../logger.js';
import type { ProcessRunner } from '../../process.js';
import {
  connectionOnlyUrl,
  parseMongoUrl,
  toolConfigText,
  writeToolConfig,
  type MongoTarget,
} from './connection.js';
import { DOCKER_CONFIG_ENV, dockerToolScript, inContainerUrl } from './dump.js';
import { findMongoTool, type MongoToolDownloader } from './mongo-tools.js';

export interface NsRename {
  from: string;
  to: string;
}

export interface MongoRestoreOptions {
  archivePath: string;
  compressed: boolean;
  targetUrl: string;
  /** The database the archive was dumped from (its namespaces' db), when it is one database. */
  sourceDatabase: string | null;
  renames: NsRename[];
  jobs?: number;
  mongoBinDir?: string;
  dockerContainer?: string;
  label?: (input: string) => string;
  workDir: string;
  signal?: AbortSignal;
}

export interface MongoRestoreOutcome {
  tool: string;
  args: string[];
  renames: NsRename[];
  exitCode: number | null;
  restored?: number;
  failed?: number;
  error?: string;
}

/**
 * The renames to apply: the user's ns-from/ns-to, or else, when target-url names another
 * database than the dump's, `<source>.*` to `<target>.*`.
 */
export function effectiveRenames(
  renames: NsRename[],
  sourceDatabase: string | null,
  target: MongoTarget,
): NsRename[] {
  if (renames.length) return renames;
  if (sourceDatabase && target.database && target.database !== sourceDatabase) {
    return [{ from: `${sourceDatabase}.*`, to: `${target.database}.*` }];
  }
  return [];
}

/** Everything but the connection: the same list for a local tool and for `docker exec`. */
export function mongorestoreOptions(o: {
  archivePath?: string;
  compressed: boolean;
  renames: NsRename[];
  jobs: number;
}): string[] {
  const args = ['--drop', o.archivePath ? `--archive=${o.archivePath}` : '--archive'];
  if (o.compressed) args.push('--gzip');
  for (const r of o.renames) args.push(`--nsFrom=${r.from}`, `--nsTo=${r.to}`);
  args.push(`--numParallelCollections=${o.jobs}`, '--stopOnError');
  return args;
}

export async function restoreMongo(
  deps: { runner: ProcessRunner; logger: Logger; mongoToolDownloader?: MongoToolDownloader },
  o: MongoRestoreOptions,
): Promise<MongoRestoreOutcome> {
  const target = parseMongoUrl(o.targetUrl, o.label?.('target-url') ?? 'target-url');
  if (target.password) deps.logger.addSecret(target.password);
  const tool = await findMongoTool(deps, 'mongorestore', {
    binDir: o.mongoBinDir,
    dockerContainer: o.dockerContainer,
    label: o.label,
    signal: o.signal,
  });
  const renames = effectiveRenames(o.renames, o.sourceDatabase, target);
  const jobs = o.jobs ?? Math.max(1, availableParallelism());
  let run;
  let args: string[];
  if (tool.via === 'docker') {
    const options = mongorestoreOptions({ compressed: o.compressed, renames, jobs });
    args = [
      ...tool.prefixArgs,
      '-e',
      DOCKER_CONFIG_ENV,
      tool.container!,
      'sh',
      '-c',
      dockerToolScript('mongorestore', options),
    ];
    run = await deps.runner.run('docker', args, {
      env: {
        ...process.env,
        [DOCKER_CONFIG_ENV]: toolConfigText(
          connectionOnlyUrl({ ...parseMongoUrl(inContainerUrl(target), 'target-url') }),
        ),
      },
      stdin: createReadStream(o.archivePath),
      signal: o.signal,
      maxStderrBytes: 4 << 20,
    });
  } else {
    const config = await writeToolConfig(o.workDir, 'mongorestore.yaml', connectionOnlyUrl(target));
    args = [
      `--config=${config}`,
      ...mongorestoreOptions({ archivePath: o.archivePath, compressed: o.compressed, renames, jobs }),
    ];
    try {
      run = await deps.runner.run(tool.command, args, { signal: o.signal, maxStderrBytes: 4 << 20 });
    } finally {
      await rm(config, { force: true });
    }
  }
  const out = `${run.stdout}\n${run.stderr}`;
  const m = /(\d+) document\(s\) restored successfully\. (\d+) document\(s\) failed to restore/.exec(out);
  const outcome: MongoRestoreOutcome = {
    tool: `${tool.display} ${tool.version}`,
    args,
    renames,
    exitCode: run.code,
    restored: m ? Number(m[1]) : undefined,
    failed: m ? Number(m[2]) : undefined,
  };
  if (run.code !== 0) {
    outcome.error = `mongorestore exited with ${run.code ?? run.signal}: ${run.stderr.trim().split('\n').slice(-3).join(' ') || 'no message'}`;
  } else if (outcome.failed) {
    outcome.error = `mongorestore reported ${outcome.failed} document(s) that failed to restore`;
  }
  return outcome;
}
