/**
 * The prune use case: grandfather-father-son retention over one name's bundles in a store. The
 * work (verify the newest if unknown, plan, delete, check what is left) is the catalog's
 * `pruneStore`, which backup also runs after verifying its upload.
 */
import { pruneStore, type PruneResult } from './catalog/index.js';
import type { UseCaseDeps } from './deps.js';
import type { PruneOptions } from './options/index.js';

export type { PruneResult };

/** The shared use-case deps under their old name, for callers written against it. */
export type PruneDeps = UseCaseDeps;

export async function prune(deps: UseCaseDeps, options: PruneOptions): Promise<PruneResult> {
  const store = deps.openStore(options.store);
  return pruneStore(deps, store, options.name, options.policy, options.dryRun);
}
