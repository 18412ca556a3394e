import type { Readable } from 'node:stream';

import { systemClock, type Clock } from './clock.js';
import type { MongoToolDownloader } from './engines/mongodb/mongo-tools.js';
import type { RegisteredEngine } from './engines/registry.js';
import type { PgClientPorts } from './engines/postgres/pg-client.js';
import type { Logger } from './logger.js';
import { NodeProcessRunner, type ProcessRunner } from './process.js';
import { openStore, type OpenStoreDeps } from './stores/open-store.js';
import type { Store } from './stores/store.js';

/**
 * What every use case (backup, verify, drill, prune, list) receives: core's ports plus the hooks the
 * adapters or the use case itself build from options. One type, so a use case that calls another
 * layer (the drill inspecting, prune verifying) passes its deps through unchanged.
 */
export interface UseCaseDeps {
  logger: Logger;
  runner: ProcessRunner;
  clock: Clock;
  openStore: (uri: string) => Store;
  signal?: AbortSignal;
  /** How inputs are named in messages (`--x` on the CLI, `x` in actions). */
  label?: (input: string) => string;
  searchRoots?: string[];
  /** Fetches the pinned MongoDB Database Tools when none is installed (tool-cache in the adapters). */
  mongoToolDownloader?: MongoToolDownloader;
  /** pg-client's machine facts, apt tool cache and install root; real ones unless a test passes its own. */
  pgClientPorts?: PgClientPorts;
  /** Wraps the bundle stream in encryption (backup). */
  encrypt?: (plain: Readable) => Readable;
  /** Decrypts an age-encrypted bundle stream; absent when no identity or passphrase was given. */
  decrypt?: (cipher: Readable) => Readable;
  /** Removes registered secret values from text written to reports. */
  redact?: (text: string) => string;
  /** The engines backup, verify and the drill dispatch to; `ENGINES` unless a test adds one. */
  engines?: readonly RegisteredEngine[];
}

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
  /** pg-client's apt installs kept in the tool cache (the adapters plug in @actions/tool-cache). */
  pgClientPorts?: PgClientPorts;
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
