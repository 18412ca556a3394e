import { close, open, write } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, resolve, sep } from 'node:path';
import { Writable } from 'node:stream';

import { BundleFormatError } from '../bundle/tar.js';
import { messageOf, EnvironmentFault } from '../errors.js';
import type { VerifyResult } from './types.js';

/**
 * A member could not be written to the work dir: a fault on this runner (its disk is full, or
 * the dir is not writable), not in the bundle. It makes the inspection inconclusive instead of
 * failing a layer that judges the bundle.
 */
export class ExtractFault extends EnvironmentFault {
  constructor(member: string, target: string, cause: unknown) {
    super(
      `could not write bundle member ${member} to ${target}: ${messageOf(cause)}. ` +
        `This is a fault on this runner, not in the bundle: ${remedyFor(cause, target)}`,
      { cause },
    );
    this.name = 'ExtractFault';
  }
}

function remedyFor(cause: unknown, target: string): string {
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  const where = `the work dir's file system (${dirname(target)})`;
  if (code === 'ENOSPC' || code === 'EDQUOT')
    return `${where} is full; free space there, or point RUNNER_TEMP (TMPDIR outside Actions) at a larger disk`;
  if (code === 'EROFS' || code === 'EACCES' || code === 'EPERM')
    return `${where} is not writable; point RUNNER_TEMP (TMPDIR outside Actions) at a writable dir`;
  return `check ${where}`;
}

/**
 * Opens the file a member is copied to while it is inspected (the drill restores from these), and
 * records it in `extracted`. A member name that would land outside `dir` is a malformed bundle.
 * Any error creating or writing the file is an ExtractFault, and the first one makes `result`
 * inconclusive the moment it happens (before the write's callback): the writers keep reading the
 * bundle for its hashes and do not themselves report a sink's error, so the inspection learns of
 * it here.
 */
export async function openExtract(
  dir: string,
  member: string,
  extracted: Record<string, string>,
  result: Pick<VerifyResult, 'inconclusive'>,
): Promise<Writable> {
  const root = resolve(dir);
  const target = resolve(root, member);
  if (!target.startsWith(root + sep))
    throw new BundleFormatError(`bundle member "${member}" would escape the work dir`);
  const fault = (err: unknown): ExtractFault => {
    const f = new ExtractFault(member, target, err);
    result.inconclusive ??= f.message;
    return f;
  };
  try {
    await mkdir(dirname(target), { recursive: true, mode: 0o700 });
  } catch (err) {
    throw fault(err);
  }
  extracted[member] = target;
  const file = new ExtractFile(target, fault);
  // the fault is in result.inconclusive; an unheard 'error' event would otherwise end the process
  file.on('error', () => undefined);
  return file;
}

/**
 * A file written chunk by chunk, as fs.WriteStream does, but whose errors become ExtractFaults
 * synchronously, in the failing write itself: fs.WriteStream emits its 'error' only after the
 * write's callback has run and the file is closed, too late for the walk to stop at that member.
 */
class ExtractFile extends Writable {
  private fd?: number;

  constructor(
    private readonly path: string,
    private readonly fault: (err: unknown) => Error,
  ) {
    super({ highWaterMark: 1 << 20 });
  }

  override _construct(callback: (err?: Error | null) => void): void {
    open(this.path, 'w', 0o600, (err, fd) => {
      if (err) return callback(this.fault(err));
      this.fd = fd;
      callback();
    });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    const fd = this.fd!;
    const writeFrom = (offset: number): void => {
      write(fd, chunk, offset, chunk.length - offset, null, (err, n) => {
        if (err) return callback(this.fault(err));
        if (offset + n < chunk.length) return writeFrom(offset + n);
        callback();
      });
    };
    writeFrom(0);
  }

  override _final(callback: (err?: Error | null) => void): void {
    const fd = this.fd;
    this.fd = undefined;
    if (fd === undefined) return callback();
    close(fd, (err) => callback(err ? this.fault(err) : null));
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    const fd = this.fd;
    this.fd = undefined;
    if (fd === undefined) return callback(err);
    close(fd, () => callback(err));
  }
}
