/**
 * The notify module around the real use cases, as an adapter will wire it (runAnnounced plus the
 * outcome builders): a real backup, verify and drill on a scratch cluster, a real local HTTP
 * server as healthchecks.io and webhook receiver, a real metrics file checked by promtool.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { backup } from '../src/core/backup.js';
import { drill } from '../src/core/drill.js';
import { CheckFailed } from '../src/core/errors.js';
import { MemoryLogger } from './helpers/memory-logger.js';
import {
  OptionReader,
  parseBackupOptions,
  parseDrillOptions,
  parseVerifyOptions,
  type RawOptions,
} from '../src/core/options/index.js';
import { verify } from '../src/core/verify.js';
import { runAnnounced, type NotifyDeps } from '../src/core/notify/announce.js';
import { parseNotifySettings } from '../src/core/options/notify-options.js';
import type { NotifySettings } from '../src/core/notify/settings.js';
import { backupOutcome, drillOutcome, verifyOutcome } from '../src/core/notify/outcome.js';
import { parseExposition } from '../src/core/notify/prometheus-text.js';
import { closedPort, startCaptureServer } from './helpers/capture-server.js';
import { testDeps } from './helpers/deps.js';
import { withSourceCluster } from './helpers/pg-cluster.js';

let hooks: Awaited<ReturnType<typeof startCaptureServer>>;
let metricsFile: string;

const env = withSourceCluster({
  workPrefix: 'dbdrill-notify-uc-',
  setup: async (cluster) => {
    await cluster.sql(
      'CREATE TABLE orders (id int PRIMARY KEY); INSERT INTO orders SELECT generate_series(1, 250);',
    );
    await cluster.sql('CREATE DATABASE scratch');
  },
});

beforeAll(async () => {
  metricsFile = join(env.work.dir, 'dbdrill.prom');
  hooks = await startCaptureServer();
});

afterAll(async () => {
  await hooks?.close();
});

function notify(): { deps: NotifyDeps & { logger: MemoryLogger }; settings: NotifySettings } {
  const logger = new MemoryLogger();
  const settings = parseNotifySettings(
    new OptionReader({
      'ping-url': `${hooks.url}/hc/backup-uuid`,
      'notify-url': `slack:${hooks.url}/services/T1/B2/tok3n`,
      'metrics-file': metricsFile,
    }),
  );
  return {
    deps: {
      logger,
      clock: testDeps().clock,
      env: { CI_JOB_URL: 'https://gitlab.example/job/9' },
      host: 'db-1',
    },
    settings: { ...settings, policy: { timeoutMs: 5000, retries: 1, backoffMs: 10 } },
  };
}

function sample(name: string, labels: Record<string, string>, text: string): number | undefined {
  return parseExposition(text).find(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  )?.value;
}

const backupOpts = (extra: RawOptions = {}) =>
  parseBackupOptions(
    new OptionReader({ 'database-url': env.cluster.url, store: env.storeDir, name: 'shop', ...extra }),
  );

describe('announcing the real use cases', () => {
  it('a backup: start and success pings, no chat message (notify-on failure), metrics with its size and rows', async () => {
    const n = notify();
    const before = hooks.requests.length;
    const result = await runAnnounced(
      n.deps,
      n.settings,
      'backup',
      'shop',
      () => backup(testDeps(), backupOpts()),
      (r) => backupOutcome('shop', r),
    );
    const sent = hooks.requests.slice(before);
    expect(sent.map((r) => r.path)).toEqual(['/hc/backup-uuid/start', '/hc/backup-uuid']);
    expect(sent[1].body).toContain(`Bundle: ${result.bundle}`);
    const text = await readFile(metricsFile, 'utf8');
    const labels = { job: 'dbdrill_backup', name: 'shop' };
    expect(sample('dbdrill_bundle_size_bytes', labels, text)).toBe(result.sizeBytes);
    expect(sample('dbdrill_rows', labels, text)).toBe(250);
    expect(sample('dbdrill_outcome', labels, text)).toBe(1);
    expect(spawnSync('/usr/bin/promtool', ['check', 'metrics'], { input: text }).status).toBe(0);
  });

  it('a verify: its bundle age becomes the RPO metric', async () => {
    const n = notify();
    const result = await runAnnounced(
      n.deps,
      n.settings,
      'verify',
      'shop',
      () => verify(testDeps(), parseVerifyOptions(new OptionReader({ store: env.storeDir, name: 'shop' }))),
      (r) => verifyOutcome('shop', r),
    );
    expect(result.ok).toBe(true);
    const text = await readFile(metricsFile, 'utf8');
    expect(sample('dbdrill_rpo_seconds', { job: 'dbdrill_verify', name: 'shop' }, text)).toBe(
      result.ageSeconds,
    );
    expect(sample('dbdrill_duration_seconds', { job: 'dbdrill_verify', name: 'shop' }, text)).toBeGreaterThan(
      0,
    );
    expect(sample('dbdrill_outcome', { job: 'dbdrill_backup', name: 'shop' }, text)).toBe(1);
  });

  it('a drill that passes, then one whose assertion fails: the failure keeps its RTO and says why', async () => {
    const target = env.cluster.url.replace(/\/shop(\?|$)/, '/scratch$1');
    const drillOpts = (extra: RawOptions) =>
      parseDrillOptions(
        new OptionReader({
          store: env.storeDir,
          name: 'shop',
          'target-url': target,
          clean: 'true',
          'report-dir': join(env.work.dir, 'report'),
          ...extra,
        }),
      );
    const n = notify();
    const passed = await runAnnounced(
      n.deps,
      n.settings,
      'drill',
      'shop',
      () => drill(testDeps(), drillOpts({})),
      (r) => drillOutcome('shop', r),
    );
    expect(passed.ok).toBe(true);

    const before = hooks.requests.length;
    const error = await runAnnounced(
      n.deps,
      n.settings,
      'drill',
      'shop',
      () => drill(testDeps(), drillOpts({ 'assert-sql': 'SELECT count(*) > 1000 FROM orders' })),
      (r) => drillOutcome('shop', r),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CheckFailed); // rethrown untouched: the exit code stays the use case's
    const sent = hooks.requests.slice(before);
    expect(sent.map((r) => r.path)).toEqual([
      '/hc/backup-uuid/start',
      '/hc/backup-uuid/fail',
      '/services/T1/B2/tok3n',
    ]);
    expect(sent[1].body).toContain('dbdrill restore drill of "shop" FAILED');
    expect(sent[1].body).toContain('https://gitlab.example/job/9');
    const slack = JSON.parse(sent[2].body) as { text: string };
    expect(slack.text).toContain('drill failed');
    const text = await readFile(metricsFile, 'utf8');
    const labels = { job: 'dbdrill_drill', name: 'shop' };
    expect(sample('dbdrill_outcome', labels, text)).toBe(0);
    expect(sample('dbdrill_rto_seconds', labels, text)).toBe(
      (error as CheckFailed & { result: { rtoSeconds: number } }).result.rtoSeconds,
    );
    expect(sample('dbdrill_last_success_timestamp_seconds', labels, text)).toBeDefined();
  });

  it('a backup that cannot reach its database: /fail with the reason, password masked everywhere', async () => {
    const n = notify();
    const port = await closedPort();
    const before = hooks.requests.length;
    const textBefore = await readFile(metricsFile, 'utf8').catch(() => '');
    const lastSuccess = sample(
      'dbdrill_last_success_timestamp_seconds',
      { job: 'dbdrill_backup' },
      textBefore,
    );
    const error = await runAnnounced(
      n.deps,
      n.settings,
      'backup',
      'shop',
      () =>
        backup(
          testDeps(),
          backupOpts({ 'database-url': `postgres://app:Hunter2Secret@127.0.0.1:${port}/shop` }),
        ),
      (r) => backupOutcome('shop', r),
    ).catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(Error);
    const sent = hooks.requests.slice(before);
    expect(sent.map((r) => r.path)).toEqual([
      '/hc/backup-uuid/start',
      '/hc/backup-uuid/fail',
      '/services/T1/B2/tok3n',
    ]);
    for (const r of sent) expect(r.body).not.toContain('Hunter2Secret');
    expect(sent[1].body).toContain('FAILED');
    expect(n.deps.logger.lines.join('\n')).not.toContain('tok3n');
    const text = await readFile(metricsFile, 'utf8');
    const labels = { job: 'dbdrill_backup', name: 'shop' };
    expect(sample('dbdrill_outcome', labels, text)).toBe(0);
    expect(sample('dbdrill_last_success_timestamp_seconds', labels, text)).toBe(lastSuccess);
  });
});
