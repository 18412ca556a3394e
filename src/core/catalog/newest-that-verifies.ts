import { inspectBundle, type InspectDeps } from '../inspection/index.js';
import type { Store } from '../stores/store.js';
import type { PgClientChoice } from '../options/tool-options.js';
import { displayOf, listBundles } from './locate.js';

/** Enough to find a good fallback without reading a whole store's history. */
const MAX_CANDIDATES = 10;

/**
 * The display URI of the newest bundle of `name`, other than `exceptKey`, whose inspection passes
 * (not deep): what a failed drill suggests to drill instead. Checks at most ten, newest first.
 */
export async function newestThatVerifies(
  deps: InspectDeps,
  store: Store,
  name: string,
  options: { exceptKey: string; pgBinDir?: string; pgClient?: PgClientChoice },
): Promise<string | undefined> {
  const bundles = (await listBundles(store, name))
    .filter((b) => b.key !== options.exceptKey)
    .slice(0, MAX_CANDIDATES);
  for (const b of bundles) {
    const r = await inspectBundle(
      deps,
      { store, key: b.key, display: b.key, object: b },
      { deep: false, pgBinDir: options.pgBinDir, pgClient: options.pgClient },
    );
    if (r.ok) return displayOf(store, b.key);
  }
  return undefined;
}
