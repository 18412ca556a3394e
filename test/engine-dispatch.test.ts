/**
 * The use cases reach databases only through the engine list: a third engine handed to them in
 * deps (a TEST DOUBLE: no such database exists here) dumps, summarizes, recognises its bare dump
 * and reads its bundle members without a line of backup, components or inspection changing.
 * Everything around it is real: the file store, GNU tar, the layer walk, the verify use case.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';

import type { Component } from '../src/core/bundle/manifest.js';
import { toReadable } from '../src/core/bundle/stream-utils.js';
import { componentSummary, componentTotals, dumpComponents } from '../src/core/components.js';
import type { BundleMemberReader, EngineInspectContext, EngineName } from '../src/core/engines/engine.js';
import { ENGINES, type RegisteredEngine } from '../src/core/engines/registry.js';
import { CheckFailed } from '../src/core/errors.js';
import { OptionReader, parseVerifyOptions, type BackupOptions } from '../src/core/options/index.js';
import { verify, type VerifyResult } from '../src/core/verify.js';
import { tempDir, testDeps } from './helpers/deps.js';

const MAGIC = Buffer.from('FAKEDUMP');

async function digest(stream: Readable): Promise<{ size: number; sha256: string; text: string }> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  const all = Buffer.concat(chunks);
  return { size: all.length, sha256: createHash('sha256').update(all).digest('hex'), text: all.toString() };
}

/** TEST DOUBLE: an engine for a database that does not exist; its dumps are `FAKEDUMP` + text. */
function fakeEngine(calls: string[]): RegisteredEngine {
  return {
    // The name is outside EngineName on purpose: nothing in the use cases may depend on the list.
    name: 'fakedb' as EngineName,
    async dump(_deps, request) {
      calls.push(`dump ${request.id} ${request.databaseUrl} of ${request.databaseCount}`);
      const dumpPath = join(request.workDir, `${request.id}.fake`);
      await writeFile(dumpPath, Buffer.concat([MAGIC, Buffer.from(' rows=3')]));
      const component = { id: request.id, engine: 'fakedb', member: `${request.id}.fake`, items: 3 };
      return { component: component as unknown as Component, dumpPath };
    },
    summarize: (c) => ({
      id: c.id,
      engine: c.engine,
      database: 'x',
      serverVersion: '1.0',
      tool: 'fakedump 1',
    }),
    describeSource: () => ({ engine: 'fakedb', database: 'x', serverVersion: '1.0' }),
    totals: (c) => ({ documents: (c as unknown as { items: number }).items }),
    recognizesBareDump: (head) => head.subarray(0, MAGIC.length).equals(MAGIC),
    async inspectBareDump(_head, input, { findings }: EngineInspectContext) {
      const { text } = await digest(toReadable(input));
      findings.kind = 'bare-fakedb';
      findings.layers.push(
        { name: 'bundle readable', ok: true, detail: 'a bare fake dump' },
        { name: 'fake dump', ok: true, detail: text.slice(MAGIC.length).trim() },
        { name: 'manifest', ok: true, skipped: true, detail: 'not applicable to a fake dump' },
      );
    },
    readMembers({ findings }): BundleMemberReader {
      const read: string[] = [];
      return {
        claims: (path, manifest) => !manifest && path.endsWith('.fake'),
        async read(member) {
          read.push(member.path);
          const { size, sha256 } = await digest(member.stream);
          return { size, sha256 };
        },
        async finish() {
          // Judged once every member is in: per-walk state survives between members.
          if (read.length)
            findings.layers.push({
              name: 'fake dump',
              ok: true,
              detail: `${read.length} part(s): ${read.join(', ')}`,
            });
        },
        foreignTarball: () =>
          read.length
            ? {
                kind: 'bare-fakedb',
                members: read.length,
                manifestLayer: {
                  name: 'manifest',
                  ok: true,
                  skipped: true,
                  detail: 'not applicable to fake parts',
                },
              }
            : undefined,
      };
    },
    planDrill: () => undefined,
  };
}

let work: { dir: string; remove: () => Promise<void> };
beforeAll(async () => {
  work = await tempDir('dbdrill-engine-dispatch-');
});
afterAll(async () => {
  await work?.remove();
});

async function verifyWith(bundle: string, engines: readonly RegisteredEngine[]): Promise<VerifyResult> {
  try {
    return await verify({ ...testDeps(), engines }, parseVerifyOptions(new OptionReader({ bundle })));
  } catch (err) {
    if (err instanceof CheckFailed && err.result) return err.result as VerifyResult;
    throw err;
  }
}

describe('a third engine, handed to the use cases in deps', () => {
  it('recognises its bare dump by the first bytes; without it the file is nothing verify knows', async () => {
    const file = join(work.dir, 'nightly.fake');
    await writeFile(file, Buffer.concat([MAGIC, Buffer.from(' rows=3\n')]));

    const withFake = await verifyWith(file, [...ENGINES, fakeEngine([])]);
    expect(withFake.ok).toBe(true);
    expect(withFake.kind).toBe('bare-fakedb');
    expect(withFake.layers.find((l) => l.name === 'fake dump')?.detail).toBe('rows=3');

    const without = await verifyWith(file, ENGINES);
    expect(without.ok).toBe(false);
    expect(without.layers.find((l) => l.name === 'bundle readable')).toMatchObject({ ok: false });
  });

  it('claims the members of a tar, keeps state across them, and judges them after the walk', async () => {
    const parts = join(work.dir, 'parts');
    await mkdir(parts);
    await writeFile(join(parts, 'a.fake'), 'first');
    await writeFile(join(parts, 'b.fake'), 'second');
    const tarball = join(work.dir, 'parts.tar');
    execFileSync('tar', ['--format=ustar', '-cf', tarball, '-C', parts, 'a.fake', 'b.fake']);

    const r = await verifyWith(tarball, [...ENGINES, fakeEngine([])]);
    expect(r.layers.find((l) => l.name === 'fake dump')?.detail).toBe('2 part(s): a.fake, b.fake');
    expect(r.kind).toBe('bare-fakedb');
    expect(r.layers.find((l) => l.name === 'manifest')).toMatchObject({ skipped: true });
    expect(r.ok).toBe(true);

    // The real engines claim neither member: the same tar is an incomplete bundle to them.
    const without = await verifyWith(tarball, ENGINES);
    expect(without.layers.find((l) => l.name === 'fake dump')).toBeUndefined();
    expect(without.layers.find((l) => l.name === 'manifest valid')).toMatchObject({ ok: false });
  });

  it('dumps its database and summarizes its component for backup', async () => {
    const calls: string[] = [];
    const engines = [...ENGINES, fakeEngine(calls)];
    const dumpDir = join(work.dir, 'dump');
    await mkdir(dumpDir);
    const options = {
      databases: [{ engine: 'fakedb', url: 'fakedb://inventory' }],
    } as unknown as BackupOptions;

    const dumps = await dumpComponents({ ...testDeps(), engines }, options, dumpDir, (n) => n);
    expect(calls).toEqual(['dump fakedb fakedb://inventory of 1']);
    expect((await readFile(dumps[0].dumpPath)).subarray(0, MAGIC.length)).toEqual(MAGIC);
    const components = dumps.map((d) => d.component);
    expect(componentSummary(components[0], engines)).toEqual({
      id: 'fakedb',
      engine: 'fakedb',
      database: 'x',
      serverVersion: '1.0',
      tool: 'fakedump 1',
    });
    expect(componentTotals(components, engines)).toEqual({
      tables: 0,
      rows: 0,
      collections: 0,
      documents: 3,
    });
    // A component no listed engine wrote is a bug, not something to summarize as another engine's.
    expect(() => componentSummary(components[0])).toThrow(/no engine named fakedb/);
  });
});
