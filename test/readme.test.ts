/** The README is part of the contract: its action tables and set-up commands must stay true. */
import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const readme = readFileSync('README.md', 'utf8');

describe('README', () => {
  it('has action input/output tables equal to the action.yml files', () => {
    expect(() =>
      execFileSync(process.execPath, ['scripts/readme-tables.mjs', '--check'], { stdio: 'pipe' }),
    ).not.toThrow();
  });

  it('gives the two set-up commands, and .ci/run calls exactly its test command', () => {
    expect(readme).toContain('npm ci && npm run demo');
    expect(readme).toContain('npm ci && npm test');
    const ci = readFileSync('.ci/run', 'utf8');
    expect(ci).toMatch(/^npm test( <\/dev\/null)?$/m);
  });

  it('documents every CLI command', () => {
    for (const command of ['backup', 'verify', 'drill', 'prune', 'list'])
      expect(readme).toContain(`dbdrill ${command}`);
  });
});
