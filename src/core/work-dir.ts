import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { reapAfterExit } from './reaper.js';

/** A private (0700) temp dir, removed by the returned function whatever happened. */
export async function makeWorkDir(
  prefix: string,
  base = process.env.RUNNER_TEMP || tmpdir(),
): Promise<{
  dir: string;
  remove: () => Promise<void>;
}> {
  const dir = await mkdtemp(join(base, `dbdrill-${prefix}-`));
  // it may hold a decrypted dump: removed even if this process is killed before remove() runs
  const reaper = reapAfterExit(dir);
  return {
    dir,
    remove: async () => {
      await rm(dir, { recursive: true, force: true });
      reaper.cancel();
    },
  };
}
