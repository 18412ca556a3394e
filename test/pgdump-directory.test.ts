/**
 * The native directory-format reader against real `pg_dump -Fd` output (pg_dump 15 here: gzip
 * and no compression), and against the same dump with every data file recompressed by the real
 * `lz4` and `zstd` command-line tools (the frames pg_dump 16+ writes). The zstd path runs where
 * node:zlib has zstd (Node.js >= 22.15); on an older Node.js the test asserts the reason the deep
 * layer gives instead.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import {
  cpSync,
  createWriteStream,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import zlib from 'node:zlib';

import { readFileTransient, TransientChunks } from '../src/core/bundle/stream-utils.js';
import { indexTarFile, walkTar } from '../src/core/bundle/tar.js';
import { DirectoryDumpInspection } from '../src/core/engines/postgres/directory-inspect.js';
import { MemoryLogger } from './helpers/memory-logger.js';
import { NodeProcessRunner } from '../src/core/process.js';
import {
  PgDumpDirectoryReader,
  isDumpDirectory,
  readPgDumpDirectory,
} from '../src/core/engines/postgres/pgdump-directory.js';
import {
  PgDumpFormatError,
  readPgDump,
  type PgDumpReport,
} from '../src/core/engines/postgres/pgdump-reader.js';
import { REALISTIC_COUNTS, startTestCluster, type TestCluster } from './helpers/pg-cluster.js';

const execFileP = promisify(execFile);
/** pg_dump 15: Debian's client tools, the newest here (the embedded 17 ships only the server). */
const PG_BIN = '/usr/lib/postgresql/15/bin';
const hasZstd = typeof (zlib as unknown as Record<string, unknown>).createZstdDecompress === 'function';

let cluster: TestCluster;
let work: string;
const dirs: Record<'none' | 'gzip' | 'lz4' | 'zstd', string> = { none: '', gzip: '', lz4: '', zstd: '' };

async function pgDump(args: string[]): Promise<void> {
  await execFileP(path.join(PG_BIN, 'pg_dump'), [...args, '--dbname', cluster.url]);
}

/** Re-encodes every .gz data file of a directory dump with a real compressor CLI. */
async function recompress(from: string, to: string, tool: 'lz4' | 'zstd'): Promise<void> {
  cpSync(from, to, { recursive: true });
  for (const f of readdirSync(to).filter((n) => n.endsWith('.gz'))) {
    const plain = path.join(to, f.slice(0, -3));
    writeFileSync(plain, zlib.gunzipSync(readFileSync(path.join(to, f))));
    rmSync(path.join(to, f));
    const ext = tool === 'lz4' ? '.lz4' : '.zst';
    // lz4 with block dependency and content checksum, as LZ4F with pg_dump's preferences can write.
    const args =
      tool === 'lz4' ? ['-q', '-BD', '-f', plain, plain + ext] : ['-q', '-1', '-f', plain, '-o', plain + ext];
    await execFileP(tool, args);
    rmSync(plain);
  }
}

function rowsByTable(report: PgDumpReport): Record<string, number | undefined> {
  const out: Record<string, number | undefined> = {};
  for (const b of report.blocks)
    if (b.kind === 'data' && b.entry) out[`${b.entry.namespace}.${b.entry.tag}`] = b.rows;
  return out;
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

/** A copy of a dump directory to damage. */
function copyOf(dir: string): string {
  const to = mkdtempSync(path.join(work, 'copy-'));
  cpSync(dir, to, { recursive: true });
  return to;
}

/** The biggest table data file (orders or order_items): damage lands in real COPY data. */
function biggestDataFile(dir: string): string {
  const files = readdirSync(dir).filter((n) => /^\d+\.dat/.test(n));
  return files.sort(
    (a, b) => readFileSync(path.join(dir, b)).length - readFileSync(path.join(dir, a)).length,
  )[0]!;
}

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'dbdrill-fd-'));
  cluster = await startTestCluster();
  await cluster.loadRealisticSchema();
  dirs.none = path.join(work, 'none');
  dirs.gzip = path.join(work, 'gzip');
  await pgDump(['-Fd', '-Z0', '-f', dirs.none]);
  await pgDump(['-Fd', '-j', '2', '-Z1', '-f', dirs.gzip]);
  dirs.lz4 = path.join(work, 'lz4');
  dirs.zstd = path.join(work, 'zstd');
  await recompress(dirs.gzip, dirs.lz4, 'lz4');
  await recompress(dirs.gzip, dirs.zstd, 'zstd');
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('directory-format dumps from the real pg_dump -Fd', () => {
  it('spots a dump directory', async () => {
    expect(await isDumpDirectory(dirs.gzip)).toBe(true);
    expect(await isDumpDirectory(work)).toBe(false);
  });

  it.each(['none', 'gzip', 'lz4'] as const)(
    'deep read of %s: every table file inflated, rows equal count(*)',
    async (kind) => {
      const report = await readPgDumpDirectory(dirs[kind], { deep: true });
      expect(report.header.format).toBe('directory');
      expect(report.deepUnsupported).toBeUndefined();
      expect(rowsByTable(report)).toMatchObject(REALISTIC_COUNTS);
      const blobs = report.blocks.filter((b) => b.kind === 'blobs');
      expect(blobs.reduce((n, b) => n + (b.largeObjects ?? 0), 0)).toBe(1);
      expect(report.blocks.every((b) => (b.uncompressedBytes ?? 0) > 0)).toBe(true);
    },
  );

  it('zstd files: inflated with node:zlib where it has zstd, otherwise the deep layer says why', async () => {
    const read = readPgDumpDirectory(dirs.zstd, { deep: true });
    if (hasZstd) {
      expect(rowsByTable(await read)).toMatchObject(REALISTIC_COUNTS);
    } else {
      const report = await read;
      expect(report.deepUnsupported).toMatch(/zstd .*cannot be inflated by this Node\.js.*22\.15/);
    }
  });

  it('without deep, reads only the framing: toc.dat, the set of files and their magic numbers', async () => {
    const report = await readPgDumpDirectory(dirs.gzip);
    expect(report.blocks.some((b) => b.rows !== undefined)).toBe(false);
    expect(report.toc.filter((e) => e.dataOffsetState === 'file').length).toBe(report.blocks.length);
  });

  type Kind = keyof typeof dirs;
  const flippable: Kind[] = ['gzip', 'lz4', ...(hasZstd ? (['zstd'] as const) : [])];
  it.each(flippable)('deep: a flipped byte in a %s table file fails, naming the file', async (kind) => {
    const dir = copyOf(dirs[kind]);
    const file = biggestDataFile(dir);
    const buf = readFileSync(path.join(dir, file));
    const at = Math.floor(buf.length / 2);
    buf[at] = buf[at]! ^ 0x55;
    writeFileSync(path.join(dir, file), buf);
    const err = await expectFormatError(readPgDumpDirectory(dir, { deep: true }));
    expect(err.message).toContain(file);
  });

  it.each(['none', ...flippable] as Kind[])('deep: a truncated %s table file fails', async (kind) => {
    const dir = copyOf(dirs[kind]);
    const file = biggestDataFile(dir);
    const buf = readFileSync(path.join(dir, file));
    writeFileSync(path.join(dir, file), buf.subarray(0, Math.floor(buf.length * 0.7)));
    const err = await expectFormatError(readPgDumpDirectory(dir, { deep: true }));
    expect(err.message).toMatch(
      new RegExp(`${file.replace('.', '\\.')}|end-of-data|truncated|unexpected end`),
    );
  });

  it('a missing data file fails naming the table; so does an extra or a doubled one', async () => {
    const missing = copyOf(dirs.gzip);
    const file = biggestDataFile(missing);
    rmSync(path.join(missing, file));
    const e1 = await expectFormatError(readPgDumpDirectory(missing));
    expect(e1.message).toMatch(/1 data file\(s\) missing.*table public\.(orders|order_items).*\.dat/);
    expect(e1.missingBlocks?.length).toBe(1);

    const extra = copyOf(dirs.gzip);
    writeFileSync(path.join(extra, '99999.dat.gz'), zlib.gzipSync('\\.\n'));
    const e2 = await expectFormatError(readPgDumpDirectory(extra));
    expect(e2.message).toMatch(/no TOC entry names: 99999\.dat\.gz/);

    const doubled = copyOf(dirs.gzip);
    const f = biggestDataFile(doubled);
    writeFileSync(
      path.join(doubled, f.replace(/\.gz$/, '')),
      zlib.gunzipSync(readFileSync(path.join(doubled, f))),
    );
    const e3 = await expectFormatError(readPgDumpDirectory(doubled));
    expect(e3.message).toMatch(/has 2 files/);
  });

  it('a large-object file missing from the blobs TOC set fails', async () => {
    const dir = copyOf(dirs.gzip);
    const blob = readdirSync(dir).find((n) => n.startsWith('blob_'))!;
    rmSync(path.join(dir, blob));
    const err = await expectFormatError(readPgDumpDirectory(dir));
    expect(err.message).toMatch(/large object \d+ .*blob_\d+\.dat is missing/);
  });

  it('a data file that is not what its suffix says fails even without deep', async () => {
    const dir = copyOf(dirs.gzip);
    const file = biggestDataFile(dir);
    writeFileSync(path.join(dir, file), 'not gzip at all');
    const err = await expectFormatError(readPgDumpDirectory(dir));
    expect(err.message).toMatch(/does not start like a gz file/);
  });

  it('a truncated toc.dat fails with the byte offset', async () => {
    const dir = copyOf(dirs.gzip);
    const toc = readFileSync(path.join(dir, 'toc.dat'));
    writeFileSync(path.join(dir, 'toc.dat'), toc.subarray(0, 400));
    const err = await expectFormatError(readPgDumpDirectory(dir));
    expect(err.message).toMatch(/^toc\.dat: truncated .* at byte 400$/);
  });

  it('reads a -Fd tarball made by GNU tar, whatever order its members come in', async () => {
    const tarFile = path.join(work, 'fd.tar');
    // Reverse order: toc.dat last, so every data file arrives before the TOC that names it.
    const names = readdirSync(dirs.lz4).sort().reverse();
    await execFileP('tar', ['-C', dirs.lz4, '-cf', tarFile, ...names]);
    const reader = new PgDumpDirectoryReader({ deep: true });
    const { createReadStream } = await import('node:fs');
    await walkTar(createReadStream(tarFile), async (entry) => {
      await reader.addFile(path.basename(entry.path), entry.stream);
    });
    const report = await reader.finish();
    expect(rowsByTable(report)).toMatchObject(REALISTIC_COUNTS);
  });

  it.each([false, true])(
    'a bundle walked from one reused buffer, scribbled over after each chunk (read apart: %s): rows and extracted files exact',
    async (apart) => {
      // toc.dat first, as in a dbdrill bundle, under a folder member
      const names = readdirSync(dirs.gzip).sort((a, b) =>
        a === 'toc.dat' ? -1 : b === 'toc.dat' ? 1 : a < b ? -1 : 1,
      );
      const tarFile = path.join(work, `bundle-${apart}.tar`);
      await execFileP('tar', [
        '-C',
        dirs.gzip,
        '-cf',
        tarFile,
        '--transform',
        's,^,postgres.dir/,',
        ...names,
      ]);
      const members = apart ? await indexTarFile(tarFile) : undefined;
      expect(apart ? members?.size : 0).toBe(apart ? names.length : 0);
      const inspection = new DirectoryDumpInspection(
        { runner: new NodeProcessRunner(new MemoryLogger()) },
        'postgres.dir',
        { deep: true, pgBinDir: PG_BIN },
        undefined,
        members && { path: tarFile, members },
      );
      const out = mkdtempSync(path.join(work, 'extract-'));
      const input = new TransientChunks(
        (async function* () {
          // 4 KiB reads: every data file spans many chunks
          for await (const chunk of readFileTransient(tarFile, { bufferSize: 4096 })) {
            yield chunk;
            chunk.fill(0xee);
          }
        })(),
      );
      await walkTar(input, async (entry) => {
        const sink = createWriteStream(path.join(out, path.basename(entry.path)));
        await inspection.file(entry, sink);
      });
      const { summary, layers } = await inspection.finish();
      expect(layers.filter((l) => !l.ok)).toEqual([]);
      expect(summary?.rows).toMatchObject(REALISTIC_COUNTS);
      for (const n of names)
        expect(readFileSync(path.join(out, n)).equals(readFileSync(path.join(dirs.gzip, n)))).toBe(true);
    },
  );

  it('the real pg_restore reads what the reader accepted (pg_restore --list)', async () => {
    const { stdout } = await execFileP(path.join(PG_BIN, 'pg_restore'), ['--list', dirs.gzip]);
    const report = await readPgDumpDirectory(dirs.gzip);
    const ids = [...stdout.matchAll(/^(\d+);/gm)].map((m) => Number(m[1]));
    // pg_restore --list hides the ENCODING/STDSTRINGS/SEARCHPATH entries; every id it shows is in the TOC.
    const native = new Set(report.toc.map((e) => e.dumpId));
    expect(ids.length).toBeGreaterThan(20);
    expect(ids.filter((id) => !native.has(id))).toEqual([]);
  });
});

describe('custom-format archives with lz4 and zstd blocks', () => {
  /**
   * pg_dump 16+ is not installable here: the pg 18 fixture's only data block (the last thing in
   * the file, so its offset stays valid) is re-encoded by the real lz4/zstd CLI as the one frame
   * pg_dump writes per block, and the header's algorithm byte set to match.
   */
  async function reencode(tool: 'lz4' | 'zstd'): Promise<Buffer> {
    const z0 = readFileSync(path.resolve('test/fixtures/postgres/pg18-pglite.z0.dump'));
    const report = await readPgDump(z0);
    const block = report.toc.find((e) => e.dataOffsetState === 'set')!;
    const start = block.dataOffset!;
    const intSize = report.header.intSize;
    let p = start + 1 + 1 + intSize; // type byte, dump id
    const plain: Buffer[] = [];
    for (;;) {
      const len = z0.readUIntLE(p + 1, intSize);
      p += 1 + intSize;
      if (len === 0) break;
      plain.push(z0.subarray(p, p + len));
      p += len;
    }
    expect(p).toBe(z0.length);
    const raw = path.join(work, `block.${tool}.in`);
    writeFileSync(raw, Buffer.concat(plain));
    const out = raw + (tool === 'lz4' ? '.lz4' : '.zst');
    await execFileP(tool, tool === 'lz4' ? ['-q', '-f', raw, out] : ['-q', '-f', raw, '-o', out]);
    const frame = readFileSync(out);
    const len = Buffer.alloc(1 + intSize);
    len.writeUIntLE(frame.length, 1, intSize);
    const end = Buffer.alloc(1 + intSize);
    const archive = Buffer.concat([z0.subarray(0, start + 2 + intSize), len, frame, end]);
    archive[11] = tool === 'lz4' ? 2 : 3;
    return archive;
  }

  it('lz4 blocks inflate to the same bytes as the uncompressed archive; a flipped byte fails', async () => {
    const plain = await readPgDump(readFileSync(path.resolve('test/fixtures/postgres/pg18-pglite.z0.dump')), {
      deep: true,
    });
    const lz4 = await reencode('lz4');
    const report = await readPgDump(lz4, { deep: true });
    expect(report.header.compression.algorithm).toBe('lz4');
    expect(report.deepUnsupported).toBeUndefined();
    expect(report.blocks[0]!.uncompressedBytes).toBe(plain.blocks[0]!.uncompressedBytes);
    const bad = Buffer.from(lz4);
    bad[bad.length - 40] ^= 0x01;
    const err = await expectFormatError(readPgDump(bad, { deep: true }));
    expect(err.message).toMatch(/lz4 says/);
  });

  it('zstd blocks: inflated where node:zlib has zstd, otherwise the reason is reported', async () => {
    const zstd = await reencode('zstd');
    const report = await readPgDump(zstd, { deep: true });
    if (hasZstd) expect(report.blocks[0]!.uncompressedBytes).toBeGreaterThan(0);
    else expect(report.deepUnsupported).toMatch(/^zstd compression cannot be inflated by this Node\.js/);
  });
});
