import { dirname, resolve } from 'node:path';

import { bundlesOf } from '../bundle/naming.js';
import { CheckFailed, ConfigError } from '../errors.js';
import type { BundleLocation } from '../inspection/types.js';
import type { Store, StoredObject } from '../stores/store.js';

export type { BundleLocation };

/** The store and key of a bundle given as a path, `file://`, `s3://` or other store URI. */
export function locateBundle(deps: { openStore: (uri: string) => Store }, bundle: string): BundleLocation {
  const cut = bundle.lastIndexOf('/');
  let storeUri: string;
  let key: string;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(bundle)) {
    const schemeEnd = bundle.indexOf('://') + 3;
    if (cut < schemeEnd)
      throw new ConfigError(`bundle "${bundle}" names no object; expected e.g. s3://bucket/prefix/<bundle>`);
    storeUri = bundle.slice(0, cut);
    key = bundle.slice(cut + 1);
  } else {
    const abs = resolve(bundle);
    storeUri = dirname(abs);
    key = abs.slice(storeUri.length + 1);
  }
  return { store: deps.openStore(storeUri), key, display: bundle };
}

/** The bundles of `name`, newest first (by the names, never by modification time). */
export async function listBundles(
  store: Store,
  name: string,
): Promise<(StoredObject & { timestamp: Date })[]> {
  const objects = await store.list(name);
  const byKey = new Map(objects.map((o) => [o.key, o]));
  return bundlesOf(
    name,
    objects.map((o) => o.key),
  ).map((p) => ({ ...byKey.get(p.key)!, timestamp: p.timestamp }));
}

/** The display URI of a key in a store: the store's URI and the key, one slash between. */
export function displayOf(store: Store, key: string): string {
  return `${store.displayUri.replace(/\/$/, '')}/${key}`;
}

export async function resolveNewest(store: Store, name: string): Promise<BundleLocation> {
  const bundles = await listBundles(store, name);
  if (bundles.length === 0) {
    throw new CheckFailed(
      `no bundle named "${name}" in ${store.displayUri}; run a backup first, or check store and name`,
    );
  }
  return { store, key: bundles[0].key, display: displayOf(store, bundles[0].key), object: bundles[0] };
}
