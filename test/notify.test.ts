import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { fixedClock } from '../src/core/clock.js';
import { CheckFailed, ConfigError } from '../src/core/errors.js';
import { MemoryLogger } from './helpers/memory-logger.js';
import { OPTION_SPECS, OptionReader, type RawOptions } from '../src/core/options/index.js';
import { announce, announceStart, type NotifyDeps } from '../src/core/notify/announce.js';
import { firstBytes, MAX_PING_BODY_BYTES } from '../src/core/notify/dead-man-ping.js';
import { maskUrl } from '../src/core/notify/endpoint.js';
import { NOTIFY_OPTION_SPECS, parseNotifySettings } from '../src/core/options/notify-options.js';
import type { NotifySettings } from '../src/core/notify/settings.js';
import { drillOutcome, errorOutcome, verifyOutcome, type Outcome } from '../src/core/notify/outcome.js';
import { closedPort, startCaptureServer } from './helpers/capture-server.js';

const AT = new Date('2026-11-30T03:00:00Z');
const GITHUB_ENV = {
  GITHUB_SERVER_URL: 'https://github.com',
  GITHUB_REPOSITORY: 'acme/shop',
  GITHUB_RUN_ID: '4242',
};
const TOKEN = 'T0AAA/B0BBB/xoxSecretToken9876';
/** Short timeouts and backoff so fault tests stay quick; the retry count is the production one. */
const POLICY = { timeoutMs: 1500, retries: 2, backoffMs: 10 };

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function server(...args: Parameters<typeof startCaptureServer>) {
  const s = await startCaptureServer(...args);
  cleanups.push(() => s.close());
  return s;
}

function deps(env: Record<string, string> = GITHUB_ENV): NotifyDeps & { logger: MemoryLogger } {
  return { logger: new MemoryLogger(), clock: fixedClock(AT), env, host: 'runner-7' };
}

function settings(raw: RawOptions): NotifySettings {
  return { ...parseNotifySettings(new OptionReader(raw)), policy: POLICY };
}

const failedBackup: Outcome = {
  command: 'backup',
  name: 'shop',
  ok: false,
  status: 'failed',
  phase: 'dump',
  reason: 'pg_dump: error: connection to postgres://app:hunter2secret@db.internal:5432/shop failed',
  durationSeconds: 12.5,
};

const passedDrill: Outcome = {
  command: 'drill',
  name: 'shop',
  ok: true,
  status: 'passed',
  bundle: 's3://backups/shop/shop-20261130T020000Z.dbdrill.tar',
  rtoSeconds: 95.2,
  rpoSeconds: 3600,
  sizeBytes: 123456789,
  rows: 1000,
  durationSeconds: 101,
};

describe('notify-url', () => {
  it('posts a Slack message with the verdict, the reason (redacted) and the run link', async () => {
    const hook = await server();
    const d = deps();
    const url = `${hook.url}/services/${TOKEN}`;
    const report = await announce(d, settings({ 'notify-url': [`slack:${url}`] }), failedBackup);

    expect(report.warnings).toEqual([]);
    expect(hook.requests).toHaveLength(1);
    const req = hook.requests[0];
    expect(req.method).toBe('POST');
    expect(req.path).toBe(`/services/${TOKEN}`);
    expect(req.headers['content-type']).toBe('application/json');
    const msg = JSON.parse(req.body);
    expect(msg.text).toContain('dbdrill backup of "shop" FAILED in phase dump');
    expect(msg.text).toContain('https://github.com/acme/shop/actions/runs/4242');
    const blocks = JSON.stringify(msg.blocks);
    expect(blocks).toContain('<https://github.com/acme/shop/actions/runs/4242|View the run>');
    expect(blocks).toContain('postgres://app:***@db.internal');
    expect(req.body).not.toContain('hunter2secret');
    // the token never reaches the log, the endpoint is named masked
    expect(d.logger.lines.join('\n')).not.toContain('xoxSecretToken9876');
    expect(d.logger.lines.join('\n')).toContain(`notify: sent to ${hook.url}/***`);
  });

  it('recognises hooks.slack.com and otherwise posts the stable generic JSON event', async () => {
    expect(
      parseNotifySettings(new OptionReader({ 'notify-url': 'https://hooks.slack.com/services/X/Y/Z' }))
        .notifyUrls,
    ).toEqual([{ url: 'https://hooks.slack.com/services/X/Y/Z', format: 'slack' }]);
    expect(
      parseNotifySettings(new OptionReader({ 'notify-url': 'json:https://hooks.slack.com/services/X/Y/Z' }))
        .notifyUrls[0].format,
    ).toBe('json');

    const hook = await server();
    const d = deps();
    await announce(
      d,
      settings({ 'notify-url': `${hook.url}/hook?token=abcdef123456`, 'notify-on': 'always' }),
      passedDrill,
    );
    expect(hook.requests).toHaveLength(1);
    expect(hook.requests[0].path).toBe('/hook?token=abcdef123456');
    const event = JSON.parse(hook.requests[0].body);
    expect(event).toEqual({
      schemaVersion: 1,
      event: 'dbdrill.drill.passed',
      command: 'drill',
      name: 'shop',
      ok: true,
      status: 'passed',
      phase: null,
      reason: null,
      bundle: 's3://backups/shop/shop-20261130T020000Z.dbdrill.tar',
      rtoSeconds: 95.2,
      rpoSeconds: 3600,
      sizeBytes: 123456789,
      durationSeconds: 101,
      rows: 1000,
      runUrl: 'https://github.com/acme/shop/actions/runs/4242',
      host: 'runner-7',
      dbdrillVersion: expect.stringMatching(/^\d+\.\d+\.\d+/),
      at: '2026-11-30T03:00:00.000Z',
    });
    expect(d.logger.lines.join('\n')).not.toContain('abcdef123456');
  });

  it('omits the run link outside CI and masks secrets registered with the logger', async () => {
    const hook = await server();
    const d = deps({});
    d.logger.addSecret('s3cr3t-kek-value');
    await announce(d, settings({ 'notify-url': hook.url + '/x' }), {
      ...failedBackup,
      reason: 'KEK mismatch: expected s3cr3t-kek-value',
    });
    const event = JSON.parse(hook.requests[0].body);
    expect(event.runUrl).toBeNull();
    expect(event.reason).toBe('KEK mismatch: expected ***');
    expect(event.status).toBe('failed');
    expect(event.phase).toBe('dump');
  });

  it('follows notify-on: failure (default) skips a success, always sends it, never sends nothing', async () => {
    const hook = await server();
    const url = hook.url + '/n';
    await announce(deps(), settings({ 'notify-url': url }), passedDrill);
    expect(hook.requests).toHaveLength(0);
    await announce(deps(), settings({ 'notify-url': url }), failedBackup);
    expect(hook.requests).toHaveLength(1);
    await announce(deps(), settings({ 'notify-url': url, 'notify-on': 'never' }), failedBackup);
    expect(hook.requests).toHaveLength(1);
    await announce(deps(), settings({ 'notify-url': url, 'notify-on': 'always' }), passedDrill);
    expect(hook.requests).toHaveLength(2);
  });

  it('keeps a Slack section within its 3000 characters however long the reason', async () => {
    const hook = await server();
    await announce(deps(), settings({ 'notify-url': `slack:${hook.url}/s` }), {
      ...failedBackup,
      reason: 'pg_restore: error: <bad> & worse\n'.repeat(500),
    });
    const msg = JSON.parse(hook.requests[0].body);
    const section: string = msg.blocks[0].text.text;
    expect(section.length).toBeLessThanOrEqual(3000);
    expect(section).toContain('pg_restore: error: &lt;bad&gt; &amp; worse');
    expect(section.endsWith('…```')).toBe(true);
  });

  it('sends to every notify-url line, each in its own format', async () => {
    const a = await server();
    const b = await server();
    await announce(deps(), settings({ 'notify-url': [`slack:${a.url}/s`, `${b.url}/g`] }), failedBackup);
    expect(JSON.parse(a.requests[0].body).blocks).toBeDefined();
    expect(JSON.parse(b.requests[0].body).event).toBe('dbdrill.backup.failed');
  });
});

describe('fail soft', () => {
  it('a down endpoint (closed port) is retried, then a warning naming it masked; never a throw', async () => {
    const port = await closedPort();
    const d = deps();
    const report = await announce(
      d,
      settings({ 'notify-url': `http://127.0.0.1:${port}/services/${TOKEN}` }),
      failedBackup,
    );
    expect(report.results).toHaveLength(1);
    expect(report.results[0].ok).toBe(false);
    const warning = d.logger.lines.find((l) => l.startsWith('warning: '));
    expect(warning).toContain(
      `notification not delivered (the run's result is unchanged): http://127.0.0.1:${port}/***`,
    );
    expect(warning).toContain('ECONNREFUSED');
    expect(warning).toContain('3 attempts');
    expect(d.logger.lines.join('\n')).not.toContain('xoxSecretToken9876');
  });

  it('a 500 is retried and reported with its body; a 4xx is not retried', async () => {
    const hook = await server(() => ({ status: 500, body: 'internal trouble' }));
    const d = deps();
    const report = await announce(d, settings({ 'notify-url': hook.url + '/h' }), failedBackup);
    expect(hook.requests).toHaveLength(3);
    expect(report.warnings[0]).toContain('answered HTTP 500: internal trouble (3 attempts)');

    hook.answerWith(() => ({ status: 404, body: 'no_service' }));
    const again = await announce(d, settings({ 'notify-url': hook.url + '/h' }), failedBackup);
    expect(hook.requests).toHaveLength(4);
    expect(again.warnings[0]).toContain('answered HTTP 404: no_service');
  });

  it('a 500 followed by success counts as delivered', async () => {
    let n = 0;
    const hook = await server(() => (++n === 1 ? { status: 503 } : { status: 200 }));
    const report = await announce(deps(), settings({ 'ping-url': hook.url + '/uuid-1' }), passedDrill);
    expect(hook.requests).toHaveLength(2);
    expect(report.warnings).toEqual([]);
  });

  it('a hanging endpoint times out into a warning', async () => {
    const hook = await server(() => 'hang');
    const d = deps();
    const s = {
      ...settings({ 'notify-url': hook.url + '/slow' }),
      policy: { timeoutMs: 300, retries: 0, backoffMs: 0 },
    };
    const report = await announce(d, s, failedBackup);
    expect(hook.requests).toHaveLength(1);
    expect(report.warnings[0]).toContain(`${hook.url}/***: no answer within 0.3 s`);
  });

  it('one failing channel does not stop the others', async () => {
    const good = await server();
    const port = await closedPort();
    const report = await announce(
      deps(),
      settings({
        'notify-url': [`http://127.0.0.1:${port}/a`, good.url + '/b'],
        'ping-url': good.url + '/p',
      }),
      failedBackup,
    );
    expect(good.requests.map((r) => r.path).sort()).toEqual(['/b', '/p/fail']);
    expect(report.results.filter((r) => !r.ok)).toHaveLength(1);
  });

  it('even a dependency that throws ends as a warning (a clock test double that fails)', async () => {
    const hook = await server();
    const d = deps();
    const failingClockDouble = {
      now: (): Date => {
        throw new Error('clock unavailable');
      },
      monotonicMs: () => 0,
    };
    const report = await announce({ ...d, clock: failingClockDouble }, settings({ 'notify-url': hook.url }), {
      ...failedBackup,
      finishedAt: undefined,
    });
    expect(report.warnings).toEqual([
      "notifications skipped (the run's result is unchanged): clock unavailable",
    ]);
    expect(d.logger.lines).toContain(
      "warning: notifications skipped (the run's result is unchanged): clock unavailable",
    );
  });

  it('a metrics file whose directory vanished after parsing becomes a warning', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dbdrill-notify-'));
    const s = settings({ 'metrics-file': join(dir, 'dbdrill.prom') });
    await rm(dir, { recursive: true });
    const d = deps();
    const report = await announce(d, s, passedDrill);
    expect(report.results[0]).toMatchObject({ channel: 'metrics-file', ok: false });
    expect(report.warnings[0]).toContain('metrics file not written');
    expect(report.warnings[0]).toContain('ENOENT');
  });
});

describe('ping-url (healthchecks.io convention)', () => {
  it('pings /start, then the bare URL on success, keeping the query', async () => {
    const hc = await server();
    const s = settings({ 'ping-url': `${hc.url}/ping/5f1c9a7e-uuid/?create=1` });
    await announceStart(deps(), s, 'backup', 'shop');
    await announce(deps(), s, passedDrill);
    expect(hc.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /ping/5f1c9a7e-uuid/start?create=1',
      'POST /ping/5f1c9a7e-uuid?create=1',
    ]);
    expect(hc.requests[0].body).toContain('dbdrill backup of "shop" started on runner-7');
    expect(hc.requests[1].body).toContain('passed');
    expect(hc.requests[1].body).toContain('RTO: 95.2 s');
  });

  it('pings /fail with the reason in the body, cut to the first 10 KB', async () => {
    const hc = await server();
    const long = 'é'.repeat(20_000);
    await announce(deps(), settings({ 'ping-url': `${hc.url}/abc-uuid` }), {
      ...failedBackup,
      reason: `boom ${long}`,
    });
    expect(hc.requests[0].path).toBe('/abc-uuid/fail');
    const body = hc.requests[0].body;
    expect(body).toContain('FAILED in phase dump');
    expect(body).toContain('https://github.com/acme/shop/actions/runs/4242');
    expect(body).toContain('boom éé');
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(MAX_PING_BODY_BYTES);
    expect(Buffer.byteLength(body)).toBeGreaterThan(MAX_PING_BODY_BYTES - 4);
    expect(body).not.toContain('\uFFFD');
  });

  it('a cancelled run pings /fail too', async () => {
    const hc = await server();
    const outcome = errorOutcome(
      'drill',
      'shop',
      Object.assign(new Error('cancelled by SIGTERM'), { name: 'Cancelled' }),
    );
    expect(outcome.status).toBe('cancelled');
    await announce(deps(), settings({ 'ping-url': `${hc.url}/u` }), outcome);
    expect(hc.requests[0].path).toBe('/u/fail');
    expect(hc.requests[0].body).toContain('was cancelled');
  });

  it('a start ping to a down endpoint is a warning, not an error', async () => {
    const port = await closedPort();
    const d = deps();
    const report = await announceStart(
      d,
      settings({ 'ping-url': `http://127.0.0.1:${port}/uuid-x` }),
      'verify',
      'shop',
    );
    expect(report.warnings[0]).toContain(
      `dead-man ping failed (the run's result is unchanged): http://127.0.0.1:${port}/***/start`,
    );
    expect(d.logger.lines.join('\n')).not.toContain('uuid-x');
  });

  it('moves user:password from the URL to a basic Authorization header', async () => {
    const hc = await server();
    await announce(
      deps(),
      settings({ 'ping-url': hc.url.replace('http://', 'http://ops:pa%3Ass@') + '/u' }),
      passedDrill,
    );
    expect(hc.requests[0].headers.authorization).toBe(`Basic ${Buffer.from('ops:pa:ss').toString('base64')}`);
  });
});

describe('parseNotifySettings', () => {
  const parse = (raw: RawOptions) => parseNotifySettings(new OptionReader(raw, (n) => `--${n}`));
  const configError = (raw: RawOptions): ConfigError => {
    try {
      parse(raw);
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).exitCode).toBe(2);
      return e as ConfigError;
    }
    throw new Error('expected a ConfigError');
  };

  it('its specs are in the one option table once each, with defaults as parsed', () => {
    for (const n of NOTIFY_OPTION_SPECS)
      expect(OPTION_SPECS.filter((s) => s.name === n.name)).toHaveLength(1);
    const spec = (n: string) => NOTIFY_OPTION_SPECS.find((s) => s.name === n)!;
    const parsed = parse({});
    expect(spec('notify-on').default).toBe(parsed.notifyOn);
    expect(spec('metrics-job').default).toBe(parsed.metricsJob);
    for (const on of spec('notify-on').choices!) expect(parse({ 'notify-on': on }).notifyOn).toBe(on);
    expect(spec('notify-url').kind).toBe('list');
  });

  it('has quiet defaults', () => {
    expect(parse({})).toEqual({
      notifyUrls: [],
      notifyOn: 'failure',
      pingUrl: undefined,
      metricsFile: undefined,
      pushgatewayUrl: undefined,
      metricsJob: 'dbdrill',
    });
  });

  it('rejects a bad webhook naming the flag and line, with the token masked', () => {
    const e = configError({ 'notify-url': ['https://ok.example/hook', `ftp://hooks.example/${TOKEN}`] });
    expect(e.message).toContain('--notify-url line 2 "ftp://hooks.example/***"');
    expect(e.message).toContain('expected an http:// or https:// webhook URL');
    expect(e.message).not.toContain('xoxSecretToken9876');
    const bare = configError({ 'notify-url': 'xoxb-123456789-abcdefghijkl' });
    expect(bare.message).toContain('"*** (27 characters)" is not a URL');
    expect(bare.message).not.toContain('abcdefghijkl');
  });

  it('rejects a bad notify-on, ping-url, pushgateway-url, metrics-file and metrics-job', () => {
    expect(configError({ 'notify-on': 'sometimes' }).message).toBe(
      '--notify-on "sometimes" is not valid; expected one of: failure, always, never',
    );
    expect(configError({ 'ping-url': 'hc-ping.com/abc-uuid-secret' }).message).toContain('--ping-url "*** (');
    expect(configError({ 'pushgateway-url': 'http://pg:9091/metrics/job/x' }).message).toContain(
      '--pushgateway-url "http://pg:9091/***" should be the Pushgateway\'s base URL only',
    );
    expect(configError({ 'metrics-file': '/nonexistent-dir/x/dbdrill.prom' }).message).toContain(
      '--metrics-file "/nonexistent-dir/x/dbdrill.prom": directory /nonexistent-dir/x does not exist',
    );
    expect(configError({ 'metrics-file': tmpdir() }).message).toContain('is a directory');
    expect(configError({ 'metrics-job': '9 lives' }).message).toContain(
      '--metrics-job "9 lives" is not valid',
    );
  });

  it('accepts a pushgateway behind a path prefix with basic auth, and masks it', () => {
    const s = parse({ 'pushgateway-url': 'https://ops:pw@mon.example/pushgateway' });
    expect(s.pushgatewayUrl).toBe('https://ops:pw@mon.example/pushgateway');
    expect(maskUrl(s.pushgatewayUrl!)).toBe('https://***@mon.example/***');
  });
});

describe('outcome builders', () => {
  it('a failed drill names its failed phase and its check failures', () => {
    const o = drillOutcome('shop', {
      ok: false,
      status: 'failed',
      rtoSeconds: 50,
      rpoSeconds: null,
      phases: [
        { name: 'fetch', seconds: 2, status: 'ok' },
        { name: 'restore', seconds: 8, status: 'failed' },
        { name: 'health', seconds: 0, status: 'skipped' },
      ],
      counts: [{ actual: 5 }, { actual: null }, { actual: 7 }],
      checks: { failures: ['restore: pg_restore exited 1'] },
    });
    expect(o).toMatchObject({
      phase: 'restore',
      reason: 'restore: pg_restore exited 1',
      durationSeconds: 10,
      rows: 12,
    });
    expect(o.rpoSeconds).toBeUndefined();
  });

  it('an error carrying a drill result keeps its numbers; a verify age is its RPO', () => {
    const err = new CheckFailed('RTO 50 s exceeds budget 30 s', {
      ok: false,
      status: 'failed',
      rtoSeconds: 50,
      rpoSeconds: 10,
      phases: [{ name: 'health', seconds: 50, status: 'ok' }],
    });
    expect(errorOutcome('drill', 'shop', err)).toMatchObject({
      ok: false,
      status: 'failed',
      rtoSeconds: 50,
      reason: 'RTO 50 s exceeds budget 30 s',
    });
    expect(verifyOutcome('shop', { ok: true, bundle: 'b', ageSeconds: 7200, problems: [] }).rpoSeconds).toBe(
      7200,
    );
  });

  it('firstBytes never splits a character', () => {
    expect(firstBytes('aé', 2)).toBe('a');
    expect(firstBytes('abc', 10)).toBe('abc');
  });
});
