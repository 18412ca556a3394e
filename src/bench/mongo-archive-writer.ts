/**
 * A minimal mongodump archive *writer* for tests and the bench (not part of the product): the
 * layout of mongo-tools' common/archive (magic, header, prelude, terminator, interleaved blocks,
 * EOF headers carrying the CRC-64 of each namespace's documents), with mongodb's own BSON
 * encoder, which is independent of the reader under test.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { createGzip } from 'node:zlib';
import { Binary, BSON, Long, ObjectId } from 'mongodb';

import { Crc64 } from '../core/engines/mongodb/crc64.js';

export const TERM = Buffer.from([0xff, 0xff, 0xff, 0xff]);

/** mongodb's BSON encoder, as a Buffer view. */
export function bson(doc: BSON.Document): Buffer {
  const u8 = BSON.serialize(doc);
  return Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);
}

export interface PreludeSpec {
  db: string;
  collection: string;
  metadata?: string;
  type?: string;
}

export class ArchiveWriter {
  private readonly parts: Buffer[] = [];
  private readonly crcs = new Map<string, Crc64>();

  constructor(
    private readonly sink?: (b: Buffer) => void,
    header: { server_version?: string; tool_version?: string } = {},
  ) {
    this.raw(Buffer.from([0x6d, 0xe2, 0x99, 0x81]));
    this.raw(
      bson({
        concurrent_collections: 4,
        version: '0.1',
        server_version: header.server_version ?? '7.0.14',
        tool_version: header.tool_version ?? '100.10.0',
      }),
    );
  }

  raw(b: Buffer): void {
    if (this.sink) this.sink(b);
    else this.parts.push(b);
  }

  prelude(entries: PreludeSpec[]): void {
    for (const e of entries) {
      this.raw(
        bson({
          db: e.db,
          collection: e.collection,
          metadata: e.metadata ?? '',
          size: 0,
          ...(e.type ? { type: e.type } : {}),
        }),
      );
    }
    this.raw(TERM);
  }

  segment(db: string, collection: string, docs: Buffer[]): void {
    const key = `${db}.${collection}`;
    const crc = this.crcs.get(key) ?? new Crc64();
    this.crcs.set(key, crc);
    this.raw(bson({ db, collection, EOF: false, CRC: Long.fromNumber(0) }));
    for (const d of docs) {
      crc.update(d);
      this.raw(d);
    }
    this.raw(TERM);
  }

  eof(db: string, collection: string, terminate = true): void {
    const crc = this.crcs.get(`${db}.${collection}`) ?? new Crc64();
    this.raw(bson({ db, collection, EOF: true, CRC: Long.fromBigInt(BigInt.asIntN(64, crc.value())) }));
    if (terminate) this.raw(TERM);
  }

  buffer(): Buffer {
    return Buffer.concat(this.parts);
  }
}

const WORDS = 'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor'.split(' ');

/** A realistic document (nested object, array, dates, longs, binary) of a few hundred bytes. */
export function benchDocument(n: number): Buffer {
  return bson({
    _id: new ObjectId(),
    n,
    total: n * 1.25,
    big: Long.fromNumber(n * 1_000_003),
    at: new Date(1_700_000_000_000 + n),
    customer: { name: `customer ${n % 9973}`, email: `c${n % 9973}@example.com`, tier: n % 3 },
    tags: [WORDS[n % WORDS.length], WORDS[(n * 7) % WORDS.length]],
    note: WORDS.slice(0, 4 + (n % 9))
      .join(' ')
      .repeat(1 + (n % 4)),
    flag: n % 2 === 0,
    blob: new Binary(Buffer.alloc(16, n & 0xff)),
  });
}

export interface SyntheticArchive {
  /** Documents per namespace (`bench.orders`, ...). */
  counts: Record<string, number>;
  documents: number;
  /** Uncompressed archive bytes. */
  bytes: number;
}

/**
 * Writes a valid archive of about `mb` MiB of documents (uncompressed) over four interleaved
 * collections of database `db`; gzipped (like `mongodump --archive --gzip`) when the path ends
 * in `.gz`. Streams to disk, so any size fits in memory. Used by `npm run bench`
 * (src/bench/main.ts) and the tests.
 */
export async function writeSyntheticArchive(
  path: string,
  mb: number,
  db = 'bench',
): Promise<SyntheticArchive> {
  const file = createWriteStream(path, { mode: 0o600 });
  const gzip = path.endsWith('.gz') ? createGzip({ level: 6 }) : undefined;
  if (gzip) gzip.pipe(file);
  const out = gzip ?? file;
  let batch: Buffer[] = [];
  let batchLen = 0;
  let bytes = 0;
  const pending: Buffer[] = [];
  const w = new ArchiveWriter((b) => {
    batch.push(b);
    batchLen += b.length;
    bytes += b.length;
    if (batchLen >= 1 << 20) {
      pending.push(Buffer.concat(batch));
      batch = [];
      batchLen = 0;
    }
  });
  const drain = async () => {
    for (const chunk of pending.splice(0)) if (!out.write(chunk)) await once(out, 'drain');
  };
  const nss = ['orders', 'users', 'events', 'sessions'];
  w.prelude(
    nss.map((c) => ({ db, collection: c, metadata: '{"options":{},"indexes":[]}', type: 'collection' })),
  );
  const counts: Record<string, number> = Object.fromEntries(nss.map((c) => [`${db}.${c}`, 0]));
  const target = mb * 1024 * 1024;
  let written = 0;
  let n = 0;
  while (written < target) {
    const c = nss[Math.floor(n / 200) % nss.length];
    const seg: Buffer[] = [];
    for (let k = 0; k < 200; k++, n++) {
      const d = benchDocument(n);
      seg.push(d);
      written += d.length;
    }
    counts[`${db}.${c}`] += seg.length;
    w.segment(db, c, seg);
    await drain();
  }
  for (const c of nss) w.eof(db, c);
  pending.push(Buffer.concat(batch));
  await drain();
  out.end();
  await once(file, 'close');
  return { counts, documents: n, bytes };
}
