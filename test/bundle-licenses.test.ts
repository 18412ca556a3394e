/**
 * Each shipped bundle carries the license of every package compiled into it. The oracle is the
 * bundle's own text: webpack names each concatenated or external module by its node_modules path
 * in a comment, independently of how licenses.txt was written.
 */
import { describe, expect, it } from '@jest/globals';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const DIST = join(process.cwd(), 'dist');
const bundles = existsSync(DIST)
  ? readdirSync(DIST).filter((d) => existsSync(join(DIST, d, 'index.js')))
  : [];

function packagesNamedIn(dir: string): Set<string> {
  const out = new Set<string>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.js'))) {
    const text = readFileSync(join(dir, file), 'utf8');
    for (const m of text.matchAll(/(?:CONCATENATED|EXTERNAL) MODULE: \.\/(\S+)/g)) {
      const path = m[1];
      const at = path.lastIndexOf('node_modules/');
      if (at < 0) continue;
      const rest = path.slice(at + 'node_modules/'.length).split('/');
      out.add(rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]);
    }
  }
  return out;
}

describe('bundle licenses', () => {
  it('finds the committed bundles', () => {
    expect(bundles).toEqual(expect.arrayContaining(['backup', 'verify', 'restore-drill', 'cli']));
  });

  it.each(bundles)('dist/%s/licenses.txt names every bundled package with its license', (name) => {
    const licenses = readFileSync(join(DIST, name, 'licenses.txt'), 'utf8');
    const listed = new Set(licenses.split('\n\n').map((block) => block.split('\n')[0]));
    const bundled = packagesNamedIn(join(DIST, name));
    expect(bundled.size).toBeGreaterThan(0);
    expect([...bundled].filter((p) => !listed.has(p))).toEqual([]);
  });

  it('the CLI bundle credits the PostgreSQL driver and the tar reader with their MIT texts', () => {
    const licenses = readFileSync(join(DIST, 'cli', 'licenses.txt'), 'utf8');
    for (const pkg of ['pg', 'pg-protocol', 'tar-stream', 'yaml']) {
      expect(licenses).toMatch(new RegExp(`(^|\\n)${pkg}\\n(MIT|ISC)\\n`));
    }
    expect(licenses).toMatch(/\npg\nMIT\n[^]*?Permission is hereby granted/);
  });
});
