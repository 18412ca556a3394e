/**
 * The CLI as users install it: `npm pack`, then `npm install -g` of that tarball into a temporary
 * prefix (offline: the bundle carries its dependencies, so the package declares none), then the
 * installed `dbdrill` bin run from a directory outside the clone against a real scratch cluster.
 * Nothing here may resolve through the clone's node_modules: PATH is stripped of it and the cwd is a
 * fresh temp dir.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync, spawn } from 'node:child_process';
import { createReadStream, existsSync, readFileSync, readdirSync, realpathSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { copyFile, mkdir, open } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { startTestCluster, type TestCluster } from './helpers/pg-cluster.js';
import { tempDir } from './helpers/deps.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  version: string;
  private?: boolean;
  dependencies?: Record<string, string>;
  engines: { node: string };
};

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

let work: { dir: string; remove: () => Promise<void> };
let prefix: string;
let elsewhere: string;
let tarball: string;

/** The user's environment: the temp prefix's bin first, no trace of the clone or of npm's run. */
function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(npm_|INPUT_|GITHUB_)/i.test(k)) env[k] = v;
  const path = (process.env.PATH ?? '').split(delimiter).filter((p) => p && !p.includes('node_modules'));
  env.PATH = [join(prefix, 'bin'), ...path].join(delimiter);
  return env;
}

function dbdrill(args: string[], cwd = elsewhere): Promise<Run> {
  const child = spawn('dbdrill', args, { cwd, env: userEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function npm(args: string[], cwd: string): string {
  return execFileSync('npm', [...args, '--no-audit', '--no-fund', '--cache', join(work.dir, 'npm-cache')], {
    cwd,
    env: { ...userEnv(), npm_config_update_notifier: 'false' },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

beforeAll(async () => {
  work = await tempDir('dbdrill-pack-');
  prefix = join(work.dir, 'prefix');
  elsewhere = join(work.dir, 'elsewhere');
  await mkdir(elsewhere);
  const out = npm(['pack', '--silent', '--pack-destination', work.dir], ROOT);
  tarball = join(work.dir, out.trim().split('\n').pop()!);
  npm(['install', '-g', '--offline', '--prefix', prefix, tarball], elsewhere);
});

afterAll(async () => {
  await work?.remove();
});

describe('the packed CLI', () => {
  it('is publishable and declares no runtime dependencies (the bundle carries them)', () => {
    expect(pkg.private).toBeUndefined();
    expect(pkg.dependencies ?? {}).toEqual({});
    expect(pkg.engines.node).toMatch(/^>=\d+/);
  });

  it('ships only what runs: dist/cli, package.json, README, LICENSE, CHANGELOG', () => {
    const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).trim().split('\n');
    expect(files).toEqual(
      expect.arrayContaining([
        'package/package.json',
        'package/README.md',
        'package/LICENSE',
        'package/CHANGELOG.md',
        'package/dist/cli/index.js',
      ]),
    );
    const outside = files.filter(
      (f) => !/^package\/(dist\/cli\/[^/]+|package\.json|README\.md|LICENSE|CHANGELOG\.md)$/.test(f),
    );
    expect(outside).toEqual([]);
  });

  it('installs a dbdrill bin that links to the bundle inside the prefix and prints the version', async () => {
    const bin = join(prefix, 'bin', 'dbdrill');
    expect(existsSync(bin)).toBe(true);
    expect(realpathSync(bin)).toBe(join(prefix, 'lib', 'node_modules', 'dbdrill', 'dist', 'cli', 'index.js'));
    // nothing but the package itself was installed
    expect(readdirSync(join(prefix, 'lib', 'node_modules'))).toEqual(['dbdrill']);
    const run = await dbdrill(['--version']);
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toBe(pkg.version);
  });

  it('installs from a release URL, as the docs show (the tarball served over HTTP on loopback)', async () => {
    const server = createServer((req, res) => {
      if (req.url !== `/releases/download/v${pkg.version}/dbdrill-${pkg.version}.tgz`) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      createReadStream(tarball).pipe(res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const urlPrefix = join(work.dir, 'url-prefix');
    try {
      // async: the server answering npm runs on this event loop
      await new Promise<void>((resolve, reject) => {
        const child = spawn(
          'npm',
          [
            'install',
            '-g',
            '--prefix',
            urlPrefix,
            '--no-audit',
            '--no-fund',
            '--cache',
            join(work.dir, 'npm-cache-url'),
            `http://127.0.0.1:${port}/releases/download/v${pkg.version}/dbdrill-${pkg.version}.tgz`,
          ],
          { cwd: elsewhere, env: userEnv(), stdio: 'ignore' },
        );
        child.on('error', reject);
        child.on('close', (code) =>
          code === 0 ? resolve() : reject(new Error(`npm install exited ${code}`)),
        );
      });
    } finally {
      server.close();
    }
    const version = execFileSync(join(urlPrefix, 'bin', 'dbdrill'), ['--version'], {
      cwd: elsewhere,
      env: userEnv(),
      encoding: 'utf8',
    });
    expect(version.trim()).toBe(pkg.version);
  });

  it('rejects bad usage with exit 2 and a message naming the flag', async () => {
    const run = await dbdrill(['backup', '--no-such-flag', 'x']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('no-such-flag');
  });
});

describe('the installed CLI against a scratch cluster, from another directory', () => {
  let cluster: TestCluster;
  let counts: Record<string, number>;
  let store: string;
  let bundle: string;

  beforeAll(async () => {
    cluster = await startTestCluster({ database: 'shop' });
    counts = (await cluster.loadRealisticSchema()).counts;
    store = join(work.dir, 'store');
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  it('backup --json writes a bundle into the store', async () => {
    const run = await dbdrill([
      'backup',
      '--database-url',
      cluster.url,
      '--store',
      store,
      '--name',
      'shop',
      '--json',
    ]);
    expect(run.stderr).not.toMatch(/Error: Cannot find module/);
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout) as { bundle: string; sha256: string; sizeBytes: number };
    bundle = out.bundle;
    expect(bundle.startsWith(store)).toBe(true);
    expect(existsSync(bundle)).toBe(true);
    expect(out.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('verify --deep of the newest bundle passes and counts every row', async () => {
    const run = await dbdrill(['verify', '--store', store, '--name', 'shop', '--deep', '--json']);
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout) as { ok: boolean; bundle: string; problems: string[] };
    expect(out.ok).toBe(true);
    expect(out.problems).toEqual([]);
  });

  it('verify of a damaged copy exits 1', async () => {
    const damaged = join(work.dir, 'damaged.dbdrill.tar');
    await copyFile(bundle, damaged);
    const fh = await open(damaged, 'r+');
    const { size } = await fh.stat();
    await fh.write(Buffer.from('dbdrill'), 0, 7, Math.floor(size / 2));
    await fh.close();
    const run = await dbdrill(['verify', '--bundle', damaged, '--deep', '--json']);
    expect(run.code).toBe(1);
    expect((JSON.parse(run.stdout) as { ok: boolean }).ok).toBe(false);
  });

  it('drill --provision local restores it and every count matches', async () => {
    const reportDir = join(work.dir, 'report');
    const run = await dbdrill([
      'drill',
      '--store',
      store,
      '--name',
      'shop',
      '--provision',
      'local',
      '--report-dir',
      reportDir,
      '--json',
    ]);
    expect(run.stderr).not.toMatch(/Error: Cannot find module/);
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout) as {
      status: string;
      counts: { name: string; expected: number; actual: number }[];
    };
    expect(out.status).toBe('passed');
    const restored = Object.fromEntries(out.counts.map((c) => [c.name, c.actual]));
    for (const [table, n] of Object.entries(counts)) expect(restored[table]).toBe(n);
    for (const f of ['drill-report.json', 'drill-report.md', 'junit.xml'])
      expect(existsSync(join(reportDir, f))).toBe(true);
  });

  it('list shows the bundle as verified', async () => {
    const run = await dbdrill(['list', '--store', store, '--name', 'shop', '--json']);
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout) as { bundles: { key: string; verified: string }[] };
    expect(out.bundles).toHaveLength(1);
    expect(bundle.endsWith(out.bundles[0].key)).toBe(true);
    expect(out.bundles[0].verified).toBe('yes');
  });
});
