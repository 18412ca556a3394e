/**
 * The catalog's lookups that the drill relies on, over a real file store: the newest bundle that
 * verifies (real bundles-by-name holding real pg_dump files, inspected for real) and the drill
 * history file.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';

import {
  appendDrillHistory,
  bundleKey,
  DRILL_HISTORY_SUFFIX,
  newestThatVerifies,
  readDrillHistory,
  readSha256Sidecar,
  writeSha256Sidecar,
} from '../src/core/catalog/index.js';
import type { HistoryEntry } from '../src/core/report/model.js';
import { FileStore } from '../src/core/stores/file-store.js';
import { MemoryLogger } from './helpers/memory-logger.js';
import { tempDir, testDeps } from './helpers/deps.js';

const NOW = Date.UTC(2026, 2, 1, 12);
const HOUR = 3_600_000;
const GOOD_DUMP = 'test/fixtures/postgres/pg15-shop.gzip.dump';

let dir: { dir: string; remove: () => Promise<void> };
let n = 0;
beforeAll(async () => (dir = await tempDir('dbdrill-catalog-')));
afterAll(async () => dir.remove());
const fresh = () => new FileStore(join(dir.dir, `s${++n}`), { logger: new MemoryLogger() });

/** `shop` bundles, newest first: a real pg_dump where `good`, a truncated one elsewhere. */
async function seed(store: FileStore, good: boolean[]): Promise<string[]> {
  const dump = await readFile(GOOD_DUMP);
  const keys: string[] = [];
  for (const [i, ok] of good.entries()) {
    const key = bundleKey('shop', new Date(NOW - i * HOUR));
    await store.put(key, ok ? createReadStream(GOOD_DUMP) : Readable.from([dump.subarray(0, 700)]));
    keys.push(key);
  }
  return keys;
}

describe('newestThatVerifies', () => {
  it('skips the failed bundle and the broken ones, and names the newest good one by its store URI', async () => {
    const store = fresh();
    const keys = await seed(store, [true, false, true, true]);
    const found = await newestThatVerifies(testDeps(), store, 'shop', { exceptKey: keys[0] });
    expect(found).toBe(`${store.displayUri.replace(/\/$/, '')}/${keys[2]}`);
  });

  it('is undefined when no other bundle verifies', async () => {
    const store = fresh();
    const keys = await seed(store, [true, false, false]);
    expect(await newestThatVerifies(testDeps(), store, 'shop', { exceptKey: keys[0] })).toBeUndefined();
  });

  it('looks at ten candidates at most: a good eleventh is not found', async () => {
    const store = fresh();
    const keys = await seed(store, [false, ...Array<boolean>(10).fill(false), true]);
    expect(await newestThatVerifies(testDeps(), store, 'shop', { exceptKey: keys[0] })).toBeUndefined();
    await store.delete(keys[5]);
    expect(await newestThatVerifies(testDeps(), store, 'shop', { exceptKey: keys[0] })).toMatch(keys[11]);
  });
});

describe('drill history', () => {
  const entry = (rto: number): HistoryEntry => ({
    startedAt: new Date(NOW).toISOString(),
    rtoSeconds: rto,
    status: 'passed',
  });

  it('appends one JSON line per drill and reads them back in order, skipping a torn line', async () => {
    const store = fresh();
    await appendDrillHistory(store, 'shop', entry(1));
    await store.writeText(
      'shop' + DRILL_HISTORY_SUFFIX,
      (await store.readText('shop' + DRILL_HISTORY_SUFFIX))! + '{"rto',
    );
    await appendDrillHistory(store, 'shop', entry(2));
    expect((await readDrillHistory(store, 'shop')).map((h) => h.rtoSeconds)).toEqual([1, 2]);
    expect(await readDrillHistory(store, 'other')).toEqual([]);
  });

  it('keeps the newest 500 lines', async () => {
    const store = fresh();
    const lines = Array.from({ length: 500 }, (_, i) => JSON.stringify(entry(i))).join('\n') + '\n';
    await store.writeText('shop' + DRILL_HISTORY_SUFFIX, lines);
    await appendDrillHistory(store, 'shop', entry(500));
    const history = await readDrillHistory(store, 'shop');
    expect(history).toHaveLength(500);
    expect([history[0].rtoSeconds, history[499].rtoSeconds]).toEqual([1, 500]);
  });
});

describe('sha256 sidecar', () => {
  it('round-trips in sha256sum format and reads as undefined when absent or empty', async () => {
    const store = fresh();
    await writeSha256Sidecar(store, 'k', 'ab'.repeat(32));
    expect(await store.readText('k.sha256')).toBe(`${'ab'.repeat(32)}  k\n`);
    expect(await readSha256Sidecar(store, 'k')).toBe('ab'.repeat(32));
    expect(await readSha256Sidecar(store, 'missing')).toBeUndefined();
    await store.writeText('blank.sha256', '\n');
    expect(await readSha256Sidecar(store, 'blank')).toBeUndefined();
  });
});
