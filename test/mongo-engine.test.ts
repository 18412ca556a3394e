/**
 * The MongoDB orchestration that can be tested without a mongod: URLs and tool config files, the
 * tool lookup order and its one error message, the tool-cache download (against a local HTTP
 * server serving a tarball built here: a double for fastdl.mongodb.org), the argv built for
 * mongodump/mongorestore, a backup + verify through a mongodump TEST DOUBLE that writes real
 * fixture archives, the error paths, and the drill's refusals. What needs a real mongod (the
 * real tools, mongorestore, counting through the driver) runs in .github/workflows/mongo.yml.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync, spawnSync } from 'node:child_process';
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { chmod, copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

import { ensureToolCacheEnv, toolCacheMongoDownloader } from '../src/adapters/mongo-tools-cache.js';
import { backup, type BackupResult } from '../src/core/backup.js';
import type { Manifest, MongoComponent } from '../src/core/bundle/manifest.js';
import { drill } from '../src/core/drill.js';
import { readMongoArchive } from '../src/core/engines/mongodb/archive-reader.js';
import {
  connectionOnlyUrl,
  formatMongoUrl,
  parseMongoUrl,
  sameMongoSource,
  toolConfigText,
} from '../src/core/engines/mongodb/connection.js';
import { expectedCollections, renameNamespace } from '../src/core/engines/mongodb/counts.js';
import { dockerToolScript, mongodumpArgs } from '../src/core/engines/mongodb/dump.js';
import {
  findMongoTool,
  MONGO_TOOLS_VERSION,
  mongoToolsDistro,
  mongoToolsUrl,
} from '../src/core/engines/mongodb/mongo-tools.js';
import { effectiveRenames, mongorestoreOptions } from '../src/core/engines/mongodb/restore.js';
import { CheckFailed, ConfigError } from '../src/core/errors.js';
import { MemoryLogger } from './helpers/memory-logger.js';
import {
  OptionReader,
  parseBackupOptions,
  parseDrillOptions,
  parseVerifyOptions,
  type RawOptions,
} from '../src/core/options/index.js';
import { NodeProcessRunner } from '../src/core/process.js';
import { verify, type VerifyResult } from '../src/core/verify.js';
import { tempDir, testDeps } from './helpers/deps.js';
import { writeFakeMongoTools } from './helpers/fake-mongo-tools.js';

const FIX = join(process.cwd(), 'test/fixtures/mongo');
const OPLOG_GZ = join(FIX, 'archive-gzip-derived/dump-w-oplog.archive.gz');
const OPLOG_PLAIN = join(FIX, 'archive/dump-w-oplog.archive');
const BAD_FORMAT = join(FIX, 'archive/bad-format.archive');
const SRC_URL = 'mongodb://backup:s3cret-pw@127.0.0.1:27017/test';
/** In dump-w-oplog.archive, the first test.foo document (29 bytes) starts here, after its block header at 781. */
const FOO_DOC = 838;

let work: { dir: string; remove: () => Promise<void> };
beforeAll(async () => {
  work = await tempDir('dbdrill-mongo-engine-');
});
afterAll(async () => {
  await work?.remove();
});

let seq = 0;
async function sub(name: string): Promise<string> {
  const d = join(work.dir, `${name}-${++seq}`);
  await mkdir(d, { recursive: true, mode: 0o700 });
  return d;
}

async function verifyBundle(bundle: string): Promise<VerifyResult> {
  try {
    return await verify(testDeps(), parseVerifyOptions(new OptionReader({ bundle })));
  } catch (err) {
    if (err instanceof CheckFailed && err.result) return err.result as VerifyResult;
    throw err;
  }
}

function readManifest(bundle: string): Manifest {
  const text = execFileSync('tar', ['-xOf', bundle, 'manifest.json'], { encoding: 'utf8' });
  return JSON.parse(text) as Manifest;
}

describe('MongoDB URLs and tool config files', () => {
  it('parses seed lists, credentials and options, and rebuilds URLs without the password', () => {
    const t = parseMongoUrl(
      'mongodb://u%40x:p%3Aw@h1:27018,H2/app?replicaSet=rs0&authSource=admin',
      'database-url',
    );
    expect(t).toMatchObject({ user: 'u@x', password: 'p:w', database: 'app' });
    expect(t.hosts).toEqual([
      { host: 'h1', port: 27018 },
      { host: 'h2', port: 27017 },
    ]);
    expect(t.safeUrl).toBe('mongodb://u%40x@h1:27018,h2:27017/app?replicaSet=rs0&authSource=admin');
    expect(t.safeUrl).not.toContain('p%3Aw');
    expect(formatMongoUrl(t)).toContain('u%40x:p%3Aw@');
    expect(parseMongoUrl('mongodb+srv://c.example.net/', 'x').database).toBeNull();
    expect(() => parseMongoUrl('mongodb:///db', 'target-url')).toThrow(/target-url names no host/);
    expect(() => parseMongoUrl('http://x', 'target-url')).toThrow(ConfigError);
  });

  it('drops the path database for the tools but keeps it as the auth source', () => {
    expect(connectionOnlyUrl(parseMongoUrl('mongodb://u:p@h:1/restored', 'x'))).toBe(
      'mongodb://u:p@h:1/?authSource=restored',
    );
    expect(connectionOnlyUrl(parseMongoUrl('mongodb://u:p@h:1/restored?authSource=admin', 'x'))).toBe(
      'mongodb://u:p@h:1/?authSource=admin',
    );
    expect(connectionOnlyUrl(parseMongoUrl('mongodb://h:1/restored', 'x'))).toBe('mongodb://h:1/');
  });

  it('writes the URI as YAML that survives quotes, # and colons', () => {
    const uri = 'mongodb://u:p"a #b:c@h:1/db';
    expect(toolConfigText(uri)).toBe(`uri: "mongodb://u:p\\"a #b:c@h:1/db"\n`);
  });

  it('tells the source from other databases by host:port and database name', () => {
    const a = parseMongoUrl('mongodb://localhost:27017/app', 'x');
    expect(sameMongoSource(a, parseMongoUrl('mongodb://127.0.0.1:27017/app', 'x'))).toBe(true);
    expect(sameMongoSource(a, parseMongoUrl('mongodb://127.0.0.1:27017/restored', 'x'))).toBe(false);
    expect(sameMongoSource(a, parseMongoUrl('mongodb://127.0.0.1:27018/app', 'x'))).toBe(false);
  });
});

describe('argv for mongodump and mongorestore', () => {
  it('mongodump gets the config file, never the URI or the password', () => {
    const args = mongodumpArgs('/w/mongodb.mongodump.yaml', '/w/mongodb.archive.tmp');
    expect(args).toEqual([
      '--config=/w/mongodb.mongodump.yaml',
      '--archive=/w/mongodb.archive.tmp',
      '--gzip',
    ]);
  });

  it('mongorestore: --drop, the archive, --gzip only for gzip, renames in pairs, parallel collections', () => {
    expect(
      mongorestoreOptions({
        archivePath: '/a.gz',
        compressed: true,
        renames: [{ from: 'app.*', to: 'restored.*' }],
        jobs: 3,
      }),
    ).toEqual([
      '--drop',
      '--archive=/a.gz',
      '--gzip',
      '--nsFrom=app.*',
      '--nsTo=restored.*',
      '--numParallelCollections=3',
      '--stopOnError',
    ]);
    expect(mongorestoreOptions({ compressed: false, renames: [], jobs: 1 })).toEqual([
      '--drop',
      '--archive',
      '--numParallelCollections=1',
      '--stopOnError',
    ]);
  });

  it('renames to the target database when target-url names another one and no ns-from is given', () => {
    const t = parseMongoUrl('mongodb://h/restored', 'x');
    expect(effectiveRenames([], 'app', t)).toEqual([{ from: 'app.*', to: 'restored.*' }]);
    expect(effectiveRenames([], 'restored', t)).toEqual([]);
    expect(effectiveRenames([{ from: 'a.x', to: 'b.y' }], 'app', t)).toEqual([{ from: 'a.x', to: 'b.y' }]);
  });

  it("applies mongorestore's nsFrom/nsTo patterns (* positional, $var$ by name, \\ escapes)", () => {
    expect(renameNamespace('app.users', [{ from: 'app.*', to: 'restored.*' }])).toBe('restored.users');
    expect(renameNamespace('app.system.buckets.m', [{ from: 'app.*', to: 'r.*' }])).toBe(
      'r.system.buckets.m',
    );
    expect(renameNamespace('shop.orders', [{ from: '$db$.$c$', to: '$db$_copy.$c$' }])).toBe(
      'shop_copy.orders',
    );
    expect(renameNamespace('other.x', [{ from: 'app.*', to: 'r.*' }])).toBe('other.x');
    expect(renameNamespace('a*b.c', [{ from: 'a\\*b.*', to: 'z.*' }])).toBe('z.c');
    expect(() => renameNamespace('a.b', [{ from: 'a.*', to: '$x$.b' }])).toThrow(/\$x\$/);
  });

  it('expects counts for collections and buckets, not views, the oplog or system databases', () => {
    const e = expectedCollections(
      [
        { ns: 'app.users', type: 'collection', documents: 3 },
        { ns: 'app.active', type: 'view', documents: 0 },
        { ns: 'app.system.buckets.m', type: 'timeseries', documents: 2 },
        { ns: 'app.system.views', type: 'collection', documents: 1 },
        { ns: 'oplog', type: 'oplog', documents: 18 },
        { ns: 'admin.system.version', type: 'collection', documents: 1 },
      ],
      [{ from: 'app.*', to: 'restored.*' }],
    );
    expect(e).toEqual([
      { ns: 'app.users', target: 'restored.users', documents: 3 },
      { ns: 'app.system.buckets.m', target: 'restored.system.buckets.m', documents: 2 },
    ]);
  });

  it('the in-container script writes the URI to a private file, runs the tool with it, and removes it', async () => {
    const dir = await sub('docker-script');
    const fake = await writeFakeMongoTools(dir, { source: OPLOG_GZ });
    const script = dockerToolScript('mongodump', ['--archive', '--gzip']);
    const r = spawnSync('sh', ['-c', script], {
      env: {
        PATH: `${fake.binDir}:/usr/bin:/bin`,
        DBDRILL_MONGO_CONFIG: toolConfigText(SRC_URL),
        TMPDIR: dir,
      },
      encoding: 'utf8',
    });
    expect(r.status).toBe(0);
    const argv = readFileSync(fake.log('mongodump') + '.argv', 'utf8').split('\n');
    expect(argv[0]).toMatch(/^--config=/);
    expect(argv.slice(1, 3)).toEqual(['--archive', '--gzip']);
    expect(argv.join(' ')).not.toContain('s3cret-pw');
    expect(readFileSync(fake.log('mongodump') + '.configmode', 'utf8').trim()).toBe('600');
    expect(readFileSync(fake.log('mongodump') + '.config', 'utf8')).toContain(SRC_URL);
    expect((await readdir(dir)).filter((f) => f.startsWith('tmp.'))).toEqual([]);
  });
});

describe('tool lookup: mongo-bin-dir, PATH, docker-container, tool-cache download', () => {
  const deps = () => {
    const logger = new MemoryLogger();
    return { logger, runner: new NodeProcessRunner(logger) };
  };

  it('picks the distro from /etc/os-release and builds the pinned URL', () => {
    expect(mongoToolsDistro('ID=ubuntu\nVERSION_ID="22.04"\n')).toBe('ubuntu2204');
    expect(mongoToolsDistro('ID=ubuntu\nVERSION_ID="24.04"\n')).toBe('ubuntu2404');
    expect(mongoToolsDistro('ID=debian\nVERSION_ID="12"\n')).toBe('debian12');
    expect(mongoToolsDistro('ID=arch\n')).toBeUndefined();
    expect(mongoToolsUrl('debian12', '100.10.0')).toBe(
      'https://fastdl.mongodb.org/tools/db/mongodb-database-tools-debian12-x86_64-100.10.0.tgz',
    );
  });

  it('mongo-bin-dir first, then PATH, then the container', async () => {
    const dir = await sub('lookup');
    const a = await writeFakeMongoTools(join(dir, 'a'), { version: '100.9.4' });
    const b = await writeFakeMongoTools(join(dir, 'b'), { version: '100.10.0' });
    const fromBin = await findMongoTool(deps(), 'mongodump', { binDir: a.binDir, env: { PATH: b.binDir } });
    expect(fromBin).toMatchObject({
      source: 'mongo-bin-dir',
      version: '100.9.4',
      command: join(a.binDir, 'mongodump'),
    });
    const fromPath = await findMongoTool(deps(), 'mongorestore', {
      env: { PATH: `/nonexistent:${b.binDir}` },
    });
    expect(fromPath).toMatchObject({ source: 'PATH', version: '100.10.0' });

    // a `docker` TEST DOUBLE that answers "docker exec <c> mongodump --version" for container "mongo"
    const dockerDir = join(dir, 'docker-bin');
    await mkdir(dockerDir);
    await writeFile(
      join(dockerDir, 'docker'),
      '#!/bin/sh\n# TEST DOUBLE for the docker CLI\n[ "$1 $2 $4" = "exec mongo --version" ] && { echo "$3 version: 100.9.0"; exit 0; }\necho "Error: No such container: $2" >&2; exit 1\n',
    );
    await chmod(join(dockerDir, 'docker'), 0o755);
    const env = { PATH: `${dockerDir}:/usr/bin:/bin` };
    const fromDocker = await findMongoTool(deps(), 'mongodump', { dockerContainer: 'mongo', env });
    expect(fromDocker).toMatchObject({
      source: 'docker-container',
      via: 'docker',
      command: 'docker',
      version: '100.9.0',
    });
    expect(fromDocker.prefixArgs).toEqual(['exec', '-i']);
    const wrong = await findMongoTool(deps(), 'mongodump', { dockerContainer: 'nope', env }).catch(
      (e: Error) => e,
    );
    expect(wrong).toBeInstanceOf(ConfigError);
    expect((wrong as Error).message).toMatch(/No such container: nope/);
  });

  it('when nothing works: one message listing the three ways', async () => {
    const err = await findMongoTool(deps(), 'mongodump', {
      binDir: '/nonexistent-bin',
      env: { PATH: '/nonexistent' },
      label: (n) => `--${n}`,
    }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    expect(msg.split('\n')).toHaveLength(1);
    expect(msg).toMatch(/^mongodump not found/);
    expect(msg).toContain('--mongo-bin-dir "/nonexistent-bin" has no runnable mongodump');
    expect(msg).toMatch(/\(1\) install them and put mongodump on PATH, or set --mongo-bin-dir/);
    expect(msg).toMatch(/\(2\) set --docker-container/);
    expect(msg).toMatch(/\(3\) allow the download of the pinned release 100\.10\.0/);
  });

  describe('the tool-cache download (local HTTP server: a double for fastdl.mongodb.org)', () => {
    let server: Server;
    let base: string;
    const hits: string[] = [];
    let dir: string;
    const saved = { cache: process.env.RUNNER_TOOL_CACHE, temp: process.env.RUNNER_TEMP };

    beforeAll(async () => {
      dir = await sub('toolcache');
      // the tarball as MongoDB publishes it: mongodb-database-tools-<distro>-x86_64-<v>/bin/<tools>
      const top = `mongodb-database-tools-ubuntu2204-x86_64-${MONGO_TOOLS_VERSION}`;
      const fake = await writeFakeMongoTools(join(dir, 'src'), {
        source: OPLOG_GZ,
        version: MONGO_TOOLS_VERSION,
      });
      await mkdir(join(dir, 'pkg', top, 'bin'), { recursive: true });
      for (const t of ['mongodump', 'mongorestore'])
        await copyFile(join(fake.binDir, t), join(dir, 'pkg', top, 'bin', t));
      await chmod(join(dir, 'pkg', top, 'bin', 'mongodump'), 0o755);
      await chmod(join(dir, 'pkg', top, 'bin', 'mongorestore'), 0o755);
      execFileSync('tar', ['-czf', join(dir, `${top}.tgz`), '-C', join(dir, 'pkg'), top]);
      server = createServer((req, res) => {
        hits.push(req.url ?? '');
        const file = join(dir, (req.url ?? '').replace(/^\/tools\//, ''));
        if (
          req.url?.startsWith('/tools/') &&
          req.url.endsWith('.tgz') &&
          statSync(file, { throwIfNoEntry: false })
        ) {
          res.writeHead(200, { 'content-type': 'application/gzip' });
          createReadStream(file).pipe(res);
        } else {
          res.writeHead(404).end('not found');
        }
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/tools`;
      process.env.RUNNER_TOOL_CACHE = join(dir, 'cache');
      process.env.RUNNER_TEMP = join(dir, 'temp');
      await mkdir(process.env.RUNNER_TOOL_CACHE);
      await mkdir(process.env.RUNNER_TEMP);
    });
    afterAll(async () => {
      await new Promise((r) => server?.close(r));
      process.env.RUNNER_TOOL_CACHE = saved.cache;
      process.env.RUNNER_TEMP = saved.temp;
      if (saved.cache === undefined) delete process.env.RUNNER_TOOL_CACHE;
      if (saved.temp === undefined) delete process.env.RUNNER_TEMP;
    });

    it('downloads once, extracts, caches, and reuses the cache', async () => {
      const d = deps();
      const o = {
        env: { PATH: '/nonexistent', DBDRILL_MONGO_TOOLS_URL: base },
        osRelease: 'ID=ubuntu\nVERSION_ID="22.04"\n',
      };
      const downloader = toolCacheMongoDownloader(d.logger);
      const first = await findMongoTool({ ...d, mongoToolDownloader: downloader }, 'mongodump', o);
      expect(first).toMatchObject({ source: 'tool-cache', via: 'local', version: MONGO_TOOLS_VERSION });
      expect(
        first.command.startsWith(join(dir, 'cache', 'mongodb-database-tools', MONGO_TOOLS_VERSION)),
      ).toBe(true);
      expect(hits).toEqual([`/tools/mongodb-database-tools-ubuntu2204-x86_64-${MONGO_TOOLS_VERSION}.tgz`]);
      const second = await findMongoTool({ ...d, mongoToolDownloader: downloader }, 'mongorestore', o);
      expect(second.source).toBe('tool-cache');
      expect(hits).toHaveLength(1);
    });

    it('a failed download ends in the one message, naming the URL and the failure', async () => {
      const d = deps();
      const err = await findMongoTool(
        { ...d, mongoToolDownloader: toolCacheMongoDownloader(d.logger) },
        'mongodump',
        {
          env: { PATH: '/nonexistent', DBDRILL_MONGO_TOOLS_URL: base.replace('/tools', '/missing') },
          osRelease: 'ID=debian\nVERSION_ID="12"\n',
          version: '100.0.0',
        },
      ).catch((e: Error) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toMatch(
        /download of http:\/\/127\.0\.0\.1:\d+\/missing\/mongodb-database-tools-debian12-x86_64-100\.0\.0\.tgz failed/,
      );
      expect((err as Error).message).toMatch(/\(1\).*\(2\).*\(3\)/);
    });

    it('outside Actions, the tool cache defaults under ~/.cache/dbdrill', () => {
      const env: NodeJS.ProcessEnv = {};
      ensureToolCacheEnv(env, join(dir, 'home-cache'));
      expect(env.RUNNER_TOOL_CACHE).toBe(join(dir, 'home-cache', 'tool-cache'));
      expect(env.RUNNER_TEMP).toBe(join(dir, 'home-cache', 'tmp'));
      expect(statSync(env.RUNNER_TEMP!).mode & 0o777).toBe(0o700);
    });
  });
});

describe('backup and verify through the mongodump double', () => {
  async function mongoBackup(
    raw: RawOptions,
    source = OPLOG_GZ,
  ): Promise<{ result: BackupResult; store: string; log: string; deps: ReturnType<typeof testDeps> }> {
    const dir = await sub('backup');
    const fake = await writeFakeMongoTools(dir, { source });
    const store = join(dir, 'store');
    const deps = testDeps();
    const result = await backup(
      deps,
      parseBackupOptions(
        new OptionReader({
          'database-url': SRC_URL,
          store,
          name: 'app',
          'mongo-bin-dir': fake.binDir,
          ...raw,
        }),
      ),
    );
    return { result, store, log: fake.log('mongodump'), deps };
  }

  it('writes one bundle whose manifest counts come from the archive, and verify reads every namespace', async () => {
    const { result, log, deps } = await mongoBackup({});
    expect(result.components).toEqual([
      {
        id: 'mongodb',
        engine: 'mongodb',
        database: 'test',
        serverVersion: '4.0.2',
        tool: expect.stringMatching(/^mongodump /),
      },
    ]);
    expect(result).toMatchObject({ collections: 3, documents: 44, tables: 0, skewSeconds: null });
    const argv = readFileSync(log + '.argv', 'utf8');
    expect(argv).not.toContain('s3cret-pw');
    expect(argv).toMatch(/^--config=.*\n--archive=.*\n--gzip\n$/);
    expect(readFileSync(log + '.configmode', 'utf8').trim()).toBe('600');
    expect(deps.logger.lines.join('\n')).not.toContain('s3cret-pw');

    const m = readManifest(result.bundle);
    const c = m.components[0] as MongoComponent;
    const fromArchive = await readMongoArchive(createReadStream(OPLOG_GZ));
    expect(c).toMatchObject({
      engine: 'mongodb',
      member: 'mongodb.archive.gz',
      database: 'test',
      host: '127.0.0.1:27017',
      serverVersion: fromArchive.serverVersion,
      compressed: true,
    });
    expect(c.tool.version).toBe(fromArchive.toolVersion);
    expect(c.collections).toEqual(
      fromArchive.namespaces.map((n) => ({ ns: n.ns, type: n.type, documents: n.documents })),
    );
    expect(m.members.map((x) => x.path)).toEqual(['mongodb.archive.gz']);
    expect(JSON.stringify(m)).not.toContain('s3cret-pw');
    expect(m.skew).toBeUndefined();

    const v = await verifyBundle(result.bundle);
    expect(v.problems).toEqual([]);
    const archive = v.layers.find((l) => l.name === 'mongodb archive')!;
    expect(archive.ok).toBe(true);
    expect(archive.detail).toContain('test.foo 25');
    expect(archive.detail).toContain('oplog 18 (oplog)');
    expect(v.layers.find((l) => l.name === 'collections match manifest')).toMatchObject({ ok: true });
    expect(v.mongo?.[0]).toMatchObject({ member: 'mongodb.archive.gz', totalDocuments: 44 });
  });

  it('an archive written plain despite --gzip is detected: member mongodb.archive, verify passes', async () => {
    const { result } = await mongoBackup({}, OPLOG_PLAIN);
    const m = readManifest(result.bundle);
    expect(m.components[0]).toMatchObject({ member: 'mongodb.archive', compressed: false });
    expect((await verifyBundle(result.bundle)).ok).toBe(true);
  });

  it('a corrupt archive from mongodump fails the backup and stores nothing', async () => {
    const dir = await sub('corrupt');
    const plain = readFileSync(OPLOG_PLAIN);
    const truncated = join(dir, 'truncated.archive');
    await writeFile(truncated, plain.subarray(0, plain.length - 100));
    const flipped = Buffer.from(plain);
    flipped[FOO_DOC + 20] ^= 0xff; // inside a test.foo document
    const crc = join(dir, 'crc.archive');
    await writeFile(crc, flipped);
    const junk = join(dir, 'junk.archive');
    await writeFile(junk, 'this is not an archive\n');
    for (const [source, pattern] of [
      [truncated, /ends|truncated/i],
      [BAD_FORMAT, /metadata.*JSON|JSON.*metadata/i],
      [junk, /did not write a mongodump archive/],
    ] as const) {
      const err = await mongoBackup({}, source).catch((e: Error) => e);
      expect(err).toBeInstanceOf(CheckFailed);
      expect((err as Error).message).toMatch(pattern);
    }
    const crcErr = (await mongoBackup({}, crc).catch((e: Error) => e)) as Error;
    expect(crcErr).toBeInstanceOf(CheckFailed);
    expect(crcErr.message).toMatch(/test\.foo/);
    // none of the failed runs left a bundle in its store
    for (const d of await readdir(work.dir)) {
      if (!d.startsWith('backup-')) continue;
      const files = await readdir(join(work.dir, d, 'store')).catch(() => []);
      if (d === `backup-${seq}`) expect(files).toEqual([]);
    }
  });

  it('mongodump missing: the one message, exit 2, nothing stored', async () => {
    const dir = await sub('missing');
    const savedPath = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      const err = await backup(
        testDeps(),
        parseBackupOptions(
          new OptionReader({ 'database-url': SRC_URL, store: join(dir, 'store'), name: 'app' }),
        ),
      ).catch((e: Error) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toMatch(/^mongodump not found.*\(1\).*\(2\).*\(3\)/);
    } finally {
      process.env.PATH = savedPath;
    }
    expect(await readdir(join(dir, 'store')).catch(() => [])).toEqual([]);
  });

  it('a failing mongodump surfaces its error, without the password', async () => {
    const dir = await sub('fails');
    const fake = await writeFakeMongoTools(dir, {
      exitCode: 1,
      stderr: 'Failed: error connecting to db server: server selection error',
    });
    const err = await backup(
      testDeps(),
      parseBackupOptions(
        new OptionReader({
          'database-url': SRC_URL,
          store: join(dir, 'store'),
          name: 'app',
          'mongo-bin-dir': fake.binDir,
        }),
      ),
    ).catch((e: Error) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/mongodump cannot reach backup@127\.0\.0\.1:27017\/test/);
    expect((err as Error).message).not.toContain('s3cret-pw');
  });
});

describe('verify: bare mongodump archives from another tool', () => {
  it('reads gzip and plain archives whatever their file names say', async () => {
    const dir = await sub('bare');
    const cases: [string, string, boolean][] = [
      [OPLOG_GZ, 'a.archive.gz', true],
      [OPLOG_PLAIN, 'b.archive', false],
      [OPLOG_GZ, 'c-gzip-named-plain.archive', true],
      [OPLOG_PLAIN, 'd-plain-named.gz', false],
    ];
    for (const [src, name, compressed] of cases) {
      await copyFile(src, join(dir, name));
      const v = await verifyBundle(join(dir, name));
      expect(v.kind).toBe('bare-mongo-archive');
      expect(v.problems).toEqual([]);
      expect(v.mongo?.[0]).toMatchObject({ compressed, totalDocuments: 44 });
      expect(v.layers.find((l) => l.name === 'mongodb archive')?.detail).toContain('test.foo 25');
    }
  });

  it('fails a truncated archive, a CRC mismatch and invalid metadata JSON, each by name', async () => {
    const dir = await sub('bare-bad');
    const plain = readFileSync(OPLOG_PLAIN);
    await writeFile(join(dir, 'trunc.archive'), plain.subarray(0, 3000));
    const flipped = Buffer.from(plain);
    flipped[FOO_DOC + 20] ^= 0x01;
    await writeFile(join(dir, 'crc.archive'), flipped);
    await copyFile(BAD_FORMAT, join(dir, 'bad.archive'));
    const trunc = await verifyBundle(join(dir, 'trunc.archive'));
    expect(trunc.ok).toBe(false);
    expect(trunc.problems.join(' ')).toMatch(/^mongodb archive: /);
    const crc = await verifyBundle(join(dir, 'crc.archive'));
    expect(crc.ok).toBe(false);
    expect(crc.problems.join(' ')).toMatch(/test\.foo/);
    const bad = await verifyBundle(join(dir, 'bad.archive'));
    expect(bad.ok).toBe(false);
    expect(bad.problems.join(' ')).toMatch(/test\.ixtest/);
  });
});

describe('drill options and refusals for MongoDB', () => {
  const base = { store: '/tmp/s', name: 'app' };

  it('target-url and compare-url are one per engine, matched by scheme; ns-from/ns-to come in pairs', () => {
    const o = parseDrillOptions(
      new OptionReader({
        ...base,
        'target-url': ['postgres://u@h/scratch', 'mongodb://h:27017/restored'],
        'compare-url': ['mongodb://prod:27017/app'],
        'ns-from': ['app.*'],
        'ns-to': ['restored.*'],
        jobs: '3',
      }),
    );
    expect(o).toMatchObject({
      targetUrl: 'postgres://u@h/scratch',
      mongoTargetUrl: 'mongodb://h:27017/restored',
      mongoCompareUrl: 'mongodb://prod:27017/app',
      nsRenames: [{ from: 'app.*', to: 'restored.*' }],
      jobs: 3,
    });
    expect(
      parseDrillOptions(new OptionReader({ ...base, 'target-url': 'mongodb://h/r', provision: 'local' })),
    ).toMatchObject({
      provision: 'local',
      mongoTargetUrl: 'mongodb://h/r',
    });
    expect(() =>
      parseDrillOptions(new OptionReader({ ...base, 'target-url': ['mongodb://a/x', 'mongodb://b/y'] })),
    ).toThrow(/target-url has two mongodb URLs/);
    expect(() =>
      parseDrillOptions(
        new OptionReader({
          ...base,
          'target-url': 'mongodb://a/x',
          'ns-from': ['a.*', 'b.*'],
          'ns-to': ['c.*'],
        }),
      ),
    ).toThrow(/ns-from has 2 pattern\(s\) and ns-to 1/);
  });

  it('backup: engine only with one database-url; max-skew is a duration', () => {
    expect(() =>
      parseBackupOptions(
        new OptionReader({
          'database-url': ['postgres://h/a', 'mongodb://h/b'],
          engine: 'postgres',
          store: '/tmp/s',
          name: 'app',
        }),
      ),
    ).toThrow(/engine only applies with one database-url/);
    const o = parseBackupOptions(
      new OptionReader({
        'database-url': ['postgres://h/a', 'mongodb://h/b'],
        'max-skew': '90s',
        store: '/tmp/s',
        name: 'app',
      }),
    );
    expect(o.databases).toEqual([
      { engine: 'postgres', url: 'postgres://h/a' },
      { engine: 'mongodb', url: 'mongodb://h/b' },
    ]);
    expect(o.maxSkewSeconds).toBe(90);
  });

  describe('with a bundle from the mongodump double', () => {
    let bundle: string;
    let dir: string;
    let fakeBin: string;
    let restoreLog: string;
    beforeAll(async () => {
      dir = await sub('drill');
      const fake = await writeFakeMongoTools(dir, { source: OPLOG_GZ });
      fakeBin = fake.binDir;
      restoreLog = fake.log('mongorestore');
      const r = await backup(
        testDeps(),
        parseBackupOptions(
          new OptionReader({
            'database-url': SRC_URL,
            store: join(dir, 'store'),
            name: 'app',
            'mongo-bin-dir': fake.binDir,
          }),
        ),
      );
      bundle = r.bundle;
    });
    const run = (raw: RawOptions) =>
      drill(
        testDeps(),
        parseDrillOptions(
          new OptionReader({
            bundle,
            'report-dir': join(dir, `report-${++seq}`),
            'mongo-bin-dir': fakeBin,
            ...raw,
          }),
        ),
      );

    it('refuses a target that is the source (same host:port, same database), before restoring', async () => {
      const err = await run({ 'target-url': 'mongodb://backup:s3cret-pw@localhost:27017/test' }).catch(
        (e: Error) => e,
      );
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toMatch(
        /refusing to restore into the backup's own source.*database "test" on 127\.0\.0\.1:27017/,
      );
      expect(statSync(restoreLog + '.argv', { throwIfNoEntry: false })).toBeUndefined();
      const back = await run({
        'target-url': 'mongodb://localhost:27017/x',
        'ns-from': ['test.*'],
        'ns-to': ['test.*'],
      }).catch((e: Error) => e);
      expect((back as Error).message).toMatch(/own source/);
    });

    it('a MongoDB bundle with only a postgres:// target says to add a mongodb:// one', async () => {
      const err = await run({ provision: 'local' }).catch((e: Error) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toMatch(
        /holds a MongoDB archive \(mongodb\.archive\.gz\); add a mongodb:\/\/ target-url.*provision applies to PostgreSQL only/,
      );
    });

    it('restores with mongorestore (renamed to the target database, no password on argv), then counts through the driver', async () => {
      // No mongod here: mongorestore is the double, and counting must fail to connect (it is not faked).
      const err = await run({
        'target-url':
          'mongodb://root:r3store-pw@127.0.0.1:1/restored?authSource=admin&serverSelectionTimeoutMS=300',
        jobs: '2',
      }).catch((e: Error) => e);
      const argv = readFileSync(restoreLog + '.argv', 'utf8')
        .trim()
        .split('\n');
      expect(argv[0]).toMatch(/^--config=/);
      expect(argv.slice(1)).toEqual([
        '--drop',
        expect.stringMatching(/^--archive=.*mongodb\.archive\.gz$/),
        '--gzip',
        '--nsFrom=test.*',
        '--nsTo=restored.*',
        '--numParallelCollections=2',
        '--stopOnError',
      ]);
      expect(argv.join(' ')).not.toContain('r3store-pw');
      expect(readFileSync(restoreLog + '.configmode', 'utf8').trim()).toBe('600');
      expect(await readFile(restoreLog + '.config', 'utf8')).toContain(
        'mongodb://root:r3store-pw@127.0.0.1:1/?authSource=admin',
      );
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toMatch(/cannot connect to MongoDB at root@127\.0\.0\.1:1\/restored/);
      expect((err as Error).message).not.toContain('r3store-pw');
    });
  });
});
