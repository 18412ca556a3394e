/**
 * A native, streaming reader of PostgreSQL custom-format archives (`pg_dump -Fc`, magic
 * "PGDMP"), archive versions 1.12 to 1.16 (pg_dump 9.0 to 18).
 *
 * Layout, as pg_backup_archiver.c (ReadHead/ReadToc/ReadInt/ReadStr/ReadOffset) and
 * pg_backup_custom.c (_ReadExtraToc/_readBlockHeader/_PrintData/_LoadLOs) read it:
 *
 *   header  "PGDMP" vmaj vmin vrev intSize offSize format(1=custom)
 *           1.15+: compression algorithm byte (0 none, 1 gzip, 2 lz4, 3 zstd)
 *           older: compression level int (-1 default zlib, 0 none, 1..9)
 *           7 ints (struct tm of the creation time), dbname, server version, pg_dump version
 *   int     a sign byte (0/1) and intSize bytes, least significant first
 *   string  an int length (-1 = NULL) and that many bytes
 *   TOC     count, then per entry: dumpId, hadDumper, tableoid, oid, tag, desc, section,
 *           defn, dropStmt, copyStmt, namespace, tablespace, tableam (1.14+),
 *           relkind int (1.16+), owner, "false" (WITH OIDS), dependency strings up to a
 *           NULL, then the data offset: a flag byte (1 not set, 2 set, 3 no data) and
 *           offSize bytes
 *   blocks  type byte (1 data, 3 large objects) and the dump id, then for data a chain of
 *           int-length chunks ended by a zero length; for large objects per object its OID
 *           and such a chain, ended by OID 0. Each chain is one compressed stream (a zlib
 *           stream for gzip). A seekable pg_dump writes blocks in any order and records their
 *           offsets; a piped one leaves them unset.
 *
 * A directory-format dump (`pg_dump -Fd`) keeps the same header (format 5) and TOC in its
 * `toc.dat`, except that each entry ends with the name of its data file (pg_backup_directory.c
 * _WriteExtraToc; empty for entries without data) instead of the data offset. Its data lives in
 * one file per entry: see pgdump-directory.ts.
 */
import { availableParallelism } from 'node:os';
import { CheckFailed } from '../../errors.js';
import { ByteSource, type PgDumpInput } from './pgdump-source.js';
import {
  CopyRowCounter,
  InflateFailure,
  InflatePool,
  decompressSupport,
  type InflateJob,
} from './pgdump-inflate.js';

export type { PgDumpInput } from './pgdump-source.js';

export interface PgDumpHeader {
  /** e.g. "1.14.0" */
  archiveVersion: string;
  intSize: number;
  offSize: number;
  format: 'custom' | 'directory';
  /** Archives before 1.15 store a level (-1 = zlib default); 1.15+ store only the algorithm. */
  compression: { algorithm: 'none' | 'gzip' | 'lz4' | 'zstd'; level?: number };
  /** Wall-clock time of the dumping machine, read as local time like pg_restore does. */
  createdAt?: Date;
  database: string;
  serverVersion: string;
  pgDumpVersion: string;
}

export interface PgTocEntry {
  dumpId: number;
  hadDumper: boolean;
  tableOid: string;
  oid: string;
  tag: string;
  desc: string;
  section: 'none' | 'pre-data' | 'data' | 'post-data' | 'unknown';
  defn: string;
  dropStmt: string;
  copyStmt: string;
  namespace: string;
  tablespace: string;
  tableAm: string;
  owner: string;
  dependencies: number[];
  /** `file`: a directory-format entry whose data is in `dataFile`. */
  dataOffsetState: 'not-set' | 'set' | 'no-data' | 'unknown' | 'file';
  dataOffset?: number;
  /** Directory format: the data file's name as the TOC records it (without a compression suffix). */
  dataFile?: string;
}

export interface PgDataBlock {
  dumpId: number;
  kind: 'data' | 'blobs';
  /** Payload bytes of all chunks (without the length fields). */
  compressedBytes: number;
  chunks: number;
  /** deep only */
  uncompressedBytes?: number;
  /** deep only, COPY data: newline count = exact row count */
  rows?: number;
  /** blobs blocks */
  largeObjects?: number;
  entry?: PgTocEntry;
}

export interface PgDumpReport {
  header: PgDumpHeader;
  toc: PgTocEntry[];
  /** In the order they appear in the file. */
  blocks: PgDataBlock[];
  /**
   * Entries that should have had a data block and had none. readPgDump throws a
   * PgDumpFormatError when any is missing, so a returned report always has this empty.
   */
  missingBlocks: PgTocEntry[];
  bytesRead: number;
  /** Set in deep mode when the archive's compression cannot be inflated here: that layer did not run. */
  deepUnsupported?: string;
}

export interface ReadPgDumpOptions {
  /** Inflate every compressed stream to its end and count rows. */
  deep?: boolean;
  /** Compressed streams inflating at once on the threadpool (deep mode). Default 2 to 4 by CPU count. */
  concurrency?: number;
  /** Deep mode: compressed bytes handed to zlib and not yet inflated, across all streams. Default 24 MiB. */
  maxBufferedBytes?: number;
  signal?: AbortSignal;
}

/** The archive is not a readable custom-format dump; a failed check (exit 1). */
export class PgDumpFormatError extends CheckFailed {
  constructor(
    message: string,
    /** Byte offset in the dump where the problem was found. */
    readonly offset: number,
    /** Set when data blocks were missing at the end of the dump. */
    readonly missingBlocks?: PgTocEntry[],
  ) {
    super(message);
    this.name = 'PgDumpFormatError';
  }
}

const MAGIC = Buffer.from('PGDMP', 'latin1');
const MIN_MINOR = 12;
const MAX_MINOR = 16;
/** A TOC string longer than this is taken as corruption rather than allocated. */
const MAX_STRING = 64 * 1024 * 1024;
const MAX_TOC_ENTRIES = 50_000_000;
const MAX_DEPENDENCIES = 10_000_000;
/**
 * Default budget of compressed bytes queued in zlib across all streams before the parser
 * waits. Blocks lie one after another in the file, so inflating block N+1 while block N is
 * still inflating means holding part of block N's input: more budget, more overlap. 24 MiB
 * keeps a deep read near 150 MB peak RSS (measured; the rest is Node.js itself and output
 * buffers waiting for GC) while still beating pg_restore on multi-table dumps.
 */
const DEFAULT_MAX_BUFFERED_BYTES = 8 * 1024 * 1024;
const ALGORITHMS = ['none', 'gzip', 'lz4', 'zstd'] as const;
const SECTIONS: Record<number, PgTocEntry['section']> = {
  1: 'none',
  2: 'pre-data',
  3: 'data',
  4: 'post-data',
};
const FORMATS: Record<number, string> = { 0: 'unknown', 1: 'custom', 3: 'tar', 4: 'null', 5: 'directory' };

export function isPgDump(firstBytes: Buffer): boolean {
  return firstBytes.length >= 5 && firstBytes.subarray(0, 5).equals(MAGIC);
}

/** "schema.name" as pg_restore --list shows the pair. */
function qualifiedName(e: PgTocEntry): string {
  return e.namespace ? `${e.namespace}.${e.tag}` : e.tag;
}

/** How error messages name an entry, e.g. "table public.orders (dump id 3215)". */
export function describeEntry(e: PgTocEntry): string {
  if (e.desc === 'TABLE DATA') return `table ${qualifiedName(e)} (dump id ${e.dumpId})`;
  if (e.desc === 'BLOBS') return `large objects ${e.tag} (dump id ${e.dumpId})`;
  return `${e.desc} ${qualifiedName(e)} (dump id ${e.dumpId})`;
}

/** The table-data entries (desc 'TABLE DATA') as "schema.table" -> entry */
export function tableDataEntries(toc: PgTocEntry[]): Map<string, PgTocEntry> {
  const map = new Map<string, PgTocEntry>();
  for (const e of toc) if (e.desc === 'TABLE DATA') map.set(qualifiedName(e), e);
  return map;
}

const KIND_OF_DESC: Record<string, string[]> = {
  TABLE: ['tables'],
  'FOREIGN TABLE': ['foreignTables'],
  'TABLE DATA': ['tableData'],
  VIEW: ['views'],
  'MATERIALIZED VIEW': ['materializedViews'],
  'MATERIALIZED VIEW DATA': ['materializedViewData'],
  INDEX: ['indexes'],
  CONSTRAINT: ['constraints'],
  'CHECK CONSTRAINT': ['constraints'],
  'FK CONSTRAINT': ['constraints', 'foreignKeys'],
  FUNCTION: ['functions'],
  PROCEDURE: ['functions'],
  AGGREGATE: ['functions'],
  SEQUENCE: ['sequences'],
  'SEQUENCE SET': ['sequenceSets'],
  TRIGGER: ['triggers'],
  'EVENT TRIGGER': ['triggers'],
  SCHEMA: ['schemas'],
  TYPE: ['types'],
  DOMAIN: ['types'],
  EXTENSION: ['extensions'],
  RULE: ['rules'],
  POLICY: ['policies'],
};

/**
 * Count TOC entries per kind for structure checks. Every key is present (0 when absent), so
 * two dumps can be compared key by key. Large objects are counted one per object: a 1.16
 * "BLOB METADATA" entry covers a group of them, one lo_create each.
 */
export function countObjectsByKind(toc: PgTocEntry[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const keys of Object.values(KIND_OF_DESC)) for (const k of keys) counts[k] = 0;
  counts.largeObjects = 0;
  counts.other = 0;
  for (const e of toc) {
    const keys = KIND_OF_DESC[e.desc];
    if (keys) for (const k of keys) counts[k]! += 1;
    else if (e.desc === 'BLOB') counts.largeObjects! += 1;
    else if (e.desc === 'BLOB METADATA') {
      counts.largeObjects! += Math.max(1, (e.defn.match(/\blo_create\s*\(/g) ?? []).length);
    } else counts.other! += 1;
  }
  return counts;
}

/** Whether pg_dump wrote (or meant to write) a data block for the entry. */
export function expectsData(e: PgTocEntry): boolean {
  return e.dataOffsetState === 'set' || e.dataOffsetState === 'not-set' || e.dataOffsetState === 'file';
}

class Parser {
  intSize = 4;
  offSize = 8;
  minor = 0;
  /** Where the parser is, for "truncated <where> at byte N". */
  where = 'in the file header';

  constructor(
    readonly src: ByteSource,
    /** Which archive the bytes are: a custom-format file or a directory dump's toc.dat. */
    readonly layout: 'custom' | 'directory' = 'custom',
  ) {}

  fail(message: string, offset: number = this.src.offset): never {
    throw new PgDumpFormatError(`${message} at byte ${offset}`, offset);
  }

  truncated(): never {
    const end = this.src.offset + this.src.available();
    throw new PgDumpFormatError(`truncated ${this.where} at byte ${end}`, end);
  }

  async need(n: number): Promise<void> {
    if (this.src.available() < n && !(await this.src.ensure(n))) this.truncated();
  }

  async byte(): Promise<number> {
    await this.need(1);
    return this.src.u8();
  }

  async int(what: string): Promise<number> {
    const at = this.src.offset;
    await this.need(1 + this.intSize);
    const sign = this.src.u8();
    let value = 0;
    let scale = 1;
    for (let b = 0; b < this.intSize; b++) {
      value += this.src.u8() * scale;
      scale *= 256;
    }
    // pg_dump writes only 0 or 1 here; anything else is damage, not a number.
    if (sign > 1) this.fail(`bad sign byte ${sign} in the ${what} ${this.where}`, at);
    if (value > 0x7fffffff + sign) this.fail(`the ${what} ${this.where} is out of range (${value})`, at);
    return sign ? -value : value;
  }

  async str(what: string): Promise<string | null> {
    const at = this.src.offset;
    const len = await this.int(`length of the ${what}`);
    if (len === -1) return null;
    if (len < 0) this.fail(`bad length ${len} of the ${what} ${this.where}`, at);
    if (len > MAX_STRING) {
      this.fail(
        `the ${what} ${this.where} claims ${len} bytes, more than ${MAX_STRING}: corrupt archive`,
        at,
      );
    }
    await this.need(len);
    return this.src.take(len).toString('utf8');
  }

  async header(): Promise<PgDumpHeader> {
    const src = this.src;
    this.where = 'in the file header';
    if (!(await src.ensure(5))) {
      const got = src.take(src.available());
      if (got.length > 0 && MAGIC.subarray(0, got.length).equals(got)) this.truncated();
      throw new PgDumpFormatError(
        got.length === 0
          ? 'not a pg_dump custom-format archive: the input is empty (at byte 0)'
          : `not a pg_dump custom-format archive: it does not start with "PGDMP" (at byte 0)`,
        0,
      );
    }
    const magic = src.take(5);
    if (!magic.equals(MAGIC)) {
      const hint =
        magic[0] === 0x1f && magic[1] === 0x8b
          ? ' (it is gzip-compressed: a plain SQL dump piped through gzip?)'
          : magic.toString('latin1').startsWith('--')
            ? ' (it looks like a plain SQL dump: restore it with psql)'
            : '';
      throw new PgDumpFormatError(
        `not a pg_dump custom-format archive: it starts with ${magic.toString('hex')}, not "PGDMP"${hint} (at byte 0)`,
        0,
      );
    }
    const versionAt = src.offset;
    const vmaj = await this.byte();
    const vmin = await this.byte();
    const vrev = await this.byte();
    const archiveVersion = `${vmaj}.${vmin}.${vrev}`;
    if (vmaj !== 1 || vmin < MIN_MINOR || vmin > MAX_MINOR) {
      this.fail(
        `unsupported archive version ${archiveVersion}: this reader handles 1.${MIN_MINOR} to 1.${MAX_MINOR} (pg_dump 9.0 to 18)${
          vmaj === 1 && vmin > MAX_MINOR ? '; the dump was made by a newer pg_dump' : ''
        }`,
        versionAt,
      );
    }
    this.minor = vmin;
    const intAt = src.offset;
    this.intSize = await this.byte();
    if (this.intSize < 1 || this.intSize > 8)
      this.fail(`implausible integer size ${this.intSize} in the header`, intAt);
    const offAt = src.offset;
    this.offSize = await this.byte();
    if (this.offSize < 1 || this.offSize > 16)
      this.fail(`implausible offset size ${this.offSize} in the header`, offAt);
    const formatAt = src.offset;
    const format = await this.byte();
    // pg_dump -Fd writes "tar" (3) into toc.dat's format byte (pg_backup_directory.c _CloseArchive:
    // the layout is tar-compatible); 5 is accepted too.
    const wanted = this.layout === 'directory' ? [3, 5] : [1];
    if (!wanted.includes(format)) {
      const name = FORMATS[format] ?? 'unknown';
      this.fail(
        this.layout === 'directory'
          ? `archive format ${format} (${name}) in toc.dat is not a directory dump's (3)`
          : `archive format ${format} (${name}) is not the custom format (1)${
              format === 5 || format === 3
                ? ': this is the toc.dat of a directory-format dump (pg_dump -Fd) or a tar-format one; verify the whole directory'
                : ''
            }`,
        formatAt,
      );
    }
    let compression: PgDumpHeader['compression'];
    const compressionAt = src.offset;
    if (vmin >= 15) {
      const code = await this.byte();
      const algorithm = ALGORITHMS[code];
      if (!algorithm) this.fail(`unknown compression algorithm ${code} in the header`, compressionAt);
      compression = { algorithm };
    } else {
      const level = await this.int('compression level');
      if (level < -1 || level > 9)
        this.fail(`implausible compression level ${level} in the header`, compressionAt);
      compression = { algorithm: level === 0 ? 'none' : 'gzip', level };
    }
    this.where = 'in the file header (creation time)';
    const tm: number[] = [];
    for (let i = 0; i < 7; i++) tm.push(await this.int('creation time'));
    const [sec, min, hour, mday, mon, year] = tm as [number, number, number, number, number, number];
    const plausible =
      sec >= 0 && sec <= 61 && min >= 0 && min <= 59 && hour >= 0 && hour <= 23 && mday >= 1 && mday <= 31;
    const createdAt =
      plausible && mon >= 0 && mon <= 11 && year >= 0
        ? new Date(year + 1900, mon, mday, hour, min, sec)
        : undefined;
    this.where = 'in the file header (database name)';
    const database = (await this.str('database name')) ?? '';
    this.where = 'in the file header (server version)';
    const serverVersion = (await this.str('server version')) ?? '';
    this.where = 'in the file header (pg_dump version)';
    const pgDumpVersion = (await this.str('pg_dump version')) ?? '';
    return {
      archiveVersion,
      intSize: this.intSize,
      offSize: this.offSize,
      format: this.layout,
      compression,
      ...(createdAt && !Number.isNaN(createdAt.getTime()) ? { createdAt } : {}),
      database,
      serverVersion,
      pgDumpVersion,
    };
  }

  async toc(): Promise<PgTocEntry[]> {
    this.where = 'in the TOC entry count';
    const countAt = this.src.offset;
    const count = await this.int('TOC entry count');
    if (count < 0 || count > MAX_TOC_ENTRIES) this.fail(`implausible TOC entry count ${count}`, countAt);
    const entries: PgTocEntry[] = [];
    const ids = new Set<number>();
    for (let i = 0; i < count; i++) {
      const entryAt = this.src.offset;
      const nth = `TOC entry ${i + 1} of ${count}`;
      this.where = `in ${nth}`;
      const dumpId = await this.int('dump id');
      if (dumpId <= 0) this.fail(`${nth} has dump id ${dumpId}, which is not positive: corrupt TOC`, entryAt);
      if (ids.has(dumpId)) this.fail(`${nth} repeats dump id ${dumpId}: corrupt TOC`, entryAt);
      ids.add(dumpId);
      this.where = `in ${nth} (dump id ${dumpId})`;
      const dumperAt = this.src.offset;
      const hadDumper = await this.int('had-dumper flag');
      if (hadDumper !== 0 && hadDumper !== 1)
        this.fail(`bad had-dumper flag ${hadDumper} ${this.where}`, dumperAt);
      const tableOid = await this.oidString('table oid');
      const oid = await this.oidString('oid');
      const tag = (await this.str('tag')) ?? '';
      const desc = (await this.str('description')) ?? '';
      this.where = `in ${nth} (dump id ${dumpId}, ${desc} ${tag})`;
      const sectionCode = await this.int('section');
      const defn = (await this.str('definition')) ?? '';
      const dropStmt = (await this.str('drop statement')) ?? '';
      const copyStmt = (await this.str('COPY statement')) ?? '';
      const namespace = (await this.str('schema')) ?? '';
      const tablespace = (await this.str('tablespace')) ?? '';
      const tableAm = this.minor >= 14 ? ((await this.str('table access method')) ?? '') : '';
      if (this.minor >= 16) await this.int('relkind');
      const owner = (await this.str('owner')) ?? '';
      const oidsAt = this.src.offset;
      const withOids = await this.str('WITH OIDS flag');
      if (withOids !== 'false' && withOids !== 'true') {
        this.fail(`bad WITH OIDS flag ${JSON.stringify(withOids)} ${this.where}: corrupt TOC`, oidsAt);
      }
      const dependencies: number[] = [];
      for (;;) {
        const depAt = this.src.offset;
        const dep = await this.str('dependency');
        if (dep === null) break;
        if (!/^\d+$/.test(dep))
          this.fail(`bad dependency ${JSON.stringify(dep)} ${this.where}: corrupt TOC`, depAt);
        dependencies.push(Number(dep));
        if (dependencies.length > MAX_DEPENDENCIES)
          this.fail(`too many dependencies ${this.where}: corrupt TOC`, depAt);
      }
      let state: PgTocEntry['dataOffsetState'];
      let offset: number | undefined;
      let dataFile: string | undefined;
      if (this.layout === 'directory') {
        const fileAt = this.src.offset;
        dataFile = (await this.str('data file name')) ?? '';
        if (dataFile && !/^[A-Za-z0-9_.]+$/.test(dataFile))
          this.fail(`bad data file name ${JSON.stringify(dataFile.slice(0, 40))} ${this.where}`, fileAt);
        state = dataFile ? 'file' : 'no-data';
      } else {
        ({ state, offset } = await this.dataOffset());
      }
      const entry: PgTocEntry = {
        dumpId,
        hadDumper: hadDumper === 1,
        tableOid,
        oid,
        tag,
        desc,
        section: SECTIONS[sectionCode] ?? 'unknown',
        defn,
        dropStmt,
        copyStmt,
        namespace,
        tablespace,
        tableAm,
        owner,
        dependencies,
        dataOffsetState: state,
        ...(offset !== undefined ? { dataOffset: offset } : {}),
        ...(dataFile ? { dataFile } : {}),
      };
      entries.push(entry);
    }
    return entries;
  }

  private async oidString(what: string): Promise<string> {
    const at = this.src.offset;
    const s = (await this.str(what)) ?? '';
    if (!/^\d+$/.test(s))
      this.fail(`bad ${what} ${JSON.stringify(s.slice(0, 40))} ${this.where}: corrupt TOC`, at);
    return s;
  }

  private async dataOffset(): Promise<{ state: PgTocEntry['dataOffsetState']; offset?: number }> {
    const at = this.src.offset;
    const flag = await this.byte();
    await this.need(this.offSize);
    let value = 0;
    let scale = 1;
    let tooLarge = false;
    for (let b = 0; b < this.offSize; b++) {
      const v = this.src.u8();
      if (b >= 8 && v !== 0) tooLarge = true;
      value += v * scale;
      scale *= 256;
    }
    if (flag === 1) return { state: 'not-set' };
    if (flag === 3) return { state: 'no-data' };
    if (flag !== 2) this.fail(`unexpected data offset flag ${flag} ${this.where}: corrupt TOC`, at);
    if (tooLarge || value > Number.MAX_SAFE_INTEGER) this.fail(`data offset too large ${this.where}`, at);
    return { state: 'set', offset: value };
  }
}

interface DeepState {
  algorithm: PgDumpHeader['compression']['algorithm'];
  pool?: InflatePool;
}

async function walkBlocks(
  parser: Parser,
  toc: PgTocEntry[],
  deep: DeepState | undefined,
  signal: AbortSignal | undefined,
): Promise<PgDataBlock[]> {
  const src = parser.src;
  const byId = new Map(toc.map((e) => [e.dumpId, e]));
  const expected = toc.filter(expectsData);
  const seen = new Set<number>();
  const blocks: PgDataBlock[] = [];
  for (;;) {
    signal?.throwIfAborted();
    deep?.pool?.check();
    const blockAt = src.offset;
    parser.where = 'at the start of a data block';
    if (await src.atEnd()) break;
    if (seen.size === expected.length) {
      parser.fail(
        `unexpected data after the last expected data block (all ${expected.length} seen; the archive should end here)`,
        blockAt,
      );
    }
    const type = src.u8();
    if (type !== 1 && type !== 3) {
      parser.fail(`unknown data block type ${type} (1 = table data, 3 = large objects)`, blockAt);
    }
    parser.where = 'in the header of a data block';
    const id = await parser.int('dump id of the block');
    const entry = byId.get(id);
    if (!entry) parser.fail(`found a data block for dump id ${id}, which is not in the TOC`, blockAt);
    const label = describeEntry(entry);
    if (!expectsData(entry))
      parser.fail(`found a data block for ${label}, which the TOC says has no data`, blockAt);
    if (seen.has(id)) parser.fail(`found a second data block for ${label}`, blockAt);
    const kind = type === 3 ? 'blobs' : 'data';
    if ((kind === 'blobs') !== (entry.desc === 'BLOBS')) {
      parser.fail(
        `found a ${kind === 'blobs' ? 'large-object' : 'table-data'} block for ${entry.desc} ${label}`,
        blockAt,
      );
    }
    if (entry.dataOffsetState === 'set' && entry.dataOffset !== blockAt) {
      parser.fail(
        `the TOC puts the data of ${label} at byte ${entry.dataOffset}, but its block starts`,
        blockAt,
      );
    }
    seen.add(id);
    const block: PgDataBlock = { dumpId: id, kind, compressedBytes: 0, chunks: 0, entry };
    if (deep && !deepSkipped(deep)) block.uncompressedBytes = 0;
    if (kind === 'data') {
      parser.where = `inside the data block of ${label}`;
      const counter = deep && !deepSkipped(deep) && entry.copyStmt ? new CopyRowCounter() : undefined;
      if (counter) block.rows = 0;
      await chunkStream(parser, block, deep, counter, `the data block of ${label}`);
    } else {
      block.largeObjects = 0;
      for (;;) {
        parser.where = `inside the large-object block of ${label}`;
        const oidAt = src.offset;
        const raw = await parser.int('large object OID');
        if (raw === 0) break;
        // pg_dump writes the unsigned OID through a signed int: wrap it back.
        const loOid = raw < 0 ? raw + 2 ** 32 : raw;
        if (loOid <= 0) parser.fail(`bad large object OID ${raw} ${parser.where}`, oidAt);
        block.largeObjects++;
        parser.where = `inside large object ${loOid} in the large-object block of ${label}`;
        await chunkStream(parser, block, deep, undefined, `large object ${loOid} of ${label}`);
      }
    }
    blocks.push(block);
  }
  if (seen.size < expected.length) {
    const missing = expected.filter((e) => !seen.has(e.dumpId));
    const names = missing.slice(0, 5).map(describeEntry).join(', ');
    const end = src.offset;
    throw new PgDumpFormatError(
      `truncated: the dump ends at byte ${end} but ${missing.length} expected data block${
        missing.length === 1 ? '' : 's'
      } never appeared: ${names}${missing.length > 5 ? ', …' : ''}`,
      end,
      missing,
    );
  }
  return blocks;
}

function deepSkipped(deep: DeepState): boolean {
  return deep.algorithm !== 'none' && !deep.pool;
}

/** One chain of int-length chunks ended by a zero length; streamed, inflated when deep. */
async function chunkStream(
  parser: Parser,
  block: PgDataBlock,
  deep: DeepState | undefined,
  counter: CopyRowCounter | undefined,
  label: string,
): Promise<void> {
  const src = parser.src;
  const pool = deep?.pool;
  let job: InflateJob | undefined;
  let uncompressed = 0;
  const plain = deep?.algorithm === 'none';
  if (pool) {
    job = await pool.start(
      deep.algorithm as 'gzip' | 'lz4' | 'zstd',
      label,
      block.kind === 'blobs',
      counter,
      (r) => {
        block.uncompressedBytes = (block.uncompressedBytes ?? 0) + r.uncompressedBytes;
        if (r.rows !== undefined) block.rows = (block.rows ?? 0) + r.rows;
      },
    );
  }
  for (;;) {
    const lenAt = src.offset;
    const len = await parser.int('chunk length');
    if (len === 0) break;
    if (len < 0) parser.fail(`negative chunk length ${len} ${parser.where}`, lenAt);
    block.chunks++;
    block.compressedBytes += len;
    let remaining = len;
    while (remaining > 0) {
      if (src.available() === 0 && !(await src.refill())) parser.truncated();
      const at = src.offset;
      const slice = src.take(Math.min(remaining, src.available()));
      remaining -= slice.length;
      if (job) job.write(slice, at);
      else if (plain) {
        uncompressed += slice.length;
        counter?.feed(slice);
      }
    }
    if (pool && (pool.failure || pool.overBudget())) await pool.throttle();
  }
  if (job) job.end();
  if (plain) {
    block.uncompressedBytes = (block.uncompressedBytes ?? 0) + uncompressed;
    if (counter) {
      if (!counter.ended) {
        parser.fail(
          `the COPY data of ${label} does not end with pg_dump's "\\." end-of-data line`,
          src.offset,
        );
      }
      block.rows = (block.rows ?? 0) + counter.rows;
    }
  }
}

function toFormatError(err: unknown): unknown {
  return err instanceof InflateFailure ? new PgDumpFormatError(err.message, err.offset) : err;
}

/**
 * Read a whole custom-format dump from a stream, strictly sequentially: header, TOC, then
 * every data block's framing to EOF (and, deep, every compressed stream to its end). Throws
 * PgDumpFormatError on anything pg_restore would trip over later.
 */
export async function readPgDump(input: PgDumpInput, options: ReadPgDumpOptions = {}): Promise<PgDumpReport> {
  const src = new ByteSource(input);
  const parser = new Parser(src);
  let pool: InflatePool | undefined;
  try {
    options.signal?.throwIfAborted();
    const header = await parser.header();
    const toc = await parser.toc();
    let deep: DeepState | undefined;
    let deepUnsupported: string | undefined;
    if (options.deep) {
      const algorithm = header.compression.algorithm;
      deepUnsupported = decompressSupport(algorithm);
      if (algorithm === 'none' || deepUnsupported) deep = { algorithm };
      else {
        const concurrency = Math.max(
          1,
          Math.floor(options.concurrency ?? Math.max(2, Math.min(4, availableParallelism()))),
        );
        pool = new InflatePool(
          concurrency,
          options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES,
          options.signal,
        );
        deep = { algorithm, pool };
      }
    }
    const blocks = await walkBlocks(parser, toc, deep, options.signal);
    await pool?.drain();
    return {
      header,
      toc,
      blocks,
      missingBlocks: [],
      bytesRead: src.offset,
      ...(deepUnsupported ? { deepUnsupported } : {}),
    };
  } catch (err) {
    // A zlib failure found while parsing went on is the more precise story: prefer it.
    if (pool?.failure && !(err instanceof DOMException)) throw toFormatError(pool.failure);
    throw toFormatError(err);
  } finally {
    pool?.destroy();
    await src.close();
  }
}

/** Header + TOC only from a (possibly partial) buffer or stream; for cheap inspection. */
export async function readPgDumpToc(
  input: PgDumpInput,
): Promise<{ header: PgDumpHeader; toc: PgTocEntry[] }> {
  const src = new ByteSource(input);
  const parser = new Parser(src);
  try {
    const header = await parser.header();
    const toc = await parser.toc();
    return { header, toc };
  } finally {
    await src.close();
  }
}

/**
 * Header + TOC of a directory dump's toc.dat, which must end right after the TOC. Throws
 * PgDumpFormatError like readPgDump.
 */
export async function readPgDumpDirectoryToc(
  input: PgDumpInput,
): Promise<{ header: PgDumpHeader; toc: PgTocEntry[]; bytesRead: number }> {
  const src = new ByteSource(input);
  const parser = new Parser(src, 'directory');
  try {
    const header = await parser.header();
    const toc = await parser.toc();
    const end = src.offset;
    if (!(await src.atEnd())) {
      throw new PgDumpFormatError(
        `toc.dat goes on after its TOC (at byte ${end}): it is not a toc.dat pg_dump wrote`,
        end,
      );
    }
    return { header, toc, bytesRead: end };
  } finally {
    await src.close();
  }
}
