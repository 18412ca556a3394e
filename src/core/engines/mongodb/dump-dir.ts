import { createReadStream } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip, gunzipSync } from 'node:zlib';
import { checkBsonDocument, MAX_BSON_SIZE } from './bson-walk.js';
import { Crc64 } from './crc64.js';
import { MongoArchiveError, type MongoDumpDirReport, type MongoNamespaceReport } from './archive-types.js';

const DATA_RE = /^(.*)\.bson(\.gz)?$/;
const META_RE = /^(.*)\.metadata\.json(\.gz)?$/;

interface CollectionFiles {
  data?: string;
  metadata?: string;
}

interface ParsedMetadata {
  collectionName?: unknown;
  type?: unknown;
  indexes?: unknown;
  options?: { viewOn?: unknown; timeseries?: unknown };
}

/**
 * Reads a `mongodump --out` directory (optionally `--gzip`, one gzip member per file): every
 * `<db>/<collection>.bson[.gz]` is framed, walked and checksummed document by document, every
 * `.metadata.json[.gz]` must parse, and `prelude.json` (mongo-tools >= 100.12) supplies the
 * versions. The layout has no stored checksums, so `crc` is reported as a fingerprint only.
 */
export async function readMongoDumpDir(
  dir: string,
  options: { signal?: AbortSignal } = {},
): Promise<MongoDumpDirReport> {
  const top = await readdir(dir, { withFileTypes: true });
  const namespaces: MongoNamespaceReport[] = [];
  let compressed = false;
  let bytesRead = 0;
  let serverVersion: string | undefined;
  let toolVersion: string | undefined;

  const prelude = top.find((e) => e.isFile() && /^prelude\.json(\.gz)?$/.test(e.name));
  if (prelude) {
    const path = join(dir, prelude.name);
    const text = await readMaybeGzip(path);
    bytesRead += text.length;
    compressed ||= path.endsWith('.gz');
    try {
      const parsed = JSON.parse(text.toString('utf8')) as { ServerVersion?: unknown; ToolVersion?: unknown };
      if (typeof parsed.ServerVersion === 'string' && parsed.ServerVersion !== '')
        serverVersion = parsed.ServerVersion;
      if (typeof parsed.ToolVersion === 'string' && parsed.ToolVersion !== '')
        toolVersion = parsed.ToolVersion;
    } catch (error) {
      throw new MongoArchiveError(`${path}: invalid JSON in prelude.json: ${(error as Error).message}`, 0);
    }
  }

  const dbs = top.filter((e) => e.isDirectory()).map((e) => e.name);
  dbs.sort();
  for (const db of dbs) {
    const files = new Map<string, CollectionFiles>();
    const entries = await readdir(join(dir, db), { withFileTypes: true });
    for (const entry of entries) {
      if (!entry.isFile()) continue;
      const meta = META_RE.exec(entry.name);
      const data = meta ? null : DATA_RE.exec(entry.name);
      const match = meta ?? data;
      if (!match) continue;
      const files1 = files.get(match[1]) ?? {};
      if (meta) files1.metadata = entry.name;
      else files1.data = entry.name;
      files.set(match[1], files1);
    }
    const names = [...files.keys()].sort();
    // Time-series data lives in system.buckets.<name>.bson beside <name>.metadata.json.
    const consumed = new Set<string>();
    for (const name of names) {
      if (consumed.has(name)) continue;
      const f = files.get(name)!;
      let metadata: ParsedMetadata | undefined;
      let metadataValid = false;
      let collection = unescapeName(name);
      if (f.metadata !== undefined) {
        const path = join(dir, db, f.metadata);
        compressed ||= path.endsWith('.gz');
        const text = await readMaybeGzip(path);
        bytesRead += text.length;
        metadata = parseMetadata(path, text, `${db}.${collection}`);
        metadataValid = true;
        if (typeof metadata.collectionName === 'string' && metadata.collectionName !== '') {
          collection = metadata.collectionName;
        }
      }
      let type: MongoNamespaceReport['type'] = 'collection';
      let dataFile = f.data;
      let dataCollection = collection;
      if (metadata?.type === 'timeseries' || (metadata?.options?.timeseries !== undefined && !f.data)) {
        type = 'timeseries';
        const bucketsKey = `system.buckets.${name}`;
        const buckets = files.get(bucketsKey);
        if (buckets?.data !== undefined && f.data === undefined) {
          dataFile = buckets.data;
          dataCollection = `system.buckets.${collection}`;
          if (buckets.metadata === undefined) consumed.add(bucketsKey);
        }
      } else if (metadata?.type === 'view' || typeof metadata?.options?.viewOn === 'string') {
        type = 'view';
      } else if (
        metadata !== undefined &&
        typeof metadata.type === 'string' &&
        metadata.type !== 'collection'
      ) {
        type = 'unknown';
      }
      const report: MongoNamespaceReport = {
        db,
        collection: dataCollection,
        ns: `${db}.${dataCollection}`,
        type,
        documents: 0,
        bytes: 0,
        crc: new Crc64().hex(),
        metadataValid,
      };
      if (Array.isArray(metadata?.indexes)) report.indexes = metadata.indexes.length;
      if (dataFile !== undefined) {
        const path = join(dir, db, dataFile);
        compressed ||= path.endsWith('.gz');
        const counted = await readBsonFile(path, report.ns, options.signal);
        Object.assign(report, { documents: counted.documents, bytes: counted.bytes, crc: counted.crc });
        bytesRead += counted.bytes;
      } else if (type !== 'view') {
        throw new MongoArchiveError(
          `${join(dir, db, f.metadata!)}: namespace ${report.ns} has metadata but no ${name}.bson data file; the dump is incomplete`,
          0,
          report.ns,
        );
      }
      namespaces.push(report);
    }
  }

  const oplog = top.find((e) => e.isFile() && /^oplog\.bson(\.gz)?$/.test(e.name));
  if (oplog) {
    const path = join(dir, oplog.name);
    compressed ||= path.endsWith('.gz');
    const counted = await readBsonFile(path, 'oplog', options.signal);
    bytesRead += counted.bytes;
    namespaces.push({
      db: '',
      collection: 'oplog',
      ns: 'oplog',
      type: 'oplog',
      ...counted,
      metadataValid: false,
    });
  }

  if (namespaces.length === 0) {
    throw new MongoArchiveError(
      `${dir}: not a mongodump directory: no <db>/<collection>.bson or .metadata.json files (expected the layout of mongodump --out)`,
      0,
    );
  }
  return {
    format: 'directory',
    compressed,
    serverVersion,
    toolVersion,
    namespaces,
    totalDocuments: namespaces.reduce((n, ns) => n + ns.documents, 0),
    bytesRead,
  };
}

/** mongodump escapes collection names for file names with Go's url.PathEscape. */
function unescapeName(name: string): string {
  try {
    return decodeURIComponent(name);
  } catch {
    return name;
  }
}

function parseMetadata(path: string, text: Buffer, ns: string): ParsedMetadata {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.toString('utf8'));
  } catch (error) {
    throw new MongoArchiveError(
      `${path}: invalid metadata JSON for namespace ${ns}: ${(error as Error).message}`,
      0,
      ns,
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new MongoArchiveError(`${path}: invalid metadata JSON for namespace ${ns}: not an object`, 0, ns);
  }
  return parsed as ParsedMetadata;
}

/** Metadata and prelude files are small (kilobytes), so they are read whole. */
async function readMaybeGzip(path: string): Promise<Buffer> {
  const raw = await readFile(path);
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      return gunzipSync(raw);
    } catch (error) {
      throw new MongoArchiveError(`${path}: corrupt gzip file (${(error as Error).message})`, 0);
    }
  }
  return raw;
}

/** Streams a file of concatenated BSON documents (plain or gzip), validating and checksumming each. */
async function readBsonFile(
  path: string,
  ns: string,
  signal: AbortSignal | undefined,
): Promise<{ documents: number; bytes: number; crc: string }> {
  const crc = new Crc64();
  let documents = 0;
  let pos = 0; // offset of the next unconsumed byte in the (decompressed) file
  let pend: Buffer | undefined;
  let pendFill = 0;

  const fail = (message: string, offset: number): MongoArchiveError =>
    new MongoArchiveError(`${path}: ${message} (namespace ${ns}) at byte ${offset}`, offset, ns);

  const onDoc = (buf: Buffer, p: number, size: number, off: number): void => {
    const fault = checkBsonDocument(buf, p, size);
    if (fault)
      throw fail(`malformed BSON document: ${fault.reason} (document byte ${fault.at})`, off + fault.at);
    crc.update(buf, p, p + size);
    documents++;
  };
  const sizeAt = (buf: Buffer, p: number, off: number): number => {
    const size = buf.readInt32LE(p);
    if (size < 5 || size > MAX_BSON_SIZE) throw fail(`${size} is not a valid BSON document length`, off);
    return size;
  };

  const consume = (chunk: Buffer): void => {
    let p = 0;
    if (pend !== undefined) {
      // Complete the length, then the document, from this chunk.
      if (pendFill < 4) {
        const take = Math.min(4 - pendFill, chunk.length);
        chunk.copy(pend, pendFill, 0, take);
        pendFill += take;
        p = take;
        if (pendFill < 4) return;
        const size = sizeAt(pend, 0, pos);
        const grown = Buffer.allocUnsafe(size);
        pend.copy(grown, 0, 0, 4);
        pend = grown;
      }
      const take = Math.min(pend.length - pendFill, chunk.length - p);
      chunk.copy(pend, pendFill, p, p + take);
      pendFill += take;
      p += take;
      if (pendFill < pend.length) return;
      onDoc(pend, 0, pend.length, pos);
      pos += pend.length;
      pend = undefined;
    }
    while (p < chunk.length) {
      const avail = chunk.length - p;
      if (avail < 4) {
        pend = Buffer.allocUnsafe(4);
        chunk.copy(pend, 0, p);
        pendFill = avail;
        return;
      }
      const size = sizeAt(chunk, p, pos);
      if (avail < size) {
        pend = Buffer.allocUnsafe(size);
        chunk.copy(pend, 0, p);
        pendFill = avail;
        return;
      }
      onDoc(chunk, p, size, pos);
      pos += size;
      p += size;
    }
  };

  const gz = path.endsWith('.gz');
  const sink = async (source: AsyncIterable<Buffer>): Promise<void> => {
    for await (const chunk of source) consume(chunk);
  };
  try {
    if (gz) {
      await pipeline(createReadStream(path), createGunzip({ chunkSize: 256 * 1024 }), sink, { signal });
    } else {
      await pipeline(createReadStream(path, { highWaterMark: 256 * 1024 }), sink, { signal });
    }
  } catch (error) {
    if (error instanceof MongoArchiveError || signal?.aborted) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && code.startsWith('Z_')) {
      throw fail(`corrupt or truncated gzip file (${(error as Error).message})`, pos);
    }
    throw error;
  }
  if (pend !== undefined) {
    throw fail(`file is truncated: it ends inside a document (${pendFill} bytes of it present)`, pos);
  }
  return { documents, bytes: pos, crc: crc.hex() };
}
