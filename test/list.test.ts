/**
 * list over real stores: newest first by bundle name (never by modification time), age from the
 * name's UTC timestamp, size, and verified yes/no/unknown from the `.verify.json` records.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Readable } from 'node:stream';

import { bundleKey, recordKey } from '../src/core/catalog/index.js';
import { fixedClock } from '../src/core/clock.js';
import { list, listJson } from '../src/core/list.js';
import { MemoryLogger } from './helpers/memory-logger.js';
import { openStore } from '../src/core/stores/open-store.js';
import type { Store } from '../src/core/stores/store.js';
import { startS3Server, type S3TestServer } from './helpers/s3-server.js';
import { tempDir } from './helpers/deps.js';

const NOW = new Date('2026-03-01T12:00:00Z');
let server: S3TestServer;
let dir: { dir: string; remove: () => Promise<void> };

beforeAll(async () => {
  server = await startS3Server();
  dir = await tempDir('dbdrill-list-');
});
afterAll(async () => {
  await server?.stop();
  await dir?.remove();
});

async function seed(store: Store): Promise<string[]> {
  // Written oldest last, so modification time order is the reverse of name order.
  const keys = [0, 1, 2, 3].map((h) => bundleKey('shop', new Date(NOW.getTime() - h * 3_600_000)));
  for (const [i, key] of [...keys].reverse().entries())
    await store.put(key, Readable.from([Buffer.alloc(100 * (i + 1))]));
  await store.put(bundleKey('shop-eu', NOW), Readable.from([Buffer.alloc(1)]));
  await store.writeText(
    recordKey(keys[0]),
    JSON.stringify({ ok: true, verifiedAt: '2026-03-01T11:59:00.000Z', deep: true, problems: [] }),
  );
  await store.writeText(
    recordKey(keys[1]),
    JSON.stringify({ ok: false, verifiedAt: '2026-03-01T11:00:00.000Z', deep: false, problems: ['x'] }),
  );
  await store.writeText(recordKey(keys[2]), '{"ok": "maybe"}'); // malformed: unknown, never "verified"
  return keys;
}

describe.each([
  ['file', () => dir.dir],
  ['s3', () => `s3://${server.bucket}/list`],
])('list on a %s store', (_kind, uri) => {
  it('shows the bundles of the name newest first with age, size and verification', async () => {
    const logger = new MemoryLogger();
    const store = openStore(uri(), { logger, env: server.env });
    const keys = await seed(store);
    const result = await list(
      { clock: fixedClock(NOW), openStore: () => store },
      { store: uri(), name: 'shop' },
    );
    const json = listJson(result) as { bundles: Record<string, unknown>[] };
    expect(json.bundles.map((b) => b.key)).toEqual(keys);
    expect(json.bundles.map((b) => b.ageSeconds)).toEqual([0, 3600, 7200, 10800]);
    expect(json.bundles.map((b) => b.sizeBytes)).toEqual([400, 300, 200, 100]);
    expect(json.bundles.map((b) => b.verified)).toEqual(['yes', 'no', 'unknown', 'unknown']);
    expect(json.bundles[0]).toMatchObject({
      verifiedAt: '2026-03-01T11:59:00.000Z',
      verifiedDeep: true,
      createdAt: '2026-03-01T12:00:00.000Z',
    });
    expect(json.bundles[3].verifiedAt).toBeNull();
  });

  it('an empty name lists nothing', async () => {
    const store = openStore(uri(), { logger: new MemoryLogger(), env: server.env });
    const result = await list(
      { clock: fixedClock(NOW), openStore: () => store },
      { store: uri(), name: 'nothing' },
    );
    expect(result.bundles).toEqual([]);
  });
});
