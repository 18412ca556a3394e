/**
 * `npm run demo`: the whole product on an embedded default. A scratch "production" PostgreSQL with
 * the sample shop data and its KEK, then the real CLI: backup, verify --deep, and a drill that
 * restores into a throwaway cluster, runs the sample app's migration, boots the app on the
 * restored data and secret store, and proves it healthy. Everything lives under .demo/.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';

import { generateIdentity, recipientOf } from '../core/crypto/age.js';
import { messageOf } from '../core/errors.js';
import { ConsoleLogger } from '../core/logger.js';
import { NodeProcessRunner } from '../core/process.js';
import { freePort } from '../core/provision/free-port.js';
import { startLocalCluster, type LocalCluster } from '../core/provision/local-postgres.js';
import { findPgInstalls } from '../core/engines/postgres/pg-binaries.js';

const here = dirname(fileURLToPath(import.meta.url));
/** dist/demo/index.js or src/demo/main.ts: the repository is two levels up either way. */
const root = resolve(here, '..', '..');
const cli = join(root, 'dist', 'cli', 'index.js');
const demoDir = resolve(process.env.DBDRILL_DEMO_DIR ?? join(root, '.demo'));

const say = (line = '') => process.stdout.write(line + '\n');

function runCli(args: string[]): Promise<number> {
  say(`\n$ dbdrill ${args.map((a) => (/[\s"]/.test(a) ? `'${a}'` : a)).join(' ')}`);
  return new Promise((res) => {
    const child = spawn(process.execPath, [cli, ...args], { stdio: 'inherit', cwd: root });
    child.on('close', (code) => res(code ?? 1));
  });
}

async function main(): Promise<number> {
  const logger = new ConsoleLogger({ write: (l) => process.stderr.write(`  ${l}\n`) });
  const runner = new NodeProcessRunner(logger);
  if (!existsSync(cli)) {
    say(`dbdrill demo: ${cli} is missing; run "npm run build" first`);
    return 2;
  }
  const servers = (await findPgInstalls(runner, { searchRoots: [root] })).filter(
    (i) => i.hasServer && !i.problem,
  );
  const clients = (await findPgInstalls(runner, { searchRoots: [root] })).filter(
    (i) => i.hasClient && !i.problem,
  );
  if (servers.length === 0 || clients.length === 0) {
    say('dbdrill demo needs PostgreSQL on this machine:');
    if (servers.length === 0)
      say(
        '  - server binaries (initdb, pg_ctl, postgres): none found on PATH or in /usr/lib/postgresql/<N>/bin',
      );
    if (clients.length === 0) say('  - client tools (pg_dump, pg_restore): none found');
    say(
      'Install them, e.g. "sudo apt-get install postgresql" (Debian/Ubuntu) or "brew install postgresql@16" (macOS),',
    );
    say('or point PATH at a PostgreSQL bin directory, then run "npm run demo" again.');
    return 2;
  }
  await rm(demoDir, { recursive: true, force: true });
  await mkdir(join(demoDir, 'secrets'), { recursive: true, mode: 0o700 });

  say('dbdrill demo: backups are only real once restored.\n');
  say('1. A scratch "production" PostgreSQL with the sample shop data and its key-encryption key (KEK)');
  const major = Math.max(...clients.map((c) => c.major));
  const serverMajor =
    servers
      .map((s) => s.major)
      .filter((m) => m <= major)
      .sort((a, b) => b - a)[0] ?? servers[0].major;
  let prod: LocalCluster | undefined;
  try {
    prod = await startLocalCluster(
      { runner, logger },
      { major: serverMajor, database: 'shop', searchRoots: [root] },
    );
    const app = (await importAtRuntime(pathToFileURL(join(root, 'examples', 'app', 'seed.mjs')).href)) as {
      seed: (c: pg.Client, key: string) => Promise<{ counts: Record<string, number>; fingerprint: string }>;
      generateKek: () => string;
    };
    const kek = app.generateKek();
    const kekPath = join(demoDir, 'secrets', 'kek.key');
    await writeFile(kekPath, kek, { mode: 0o600 });
    const client = new pg.Client({ connectionString: prod.url });
    await client.connect();
    let seeded;
    try {
      seeded = await app.seed(client, kek);
    } finally {
      await client.end();
    }
    say(`   PostgreSQL ${prod.version} at ${prod.host}:${prod.port}/shop`);
    say(
      `   seeded: ${Object.entries(seeded.counts)
        .map(([t, n]) => `${t} ${n}`)
        .join(', ')}`,
    );
    say(
      `   KEK written to ${kekPath} (fingerprint ${seeded.fingerprint.slice(0, 19)}…, recorded in kek_install)`,
    );

    // The backup is encrypted to an age public key: the backup side holds no key that can decrypt it.
    const identity = generateIdentity();
    const identityPath = join(demoDir, 'keys', 'backup-identity.txt');
    await mkdir(dirname(identityPath), { recursive: true, mode: 0o700 });
    await writeFile(identityPath, `# dbdrill demo backup key\n${identity}\n`, { mode: 0o600 });
    const recipient = recipientOf(identity);
    say(`   backup encryption: age recipient ${recipient.slice(0, 16)}… (identity in ${identityPath})`);
    const kekQuery = ['--kek-fingerprint-query', 'SELECT fingerprint FROM public.kek_install'];

    const store = join(demoDir, 'bundles');
    const common = ['--store', store, '--name', 'shop'];
    say('\n2. Backup: the database and its secret store as one recovery point');
    let code = await runCli([
      'backup',
      '--database-url',
      prod.url,
      ...common,
      '--secret-files',
      kekPath,
      '--recipients',
      recipient,
      ...kekQuery,
    ]);
    if (code !== 0) return code;

    say('\n3. Verify: every layer, every data block inflated and every row counted');
    code = await runCli(['verify', ...common, '--deep', '--max-age', '1h', '--identity', identityPath]);
    if (code !== 0) return code;

    say('\n4. Drill: restore into a throwaway cluster, migrate, boot the app on it, prove it healthy');
    const port = await freePort();
    const reportDir = join(demoDir, 'report');
    code = await runCli([
      'drill',
      ...common,
      '--provision',
      'local',
      '--migrate-command',
      `node ${join(root, 'examples', 'app', 'migrate.mjs')}`,
      '--app-command',
      `PORT=${port} exec node ${join(root, 'examples', 'app', 'server.mjs')}`,
      '--health-urls',
      `GET http://127.0.0.1:${port}/healthz 200`,
      '--health-urls',
      `GET http://127.0.0.1:${port}/readyz 200`,
      '--assert-sql',
      'SELECT count(*) > 0 FROM public.orders',
      '--rto',
      '5m',
      '--rpo',
      '1h',
      '--report-dir',
      reportDir,
      '--identity',
      identityPath,
      ...kekQuery,
    ]);
    const summary = await readFile(join(reportDir, 'drill-report.json'), 'utf8')
      .then((t) => JSON.parse(t) as Record<string, unknown>)
      .catch(() => undefined);
    say('');
    if (summary) {
      const phases = (summary.phases as { name: string; seconds: number }[])
        .map((p) => `${p.name} ${p.seconds.toFixed(2)}s`)
        .join(' · ');
      say(
        `Drill ${String(summary.status).toUpperCase()}: RTO ${summary.rtoSeconds ?? '-'} s, RPO ${summary.rpoSeconds ?? '-'} s`,
      );
      say(`Phases: ${phases}`);
      say(`Report: ${join(reportDir, 'drill-report.md')} (also drill-report.json, junit.xml)`);
      say(`Bundles: ${store}`);
    }
    return code;
  } finally {
    await prod?.stop();
  }
}

/**
 * A real ESM import of a file that is not part of the bundle; ncc rewrites a plain `import()` into
 * its own module loader, which cannot load files outside the bundle.
 */
const importAtRuntime = new Function('specifier', 'return import(specifier)') as (
  s: string,
) => Promise<unknown>;

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    say(`dbdrill demo failed: ${messageOf(err)}`);
    process.exitCode = 1;
  },
);
