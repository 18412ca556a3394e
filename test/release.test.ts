/**
 * Releases: the tag workflow, the release notes it takes from CHANGELOG.md, and the promise that the
 * version in package.json can be released (it has notes). The workflow itself runs only on GitHub;
 * here its shape is checked so a refactor cannot silently drop a gate.
 */
import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';

const changelog = readFileSync('CHANGELOG.md', 'utf8');
const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string; license: string };

function notes(version: string) {
  const r = spawnSync(process.execPath, ['scripts/release-notes.mjs', version], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface Step {
  run?: string;
  uses?: string;
  env?: Record<string, string>;
}
interface Workflow {
  on: { push: { tags: string[] } };
  jobs: Record<string, { needs?: string; permissions?: Record<string, string>; steps: Step[] }>;
}

describe('release', () => {
  it('CHANGELOG follows Keep a Changelog with Unreleased and a section for the package version', () => {
    expect(changelog).toMatch(/^## \[Unreleased\]$/m);
    expect(changelog).toMatch(
      new RegExp(`^## \\[${pkg.version.replace(/\./g, '\\.')}\\] - \\d{4}-\\d{2}-\\d{2}$`, 'm'),
    );
    expect(changelog).toContain('keepachangelog.com');
  });

  it('release-notes prints exactly the section of one version, with or without a leading v', () => {
    const a = notes(`v${pkg.version}`);
    expect(a.code).toBe(0);
    expect(a.stdout).toContain('### Added');
    expect(a.stdout).not.toContain('## [Unreleased]');
    expect(a.stdout).not.toMatch(/^\[[^\]]+\]: https/m);
    expect(notes(pkg.version).stdout).toBe(a.stdout);
  });

  it('release-notes refuses a version without notes (exit 1) and a malformed one (exit 2)', () => {
    const missing = notes('99.0.0');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no "## [99.0.0]" section');
    const bad = notes('latest');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('expected a version');
  });

  it('the workflow runs on semver tags, gates on dist/ and tests, releases the tarball and moves the major tag', () => {
    const wf = YAML.parse(readFileSync('.github/workflows/release.yml', 'utf8')) as Workflow;
    expect(wf.on.push.tags).toEqual(['v*.*.*']);
    const check = wf.jobs.check.steps.map((s) => s.run ?? s.uses ?? '').join('\n');
    for (const gate of ['npm run check-dist', 'npm test', 'npm run lint:workflows', 'release-notes.mjs'])
      expect(check).toContain(gate);
    const release = wf.jobs.release;
    expect(release.needs).toBe('check');
    expect(release.permissions?.contents).toBe('write');
    const steps = release.steps.map((s) => s.run ?? '').join('\n');
    expect(steps).toContain('npm pack');
    expect(steps).toMatch(/gh release create "\$TAG" "\$TARBALL"/);
    expect(steps).toContain('major="${TAG%%.*}"');
    expect(steps).toContain('git push --force origin "refs/tags/$major"');
  });

  it('the moving major tag releases the root action too: its bundle is a build entry check-dist gates', async () => {
    const root = YAML.parse(readFileSync('action.yml', 'utf8')) as { runs: { using: string; main: string } };
    expect(root.runs).toEqual({ using: 'node24', main: 'dist/action/index.js' });
    const { ENTRIES } = (await import(join(process.cwd(), 'scripts', 'build.mjs'))) as {
      ENTRIES: Record<string, string>;
    };
    // check-dist rebuilds every entry and compares it with dist/, so a tag with a stale or missing
    // dist/action/ never gets past the check job, and the tag then names the root action.yml as well
    expect(Object.keys(ENTRIES)).toEqual(
      expect.arrayContaining(['backup', 'verify', 'restore-drill', 'action']),
    );
    for (const name of ['backup', 'verify', 'restore-drill']) {
      const sub = YAML.parse(readFileSync(`actions/${name}/action.yml`, 'utf8')) as {
        runs: { main: string };
      };
      expect(sub.runs.main).toBe(`../../dist/${name}/index.js`);
    }
    const wf = YAML.parse(readFileSync('.github/workflows/release.yml', 'utf8')) as Workflow;
    const tagged = wf.jobs.release.steps.map((s) => s.run ?? '').join('\n');
    // the whole commit is tagged, not a path inside it
    expect(tagged).toContain('git tag -fa "$major" -m "dbdrill $TAG" "$GITHUB_SHA"');
  });

  it('ships an MIT LICENSE for "dbdrill contributors", as package.json declares', () => {
    expect(pkg.license).toBe('MIT');
    const license = readFileSync('LICENSE', 'utf8');
    expect(license).toMatch(/^MIT License/);
    expect(license).toContain('Copyright (c) 2026 dbdrill contributors');
  });
});
