// `npm run bench`: bundles src/bench/main.ts (a dev tool, kept out of dist/) and runs it.
import { spawnSync } from 'node:child_process';
import path from 'node:path';

import { build, ROOT } from './build.mjs';

const outDir = path.join(ROOT, 'build', 'bench-dist');
build({ outDir, entries: { bench: 'src/bench/main.ts' } });
const run = spawnSync(process.execPath, [path.join(outDir, 'bench', 'index.js')], { stdio: 'inherit' });
process.exit(run.status ?? 1);
