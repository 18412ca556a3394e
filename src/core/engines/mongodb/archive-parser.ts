import { checkBsonDocument, decodeTopLevel, MAX_BSON_SIZE, type BsonScalar } from './bson-walk.js';
import { Crc64 } from './crc64.js';
import { MongoArchiveError, type MongoArchiveReport, type MongoNamespaceReport } from './archive-types.js';

/** Little-endian 0x8199e26d, the first four bytes of every mongodump archive. */
export const ARCHIVE_MAGIC = Buffer.from([0x6d, 0xe2, 0x99, 0x81]);

const TERMINATOR = -1; // 0xffffffff read as int32

type State = 'magic' | 'header' | 'prelude' | 'blockHeader' | 'body' | 'eofTerminator';

interface NamespaceState {
  report: MongoNamespaceReport;
  crc: Crc64;
  status: 'unopened' | 'open' | 'closed';
  /** Prelude namespaces must reach EOF; ones the prelude does not announce are only reported. */
  expected: boolean;
}

/** Metadata the prelude carries for a namespace; the data may sit under another name. */
interface PreludeEntry {
  db: string;
  collection: string;
  type: string;
  metadataValid: boolean;
  indexes?: number;
  viewOn: boolean;
}

/**
 * A push parser for the archive layout (mongo-tools `common/archive`: magic, header document,
 * prelude documents, terminator, then interleaved blocks of a namespace header, documents and a
 * terminator, each namespace finished by an EOF header carrying the CRC-64 of its documents).
 * It is synchronous and chunk-driven so the caller decides how bytes arrive; it keeps at most one
 * partial document (bounded by the 16 MiB BSON limit) between chunks.
 */
export class ArchiveParser {
  private state: State = 'magic';
  /** Absolute offset of the next byte `write` will see. */
  private pos = 0;
  /** A split item: its first bytes, how many are filled, and how many the item needs. */
  private pend: Buffer | undefined;
  private pendFill = 0;
  private pendNeed = 0;
  private pendOffset = 0;

  private header: Map<string, BsonScalar> | undefined;
  private readonly prelude: PreludeEntry[] = [];
  private readonly preludeKeys = new Set<string>();
  private readonly namespaces = new Map<string, NamespaceState>();
  private readonly order: NamespaceState[] = [];
  private current: NamespaceState | undefined;
  private totalDocuments = 0;

  constructor(private readonly where: string) {}

  write(chunk: Buffer): void {
    let p = 0;
    const len = chunk.length;
    if (this.pend !== undefined) {
      p = this.fillPending(chunk);
      if (this.pend !== undefined) return;
    }
    while (p < len) {
      const off = this.pos + p;
      const avail = len - p;
      if (this.state === 'magic') {
        if (avail < 4) {
          this.stash(chunk, p, 4, off);
          return;
        }
        this.onMagic(chunk, p, off);
        p += 4;
        continue;
      }
      if (avail < 4) {
        this.stash(chunk, p, 4, off);
        return;
      }
      const size = chunk.readInt32LE(p);
      if (size === TERMINATOR) {
        this.onTerminator(off);
        p += 4;
        continue;
      }
      this.checkSize(size, off);
      if (avail < size) {
        this.stash(chunk, p, size, off);
        return;
      }
      this.onDocument(chunk, p, size, off);
      p += size;
    }
    this.pos += len;
  }

  /** Keeps the start of an item that continues in the next chunk. */
  private stash(chunk: Buffer, p: number, need: number, off: number): void {
    const have = chunk.length - p;
    this.pend = Buffer.allocUnsafe(Math.max(need, 4));
    chunk.copy(this.pend, 0, p);
    this.pendFill = have;
    this.pendNeed = need;
    this.pendOffset = off;
    this.pos += chunk.length;
  }

  /** Completes a split item from the chunk; returns how many bytes of the chunk it used. */
  private fillPending(chunk: Buffer): number {
    let p = 0;
    let pend = this.pend!;
    while (p < chunk.length) {
      const take = Math.min(this.pendNeed - this.pendFill, chunk.length - p);
      chunk.copy(pend, this.pendFill, p, p + take);
      this.pendFill += take;
      p += take;
      if (this.pendFill < this.pendNeed) break;
      if (this.state === 'magic') {
        this.onMagic(pend, 0, this.pendOffset);
        this.pend = undefined;
        break;
      }
      if (this.pendNeed === 4) {
        const size = pend.readInt32LE(0);
        if (size === TERMINATOR) {
          this.onTerminator(this.pendOffset);
          this.pend = undefined;
          break;
        }
        this.checkSize(size, this.pendOffset);
        const grown = Buffer.allocUnsafe(size);
        pend.copy(grown, 0, 0, 4);
        pend = this.pend = grown;
        this.pendNeed = size;
        continue;
      }
      this.onDocument(pend, 0, this.pendNeed, this.pendOffset);
      this.pend = undefined;
      break;
    }
    if (this.pend !== undefined) {
      this.pos += chunk.length;
      return chunk.length;
    }
    // The caller's loop continues at p with this.pos still at the chunk start.
    return p;
  }

  /** Finishes the read: everything announced must have been closed, nothing may be left half read. */
  end(compressed: boolean): MongoArchiveReport {
    const at = this.pos;
    if (this.state === 'magic') {
      throw this.fail(
        at === 0
          ? 'the input is empty: not a mongodump archive'
          : `the input is only ${at} bytes long: not a mongodump archive`,
        at,
      );
    }
    if (this.pend !== undefined) {
      const what =
        this.pendNeed === 4
          ? 'a document length or terminator'
          : `a document of ${this.pendNeed} bytes (only ${this.pendFill} present)`;
      throw this.fail(
        `archive is truncated: it ends inside ${what}`,
        this.pendOffset,
        this.current?.report.ns,
      );
    }
    if (this.state === 'header' || this.state === 'prelude') {
      throw this.fail('archive is truncated: it ends inside the prelude (before its terminator)', at);
    }
    if (this.state === 'body' || this.state === 'eofTerminator') {
      const ns = this.current?.report.ns;
      throw this.fail(
        `archive is truncated: it ends inside a block of namespace ${ns} (no terminator)`,
        at,
        ns,
      );
    }
    const unfinished = this.order.filter((n) => n.status === 'open' || (n.expected && n.status !== 'closed'));
    if (unfinished.length > 0) {
      const names = unfinished.map((n) => n.report.ns);
      throw this.fail(
        `archive is truncated: it ends before the EOF header of namespace${names.length > 1 ? 's' : ''} ${names.join(', ')}`,
        at,
        names[0],
      );
    }
    const h = this.header!;
    const str = (k: string): string | undefined => {
      const v = h.get(k);
      return typeof v === 'string' ? v : undefined;
    };
    const cc = h.get('concurrent_collections');
    return {
      format: 'archive',
      compressed,
      serverVersion: str('server_version'),
      toolVersion: str('tool_version'),
      concurrentCollections: typeof cc === 'number' ? cc : undefined,
      namespaces: this.order.map((n) => n.report),
      totalDocuments: this.totalDocuments,
      bytesRead: this.pos,
    };
  }

  private fail(message: string, offset: number, namespace?: string): MongoArchiveError {
    const nsPart = namespace !== undefined ? ` (namespace ${namespace})` : '';
    return new MongoArchiveError(`${this.where}: ${message}${nsPart} at byte ${offset}`, offset, namespace);
  }

  private checkSize(size: number, off: number): void {
    if (size < 5 || size > MAX_BSON_SIZE) {
      const ns = this.current?.report.ns;
      throw this.fail(
        `${size} is neither a valid BSON document length (5..${MAX_BSON_SIZE}) nor the archive terminator`,
        off,
        ns,
      );
    }
  }

  private onMagic(buf: Buffer, p: number, off: number): void {
    if (buf.compare(ARCHIVE_MAGIC, 0, 4, p, p + 4) !== 0) {
      throw this.fail(
        `not a mongodump archive: it starts with ${buf.subarray(p, p + 4).toString('hex')}, not the magic number 6de29981`,
        off,
      );
    }
    this.state = 'header';
  }

  private onTerminator(off: number): void {
    switch (this.state) {
      case 'header':
        throw this.fail('archive header document is missing (terminator found instead)', off);
      case 'prelude':
        this.state = 'blockHeader';
        this.expectPreludeNamespaces();
        return;
      case 'blockHeader':
        throw this.fail('consecutive terminators / headerless block', off);
      case 'body':
      case 'eofTerminator':
        this.state = 'blockHeader';
        this.current = undefined;
        return;
      default:
        throw new Error(`terminator in parser state ${this.state}`);
    }
  }

  private validate(buf: Buffer, p: number, size: number, off: number, what: string, ns?: string): void {
    const fault = checkBsonDocument(buf, p, size);
    if (fault !== undefined) {
      throw this.fail(
        `malformed BSON ${what}: ${fault.reason} (document byte ${fault.at})`,
        off + fault.at,
        ns,
      );
    }
  }

  private onDocument(buf: Buffer, p: number, size: number, off: number): void {
    switch (this.state) {
      case 'body': {
        const ns = this.current!;
        this.validate(buf, p, size, off, 'document', ns.report.ns);
        ns.crc.update(buf, p, p + size);
        ns.report.documents++;
        ns.report.bytes += size;
        this.totalDocuments++;
        return;
      }
      case 'blockHeader':
        this.validate(buf, p, size, off, 'namespace header');
        this.onNamespaceHeader(decodeTopLevel(buf, p), off);
        return;
      case 'eofTerminator': {
        const ns = this.current!.report.ns;
        throw this.fail('document after the EOF header (expected the terminator)', off, ns);
      }
      case 'header':
        this.validate(buf, p, size, off, 'archive header');
        this.header = decodeTopLevel(buf, p);
        this.state = 'prelude';
        return;
      case 'prelude':
        this.validate(buf, p, size, off, 'prelude entry');
        this.onPreludeEntry(decodeTopLevel(buf, p), off);
        return;
      default:
        throw new Error(`document in parser state ${this.state}`);
    }
  }

  private onPreludeEntry(doc: Map<string, BsonScalar>, off: number): void {
    const db = doc.get('db');
    const collection = doc.get('collection');
    if (typeof db !== 'string' || typeof collection !== 'string' || collection === '') {
      throw this.fail('prelude entry lacks a string db and a non-empty collection', off);
    }
    const ns = displayNs(db, collection);
    const key = nsKey(db, collection);
    if (this.preludeKeys.has(key)) throw this.fail('namespace appears twice in the prelude', off, ns);
    this.preludeKeys.add(key);
    const metadata = doc.get('metadata');
    const type = doc.get('type');
    let metadataValid = false;
    let indexes: number | undefined;
    let viewOn = false;
    if (typeof metadata === 'string' && metadata !== '') {
      let parsed: unknown;
      try {
        parsed = JSON.parse(metadata);
      } catch (error) {
        throw this.fail(
          `invalid metadata JSON in the prelude entry: ${(error as Error).message}; mongorestore would refuse this archive`,
          off,
          ns,
        );
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        throw this.fail('invalid metadata JSON in the prelude entry: not an object', off, ns);
      }
      metadataValid = true;
      const m = parsed as { indexes?: unknown; options?: { viewOn?: unknown } };
      if (Array.isArray(m.indexes)) indexes = m.indexes.length;
      viewOn = typeof m.options?.viewOn === 'string';
    }
    this.prelude.push({
      db,
      collection,
      type: typeof type === 'string' ? type : '',
      metadataValid,
      indexes,
      viewOn,
    });
  }

  /** Turns the prelude into the set of data namespaces that must each reach EOF. */
  private expectPreludeNamespaces(): void {
    const bucketsUnderOwnName = serverAtLeast(this.header?.get('server_version'), 8, 3);
    for (const entry of this.prelude) {
      let type: MongoNamespaceReport['type'];
      let collection = entry.collection;
      const aliases: string[] = [];
      if (entry.db === '' && entry.collection === 'oplog') type = 'oplog';
      else if (entry.type === 'timeseries') {
        type = 'timeseries';
        const buckets = `system.buckets.${entry.collection}`;
        collection = bucketsUnderOwnName ? entry.collection : buckets;
        aliases.push(bucketsUnderOwnName ? buckets : entry.collection);
      } else if (entry.type === 'view' || entry.viewOn) type = 'view';
      else if (entry.type === 'collection' || entry.type === '') type = 'collection';
      else type = 'unknown';
      const state = this.addNamespace(entry.db, collection, type, true);
      state.report.metadataValid = entry.metadataValid;
      if (entry.indexes !== undefined) state.report.indexes = entry.indexes;
      for (const alias of aliases) {
        const key = nsKey(entry.db, alias);
        if (!this.namespaces.has(key)) this.namespaces.set(key, state);
      }
    }
  }

  private addNamespace(
    db: string,
    collection: string,
    type: MongoNamespaceReport['type'],
    expected: boolean,
  ): NamespaceState {
    const state: NamespaceState = {
      report: {
        db,
        collection,
        ns: displayNs(db, collection),
        type,
        documents: 0,
        bytes: 0,
        crc: '',
        metadataValid: false,
      },
      crc: new Crc64(),
      status: 'unopened',
      expected,
    };
    this.namespaces.set(nsKey(db, collection), state);
    this.order.push(state);
    return state;
  }

  private onNamespaceHeader(doc: Map<string, BsonScalar>, off: number): void {
    const db = doc.get('db');
    const collection = doc.get('collection');
    if (typeof db !== 'string' || typeof collection !== 'string' || collection === '') {
      throw this.fail('namespace header lacks a string db and a non-empty collection', off);
    }
    let state = this.namespaces.get(nsKey(db, collection));
    if (state === undefined) state = this.addNamespace(db, collection, 'unknown', false);
    else if (state.report.collection !== collection) {
      // A time-series collection's data arrived under its alternative name.
      state.report.collection = collection;
      state.report.ns = displayNs(db, collection);
    }
    const ns = state.report.ns;
    if (state.status === 'closed')
      throw this.fail('namespace header after the namespace reached EOF', off, ns);
    state.status = 'open';
    this.current = state;
    if (doc.get('EOF') !== true) {
      this.state = 'body';
      return;
    }
    const stored = doc.get('CRC');
    const storedHex = BigInt.asUintN(64, typeof stored === 'bigint' ? stored : 0n)
      .toString(16)
      .padStart(16, '0');
    const actual = state.crc.hex();
    state.report.crc = actual;
    state.report.crcStored = storedHex;
    if (storedHex !== actual) {
      throw this.fail(
        `CRC mismatch: the EOF header says ${storedHex}, the ${state.report.documents} documents (${state.report.bytes} bytes) give ${actual}; the namespace's data is corrupt`,
        off,
        ns,
      );
    }
    state.status = 'closed';
    this.state = 'eofTerminator';
  }
}

function nsKey(db: string, collection: string): string {
  return `${db}\u0000${collection}`;
}

/** mongo-tools names the `--oplog` stream ".oplog"; "oplog" reads better and cannot clash. */
function displayNs(db: string, collection: string): string {
  return db === '' ? collection : `${db}.${collection}`;
}

/** True when a server version string such as "8.3.0-rc1" is at least major.minor. */
export function serverAtLeast(version: BsonScalar | undefined, major: number, minor: number): boolean {
  if (typeof version !== 'string') return false;
  const m = /^(\d+)\.(\d+)/.exec(version);
  if (!m) return false;
  const a = Number(m[1]);
  const b = Number(m[2]);
  return a > major || (a === major && b >= minor);
}
