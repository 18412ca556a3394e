/**
 * One recovery point for the whole app: a real scratch PostgreSQL (real pg_dump) and the
 * mongodump TEST DOUBLE (it writes a real mongodump archive from test/fixtures/mongo; no mongod
 * can run here) plus the secret files, in one bundle with one manifest and the skew between
 * the dumps; verify reads both dumps in one pass; max-skew; the drill boots the app once with
 * both URLs. The same path against real mongo:7 and postgres:16 runs in .github/workflows/mongo.yml.
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { backup, type BackupResult } from '../src/core/backup.js';
import type { Manifest } from '../src/core/bundle/manifest.js';
import { drill } from '../src/core/drill.js';
import { CheckFailed, ConfigError } from '../src/core/errors.js';
import {
  OptionReader,
  parseBackupOptions,
  parseDrillOptions,
  parseVerifyOptions,
  type RawOptions,
} from '../src/core/options/index.js';
import { verify } from '../src/core/verify.js';
import { testDeps } from './helpers/deps.js';
import { writeFakeMongoTools, type FakeTools } from './helpers/fake-mongo-tools.js';
import { withSourceCluster } from './helpers/pg-cluster.js';

const OPLOG_GZ = join(process.cwd(), 'test/fixtures/mongo/archive-gzip-derived/dump-w-oplog.archive.gz');
const MONGO_URL = 'mongodb://app:m0ngo-pw@127.0.0.1:27017/test';

let fake: FakeTools;
let kek: string;
let joint: BackupResult;

function opts(extra: RawOptions = {}) {
  return parseBackupOptions(
    new OptionReader({
      'database-url': [env.cluster.url, MONGO_URL],
      store: env.storeDir,
      name: 'app',
      'secret-files': [kek],
      'mongo-bin-dir': fake.binDir,
      'allow-unencrypted-secrets': 'true', // plain on purpose: the test reads the tar (encryption has its own tests)
      format: 'custom', // one dump file, so the listing below is short (directory dumps: dump-formats.test.ts)
      ...extra,
    }),
  );
}

const env = withSourceCluster({
  workPrefix: 'dbdrill-joint-',
  setup: (cluster) =>
    cluster.sql(
      `CREATE TABLE orders (id int primary key, total numeric); INSERT INTO orders SELECT g, g * 1.5 FROM generate_series(1, 500) g;`,
    ),
});

beforeAll(async () => {
  fake = await writeFakeMongoTools(env.work.dir, { source: OPLOG_GZ });
  kek = join(env.work.dir, 'kek.key');
  await writeFile(kek, 'KEK-0123456789abcdef\n', { mode: 0o600 });
  joint = await backup(testDeps(), opts());
});

describe('a joint PostgreSQL + MongoDB + secrets recovery point', () => {
  it('is one bundle with one manifest: a component per database, unique ids, the skew between the dumps', async () => {
    expect(joint.components.map((c) => [c.id, c.engine, c.database])).toEqual([
      ['postgres', 'postgres', 'shop'],
      ['mongodb', 'mongodb', 'test'],
    ]);
    expect(joint).toMatchObject({ tables: 1, rows: 500, collections: 3, documents: 44, secretFiles: 1 });
    expect(joint.skewSeconds).toBeGreaterThanOrEqual(0);
    const listing = execFileSync('tar', ['-tf', joint.bundle], { encoding: 'utf8' }).trim().split('\n');
    expect(listing).toEqual([
      'manifest.json',
      'postgres.dump',
      'mongodb.archive.gz',
      'secrets/kek.key',
      'SHA256SUMS',
    ]);
    const m = JSON.parse(
      execFileSync('tar', ['-xOf', joint.bundle, 'manifest.json'], { encoding: 'utf8' }),
    ) as Manifest;
    expect(m.components.map((c) => c.member)).toEqual(['postgres.dump', 'mongodb.archive.gz']);
    expect(m.members.filter((x) => x.role === 'dump').map((x) => x.component)).toEqual([
      'postgres',
      'mongodb',
    ]);
    expect(m.skew?.seconds).toBe(joint.skewSeconds);
    expect(m.skew?.components.map((c) => c.id)).toEqual(['postgres', 'mongodb']);
    const starts = m.components.map((c) => Date.parse(c.startedAt));
    const ends = m.components.map((c) => Date.parse(c.endedAt));
    expect(m.skew!.seconds).toBe((Math.max(...ends) - Math.min(...starts)) / 1000);
    expect(m.endedAt).toBe(new Date(Math.max(...ends)).toISOString());
    expect(JSON.stringify(m)).not.toMatch(/m0ngo-pw|KEK-0123/);
  });

  it('verifies in one pass: the PostgreSQL layers and the MongoDB layers, each by name', async () => {
    const v = await verify(
      testDeps(),
      parseVerifyOptions(new OptionReader({ bundle: joint.bundle, deep: 'true' })),
    );
    expect(v.problems).toEqual([]);
    const names = v.layers.map((l) => l.name);
    for (const n of [
      'dump header and TOC',
      'tables match manifest',
      'mongodb archive',
      'collections match manifest',
      'member checksums',
      'secret files',
    ]) {
      expect(names).toContain(n);
    }
    expect(v.layers.find((l) => l.name === 'mongodb archive')!.detail).toMatch(/test\.foo 25/);
    expect(v.pgDump?.rows?.['public.orders']).toBe(500);
  });

  it('max-skew: dumps too far apart fail the backup and store nothing', async () => {
    const slowDir = join(env.work.dir, 'slow');
    await mkdir(slowDir);
    const slow = await writeFakeMongoTools(slowDir, { source: OPLOG_GZ, sleep: 2 });
    const store = join(env.work.dir, 'store-skew');
    const err = await backup(
      testDeps(),
      opts({ store, 'mongo-bin-dir': slow.binDir, 'max-skew': '1s' }),
    ).catch((e: Error) => e);
    expect(err).toBeInstanceOf(CheckFailed);
    expect((err as Error).message).toMatch(
      /the dumps are [\d.]+ s apart \(postgres and mongodb.*over max-skew 1 s; nothing was stored/,
    );
    expect(await readdir(store).catch(() => [])).toEqual([]);
    const ok = await backup(testDeps(), opts({ store, 'mongo-bin-dir': slow.binDir, 'max-skew': '1m' }));
    expect(ok.skewSeconds).toBeGreaterThanOrEqual(2);
  });

  it('keeps single-URL behaviour: engine with two URLs is refused', () => {
    expect(() => opts({ engine: 'postgres' })).toThrow(ConfigError);
  });

  it('the drill needs a target per engine, and boots the app once with DATABASE_URL and MONGODB_URL', async () => {
    const report = (n: string) => join(env.work.dir, `report-${n}`);
    const onlyPg = await drill(
      testDeps(),
      parseDrillOptions(
        new OptionReader({ bundle: joint.bundle, provision: 'local', 'report-dir': report('a') }),
      ),
    ).catch((e: Error) => e);
    expect(onlyPg).toBeInstanceOf(ConfigError);
    expect((onlyPg as Error).message).toMatch(/add a mongodb:\/\/ target-url/);

    const onlyMongo = await drill(
      testDeps(),
      parseDrillOptions(
        new OptionReader({
          bundle: joint.bundle,
          'target-url': 'mongodb://127.0.0.1:1/restored',
          'report-dir': report('b'),
        }),
      ),
    ).catch((e: Error) => e);
    expect(onlyMongo).toBeInstanceOf(ConfigError);
    expect((onlyMongo as Error).message).toMatch(/holds a PostgreSQL dump: add a postgres:\/\/ target-url/);

    // Both restores run (pg_restore for real, mongorestore as the double); the app starts once with
    // both URLs; counting MongoDB documents needs a real mongod, so the drill ends there.
    const envFile = join(env.work.dir, 'app-env.txt');
    const err = await drill(
      testDeps(),
      parseDrillOptions(
        new OptionReader({
          bundle: joint.bundle,
          provision: 'local',
          'target-url':
            'mongodb://root:pw@127.0.0.1:1/restored?authSource=admin&serverSelectionTimeoutMS=300',
          'mongo-bin-dir': fake.binDir,
          'app-command': `printf '%s\\n%s\\n' "$DATABASE_URL" "$MONGODB_URL" >> '${envFile}'; sleep 30`,
          'report-dir': report('c'),
        }),
      ),
    ).catch((e: Error) => e);
    const lines = (await readFile(envFile, 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^postgres(ql)?:\/\/.*\/shop/);
    expect(lines[1]).toBe(
      'mongodb://root:pw@127.0.0.1:1/restored?authSource=admin&serverSelectionTimeoutMS=300',
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/cannot connect to MongoDB at root@127\.0\.0\.1:1\/restored/);
    const r = JSON.parse(await readFile(join(report('c'), 'drill-report.json'), 'utf8')) as {
      checks: { name: string; ok: boolean }[];
      source?: { engine?: string; database?: string };
      sources?: { engine?: string; database?: string }[];
    };
    expect(r.checks.find((c) => c.name === 'pg_restore')?.ok).toBe(true);
    expect(r.checks.find((c) => c.name === 'mongorestore')?.ok).toBe(true);
    // the report names both databases it restored, not only the manifest's first component
    expect(r.sources?.map((s) => [s.engine, s.database])).toEqual([
      ['postgres', 'shop'],
      ['mongodb', 'test'],
    ]);
    expect(r.source).toEqual(r.sources?.[0]);
    const markdown = await readFile(join(report('c'), 'drill-report.md'), 'utf8');
    expect(markdown).toMatch(/\*\*Source:\*\* database `shop`, PostgreSQL/);
    expect(markdown).toMatch(/\*\*Source:\*\* database `test`, MongoDB/);
  });
});
