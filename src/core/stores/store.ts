import type { Readable } from 'node:stream';

import type { TransientChunks } from '../bundle/stream-utils.js';

/** One complete object in a store. Partial uploads are never listed. */
export interface StoredObject {
  key: string;
  sizeBytes: number;
  /** Store-side modification time; informative only: newest resolution never uses it. */
  modifiedAt?: Date;
}

export interface PutOptions {
  /** Small string metadata (e.g. the manifest summary); stores that have none may ignore it. */
  metadata?: Record<string, string>;
  /** Refuse to replace an existing object (bundles are immutable). Default true. */
  noOverwrite?: boolean;
}

export interface PutResult {
  key: string;
  sizeBytes: number;
  /** Hex sha256 of exactly the bytes stored, computed while streaming. */
  sha256: string;
  /** Where the object is, for humans and outputs (a path, an s3:// URI). */
  location: string;
}

/**
 * Where bundles live. Every method streams: a bundle is never held in memory. `put` is atomic:
 * until it resolves, nothing under `key` is listed or readable, and a failed or killed put
 * leaves nothing that `list` reports.
 */
export interface Store {
  /** The store URI as the user wrote it, with any credentials removed. */
  readonly displayUri: string;
  put(key: string, body: Readable, options?: PutOptions): Promise<PutResult>;
  /**
   * `put` from chunks each valid only until the next is asked for (the producer refills one
   * buffer): for stores that write or copy every chunk at once. A store that would keep chunks
   * leaves it out, and gets a stream through `put`.
   */
  putChunks?(key: string, chunks: AsyncIterable<Buffer>, options?: PutOptions): Promise<PutResult>;
  get(key: string): Promise<Readable>;
  /**
   * `get` as chunks of one reused buffer, each valid only until the next is asked for: for a store
   * that reads a local file (no fresh buffer per read). Same errors as `get`.
   */
  getChunks?(key: string): Promise<TransientChunks>;
  /** Complete objects whose key starts with prefix, in no particular order, all pages. */
  list(prefix: string): Promise<StoredObject[]>;
  /** Idempotent: deleting a missing key is not an error. */
  delete(key: string): Promise<void>;
  /** Fails with a ConfigError when bundles cannot be written here; called before a backup dumps anything. */
  checkWritable?(): Promise<void>;
  /** Refuses (ConfigError) a bundle this store must not hold, e.g. plain secret files where anyone can read; called before dumping. */
  checkBundle?(bundle: { secretFiles: number; encrypted: boolean }): void;
  /** A local file path for the object when the store has one (saves a copy for seekable reads). */
  localPath?(key: string): string | undefined;
  /** Small text objects (drill history); read returns undefined when absent. */
  readText(key: string): Promise<string | undefined>;
  writeText(key: string, text: string): Promise<void>;
}
