/**
 * A custom-format member as the bundle walk hands it over from a local bundle: chunks of one
 * reused buffer. `inspectPgDumpStream` hashes each, copies it to the extraction sink and to the real
 * `pg_restore --list`, and hands it to the native reader before the next is read. Fed here from
 * reads of 7 and 100 bytes (every field straddles chunks) that are scribbled over once the next is
 * asked for: anything kept past its time would be 0xEE bytes.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { finished } from 'node:stream/promises';

import { TransientChunks, readFileTransient } from '../src/core/bundle/stream-utils.js';
import { inspectPgDumpStream } from '../src/core/engines/postgres/inspect.js';
import { NodeProcessRunner } from '../src/core/process.js';
import { MemoryLogger } from './helpers/memory-logger.js';
import { startTestCluster, type TestCluster } from './helpers/pg-cluster.js';

const FIX = path.resolve('test/fixtures/postgres');
const PG15 = '/usr/lib/postgresql/15/bin';

function scribbled(file: string, bufferSize: number): TransientChunks {
  return new TransientChunks(
    (async function* () {
      for await (const chunk of readFileTransient(file, { bufferSize })) {
        yield chunk;
        chunk.fill(0xee);
      }
    })(),
  );
}

describe('inspectPgDumpStream from one reused buffer', () => {
  // counts from test/fixtures/postgres/PROVENANCE.md
  const cases: [string, Record<string, number>][] = [
    ['pg15-shop.gzip.dump', { 'public.customers': 100, 'public.orders': 1000 }],
    ['pg15-shop.z0.dump', { 'public.customers': 100, 'public.orders': 1000 }],
    ['pg15-lo.piped.dump', { 'public.a': 2000, 'public.b': 3000 }],
  ];

  it.each(cases)(
    '%s: every layer, the rows, the sha256 and the extracted copy are exact',
    async (name, rows) => {
      const file = path.join(FIX, name);
      const bytes = readFileSync(file);
      for (const bufferSize of [7, 100]) {
        const dir = mkdtempSync(path.join(tmpdir(), 'dbdrill-fc-reuse-'));
        try {
          const out = path.join(dir, 'postgres.dump');
          const sink = createWriteStream(out);
          const logger = new MemoryLogger();
          const inspected = await inspectPgDumpStream(
            { runner: new NodeProcessRunner(logger), logger },
            scribbled(file, bufferSize),
            'postgres.dump',
            { deep: true, pgBinDir: PG15 },
            sink,
          );
          await finished(sink);
          expect(inspected.layers.filter((l) => !l.ok)).toEqual([]);
          expect(inspected.layers.find((l) => l.name === 'pg_restore --list')?.skipped).toBeFalsy();
          expect(inspected.summary?.rows).toMatchObject(rows);
          expect(inspected.bytes).toBe(bytes.length);
          expect(inspected.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
          expect(readFileSync(out).equals(bytes)).toBe(true);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }
    },
  );
});

describe('pg_restore --list is fed the same transient chunks', () => {
  let cluster: TestCluster | undefined;
  afterAll(async () => {
    await cluster?.stop();
  });

  it('a TOC larger than a pipe (400 tables) reaches pg_restore intact from 1 MiB reused chunks', async () => {
    cluster = await startTestCluster();
    const ddl: string[] = [];
    for (let i = 0; i < 400; i++)
      ddl.push(`CREATE TABLE "a_table_with_a_rather_long_name_number_${i}" (id int primary key, note text)`);
    await cluster.sql(ddl.join(';\n'));
    const dir = mkdtempSync(path.join(tmpdir(), 'dbdrill-fc-toc-'));
    try {
      const file = path.join(dir, 'big-toc.dump');
      execFileSync(path.join(PG15, 'pg_dump'), ['-Fc', '-f', file, '--dbname', cluster.url]);
      const size = readFileSync(file).length;
      // several pipe buffers: a write pg_restore has not read yet still holds the chunk
      expect(size).toBeGreaterThan(4 * 65536);
      const logger = new MemoryLogger();
      const inspected = await inspectPgDumpStream(
        { runner: new NodeProcessRunner(logger), logger },
        scribbled(file, 1 << 20),
        'postgres.dump',
        { deep: true, pgBinDir: PG15 },
        undefined,
      );
      expect(inspected.layers.filter((l) => !l.ok)).toEqual([]);
      expect(inspected.layers.find((l) => l.name === 'pg_restore --list')?.detail).toMatch(
        /pg_restore 15\.\d+ lists \d+ entries, all found by the native reader/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
