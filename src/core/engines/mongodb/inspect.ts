/**
 * Verify's MongoDB layers: one pass over an archive member that hashes it, writes it out for the
 * drill when asked, and reads it natively (every document, every namespace's CRC-64).
 */
import { createHash } from 'node:crypto';
import type { Readable, Writable } from 'node:stream';
import { finished } from 'node:stream/promises';

import { writeOwned } from '../../bundle/stream-utils.js';
import type { MongoComponent } from '../../bundle/manifest.js';
import { messageOf } from '../../errors.js';
import type { VerifyLayer } from '../../verify-layer.js';
import { readMongoArchive, type MongoArchiveReport } from './archive-reader.js';

export interface MongoArchiveSummary {
  member: string;
  compressed: boolean;
  serverVersion?: string;
  toolVersion?: string;
  namespaces: { ns: string; type: string; documents: number }[];
  totalDocuments: number;
}

export interface InspectedMongo {
  bytes: number;
  sha256: string;
  report?: MongoArchiveReport;
  summary?: MongoArchiveSummary;
  layers: VerifyLayer[];
}

export async function inspectMongoStream(
  input: Readable,
  member: string,
  sink: Writable | undefined,
  signal?: AbortSignal,
): Promise<InspectedMongo> {
  const hash = createHash('sha256');
  let bytes = 0;
  // A manual iterator: if the reader stops early (a bad archive), the rest is still hashed and
  // extracted below, and the enclosing tar walk keeps its stream.
  const it = input[Symbol.asyncIterator]();
  const take = async (): Promise<Buffer | undefined> => {
    const next = await it.next();
    if (next.done) return undefined;
    const buf = next.value as Buffer;
    hash.update(buf);
    bytes += buf.length;
    if (sink) await writeOwned(sink, buf);
    return buf;
  };
  const feed: AsyncIterable<Buffer> = {
    [Symbol.asyncIterator]: () => ({
      next: async () => {
        const buf = await take();
        return buf ? { done: false, value: buf } : { done: true, value: undefined };
      },
      return: async () => ({ done: true, value: undefined }),
    }),
  };
  const layers: VerifyLayer[] = [];
  let report: MongoArchiveReport | undefined;
  try {
    report = await readMongoArchive(feed, { name: member, signal });
  } catch (err) {
    layers.push({ name: 'mongodb archive', ok: false, detail: messageOf(err) });
  }
  while ((await take()) !== undefined) {
    /* the rest of the member, for its hash and the extracted copy */
  }
  if (sink) {
    sink.end();
    await finished(sink).catch(() => undefined);
  }
  let summary: MongoArchiveSummary | undefined;
  if (report) {
    summary = {
      member,
      compressed: report.compressed,
      serverVersion: report.serverVersion,
      toolVersion: report.toolVersion,
      namespaces: report.namespaces.map((n) => ({ ns: n.ns, type: n.type, documents: n.documents })),
      totalDocuments: report.totalDocuments,
    };
    const list = report.namespaces.map(
      (n) => `${n.ns} ${n.documents}${n.type !== 'collection' ? ` (${n.type})` : ''}`,
    );
    layers.push({
      name: 'mongodb archive',
      ok: true,
      detail:
        `${report.compressed ? 'gzip' : 'plain'} archive, server ${report.serverVersion ?? 'unknown'}, mongodump ${report.toolVersion ?? 'unknown'}; ` +
        `${report.namespaces.length} namespace(s), ${report.totalDocuments} document(s), every document and CRC-64 checked` +
        (list.length ? `: ${list.join(', ')}` : ''),
    });
  }
  return { bytes, sha256: hash.digest('hex'), report, summary, layers };
}

/** The manifest's counts (read from the archive at backup) against this read of it. */
export function collectionsLayer(component: MongoComponent, report: MongoArchiveReport): VerifyLayer {
  const got = new Map(report.namespaces.map((n) => [n.ns, n.documents]));
  const problems: string[] = [];
  for (const c of component.collections) {
    const n = got.get(c.ns);
    if (n === undefined) problems.push(`${c.ns} is in the manifest but not in the archive`);
    else if (n !== c.documents)
      problems.push(`${c.ns}: ${n} document(s) in the archive, ${c.documents} in the manifest`);
  }
  for (const ns of got.keys()) {
    if (!component.collections.some((c) => c.ns === ns))
      problems.push(`${ns} is in the archive but not in the manifest`);
  }
  return {
    name: 'collections match manifest',
    ok: problems.length === 0,
    detail: problems.length
      ? problems.slice(0, 10).join('; ') + (problems.length > 10 ? `; and ${problems.length - 10} more` : '')
      : `${component.collections.length} namespace(s), ${component.collections.reduce((n, c) => n + c.documents, 0)} document(s): equal to the counts recorded at backup`,
  };
}
