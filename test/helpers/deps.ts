import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { systemClock, type Clock } from '../../src/core/clock.js';
import type { RuntimeDeps } from '../../src/core/deps.js';
import { MemoryLogger } from './memory-logger.js';
import { NodeProcessRunner } from '../../src/core/process.js';
import { openStore } from '../../src/core/stores/open-store.js';
import { reapAfterExit } from '../../src/core/reaper.js';

/** Real runner, real stores, a memory logger whose lines tests can read. */
export function testDeps(
  options: { clock?: Clock; signal?: AbortSignal } = {},
): RuntimeDeps & { logger: MemoryLogger } {
  const logger = new MemoryLogger();
  return {
    logger,
    runner: new NodeProcessRunner(logger),
    clock: options.clock ?? systemClock,
    openStore: (uri) => openStore(uri, { logger }),
    signal: options.signal,
    label: (n) => n,
  };
}

export async function tempDir(
  prefix = 'dbdrill-test-',
): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  // a test body that outlives its timeout, or a killed jest, must not leave the dir behind
  const reaper = reapAfterExit(dir);
  return {
    dir,
    remove: async () => {
      await rm(dir, { recursive: true, force: true });
      reaper.cancel();
    },
  };
}
