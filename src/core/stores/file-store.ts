import { randomBytes } from 'node:crypto';
import { constants as fsConstants, promises as fsp } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../errors.js';
import { OffThreadSha256 } from '../bundle/sha256-worker.js';
import { readFileTransient, TransientChunks } from '../bundle/stream-utils.js';
import type { Logger } from '../logger.js';
import type { PutOptions, PutResult, Store, StoredObject } from './store.js';
import { ObjectExistsError, ObjectNotFoundError, validateStoreKey } from './store-errors.js';

export interface FileStoreDeps {
  logger: Logger;
}

/** Marks in-flight uploads; `list` skips them, so a killed put never looks like a bundle. */
const PARTIAL_MARK = '.partial-';

/** Errors that mean "this place cannot be written", as opposed to a transient I/O failure. */
const NOT_WRITABLE = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOTDIR', 'EEXIST', 'ENOENT']);

/** Link errors that mean "hard links are not supported here" (some FUSE, SMB, and exotic mounts). */
const NO_LINK_SUPPORT = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV', 'EMLINK']);

function errno(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/**
 * A directory of bundles. Publication is atomic: bytes go to a hidden partial file, are
 * fsynced, and only then get their final name (a hard link, which cannot overwrite), so a
 * crash at any point leaves either nothing or a complete, durable bundle.
 */
export class FileStore implements Store {
  readonly displayUri: string;
  readonly dir: string;
  private readonly logger: Logger;
  private ready?: Promise<void>;

  constructor(location: string, deps: FileStoreDeps) {
    this.logger = deps.logger;
    this.displayUri = location;
    if (!location)
      throw new ConfigError('store is empty: give a directory path, file:///abs/dir, or s3://bucket/prefix');
    if (location.startsWith('file:')) {
      if (!location.startsWith('file:///')) {
        throw new ConfigError(
          `store "${location}" is not a usable file URI: write file:///absolute/dir (three slashes) or a plain path`,
        );
      }
      try {
        this.dir = fileURLToPath(location);
      } catch (error) {
        throw new ConfigError(
          `store "${location}" is not a valid file URI (${(error as Error).message}): use file:///absolute/dir`,
        );
      }
    } else {
      this.dir = path.resolve(location);
    }
  }

  private pathOf(key: string): string {
    return path.join(this.dir, validateStoreKey(key));
  }

  /** Creates the directory once, and turns "cannot write here" into an actionable message. */
  private ensureDir(): Promise<void> {
    this.ready ??= (async () => {
      try {
        await mkdirp(this.dir);
        const st = await fsp.stat(this.dir);
        if (!st.isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
        await fsp.access(this.dir, fsConstants.W_OK | fsConstants.X_OK);
      } catch (error) {
        this.ready = undefined;
        throw this.notWritable(error);
      }
    })();
    return this.ready;
  }

  /**
   * Proves before a backup dumps anything that a file can be created here: access(2) says yes to
   * root on a read-only mount, so a real probe file is written and removed.
   */
  async checkWritable(): Promise<void> {
    await this.ensureDir();
    const probe = path.join(this.dir, `.dbdrill-probe-${randomBytes(6).toString('hex')}`);
    try {
      await fsp.writeFile(probe, '', { mode: 0o600, flag: 'wx' });
    } catch (error) {
      throw this.notWritable(error);
    } finally {
      await fsp.unlink(probe).catch(() => undefined);
    }
  }

  private notWritable(error: unknown): Error {
    const code = errno(error);
    if (code && NOT_WRITABLE.has(code)) {
      return new ConfigError(
        `store directory ${this.dir} is not writable (${code}): check permissions or choose another store`,
      );
    }
    return error as Error;
  }

  async put(key: string, body: Readable, options: PutOptions = {}): Promise<PutResult> {
    try {
      return await this.putChunks(key, body, options);
    } finally {
      body.destroy();
    }
  }

  /**
   * Each chunk is written (and copied to the hash worker) before the next is asked for, so a
   * producer may refill one buffer for every chunk (`bundleChunks` with `reuseBuffers`).
   */
  async putChunks(key: string, chunks: AsyncIterable<Buffer>, options: PutOptions = {}): Promise<PutResult> {
    const finalPath = this.pathOf(key);
    await this.ensureDir();
    const partial = path.join(this.dir, `.${key}${PARTIAL_MARK}${randomBytes(6).toString('hex')}`);
    // the object's sha256 (its .sha256 sidecar) is taken on the shared worker, off the main thread
    const hash = new OffThreadSha256();
    let handle: fsp.FileHandle | undefined;
    try {
      try {
        handle = await fsp.open(partial, 'wx', 0o600);
      } catch (error) {
        throw this.notWritable(error);
      }
      // A plain write loop, not pipeline() into handle.createWriteStream({ autoClose: false }): that
      // pipeline never settled for piped tar/age bodies (the backup hung with the event loop empty),
      // and the handle must stay open for the fsync below.
      const flushing = new EarlyWriteback(handle);
      for await (const chunk of chunks) {
        const wait = hash.write(chunk);
        if (wait) await wait;
        await writeAll(handle, chunk);
        flushing.wrote(chunk.length);
      }
      await flushing.done();
      await handle.sync();
      await handle.close();
      handle = undefined;
      await this.publish(partial, finalPath, key, options.noOverwrite ?? true);
    } catch (error) {
      await handle?.close().catch(() => undefined);
      await fsp.unlink(partial).catch(() => undefined);
      throw error;
    }
    await this.syncDir();
    const sha256 = await hash.digest();
    this.logger.debug(`stored ${key} (${hash.bytes} bytes, sha256 ${sha256}) in ${this.dir}`);
    return { key, sizeBytes: hash.bytes, sha256, location: finalPath };
  }

  /** link(2) refuses an existing target atomically; rename is the fallback where links are unsupported. */
  private async publish(
    partial: string,
    finalPath: string,
    key: string,
    noOverwrite: boolean,
  ): Promise<void> {
    if (!noOverwrite) {
      await fsp.rename(partial, finalPath);
      return;
    }
    try {
      await fsp.link(partial, finalPath);
      await fsp.unlink(partial);
      return;
    } catch (error) {
      if (errno(error) === 'EEXIST') throw new ObjectExistsError(key, this.displayUri);
      if (!NO_LINK_SUPPORT.has(errno(error) ?? '')) throw error;
      this.logger.debug(`hard links unsupported in ${this.dir} (${errno(error)}); publishing with rename`);
    }
    // Not atomic against a concurrent writer of the same key, but keys carry the start time to the second.
    if (await exists(finalPath)) throw new ObjectExistsError(key, this.displayUri);
    await fsp.rename(partial, finalPath);
  }

  /** Makes the new directory entry durable; some platforms cannot fsync a directory, which is fine. */
  private async syncDir(): Promise<void> {
    let dirHandle: fsp.FileHandle | undefined;
    try {
      dirHandle = await fsp.open(this.dir, 'r');
      await dirHandle.sync();
    } catch (error) {
      this.logger.debug(`could not fsync ${this.dir}: ${errno(error) ?? (error as Error).message}`);
    } finally {
      await dirHandle?.close().catch(() => undefined);
    }
  }

  async get(key: string): Promise<Readable> {
    return (await this.openObject(key)).createReadStream({ highWaterMark: 1 << 19 });
  }

  async getChunks(key: string): Promise<TransientChunks> {
    return new TransientChunks(readFileTransient(await this.openObject(key)));
  }

  private async openObject(key: string): Promise<fsp.FileHandle> {
    try {
      return await fsp.open(this.pathOf(key), 'r');
    } catch (error) {
      if (errno(error) === 'ENOENT') throw new ObjectNotFoundError(key, this.displayUri);
      throw error;
    }
  }

  async list(prefix: string): Promise<StoredObject[]> {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await fsp.readdir(this.dir, { withFileTypes: true });
    } catch (error) {
      if (errno(error) === 'ENOENT' || errno(error) === 'ENOTDIR') throw await this.missing();
      throw error;
    }
    const out: StoredObject[] = [];
    for (const entry of entries) {
      if (!entry.isFile() || entry.name.startsWith('.') || !entry.name.startsWith(prefix)) continue;
      try {
        const st = await fsp.stat(path.join(this.dir, entry.name));
        out.push({ key: entry.name, sizeBytes: st.size, modifiedAt: st.mtime });
      } catch (error) {
        if (errno(error) !== 'ENOENT') throw error; // deleted meanwhile: simply not listed
      }
    }
    return out;
  }

  async delete(key: string): Promise<void> {
    try {
      await fsp.unlink(this.pathOf(key));
    } catch (error) {
      if (errno(error) !== 'ENOENT') throw error;
      return;
    }
    await this.syncDir();
  }

  localPath(key: string): string {
    return this.pathOf(key);
  }

  async readText(key: string): Promise<string | undefined> {
    try {
      return await fsp.readFile(this.pathOf(key), 'utf8');
    } catch (error) {
      // Lenient on purpose: appending to a history in a store not yet created reads first.
      if (errno(error) === 'ENOENT') return undefined;
      throw error;
    }
  }

  /**
   * Reading a store that is not there is a usage error, never "no bundles": a typo in the path
   * would otherwise look like an empty store (and `prune` or a drill would report on nothing).
   * Only writing (a backup) creates the directory.
   */
  private async missing(): Promise<ConfigError> {
    const what = (await fsp.stat(this.dir).catch(() => undefined)) ? 'is not a directory' : 'does not exist';
    const shown = this.displayUri === this.dir ? this.dir : `${this.displayUri} (${this.dir})`;
    return new ConfigError(
      `store ${shown} ${what}: check the store path (a backup creates it; list, verify, prune and drill only read it)`,
    );
  }

  async writeText(key: string, text: string): Promise<void> {
    await this.put(key, Readable.from([Buffer.from(text, 'utf8')]), { noOverwrite: false });
  }
}

/**
 * mkdir -p with mode 0700 on each created level. Not fs.mkdir({recursive}): on Node 20 that
 * never settles for some impossible paths (e.g. under /proc), which would hang a backup.
 */
async function mkdirp(dir: string): Promise<void> {
  try {
    await fsp.mkdir(dir, { mode: 0o700 });
    return;
  } catch (error) {
    if (errno(error) === 'EEXIST') return; // the caller checks that it is a directory
    if (errno(error) !== 'ENOENT') throw error;
  }
  const parent = path.dirname(dir);
  if (parent === dir) throw Object.assign(new Error(`cannot create ${dir}`), { code: 'ENOENT' });
  await mkdirp(parent);
  try {
    await fsp.mkdir(dir, { mode: 0o700 });
  } catch (error) {
    if (errno(error) !== 'EEXIST') throw error;
  }
}

/**
 * Starts the disk writing while the object is still being written: a `datasync` every
 * `WRITEBACK_EVERY` bytes, one at a time, beside the writes. With memory to spare the kernel
 * would otherwise hold the whole object dirty until the final fsync, and write all of it then.
 */
class EarlyWriteback {
  private pending = 0;
  private syncing?: Promise<void>;
  private failed?: unknown;
  constructor(private readonly handle: fsp.FileHandle) {}

  wrote(bytes: number): void {
    this.pending += bytes;
    if (this.pending < WRITEBACK_EVERY || this.syncing) return;
    this.pending = 0;
    this.syncing = this.handle.datasync().then(
      () => (this.syncing = undefined),
      (error: unknown) => {
        this.failed ??= error;
        this.syncing = undefined;
      },
    );
  }

  /** Waits for the datasync in flight; its error is the store's error (the final fsync would repeat it). */
  async done(): Promise<void> {
    await this.syncing;
    if (this.failed) throw this.failed;
  }
}

const WRITEBACK_EVERY = 64 * 1024 * 1024;

/** FileHandle.write may write less than asked; a short write must not truncate a bundle silently. */
async function writeAll(handle: fsp.FileHandle, chunk: Buffer): Promise<void> {
  let offset = 0;
  while (offset < chunk.length) {
    const { bytesWritten } = await handle.write(chunk, offset, chunk.length - offset);
    offset += bytesWritten;
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await fsp.lstat(file);
    return true;
  } catch (error) {
    if (errno(error) === 'ENOENT') return false;
    throw error;
  }
}
