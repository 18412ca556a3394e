import { systemClock, type Clock } from './clock.js';
import type { MongoToolDownloader } from './engines/mongodb/mongo-tools.js';
import type { Logger } from './logger.js';
import { NodeProcessRunner, type ProcessRunner } from './process.js';
import { openStore, type OpenStoreDeps } from './stores/open-store.js';
import type { Store } from './stores/store.js';

/** The production wiring of core's ports; adapters build this once, tests build their own. */
export interface RuntimeDeps {
  logger: Logger;
  runner: ProcessRunner;
  clock: Clock;
  openStore: (uri: string) => Store;
  signal?: AbortSignal;
  label: (input: string) => string;
  /** Downloads the pinned MongoDB Database Tools (the adapters plug in @actions/tool-cache). */
  mongoToolDownloader?: MongoToolDownloader;
  searchRoots?: string[];
}

/**
 * `storeSettings` is read when a store is first opened, not before: the CLI and actions build deps
 * before parsing options, and a bad s3-sse must fail inside the command (exit 2, named input).
 */
export function runtimeDeps(
  logger: Logger,
  label: (input: string) => string,
  signal?: AbortSignal,
  storeSettings?: () => Omit<OpenStoreDeps, 'logger'>,
): RuntimeDeps {
  let settings: Omit<OpenStoreDeps, 'logger'> | undefined;
  return {
    logger,
    runner: new NodeProcessRunner(logger),
    clock: systemClock,
    openStore: (uri) => openStore(uri, { logger, ...(settings ??= storeSettings?.() ?? {}) }),
    signal,
    label,
  };
}
