/**
 * The initdb template cache of `provision: local` (src/core/provision/initdb-cache.ts), on real
 * servers: which processes ran is read from the process runner, which is the real one wrapped to
 * record each command (it still runs every one of them).
 */
import {
  chmod,
  mkdir,
  mkdtemp,
  readFile,
  readdir,
  rm,
  stat,
  truncate,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';

import { MemoryLogger } from './helpers/memory-logger.js';
import { NodeProcessRunner, type ProcessRunner } from '../src/core/process.js';
import { controlCrcOffset, crc32c, newSystemIdentifier } from '../src/core/provision/control-file.js';
import { defaultCacheDir } from '../src/core/provision/initdb-cache.js';
import { startLocalCluster, type LocalCluster } from '../src/core/provision/local-postgres.js';
import { defaultTestMajor } from './helpers/pg-cluster.js';

let cacheRoot: string;
let major: number;

beforeAll(async () => {
  cacheRoot = await mkdtemp(path.join(tmpdir(), 'dbdrill-cache-test-'));
  major = (await defaultTestMajor())!;
});
afterAll(async () => {
  await rm(cacheRoot, { recursive: true, force: true });
});

/** The real runner, recording the basename of every command it runs. */
function recordingRunner(logger: MemoryLogger): { runner: ProcessRunner; commands: string[] } {
  const real = new NodeProcessRunner(logger);
  const commands: string[] = [];
  const runner: ProcessRunner = {
    run: (command, args, options) => {
      commands.push(path.basename(command));
      return real.run(command, args, options);
    },
    spawn: (command, args, options) => real.spawn(command, args, options),
  };
  return { runner, commands };
}

async function start(
  cacheDir: string | false,
  extra: { settings?: Record<string, string> } = {},
): Promise<{ cluster: LocalCluster; commands: string[]; logger: MemoryLogger }> {
  const logger = new MemoryLogger();
  const { runner, commands } = recordingRunner(logger);
  const cluster = await startLocalCluster({ runner, logger }, { major, database: 'app', cacheDir, ...extra });
  return { cluster, commands, logger };
}

async function query(url: string, sql: string): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: url, ssl: false });
  await client.connect();
  try {
    return (await client.query(sql)).rows as Record<string, unknown>[];
  } finally {
    await client.end();
  }
}

const SYSID = 'SELECT system_identifier::text AS id FROM pg_control_system()';

async function entries(root: string): Promise<string[]> {
  return (await readdir(path.join(root, 'initdb'))).sort();
}

describe('initdb template cache', () => {
  it('the first cluster runs initdb and stores a template; the next copies it, starts, and sees nothing of the first', async () => {
    const first = await start(cacheRoot);
    let firstId: unknown;
    try {
      expect(first.commands).toContain('initdb');
      firstId = (await query(first.cluster.url, SYSID))[0]!.id;
      await query(first.cluster.url, 'CREATE TABLE leaked (x int); INSERT INTO leaked VALUES (1)');
      await query(first.cluster.url.replace(/\/app$/, '/postgres'), 'CREATE ROLE leaked_role');
    } finally {
      await first.cluster.stop();
    }
    const stored = await entries(cacheRoot);
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatch(new RegExp(`^pg${major}-[0-9a-f]{24}$`));
    expect((await stat(path.join(cacheRoot, 'initdb'))).mode & 0o777).toBe(0o700);
    // a template of a server that never started
    await expect(
      stat(path.join(cacheRoot, 'initdb', stored[0]!, 'data', 'postmaster.pid')),
    ).rejects.toThrow();

    const second = await start(cacheRoot);
    try {
      expect(second.commands).not.toContain('initdb');
      expect(second.commands).toContain('cp');
      expect(second.logger.lines.join('\n')).toMatch(/initdb skipped: copied the cached template/);
      expect(second.cluster.dataDir).not.toBe(first.cluster.dataDir);
      // its own system identifier: the drill tells a backup's source from its target by it
      const secondId = (await query(second.cluster.url, SYSID))[0]!.id;
      expect(secondId).not.toBe(firstId);
      const third = await start(cacheRoot);
      try {
        const thirdId = (await query(third.cluster.url, SYSID))[0]!.id;
        expect(new Set([firstId, secondId, thirdId]).size).toBe(3);
      } finally {
        await third.cluster.stop();
      }
      if (process.getuid?.() === 0) {
        // the server runs as the unprivileged user: the copy must belong to it, as initdb's did
        expect((await stat(second.cluster.dataDir)).uid).not.toBe(0);
      }
      expect((await stat(second.cluster.dataDir)).mode & 0o777).toBe(0o700);
      const tables = await query(
        second.cluster.url,
        `SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 'leaked'`,
      );
      expect(tables[0]!.n).toBe(0);
      const roles = await query(
        second.cluster.url,
        `SELECT count(*)::int AS n FROM pg_roles WHERE rolname = 'leaked_role'`,
      );
      expect(roles[0]!.n).toBe(0);
      // it is a working server: write and read back
      await query(second.cluster.url, 'CREATE TABLE t AS SELECT g FROM generate_series(1, 1000) g');
      expect((await query(second.cluster.url, 'SELECT sum(g)::int AS s FROM t'))[0]!.s).toBe(500500);
      // the scratch settings are applied to the copy as they were after initdb
      const wal = await query(second.cluster.url, `SELECT current_setting('fsync') AS f`);
      expect(wal[0]!.f).toBe('off');
    } finally {
      await second.cluster.stop();
    }
    expect(await entries(cacheRoot)).toEqual(stored);
  }, 120_000);

  it('a truncated file in the template is caught, initdb runs instead, and the entry is rebuilt', async () => {
    const [entry] = await entries(cacheRoot);
    await truncate(path.join(cacheRoot, 'initdb', entry!, 'data', 'global', 'pg_control'), 100);
    const run = await start(cacheRoot);
    try {
      expect(run.commands).toContain('initdb');
      expect(run.logger.lines.join('\n')).toMatch(
        /debug: initdb template cache: copying .* failed \(the copy differs/,
      );
      expect((await query(run.cluster.url, 'SELECT 1 AS one'))[0]!.one).toBe(1);
    } finally {
      await run.cluster.stop();
    }
    // rebuilt: the next one copies a whole template again
    const again = await start(cacheRoot);
    try {
      expect(again.commands).not.toContain('initdb');
      expect((await query(again.cluster.url, 'SELECT 1 AS one'))[0]!.one).toBe(1);
    } finally {
      await again.cluster.stop();
    }
    expect((await entries(cacheRoot)).filter((e) => e.startsWith('.'))).toEqual([]);
  }, 120_000);

  it('a template that copies whole but will not start falls back to initdb and is dropped', async () => {
    const [entry] = await entries(cacheRoot);
    const wal = path.join(cacheRoot, 'initdb', entry!, 'data', 'pg_wal');
    const segment = path.join(
      wal,
      (await readdir(wal)).find((n) => /^[0-9A-F]{24}$/.test(n))!,
    );
    // same size, page header intact: only the server can tell. The checkpoint record pg_control
    // points at (ControlFileData.checkPoint, offset 32) gets a wrong prev-link and CRC.
    const control = await readFile(path.join(cacheRoot, 'initdb', entry!, 'data', 'global', 'pg_control'));
    const at = Number(control.readBigUInt64LE(32) % BigInt(16 * 1024 * 1024));
    const bytes = await readFile(segment);
    bytes.fill(0x55, at + 8, at + 24);
    await writeFile(segment, bytes);
    const run = await start(cacheRoot);
    try {
      expect(run.commands.filter((c) => c === 'initdb')).toHaveLength(1);
      expect(run.logger.lines.join('\n')).toMatch(
        /did not start from the cached template; trying a fresh initdb/,
      );
      expect((await query(run.cluster.url, 'SELECT 1 AS one'))[0]!.one).toBe(1);
    } finally {
      await run.cluster.stop();
    }
    expect(await entries(cacheRoot)).toEqual([]);
  }, 120_000);

  it('a garbled marker is rebuilt; a bad setting fails with and without the cache and keeps the entry', async () => {
    const first = await start(cacheRoot);
    await first.cluster.stop();
    const [entry] = await entries(cacheRoot);
    await writeFile(path.join(cacheRoot, 'initdb', entry!, 'dbdrill-template.json'), '{not json');
    const run = await start(cacheRoot);
    await run.cluster.stop();
    expect(run.commands).toContain('initdb');
    expect(run.logger.lines.join('\n')).toMatch(/debug: initdb template cache: unreadable marker/);
    const marker = JSON.parse(
      await readFile(path.join(cacheRoot, 'initdb', entry!, 'dbdrill-template.json'), 'utf8'),
    ) as { files: string[] };
    expect(marker.files).toContain('PG_VERSION 3 600');

    const bad = await startLocalCluster(
      { runner: new NodeProcessRunner(new MemoryLogger()), logger: new MemoryLogger() },
      { major, cacheDir: cacheRoot, settings: { shared_buffers: 'lots' } },
    ).catch((e: unknown) => e);
    expect((bad as Error).message).toMatch(/did not start[\s\S]*shared_buffers/);
    expect(await entries(cacheRoot)).toEqual([entry]);
  }, 120_000);

  it('two clusters started at once on an empty cache both work and leave one entry', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'dbdrill-cache-race-'));
    try {
      // leftovers of a killed dbdrill: the old ones go when an entry is stored, a recent one stays
      await mkdir(path.join(root, 'initdb', '.tmp-killed', 'data'), { recursive: true, mode: 0o700 });
      await mkdir(path.join(root, 'initdb', '.old-killed'), { mode: 0o700 });
      await mkdir(path.join(root, 'initdb', '.tmp-recent'), { mode: 0o700 });
      const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
      await utimes(path.join(root, 'initdb', '.tmp-killed'), twoHoursAgo, twoHoursAgo);
      await utimes(path.join(root, 'initdb', '.old-killed'), twoHoursAgo, twoHoursAgo);
      const [a, b] = await Promise.all([start(root), start(root)]);
      try {
        await expect(query(a.cluster.url, 'SELECT 1')).resolves.toHaveLength(1);
        await expect(query(b.cluster.url, 'SELECT 1')).resolves.toHaveLength(1);
      } finally {
        await Promise.all([a.cluster.stop(), b.cluster.stop()]);
      }
      const left = await entries(root);
      expect(left).toHaveLength(2);
      expect(left[0]).toBe('.tmp-recent');
      expect(left[1]).toMatch(/^pg\d+-/);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  }, 120_000);

  it('a cache folder writable by others is not used; cacheDir false never touches one', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'dbdrill-cache-open-'));
    try {
      await chmod(root, 0o700);
      await rm(path.join(root, 'initdb'), { recursive: true, force: true });
      await mkdir(path.join(root, 'initdb'));
      await chmod(path.join(root, 'initdb'), 0o777);
      const run = await start(root);
      await run.cluster.stop();
      expect(run.commands).toContain('initdb');
      expect(run.logger.lines.join('\n')).toMatch(
        /debug: initdb template cache not used: .* writable by group or others/,
      );
      expect(await entries(root)).toEqual([]);

      const off = await start(false);
      await off.cluster.stop();
      expect(off.commands).toContain('initdb');
      expect(off.commands).not.toContain('cp');
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  }, 120_000);

  it('crc32c and the control file CRC offset match PostgreSQL', async () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
    const [entry] = await entries(cacheRoot);
    const control = await readFile(path.join(cacheRoot, 'initdb', entry!, 'data', 'global', 'pg_control'));
    const at = controlCrcOffset(control);
    expect(control.readUInt32LE(at)).toBe(crc32c(control.subarray(0, at)));
    expect(() => controlCrcOffset(Buffer.alloc(512, 1))).toThrow(/0 candidate CRC offsets/);
    expect(newSystemIdentifier(1_700_000_000_123, Buffer.from([1, 0, 0, 0])) >> 32n).toBe(1_700_000_000n);
  });

  it('defaultCacheDir: DBDRILL_CACHE_DIR, off, XDG_CACHE_HOME, then ~/.cache', () => {
    expect(defaultCacheDir({ DBDRILL_CACHE_DIR: '/c/d' })).toBe('/c/d');
    expect(defaultCacheDir({ DBDRILL_CACHE_DIR: 'off', XDG_CACHE_HOME: '/x' })).toBeUndefined();
    expect(defaultCacheDir({ DBDRILL_CACHE_DIR: '0' })).toBeUndefined();
    expect(defaultCacheDir({ XDG_CACHE_HOME: '/x' })).toBe('/x/dbdrill');
    expect(defaultCacheDir({ XDG_CACHE_HOME: 'relative' })).toMatch(/\/\.cache\/dbdrill$/);
    expect(defaultCacheDir({})).toMatch(/\/\.cache\/dbdrill$/);
  });
});
