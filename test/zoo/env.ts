/**
 * The zoo's clusters: one source (the default test major, 15 here) with a real tablespace
 * directory and logical replication allowed, and one scratch cluster per major the cases drill
 * into, initialised exactly as `provision: local` initialises its own (UTF8, locale C).
 */
import { appendFile, chown, mkdir, rm } from 'node:fs/promises';
import { execFile, execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { freePort } from '../../src/core/provision/free-port.js';

import { MemoryLogger } from '../helpers/memory-logger.js';
import { NodeProcessRunner } from '../../src/core/process.js';
import { findPgInstalls } from '../../src/core/engines/postgres/pg-binaries.js';
import { defaultTestMajor, startTestCluster, type TestCluster } from '../helpers/pg-cluster.js';
import type { ZooCase, ZooEnv } from './harness.js';

const run = promisify(execFile);

/** Runs a server-side tool as the postgres user when we are root (initdb and postgres refuse root). */
async function asPostgres(cmd: string, args: string[]): Promise<void> {
  if (process.getuid?.() === 0) await run('runuser', ['-u', 'postgres', '--', cmd, ...args]);
  else await run(cmd, args);
}

async function chownToPostgres(dir: string): Promise<void> {
  if (process.getuid?.() !== 0) return;
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  await chown(dir, uid, gid);
}

/**
 * A hot standby of the source: pg_basebackup -R, started on its own port. Returns its port and a
 * stop function; the caller waits for replay with `waitForReplay`.
 */
export async function startStandby(env: ZooEnv): Promise<{ port: number; stop: () => Promise<void> }> {
  const src = env.source;
  await appendFile(join(src.dataDir, 'pg_hba.conf'), `host replication all 127.0.0.1/32 trust\n`);
  await src.sql('SELECT pg_reload_conf()');
  const dir = join(env.workDir, 'standby');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chownToPostgres(dir);
  await asPostgres(join(env.binDir, 'pg_basebackup'), [
    '-h',
    '127.0.0.1',
    '-p',
    String(src.port),
    '-U',
    'postgres',
    '-D',
    dir,
    '-R',
    '-X',
    'stream',
    '--no-sync',
    '--checkpoint=fast',
    '-T',
    `${join(env.workDir, 'tablespace')}=${join(env.workDir, 'standby-tablespace')}`,
  ]);
  const port = await freePort('127.0.0.1');
  await asPostgres(join(env.binDir, 'pg_ctl'), [
    'start',
    '-D',
    dir,
    '-l',
    join(dir, 'standby.log'),
    '-w',
    '-t',
    '60',
    '-o',
    `-p ${port} -c hot_standby=on`,
  ]);
  return {
    port,
    stop: async () => {
      await asPostgres(join(env.binDir, 'pg_ctl'), ['stop', '-D', dir, '-m', 'immediate']).catch(
        () => undefined,
      );
      await rm(dir, { recursive: true, force: true });
      await rm(join(env.workDir, 'standby-tablespace'), { recursive: true, force: true });
    },
  };
}

export async function prepareZooEnv(workDir: string, cases: ZooCase[]): Promise<ZooEnv> {
  const sourceMajor = await defaultTestMajor();
  if (sourceMajor === undefined) throw new Error('no PostgreSQL server to run the zoo on');
  const installs = await findPgInstalls(new NodeProcessRunner(new MemoryLogger()));
  // The oracle's own client tools (pg_dump, pg_restore, pg_basebackup): the source's major, a system install.
  const tools = installs
    .filter((i) => i.major === sourceMajor && i.hasClient && !i.problem)
    .sort((a, b) => Number(a.source === 'embedded-npm') - Number(b.source === 'embedded-npm'))[0];
  if (!tools) throw new Error(`no PostgreSQL ${sourceMajor} client tools for the zoo's oracle`);
  const majors = [...new Set(cases.map((c) => c.targetMajor ?? sourceMajor))];
  const started: TestCluster[] = [];
  try {
    const [source, ...targets] = await Promise.all([
      startTestCluster({ major: sourceMajor, settings: { wal_level: 'logical', max_connections: '200' } }),
      ...majors.map((m) => startTestCluster({ major: m, settings: { max_connections: '200' } })),
    ]);
    started.push(source, ...targets);
    // A tablespace needs a directory the server's user owns.
    const tsDir = join(workDir, 'tablespace');
    await mkdir(tsDir, { recursive: true, mode: 0o700 });
    await chownToPostgres(workDir);
    await chownToPostgres(tsDir);
    await source.sql(`CREATE TABLESPACE zoo_space LOCATION '${tsDir}'`);
    return {
      source,
      sourceMajor,
      binDir: tools.binDir,
      targets: Object.fromEntries(majors.map((m, i) => [m, targets[i]])),
      workDir,
    };
  } catch (err) {
    await Promise.all(started.map((c) => c.stop()));
    throw err;
  }
}

export async function teardownZooEnv(env: ZooEnv): Promise<void> {
  await Promise.all([env.source.stop(), ...Object.values(env.targets).map((t) => t.stop())]);
}
