/**
 * A dump directory on disk given to verify as its bundle (a bare `pg_dump -Fd` directory): not a
 * stored object, so it skips the object, decryption and bundle layers and is read in place by
 * the engine that recognises it. Nothing is recorded beside it (it sits in no store).
 */
import { stat } from 'node:fs/promises';

import type { RegisteredEngine } from '../engines/registry.js';
import { ENGINES } from '../engines/registry.js';
import { engineInspectContext } from './engine-context.js';
import type { InspectDeps, InspectOptions, VerifyResult } from './types.js';

/** A local path (not a store URI) to a directory an engine reads in place. */
export async function isBareDumpDirectory(
  bundle: string | undefined,
  engines: readonly RegisteredEngine[] = ENGINES,
): Promise<boolean> {
  return !!bundle && !!(await directoryEngine(bundle, engines));
}

async function directoryEngine(
  bundle: string,
  engines: readonly RegisteredEngine[],
): Promise<RegisteredEngine | undefined> {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(bundle)) return undefined;
  for (const engine of engines) if (await engine.recognizesDumpDirectory?.(bundle)) return engine;
  return undefined;
}

export async function inspectDumpDirectory(
  deps: InspectDeps,
  dir: string,
  options: Pick<InspectOptions, 'deep' | 'maxAgeSeconds' | 'pgBinDir' | 'pgClient'>,
): Promise<VerifyResult> {
  const engine = await directoryEngine(dir, deps.engines ?? ENGINES);
  if (!engine?.inspectDumpDirectory) throw new Error(`internal: no engine reads the directory ${dir}`);
  const found: VerifyResult = {
    ok: false,
    bundle: dir,
    kind: 'unknown',
    ageSeconds: null,
    problems: [],
    layers: [],
    encrypted: false,
  };
  const made = await engine.inspectDumpDirectory(
    dir,
    engineInspectContext(deps, options, found, () => ({})),
  );
  const layers = found.layers;
  const fromDump = made.createdAt;
  const createdAt = fromDump ?? (await stat(dir).catch(() => undefined))?.mtime;
  let ageSeconds: number | null = null;
  if (createdAt) {
    ageSeconds = Math.max(0, Math.round((deps.clock.now().getTime() - createdAt.getTime()) / 1000));
    const ok = options.maxAgeSeconds === undefined || ageSeconds <= options.maxAgeSeconds;
    layers.push({
      name: 'backup age',
      ok,
      detail:
        `${ageSeconds} s old (from ${fromDump ? "the dump header's creation time" : "the directory's modification time"})` +
        (options.maxAgeSeconds === undefined
          ? '; no max-age set'
          : `, ${ok ? 'within' : 'over'} max-age ${options.maxAgeSeconds} s`),
    });
  }
  const problems = layers.filter((l) => !l.ok && !l.skipped).map((l) => `${l.name}: ${l.detail}`);
  return {
    ok: problems.length === 0,
    bundle: dir,
    kind: found.kind,
    ageSeconds,
    problems,
    layers,
    ...(found.pgDump ? { pgDump: found.pgDump } : {}),
    ...(found.mongo ? { mongo: found.mongo } : {}),
    encrypted: false,
  };
}
