// One ncc bundle per entry point (after actions/cache): dist/<name>/index.js, committed.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';

const entries = {
  backup: 'src/actions/backup/index.ts',
  verify: 'src/actions/verify/index.ts',
  'restore-drill': 'src/actions/restore-drill/index.ts',
  cli: 'src/cli/index.ts',
};
const only = process.argv.slice(2);
for (const [name, entry] of Object.entries(entries)) {
  if (only.length && !only.includes(name)) continue;
  if (!existsSync(entry)) continue;
  const out = `dist/${name}`;
  rmSync(out, { recursive: true, force: true });
  execFileSync('npx', ['ncc', 'build', entry, '-o', out, '--target', 'es2022', '-q'], { stdio: 'inherit' });
  if (name === 'cli') {
    const file = `${out}/index.js`;
    const text = readFileSync(file, 'utf8');
    if (!text.startsWith('#!')) writeFileSync(file, '#!/usr/bin/env node\n' + text);
    chmodSync(file, 0o755);
  }
}
