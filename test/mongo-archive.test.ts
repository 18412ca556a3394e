import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { createReadStream, readFileSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, truncate, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Binary, BSON, Long, ObjectId } from 'mongodb';
import {
  isMongoArchive,
  MongoArchiveError,
  readMongoArchive,
  sniffMongoArchive,
  type MongoArchiveReport,
} from '../src/core/engines/mongodb/archive-reader.js';
import { readMongoDumpDir } from '../src/core/engines/mongodb/dump-dir.js';
import { checkBsonDocument } from '../src/core/engines/mongodb/bson-walk.js';
import { Crc64, crc64Hex } from '../src/core/engines/mongodb/crc64.js';
import { ArchiveWriter, bson, TERM } from '../src/bench/mongo-archive-writer.js';

const FIX = join(process.cwd(), 'test/fixtures/mongo');
const fixture = (p: string): Buffer => readFileSync(join(FIX, p));

/** Feeds a buffer to the reader in chunks of the given size (all of it at once by default). */
async function* chunked(buf: Buffer, size = buf.length || 1): AsyncGenerator<Buffer> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

async function readBuf(buf: Buffer, chunk?: number): Promise<MongoArchiveReport> {
  return readMongoArchive(chunked(buf, chunk));
}

async function failure(promise: Promise<unknown>): Promise<MongoArchiveError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof MongoArchiveError) return error;
    throw new Error(`expected a MongoArchiveError, got ${String(error)}`);
  }
  throw new Error('expected the read to fail, it succeeded');
}

type Counts = Record<string, { type: string; documents: number; bytes?: number; crc?: string }>;

function countsOf(report: { namespaces: MongoArchiveReport['namespaces'] }): Counts {
  const out: Counts = {};
  for (const n of report.namespaces) out[n.ns] = { type: n.type, documents: n.documents, bytes: n.bytes };
  return out;
}

// Expected values are PROVENANCE.md's (counted upstream and checked with an independent parser).
const TEST_BAR: Counts = {
  'test.bar': { type: 'collection', documents: 1, bytes: 35 },
  'admin.system.version': { type: 'collection', documents: 1, bytes: 59 },
};
const DUMP_W_OPLOG: Counts = {
  'test.foo': { type: 'collection', documents: 25, bytes: 725 },
  oplog: { type: 'oplog', documents: 18, bytes: 2760 },
  'admin.system.version': { type: 'collection', documents: 1, bytes: 59 },
};

describe('CRC-64 (Go crc64.ECMA = CRC-64/XZ)', () => {
  it('gives the catalogued check value and is split-invariant', () => {
    expect(crc64Hex(Buffer.from('123456789'))).toBe('995dc9bbdf1939fa');
    expect(crc64Hex(Buffer.alloc(0))).toBe('0000000000000000');
    const data = Buffer.alloc(10007);
    for (let i = 0; i < data.length; i++) data[i] = (i * 131 + 7) & 0xff;
    const whole = crc64Hex(data);
    for (const cut of [1, 7, 8, 9, 4096, 10006]) {
      expect(new Crc64().update(data, 0, cut).update(data, cut).hex()).toBe(whole);
    }
  });
});

describe('BSON structural walk', () => {
  const doc = bson({
    s: 'x',
    n: 1,
    l: Long.fromNumber(2 ** 40),
    d: 1.5,
    o: new ObjectId(),
    a: [1, 'two', { three: 3 }],
    b: new Binary(Buffer.from('abc')),
    t: true,
    z: null,
    re: /ab+c/i,
    when: new Date(0),
  });
  it('accepts a document with every common type', () => {
    expect(checkBsonDocument(doc, 0, doc.length)).toBeUndefined();
  });
  it('rejects a bad element type, a string running past the end, a non-NUL tail and a bad boolean', () => {
    const badType = Buffer.from(doc);
    badType[4] = 0x42;
    expect(checkBsonDocument(badType, 0, badType.length)?.reason).toMatch(/unknown element type 0x42/);
    const longString = Buffer.from(doc);
    longString.writeInt32LE(1000, 4 + 1 + 2); // "s" string length
    expect(checkBsonDocument(longString, 0, longString.length)?.reason).toMatch(/string length 1000/);
    const tail = Buffer.from(doc);
    tail[tail.length - 1] = 1;
    expect(checkBsonDocument(tail, 0, tail.length)?.reason).toMatch(/does not end with 0x00/);
    const bool = bson({ t: true });
    bool[bool.length - 2] = 2;
    expect(checkBsonDocument(bool, 0, bool.length)?.reason).toMatch(/boolean byte 2/);
  });
});

describe('readMongoArchive on the real mongodump archives', () => {
  it('test.bar.archive: header, prelude and per-namespace counts and CRCs', async () => {
    const r = await readBuf(fixture('archive/test.bar.archive'));
    expect(r).toMatchObject({
      format: 'archive',
      compressed: false,
      serverVersion: '3.4.3',
      toolVersion: 'r3.4.3',
      concurrentCollections: 4,
      totalDocuments: 2,
      bytesRead: 896,
    });
    expect(countsOf(r)).toEqual(TEST_BAR);
    const byNs = Object.fromEntries(r.namespaces.map((n) => [n.ns, n]));
    expect(byNs['admin.system.version'].crc).toBe('f685812fd02a263e');
    expect(byNs['test.bar'].crc).toBe('9369f0f35bec50d9');
    for (const n of r.namespaces) {
      expect(n.crcStored).toBe(n.crc);
      expect(n.metadataValid).toBe(true);
    }
    expect(byNs['admin.system.version'].indexes).toBe(2);
  });

  it('dump-w-oplog.archive: the oplog namespace (db "", collection "oplog")', async () => {
    const r = await readBuf(fixture('archive/dump-w-oplog.archive'));
    expect(r).toMatchObject({
      serverVersion: '4.0.2',
      toolVersion: 'r4.1.3-4-gd9eefb54',
      totalDocuments: 44,
    });
    expect(countsOf(r)).toEqual(DUMP_W_OPLOG);
    const oplog = r.namespaces.find((n) => n.type === 'oplog')!;
    expect(oplog).toMatchObject({ db: '', collection: 'oplog', metadataValid: false });
  });

  it('timeseries-dump.archive: data under system.buckets.<name>, an empty admin.system.views', async () => {
    const r = await readBuf(fixture('archive/timeseries-dump.archive'));
    expect(r).toMatchObject({
      serverVersion: '5.0.0-rc0',
      toolVersion: '100.3.1-9-g6903606e-dirty',
      totalDocuments: 11,
    });
    expect(countsOf(r)).toEqual({
      'admin.system.views': { type: 'collection', documents: 0, bytes: 0 },
      'timeseries_test.system.buckets.foo_ts': { type: 'timeseries', documents: 10, bytes: 38020 },
      'admin.system.version': { type: 'collection', documents: 1, bytes: 59 },
    });
    const views = r.namespaces.find((n) => n.ns === 'admin.system.views')!;
    expect(views.crc).toBe('0000000000000000');
  });

  it('bad-format.archive (TOOLS-2455) fails on invalid metadata JSON naming test.ixtest', async () => {
    const e = await failure(readBuf(fixture('archive/bad-format.archive')));
    expect(e.message).toMatch(/invalid metadata JSON/);
    expect(e.message).toMatch(/test\.ixtest/);
    expect(e.namespace).toBe('test.ixtest');
    expect(e.offset).toBeGreaterThan(4);
  });

  it('the gzip-derived archives read the same as the plain ones', async () => {
    const bar = await readBuf(fixture('archive-gzip-derived/test.bar.archive.gz'));
    expect(bar.compressed).toBe(true);
    expect(countsOf(bar)).toEqual(TEST_BAR);
    expect(bar.bytesRead).toBe(896);
    const oplog = await readMongoArchive(
      createReadStream(join(FIX, 'archive-gzip-derived/dump-w-oplog.archive.gz')),
    );
    expect(oplog.compressed).toBe(true);
    expect(countsOf(oplog)).toEqual(DUMP_W_OPLOG);
  });

  it('gives the same report whatever the chunking of the input', async () => {
    const buf = fixture('archive/dump-w-oplog.archive');
    const whole = await readBuf(buf);
    for (const size of [1, 2, 3, 5, 17, 63, 4096]) {
      expect(await readBuf(buf, size)).toEqual(whole);
    }
    const gz = fixture('archive-gzip-derived/dump-w-oplog.archive.gz');
    expect({ ...(await readBuf(gz, 1)), compressed: false }).toEqual(whole);
  });

  it('reads from a Readable and honours an abort signal', async () => {
    const r = await readMongoArchive(
      createReadStream(join(FIX, 'archive/test.bar.archive'), { highWaterMark: 7 }),
    );
    expect(countsOf(r)).toEqual(TEST_BAR);
    const controller = new AbortController();
    controller.abort();
    await expect(
      readMongoArchive(createReadStream(join(FIX, 'archive/test.bar.archive')), {
        signal: controller.signal,
      }),
    ).rejects.toThrow(/abort/i);
  });
});

describe('every truncation prefix fails (as mongo-tools requires)', () => {
  for (const file of [
    'archive/test.bar.archive',
    'archive/dump-w-oplog.archive',
    'archive-gzip-derived/test.bar.archive.gz',
    'archive-gzip-derived/dump-w-oplog.archive.gz',
  ]) {
    it(file, async () => {
      const buf = fixture(file);
      const reasons = new Set<string>();
      for (let len = 0; len < buf.length; len++) {
        const e = await failure(readBuf(buf.subarray(0, len)));
        expect(e.message).toMatch(/truncated|not a mongodump archive|input is empty|gzip/);
        reasons.add(e.message.replace(/\d+/g, 'N').slice(0, 60));
      }
      await expect(readBuf(buf)).resolves.toBeDefined();
      expect(reasons.size).toBeGreaterThan(1);
    });
  }
});

/** An independent walk of the archive layout (mongodb's BSON decoder, not ours). */
function documentRanges(buf: Buffer): { start: number; size: number; ns: string }[] {
  const out: { start: number; size: number; ns: string }[] = [];
  let p = 4;
  let phase: 'header' | 'prelude' | 'blocks' = 'header';
  let ns: string | undefined;
  while (p < buf.length) {
    const size = buf.readInt32LE(p);
    if (size === -1) {
      if (phase === 'prelude') phase = 'blocks';
      ns = undefined;
      p += 4;
      continue;
    }
    if (phase === 'header') phase = 'prelude';
    else if (phase === 'blocks' && ns === undefined) {
      const h = BSON.deserialize(buf.subarray(p, p + size));
      ns = h.db === '' ? h.collection : `${h.db}.${h.collection}`;
    } else if (phase === 'blocks') out.push({ start: p, size, ns: ns! });
    p += size;
  }
  return out;
}

describe('a flipped byte in any document is caught, naming the namespace', () => {
  it('dump-w-oplog.archive: every byte of every document', async () => {
    const buf = fixture('archive/dump-w-oplog.archive');
    const docs = documentRanges(buf);
    expect(docs.length).toBe(44);
    const kinds = { crc: 0, framing: 0 };
    for (const d of docs) {
      for (let i = d.start; i < d.start + d.size; i++) {
        const bad = Buffer.from(buf);
        bad[i] ^= 0xff;
        const e = await failure(readBuf(bad));
        expect({ at: i, namespace: e.namespace }).toEqual({ at: i, namespace: d.ns });
        expect(e.message).toContain(d.ns);
        if (/CRC mismatch/.test(e.message)) kinds.crc++;
        else kinds.framing++;
      }
    }
    // Both layers do work: bytes inside string values only the CRC sees.
    expect(kinds.crc).toBeGreaterThan(0);
    expect(kinds.framing).toBeGreaterThan(0);
  });

  it('a CRC mismatch message names the namespace, both CRCs and the offset', async () => {
    const buf = Buffer.from(fixture('archive/test.bar.archive'));
    const doc = documentRanges(buf).find((d) => d.ns === 'test.bar')!;
    // The last byte before the document's NUL is inside a value: a 1-bit change keeps the framing.
    buf[doc.start + doc.size - 3] ^= 0x01;
    const e = await failure(readBuf(buf));
    expect(e.message).toMatch(/CRC mismatch: the EOF header says 9369f0f35bec50d9, .* give [0-9a-f]{16}/);
    expect(e.message).toMatch(/namespace test\.bar/);
    expect(e.message).toMatch(/at byte \d+/);
    expect(e.offset).toBeGreaterThan(doc.start);
  });
});

describe('bad input', () => {
  const notArchive = /not a mongodump archive/;

  it('rejects random bytes, a PostgreSQL custom dump and an empty file', async () => {
    let seed = 12345;
    const random = Buffer.alloc(4096);
    for (let i = 0; i < random.length; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      random[i] = seed >>> 24;
    }
    expect((await failure(readBuf(random))).message).toMatch(notArchive);
    // The first bytes of a pg_dump -Fc file ("PGDMP", version 1.14, sizes), synthesised here.
    const pgdmp = Buffer.concat([
      Buffer.from('PGDMP'),
      Buffer.from([1, 14, 0, 4, 8, 1, 1]),
      random.subarray(0, 200),
    ]);
    expect((await failure(readBuf(pgdmp))).message).toMatch(notArchive);
    expect((await failure(readBuf(Buffer.alloc(0)))).message).toMatch(notArchive);
    expect((await failure(readBuf(gzipSync(pgdmp)))).message).toMatch(notArchive);
    expect((await failure(readBuf(Buffer.from([0x6d, 0xe2])))).message).toMatch(notArchive);
  });

  it('rejects a gzip archive with a bad trailer CRC-32 or length, and data after the gzip stream', async () => {
    const gz = fixture('archive-gzip-derived/test.bar.archive.gz');
    const badCrc = Buffer.from(gz);
    badCrc[badCrc.length - 6] ^= 0x10;
    expect((await failure(readBuf(badCrc))).message).toMatch(/gzip layer is corrupt.*incorrect data check/);
    const badLen = Buffer.from(gz);
    badLen[badLen.length - 1] ^= 0x01;
    expect((await failure(readBuf(badLen))).message).toMatch(/gzip layer is corrupt.*incorrect length check/);
    const padded = Buffer.concat([gz, Buffer.alloc(16)]);
    expect((await failure(readBuf(padded))).message).toMatch(
      /16 bytes of trailing data after the end of the gzip/,
    );
  });

  it('rejects anything after the last EOF block', async () => {
    const buf = fixture('archive/test.bar.archive');
    const extraTerminator = Buffer.concat([buf, Buffer.from([0xff, 0xff, 0xff, 0xff])]);
    expect((await failure(readBuf(extraTerminator))).message).toMatch(/consecutive terminators/);
    const junk = Buffer.concat([buf, Buffer.from('junk')]);
    expect((await failure(readBuf(junk))).message).toMatch(/neither a valid BSON document length/);
    // A block for a namespace that already reached EOF.
    const ranges = documentRanges(buf);
    expect(ranges.length).toBe(2);
    const eofBlock = Buffer.concat([
      bson({ db: 'test', collection: 'bar', EOF: true, CRC: Long.fromBigInt(0x9369f0f35bec50d9n) }),
      Buffer.from([0xff, 0xff, 0xff, 0xff]),
    ]);
    const again = await failure(readBuf(Buffer.concat([buf, eofBlock])));
    expect(again.message).toMatch(/after the namespace reached EOF/);
    expect(again.namespace).toBe('test.bar');
  });

  it('rejects documents after an EOF header and a prelude namespace that never reaches EOF', async () => {
    const w = new ArchiveWriter();
    w.prelude([{ db: 'a', collection: 'x' }]);
    w.eof('a', 'x', false);
    w.raw(bson({ n: 1 }));
    w.raw(TERM);
    const e = await failure(readBuf(w.buffer()));
    expect(e.message).toMatch(/document after the EOF header/);
    expect(e.namespace).toBe('a.x');

    const w2 = new ArchiveWriter();
    w2.prelude([
      { db: 'a', collection: 'x' },
      { db: 'a', collection: 'y' },
    ]);
    w2.segment('a', 'x', [bson({ n: 1 })]);
    w2.eof('a', 'x');
    const e2 = await failure(readBuf(w2.buffer()));
    expect(e2.message).toMatch(/ends before the EOF header of namespace a\.y/);
  });
});

describe('interleaved namespaces, views and time-series from the synthetic writer', () => {
  it('counts interleaved segments per namespace and verifies each CRC', async () => {
    const w = new ArchiveWriter();
    w.prelude([
      {
        db: 'app',
        collection: 'users',
        metadata: '{"options":{},"indexes":[{"v":2,"key":{"_id":1},"name":"_id_"}]}',
        type: 'collection',
      },
      {
        db: 'app',
        collection: 'active',
        metadata: '{"options":{"viewOn":"users","pipeline":[]},"indexes":[]}',
        type: 'view',
      },
      {
        db: 'app',
        collection: 'metrics',
        metadata: '{"options":{"timeseries":{"timeField":"t"}},"indexes":[]}',
        type: 'timeseries',
      },
      { db: 'app', collection: 'events', metadata: '{"options":{},"indexes":[]}' },
    ]);
    const doc = (i: number): Buffer => bson({ _id: new ObjectId(), i, s: 'x'.repeat(i % 50) });
    w.segment('app', 'users', [doc(1), doc(2)]);
    w.segment('app', 'events', [doc(3)]);
    w.segment('app', 'users', [doc(4)]);
    w.segment('app', 'system.buckets.metrics', [doc(5), doc(6)]);
    w.eof('app', 'active');
    w.segment('app', 'events', [doc(7), doc(8), doc(9)]);
    w.eof('app', 'users');
    w.eof('app', 'system.buckets.metrics');
    w.eof('app', 'events');
    const r = await readBuf(w.buffer(), 11);
    expect(countsOf(r)).toEqual({
      'app.users': { type: 'collection', documents: 3, bytes: expect.any(Number) },
      'app.active': { type: 'view', documents: 0, bytes: 0 },
      'app.system.buckets.metrics': { type: 'timeseries', documents: 2, bytes: expect.any(Number) },
      'app.events': { type: 'collection', documents: 4, bytes: expect.any(Number) },
    });
    expect(r.namespaces.find((n) => n.ns === 'app.users')!.indexes).toBe(1);
  });

  it('a time-series collection whose bucket data never arrives fails', async () => {
    const w = new ArchiveWriter();
    w.prelude([
      { db: 'app', collection: 'metrics', metadata: '{"options":{},"indexes":[]}', type: 'timeseries' },
    ]);
    const e = await failure(readBuf(w.buffer()));
    expect(e.message).toMatch(/EOF header of namespace app\.system\.buckets\.metrics/);
  });
});

describe('isMongoArchive / sniffMongoArchive', () => {
  it('tells archives (plain or gzip) from other files', async () => {
    expect(isMongoArchive(fixture('archive/test.bar.archive').subarray(0, 16))).toBe(true);
    expect(isMongoArchive(fixture('archive-gzip-derived/dump-w-oplog.archive.gz').subarray(0, 200))).toBe(
      true,
    );
    expect(isMongoArchive(Buffer.from('PGDMP\x01\x0e'))).toBe(false);
    expect(isMongoArchive(gzipSync(Buffer.from('PGDMP\x01\x0e')))).toBe(false);
    expect(isMongoArchive(Buffer.alloc(0))).toBe(false);
    expect(await sniffMongoArchive(join(FIX, 'archive/timeseries-dump.archive'))).toEqual({
      isArchive: true,
      compressed: false,
    });
    expect(await sniffMongoArchive(join(FIX, 'archive-gzip-derived/test.bar.archive.gz'))).toEqual({
      isArchive: true,
      compressed: true,
    });
    expect(await sniffMongoArchive(join(FIX, 'dir/foodump/test/foo.bson'))).toEqual({
      isArchive: false,
      compressed: false,
    });
  });
});

describe('readMongoDumpDir (mongodump --out layout)', () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'dbdrill-mongo-dir-'));
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('reads every fixture directory with the PROVENANCE counts', async () => {
    const foo = await readMongoDumpDir(join(FIX, 'dir/foodump'));
    expect(foo).toMatchObject({ format: 'directory', compressed: false, totalDocuments: 1 });
    expect(countsOf(foo)).toEqual({ 'test.foo': { type: 'collection', documents: 1, bytes: 35 } });

    const oplog = await readMongoDumpDir(join(FIX, 'dir/oplogdump'));
    expect(countsOf(oplog)).toEqual({
      'admin.system.version': { type: 'collection', documents: 1, bytes: 59 },
      'db1.c1': { type: 'collection', documents: 5, bytes: 145 },
      oplog: { type: 'oplog', documents: 3, bytes: 681 },
    });

    const prelude = await readMongoDumpDir(join(FIX, 'dir/prelude_top_level'));
    expect(prelude.serverVersion).toBe('7.0.16');
    expect(prelude.toolVersion).toBeUndefined();
    expect(countsOf(prelude)).toEqual({ 'test.foo': { type: 'collection', documents: 1, bytes: 35 } });

    const idx = await readMongoDumpDir(join(FIX, 'dir/indextestdump'));
    expect(countsOf(idx)).toEqual({
      'indextest.test_collection': { type: 'collection', documents: 100, bytes: 3300 },
    });
    expect(idx.namespaces[0].indexes).toBe(2);

    const gz = await readMongoDumpDir(join(FIX, 'dir-gzip/prelude_gzip'));
    expect(gz).toMatchObject({ compressed: true, serverVersion: '7.0.16', totalDocuments: 1 });
    expect(countsOf(gz)).toEqual({ 'test.foo': { type: 'collection', documents: 1, bytes: 35 } });
    expect(gz.namespaces[0].crc).toBe(prelude.namespaces[0].crc);
  });

  it('fails on a truncated .bson, invalid metadata JSON, a corrupt .gz, missing data and an empty directory', async () => {
    const d1 = join(tmp, 'trunc');
    await cp(join(FIX, 'dir/indextestdump'), d1, { recursive: true });
    await truncate(join(d1, 'indextest/test_collection.bson'), 3300 - 1);
    const e1 = await failure(readMongoDumpDir(d1));
    expect(e1.message).toMatch(/truncated/);
    expect(e1.namespace).toBe('indextest.test_collection');

    const d2 = join(tmp, 'meta');
    await cp(join(FIX, 'dir/foodump'), d2, { recursive: true });
    await writeFile(join(d2, 'test/foo.metadata.json'), '{"options":{},"indexes":[{"key":{"{"a":"b"}":1}}]}');
    const e2 = await failure(readMongoDumpDir(d2));
    expect(e2.message).toMatch(/invalid metadata JSON for namespace test\.foo/);

    const d3 = join(tmp, 'gz');
    await cp(join(FIX, 'dir-gzip/prelude_gzip'), d3, { recursive: true });
    const gzPath = join(d3, 'test/foo.bson.gz');
    const bytes = await readFile(gzPath);
    bytes[bytes.length - 6] ^= 0x01;
    await writeFile(gzPath, bytes);
    const e3 = await failure(readMongoDumpDir(d3));
    expect(e3.message).toMatch(/corrupt or truncated gzip/);
    expect(e3.namespace).toBe('test.foo');

    const d4 = join(tmp, 'nodata');
    await cp(join(FIX, 'dir/foodump'), d4, { recursive: true });
    await unlink(join(d4, 'test/foo.bson'));
    expect((await failure(readMongoDumpDir(d4))).message).toMatch(/has metadata but no foo\.bson/);

    const d5 = join(tmp, 'flip');
    await cp(join(FIX, 'dir/foodump'), d5, { recursive: true });
    const bson = await readFile(join(d5, 'test/foo.bson'));
    bson[4] = 0x42;
    await writeFile(join(d5, 'test/foo.bson'), bson);
    expect((await failure(readMongoDumpDir(d5))).message).toMatch(/unknown element type 0x42.*test\.foo/);

    const d6 = join(tmp, 'empty');
    await cp(join(FIX, 'dir/foodump'), d6, { recursive: true });
    await rm(join(d6, 'test'), { recursive: true });
    expect((await failure(readMongoDumpDir(d6))).message).toMatch(/not a mongodump directory/);
  });
});
