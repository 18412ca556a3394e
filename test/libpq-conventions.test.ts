/**
 * libpq's conventions hold for every connection dbdrill makes and every tool it runs: a scratch
 * cluster that demands SCRAM passwords, reached with a URL that carries none, through PGPASSWORD,
 * a password file and a service file, as psql would be.
 */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';

import { runCli } from '../src/cli/main.js';
import { connectPg, parsePgUrl } from '../src/core/engines/postgres/connection.js';
import { ConfigError } from '../src/core/errors.js';
import { MemoryLogger } from './helpers/memory-logger.js';
import { NodeProcessRunner } from '../src/core/process.js';
import { startLocalCluster, type LocalCluster } from '../src/core/provision/local-postgres.js';

const logger = new MemoryLogger();
let cluster: LocalCluster;
let dir: string;
const saved = { ...process.env };
const SECRET = 'scram-s3cret:with\\colon';

beforeAll(async () => {
  cluster = await startLocalCluster(
    { runner: new NodeProcessRunner(logger), logger },
    { database: 'appdb', major: 15 },
  );
  dir = await mkdtemp(path.join(tmpdir(), 'dbdrill-libpq-'));
  const admin = new pg.Client({ connectionString: cluster.url, ssl: false });
  await admin.connect();
  await admin.query(`SET password_encryption = 'scram-sha-256'`);
  await admin.query(`CREATE ROLE app LOGIN SUPERUSER PASSWORD '${SECRET.replace(/'/g, "''")}'`);
  await admin.query('CREATE TABLE t (id int)');
  await admin.query('INSERT INTO t SELECT generate_series(1, 7)');
  // the superuser stays trusted (setup), everyone else must prove a SCRAM password
  await writeFile(
    path.join(cluster.dataDir, 'pg_hba.conf'),
    'local all all trust\nhost all postgres 127.0.0.1/32 trust\nhost all all 127.0.0.1/32 scram-sha-256\n',
  );
  await admin.query('SELECT pg_reload_conf()');
  await admin.end();
  await new Promise((r) => setTimeout(r, 300));
}, 120_000);

afterEach(() => {
  for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
  Object.assign(process.env, saved);
});

afterAll(async () => {
  await cluster?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const appUrl = () => `postgres://app@127.0.0.1:${cluster.port}/appdb`;

async function backup(url: string): Promise<{ code: number; err: string }> {
  let err = '';
  const store = await mkdtemp(path.join(dir, 'store-'));
  const code = await runCli(['backup', '--database-url', url, '--store', store, '--name', 'x', '--json'], {
    stdout: () => undefined,
    stderr: (t) => (err += t),
    env: process.env,
  });
  return { code, err };
}

describe('libpq conventions', () => {
  it('without any password the error says where a password may come from, not the driver SASL text', async () => {
    delete process.env.PGPASSWORD;
    process.env.PGPASSFILE = path.join(dir, 'none');
    const err = await connectPg(appUrl(), '--database-url').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/asks user "app" for a password.*PGPASSWORD.*PGPASSFILE/);
    expect((err as Error).message).not.toMatch(/SASL|must be a string/);
  });

  it('PGPASSWORD reaches both the driver and pg_dump when the URL has no password', async () => {
    process.env.PGPASSWORD = SECRET;
    const c = await connectPg(appUrl(), '--database-url');
    expect((await c.query<{ u: string }>('SELECT current_user AS u')).rows[0].u).toBe('app');
    await c.end();
    const r = await backup(appUrl());
    expect(r.err).not.toMatch(/SASL|could not import/);
    expect({ code: r.code, err: r.code ? r.err : '' }).toEqual({ code: 0, err: '' });
  }, 60_000);

  it('a password file (PGPASSFILE, escaped ":"), for the driver and pg_dump; a world-readable one is ignored', async () => {
    delete process.env.PGPASSWORD;
    const file = path.join(dir, 'pgpass');
    await writeFile(
      file,
      `# comment\n127.0.0.1:${cluster.port}:*:app:${SECRET.replace(/\\/g, '\\\\').replace(/:/g, '\\:')}\n`,
    );
    await chmod(file, 0o600);
    process.env.PGPASSFILE = file;
    const r = await backup(appUrl());
    expect({ code: r.code, err: r.code ? r.err : '' }).toEqual({ code: 0, err: '' });
    await chmod(file, 0o644);
    await expect(connectPg(appUrl(), '--database-url')).rejects.toThrow(/for a password/);
  }, 60_000);

  it('a service file names host, port, user, database and password (PGSERVICEFILE + service=)', async () => {
    delete process.env.PGPASSWORD;
    process.env.PGPASSFILE = path.join(dir, 'none');
    const file = path.join(dir, 'services.conf');
    await writeFile(
      file,
      `[other]\nhost=192.0.2.1\n\n[drillsvc]\nhost=127.0.0.1\nport=${cluster.port}\nuser=app\ndbname=appdb\npassword=${SECRET}\nsslmode=disable\n`,
    );
    process.env.PGSERVICEFILE = file;
    const t = parsePgUrl('postgres:///?service=drillsvc', '--database-url');
    expect(t).toMatchObject({ host: '127.0.0.1', port: cluster.port, user: 'app', database: 'appdb' });
    const r = await backup('postgres:///?service=drillsvc');
    expect(r.err).not.toMatch(/SASL/);
    expect({ code: r.code, err: r.code ? r.err : '' }).toEqual({ code: 0, err: '' });
    // PGSERVICE works as well, and a service nobody defined is a usage error naming it
    process.env.PGSERVICE = 'drillsvc';
    const c = await connectPg('postgres:///appdb', '--database-url');
    await c.end();
    expect(() => parsePgUrl('postgres:///?service=nosuch', '--database-url')).toThrow(
      /service "nosuch" is not defined/,
    );
  }, 60_000);

  it('PGSSLMODE=require is honoured (the scratch server has no TLS), prefer falls back to plain text', async () => {
    process.env.PGPASSWORD = SECRET;
    process.env.PGSSLMODE = 'require';
    await expect(connectPg(appUrl(), '--database-url')).rejects.toThrow(/SSL/);
    process.env.PGSSLMODE = 'prefer';
    const c = await connectPg(appUrl(), '--database-url');
    await c.end();
  });
});
