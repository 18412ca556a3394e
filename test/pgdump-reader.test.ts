import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile, spawn } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  createReadStream,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import zlib from 'node:zlib';

import {
  PgDumpFormatError,
  countObjectsByKind,
  isPgDump,
  readPgDump,
  readPgDumpToc,
  tableDataEntries,
  type PgDumpReport,
  type PgTocEntry,
} from '../src/core/engines/postgres/pgdump-reader.js';
import { freePort } from '../src/core/provision/free-port.js';

const execFileP = promisify(execFile);
const FIX = path.resolve('test/fixtures/postgres');
const PG15 = '/usr/lib/postgresql/15/bin';
const fixture = (name: string): string => path.join(FIX, name);
const load = (name: string): Buffer => readFileSync(fixture(name));

/** A file as a stream of small chunks, so every field can straddle a chunk boundary. */
function fileStream(name: string, highWaterMark = 1000): Readable {
  return createReadStream(fixture(name), { highWaterMark });
}

/** Feeds a buffer in chunks of the given size. */
async function* chunked(buf: Buffer, size: number): AsyncIterable<Buffer> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

async function expectFormatError(p: Promise<unknown>): Promise<PgDumpFormatError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof PgDumpFormatError) return err;
    throw err;
  }
  throw new Error('expected a PgDumpFormatError, but the dump was accepted');
}

function rowsByTable(report: PgDumpReport): Record<string, number | undefined> {
  const out: Record<string, number | undefined> = {};
  for (const b of report.blocks) {
    if (b.kind === 'data' && b.entry) out[`${b.entry.namespace}.${b.entry.tag}`] = b.rows;
  }
  return out;
}

/** The report minus what legitimately differs between a seekable and a piped write of one dump. */
function comparable(report: PgDumpReport): unknown {
  const strip = (e: PgTocEntry): Omit<PgTocEntry, 'dataOffsetState' | 'dataOffset'> => {
    const { dataOffsetState: _s, dataOffset: _o, ...rest } = e;
    return rest;
  };
  return {
    header: { ...report.header, createdAt: undefined },
    toc: report.toc.map(strip),
    blocks: report.blocks.map((b) => ({ ...b, entry: b.entry && strip(b.entry) })),
    bytesRead: report.bytesRead,
  };
}

interface RestoreListLine {
  dumpId: number;
  rest: string;
}

/** pg_restore --list: header fields and "id; tableoid oid desc schema tag owner" lines. */
async function pgRestoreList(
  file: string,
): Promise<{ header: Record<string, string>; lines: RestoreListLine[] }> {
  const { stdout } = await execFileP(path.join(PG15, 'pg_restore'), ['--list', file]);
  const header: Record<string, string> = {};
  const lines: RestoreListLine[] = [];
  for (const line of stdout.split('\n')) {
    const h = /^;\s+([^:]+):\s(.*)$/.exec(line);
    if (h) header[h[1]!.trim()] = h[2]!;
    const m = /^(\d+); (.*)$/.exec(line);
    if (m) lines.push({ dumpId: Number(m[1]), rest: m[2]! });
  }
  return { header, lines };
}

/** Row counts per table as pg_restore itself prints the COPY data. */
async function pgRestoreCopyRows(file: string): Promise<Record<string, number>> {
  const { stdout } = await execFileP(path.join(PG15, 'pg_restore'), ['--data-only', '-f', '-', file], {
    maxBuffer: 256 * 1024 * 1024,
  });
  const out: Record<string, number> = {};
  let current: string | undefined;
  for (const line of stdout.split('\n')) {
    if (current === undefined) {
      const m = /^COPY (\S+) .* FROM stdin;$/.exec(line);
      if (m) {
        current = m[1]!.replace(/"/g, '');
        out[current] = 0;
      }
    } else if (line === '\\.') current = undefined;
    else out[current]! += 1;
  }
  return out;
}

interface FixtureCase {
  file: string;
  version: string;
  algorithm: 'none' | 'gzip';
  level?: number;
  database: string;
  tocEntries: number;
  tables: string[];
  rows?: Record<string, number | undefined>;
  largeObjects?: number;
  serverVersion: RegExp;
}

const CASES: FixtureCase[] = [
  {
    file: 'pg15-shop.gzip.dump',
    version: '1.14.0',
    algorithm: 'gzip',
    level: -1,
    database: 'shop',
    tocEntries: 21,
    tables: ['public.customers', 'public.orders'],
    rows: { 'public.customers': 100, 'public.orders': 1000 },
    serverVersion: /^15\.18/,
  },
  {
    file: 'pg15-shop.z0.dump',
    version: '1.14.0',
    algorithm: 'none',
    level: 0,
    database: 'shop',
    tocEntries: 21,
    tables: ['public.customers', 'public.orders'],
    rows: { 'public.customers': 100, 'public.orders': 1000 },
    serverVersion: /^15\.18/,
  },
  {
    file: 'pg15-postgres-empty.dump',
    version: '1.14.0',
    algorithm: 'gzip',
    level: -1,
    database: 'postgres',
    tocEntries: 5,
    tables: [],
    rows: {},
    serverVersion: /^15\.18/,
  },
  {
    file: 'pg15-lo.seekable.dump',
    version: '1.14.0',
    algorithm: 'gzip',
    level: -1,
    database: expect.any(String) as unknown as string,
    tocEntries: 0,
    tables: ['public.a', 'public.b'],
    rows: { 'public.a': 2000, 'public.b': 3000 },
    largeObjects: 1,
    serverVersion: /^15\.18/,
  },
  {
    file: 'pg15-lo.piped.dump',
    version: '1.14.0',
    algorithm: 'gzip',
    level: -1,
    database: expect.any(String) as unknown as string,
    tocEntries: 0,
    tables: ['public.a', 'public.b'],
    rows: { 'public.a': 2000, 'public.b': 3000 },
    largeObjects: 1,
    serverVersion: /^15\.18/,
  },
  {
    file: 'pg18-pglite.gzip.dump',
    version: '1.16.0',
    algorithm: 'gzip',
    database: expect.any(String) as unknown as string,
    tocEntries: 9,
    tables: ['public.t'],
    rows: { 'public.t': undefined },
    serverVersion: /^18\./,
  },
  {
    file: 'pg18-pglite.z0.dump',
    version: '1.16.0',
    algorithm: 'none',
    database: expect.any(String) as unknown as string,
    tocEntries: 9,
    tables: ['public.t'],
    rows: { 'public.t': undefined },
    serverVersion: /^18\./,
  },
  {
    file: 'foreign/pg12-clockme.latest.dump',
    version: '1.14.0',
    algorithm: 'gzip',
    level: -1,
    database: 'df83p3g0bg3br4',
    tocEntries: 28,
    tables: ['public.projects', 'public.time', 'public.users'],
    serverVersion: /^12\.3/,
  },
  {
    file: 'foreign/pg14-pgarchive.test.pgdump',
    version: '1.14.0',
    algorithm: 'gzip',
    level: -1,
    database: 'pizza',
    tocEntries: 20,
    tables: ['public.pizza', 'public.pizza_topping', 'public.topping'],
    serverVersion: /^14\.6/,
  },
];

const PG14_FILES = CASES.filter((c) => c.version === '1.14.0').map((c) => c.file);

describe('isPgDump', () => {
  it('recognises the magic and nothing else', () => {
    expect(isPgDump(load('pg15-shop.gzip.dump').subarray(0, 5))).toBe(true);
    expect(isPgDump(Buffer.from('PGDM'))).toBe(false);
    expect(isPgDump(Buffer.from('-- PostgreSQL database dump'))).toBe(false);
    expect(isPgDump(Buffer.alloc(0))).toBe(false);
  });
});

describe('readPgDump on the fixtures', () => {
  it.each(CASES)('$file: header, TOC, table data, blocks (framing walk and deep)', async (c) => {
    const shallow = await readPgDump(fileStream(c.file));
    const deep = await readPgDump(fileStream(c.file), { deep: true });
    for (const report of [shallow, deep]) {
      expect(report.header.archiveVersion).toBe(c.version);
      expect(report.header.format).toBe('custom');
      expect(report.header.intSize).toBe(4);
      expect(report.header.offSize).toBe(8);
      expect(report.header.compression.algorithm).toBe(c.algorithm);
      expect(report.header.compression.level).toBe(c.level);
      expect(report.header.database).toEqual(c.database);
      expect(report.header.serverVersion).toMatch(c.serverVersion);
      expect(report.header.createdAt).toBeInstanceOf(Date);
      if (c.tocEntries) expect(report.toc).toHaveLength(c.tocEntries);
      expect([...tableDataEntries(report.toc).keys()].sort()).toEqual(c.tables);
      expect(report.bytesRead).toBe(statSync(fixture(c.file)).size);
      expect(report.missingBlocks).toEqual([]);
      expect(report.deepUnsupported).toBeUndefined();
      // Every entry that expects data got exactly one block.
      const expected = report.toc.filter(
        (e) => e.dataOffsetState === 'set' || e.dataOffsetState === 'not-set',
      );
      expect(report.blocks.map((b) => b.dumpId).sort()).toEqual(expected.map((e) => e.dumpId).sort());
      for (const b of report.blocks) {
        expect(b.chunks).toBeGreaterThan(0);
        expect(b.compressedBytes).toBeGreaterThan(0);
      }
    }
    for (const b of shallow.blocks) {
      expect(b.uncompressedBytes).toBeUndefined();
      expect(b.rows).toBeUndefined();
    }
    for (const b of deep.blocks) {
      expect(b.uncompressedBytes).toBeGreaterThan(0);
      if (c.algorithm === 'none') expect(b.uncompressedBytes).toBe(b.compressedBytes);
    }
    if (c.rows) expect(rowsByTable(deep)).toEqual(c.rows);
    const blobs = deep.blocks.filter((b) => b.kind === 'blobs');
    expect(blobs.reduce((n, b) => n + (b.largeObjects ?? 0), 0)).toBe(c.largeObjects ?? 0);
  });

  it.each(PG14_FILES)('%s: the TOC and header agree with pg_restore --list', async (file) => {
    const { header, toc } = await readPgDumpToc(fileStream(file));
    const list = await pgRestoreList(fixture(file));
    expect(list.header['dbname']).toBe(header.database);
    expect(Number(list.header['TOC Entries'])).toBe(toc.length);
    expect(Number(list.header['Compression'])).toBe(header.compression.level);
    expect(list.header['Dump Version']).toBe(header.archiveVersion.replace(/\.(\d+)$/, '-$1'));
    expect(list.header['Format']).toBe('CUSTOM');
    expect(list.header['Dumped from database version']).toBe(header.serverVersion);
    expect(list.header['Dumped by pg_dump version']).toBe(header.pgDumpVersion);
    const byId = new Map(toc.map((e) => [e.dumpId, e]));
    if (toc.some((e) => e.desc === 'TABLE')) expect(list.lines.length).toBeGreaterThan(0);
    for (const line of list.lines) {
      const e = byId.get(line.dumpId);
      expect(e).toBeDefined();
      expect(`${e!.tableOid} ${e!.oid} ${e!.desc} ${e!.namespace || '-'} ${e!.tag} ${e!.owner}`).toBe(
        line.rest,
      );
    }
    // --list hides only the special entries and those that belong to the database itself.
    const hidden = toc
      .filter((e) => !list.lines.some((l) => l.dumpId === e.dumpId))
      .filter((e) => !e.tag.startsWith('DATABASE '))
      .map((e) => e.desc);
    for (const d of hidden)
      expect(['ENCODING', 'STDSTRINGS', 'SEARCHPATH', 'DATABASE', 'DATABASE PROPERTIES']).toContain(d);
  });

  it.each(PG14_FILES)('%s: deep row counts equal the rows pg_restore prints', async (file) => {
    const report = await readPgDump(fileStream(file), { deep: true });
    const ours = rowsByTable(report);
    const theirs = await pgRestoreCopyRows(fixture(file));
    expect(ours).toEqual(theirs);
  });

  it('data offsets: set in the seekable file (pointing at the blocks), not set in the piped one', async () => {
    const seekable = await readPgDump(fileStream('pg15-lo.seekable.dump'));
    const piped = await readPgDump(fileStream('pg15-lo.piped.dump'));
    const withData = (r: PgDumpReport): PgTocEntry[] => r.toc.filter((e) => e.dataOffsetState !== 'no-data');
    expect(withData(seekable).map((e) => e.dataOffsetState)).toEqual(['set', 'set', 'set']);
    expect(
      withData(seekable)
        .map((e) => e.dataOffset)
        .sort((a, b) => a! - b!),
    ).toEqual([2153, 45460, 51959]);
    expect(withData(piped).map((e) => e.dataOffsetState)).toEqual(['not-set', 'not-set', 'not-set']);
    const shop = await readPgDumpToc(fileStream('pg15-shop.gzip.dump'));
    expect(
      shop.toc
        .filter((e) => e.dataOffsetState === 'set')
        .map((e) => e.dataOffset)
        .sort(),
    ).toEqual([5571, 5926]);
  });

  it('piped and seekable writes of one dump give the same report', async () => {
    for (const deep of [false, true]) {
      const seekable = await readPgDump(fileStream('pg15-lo.seekable.dump', 333), { deep });
      const piped = await readPgDump(chunked(load('pg15-lo.piped.dump'), 4096), { deep });
      expect(comparable(piped)).toEqual(comparable(seekable));
    }
  });

  it('the same result whatever the input chunking (1 byte, odd sizes, one buffer)', async () => {
    const buf = load('pg15-shop.gzip.dump');
    const reference = await readPgDump(buf, { deep: true });
    for (const size of [1, 7, 4096]) {
      expect(await readPgDump(chunked(buf, size), { deep: true })).toEqual(reference);
    }
  });

  it('TOC entries carry every field (shop)', async () => {
    const { toc } = await readPgDumpToc(load('pg15-shop.gzip.dump'));
    const orders = tableDataEntries(toc).get('public.orders')!;
    expect(orders).toMatchObject({
      dumpId: 3361,
      hadDumper: true,
      tableOid: '0',
      oid: '16395',
      tag: 'orders',
      desc: 'TABLE DATA',
      section: 'data',
      namespace: 'public',
      owner: 'postgres',
      dataOffsetState: 'set',
    });
    expect(orders.copyStmt).toMatch(/^COPY public\.orders \(.*\) FROM stdin;\n$/);
    expect(orders.dependencies).toEqual([217]);
    const table = toc.find((e) => e.desc === 'TABLE' && e.tag === 'orders')!;
    expect(table.section).toBe('pre-data');
    expect(table.tableAm).toBe('heap');
    expect(table.defn).toMatch(/^CREATE TABLE public\.orders/);
    expect(table.dropStmt).toMatch(/DROP TABLE public\.orders/);
    expect(toc.find((e) => e.desc === 'INDEX')!.section).toBe('post-data');
    expect(toc.find((e) => e.desc === 'ENCODING')!.section).toBe('pre-data');
  });

  it('countObjectsByKind counts the structure', async () => {
    const shop = await readPgDumpToc(load('pg15-shop.gzip.dump'));
    expect(countObjectsByKind(shop.toc)).toMatchObject({
      tables: 2,
      views: 1,
      indexes: 1,
      constraints: 3,
      foreignKeys: 1,
      sequences: 2,
      tableData: 2,
      sequenceSets: 2,
      largeObjects: 0,
      functions: 0,
      materializedViews: 0,
    });
    const lo = await readPgDumpToc(load('pg15-lo.seekable.dump'));
    expect(countObjectsByKind(lo.toc)).toMatchObject({ tables: 2, largeObjects: 1, constraints: 1 });
    const pglite = await readPgDumpToc(load('pg18-pglite.gzip.dump'));
    expect(countObjectsByKind(pglite.toc)).toMatchObject({
      tables: 1,
      views: 1,
      constraints: 1,
      tableData: 1,
    });
  });

  it('readPgDumpToc reads a partial dump: header and TOC only', async () => {
    const buf = load('pg15-shop.gzip.dump');
    const { header, toc } = await readPgDumpToc(buf.subarray(0, 5571));
    expect(header.database).toBe('shop');
    expect(toc).toHaveLength(21);
    const err = await expectFormatError(readPgDumpToc(buf.subarray(0, 3000)));
    expect(err.message).toMatch(/^truncated in TOC entry \d+ of 21 \(dump id \d+/);
  });
});

describe('readPgDump on damaged input', () => {
  const shop = load('pg15-shop.gzip.dump');
  const shopZ0 = load('pg15-shop.z0.dump');
  const lo = load('pg15-lo.piped.dump');

  it('every truncation of pg15-shop.gzip.dump fails, at every byte length', async () => {
    const passed: number[] = [];
    const kinds = new Set<string>();
    for (let len = 0; len < shop.length; len++) {
      try {
        await readPgDump(shop.subarray(0, len));
        passed.push(len);
      } catch (err) {
        if (!(err instanceof PgDumpFormatError)) throw err;
        kinds.add(err.message.replace(/ at byte \d+.*$/, '').replace(/\d+/g, 'N'));
        if (len > 0) expect(err.offset).toBeLessThanOrEqual(len);
      }
    }
    expect(passed).toEqual([]);
    expect([...kinds].join('\n')).toMatch(/truncated in the file header/);
    expect([...kinds].join('\n')).toMatch(/truncated in TOC entry/);
    expect([...kinds].join('\n')).toMatch(/truncated inside the data block of table public\.orders/);
    expect([...kinds].join('\n')).toMatch(/truncated: the dump ends/);
  });

  it('every truncation of pg15-lo.piped.dump fails (stride, plus every byte around the block starts), deep too', async () => {
    const lengths = new Set<number>();
    for (let len = 0; len < lo.length; len += 61) lengths.add(len);
    for (const start of [2153, 45460, 51959, lo.length]) {
      for (let d = -12; d <= 12; d++) if (start + d >= 0 && start + d < lo.length) lengths.add(start + d);
    }
    const passed: number[] = [];
    for (const len of lengths) {
      for (const deep of [false, true]) {
        try {
          await readPgDump(chunked(lo.subarray(0, len), 512), { deep });
          passed.push(len);
        } catch (err) {
          if (!(err instanceof PgDumpFormatError)) throw err;
        }
      }
    }
    expect(passed).toEqual([]);
    const err = await expectFormatError(readPgDump(lo.subarray(0, lo.length - 3)));
    expect(err.message).toMatch(
      /^truncated inside .*large-object block of large objects BLOBS \(dump id 3347\) at byte 52008$/,
    );
    const block = await expectFormatError(readPgDump(lo.subarray(0, 30000)));
    expect(block.message).toBe(
      'truncated inside the data block of table public.a (dump id 3344) at byte 30000',
    );
    expect(block.offset).toBe(30000);
  });

  it('a flipped byte inside a gzip data block fails deep mode naming the table (pg_restore --list does not notice)', async () => {
    const bad = Buffer.from(shop);
    bad[5926 + 200]! ^= 0x55; // inside the orders block's compressed stream
    await expect(readPgDump(bad)).resolves.toBeDefined(); // the framing is intact
    const err = await expectFormatError(readPgDump(bad, { deep: true }));
    expect(err.message).toMatch(
      /^corrupted compressed data in the data block of table public\.orders \(dump id 3361\)/,
    );
    expect(err.message).toMatch(/zlib says/);
    expect(err.offset).toBeGreaterThanOrEqual(5926);
    // The same damage, as pg_restore --list sees it: nothing wrong.
    const dir = mkdtempSync(path.join(tmpdir(), 'pgdump-flip-'));
    try {
      const file = path.join(dir, 'bad.dump');
      await import('node:fs/promises').then((fs) => fs.writeFile(file, bad, { mode: 0o600 }));
      await expect(pgRestoreList(file)).resolves.toBeDefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a damaged adler32 at the end of a stream fails deep mode', async () => {
    const bad = Buffer.from(shop);
    // The customers block's stream ends right before its zero-length end chunk (5 bytes) and
    // the next block (the orders block starts at 5926).
    bad[5926 - 5 - 1]! ^= 0x01;
    const err = await expectFormatError(readPgDump(bad, { deep: true }));
    expect(err.message).toMatch(/table public\.customers \(dump id 3359\).*incorrect data check/);
  });

  it('COPY data without its end marker fails deep mode (uncompressed dump)', async () => {
    const bad = Buffer.from(shopZ0);
    const marker = bad.indexOf('\\.\n\n\n');
    bad[marker] = 0x41; // "A.\n": one more row, no end marker
    const err = await expectFormatError(readPgDump(bad, { deep: true }));
    expect(err.message).toMatch(/COPY data of the data block of table public\.\w+ .*does not end with/);
  });

  it('bad magic, empty input, plain SQL, gzip', async () => {
    expect((await expectFormatError(readPgDump(Buffer.alloc(0)))).message).toMatch(/input is empty/);
    const plain = await expectFormatError(readPgDump(Buffer.from('--\n-- PostgreSQL database dump\n--\n')));
    expect(plain.message).toMatch(/not a pg_dump custom-format archive.*plain SQL dump/);
    expect(plain.offset).toBe(0);
    const gz = await expectFormatError(readPgDump(zlib.gzipSync(Buffer.from('SELECT 1;'))));
    expect(gz.message).toMatch(/gzip-compressed/);
    const bad = Buffer.from(shop);
    bad[0] = 0x58;
    expect((await expectFormatError(readPgDump(bad))).message).toMatch(/does not start with|not "PGDMP"/);
    expect((await expectFormatError(readPgDump(Buffer.from('PGD')))).message).toBe(
      'truncated in the file header at byte 3',
    );
  });

  it('unsupported archive versions and formats', async () => {
    const v = (minor: number): Buffer => {
      const b = Buffer.from(shop);
      b[6] = minor;
      return b;
    };
    expect((await expectFormatError(readPgDump(v(17)))).message).toMatch(
      /^unsupported archive version 1\.17\.0: .*newer pg_dump at byte 5$/,
    );
    expect((await expectFormatError(readPgDump(v(11)))).message).toMatch(
      /unsupported archive version 1\.11\.0/,
    );
    const dir = Buffer.from(shop);
    dir[10] = 5;
    const e = await expectFormatError(readPgDump(dir));
    expect(e.message).toMatch(/format 5 \(directory\) is not the custom format.*pg_dump -Fd/);
    expect(e.offset).toBe(10);
  });

  it('unknown block type, block for a dump id not in the TOC, duplicate and misplaced blocks', async () => {
    const type = Buffer.from(shop);
    type[5571] = 7;
    expect((await expectFormatError(readPgDump(type))).message).toBe(
      'unknown data block type 7 (1 = table data, 3 = large objects) at byte 5571',
    );
    const id = Buffer.from(shop);
    id.writeInt32LE(999999, 5573); // sign byte at 5572, then the 4-byte id
    expect((await expectFormatError(readPgDump(id))).message).toBe(
      'found a data block for dump id 999999, which is not in the TOC at byte 5571',
    );
    const noData = Buffer.from(shop);
    noData.writeInt32LE(217, 5573); // the TABLE entry orders: no data
    expect((await expectFormatError(readPgDump(noData))).message).toMatch(
      /TABLE public\.orders \(dump id 217\), which the TOC says has no data/,
    );
    const dup = Buffer.from(shop);
    dup.writeInt32LE(3359, 5926 + 2); // the orders block claims to be customers' again
    const dupErr = await expectFormatError(readPgDump(dup));
    expect(dupErr.message).toMatch(/second data block for table public\.customers|TOC puts the data of/);
  });

  it('a seekable dump whose blocks are not where the TOC says', async () => {
    // Piped files have no offsets; a seekable one is checked against them. Swap nothing, but
    // point the customers entry somewhere else.
    const { toc } = await readPgDumpToc(shop);
    const customers = tableDataEntries(toc).get('public.customers')!;
    const bad = Buffer.from(shop);
    const at = bad.indexOf(
      Buffer.from([2, ...Buffer.from(new BigUint64Array([BigInt(customers.dataOffset!)]).buffer)]),
    );
    expect(at).toBeGreaterThan(0);
    bad[at + 1]! += 1;
    expect((await expectFormatError(readPgDump(bad))).message).toBe(
      'the TOC puts the data of table public.customers (dump id 3359) at byte 5572, but its block starts at byte 5571',
    );
  });

  it('garbage after the last block; a second copy of a block', async () => {
    const garbage = Buffer.concat([shop, Buffer.from('xyz')]);
    expect((await expectFormatError(readPgDump(garbage))).message).toBe(
      `unexpected data after the last expected data block (all 2 seen; the archive should end here) at byte ${shop.length}`,
    );
    const again = Buffer.concat([shop, shop.subarray(5926)]);
    expect((await expectFormatError(readPgDump(again))).offset).toBe(shop.length);
  });

  it('a corrupt TOC: bad dump id, bad offset flag, absurd string length', async () => {
    const id = Buffer.from(shop);
    const firstEntry = 0x87; // after the header and the count int
    id[firstEntry] = 1; // sign byte: negative dump id
    expect((await expectFormatError(readPgDump(id))).message).toMatch(
      /TOC entry 1 of 21 has dump id -\d+, which is not positive/,
    );
    const len = Buffer.from(shop);
    // The tag string of entry 1: after dumpId(5), hadDumper(5), tableoid "0"(6), oid "0"(6)
    len.writeInt32LE(0x7ffffff0, firstEntry + 5 + 5 + 6 + 6 + 1);
    expect((await expectFormatError(readPgDump(len))).message).toMatch(/claims \d+ bytes, more than/);
  });

  it('lz4 and zstd archives: header and TOC parse, deep reports that it could not inflate', async () => {
    const pglite = load('pg18-pglite.gzip.dump');
    const algorithmAt = 11; // PGDMP vmaj vmin vrev intSize offSize format, then the algorithm byte
    expect(pglite[algorithmAt]).toBe(1);
    const lz4 = Buffer.from(pglite);
    lz4[algorithmAt] = 2;
    const shallow = await readPgDump(lz4);
    expect(shallow.header.compression).toEqual({ algorithm: 'lz4' });
    expect(shallow.deepUnsupported).toBeUndefined();
    const deepLz4 = await readPgDump(lz4, { deep: true });
    expect(deepLz4.deepUnsupported).toMatch(/^lz4 compression cannot be inflated by this Node\.js/);
    expect(deepLz4.blocks[0]!.uncompressedBytes).toBeUndefined();
    const zstd = Buffer.from(pglite);
    zstd[algorithmAt] = 3;
    if (typeof (zlib as unknown as Record<string, unknown>).createZstdDecompress === 'function') {
      // This Node.js can inflate zstd: the gzip bytes under a zstd label are then corrupt.
      await expectFormatError(readPgDump(zstd, { deep: true }));
    } else {
      const deepZstd = await readPgDump(zstd, { deep: true });
      expect(deepZstd.header.compression).toEqual({ algorithm: 'zstd' });
      expect(deepZstd.deepUnsupported).toMatch(/^zstd compression cannot be inflated by this Node\.js/);
    }
    const unknown = Buffer.from(pglite);
    unknown[algorithmAt] = 9;
    expect((await expectFormatError(readPgDump(unknown))).message).toBe(
      'unknown compression algorithm 9 in the header at byte 11',
    );
  });

  it('stops when aborted', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(readPgDump(shop, { deep: true, signal: ac.signal })).rejects.toThrow(/abort/i);
  });

  it('a stream that fails is reported as that failure, not as a format error', async () => {
    async function* failing(): AsyncIterable<Buffer> {
      yield shop.subarray(0, 100);
      throw new Error('disk on fire');
    }
    await expect(readPgDump(failing())).rejects.toThrow('disk on fire');
  });
});

/**
 * A real scratch cluster (PostgreSQL 15, unix socket only), pgbench data plus a table of
 * values that stress COPY escaping, dumped by the real pg_dump -Fc: once piped straight into
 * the reader, once to a seekable file.
 */
describe('a generated dump from a real cluster', () => {
  const isRoot = process.getuid?.() === 0;
  let dir = '';
  let port = 0;
  let started = false;
  const counts: Record<string, number> = {};

  const asPostgres = (cmd: string, args: string[]): [string, string[]] =>
    isRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];

  async function run(cmd: string, args: string[], asServerUser = false): Promise<string> {
    const [c, a] = asServerUser ? asPostgres(cmd, args) : [cmd, args];
    const { stdout } = await execFileP(c, a, { maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  }

  const conn = (): string[] => ['-h', dir, '-p', String(port), '-U', 'postgres'];
  const psql = (sql: string): Promise<string> =>
    run(path.join(PG15, 'psql'), [...conn(), '-X', '-At', '-v', 'ON_ERROR_STOP=1', '-d', 'bench', '-c', sql]);

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'pgdump-reader-'));
    chmodSync(dir, 0o700);
    if (isRoot) {
      const uid = Number((await execFileP('id', ['-u', 'postgres'])).stdout.trim());
      const gid = Number((await execFileP('id', ['-g', 'postgres'])).stdout.trim());
      chownSync(dir, uid, gid);
    }
    port = await freePort();
    const data = path.join(dir, 'data');
    await run(
      path.join(PG15, 'initdb'),
      ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync'],
      true,
    );
    await run(
      path.join(PG15, 'pg_ctl'),
      [
        '-D',
        data,
        '-l',
        path.join(dir, 'log'),
        '-w',
        '-o',
        `-p ${port} -k ${dir} -c listen_addresses='' -c fsync=off`,
        'start',
      ],
      true,
    );
    started = true;
    await run(path.join(PG15, 'createdb'), [...conn(), 'bench']);
    await run(path.join(PG15, 'pgbench'), [...conn(), '-i', '-s', '5', '-q', 'bench']);
    await psql(`CREATE TABLE tricky (id int, t text);
      INSERT INTO tricky VALUES (1, E'two\\nlines'), (2, E'\\\\.'), (3, '\\.'), (4, E'tab\\there'), (5, NULL),
        (6, E'\\r\\n'), (7, ''), (8, E'ends with backslash \\\\');
      INSERT INTO tricky SELECT g, repeat(md5(g::text), 20) FROM generate_series(100, 20099) g;
      CREATE TABLE "Odd Name" (x int); INSERT INTO "Odd Name" SELECT generate_series(1, 77);
      CREATE TABLE empty_one (x int);`);
    for (const t of [
      'pgbench_accounts',
      'pgbench_branches',
      'pgbench_tellers',
      'pgbench_history',
      'tricky',
      '"Odd Name"',
      'empty_one',
    ]) {
      counts[t.replace(/"/g, '')] = Number((await psql(`SELECT count(*) FROM ${t}`)).trim());
    }
  }, 300_000);

  afterAll(async () => {
    if (started) {
      await run(
        path.join(PG15, 'pg_ctl'),
        ['-D', path.join(dir, 'data'), '-m', 'immediate', 'stop'],
        true,
      ).catch(() => undefined);
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  const expectCounts = (report: PgDumpReport): void => {
    const rows: Record<string, number | undefined> = {};
    for (const b of report.blocks) if (b.entry) rows[b.entry.tag] = b.rows;
    expect(rows).toEqual(counts);
    expect(counts['pgbench_accounts']).toBe(500_000);
  };

  it('deep row counts of a piped pg_dump (read straight from its stdout) equal count(*)', async () => {
    const child = spawn(path.join(PG15, 'pg_dump'), [...conn(), '-Fc', 'bench'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    const report = await readPgDump(child.stdout, { deep: true, concurrency: 3 });
    expect(await exited).toBe(0);
    expect(stderr).toBe('');
    expect(
      report.toc.filter((e) => e.desc === 'TABLE DATA').every((e) => e.dataOffsetState === 'not-set'),
    ).toBe(true);
    expectCounts(report);
    const accounts = report.blocks.find((b) => b.entry?.tag === 'pgbench_accounts')!;
    expect(accounts.uncompressedBytes).toBeGreaterThan(accounts.compressedBytes);
  }, 300_000);

  it('the seekable file: same counts, offsets set, every variant of reading agrees', async () => {
    const file = path.join(dir, 'bench.dump');
    await run(path.join(PG15, 'pg_dump'), [...conn(), '-Fc', '-f', file, 'bench']);
    expect(existsSync(file)).toBe(true);
    const deep = await readPgDump(createReadStream(file), { deep: true });
    expect(deep.toc.filter((e) => e.desc === 'TABLE DATA').every((e) => e.dataOffsetState === 'set')).toBe(
      true,
    );
    expectCounts(deep);
    const serial = await readPgDump(createReadStream(file, { highWaterMark: 7777 }), {
      deep: true,
      concurrency: 1,
      maxBufferedBytes: 64 * 1024, // the parser must wait for zlib all the time
    });
    expect(serial).toEqual(deep);
    const shallow = await readPgDump(createReadStream(file));
    expect(shallow.blocks.map((b) => b.compressedBytes)).toEqual(deep.blocks.map((b) => b.compressedBytes));
    expect(shallow.bytesRead).toBe(statSync(file).size);
  }, 300_000);

  it('an uncompressed (-Z0) dump: same counts', async () => {
    const file = path.join(dir, 'bench-z0.dump');
    await run(path.join(PG15, 'pg_dump'), [...conn(), '-Fc', '-Z0', '-f', file, 'bench']);
    const report = await readPgDump(createReadStream(file), { deep: true });
    expect(report.header.compression).toEqual({ algorithm: 'none', level: 0 });
    expectCounts(report);
  }, 300_000);
});
