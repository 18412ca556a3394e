/**
 * Parse once, before any work: what the drill will read from files (post-restore-sql's @file and
 * @dir, the health-checks file) is read and checked by the parse function, errors name the input
 * as the user typed it, and the option modules import one way only.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { loadYaml } from '../src/core/checks/yaml.js';
import { ConfigError } from '../src/core/errors.js';
import {
  OptionReader,
  parseDrillOptions,
  parseReportUpload,
  specsFor,
  type RawOptions,
} from '../src/core/options/index.js';
import { tempDir } from './helpers/deps.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI_LABEL = (n: string) => `--${n}`;

let work: { dir: string; remove: () => Promise<void> };

beforeAll(async () => {
  work = await tempDir('dbdrill-options-');
});

afterAll(async () => {
  await work?.remove();
});

function drillOptions(raw: RawOptions, label?: (n: string) => string) {
  return parseDrillOptions(
    new OptionReader({ bundle: '/any/bundle.dbdrill.tar', provision: 'local', ...raw }, label),
  );
}

function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError, but nothing was thrown');
}

describe('post-restore-sql', () => {
  it('keeps statements, reads @file.sql and every *.sql of @dir in name order', async () => {
    const dir = join(work.dir, 'migrations');
    await mkdir(dir);
    await writeFile(join(dir, '010_b.sql'), 'CREATE TABLE b ()');
    await writeFile(join(dir, '002_a.sql'), 'CREATE TABLE a ()');
    await writeFile(join(dir, 'notes.txt'), 'not SQL');
    const single = join(work.dir, 'grant.sql');
    await writeFile(single, 'GRANT SELECT ON b TO reader');
    const o = drillOptions({ 'post-restore-sql': ['SELECT 1', `@${dir}`, `@${single}`] });
    expect(o.postRestoreSql).toEqual([
      { label: 'SELECT 1', sql: 'SELECT 1' },
      { label: join(dir, '002_a.sql'), sql: 'CREATE TABLE a ()' },
      { label: join(dir, '010_b.sql'), sql: 'CREATE TABLE b ()' },
      { label: single, sql: 'GRANT SELECT ON b TO reader' },
    ]);
  });

  it('a missing file fails at parse time, naming the input as an action or the CLI spells it', () => {
    const missing = join(work.dir, 'missing.sql');
    expect(configError(() => drillOptions({ 'post-restore-sql': `@${missing}` }))).toBe(
      `post-restore-sql "@${missing}": "${missing}" does not exist; write @file.sql, @dir (its *.sql files) or the SQL itself`,
    );
    expect(configError(() => drillOptions({ 'post-restore-sql': `@${missing}` }, CLI_LABEL))).toMatch(
      /^--post-restore-sql "@/,
    );
    expect(configError(() => drillOptions({ 'post-restore-sql': '@' }))).toMatch(/names no file/);
  });
});

describe('health checks', () => {
  // a session loads the YAML parser before it parses options (adapters/startup.ts); here, by hand
  beforeAll(async () => {
    await loadYaml();
  });

  it('health-urls lines come first, then the checks of the health-checks file', async () => {
    const file = join(work.dir, 'checks.yml');
    await writeFile(
      file,
      'checks:\n  - url: http://127.0.0.1:3000/ready\n    expectJson: {"$.db": "up"}\n  - POST http://127.0.0.1:3000/ping 204\n',
    );
    const o = drillOptions({
      'health-urls': ['GET http://127.0.0.1:3000/healthz 200 ok'],
      'health-checks': file,
    });
    expect(o.healthChecks).toEqual([
      {
        name: 'GET http://127.0.0.1:3000/healthz',
        method: 'GET',
        url: 'http://127.0.0.1:3000/healthz',
        expectStatus: 200,
        expectBody: 'ok',
      },
      {
        name: 'GET http://127.0.0.1:3000/ready',
        method: 'GET',
        url: 'http://127.0.0.1:3000/ready',
        expectJson: [{ path: '$.db', equals: 'up' }],
      },
      {
        name: 'POST http://127.0.0.1:3000/ping',
        method: 'POST',
        url: 'http://127.0.0.1:3000/ping',
        expectStatus: 204,
      },
    ]);
  });

  it('a bad health-urls line or health-checks file fails at parse time with the input as typed', async () => {
    expect(configError(() => drillOptions({ 'health-urls': 'GET ftp://x/' }, CLI_LABEL))).toMatch(
      /^--health-urls line 1: "GET ftp:\/\/x\/" uses the scheme "ftp:"/,
    );
    expect(configError(() => drillOptions({ 'health-urls': 'GET ftp://x/' }))).toMatch(/^health-urls line 1/);
    const missing = join(work.dir, 'nope.yml');
    expect(configError(() => drillOptions({ 'health-checks': missing }, CLI_LABEL))).toBe(
      `--health-checks "${missing}" does not exist; give a YAML or JSON file`,
    );
    const empty = join(work.dir, 'empty.json');
    await writeFile(empty, '[]');
    expect(configError(() => drillOptions({ 'health-checks': empty }))).toBe(
      `health-checks: "${empty}" lists no checks; add at least one {url: ...}`,
    );
  });
});

describe('other drill inputs checked before any work', () => {
  it('app-cwd must be a directory', () => {
    expect(configError(() => drillOptions({ 'app-cwd': join(work.dir, 'no-such-app') }, CLI_LABEL))).toMatch(
      /^--app-cwd ".*no-such-app" is not a directory/,
    );
  });

  it('durations need a unit', () => {
    expect(configError(() => drillOptions({ rto: '45' }, CLI_LABEL))).toMatch(
      /^--rto "45" has no unit; write it with one of s \(seconds\), m \(minutes\), h \(hours\), d \(days\) or w \(weeks\), e\.g\. 45s or 45m$/,
    );
    expect(drillOptions({ rto: '45m', rpo: '1h30m', 'health-timeout': '90s' })).toEqual(
      expect.objectContaining({ rtoSeconds: 2700, rpoSeconds: 5400, healthTimeoutSeconds: 90 }),
    );
  });
});

describe('the action-only report upload inputs', () => {
  it('are in the table for the drill action, with their default written once', () => {
    const specs = specsFor('drill').filter((s) => s.actionOnly);
    expect(specs.map((s) => [s.name, s.default])).toEqual([
      ['report-artifact-name', 'dbdrill-drill-report'],
      ['report-retention-days', undefined],
    ]);
    expect(parseReportUpload(new OptionReader({}))).toEqual({
      artifactName: 'dbdrill-drill-report',
      retentionDays: undefined,
    });
    expect(
      parseReportUpload(
        new OptionReader({ 'report-artifact-name': 'nightly', 'report-retention-days': '30' }),
      ),
    ).toEqual({ artifactName: 'nightly', retentionDays: 30 });
    expect(configError(() => parseReportUpload(new OptionReader({ 'report-retention-days': '0' })))).toBe(
      'report-retention-days "0" is not valid; expected a whole number from 1 to 90',
    );
  });
});

/** Relative imports (type-only ones too: a cycle of types is still a cycle for a reader) of a source file. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?\sfrom\s+'(\.[^']+)'/g)].map((m) =>
    resolve(dirname(file), m[1].replace(/\.js$/, '.ts')),
  );
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

describe('the option modules', () => {
  const src = join(ROOT, 'src');
  const graph = new Map(tsFiles(src).map((f) => [f, importsOf(f)]));
  const optionsDir = join(src, 'core', 'options');
  const owned = [...graph.keys()].filter(
    (f) => f.startsWith(optionsDir + '/') || f === join(src, 'adapters', 'startup.ts'),
  );

  it('resolve every relative import (so the cycle check below sees the real graph)', () => {
    const unresolved = owned.flatMap((f) => graph.get(f)!.filter((i) => !graph.has(i)));
    expect(unresolved).toEqual([]);
  });

  it('are in no import cycle, through any other module of src/', () => {
    const cycles: string[] = [];
    for (const start of owned) {
      // depth-first from start; a path back to start is a cycle
      const stack: { file: string; path: string[] }[] = [{ file: start, path: [start] }];
      const seen = new Set<string>();
      while (stack.length) {
        const { file, path } = stack.pop()!;
        for (const next of graph.get(file) ?? []) {
          if (next === start) cycles.push([...path, next].map((p) => relative(src, p)).join(' -> '));
          else if (!seen.has(next)) {
            seen.add(next);
            stack.push({ file: next, path: [...path, next] });
          }
        }
      }
    }
    expect(cycles).toEqual([]);
  });

  it('spec.ts, which every option file imports, imports none of them', () => {
    expect(graph.get(join(optionsDir, 'spec.ts'))).toEqual([]);
  });

  it('never import an adapter or @actions/*', () => {
    const bad = [...graph.keys()]
      .filter((f) => f.startsWith(optionsDir + '/'))
      .filter(
        (f) =>
          /from '@actions\//.test(readFileSync(f, 'utf8')) ||
          graph.get(f)!.some((i) => /\/src\/(actions|cli|adapters)\//.test(i)),
      );
    expect(bad).toEqual([]);
  });
});
