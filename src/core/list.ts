/**
 * The list use case: the bundles of a name, newest first (by their names, never by modification
 * time), with age, size and what their verification records say.
 */
import { listWithRecords, type ListedBundle } from './catalog/index.js';
import type { Clock } from './clock.js';
import type { Store } from './stores/store.js';

export type { ListedBundle };

export interface ListResult {
  ok: true;
  store: string;
  name: string;
  bundles: ListedBundle[];
}

export async function list(
  deps: { clock: Pick<Clock, 'now'>; openStore: (uri: string) => Store },
  options: { store: string; name: string },
): Promise<ListResult> {
  const store = deps.openStore(options.store);
  return {
    ok: true,
    store: store.displayUri,
    name: options.name,
    bundles: await listWithRecords(store, options.name, deps.clock),
  };
}

/** The JSON shape of `dbdrill list --json` (no Date objects, no record internals). */
export function listJson(result: ListResult): Record<string, unknown> {
  return {
    ok: result.ok,
    store: result.store,
    name: result.name,
    bundles: result.bundles.map((b) => ({
      key: b.key,
      createdAt: b.createdAt,
      ageSeconds: b.ageSeconds,
      sizeBytes: b.sizeBytes,
      verified: b.verified,
      level: b.level,
      verifiedAt: b.verifiedAt,
      ...(b.record ? { verifiedDeep: b.record.deep, verifiedScope: b.record.scope } : {}),
    })),
  };
}
