/**
 * What a (decrypted) stored object holds, told by its first bytes: a bare pg_dump custom-format
 * file, a bare mongodump archive, or a dbdrill bundle (a tar), each inspected by its own walk.
 */
import type { Readable } from 'node:stream';

import { isMongoArchive } from '../engines/mongodb/archive-reader.js';
import { inspectMongoStream } from '../engines/mongodb/inspect.js';
import { inspectPgDumpStream } from '../engines/postgres/inspect.js';
import { isPgDump } from '../engines/postgres/pgdump-reader.js';
import { inspectBundleMembers } from './bundle-members.js';
import { openExtract } from './extract.js';
import type { InspectDeps, InspectOptions, VerifyResult } from './types.js';

export async function inspectContents(
  deps: InspectDeps,
  options: InspectOptions,
  result: VerifyResult,
  head: Buffer,
  stream: Readable,
): Promise<void> {
  if (isPgDump(head)) return inspectBarePgDump(deps, options, result, stream);
  if (isMongoArchive(head)) return inspectBareMongoArchive(deps, options, result, head, stream);
  if (head.length < 512 || head.subarray(257, 262).toString('latin1') !== 'ustar') {
    result.layers.push({
      name: 'bundle readable',
      ok: false,
      detail:
        head.length === 0
          ? 'the file is empty'
          : 'not a dbdrill bundle (a tar archive) nor a pg_dump custom-format file nor a mongodump archive; check the path',
    });
    return;
  }
  result.kind = 'bundle';
  await inspectBundleMembers(deps, options, result, stream);
}

async function inspectBarePgDump(
  deps: InspectDeps,
  options: InspectOptions,
  result: VerifyResult,
  stream: Readable,
): Promise<void> {
  result.kind = 'bare-pg-dump';
  result.layers.push({
    name: 'bundle readable',
    ok: true,
    detail: 'a bare pg_dump custom-format file (no dbdrill manifest)',
  });
  const sink = options.extractTo
    ? await openExtract(options.extractTo, 'postgres.dump', (result.extracted = {}))
    : undefined;
  const inspected = await inspectPgDumpStream(
    deps,
    stream,
    'pg_dump file',
    { deep: options.deep || !!options.deepForBareDumps, pgBinDir: options.pgBinDir },
    sink,
  );
  result.pgDump = inspected.summary;
  result.layers.push(...inspected.layers, {
    name: 'manifest',
    ok: true,
    skipped: true,
    detail:
      'not applicable: a bare pg_dump file has no manifest, so member checksums, table counts and secret files are not checked',
  });
}

async function inspectBareMongoArchive(
  deps: InspectDeps,
  options: InspectOptions,
  result: VerifyResult,
  head: Buffer,
  stream: Readable,
): Promise<void> {
  result.kind = 'bare-mongo-archive';
  result.layers.push({
    name: 'bundle readable',
    ok: true,
    detail: 'a bare mongodump archive (no dbdrill manifest)',
  });
  const member = head[0] === 0x1f ? 'mongodb.archive.gz' : 'mongodb.archive';
  const sink = options.extractTo
    ? await openExtract(options.extractTo, member, (result.extracted = {}))
    : undefined;
  const inspected = await inspectMongoStream(stream, 'mongodump archive', sink, deps.signal);
  if (inspected.summary) result.mongo = [{ ...inspected.summary, member }];
  result.layers.push(...inspected.layers, {
    name: 'manifest',
    ok: true,
    skipped: true,
    detail:
      'not applicable: a bare mongodump archive has no manifest, so member checksums, recorded counts and secret files are not checked',
  });
}
