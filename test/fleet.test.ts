/**
 * Fleets on a real scratch cluster with three member databases (each with its own table, so a
 * drill that checked one member against another's dump TOC would fail its structure check), a
 * template and a database that refuses connections (both left out of `all`): backup all in both
 * modes, excludes, names, the store's fleet record, fleet drills with every member passing and
 * with one member's bundle corrupted (the others still drilled, exit 1, the summary says which and
 * why), notifications per member with one dead-man ping, and every ConfigError.
 *
 * The drill's verdict is judged independently: each member's migrate-command counts the restored
 * rows with the real psql and appends them to a file this test reads.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { chmod, open, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { runCli } from '../src/cli/main.js';
import type { Manifest } from '../src/core/bundle/manifest.js';
import { fixedClock, type Clock } from '../src/core/clock.js';
import { CheckFailed, ConfigError } from '../src/core/errors.js';
import {
  backupFleet,
  drillFleet,
  fleetMarkdown,
  fleetText,
  readFleetRecord,
  type FleetBackupResult,
  type FleetDrillResult,
  type FleetVerifyResult,
  verifyFleet,
} from '../src/core/fleet/index.js';
import {
  OptionReader,
  parseBackupFleet,
  parseBackupOptions,
  parseDrillFleet,
  parseDrillOptions,
  parseVerifyFleet,
  parseVerifyOptions,
  type RawOptions,
} from '../src/core/options/index.js';
import { openStore } from '../src/core/stores/open-store.js';
import { inputEnvName, parseOutputFile } from './helpers/action-runner.js';
import { startCaptureServer } from './helpers/capture-server.js';
import { tempDir, testDeps } from './helpers/deps.js';
import { MemoryLogger } from './helpers/memory-logger.js';
import { startTestCluster, type TestCluster } from './helpers/pg-cluster.js';

/** Each member's table and row count; distinct tables make a TOC mix-up visible. */
const MEMBERS = { alpha: ['a_items', 11], beta: ['b_items', 22], gamma: ['g_items', 33] } as const;

let cluster: TestCluster;
let work: { dir: string; remove: () => Promise<void> };
let storeDir: string;
let jointStore: string;
let separate: FleetBackupResult;
let joint: FleetBackupResult;

const psql = (() => {
  for (const major of [17, 16, 15]) {
    try {
      execFileSync(`/usr/lib/postgresql/${major}/bin/psql`, ['--version']);
      return `/usr/lib/postgresql/${major}/bin/psql`;
    } catch {
      /* try the next */
    }
  }
  return 'psql';
})();

function backupRaw(extra: RawOptions): RawOptions {
  return { 'database-url': [cluster.url], store: storeDir, name: 'fleet', ...extra };
}

async function runBackup(raw: RawOptions): Promise<FleetBackupResult> {
  const reader = new OptionReader(raw);
  const selection = parseBackupFleet(reader);
  if (!selection) throw new Error('not a fleet');
  return backupFleet(testDeps(), parseBackupOptions(reader), selection, undefined);
}

/** A migrate-command that counts the member's tables and rows with psql, outside dbdrill, into `file`. */
function countingCommand(file: string): string {
  const q = (sql: string) => `${psql} "$DATABASE_URL" -Atc "${sql}"`;
  return [
    `T=$(${q("SELECT tablename FROM pg_tables WHERE tablename LIKE '%_items'")})`,
    `${q("SELECT current_database() || ' ' || (SELECT count(*) FROM pg_tables WHERE tablename LIKE '%_items') || ' ' || (SELECT count(*) FROM $T)")} >> ${file}`,
  ].join(' && ');
}

function drillRaw(extra: RawOptions, countsFile: string): RawOptions {
  return {
    store: storeDir,
    name: 'fleet',
    provision: 'local',
    rto: '10m',
    rpo: '1d',
    'migrate-command': countingCommand(countsFile),
    'report-dir': join(work.dir, 'reports-' + Math.random().toString(36).slice(2)),
    ...extra,
  };
}

async function runDrill(raw: RawOptions): Promise<FleetDrillResult> {
  const reader = new OptionReader(raw);
  const selection = parseDrillFleet(reader);
  if (!selection) throw new Error('not a fleet');
  return drillFleet(testDeps(), parseDrillOptions(reader), selection);
}

/** `database tables rows` lines the migrate-command wrote, one per restored member. */
async function counted(file: string): Promise<string[]> {
  return (await readFile(file, 'utf8').catch(() => '')).trim().split('\n').filter(Boolean);
}

beforeAll(async () => {
  cluster = await startTestCluster({ database: 'app' });
  for (const [db, [table, rows]] of Object.entries(MEMBERS)) {
    await cluster.sql(`CREATE DATABASE ${db}`);
    const url = cluster.url.replace(/\/app$/, `/${db}`);
    execFileSync(psql, [
      url,
      '-qc',
      `CREATE TABLE ${table} (id int PRIMARY KEY, v text); INSERT INTO ${table} SELECT g, 'v' || g FROM generate_series(1, ${rows}) g;`,
    ]);
  }
  await cluster.sql('CREATE DATABASE tmpl IS_TEMPLATE true');
  await cluster.sql('CREATE DATABASE closed ALLOW_CONNECTIONS false');
  work = await tempDir('dbdrill-fleet-');
  // the drill's migrate-command may run as another user than the test: the counts file is shared
  await chmod(work.dir, 0o755);
  storeDir = join(work.dir, 'store');
  jointStore = join(work.dir, 'joint-store');
  separate = await runBackup(
    backupRaw({ databases: ['all'], 'exclude-databases': ['app, postgres'], format: 'custom' }),
  );
  joint = await runBackup({
    'database-url': [cluster.url],
    store: jointStore,
    name: 'joint',
    databases: ['all'],
    'exclude-databases': ['app', 'postgres'],
    'fleet-mode': 'one-recovery-point',
  });
}, 180_000);

afterAll(async () => {
  await cluster?.stop();
  await work?.remove();
});

describe('fleet backup, separate', () => {
  it('backs up every database that accepts connections, minus the excluded ones and the templates, one bundle each', async () => {
    expect(separate.ok).toBe(true);
    expect(separate.members.map((m) => [m.member.database, m.member.name])).toEqual([
      ['alpha', 'fleet-alpha'],
      ['beta', 'fleet-beta'],
      ['gamma', 'fleet-gamma'],
    ]);
    const files = await readdir(storeDir);
    for (const db of Object.keys(MEMBERS)) {
      const bundles = files.filter((f) => f.startsWith(`fleet-${db}-`) && f.endsWith('.dbdrill.tar'));
      expect(bundles).toHaveLength(1);
      const m = JSON.parse(
        execFileSync('tar', ['-xOf', join(storeDir, bundles[0]), 'manifest.json'], { encoding: 'utf8' }),
      ) as Manifest;
      expect(m.name).toBe(`fleet-${db}`);
      expect(m.components.map((c) => c.database)).toEqual([db]);
    }
    expect(files.some((f) => /tmpl|closed|fleet-app-|fleet-postgres-/.test(f))).toBe(false);
    const rows = separate.members.map((m) => m.result?.rows);
    expect(rows).toEqual([11, 22, 33]);
  });

  it('writes the fleet record: members, mode, time; no connection secrets', async () => {
    const record = await readFleetRecord(openStore(storeDir, { logger: new MemoryLogger() }), 'fleet');
    expect(record).toMatchObject({
      format: 'dbdrill-fleet',
      name: 'fleet',
      mode: 'separate',
      members: [
        { database: 'alpha', name: 'fleet-alpha' },
        { database: 'beta', name: 'fleet-beta' },
        { database: 'gamma', name: 'fleet-gamma' },
      ],
    });
    expect(Date.parse(record!.updatedAt)).not.toBeNaN();
    const text = await readFile(join(storeDir, 'fleet.fleet.json'), 'utf8');
    expect(text).not.toContain(cluster.url);
  });

  it('summarizes: one row per member with bundle, age, no drill yet, status', () => {
    const s = separate.summary;
    expect(s).toMatchObject({ command: 'backup', mode: 'separate', ok: true, failed: [] });
    expect(s.members.map((m) => [m.database, m.status, m.lastDrill])).toEqual([
      ['alpha', 'passed', undefined],
      ['beta', 'passed', undefined],
      ['gamma', 'passed', undefined],
    ]);
    for (const m of s.members) expect(m.bundle).toMatch(new RegExp(`^fleet-${m.database}-\\d{8}T\\d{6}Z`));
    const md = fleetMarkdown(s);
    expect(md).toContain(
      '| database | bundle | bundle age | last drill | RTO / budget | RPO / budget | status |',
    );
    expect(md).toMatch(/\| alpha \| fleet-alpha-\S+ \| [^|]+ \| never \| — \| — \| passed \|/);
    expect(fleetText(s).split('\n')[0]).toBe('fleet fleet (separate) backup: 3 of 3 passed');
  });

  it('backs up named databases only, with the same naming', async () => {
    const r = await runBackup(backupRaw({ name: 'named', databases: ['gamma,alpha'], format: 'custom' }));
    expect(r.members.map((m) => m.member.name)).toEqual(['named-gamma', 'named-alpha']);
    expect(r.members.map((m) => m.result?.rows)).toEqual([33, 11]);
  });
});

describe('fleet backup from several database-url lines', () => {
  const urlOf = (db: string) => cluster.url.replace(/\/app$/, `/${db}`);

  it('without fleet-mode they stay one joint recovery point (no fleet)', () => {
    expect(
      parseBackupFleet(new OptionReader(backupRaw({ 'database-url': [urlOf('alpha'), urlOf('beta')] }))),
    ).toBe(undefined);
  });

  it('with fleet-mode separate: one bundle per URL, named by its database', async () => {
    const r = await runBackup(
      backupRaw({
        name: 'urls',
        'database-url': [urlOf('gamma'), urlOf('alpha')],
        'fleet-mode': 'separate',
        format: 'custom',
      }),
    );
    expect(r.members.map((m) => [m.member.name, m.result?.rows])).toEqual([
      ['urls-gamma', 33],
      ['urls-alpha', 11],
    ]);
    const record = await readFleetRecord(openStore(storeDir, { logger: new MemoryLogger() }), 'urls');
    expect(record?.members.map((m) => m.database)).toEqual(['gamma', 'alpha']);
  });

  it('refuses a URL that names no database, and one database twice', async () => {
    const noDb = cluster.url.replace(/\/app$/, '');
    const e1 = await runBackup(
      backupRaw({ 'database-url': [urlOf('alpha'), noDb], 'fleet-mode': 'separate' }),
    ).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(e1).toBeInstanceOf(ConfigError);
    expect(String(e1)).toMatch(/database-url line 2 names no database/);
    const e2 = await runBackup(
      backupRaw({ 'database-url': [urlOf('alpha'), urlOf('alpha')], 'fleet-mode': 'separate' }),
    ).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(String(e2)).toMatch(/names the database "alpha" twice/);
  });
});

describe('the CLI, a fleet backup', () => {
  it('prints the fleet table on stdout, and with --json the fleet key', async () => {
    let out = '';
    const args = ['backup', '--database-url', cluster.url, '--store', storeDir, '--name', 'cli'];
    const io = { stdout: (t: string) => (out += t), stderr: () => undefined, env: process.env };
    expect(await runCli([...args, '--databases', 'beta', '--format', 'custom'], io)).toBe(0);
    expect(out.split('\n')[0]).toBe('fleet cli (separate) backup: 1 of 1 passed');
    expect(out).toMatch(/^database +bundle +bundle age +last drill +RTO \/ budget +RPO \/ budget +status$/m);
    expect(out).toMatch(/^beta +cli-beta-\d{8}T\d{6}Z\.dbdrill\.tar .* passed$/m);
    out = '';
    expect(await runCli([...args, '--databases', 'alpha, gamma', '--format', 'custom', '--json'], io)).toBe(
      0,
    );
    const json = JSON.parse(out) as {
      ok: boolean;
      bundles: string[];
      sizeBytes: number;
      fleet: { members: unknown[] };
    };
    expect(json.ok).toBe(true);
    expect(json.bundles).toHaveLength(2);
    expect(json.fleet.members).toHaveLength(2);
    expect(json.sizeBytes).toBeGreaterThan(0);
  });
});

describe('the backup action, a fleet', () => {
  it('sets bundle and sha256 one a line, the total size, fleet-json, and the table as the job summary', async () => {
    const saved = { ...process.env };
    const writes: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      writes.push(String(chunk));
      return true;
    });
    const outputFile = join(work.dir, 'github_output');
    const summaryFile = join(work.dir, 'step_summary');
    try {
      await writeFile(outputFile, '');
      await writeFile(summaryFile, '');
      process.env.GITHUB_OUTPUT = outputFile;
      process.env.GITHUB_STEP_SUMMARY = summaryFile;
      const inputs = {
        'database-url': cluster.url,
        store: storeDir,
        name: 'act',
        databases: 'beta\ngamma',
        format: 'custom',
      };
      for (const [k, v] of Object.entries(inputs)) process.env[inputEnvName(k)] = v;
      const { run } = await import('../src/actions/backup/main.js');
      await run();
      expect(process.exitCode).toBeUndefined();
      const outputs = parseOutputFile(await readFile(outputFile, 'utf8'));
      expect(outputs.bundle.split('\n').map((b) => b.slice(b.lastIndexOf('/') + 1))).toEqual([
        expect.stringMatching(/^act-beta-\d{8}T\d{6}Z\.dbdrill\.tar$/),
        expect.stringMatching(/^act-gamma-\d{8}T\d{6}Z\.dbdrill\.tar$/),
      ]);
      expect(outputs.sha256.split('\n')).toHaveLength(2);
      const sizes = await Promise.all(outputs.bundle.split('\n').map((b) => stat(b).then((x) => x.size)));
      expect(Number(outputs['size-bytes'])).toBe(sizes[0] + sizes[1]);
      const fleet = JSON.parse(outputs['fleet-json']) as { ok: boolean; members: { database: string }[] };
      expect(fleet.ok).toBe(true);
      expect(fleet.members.map((m) => m.database)).toEqual(['beta', 'gamma']);
      expect(await readFile(summaryFile, 'utf8')).toMatch(
        /fleet act \(separate\) backup: 2 of 2 passed[\s\S]*\| beta \| act-beta-/,
      );
    } finally {
      spy.mockRestore();
      process.exitCode = undefined;
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
    }
  });
});

describe('the restore-drill action, a fleet', () => {
  it('drills every recorded member; status, the worst RTO, fleet-json and the job summary; a failing member fails the step', async () => {
    const saved = { ...process.env };
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const outputFile = join(work.dir, 'github_output_drill');
    // @actions/core's summary keeps the first GITHUB_STEP_SUMMARY path it saw (one step, one process)
    const summaryFile = join(work.dir, 'step_summary');
    const reportDir = join(work.dir, 'action-fleet-report');
    try {
      await writeFile(outputFile, '');
      await writeFile(summaryFile, '');
      process.env.GITHUB_OUTPUT = outputFile;
      process.env.GITHUB_STEP_SUMMARY = summaryFile;
      // the 'act' fleet the backup action stored above: beta and gamma; gamma's budget cannot be met
      const inputs = {
        store: storeDir,
        name: 'act',
        databases: 'all',
        provision: 'local',
        'report-dir': reportDir,
        'assert-sql': "SELECT current_database() <> 'gamma'",
      };
      for (const [k, v] of Object.entries(inputs)) process.env[inputEnvName(k)] = v;
      const { run } = await import('../src/actions/restore-drill/main.js');
      await run();
      expect(process.exitCode).toBe(1);
      const outputs = parseOutputFile(await readFile(outputFile, 'utf8'));
      expect(outputs.status).toBe('failed');
      expect(outputs['report-path']).toBe(reportDir);
      const fleet = JSON.parse(outputs['fleet-json']) as {
        ok: boolean;
        failed: string[];
        members: { database: string; status: string; rtoSeconds: number | null; reason?: string }[];
      };
      expect(fleet.ok).toBe(false);
      expect(fleet.failed).toEqual(['gamma']);
      expect(fleet.members.map((m) => [m.database, m.status])).toEqual([
        ['beta', 'passed'],
        ['gamma', 'failed'],
      ]);
      expect(fleet.members[1].reason).toMatch(/assert/i);
      const rtos = fleet.members.map((m) => m.rtoSeconds).filter((x): x is number => x !== null);
      expect(Number(outputs['rto-seconds'])).toBe(Math.max(...rtos));
      // each member's own report, and the fleet summary beside them
      for (const member of ['act-beta', 'act-gamma'])
        expect((await stat(join(reportDir, member, 'drill-report.json'))).isFile()).toBe(true);
      expect((await stat(join(reportDir, 'fleet-summary.json'))).isFile()).toBe(true);
      expect(await readFile(summaryFile, 'utf8')).toMatch(/fleet act \(separate\) drill: 1 of 2 passed/);
    } finally {
      spy.mockRestore();
      process.exitCode = undefined;
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
    }
  }, 240_000);
});

describe('fleet backup, one recovery point', () => {
  it('is one bundle with a PostgreSQL component per database, recorded per member', async () => {
    expect(joint.ok).toBe(true);
    const keys = new Set(joint.members.map((m) => m.result?.key));
    expect(keys.size).toBe(1);
    const bundle = joint.members[0].result!.bundle;
    const m = JSON.parse(
      execFileSync('tar', ['-xOf', bundle, 'manifest.json'], { encoding: 'utf8' }),
    ) as Manifest;
    expect(m.name).toBe('joint');
    expect(m.components.map((c) => [c.id, c.database])).toEqual([
      ['postgres', 'alpha'],
      ['postgres-2', 'beta'],
      ['postgres-3', 'gamma'],
    ]);
    const record = await readFleetRecord(openStore(jointStore, { logger: new MemoryLogger() }), 'joint');
    expect(record?.mode).toBe('one-recovery-point');
    expect(record?.members).toEqual([
      { database: 'alpha', name: 'joint-alpha', component: 'postgres' },
      { database: 'beta', name: 'joint-beta', component: 'postgres-2' },
      { database: 'gamma', name: 'joint-gamma', component: 'postgres-3' },
    ]);
  });
});

describe('fleet drill', () => {
  it('separate, all members: each newest bundle drilled and passing; rows counted independently match', async () => {
    const countsFile = join(work.dir, 'counts-separate.txt');
    const r = await runDrill(drillRaw({ databases: ['all'] }, countsFile));
    expect(r.ok).toBe(true);
    expect(r.status).toBe('passed');
    expect(r.summary.members.map((m) => [m.database, m.status, m.lastDrill?.status])).toEqual([
      ['alpha', 'passed', 'passed'],
      ['beta', 'passed', 'passed'],
      ['gamma', 'passed', 'passed'],
    ]);
    // psql, not dbdrill, counted: one table per member and its exact rows
    expect(await counted(countsFile)).toEqual(['alpha 1 11', 'beta 1 22', 'gamma 1 33']);
    for (const m of r.summary.members) {
      expect(m.rtoBudgetSeconds).toBe(600);
      expect(m.rpoBudgetSeconds).toBe(86400);
      expect(m.rtoSeconds).not.toBeNull();
      const report = JSON.parse(await readFile(join(m.reportDir!, 'drill-report.json'), 'utf8')) as {
        name: string;
        status: string;
      };
      expect(report).toMatchObject({ name: `fleet-${m.database}`, status: 'passed' });
    }
    const summaryJson = JSON.parse(await readFile(join(r.reportDir, 'fleet-summary.json'), 'utf8')) as {
      ok: boolean;
    };
    expect(summaryJson.ok).toBe(true);
    // each member's history is its own, so the next backup's summary shows the last drill
    const history = await readFile(join(storeDir, 'fleet-beta.drill-history.jsonl'), 'utf8');
    expect(history.trim().split('\n')).toHaveLength(1);
    const again = await runBackup(backupRaw({ databases: ['beta'], format: 'custom' }));
    expect(again.summary.members[0].lastDrill?.status).toBe('passed');
    // a named part of a separate fleet joins the record; it does not replace it
    const record = await readFleetRecord(openStore(storeDir, { logger: new MemoryLogger() }), 'fleet');
    expect(record?.members.map((m) => m.database)).toEqual(['alpha', 'beta', 'gamma']);
  }, 240_000);

  it('one recovery point: each component restored into its own target and checked against its own TOC', async () => {
    const countsFile = join(work.dir, 'counts-joint.txt');
    // A backup that lands while the fleet is drilled (here: a copy named later, made by the first
    // member's migrate-command) must not move later members to another recovery point.
    const jointKey = (await readdir(jointStore))
      .filter((f) => /^joint-\d{8}T\d{6}Z.*\.tar$/.test(f))
      .sort()
      .at(-1)!;
    const later = jointKey.replace(/\d{8}T\d{6}Z/, '29991231T235959Z');
    const landing = `cp -n '${join(jointStore, jointKey)}' '${join(jointStore, later)}'`;
    const raw = drillRaw({ store: jointStore, name: 'joint', databases: ['all'] }, countsFile);
    raw['migrate-command'] = `${String(raw['migrate-command'])} && ${landing}`;
    const r = await runDrill(raw).finally(() => rm(join(jointStore, later), { force: true }));
    expect(r.members.map((m) => m.result!.report.bundle?.endsWith(jointKey))).toEqual([true, true, true]);
    expect(r.summary.failed).toEqual([]);
    expect(r.mode).toBe('one-recovery-point');
    expect(await counted(countsFile)).toEqual(['alpha 1 11', 'beta 1 22', 'gamma 1 33']);
    for (const m of r.members) {
      // the structure check compared this member's own tables, not the last dump's
      const structure = m.result!.report.checks.filter((c) => c.group === 'structure');
      expect(structure.length).toBeGreaterThan(0);
      expect(structure.every((c) => c.ok)).toBe(true);
      // the report's source is the member's own database, not the bundle's first component
      expect(m.result!.report.source?.database).toBe(m.member.database);
      expect(m.result!.report.sources).toBeUndefined();
      const table = MEMBERS[m.member.database as keyof typeof MEMBERS][0];
      expect(m.result!.counts.map((c) => [c.name, c.actual])).toEqual([
        [`public.${table}`, MEMBERS[m.member.database as keyof typeof MEMBERS][1]],
      ]);
    }
    expect(await stat(join(jointStore, 'joint-gamma.drill-history.jsonl'))).toBeTruthy();
  }, 240_000);

  it('one failing member: the others are still drilled, exit 1, the summary says which and why; one notification per member, one ping', async () => {
    // corrupt beta's bundle in the middle: its stored bytes no longer match the sha256 sidecar
    const betaKey = (await readdir(storeDir))
      .filter((f) => /^fleet-beta-.*\.dbdrill\.tar$/.test(f))
      .sort()
      .at(-1)!;
    const fh = await open(join(storeDir, betaKey), 'r+');
    const { size } = await fh.stat();
    await fh.write(Buffer.from('CORRUPTED'), 0, 9, Math.floor(size / 2));
    await fh.close();

    const hook = await startCaptureServer();
    const countsFile = join(work.dir, 'counts-failing.txt');
    const metricsFile = join(work.dir, 'fleet.prom');
    const raw = drillRaw({}, countsFile);
    let out = '';
    let err = '';
    try {
      const code = await runCli(
        [
          'drill',
          '--store',
          storeDir,
          '--name',
          'fleet',
          '--databases',
          'all',
          '--provision',
          'local',
          '--rto',
          '10m',
          '--migrate-command',
          raw['migrate-command'] as string,
          '--report-dir',
          raw['report-dir'] as string,
          '--notify-url',
          `${hook.url}/hook`,
          '--notify-on',
          'always',
          '--ping-url',
          `${hook.url}/ping`,
          '--metrics-file',
          metricsFile,
          '--json',
        ],
        { stdout: (t) => (out += t), stderr: (t) => (err += t), env: process.env },
      );
      expect({ code, err: code === 1 ? '' : err }).toEqual({ code: 1, err: '' });
      const json = JSON.parse(out) as { ok: boolean; status: string; fleet: FleetDrillResult['summary'] };
      expect(json.ok).toBe(false);
      expect(json.status).toBe('failed');
      expect(json.fleet.failed).toEqual(['beta']);
      const beta = json.fleet.members.find((m) => m.database === 'beta')!;
      expect(beta.status).toBe('failed');
      expect(beta.reason).toMatch(/fetch \+ verify|sha256|checksum|verif/i);
      // gamma comes after the failure and was still drilled
      expect(await counted(countsFile)).toEqual(['alpha 1 11', 'gamma 1 33']);
      const md = await readFile(join(raw['report-dir'] as string, 'fleet-summary.md'), 'utf8');
      expect(md).toContain('fleet fleet (separate) drill: 2 of 3 passed');
      expect(md).toMatch(/- \*\*beta\*\*: /);

      const posts = hook.requests.filter((q) => q.path === '/hook');
      expect(posts).toHaveLength(3);
      expect(posts.map((p) => p.body).join('\n')).toMatch(/fleet-alpha[\s\S]*fleet-beta[\s\S]*fleet-gamma/);
      const pings = hook.requests.filter((q) => q.path.startsWith('/ping')).map((q) => q.path);
      expect(pings).toEqual(['/ping/start', '/ping/fail']);
      const prom = await readFile(metricsFile, 'utf8');
      for (const db of Object.keys(MEMBERS)) expect(prom).toContain(`name="fleet-${db}"`);
      expect(prom).not.toContain('name="fleet"');
    } finally {
      await hook.close();
    }
  }, 240_000);
});

describe('fleet ConfigErrors (exit 2), each naming the inputs', () => {
  const parseError = (f: () => unknown): string => {
    try {
      f();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      return (e as Error).message;
    }
    throw new Error('no ConfigError');
  };
  const backupParse = (raw: RawOptions) => () => parseBackupFleet(new OptionReader(raw));
  const drillParse = (raw: RawOptions) => () => parseDrillFleet(new OptionReader(raw));

  it('refuses bad combinations before any work', () => {
    expect(
      parseError(backupParse(backupRaw({ databases: ['alpha'], 'exclude-databases': ['beta'] }))),
    ).toMatch(/exclude-databases only applies with databases: all/);
    expect(
      parseError(backupParse(backupRaw({ 'database-url': [cluster.url, cluster.url], databases: ['all'] }))),
    ).toMatch(/databases needs exactly one database-url .* got 2/);
    expect(
      parseError(backupParse(backupRaw({ 'database-url': ['mongodb://h:27017/x'], databases: ['all'] }))),
    ).toMatch(/databases lists the databases of a PostgreSQL cluster, but database-url is a mongodb URL/);
    expect(parseError(backupParse(backupRaw({ 'fleet-mode': 'separate' })))).toMatch(
      /fleet-mode applies to a fleet: set databases/,
    );
    expect(parseError(backupParse(backupRaw({ databases: ['all, alpha'] })))).toMatch(
      /mixes "all" with names/,
    );
    expect(parseError(backupParse(backupRaw({ databases: ['all'], 'fleet-mode': 'both' })))).toMatch(
      /fleet-mode "both" is not valid; expected one of: separate, one-recovery-point/,
    );
    expect(parseError(drillParse({ bundle: '/x.tar', databases: ['all'], provision: 'local' }))).toMatch(
      /remove bundle/,
    );
    expect(parseError(drillParse({ databases: ['all'], provision: 'local' }))).toMatch(
      /databases needs store and name/,
    );
    expect(
      parseError(
        drillParse({ store: storeDir, name: 'fleet', databases: ['all'], 'target-url': [cluster.url] }),
      ),
    ).toMatch(/remove the postgres:\/\/ target-url and set provision/);
    expect(parseError(drillParse({ store: storeDir, name: 'fleet', 'fleet-mode': 'separate' }))).toMatch(
      /fleet-mode applies to a fleet drill/,
    );
  });

  it('refuses unknown names (listing the existing ones), unknown excludes, closed databases and an empty fleet', async () => {
    const reject = (raw: RawOptions) =>
      runBackup(backupRaw(raw)).then(
        () => '',
        (e: Error) => e,
      );
    const unknown = await reject({ databases: ['alpha', 'nope'] });
    expect(unknown).toBeInstanceOf(ConfigError);
    expect((unknown as Error).message).toBe(
      'databases names "nope", which the cluster does not have; its databases: alpha, app, beta, closed, gamma, postgres, template0, template1, tmpl',
    );
    expect(String(await reject({ databases: ['all'], 'exclude-databases': ['nope'] }))).toMatch(
      /exclude-databases names "nope", which the cluster does not have/,
    );
    expect(String(await reject({ databases: ['tmpl'] }))).toMatch(
      /template or a database that does not accept connections/,
    );
    expect(
      String(await reject({ databases: ['all'], 'exclude-databases': ['alpha,beta,gamma,app,postgres'] })),
    ).toMatch(/all leaves no database to back up after exclude-databases/);
  });

  it('a fleet drill: all without a record, a name not in the record, a mode the record contradicts', async () => {
    const reject = (raw: RawOptions) =>
      runDrill({ provision: 'local', store: storeDir, name: 'fleet', ...raw }).then(
        () => undefined,
        (e: Error) => e,
      );
    const none = await reject({ name: 'nofleet', databases: ['all'] });
    expect(none).toBeInstanceOf(ConfigError);
    expect(String(none)).toMatch(/databases: all needs the fleet record nofleet.fleet.json/);
    expect(String(await reject({ databases: ['delta'] }))).toMatch(
      /databases names "delta", which the fleet fleet does not have; its members: alpha, beta, gamma/,
    );
    expect(String(await reject({ databases: ['all'], 'fleet-mode': 'one-recovery-point' }))).toMatch(
      /fleet-mode is "one-recovery-point" but the fleet record fleet.fleet.json .* says "separate"/,
    );
    expect(String(await reject({ databases: ['all'], 'exclude-databases': ['alpha,beta,gamma'] }))).toMatch(
      /all leaves no member to drill/,
    );
  });

  it('the CLI exits 2 with the message, before any work', async () => {
    let err = '';
    const code = await runCli(
      [
        'backup',
        '--database-url',
        cluster.url,
        '--store',
        storeDir,
        '--name',
        'x',
        '--exclude-databases',
        'a',
      ],
      { stdout: () => undefined, stderr: (t) => (err += t), env: process.env },
    );
    expect(code).toBe(2);
    expect(err).toContain('--exclude-databases only applies with --databases: all');
  });
});

/** A fleet verify through the same parsers as the front ends; `clock` moves "now" for max-age. */
async function runVerify(raw: RawOptions, clock?: Clock): Promise<FleetVerifyResult> {
  const reader = new OptionReader(raw);
  const selection = parseVerifyFleet(reader);
  if (!selection) throw new Error('not a fleet');
  return verifyFleet(testDeps({ clock }), parseVerifyOptions(reader), selection);
}

/** The failed fleet result a failing fleet verify carries. */
async function failedVerify(raw: RawOptions, clock?: Clock): Promise<FleetVerifyResult> {
  const err = await runVerify(raw, clock).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CheckFailed);
  return (err as CheckFailed).result as FleetVerifyResult;
}

/** Three days after now: every bundle of this run is older than a 1d max-age. */
const threeDaysOn = () => fixedClock(new Date(Date.now() + 3 * 86_400_000));

describe('fleet verify', () => {
  // its own store: the drill tests above corrupt a member of the shared one
  let verifyStore: string;
  beforeAll(async () => {
    verifyStore = join(work.dir, 'verify-store');
    const backed = await runBackup(
      backupRaw({
        store: verifyStore,
        name: 'vf',
        databases: ['all'],
        'exclude-databases': ['app, postgres'],
        format: 'custom',
      }),
    );
    expect(backed.ok).toBe(true);
  }, 120_000);

  it('separate, all members: each newest bundle verified; age against max-age as the RPO', async () => {
    const r = await runVerify({
      store: verifyStore,
      name: 'vf',
      databases: ['all'],
      'max-age': '1d',
      deep: 'true',
    });
    expect(r.ok).toBe(true);
    expect(r.mode).toBe('separate');
    expect(r.summary.command).toBe('verify');
    expect(r.members.map((m) => [m.member.database, m.result?.ok])).toEqual([
      ['alpha', true],
      ['beta', true],
      ['gamma', true],
    ]);
    // each member read its own bundle, deep: the rows counted are that member's table
    for (const m of r.members) {
      expect(m.result!.key).toMatch(new RegExp(`^vf-${m.member.database}-.*\\.dbdrill\\.tar$`));
      const [table, rows] = MEMBERS[m.member.database as keyof typeof MEMBERS];
      expect(m.result!.pgDump?.rows).toEqual({ [`public.${table}`]: rows });
    }
    for (const row of r.summary.members) {
      expect(row.status).toBe('passed');
      expect(row.rpoBudgetSeconds).toBe(86_400);
      expect(row.rpoSeconds).toEqual(expect.any(Number));
      expect(row.bundle).toMatch(new RegExp(`^vf-${row.database}-`));
      expect(row.note).toBeUndefined();
    }
    expect(r.ageSeconds).toBe(Math.max(...r.summary.members.map((m) => m.rpoSeconds!)));
    const text = fleetText(r.summary).split('\n');
    expect(text[0]).toBe('fleet vf (separate) verify: 3 of 3 passed');
    expect(text[1]).toMatch(/^database\s+bundle\s+RPO \(age\) \/ max-age\s+status$/);
    expect(text[2]).toMatch(/^alpha\s+vf-alpha-\S+\s+.* \/ 24h 00m ok\s+passed$/);
    // names select members of the record, in the order given
    const named = await runVerify({ store: verifyStore, name: 'vf', databases: ['gamma, alpha'] });
    expect(named.members.map((m) => m.member.database)).toEqual(['gamma', 'alpha']);
  }, 120_000);

  it('max-age exceeded for every member: all failed with the age as the reason', async () => {
    const r = await failedVerify(
      { store: verifyStore, name: 'vf', databases: ['all'], 'max-age': '1d' },
      threeDaysOn(),
    );
    expect(r.ok).toBe(false);
    expect(r.summary.failed).toEqual(['alpha', 'beta', 'gamma']);
    for (const row of r.summary.members) {
      expect(row.status).toBe('failed');
      expect(row.reason).toMatch(/backup age: \d+ s old .*over max-age 86400 s/);
      expect(row.rpoSeconds).toBeGreaterThan(86_400);
    }
    expect(fleetMarkdown(r.summary)).toMatch(/\| beta \| vf-beta-\S+ \| .* \/ 24h 00m over \| failed \|/);
  }, 120_000);

  it('one recovery point: the joint bundle verified once, its verdict shared by every member row', async () => {
    const r = await runVerify({ store: jointStore, name: 'joint', databases: ['all'], 'max-age': '1d' });
    expect(r.mode).toBe('one-recovery-point');
    expect(r.ok).toBe(true);
    // one read: every member carries the very same result
    expect(new Set(r.members.map((m) => m.result)).size).toBe(1);
    expect(r.summary.members.map((m) => [m.database, m.component, m.status])).toEqual([
      ['alpha', 'postgres', 'passed'],
      ['beta', 'postgres-2', 'passed'],
      ['gamma', 'postgres-3', 'passed'],
    ]);
    expect(new Set(r.summary.members.map((m) => m.bundle)).size).toBe(1);
    expect(r.summary.members[0].bundle).toBe(joint.members[0].result!.key);
    for (const row of r.summary.members)
      expect(row.note).toMatch(/joint bundle's verdict, shared by every member/);
    expect(fleetText(r.summary)).toMatch(/passed \(the joint bundle's verdict, shared by every member\)/);
    // too old: one verdict, failed for all, with the same reason
    const old = await failedVerify(
      { store: jointStore, name: 'joint', databases: ['all'], 'max-age': '1d' },
      threeDaysOn(),
    );
    expect(old.summary.failed).toEqual(['alpha', 'beta', 'gamma']);
    expect(new Set(old.summary.members.map((m) => m.reason)).size).toBe(1);
    expect(old.summary.members[0].reason).toMatch(/over max-age/);
  }, 120_000);

  it('the verify action: verified, bundle one a line, the oldest age, fleet-json and the job summary', async () => {
    const saved = { ...process.env };
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const outputFile = join(work.dir, 'github_output_verify');
    // @actions/core's summary keeps the first GITHUB_STEP_SUMMARY path it saw (one step, one process)
    const summaryFile = join(work.dir, 'step_summary');
    try {
      await writeFile(outputFile, '');
      await writeFile(summaryFile, '');
      process.env.GITHUB_OUTPUT = outputFile;
      process.env.GITHUB_STEP_SUMMARY = summaryFile;
      const inputs = { store: verifyStore, name: 'vf', databases: 'all', 'max-age': '1d' };
      for (const [k, v] of Object.entries(inputs)) process.env[inputEnvName(k)] = v;
      const { run } = await import('../src/actions/verify/main.js');
      await run();
      expect(process.exitCode ?? 0).toBe(0);
      const outputs = parseOutputFile(await readFile(outputFile, 'utf8'));
      expect(outputs.verified).toBe('true');
      expect(outputs.bundle.split('\n').map((b) => b.slice(b.lastIndexOf('/') + 1))).toEqual(
        ['alpha', 'beta', 'gamma'].map((db) =>
          expect.stringMatching(new RegExp(`^vf-${db}-.*\\.dbdrill\\.tar$`)),
        ),
      );
      const fleet = JSON.parse(outputs['fleet-json']) as FleetVerifyResult['summary'];
      expect(fleet.command).toBe('verify');
      expect(fleet.ok).toBe(true);
      expect(fleet.members.map((m) => m.database)).toEqual(['alpha', 'beta', 'gamma']);
      expect(Number(outputs['age-seconds'])).toBe(Math.max(...fleet.members.map((m) => m.bundleAgeSeconds!)));
      expect(await readFile(summaryFile, 'utf8')).toMatch(/fleet vf \(separate\) verify: 3 of 3 passed/);
    } finally {
      spy.mockRestore();
      process.exitCode = undefined;
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
    }
  }, 120_000);

  it('one corrupt member: the others still verified, exit 1, the summary says which and why; one notification per member, one ping', async () => {
    const betaKey = (await readdir(verifyStore))
      .filter((f) => /^vf-beta-.*\.dbdrill\.tar$/.test(f))
      .sort()
      .at(-1)!;
    const fh = await open(join(verifyStore, betaKey), 'r+');
    const { size } = await fh.stat();
    await fh.write(Buffer.from('CORRUPTED'), 0, 9, Math.floor(size / 2));
    await fh.close();

    const hook = await startCaptureServer();
    const metricsFile = join(work.dir, 'verify-fleet.prom');
    const args = ['verify', '--store', verifyStore, '--name', 'vf', '--databases', 'all', '--max-age', '1d'];
    let out = '';
    let err = '';
    try {
      const code = await runCli(
        [
          ...args,
          '--notify-url',
          `${hook.url}/hook`,
          '--notify-on',
          'always',
          '--ping-url',
          `${hook.url}/ping`,
          '--metrics-file',
          metricsFile,
          '--json',
        ],
        { stdout: (t) => (out += t), stderr: (t) => (err += t), env: process.env },
      );
      expect({ code, err: code === 1 ? '' : err }).toEqual({ code: 1, err: '' });
      const json = JSON.parse(out) as {
        ok: boolean;
        problems: string[];
        fleet: FleetVerifyResult['summary'];
      };
      expect(json.ok).toBe(false);
      expect(json.fleet.command).toBe('verify');
      expect(json.fleet.failed).toEqual(['beta']);
      expect(json.fleet.members.map((m) => [m.database, m.status])).toEqual([
        ['alpha', 'passed'],
        ['beta', 'failed'],
        ['gamma', 'passed'],
      ]);
      expect(json.fleet.members[1].reason).toMatch(/sha256|checksum/i);
      expect(json.problems).toEqual([expect.stringMatching(/^beta: /)]);
      expect(err).toMatch(/fleet verify: 1 of 3 member\(s\) failed: beta/);

      const posts = hook.requests.filter((q) => q.path === '/hook');
      expect(posts).toHaveLength(3);
      expect(posts.map((p) => p.body).join('\n')).toMatch(/vf-alpha[\s\S]*vf-beta[\s\S]*vf-gamma/);
      const pings = hook.requests.filter((q) => q.path.startsWith('/ping')).map((q) => q.path);
      expect(pings).toEqual(['/ping/start', '/ping/fail']);
      const prom = await readFile(metricsFile, 'utf8');
      for (const db of Object.keys(MEMBERS)) expect(prom).toContain(`name="vf-${db}"`);
      expect(prom).not.toContain('name="vf"');
    } finally {
      await hook.close();
    }
    // without --json: the table on stdout, then the failure
    out = '';
    expect(await runCli(args, { stdout: (t) => (out += t), stderr: () => undefined, env: process.env })).toBe(
      1,
    );
    expect(out.split('\n')[0]).toBe('fleet vf (separate) verify: 2 of 3 passed');
    expect(out).toMatch(/^beta failed: .*(sha256|checksum)/im);
  }, 120_000);

  it('ConfigErrors: all without a record, a name not in the record, a bundle, fleet-mode alone; the CLI exits 2', async () => {
    const reject = (raw: RawOptions) =>
      runVerify({ store: verifyStore, name: 'vf', ...raw }).then(
        () => undefined,
        (e: Error) => e,
      );
    const none = await reject({ name: 'nofleet', databases: ['all'] });
    expect(none).toBeInstanceOf(ConfigError);
    expect(String(none)).toMatch(/databases: all needs the fleet record nofleet.fleet.json/);
    const unknown = await reject({ databases: ['alpha, delta'] });
    expect(unknown).toBeInstanceOf(ConfigError);
    expect(String(unknown)).toMatch(
      /databases names "delta", which the fleet vf does not have; its members: alpha, beta, gamma/,
    );
    expect(String(await reject({ databases: ['all'], 'exclude-databases': ['alpha,beta,gamma'] }))).toMatch(
      /all leaves no member to verify/,
    );
    const parse = (raw: RawOptions) => {
      try {
        parseVerifyFleet(new OptionReader(raw));
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return String(e);
      }
      return 'no error';
    };
    expect(parse({ databases: ['all'], bundle: join(verifyStore, 'x.dbdrill.tar') })).toMatch(
      /remove bundle/,
    );
    expect(parse({ 'fleet-mode': 'separate', store: verifyStore, name: 'vf' })).toMatch(
      /fleet-mode applies to a fleet verify: set databases/,
    );
    expect(parse({ databases: ['all'], store: verifyStore })).toMatch(/databases needs store and name/);
    expect(parseVerifyFleet(new OptionReader({ store: verifyStore, name: 'vf' }))).toBeUndefined();

    let err = '';
    const code = await runCli(['verify', '--store', verifyStore, '--name', 'nofleet', '--databases', 'all'], {
      stdout: () => undefined,
      stderr: (t) => (err += t),
      env: process.env,
    });
    expect(code).toBe(2);
    expect(err).toContain('--databases: all needs the fleet record nofleet.fleet.json');
  });
});
