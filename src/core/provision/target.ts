/**
 * The drill's scratch target: a database the workflow provides, a throwaway local cluster, or a
 * throwaway container. Whatever dbdrill creates, dbdrill tears down.
 */
import { randomBytes } from 'node:crypto';

import { ConfigError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { ProcessRunner } from '../process.js';
import type { PostgresTargetRequest, ScratchTarget } from '../engines/engine.js';
import { connectPg, describeTarget, parsePgUrl } from '../engines/postgres/connection.js';
import { startLocalCluster } from './local-postgres.js';
import { findPgInstalls } from '../engines/postgres/pg-binaries.js';
import { createDatabaseOptions, describeLocale } from '../engines/postgres/database-locale.js';

export type { ScratchTarget };

/** The engine's request (database, source major) and the user's choice of where. */
export interface ProvisionOptions extends PostgresTargetRequest {
  targetUrl?: string;
  provision?: 'local' | 'docker';
  pgVersion?: number;
  image?: string;
  pgBinDir?: string;
  searchRoots?: string[];
  signal?: AbortSignal;
}

/**
 * A throwaway target is only ever restored into and read. With wal_level minimal, pg_restore's
 * parallel COPY (it truncates each table it created in the loading transaction) and its index
 * builds write no WAL: on the bench dump, 147 kB of WAL instead of 372 MB, the same rows.
 */
const RESTORE_SETTINGS = { wal_level: 'minimal', max_wal_senders: '0' };

export async function provisionTarget(
  deps: { runner: ProcessRunner; logger: Logger },
  o: ProvisionOptions,
): Promise<ScratchTarget> {
  if (o.targetUrl) {
    const t = parsePgUrl(o.targetUrl, 'target-url');
    return {
      kind: 'url',
      url: o.targetUrl,
      display: describeTarget(t),
      env: {},
      teardown: async () => undefined,
    };
  }
  if (o.provision === 'local') {
    const major = o.pgVersion ?? (await defaultLocalMajor(deps, o));
    const cluster = await startLocalCluster(deps, {
      major,
      database: o.database,
      locale: o.locale,
      binDir: o.pgBinDir,
      searchRoots: o.searchRoots,
      signal: o.signal,
      settings: RESTORE_SETTINGS,
    });
    return {
      kind: 'local',
      // The cluster dbdrill just made has no TLS: libpq's default (prefer) would first ask for it
      // on every connection, dbdrill's own and pg_restore's jobs, and be refused.
      url: `${cluster.url}?sslmode=disable`,
      display: `throwaway PostgreSQL ${cluster.version} at ${cluster.host}:${cluster.port}/${cluster.database}`,
      env: cluster.env,
      teardown: () => cluster.stop(),
    };
  }
  if (o.provision === 'docker') return provisionDocker(deps, o);
  throw new ConfigError('set target-url or provision');
}

/**
 * Without pg-version the drill restores into the source's own major when it is installed (the
 * faithful rehearsal), else the nearest newer one; a pre-upgrade drill names pg-version.
 */
async function defaultLocalMajor(
  deps: { runner: ProcessRunner; logger: Logger },
  o: ProvisionOptions,
): Promise<number | undefined> {
  if (o.sourceMajor === undefined) return undefined;
  const majors = (
    await findPgInstalls(deps.runner, { explicitBinDir: o.pgBinDir, searchRoots: o.searchRoots })
  )
    .filter((i) => i.hasServer && !i.problem)
    .map((i) => i.major)
    .sort((a, b) => a - b);
  const chosen = majors.find((m) => m === o.sourceMajor) ?? majors.find((m) => m > o.sourceMajor!);
  if (chosen !== undefined && chosen !== o.sourceMajor) {
    deps.logger.info(
      `no PostgreSQL ${o.sourceMajor} server here; restoring into ${chosen}, the nearest newer major`,
    );
  }
  return chosen;
}

async function provisionDocker(
  deps: { runner: ProcessRunner; logger: Logger },
  o: ProvisionOptions,
): Promise<ScratchTarget> {
  const image = o.image ?? `postgres:${o.pgVersion ?? o.sourceMajor ?? 16}`;
  const name = `dbdrill-drill-${randomBytes(4).toString('hex')}`;
  const password = randomBytes(18).toString('base64url');
  deps.logger.addSecret(password);
  const env = { ...process.env, POSTGRES_PASSWORD: password };
  let started;
  try {
    started = await deps.runner.run(
      'docker',
      [
        'run',
        '-d',
        '--rm',
        '--name',
        name,
        '-e',
        'POSTGRES_PASSWORD',
        // with a source locale the database is created below (CREATE DATABASE ... TEMPLATE template0)
        ...(o.locale ? [] : ['-e', `POSTGRES_DB=${o.database}`]),
        '-p',
        '127.0.0.1::5432',
        image,
      ],
      { env, signal: o.signal },
    );
  } catch (err) {
    throw new ConfigError(
      `provision: docker needs the docker CLI and a running engine (${(err as Error).message}); use provision: local or target-url`,
    );
  }
  if (started.code !== 0) {
    throw new ConfigError(
      `provision: docker could not start ${image}: ${dockerCause(started.stderr)}; check the image name and that a Docker engine runs here`,
    );
  }
  const teardown = async () => {
    await deps.runner.run('docker', ['rm', '-f', name], { quiet: true }).catch(() => undefined);
  };
  try {
    const port = await deps.runner.run('docker', ['port', name, '5432/tcp'], { quiet: true });
    const hostPort = /:(\d+)\s*$/m.exec(port.stdout)?.[1];
    if (!hostPort) throw new Error(`docker port ${name} printed no port: ${port.stdout}`);
    const url = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${hostPort}/${encodeURIComponent(o.database)}`;
    const admin = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${hostPort}/${o.locale ? 'template1' : 'postgres'}`;
    const deadline = Date.now() + 90_000;
    for (;;) {
      o.signal?.throwIfAborted();
      try {
        const c = await connectPg(o.locale ? admin : url, 'provision: docker');
        await c.end();
        break;
      } catch (err) {
        if (Date.now() > deadline)
          throw new Error(
            `the ${image} container did not accept connections within 90 s: ${(err as Error).message}`,
          );
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    if (o.locale) await createWithLocale(admin, o.database, o.locale, 'provision: docker');
    return {
      kind: 'docker',
      url,
      display: `${image} container ${name} at 127.0.0.1:${hostPort}/${o.database}`,
      env: {},
      teardown,
    };
  } catch (err) {
    await teardown();
    throw err;
  }
}

/**
 * docker's own cause from its stderr. Its last line is usually "See 'docker run --help'." or an
 * image pull progress line; the cause is the line "docker: ..." or "Cannot connect to the Docker
 * daemon ...", or failing those, the last line that is not advice.
 */
export function dockerCause(stderr: string): string {
  const lines = stderr
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
  const cause =
    lines.find((l) => /Cannot connect to the Docker daemon|permission denied.*docker\.sock/i.test(l)) ??
    lines.find((l) => /^(docker: |Error response from daemon|Error: )/i.test(l)) ??
    [...lines].reverse().find((l) => !/^See 'docker|^Run 'docker .* --help'/i.test(l));
  return cause ?? '(docker printed nothing)';
}

/**
 * Creates (or, for `postgres`, recreates) the database with the source's encoding and locale,
 * connected to template1. A locale the server's OS lacks fails here, named, not as a restore error.
 */
async function createWithLocale(
  adminUrl: string,
  database: string,
  locale: NonNullable<ProvisionOptions['locale']>,
  input: string,
): Promise<void> {
  const c = await connectPg(adminUrl, input);
  try {
    const major = Math.floor(
      Number((await c.query<{ n: string }>(`SELECT current_setting('server_version_num') AS n`)).rows[0].n) /
        10000,
    );
    const name = '"' + database.replace(/"/g, '""') + '"';
    await c.query(`DROP DATABASE IF EXISTS ${name}`);
    try {
      await c.query(`CREATE DATABASE ${name} ${createDatabaseOptions(locale, major)}`);
    } catch (err) {
      throw new ConfigError(
        `${input}: cannot create the scratch database like the source (${describeLocale(locale)}): ${(err as Error).message}; install that locale in the image, or use target-url with accept-locale-mismatch`,
      );
    }
  } finally {
    await c.end().catch(() => undefined);
  }
}
