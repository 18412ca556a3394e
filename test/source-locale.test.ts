/**
 * The scratch database is the source's: encoding, collation, ctype and locale provider (ICU
 * included) are recorded at backup (or read from a bare dump's TOC), recreated by provision: local
 * and compared with a given target-url, whose difference fails the drill unless accepted with a
 * reason.
 */
import { execFile } from 'node:child_process';
import { createReadStream, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';

import { runCli } from '../src/cli/main.js';
import { localeFromToc } from '../src/core/engines/postgres/database-locale.js';
import { MemoryLogger } from './helpers/memory-logger.js';
import { NodeProcessRunner } from '../src/core/process.js';
import { startLocalCluster, type LocalCluster } from '../src/core/provision/local-postgres.js';

const run = promisify(execFile);
const logger = new MemoryLogger();
let cluster: LocalCluster;
let dir: string;

const urlOf = (db: string) => cluster.url.replace(/\/[^/]*$/, `/${db}`);

async function cli(argv: string[]): Promise<{ code: number; json: Record<string, unknown>; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli([...argv, '--json'], {
    stdout: (t) => (out += t),
    stderr: (t) => (err += t),
    env: process.env,
  });
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(out) as Record<string, unknown>;
  } catch {
    /* no JSON: a usage error */
  }
  return { code, json, err };
}

type Check = { name: string; ok: boolean; detail?: string };
/** The locale check from the drill's own report (drill-report.json in the report dir). */
function localeCheck(reportDir: string): Check | undefined {
  const report = JSON.parse(readFileSync(path.join(reportDir, 'drill-report.json'), 'utf8')) as {
    checks: Check[];
    notes: string[];
  };
  return report.checks.find((c) => c.name.startsWith('target encoding and locale'));
}
const notesOf = (reportDir: string): string[] =>
  (JSON.parse(readFileSync(path.join(reportDir, 'drill-report.json'), 'utf8')) as { notes: string[] }).notes;

beforeAll(async () => {
  cluster = await startLocalCluster({ runner: new NodeProcessRunner(logger), logger }, { major: 15 });
  dir = await mkdtemp(path.join(tmpdir(), 'dbdrill-locale-'));
  const admin = new pg.Client({ connectionString: cluster.url, ssl: false });
  await admin.connect();
  await admin.query(`CREATE DATABASE latin TEMPLATE template0 ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C'`);
  await admin.query(
    `CREATE DATABASE icu TEMPLATE template0 ENCODING 'UTF8' LOCALE_PROVIDER icu ICU_LOCALE 'de-DE' LC_COLLATE 'C' LC_CTYPE 'C'`,
  );
  await admin.query(`CREATE DATABASE plain`);
  await admin.end();
  for (const db of ['latin', 'icu']) {
    const c = new pg.Client({ connectionString: urlOf(db), ssl: false });
    await c.connect();
    await c.query(
      `CREATE TABLE words (w text PRIMARY KEY); INSERT INTO words VALUES ('Zoë'), ('Müller'), ('a'), ('B')`,
    );
    await c.end();
  }
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('source encoding and locale', () => {
  it('are recorded at backup and recreated by provision: local (LATIN1, ICU de-DE)', async () => {
    for (const db of ['latin', 'icu']) {
      const store = path.join(dir, `store-${db}`);
      const b = await cli(['backup', '--database-url', urlOf(db), '--store', store, '--name', db]);
      expect(b.code).toBe(0);
      const d = await cli([
        'drill',
        '--store',
        store,
        '--name',
        db,
        '--provision',
        'local',
        '--pg-version',
        '15',
        '--report-dir',
        path.join(dir, `report-${db}`),
      ]);
      expect({ db, code: d.code, err: d.code ? d.err : '' }).toEqual({ db, code: 0, err: '' });
      const check = localeCheck(path.join(dir, `report-${db}`));
      expect(check?.ok).toBe(true);
      expect(check?.detail).toMatch(db === 'latin' ? /^LATIN1, libc locale C/ : /^UTF8, ICU de-DE/);
    }
  }, 180_000);

  it('a target-url with another encoding fails the drill, names both sides; a reason accepts it and is reported', async () => {
    const store = path.join(dir, 'store-latin');
    const base = ['drill', '--store', store, '--name', 'latin', '--target-url', urlOf('plain')];
    const refused = await cli([...base, '--report-dir', path.join(dir, 'r1')]);
    expect(refused.code).toBe(1);
    expect(localeCheck(path.join(dir, 'r1'))).toMatchObject({ ok: false });
    expect(localeCheck(path.join(dir, 'r1'))?.detail).toMatch(
      /UTF8.*the source was LATIN1.*accept-locale-mismatch/,
    );
    const accepted = await cli([
      ...base,
      '--accept-locale-mismatch',
      'text is ASCII only in staging',
      '--report-dir',
      path.join(dir, 'r2'),
    ]);
    expect({ code: accepted.code, err: accepted.code ? accepted.err : '' }).toEqual({ code: 0, err: '' });
    expect(notesOf(path.join(dir, 'r2')).join('\n')).toContain(
      'accepted because: text is ASCII only in staging',
    );
  }, 120_000);

  it('accept-locale-mismatch without a reason is a usage error naming the flag', async () => {
    const r = await cli([
      'drill',
      '--store',
      dir,
      '--name',
      'x',
      '--provision',
      'local',
      '--accept-locale-mismatch',
      'true',
    ]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--accept-locale-mismatch "true" is not a reason/);
  });

  it('a bare pg_dump file: read from its DATABASE and ENCODING TOC entries', async () => {
    const file = path.join(dir, 'icu.dump');
    await run('/usr/lib/postgresql/15/bin/pg_dump', ['-Fc', '-f', file, '-d', urlOf('icu')]);
    const { readPgDumpToc } = await import('../src/core/engines/postgres/pgdump-reader.js');
    const { toc } = await readPgDumpToc(createReadStream(file));
    expect(localeFromToc(toc)).toEqual({
      encoding: 'UTF8',
      collate: 'C',
      ctype: 'C',
      provider: 'icu',
      locale: 'de-DE',
    });
    const d = await cli([
      'drill',
      '--bundle',
      file,
      '--provision',
      'local',
      '--pg-version',
      '15',
      '--report-dir',
      path.join(dir, 'r3'),
    ]);
    expect({ code: d.code, err: d.code ? d.err : '' }).toEqual({ code: 0, err: '' });
    expect(localeCheck(path.join(dir, 'r3'))?.detail).toMatch(/^UTF8, ICU de-DE/);
  }, 120_000);
});
