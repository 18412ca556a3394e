/**
 * The schema zoo: every case is backed up, verified and drilled through the real CLI, and an
 * independent oracle decides what the verdict should have been (see test/zoo/harness.ts).
 * Cases whose verdict is wrong today are `test.failing`, named with the reason: the day the bug
 * is fixed they fail, and the fixer turns them into `test`.
 *
 * The work runs once in beforeAll, three cases at a time (ZOO_WORKERS) on one source cluster (a database per
 * case) and one scratch cluster per major; the tests then read the results.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { tempDir } from './helpers/deps.js';
import { ZOO_CASES } from './zoo/cases.js';
import { runCase, type CaseResult, type ZooEnv } from './zoo/harness.js';
import { prepareZooEnv, teardownZooEnv } from './zoo/env.js';

const results = new Map<string, CaseResult | Error>();
let env: ZooEnv | undefined;
let work: Awaited<ReturnType<typeof tempDir>>;

const only = process.env.ZOO_ONLY?.split(',');
const cases = ZOO_CASES.filter((c) => !only || only.includes(c.id));

beforeAll(async () => {
  work = await tempDir('dbdrill-zoo-');
  env = await prepareZooEnv(work.dir, cases);
  const queue = [...cases];
  const worker = async () => {
    for (let c = queue.shift(); c; c = queue.shift()) {
      try {
        results.set(c.id, await runCase(env!, c));
      } catch (err) {
        results.set(c.id, err as Error);
      }
    }
  };
  await Promise.all(Array.from({ length: Number(process.env.ZOO_WORKERS ?? 3) }, worker));
  if (process.env.ZOO_RESULTS) {
    await mkdir(join(process.env.ZOO_RESULTS, '..'), { recursive: true });
    await writeFile(process.env.ZOO_RESULTS, JSON.stringify([...results.values()], null, 2));
  }
}, 900_000);

afterAll(async () => {
  if (env) await teardownZooEnv(env);
  await work?.remove();
}, 120_000);

function resultOf(id: string): CaseResult {
  const r = results.get(id);
  if (!r) throw new Error(`case ${id} did not run`);
  if (r instanceof Error) throw r;
  return r;
}

describe('schema zoo', () => {
  for (const c of cases) {
    test(`${c.id}: the case ran, and the dump restored by plain pg_restore equals the source`, () => {
      const r = resultOf(c.id);
      // Every CLI step answered with its JSON object, and the oracle's reference restore of the
      // same dump is exact: the case is meaningful and the oracle can see everything it compares.
      for (const step of Object.values(r.steps)) expect(step?.json).toEqual(expect.any(Object));
      expect(r.backupDiffs).toEqual([]);
      expect(['pass', 'fail', 'usage-error']).toContain(r.expected);
    });
    const name = `${c.id} (${c.family}: ${c.covers}): dbdrill's verdict matches the oracle's`;
    const body = () => {
      const r = resultOf(c.id);
      expect({
        dbdrill: r.dbdrill,
        falsePass: r.dbdrill === 'pass' && !r.targetFaithful ? r.targetDiffs : [],
      }).toEqual({ dbdrill: r.expected, falsePass: [] });
    };
    if (c.wrongToday) test.failing(`${name}; WRONG TODAY: ${c.wrongToday}`, body);
    else test(name, body);
  }
});
