/**
 * A bare `pg_dump -Fd` directory on disk, given to verify as its bundle: not a stored object, so
 * it skips the object, decryption and bundle layers and is read in place by the PostgreSQL
 * engine. Nothing is recorded beside it (it sits in no store).
 */
import { stat } from 'node:fs/promises';

import { inspectPgDumpDirectoryPath } from '../engines/postgres/directory-inspect.js';
import { isDumpDirectory } from '../engines/postgres/pgdump-directory.js';
import type { InspectDeps, InspectOptions, VerifyLayer, VerifyResult } from './types.js';

/** A local path (not a store URI) to a directory holding a pg_dump toc.dat. */
export async function isBareDumpDirectory(bundle: string | undefined): Promise<boolean> {
  return !!bundle && !/^[a-z][a-z0-9+.-]*:\/\//i.test(bundle) && (await isDumpDirectory(bundle));
}

export async function inspectDumpDirectory(
  deps: InspectDeps,
  dir: string,
  options: Pick<InspectOptions, 'deep' | 'maxAgeSeconds' | 'pgBinDir'>,
): Promise<VerifyResult> {
  const layers: VerifyLayer[] = [
    {
      name: 'bundle readable',
      ok: true,
      detail: 'a bare pg_dump directory-format dump (no dbdrill manifest)',
    },
  ];
  const out = await inspectPgDumpDirectoryPath(deps, dir, options);
  layers.push(...out.layers, {
    name: 'manifest',
    ok: true,
    skipped: true,
    detail:
      'not applicable: a bare pg_dump directory has no manifest, so member checksums, table counts and secret files are not checked',
  });
  const fromHeader = out.summary?.report.header.createdAt;
  const createdAt = fromHeader ?? (await stat(dir).catch(() => undefined))?.mtime;
  let ageSeconds: number | null = null;
  if (createdAt) {
    ageSeconds = Math.max(0, Math.round((deps.clock.now().getTime() - createdAt.getTime()) / 1000));
    const ok = options.maxAgeSeconds === undefined || ageSeconds <= options.maxAgeSeconds;
    layers.push({
      name: 'backup age',
      ok,
      detail:
        `${ageSeconds} s old (from ${fromHeader ? "the dump header's creation time" : "the directory's modification time"})` +
        (options.maxAgeSeconds === undefined
          ? '; no max-age set'
          : `, ${ok ? 'within' : 'over'} max-age ${options.maxAgeSeconds} s`),
    });
  }
  const problems = layers.filter((l) => !l.ok && !l.skipped).map((l) => `${l.name}: ${l.detail}`);
  return {
    ok: problems.length === 0,
    bundle: dir,
    kind: 'bare-pg-dump',
    ageSeconds,
    problems,
    layers,
    ...(out.summary ? { pgDump: out.summary } : {}),
    encrypted: false,
  };
}
