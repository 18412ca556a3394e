/**
 * The bundles of a name, newest first (by their names, never by modification time), with age,
 * size and what their verification records say: what list shows and prune decides on.
 */
import type { Clock } from '../clock.js';
import type { Store } from '../stores/store.js';
import { listBundles } from './locate.js';
import { readVerifyRecord, type VerifyRecord } from './verify-records.js';

export type VerifiedState = 'yes' | 'no' | 'unknown';

/**
 * How far a bundle's last verification went, strongest first. `stored-object-intact` is a
 * bytes-only check of an encrypted bundle by a runner without its key: the bytes are the ones
 * uploaded, but nobody has opened them, so it is not "verified" and prune does not protect it
 * as the newest verified bundle.
 */
export type VerifiedLevel = 'verified-deep' | 'verified' | 'stored-object-intact' | 'failed' | 'unknown';

/** The level as a reader sees it in `list` and `prune` output. */
export const LEVEL_TEXT: Record<VerifiedLevel, string> = {
  'verified-deep': 'verified (deep)',
  verified: 'verified',
  'stored-object-intact': 'stored object intact (contents not checked: encrypted, no key)',
  failed: 'verification failed',
  unknown: 'not verified',
};

export function verifiedLevel(record: VerifyRecord | undefined): VerifiedLevel {
  if (!record) return 'unknown';
  if (!record.ok) return 'failed';
  if (record.scope === 'stored-object') return 'stored-object-intact';
  return record.deep ? 'verified-deep' : 'verified';
}

/**
 * What retention may rely on: true only for a verification of the contents. A bytes-only check
 * is neither a pass (it cannot protect a bundle as "newest verified") nor a failure (it must not
 * block pruning).
 */
export function contentsVerified(record: VerifyRecord | undefined): boolean | undefined {
  const level = verifiedLevel(record);
  return level === 'failed' ? false : level === 'verified' || level === 'verified-deep' ? true : undefined;
}

export interface ListedBundle {
  key: string;
  /** The backup's start, from the bundle name (UTC). */
  createdAt: string;
  timestamp: Date;
  ageSeconds: number;
  sizeBytes: number;
  verified: VerifiedState;
  level: VerifiedLevel;
  verifiedAt: string | null;
  record?: VerifyRecord;
}

/** "yes" only for a check of the contents: a bytes-only check leaves the contents unknown. */
export function verifiedState(record: VerifyRecord | undefined): VerifiedState {
  const contents = contentsVerified(record);
  return contents === undefined ? 'unknown' : contents ? 'yes' : 'no';
}

/** Reads the records a few at a time: a store with hundreds of bundles should not open hundreds of requests at once. */
export async function listWithRecords(
  store: Store,
  name: string,
  clock: Pick<Clock, 'now'>,
): Promise<ListedBundle[]> {
  const bundles = await listBundles(store, name);
  const now = clock.now().getTime();
  const out: ListedBundle[] = new Array<ListedBundle>(bundles.length);
  const CONCURRENCY = 8;
  let next = 0;
  const worker = async () => {
    while (next < bundles.length) {
      const i = next++;
      const b = bundles[i];
      const record = await readVerifyRecord(store, b.key);
      out[i] = {
        key: b.key,
        createdAt: b.timestamp.toISOString(),
        timestamp: b.timestamp,
        ageSeconds: Math.max(0, Math.round((now - b.timestamp.getTime()) / 1000)),
        sizeBytes: b.sizeBytes,
        verified: verifiedState(record),
        level: verifiedLevel(record),
        verifiedAt: record?.verifiedAt ?? null,
        record,
      };
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, bundles.length) }, worker));
  return out;
}
