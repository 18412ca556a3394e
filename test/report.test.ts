import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { Redactor } from '../src/core/logger.js';
import {
  renderGantt,
  renderJUnit,
  renderMarkdown,
  slowerThanMedian,
  toHistoryEntry,
  validateDrillReport,
  writeDrillReport,
  type DrillReport,
} from '../src/core/report/index.js';

const T0 = Date.parse('2025-03-14T09:00:00.000Z');
const at = (ms: number): string => new Date(T0 + ms).toISOString();

function sampleReport(overrides: Partial<DrillReport> = {}): DrillReport {
  const counts: DrillReport['counts'] = Array.from({ length: 12 }, (_, i) => ({
    name: `public.t${i}`,
    expected: 100 * i,
    actual: 100 * i,
    ok: true,
    source: 'manifest' as const,
  }));
  counts.push({ name: 'public.orders', expected: 5000, actual: 4990, ok: false, source: 'manifest' });
  counts.push({ name: 'audit.log|raw', expected: null, actual: 12, ok: false, source: 'compare-url' });
  return {
    schemaVersion: 1,
    tool: { name: 'dbdrill', version: '0.1.0' },
    status: 'failed',
    ok: false,
    name: 'shop',
    bundle: 'shop-20250314T030000Z.dbdrill.tar',
    bundleCreatedAt: '2025-03-14T03:00:00Z',
    startedAt: at(0),
    finishedAt: at(95_000),
    rtoSeconds: 80.5,
    rpoSeconds: 21_600,
    objectives: {
      rto: { budgetSeconds: 2700, actualSeconds: 80.5, ok: true },
      rpo: { budgetSeconds: 93_600, actualSeconds: 21_600, ok: true },
    },
    phases: [
      { name: 'fetch', startedAt: at(0), seconds: 1.2, status: 'ok' },
      { name: 'verify', startedAt: at(1200), seconds: 3.4, status: 'ok' },
      { name: 'provision', startedAt: at(4600), seconds: 2, status: 'ok', detail: 'local: initdb + pg_ctl' },
      { name: 'restore: pg_restore #2', startedAt: at(6600), seconds: 60, status: 'ok' },
      { name: 'migrate', startedAt: at(66_600), seconds: 0, status: 'skipped', detail: 'no migrate-command' },
      { name: 'boot', startedAt: at(66_600), seconds: 13.9, status: 'ok' },
      { name: 'checks', startedAt: at(80_500), seconds: 14.5, status: 'failed', detail: '2 counts differ' },
    ],
    checks: [
      { name: 'sha256', group: 'verify', ok: true, seconds: 0.8 },
      { name: 'pg_restore --list', group: 'verify', ok: true },
      { name: 'tables', group: 'structure', ok: true },
      { name: 'count public.orders', group: 'data', ok: false, detail: 'expected 5000, got 4990' },
      {
        name: 'count audit.log|raw',
        group: 'data',
        ok: false,
        detail: 'missing in source <compare-url> & "prod"',
      },
      {
        name: 'KEK decrypts sample',
        group: 'kek',
        ok: true,
        skipped: true,
        detail: 'no kek-check-sql given',
      },
      { name: 'GET http://127.0.0.1:3000/healthz', group: 'health', ok: true, seconds: 13.9 },
      { name: 'rto', group: 'objective', ok: true },
    ],
    counts,
    structure: [
      { kind: 'table', expected: 14, actual: 14, missing: [] },
      { kind: 'index', expected: 9, actual: 8, missing: ['public.orders_created_idx'] },
    ],
    restoreErrors: [
      {
        message: 'pg_restore: error: could not execute query: ERROR:  extension "pg_cron" is not available',
        ignored: true,
        reason: 'cron runs only in prod',
      },
      { message: 'pg_restore: error: role "reporting" does not exist', ignored: false },
    ],
    health: [
      {
        name: 'GET http://127.0.0.1:3000/healthz',
        url: 'http://127.0.0.1:3000/healthz',
        ok: true,
        attempts: 5,
        status: 200,
        seconds: 13.9,
      },
      {
        name: 'data',
        url: 'http://127.0.0.1:3000/orders',
        ok: false,
        attempts: 12,
        status: 500,
        lastError: 'status 500, expected 200-399',
        bodySnippet: '{"error":"key missing"}',
        seconds: 14,
      },
    ],
    appLogTail: [
      '\x1b[32mlistening\x1b[0m on :3000',
      'ERROR ``` fence breaker',
      'bell \u0007 char <tag> & amp',
    ],
    target: { kind: 'local', display: 'postgres@127.0.0.1:54329/shop', serverVersion: '17.2' },
    notes: ['bundle has a manifest', 'compare-url counts are approximate'],
    history: [
      { startedAt: '2024-12-14T09:00:00.000Z', rtoSeconds: 50, rpoSeconds: 20_000, status: 'passed' },
      { startedAt: '2025-01-14T09:00:00.000Z', rtoSeconds: 60, rpoSeconds: 22_000, status: 'passed' },
      { startedAt: '2025-02-14T09:00:00.000Z', rtoSeconds: 62, rpoSeconds: null, status: 'failed' },
    ],
    ...overrides,
  };
}

describe('validateDrillReport', () => {
  it('accepts a full sample report and a minimal one', () => {
    expect(validateDrillReport(sampleReport())).toEqual([]);
    const minimal: DrillReport = {
      schemaVersion: 1,
      tool: { name: 'dbdrill', version: '0.1.0' },
      status: 'cancelled',
      ok: false,
      startedAt: at(0),
      finishedAt: at(1),
      objectives: {},
      phases: [],
      checks: [],
      counts: [],
      restoreErrors: [],
      health: [],
      notes: [],
    };
    expect(validateDrillReport(minimal)).toEqual([]);
    expect(validateDrillReport(JSON.parse(JSON.stringify(sampleReport())))).toEqual([]);
  });

  it('lists every problem of a broken report by path', () => {
    const broken = JSON.parse(JSON.stringify(sampleReport())) as Record<string, unknown>;
    broken.schemaVersion = 2;
    broken.status = 'maybe';
    delete broken.phases;
    (broken.counts as Record<string, unknown>[])[0].expected = -1;
    (broken.health as Record<string, unknown>[])[0].attempts = 'five';
    broken.startedAt = 'yesterday';
    const problems = validateDrillReport(broken);
    expect(problems).toEqual(
      expect.arrayContaining([
        '/schemaVersion must be equal to constant',
        '/status must be equal to one of the allowed values: passed, failed, cancelled',
        "(report) must have required property 'phases'",
        '/counts/0/expected must be >= 0',
        '/health/0/attempts must be integer',
      ]),
    );
    expect(problems.some((p) => p.startsWith('/startedAt must match pattern'))).toBe(true);
    expect(validateDrillReport('not a report')).toEqual(['(report) must be object']);
  });

  it('flags an ok flag that contradicts the status, and time running backwards', () => {
    expect(validateDrillReport(sampleReport({ ok: true }))).toEqual(['/ok is true but /status is "failed"']);
    expect(validateDrillReport(sampleReport({ finishedAt: at(-1000) }))[0]).toMatch(
      /finishedAt .* is before \/startedAt/,
    );
  });
});

describe('renderMarkdown', () => {
  const md = renderMarkdown(sampleReport());

  it('leads with the status, RTO/RPO against budget and the objectives table', () => {
    expect(md.startsWith('## ❌ Restore drill failed: shop\n')).toBe(true);
    expect(md).toContain('**RTO** 1m 21s ≤ 45m 00s ✅ · **RPO** 6h 00m ≤ 26h 00m ✅');
    expect(md).toContain('| RTO | drill start → app healthy | 1m 21s | 45m 00s | ✅ within budget |');
    expect(md).toContain('| RPO | drill start − backup end | 6h 00m | 26h 00m | ✅ within budget |');
    const over = renderMarkdown(
      sampleReport({ objectives: { rto: { budgetSeconds: 60, actualSeconds: 80.5, ok: false } } }),
    );
    expect(over).toContain('| RTO | drill start → app healthy | 1m 21s | 1m 00s | ❌ over budget |');
  });

  it('has a phase table and a mermaid gantt with ms durations and escaped names', () => {
    expect(md).toContain('| fetch | ✅ ok | 09:00:00 | 1.2 s |  |');
    expect(md).toContain('| migrate | ⏭️ skipped | 09:01:06 | 0.00 s | no migrate-command |');
    expect(md).toContain('| restore: pg\\_restore \\#2 | ✅ ok |');
    const gantt = renderGantt(sampleReport().phases) ?? '';
    expect(md).toContain(gantt);
    expect(gantt).toContain('```mermaid\ngantt\n');
    expect(gantt).toContain('  dateFormat x\n  axisFormat %H:%M:%S\n');
    expect(gantt).toContain(`  fetch (1.2 s) :done, p0, ${T0}, 1200ms`);
    expect(gantt).toContain(`  restore#58; pg_restore #35;2 (1m 00s) :done, p3, ${T0 + 6600}, 60000ms`);
    expect(gantt).toContain(`  checks (14.5 s) :crit, p6, ${T0 + 80_500}, 14500ms`);
    expect(gantt).not.toContain('migrate');
    // Every task line has exactly one unescaped ':' (the name/data separator).
    for (const line of gantt.split('\n').filter((l) => /, p\d+, /.test(l)))
      expect(line.split(':').length).toBe(2);
  });

  it('lists only count mismatches, with a summary and a total line when there are many tables', () => {
    expect(md).toContain('❌ **12 of 14** tables match · total rows expected 11,600, actual 11,602');
    expect(md).toContain('| `public.orders` | manifest | 5,000 | 4,990 | -10 (-0.2 %) |');
    expect(md).toContain('| `audit.log\\|raw` | compare-url | — | 12 | not in source |');
    expect(md).not.toContain('public.t3');
    expect(md).toContain('| **Total (14 tables)** | | 11,600 | 11,602 | +2 (+0.0 %) |');
  });

  it('shows structure, health, restore errors with reasons, failed checks and escapes untrusted text', () => {
    expect(md).toContain('| ❌ index | 9 | 8 | `public.orders_created_idx` |');
    expect(md).toContain('| ✅ table | 14 | 14 |  |');
    expect(md).toContain(
      '| data<br>`http://127.0.0.1:3000/orders` | ❌ | 12 | 500 | 14.0 s | status 500, expected 200-399 |',
    );
    expect(md).toContain('| GET http://127.0.0.1:3000/healthz | ✅ | 5 | 200 | 13.9 s |  |');
    expect(md).toContain('1 failing, 1 ignored by `ignore-restore-errors`');
    expect(md).toContain(
      '| ⚪ | pg\\_restore: error: could not execute query: ERROR:  extension "pg\\_cron" is not available | cron runs only in prod |',
    );
    expect(md).toContain('| ❌ | pg\\_restore: error: role "reporting" does not exist |  |');
    expect(md).toContain(
      '| data | count audit.log\\|raw | missing in source &lt;compare-url&gt; &amp; "prod" |',
    );
    expect(md).not.toContain('<compare-url>');
    expect(md).toContain('**Checks** 5/7 passed, 1 skipped');
  });

  it('shows the app log tail on failure in a fence it cannot break, and not on success', () => {
    expect(md).toContain(
      '<details open><summary>App log (last 3 lines)</summary>\n\n````text\nlistening on :3000\nERROR ``` fence breaker',
    );
    const passed = renderMarkdown(sampleReport({ status: 'passed', ok: true }));
    expect(passed.startsWith('## ✅ Restore drill passed: shop')).toBe(true);
    expect(passed).not.toContain('App log');
    expect(renderMarkdown(sampleReport({ status: 'cancelled' }))).toContain('## ⏹️ Restore drill cancelled');
  });

  it('caps long lists so the job summary stays small, failing restore errors first', () => {
    const checks = Array.from({ length: 120 }, (_, i) => ({ name: `c${i}`, group: 'data', ok: false }));
    const restoreErrors = Array.from({ length: 80 }, (_, i) => ({
      message: `e${i}`,
      ignored: i < 79,
      reason: 'known',
    }));
    const big = renderMarkdown(sampleReport({ checks, restoreErrors }));
    expect(big).toContain('| … | and 70 more (see junit.xml) | |');
    expect(big).toContain('| | … and 30 more (see drill-report.json) | |');
    expect(big).toContain('| ❌ | e79 |  |');
    expect(big).not.toContain('| c50 |');
  });

  it('charts the history and flags an RTO far above the median', () => {
    expect(md).toContain(
      '⚠️ **RTO 1m 21s is slower than the median of earlier drills (1m 00s) by more than 25 %.**',
    );
    expect(md).toContain('```mermaid\nxychart-beta\n  title "RTO of the last 4 drills (seconds)"');
    expect(md).toContain('  x-axis ["12-14 09:00", "01-14 09:00", "02-14 09:00", "03-14 09:00"]');
    expect(md).toContain('  line [50, 60, 62, 80.5]');
    expect(md).toContain('title "RPO of the last 3 drills (hours)"');
    expect(md).toContain('  line [5.56, 6.11, 6]');
    const steady = renderMarkdown(sampleReport({ rtoSeconds: 70 }));
    expect(steady).not.toContain('⚠️');
    expect(steady).toContain('RTO 1m 10s against a median of 1m 00s');
    expect(renderMarkdown(sampleReport({ history: undefined }))).not.toContain('xychart-beta');
  });
});

describe('a failed drill explains itself', () => {
  const stopped = (): DrillReport =>
    sampleReport({
      rtoSeconds: undefined,
      objectives: {},
      phases: [
        { name: 'fetch + verify', startedAt: at(0), seconds: 1, status: 'ok' },
        { name: 'provision', startedAt: at(1000), seconds: 2, status: 'failed', detail: 'docker: boom' },
      ],
      checks: [],
      counts: [],
      error: {
        phase: 'provision',
        message: 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock',
        hint: 'check that the docker daemon runs',
      },
    });

  it('says why on the first line after the status, and no "0/0 passed"', () => {
    const lines = renderMarkdown(stopped()).split('\n');
    expect(lines[0]).toBe('## ❌ Restore drill failed: shop');
    expect(lines[2]).toBe(
      '**Why:** stopped in provision: Cannot connect to the Docker daemon at unix:///var/run/docker.sock',
    );
    expect(lines[4]).toBe('**Next:** check that the docker daemon runs');
    const md = lines.join('\n');
    expect(md).not.toContain('0/0');
    expect(md).toContain('**Checks** none ran (stopped in provision)');
    expect(md).toContain('**RTO** not measured');
  });

  it('carries the reason into a failing JUnit case and a property', () => {
    const suite = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(
      renderJUnit(stopped()),
    ).testsuites.testsuite;
    expect(suite.failures).toBe('1');
    expect(suite.testcase.failure.message).toBe(
      'stopped in provision: Cannot connect to the Docker daemon at unix:///var/run/docker.sock',
    );
    expect(suite.testcase.failure['#text']).toContain('check that the docker daemon runs');
    const props = suite.properties.property as { name: string; value: string }[];
    expect(props.find((p) => p.name === 'error')?.value).toContain('stopped in provision');
  });

  it('validates with the error, source, runner and sha256, and rejects a malformed error', () => {
    const full = {
      ...stopped(),
      bundleSha256: 'a'.repeat(64),
      source: { engine: 'postgres', database: 'shop', serverVersion: '15.8', systemIdentifier: '7312' },
      runner: { host: 'ci-7', platform: 'linux-x64', node: '20.11.0' },
    };
    expect(validateDrillReport(full)).toEqual([]);
    const md = renderMarkdown(full);
    expect(md).toContain(`- **Bundle sha256:** \`${'a'.repeat(64)}\``);
    expect(md).toContain('- **Source:** database `shop`, PostgreSQL 15.8, system identifier `7312`');
    expect(md).toContain('- **Runner:** `ci-7`, dbdrill 0.1.0 (linux-x64, Node 20.11.0)');
    expect(validateDrillReport({ ...full, error: { message: 'x' } }).join('\n')).toMatch(/phase/);
    expect(validateDrillReport({ ...full, bundleSha256: 'abc' }).join('\n')).toMatch(/bundleSha256/);
  });

  it('lists every check that ran, grouped, passed ones included', () => {
    const md = renderMarkdown(
      sampleReport({
        checks: [
          { name: 'stored object', group: 'verify', ok: true, detail: 'intact' },
          { name: 'kek opens the restored data', group: 'kek', ok: true, detail: '3 rows decrypted' },
          {
            name: 'assert-sql: select count(*) > 0 from users',
            group: 'data',
            ok: true,
            detail: 'returned t',
          },
        ],
      }),
    );
    expect(md).toContain('### Checks');
    expect(md).toContain('<details><summary>✅ kek: 1/1 passed</summary>');
    expect(md).toContain('| ✅ | assert-sql: select count(\\*) &gt; 0 from users | returned t |');
  });
});

describe('slowerThanMedian', () => {
  const h = (...rto: (number | null)[]) => rto.map((r) => ({ rtoSeconds: r, status: 'passed' as const }));
  it('compares against the median with a 25 % threshold by default', () => {
    expect(slowerThanMedian(h(10, 20, 30), 24)).toEqual({ flag: false, median: 20 });
    expect(slowerThanMedian(h(10, 20, 30), 25)).toEqual({ flag: false, median: 20 });
    expect(slowerThanMedian(h(10, 20, 30), 25.1)).toEqual({ flag: true, median: 20 });
    expect(slowerThanMedian(h(10, 20, 30, 40), 40)).toEqual({ flag: true, median: 25 });
    expect(slowerThanMedian(h(10, 20, 30), 23, 0.1)).toEqual({ flag: true, median: 20 });
  });
  it('ignores missing RTOs and cancelled drills, and never flags without history or a current RTO', () => {
    expect(slowerThanMedian([...h(null, 100), { rtoSeconds: 1, status: 'cancelled' }], 110)).toEqual({
      flag: false,
      median: 100,
    });
    expect(slowerThanMedian([], 1000)).toEqual({ flag: false });
    expect(slowerThanMedian(h(10), undefined)).toEqual({ flag: false, median: 10 });
  });
  it('gives the next drill its history line', () => {
    expect(toHistoryEntry(sampleReport())).toEqual({
      startedAt: at(0),
      rtoSeconds: 80.5,
      rpoSeconds: 21_600,
      status: 'failed',
    });
  });
});

describe('renderJUnit', () => {
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '',
    isArray: (name) => name === 'testcase',
  });

  it('parses, with one test case per check and the right failures and skips', () => {
    const xml = renderJUnit(sampleReport());
    expect(XMLValidator.validate(xml)).toBe(true);
    const doc = parser.parse(xml);
    const suite = doc.testsuites.testsuite;
    expect(suite.name).toBe('dbdrill drill');
    expect(suite.testcase).toHaveLength(8);
    expect(suite.tests).toBe('8');
    expect(suite.failures).toBe('2');
    expect(suite.skipped).toBe('1');
    expect(suite.time).toBe('95.000');
    expect(doc.testsuites.failures).toBe('2');
    const byName = Object.fromEntries(suite.testcase.map((c: { name: string }) => [c.name, c]));
    expect(byName['sha256']).toMatchObject({ classname: 'verify', time: '0.800' });
    expect(byName['count audit.log|raw'].failure.message).toBe('missing in source <compare-url> & "prod"');
    expect(byName['count audit.log|raw'].failure['#text']).toBe('missing in source <compare-url> & "prod"');
    expect(byName['KEK decrypts sample'].skipped.message).toBe('no kek-check-sql given');
    expect(byName['rto'].failure).toBeUndefined();
    expect(suite['system-out']).toContain('bell \uFFFD char <tag> & amp');
  });

  it('round-trips names with XML specials and newlines in failure messages', () => {
    const name = `a<b>&"c'd ]]> e`;
    const xml = renderJUnit(
      sampleReport({
        checks: [{ name, group: 'g&h', ok: false, detail: 'line one\nline two' }],
        appLogTail: undefined,
      }),
    );
    expect(XMLValidator.validate(xml)).toBe(true);
    const tc = parser.parse(xml).testsuites.testsuite.testcase[0];
    expect(tc.name).toBe(name);
    expect(tc.classname).toBe('g&h');
    expect(tc.failure.message).toBe('line one');
    expect(tc.failure['#text']).toBe('line one\nline two');
  });

  it('adds a failing case when the drill failed or was cancelled without a failed check', () => {
    const xml = renderJUnit(
      sampleReport({
        status: 'cancelled',
        checks: [{ name: 'sha256', group: 'verify', ok: true }],
        notes: ['cancelled by SIGTERM'],
      }),
    );
    const suite = parser.parse(xml).testsuites.testsuite;
    expect(suite.testcase).toHaveLength(2);
    expect(suite.failures).toBe('1');
    expect(suite.testcase[1]).toMatchObject({
      classname: 'drill',
      name: 'drill cancelled',
      failure: { message: 'cancelled by SIGTERM' },
    });
    const passed = parser.parse(renderJUnit(sampleReport({ status: 'passed', ok: true, checks: [] })))
      .testsuites.testsuite;
    expect(passed.tests).toBe('0');
  });
});

describe('writeDrillReport', () => {
  let root: string | undefined;
  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('writes three private files into a new 0700 dir with every planted secret redacted', async () => {
    root = await mkdtemp(join(tmpdir(), 'dbdrill-report-'));
    const dir = join(root, 'nested', 'report');
    const secret = 'Sup3r$ecret&|<pw>';
    const apiKey = 'sk_live_51HzzQ';
    const redactor = new Redactor();
    redactor.add(secret);
    redactor.add(apiKey);
    const base = sampleReport();
    const report = sampleReport({
      notes: [`password was ${secret}`, `key ${apiKey}`],
      phases: [
        ...base.phases,
        { name: 'leak', startedAt: at(90_000), seconds: 1, status: 'failed', detail: `PGPASSWORD=${secret}` },
      ],
      checks: [
        ...base.checks,
        { name: `header ${apiKey}`, group: 'health', ok: false, detail: `got ${secret}` },
      ],
      appLogTail: [
        `connecting with ${secret}`,
        `DATABASE_URL=postgres://app:${encodeURIComponent(secret)}@db/shop`,
      ],
      health: [
        {
          name: 'x',
          url: `http://admin:otherpw123@127.0.0.1:1/`,
          ok: false,
          attempts: 1,
          seconds: 0,
          lastError: apiKey,
        },
      ],
      target: { kind: 'url', display: `postgres://app:plainpw42@127.0.0.1:5432/shop` },
    });
    const written = await writeDrillReport(dir, report, { redact: (s) => redactor.redact(s) });
    expect(written.problems).toEqual([]);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    for (const file of [written.json, written.markdown, written.junit]) {
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      const text = await readFile(file, 'utf8');
      for (const leak of [
        secret,
        apiKey,
        encodeURIComponent(secret),
        'otherpw123',
        'plainpw42',
        'Sup3r',
        '&amp;|&lt;pw',
      ]) {
        expect(text).not.toContain(leak);
      }
      expect(text).toContain('***');
    }
    const json = JSON.parse(await readFile(written.json, 'utf8'));
    expect(validateDrillReport(json)).toEqual([]);
    expect(json.notes[0]).toBe('password was ***');
    expect(json.target.display).toBe('postgres://app:***@127.0.0.1:5432/shop');
    expect(XMLValidator.validate(await readFile(written.junit, 'utf8'))).toBe(true);
    expect(await readFile(written.markdown, 'utf8')).toContain('```mermaid\ngantt');
  });

  it('overwrites an earlier report in place and leaves no temp files', async () => {
    root ??= await mkdtemp(join(tmpdir(), 'dbdrill-report-'));
    const dir = join(root, 'again');
    await writeDrillReport(dir, sampleReport());
    const second = await writeDrillReport(dir, sampleReport({ status: 'passed', ok: true }));
    expect(JSON.parse(await readFile(second.json, 'utf8')).status).toBe('passed');
    const { readdir } = await import('node:fs/promises');
    expect((await readdir(dir)).sort()).toEqual(['drill-report.json', 'drill-report.md', 'junit.xml']);
  });

  it('still writes a report that fails the schema, and says why', async () => {
    root ??= await mkdtemp(join(tmpdir(), 'dbdrill-report-'));
    const bad = {
      ...sampleReport(),
      phases: [{ name: 'x', startedAt: 'now', seconds: -1, status: 'ok' }],
    } as DrillReport;
    const written = await writeDrillReport(join(root, 'bad'), bad);
    expect(written.problems).toEqual(
      expect.arrayContaining([
        '/phases/0/seconds must be >= 0',
        '/phases/0/startedAt must match pattern "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?(Z|[+-]\\d{2}:\\d{2})$"',
      ]),
    );
    expect((await stat(written.json)).isFile()).toBe(true);
  });
});
