import { tmpdir } from 'node:os';

import { systemClock, type Clock } from '../../src/core/clock.js';
import type { RuntimeDeps } from '../../src/core/deps.js';
import { MemoryLogger } from './memory-logger.js';
import { NodeProcessRunner } from '../../src/core/process.js';
import { openStore } from '../../src/core/stores/open-store.js';
import { makeWorkDir } from '../../src/core/work-dir.js';

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

/**
 * A private temp dir for one test file, made the way the use cases make theirs (`makeWorkDir`:
 * reaped even when jest is killed), but always under the OS temp dir, not RUNNER_TEMP.
 */
export async function tempDir(
  prefix = 'dbdrill-test-',
): Promise<{ dir: string; remove: () => Promise<void> }> {
  return makeWorkDir(prefix.replace(/^dbdrill-/, '').replace(/-$/, ''), tmpdir());
}
