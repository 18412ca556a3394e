/**
 * The node_exporter textfile collector's side of the metrics: a `.prom` file node_exporter reads
 * on every scrape. Two rules shape this module. The file is replaced atomically (temp file in the
 * same directory, then rename), because node_exporter may read it at any moment and a half-written
 * file is a scrape error. And the file is merged, not overwritten: a failed run keeps the
 * last-success time (and any number it did not measure) from before, and the samples of other
 * names or jobs sharing the file stay, so backup and drill can point at one file.
 */
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

import type { Outcome } from './outcome.js';
import {
  outcomeSamples,
  parseExposition,
  renderExposition,
  sameLabels,
  type Labels,
} from './prometheus-text.js';

/** The file-system port: reading the previous file and replacing it in one step. */
export interface TextFileIo {
  /** The file's text, or undefined when it does not exist. */
  read(path: string): Promise<string | undefined>;
  /** Replaces the file so that readers see the old or the new text, never a mix. */
  writeAtomic(path: string, text: string): Promise<void>;
}

export const nodeTextFileIo: TextFileIo = {
  async read(path) {
    try {
      return await readFile(path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  },
  async writeAtomic(path, text) {
    // Not *.prom: node_exporter only reads *.prom, so it never sees the temp file.
    const temp = join(
      dirname(path),
      `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
    );
    try {
      // 0644: node_exporter usually runs as another user, and metrics hold no secrets.
      const fh = await open(temp, 'wx', 0o644);
      try {
        await fh.writeFile(text, 'utf8');
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(temp, path);
    } catch (e) {
      await unlink(temp).catch(() => undefined);
      throw e;
    }
  },
};

/** Merges this outcome's samples into the file at `path` and replaces it; returns the text written. */
export async function writeMetricsFile(
  io: TextFileIo,
  path: string,
  outcome: Outcome,
  labels: Labels,
  finishedAt: Date,
): Promise<string> {
  const fresh = outcomeSamples(outcome, finishedAt, labels);
  const previous = parseExposition((await io.read(path)) ?? '');
  const replaced = new Set(fresh.map((s) => s.name));
  const kept = previous.filter((s) => !(sameLabels(s.labels, labels) && replaced.has(s.name)));
  const text = renderExposition([...kept, ...fresh]);
  await io.writeAtomic(path, text);
  return text;
}
