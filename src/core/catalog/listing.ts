/**
 * The bundles of a name, newest first (by their names, never by modification time), with age,
 * size and what their verification records say: what list shows and prune decides on.
 */
import type { Clock } from '../clock.js';
import type { Store } from '../stores/store.js';
import { listBundles } from './locate.js';
import { readVerifyRecord, type VerifyRecord } from './verify-records.js';

export type VerifiedState = 'yes' | 'no' | 'unknown';

export interface ListedBundle {
  key: string;
  /** The backup's start, from the bundle name (UTC). */
  createdAt: string;
  timestamp: Date;
  ageSeconds: number;
  sizeBytes: number;
  verified: VerifiedState;
  verifiedAt: string | null;
  record?: VerifyRecord;
}

export function verifiedState(record: VerifyRecord | undefined): VerifiedState {
  return record ? (record.ok ? 'yes' : 'no') : 'unknown';
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
        verifiedAt: record?.verifiedAt ?? null,
        record,
      };
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, bundles.length) }, worker));
  return out;
}
