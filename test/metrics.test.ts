import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { fixedClock } from '../src/core/clock.js';
import { MemoryLogger } from './helpers/memory-logger.js';
import { OptionReader, type RawOptions } from '../src/core/options/index.js';
import { announce, type NotifyDeps } from '../src/core/notify/announce.js';
import { nodeTextFileIo, writeMetricsFile } from '../src/core/notify/metrics-file.js';
import { parseNotifySettings } from '../src/core/options/notify-options.js';
import type { NotifySettings } from '../src/core/notify/settings.js';
import type { Outcome } from '../src/core/notify/outcome.js';
import { parseExposition } from '../src/core/notify/prometheus-text.js';
import { groupingUrl } from '../src/core/notify/pushgateway.js';
import { PUSHGATEWAY_BIN, startPushgateway } from './helpers/pushgateway.js';

const PROMTOOL = process.env.DBDRILL_PROMTOOL ?? '/usr/bin/promtool';
const T1 = new Date('2026-11-29T02:00:00Z');
const T2 = new Date('2026-11-30T02:00:00Z');
const POLICY = { timeoutMs: 5000, retries: 1, backoffMs: 10 };

const goodBackup: Outcome = {
  command: 'backup',
  name: 'shop',
  ok: true,
  status: 'passed',
  bundle: 'shop-20261129T020000Z.dbdrill.tar',
  sizeBytes: 4096,
  rows: 1200,
  durationSeconds: 30.5,
};
const failedBackup: Outcome = {
  command: 'backup',
  name: 'shop',
  ok: false,
  status: 'failed',
  reason: 'pg_dump exited 1',
  durationSeconds: 2,
};
const goodDrill: Outcome = {
  command: 'drill',
  name: 'shop',
  ok: true,
  status: 'passed',
  rtoSeconds: 95.25,
  rpoSeconds: 3600,
  durationSeconds: 120,
  rows: 1200,
};

function deps(at: Date): NotifyDeps & { logger: MemoryLogger } {
  return { logger: new MemoryLogger(), clock: fixedClock(at), env: {}, host: 'db-1' };
}

function settings(raw: RawOptions): NotifySettings {
  return { ...parseNotifySettings(new OptionReader(raw)), policy: POLICY };
}

beforeAll(() => {
  for (const [bin, pkg] of [
    [PROMTOOL, 'prometheus'],
    [PUSHGATEWAY_BIN, 'prometheus-pushgateway'],
  ]) {
    if (!existsSync(bin)) throw new Error(`${bin} is missing: apt-get install -y ${pkg}`);
  }
});

/** The real promtool linter: exit 0 and no complaints, or the complaints. */
function promtoolCheck(text: string): { status: number | null; output: string } {
  const r = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8' });
  return { status: r.status, output: (r.stdout + r.stderr).trim() };
}

/** The value of one sample, by family and labels, from exposition text. */
function valueOf(text: string, name: string, labels: Record<string, string>): number | undefined {
  return parseExposition(text).find(
    (s) =>
      s.name === name &&
      Object.keys(labels).length === Object.keys(s.labels).length &&
      Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  )?.value;
}

describe('metrics-file (node_exporter textfile collector)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dbdrill-metrics-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes HELP/TYPE and labelled gauges that promtool accepts, atomically (no temp file left)', async () => {
    const file = join(dir, 'first.prom');
    const report = await announce(deps(T1), settings({ 'metrics-file': file }), goodBackup);
    expect(report.warnings).toEqual([]);
    const text = await readFile(file, 'utf8');
    expect(promtoolCheck(text)).toEqual({ status: 0, output: '' });
    const labels = { job: 'dbdrill_backup', name: 'shop' };
    expect(text).toContain('# HELP dbdrill_last_success_timestamp_seconds ');
    expect(text).toContain('# TYPE dbdrill_outcome gauge');
    expect(text).toContain('dbdrill_outcome{job="dbdrill_backup",name="shop"} 1\n');
    expect(valueOf(text, 'dbdrill_last_success_timestamp_seconds', labels)).toBe(T1.getTime() / 1000);
    expect(valueOf(text, 'dbdrill_last_run_timestamp_seconds', labels)).toBe(T1.getTime() / 1000);
    expect(valueOf(text, 'dbdrill_bundle_size_bytes', labels)).toBe(4096);
    expect(valueOf(text, 'dbdrill_rows', labels)).toBe(1200);
    expect(valueOf(text, 'dbdrill_duration_seconds', labels)).toBe(30.5);
    // a backup measures no RTO: no series rather than a misleading 0
    expect(text).not.toContain('dbdrill_rto_seconds');
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect((await stat(file)).mode & 0o777).toBe(0o644);
  });

  it('a failed run keeps the previous last-success time and size, and records the failure', async () => {
    const file = join(dir, 'fail.prom');
    await announce(deps(T1), settings({ 'metrics-file': file }), goodBackup);
    await announce(deps(T2), settings({ 'metrics-file': file }), failedBackup);
    const text = await readFile(file, 'utf8');
    const labels = { job: 'dbdrill_backup', name: 'shop' };
    expect(valueOf(text, 'dbdrill_last_success_timestamp_seconds', labels)).toBe(T1.getTime() / 1000);
    expect(valueOf(text, 'dbdrill_last_run_timestamp_seconds', labels)).toBe(T2.getTime() / 1000);
    expect(valueOf(text, 'dbdrill_outcome', labels)).toBe(0);
    expect(valueOf(text, 'dbdrill_duration_seconds', labels)).toBe(2);
    expect(valueOf(text, 'dbdrill_bundle_size_bytes', labels)).toBe(4096);
    expect(promtoolCheck(text)).toEqual({ status: 0, output: '' });
  });

  it('backup, drill and a second name share one file without erasing each other', async () => {
    const file = join(dir, 'shared.prom');
    await announce(deps(T1), settings({ 'metrics-file': file }), goodBackup);
    await announce(deps(T2), settings({ 'metrics-file': file }), goodDrill);
    await announce(deps(T2), settings({ 'metrics-file': file, 'metrics-job': 'prod' }), {
      ...goodBackup,
      name: 'billing',
      sizeBytes: 77,
    });
    const text = await readFile(file, 'utf8');
    expect(valueOf(text, 'dbdrill_bundle_size_bytes', { job: 'dbdrill_backup', name: 'shop' })).toBe(4096);
    expect(valueOf(text, 'dbdrill_rto_seconds', { job: 'dbdrill_drill', name: 'shop' })).toBe(95.25);
    expect(valueOf(text, 'dbdrill_rpo_seconds', { job: 'dbdrill_drill', name: 'shop' })).toBe(3600);
    expect(valueOf(text, 'dbdrill_bundle_size_bytes', { job: 'prod_backup', name: 'billing' })).toBe(77);
    // each family appears once, with all its samples together (promtool rejects a split family)
    expect(text.match(/# TYPE dbdrill_outcome gauge/g)).toHaveLength(1);
    expect(promtoolCheck(text)).toEqual({ status: 0, output: '' });
  });

  it('escapes label values per the exposition format and reads them back', async () => {
    const file = join(dir, 'escape.prom');
    const odd = 'we"ird\\na\nme';
    await writeMetricsFile(nodeTextFileIo, file, { ...goodBackup, name: odd }, { job: 'j', name: odd }, T1);
    await writeMetricsFile(nodeTextFileIo, file, { ...failedBackup, name: odd }, { job: 'j', name: odd }, T2);
    const text = await readFile(file, 'utf8');
    expect(text).toContain('name="we\\"ird\\\\na\\nme"');
    expect(valueOf(text, 'dbdrill_last_success_timestamp_seconds', { job: 'j', name: odd })).toBe(
      T1.getTime() / 1000,
    );
    expect(promtoolCheck(text)).toEqual({ status: 0, output: '' });
  });

  it('drops unreadable lines from a damaged file instead of failing', async () => {
    const file = join(dir, 'damaged.prom');
    await writeFile(file, 'dbdrill_outcome{job="x",name= 1\ngarbage here\nother_metric 5\n');
    await announce(deps(T1), settings({ 'metrics-file': file }), goodBackup);
    const text = await readFile(file, 'utf8');
    expect(text).not.toContain('garbage');
    expect(text).not.toContain('other_metric');
    expect(promtoolCheck(text)).toEqual({ status: 0, output: '' });
  });

  it('promtool really checks: a family without HELP is reported', () => {
    expect(promtoolCheck('# TYPE dbdrill_rows gauge\ndbdrill_rows 5\n').output).toContain('no help text');
  });
});

describe('pushgateway-url (real Prometheus Pushgateway)', () => {
  let gw: { url: string; stop: () => Promise<void> };
  beforeAll(async () => {
    gw = await startPushgateway();
  });
  afterAll(async () => {
    await gw?.stop();
  });

  interface Group {
    labels: Record<string, string>;
    [family: string]: unknown;
  }
  async function groups(): Promise<Group[]> {
    const res = await fetch(`${gw.url}/api/v1/metrics`);
    const json = (await res.json()) as { data: Group[] };
    return json.data;
  }
  function groupValue(all: Group[], job: string, name: string, family: string): number | undefined {
    const g = all.find((x) => x.labels.job === job && x.labels.name === name);
    const fam = g?.[family] as { metrics: { value: string }[] } | undefined;
    return fam ? Number(fam.metrics[0].value) : undefined;
  }

  it('backup and drill land in their own groups; a failed backup keeps last-success', async () => {
    const s = settings({ 'pushgateway-url': gw.url });
    expect((await announce(deps(T1), s, goodBackup)).warnings).toEqual([]);
    expect((await announce(deps(T1), s, goodDrill)).warnings).toEqual([]);
    expect((await announce(deps(T2), s, failedBackup)).warnings).toEqual([]);

    const all = await groups();
    expect(groupValue(all, 'dbdrill_backup', 'shop', 'dbdrill_last_success_timestamp_seconds')).toBe(
      T1.getTime() / 1000,
    );
    expect(groupValue(all, 'dbdrill_backup', 'shop', 'dbdrill_last_run_timestamp_seconds')).toBe(
      T2.getTime() / 1000,
    );
    expect(groupValue(all, 'dbdrill_backup', 'shop', 'dbdrill_outcome')).toBe(0);
    expect(groupValue(all, 'dbdrill_backup', 'shop', 'dbdrill_bundle_size_bytes')).toBe(4096);
    expect(groupValue(all, 'dbdrill_drill', 'shop', 'dbdrill_rto_seconds')).toBe(95.25);
    expect(groupValue(all, 'dbdrill_drill', 'shop', 'dbdrill_outcome')).toBe(1);

    // what Prometheus scrapes: both jobs, labelled by the grouping key, HELP included
    const scraped = await (await fetch(`${gw.url}/metrics`)).text();
    expect(scraped).toContain('# HELP dbdrill_rto_seconds ');
    expect(scraped).toMatch(/dbdrill_outcome\{instance="",job="dbdrill_backup",name="shop"\} 0/);
    expect(scraped).toMatch(/dbdrill_outcome\{instance="",job="dbdrill_drill",name="shop"\} 1/);
  });

  it('a name outside the URL-safe set travels base64-encoded and arrives intact', async () => {
    expect(groupingUrl({ url: 'http://gw:9091/', job: 'j', name: 'a/b' })).toBe(
      'http://gw:9091/metrics/job/j/name@base64/YS9i',
    );
    const s = settings({ 'pushgateway-url': gw.url });
    expect((await announce(deps(T1), s, { ...goodBackup, name: 'tenant/a b' })).warnings).toEqual([]);
    expect(groupValue(await groups(), 'dbdrill_backup', 'tenant/a b', 'dbdrill_outcome')).toBe(1);
  });

  it('a Pushgateway that is down is a warning naming it', async () => {
    const down = settings({ 'pushgateway-url': 'http://127.0.0.1:1' });
    const d = deps(T1);
    const report = await announce(d, down, goodBackup);
    expect(report.warnings[0]).toContain(
      "metrics not pushed to the Pushgateway (the run's result is unchanged): http://127.0.0.1:1 (job dbdrill_backup, name shop)",
    );
  });
});

describe('examples/prometheus/dbdrill-alerts.yml', () => {
  it('is valid and its alerts fire when they should (promtool check rules, promtool test rules)', () => {
    const check = spawnSync(PROMTOOL, ['check', 'rules', 'examples/prometheus/dbdrill-alerts.yml'], {
      encoding: 'utf8',
    });
    expect([check.status, check.stdout + check.stderr]).toEqual([
      0,
      expect.stringContaining('SUCCESS: 5 rules found'),
    ]);
    const unit = spawnSync(PROMTOOL, ['test', 'rules', 'test/fixtures/prometheus/dbdrill-alerts.test.yml'], {
      encoding: 'utf8',
    });
    expect([unit.status, unit.stdout + unit.stderr]).toEqual([0, expect.stringContaining('SUCCESS')]);
  });
});
