/**
 * dbdrill run from outside its project directory still finds the PostgreSQL server its own
 * installation ships (the embedded npm package in its node_modules), instead of asking the user
 * to install what is installed.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterEach, expect, it } from '@jest/globals';

import { findPgInstalls, findServer, ownInstallRoots } from '../src/core/engines/postgres/pg-binaries.js';
import { MemoryLogger } from './helpers/memory-logger.js';
import { NodeProcessRunner } from '../src/core/process.js';

const runner = new NodeProcessRunner(new MemoryLogger());
const home = process.cwd();
let elsewhere: string | undefined;

afterEach(async () => {
  process.chdir(home);
  if (elsewhere) await rm(elsewhere, { recursive: true, force: true });
});

it('finds the embedded server next to dbdrill with the working directory elsewhere and no search roots', async () => {
  const here = (await findPgInstalls(runner)).filter((i) => i.source === 'embedded-npm' && i.hasServer);
  expect(here.length).toBeGreaterThan(0);
  elsewhere = await mkdtemp(path.join(tmpdir(), 'dbdrill-elsewhere-'));
  process.chdir(elsewhere);
  const roots = await ownInstallRoots();
  expect(roots.some((r) => r.startsWith(home))).toBe(true);
  const away = (await findPgInstalls(runner)).filter((i) => i.source === 'embedded-npm' && i.hasServer);
  expect(away.map((i) => i.binDir).sort()).toEqual(here.map((i) => i.binDir).sort());
  const server = await findServer(runner, here[0].major);
  expect(server.major).toBe(here[0].major);
});
