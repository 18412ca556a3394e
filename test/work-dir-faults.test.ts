/**
 * A drill whose work dir cannot take the bundle (a full disk) must say so, and must not call the
 * bundle bad: no failed layer about the bundle, no search for an older bundle, and a report whose
 * every output names the runner's disk. The disk is real: each member's target is made a symlink
 * to /dev/full, whose every write fails with the kernel's ENOSPC, and the whole drill runs with
 * RUNNER_TEMP on a 512 KiB tmpfs (mounted when the tests run as root, as in CI here; skipped, and
 * named so, otherwise).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFile, mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { createHash } from 'node:crypto';

import { backup, type BackupResult } from '../src/core/backup.js';
import { locateBundle } from '../src/core/catalog/index.js';
import { drill } from '../src/core/drill.js';
import { fetchAndVerify } from '../src/core/drill/fetch.js';
import { DrillRecorder } from '../src/core/drill/recorder.js';
import { CheckFailed, EnvironmentFault } from '../src/core/errors.js';
import { inspectMongoStream } from '../src/core/engines/mongodb/inspect.js';
import { inspectBundle, type VerifyResult } from '../src/core/inspection/index.js';
import {
  OptionReader,
  parseBackupOptions,
  parseDrillOptions,
  type RawOptions,
} from '../src/core/options/index.js';
import type { DrillResult } from '../src/core/drill.js';
import { testDeps } from './helpers/deps.js';
import { writeFakeMongoTools, type FakeTools } from './helpers/fake-mongo-tools.js';
import { startTestCluster, withSourceCluster } from './helpers/pg-cluster.js';

const OPLOG_GZ = join(process.cwd(), 'test/fixtures/mongo/archive-gzip-derived/dump-w-oplog.archive.gz');
const BARE_PG = join(process.cwd(), 'test/fixtures/postgres/pg15-shop.gzip.dump');
const BARE_MONGO = join(process.cwd(), 'test/fixtures/mongo/archive/dump-w-oplog.archive');
const MONGO_URL = 'mongodb://app:m0ngo-pw@127.0.0.1:27017/test';
const RUNNER_SIDE = /This is a fault on this runner, not in the bundle: .* is full; free space there/;

let fake: FakeTools;
let kek: string;
const bundles: Record<string, BackupResult> = {};

const env = withSourceCluster({
  workPrefix: 'dbdrill-faults-',
  // md5 text barely compresses: the dump is larger than the tmpfs below
  setup: (c) =>
    c.sql(
      `CREATE TABLE orders (id int primary key, note text);
       INSERT INTO orders SELECT g, md5(g::text) || md5((g * 7)::text) FROM generate_series(1, 40000) g;`,
    ),
});

beforeAll(async () => {
  fake = await writeFakeMongoTools(env.work.dir, { source: OPLOG_GZ });
  kek = join(env.work.dir, 'kek.key');
  await writeFile(kek, 'KEK-0123456789abcdef\n', { mode: 0o600 });
  for (const format of ['custom', 'directory']) {
    const raw: RawOptions = {
      'database-url': [env.cluster.url, MONGO_URL],
      store: env.storeDir,
      name: format,
      'secret-files': [kek],
      'mongo-bin-dir': fake.binDir,
      'allow-unencrypted-secrets': 'true', // plain: the test names member paths (encryption has its own tests)
      format,
    };
    bundles[format] = await backup(testDeps(), parseBackupOptions(new OptionReader(raw)));
  }
  // bare dumps, as another tool would store them
  await copyFile(BARE_PG, join(env.storeDir, 'bare.dump'));
  await copyFile(BARE_MONGO, join(env.storeDir, 'bare.archive'));
}, 120_000);

/** Inspects `bundle` as the drill does, with `member`'s extracted file on /dev/full. */
async function inspectOnFullDisk(bundle: string, member: string | undefined): Promise<VerifyResult> {
  const out = join(env.work.dir, 'x', String(Math.random()).slice(2));
  if (member) {
    await mkdir(dirname(join(out, member)), { recursive: true });
    await symlink('/dev/full', join(out, member));
  }
  const deps = testDeps();
  return inspectBundle(deps, locateBundle(deps, bundle), {
    deep: false,
    deepForBareDumps: true,
    extractTo: out,
  });
}

describe('a member that cannot be written to the work dir', () => {
  it.each([
    ['custom', 'postgres.dump', ['postgres.dump']],
    ['custom', 'mongodb.archive.gz', ['postgres.dump', 'mongodb.archive.gz']],
    ['custom', 'secrets/kek.key', ['postgres.dump', 'mongodb.archive.gz', 'secrets/kek.key']],
    ['directory', 'postgres.dir/toc.dat', ['postgres.dir/toc.dat']],
  ])(
    '%s bundle, %s on a full disk: inconclusive, the runner named, the walk stopped there',
    async (format, member, extractedUpTo) => {
      const bundle = bundles[format].bundle;
      // the oracle: the same bundle, a disk with room, verifies; GNU tar reads it
      expect((await inspectOnFullDisk(bundle, undefined)).ok).toBe(true);
      execFileSync('tar', ['-tf', bundle]);

      const r = await inspectOnFullDisk(bundle, member);
      expect(r.ok).toBe(false);
      expect(r.inconclusive).toContain(`could not write bundle member ${member} to `);
      expect(r.inconclusive).toContain('ENOSPC: no space left on device');
      expect(r.inconclusive).toMatch(RUNNER_SIDE);
      // one failed layer, about the run; the stored bytes still match the hash written at backup
      const failed = r.layers.filter((l) => !l.ok && !l.skipped);
      if (failed.length > 1) console.log(JSON.stringify(r.layers, null, 1));
      expect(failed.map((l) => l.name)).toEqual(['bundle readable']);
      expect(failed[0].detail).toBe(`not checked to its end: ${r.inconclusive}`);
      expect(r.layers.find((l) => l.name === 'stored object')?.ok).toBe(true);
      expect(r.problems.join('\n')).not.toMatch(/corrupt|truncated|missing|differs/);
      // nothing past the failing member was read into the work dir
      expect(Object.keys(r.extracted ?? {}).filter((k) => !k.endsWith('.dir'))).toEqual(extractedUpTo);
    },
  );

  it('a directory dump data file on a full disk, read while the walk hands it to the reader', async () => {
    const bundle = bundles.directory.bundle;
    const listing = execFileSync('tar', ['-tf', bundle], { encoding: 'utf8' }).split('\n');
    const dataFile = listing.find((p) => /^postgres\.dir\/\d+\.dat\.gz$/.test(p))!;
    const r = await inspectOnFullDisk(bundle, dataFile);
    expect(r.inconclusive).toContain(`could not write bundle member ${dataFile}`);
    expect(r.layers.filter((l) => !l.ok).map((l) => l.name)).toEqual(['bundle readable']);
    expect(r.extracted).not.toHaveProperty(['mongodb.archive.gz']);
  });

  it.each([
    ['bare.dump', 'postgres.dump'],
    ['bare.archive', 'mongodb.archive'],
  ])('a bare dump (%s) on a full disk is inconclusive too', async (key, member) => {
    const r = await inspectOnFullDisk(join(env.storeDir, key), member);
    expect(r.ok).toBe(false);
    expect(r.inconclusive).toMatch(RUNNER_SIDE);
    expect(r.layers.filter((l) => !l.ok).map((l) => l.name)).toEqual(['bundle readable']);
  });

  it('a work dir where a member folder cannot be made: the same, with the cause', async () => {
    const out = join(env.work.dir, 'x-notdir');
    await mkdir(out, { recursive: true });
    await writeFile(join(out, 'secrets'), 'a file where the folder should be');
    const deps = testDeps();
    const r = await inspectBundle(deps, locateBundle(deps, bundles.custom.bundle), {
      deep: false,
      extractTo: out,
    });
    expect(r.inconclusive).toMatch(/could not write bundle member secrets\/kek\.key to .*: EEXIST/);
    expect(r.inconclusive).toContain('This is a fault on this runner, not in the bundle: check');
    expect(r.layers.filter((l) => !l.ok).map((l) => l.name)).toEqual(['bundle readable']);
  });

  it('a MongoDB archive whose sink fails while full is still read to its end (no wait for a drain that never comes)', async () => {
    const archive = await readFile(BARE_MONGO);
    // the smallest buffer, failing on its first write: full at once, and never drained
    const sink = new Writable({
      highWaterMark: 1,
      write: (_chunk, _enc, cb) => cb(new Error('ENOSPC: no space left on device, write')),
    });
    sink.on('error', () => undefined);
    const input = Readable.from([archive.subarray(0, 1000), archive.subarray(1000)]);
    const inspected = await inspectMongoStream(input, 'mongodb.archive', sink);
    expect(inspected.bytes).toBe(archive.length);
    expect(inspected.sha256).toBe(createHash('sha256').update(archive).digest('hex'));
  });

  it('the drill fetch: an EnvironmentFault, and no search for an older bundle', async () => {
    // a newer copy of the bundle in the same name: the drill picks it, an older one would verify
    const deps = testDeps();
    const work = join(env.work.dir, 'drill-work');
    await mkdir(join(work, 'bundle'), { recursive: true });
    await symlink('/dev/full', join(work, 'bundle', 'postgres.dump'));
    const store = deps.openStore(env.storeDir);
    const recorder = new DrillRecorder(deps, 'custom');
    const err = await fetchAndVerify(deps, { name: 'custom' }, store, recorder, work).catch((e) => e);
    expect(err).toBeInstanceOf(EnvironmentFault);
    expect(err).not.toBeInstanceOf(CheckFailed);
    expect(err.message).toMatch(
      /^the bundle .* could not be fetched: could not write bundle member postgres\.dump/,
    );
    expect(err.message).toMatch(RUNNER_SIDE);
    expect(err.message).not.toContain('verifies');
    // the phase failed with the reason; no other bundle was read
    expect(recorder.report.phases).toEqual([
      expect.objectContaining({
        name: 'fetch + verify',
        status: 'failed',
        detail: expect.stringMatching(RUNNER_SIDE),
      }),
    ]);
    expect(deps.logger.lines.filter((l) => l.includes('verif') && l.includes('older'))).toEqual([]);
  });
});

const canMountTmpfs = (() => {
  if (process.getuid?.() !== 0) return false;
  const probe = join('/tmp', `dbdrill-mount-probe-${process.pid}`);
  spawnSync('mkdir', ['-p', probe]);
  const ok = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe]).status === 0;
  if (ok) spawnSync('umount', [probe]);
  spawnSync('rmdir', [probe]);
  return ok;
})();

describe('a whole drill with RUNNER_TEMP on a small disk', () => {
  const small = join('/tmp', `dbdrill-small-disk-${process.pid}`);
  afterAll(() => {
    spawnSync('umount', [small]);
    spawnSync('rmdir', [small]);
  });

  (canMountTmpfs ? it : it.skip)(
    `fails in fetch + verify naming the runner's disk in the error, the report and the checks (needs root to mount a 512 KiB tmpfs${canMountTmpfs ? '' : ': skipped here'})`,
    async () => {
      execFileSync('mkdir', ['-p', small]);
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=512k', 'tmpfs', small]);
      const target = await startTestCluster({ database: 'scratch' });
      const before = process.env.RUNNER_TEMP;
      process.env.RUNNER_TEMP = small;
      const reportDir = join(env.work.dir, 'r-small-disk');
      let result: DrillResult;
      try {
        const err = await drill(
          testDeps(),
          parseDrillOptions(
            new OptionReader({
              store: env.storeDir,
              name: 'custom',
              'target-url': target.url,
              'report-dir': reportDir,
            }),
          ),
        ).catch((e) => e);
        expect(err).toBeInstanceOf(CheckFailed);
        expect(err.message).toMatch(/^drill failed: the bundle .* could not be fetched: .*ENOSPC/);
        result = (err as CheckFailed<DrillResult>).result!;
      } finally {
        if (before === undefined) delete process.env.RUNNER_TEMP;
        else process.env.RUNNER_TEMP = before;
        await target.stop();
      }
      expect(result.ok).toBe(false);
      expect(result.report.error).toMatchObject({
        phase: 'fetch + verify',
        message: expect.stringMatching(RUNNER_SIDE),
        hint: expect.stringContaining('not in the bundle'),
      });
      expect(result.checks.failures.join('\n')).toMatch(
        /drill ran to the end: stopped in fetch \+ verify: .*ENOSPC/,
      );
      expect(result.checks.failures.join('\n')).not.toMatch(/corrupt|differs|older bundle/);
      // every written output says why
      const md = await readFile(join(reportDir, 'drill-report.md'), 'utf8');
      expect(md).toMatch(/ENOSPC: no space left on device/);
      expect(md).toContain('not in the bundle');
      // the work dir was removed from the small disk
      expect(await readdir(small)).toEqual([]);
    },
    120_000,
  );
});
