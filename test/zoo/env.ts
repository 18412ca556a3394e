/**
 * The zoo's clusters: one source (the default test major, 15 here) with a real tablespace
 * directory and logical replication allowed, and one scratch cluster per major the cases drill
 * into, initialised exactly as `provision: local` initialises its own (UTF8, locale C).
 */
import { chown, mkdir } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

import { startTestCluster, type TestCluster } from '../helpers/pg-cluster.js';
import type { ZooCase, ZooEnv } from './harness.js';

export async function prepareZooEnv(workDir: string, cases: ZooCase[]): Promise<ZooEnv> {
  const majors = [...new Set(cases.map((c) => c.targetMajor ?? 15))];
  const started: TestCluster[] = [];
  try {
    const [source, ...targets] = await Promise.all([
      startTestCluster({ settings: { wal_level: 'logical', max_connections: '200' } }),
      ...majors.map((m) => startTestCluster({ major: m, settings: { max_connections: '200' } })),
    ]);
    started.push(source, ...targets);
    // A tablespace needs a directory the server's user owns.
    const tsDir = join(workDir, 'tablespace');
    await mkdir(tsDir, { recursive: true, mode: 0o700 });
    if (process.getuid?.() === 0) {
      const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
      const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
      await chown(workDir, uid, gid).catch(() => undefined);
      await chown(tsDir, uid, gid);
    }
    await source.sql(`CREATE TABLESPACE zoo_space LOCATION '${tsDir}'`);
    return { source, targets: Object.fromEntries(majors.map((m, i) => [m, targets[i]])), workDir };
  } catch (err) {
    await Promise.all(started.map((c) => c.stop()));
    throw err;
  }
}

export async function teardownZooEnv(env: ZooEnv): Promise<void> {
  await Promise.all([env.source.stop(), ...Object.values(env.targets).map((t) => t.stop())]);
}
