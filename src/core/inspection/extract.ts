import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, resolve, sep } from 'node:path';
import type { Writable } from 'node:stream';

import { BundleFormatError } from '../bundle/tar.js';

/**
 * Opens the file a member is copied to while it is inspected (the drill restores from these), and
 * records it in `extracted`. A member name that would land outside `dir` is a malformed bundle.
 */
export async function openExtract(
  dir: string,
  member: string,
  extracted: Record<string, string>,
): Promise<Writable> {
  const root = resolve(dir);
  const target = resolve(root, member);
  if (!target.startsWith(root + sep))
    throw new BundleFormatError(`bundle member "${member}" would escape the work dir`);
  await mkdir(dirname(target), { recursive: true, mode: 0o700 });
  extracted[member] = target;
  return createWriteStream(target, { mode: 0o600 });
}
