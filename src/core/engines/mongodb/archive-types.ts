import { CheckFailed } from '../../errors.js';

/** One namespace of a mongodump archive or dump directory, as verification reports it. */
export interface MongoNamespaceReport {
  db: string;
  collection: string;
  /** `db.collection`; the oplog of `--oplog` is reported as `oplog`. */
  ns: string;
  /**
   * From the prelude's `type` (mongo-tools >= 100.4) or, for older dumps, the metadata's
   * `options.viewOn`. A time-series collection is reported under the namespace that holds its
   * data (`db.system.buckets.<name>` before server 8.3), which is what mongorestore restores.
   */
  type: 'collection' | 'view' | 'timeseries' | 'oplog' | 'unknown';
  documents: number;
  /** Sum of the documents' BSON lengths. */
  bytes: number;
  /** CRC-64/XZ (Go `crc64.ECMA`) of the document bytes, 16 hex digits. */
  crc: string;
  /** The CRC the archive's EOF header carries (archives only); equal to `crc` when verified. */
  crcStored?: string;
  /** False only when there is no metadata to check; invalid metadata JSON fails the read. */
  metadataValid: boolean;
  /** Number of index definitions in the metadata, when it has an `indexes` array. */
  indexes?: number;
}

export interface MongoArchiveReport {
  format: 'archive';
  compressed: boolean;
  serverVersion?: string;
  toolVersion?: string;
  concurrentCollections?: number;
  namespaces: MongoNamespaceReport[];
  totalDocuments: number;
  /** Bytes of archive parsed (after decompression, when gzipped). */
  bytesRead: number;
}

/** The `--out` directory layout; `compressed` when its files are gzipped (`--gzip`). */
export interface MongoDumpDirReport extends Omit<MongoArchiveReport, 'format' | 'concurrentCollections'> {
  format: 'directory';
}

/**
 * A mongodump archive or dump directory that is malformed, truncated or fails its checksums.
 * It is a failed check (exit 1), so it extends CheckFailed; `offset` is the byte position in
 * the (decompressed) archive or in the named file where the problem was found.
 */
export class MongoArchiveError extends CheckFailed {
  constructor(
    message: string,
    readonly offset: number,
    readonly namespace?: string,
  ) {
    super(message);
    this.name = 'MongoArchiveError';
  }
}
