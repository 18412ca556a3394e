import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A private (0700) temp dir, removed by the returned function whatever happened. */
export async function makeWorkDir(
  prefix: string,
  base = process.env.RUNNER_TEMP || tmpdir(),
): Promise<{
  dir: string;
  remove: () => Promise<void>;
}> {
  const dir = await mkdtemp(join(base, `dbdrill-${prefix}-`));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}
