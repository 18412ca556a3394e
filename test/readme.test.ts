/**
 * The README and docs/ are part of the contract: the generated reference tables must equal their
 * sources, the set-up commands must stay true, and every page the docs link to must exist.
 */
import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';

const readme = readFileSync('README.md', 'utf8');

/** Every markdown file under docs/, plus README and CHANGELOG. */
function markdownPages(): string[] {
  const found: string[] = ['README.md', 'CHANGELOG.md'].filter((f) => existsSync(f));
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.name.endsWith('.md')) found.push(p);
    }
  };
  walk('docs');
  return found;
}

describe('README and docs/', () => {
  it('have action tables and CLI option lists equal to action.yml and dist/cli', () => {
    expect(() =>
      execFileSync(process.execPath, ['scripts/docs-tables.mjs', '--check'], { stdio: 'pipe' }),
    ).not.toThrow();
  });

  it('the table check fails, naming the page, when an action.yml changes and the docs do not', () => {
    // A copy of what the generator reads, so the real files are never touched.
    const copy = mkdtempSync(join(tmpdir(), 'dbdrill-docs-'));
    try {
      for (const dir of ['scripts', 'actions', 'docs']) cpSync(dir, join(copy, dir), { recursive: true });
      cpSync('dist/cli', join(copy, 'dist/cli'), { recursive: true });
      for (const f of ['.prettierrc.json', 'package.json', 'action.yml']) cpSync(f, join(copy, f));
      execFileSync('ln', ['-s', join(process.cwd(), 'node_modules'), join(copy, 'node_modules')]);
      const meta = join(copy, 'actions', 'verify', 'action.yml');
      writeFileSync(
        meta,
        readFileSync(meta, 'utf8').replace(/^inputs:\n/m, "inputs:\n  brand-new:\n    description: 'x'\n"),
      );
      let stderr = '';
      try {
        execFileSync(process.execPath, [join(copy, 'scripts', 'docs-tables.mjs'), '--check'], {
          stdio: 'pipe',
        });
      } catch (e) {
        stderr = String((e as { stderr: Buffer }).stderr);
      }
      expect(stderr).toContain('docs/actions/verify.md');
      expect(stderr).not.toContain('docs/actions/backup.md');
      // the root action.yml is the union of the three, so it is stale too
      expect(stderr).toMatch(/(^|, )action\.yml/);
      // and the generator repairs it, the root action and its page included
      execFileSync(process.execPath, [join(copy, 'scripts', 'docs-tables.mjs')], { stdio: 'pipe' });
      expect(readFileSync(join(copy, 'docs', 'actions', 'verify.md'), 'utf8')).toContain('`brand-new`');
      expect(readFileSync(join(copy, 'action.yml'), 'utf8')).toMatch(
        /^ {2}brand-new:\n {4}description: 'For verify: x'/m,
      );
      expect(readFileSync(join(copy, 'docs', 'actions', 'action.md'), 'utf8')).toContain('`brand-new`');
      execFileSync(process.execPath, [join(copy, 'scripts', 'docs-tables.mjs'), '--check'], {
        stdio: 'pipe',
      });
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  it('gives the two set-up commands, and .ci/run calls exactly its test command', () => {
    expect(readme).toContain('npm ci && npm run demo');
    expect(readme).toContain('npm ci && npm test');
    const ci = readFileSync('.ci/run', 'utf8');
    expect(ci).toMatch(/^npm test( <\/dev\/null)?$/m);
  });

  it('shows a minimal uses: block for each action, at the repository path, and a Code map section', () => {
    for (const action of ['backup', 'verify', 'restore-drill'])
      expect(readme).toContain(`uses: dbdrill/dbdrill/actions/${action}@v1`);
    // and points at the root action's page, whose example uses the root form
    expect(readme).toContain('(docs/actions/action.md)');
    const rootPage = readFileSync('docs/actions/action.md', 'utf8');
    expect(rootPage).toMatch(/uses: dbdrill\/dbdrill@v1\n\s+with:\n\s+command: backup\n/);
    expect(readme).toMatch(/^## Code map$/m);
  });

  it('documents every CLI command in the CLI reference', () => {
    const cli = readFileSync('docs/cli.md', 'utf8');
    for (const command of ['backup', 'verify', 'drill', 'prune', 'list'])
      expect(cli).toContain(`dbdrill ${command}`);
  });

  it('has a page per action and every relative link in README, CHANGELOG and docs/ resolves', () => {
    for (const action of ['backup', 'verify', 'restore-drill', 'action'])
      expect(existsSync(`docs/actions/${action}.md`)).toBe(true);
    const broken: string[] = [];
    for (const page of markdownPages()) {
      const text = readFileSync(page, 'utf8').replace(/```[\s\S]*?```/g, '');
      for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = m[1].split('#')[0];
        if (!target || /^[a-z]+:/.test(target)) continue;
        if (!existsSync(join(dirname(page), target))) broken.push(`${page}: ${m[1]}`);
      }
    }
    expect(broken).toEqual([]);
    expect(markdownPages().map((p) => relative('.', p))).toContain('docs/README.md');
  });

  it('no uses: line anywhere still points at a placeholder owner', () => {
    const places = [
      ...markdownPages(),
      ...readdirSync('examples/workflows').map((f) => `examples/workflows/${f}`),
    ];
    const offenders = places.filter((f) => /uses:\s*your-org\//.test(readFileSync(f, 'utf8')));
    expect(offenders).toEqual([]);
  });
});
