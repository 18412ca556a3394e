/**
 * The bundle container is a plain POSIX tar (ustar, pax for long names) so that GNU tar and
 * every operator's muscle memory can open it without dbdrill.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar-stream';

import { isSafeMemberPath } from './manifest.js';

export type PackEntry = { path: string; mtime: Date } & ({ file: string } | { content: Buffer });

/**
 * Writes the entries as a tar stream, in order, one file at a time. Returns the readable side
 * at once; errors in any file surface as an error on the returned stream.
 */
export function packBundle(entries: PackEntry[]): Readable {
  const pack = tar.pack();
  (async () => {
    for (const entry of entries) {
      if ('content' in entry) {
        await new Promise<void>((resolve, reject) =>
          pack.entry(
            { name: entry.path, mode: 0o600, mtime: entry.mtime, type: 'file' },
            entry.content,
            (err) => (err ? reject(err) : resolve()),
          ),
        );
      } else {
        const { size } = await stat(entry.file);
        let done!: (e?: Error | null) => void;
        const finished = new Promise<void>((resolve, reject) => {
          done = (e) => (e ? reject(e) : resolve());
        });
        const sink = pack.entry(
          { name: entry.path, mode: 0o600, mtime: entry.mtime, size, type: 'file' },
          done,
        );
        await pipeline(createReadStream(entry.file, { highWaterMark: 1 << 20 }), sink);
        await finished;
      }
    }
    pack.finalize();
  })().catch((err: Error) => pack.destroy(err));
  return pack as unknown as Readable;
}

export interface TarEntry {
  path: string;
  size: number;
  type: string;
  stream: Readable;
}

export class BundleFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BundleFormatError';
  }
}

/**
 * Walks a tar stream entry by entry. Each entry's data must be consumed (or drained) by the
 * handler before the next is read. Member names that could escape a directory, links and
 * devices are rejected before the handler sees them: nothing is ever written outside a work dir.
 */
export async function walkTar(input: Readable, handler: (entry: TarEntry) => Promise<void>): Promise<number> {
  const extract = tar.extract();
  let count = 0;
  let feedError: Error | undefined;
  const feed = pipeline(input, extract as unknown as NodeJS.WritableStream).catch((err: Error) => {
    feedError = err;
  });
  try {
    for await (const entry of extract as unknown as AsyncIterable<Readable & { header: tar.Header }>) {
      const header = entry.header;
      const path = header.name.replace(/^\.\//, '');
      if (header.type === 'directory') {
        entry.resume();
        continue;
      }
      if (header.type !== 'file' && header.type !== 'contiguous-file') {
        entry.resume();
        throw new BundleFormatError(
          `bundle member "${path}" is a ${header.type}; bundles hold regular files only`,
        );
      }
      if (!isSafeMemberPath(path)) {
        entry.resume();
        throw new BundleFormatError(
          `bundle member "${path}" has an unsafe path (absolute or with ".."); refusing to read this bundle`,
        );
      }
      count++;
      await handler({ path, size: header.size ?? 0, type: header.type, stream: entry });
      // a handler that did not consume everything still lets the walk continue
      entry.resume();
    }
  } catch (err) {
    if (err instanceof BundleFormatError) throw err;
    throw new BundleFormatError(describeTarError(err as Error));
  }
  await feed;
  if (feedError) throw new BundleFormatError(describeTarError(feedError));
  return count;
}

function describeTarError(err: Error): string {
  const msg = err.message || String(err);
  if (/unexpected end|premature|aborted|truncat/i.test(msg)) return `bundle is truncated: ${msg}`;
  if (/invalid tar header|checksum/i.test(msg)) return `bundle is not a valid tar archive (${msg})`;
  return `bundle cannot be read as tar: ${msg}`;
}
