/**
 * `docker-container`: pg_dump runs inside the database's container. No Docker engine runs here,
 * so a TEST DOUBLE of the docker CLI (a shell script first on PATH) plays the container: it runs
 * the command it is given on this machine, against the scratch cluster, and logs its argv.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { backup } from '../src/core/backup.js';
import { ConfigError } from '../src/core/errors.js';
import { OptionReader, parseBackupOptions, parseVerifyOptions } from '../src/core/options/index.js';
import { verify } from '../src/core/verify.js';
import { REALISTIC_COUNTS, startTestCluster, type TestCluster } from './helpers/pg-cluster.js';
import { tempDir, testDeps } from './helpers/deps.js';

const PG_BIN = '/usr/lib/postgresql/15/bin';
const FAKE_DOCKER = `#!/bin/bash
# TEST DOUBLE of the docker CLI: "docker exec [-i] [-e VAR]... <container> <cmd> <args>" runs <cmd>
# here, as if inside the database container, against the scratch cluster.
printf '%s\\n' "$*" >> "$FAKE_DOCKER_LOG"
[ "$1" = exec ] || { echo "fake docker: only exec is doubled" >&2; exit 1; }
shift
while [[ "$1" == -* ]]; do case "$1" in -e) shift 2 ;; *) shift ;; esac; done
container="$1"; shift
if [ "$container" != "$FAKE_DOCKER_CONTAINER" ]; then
  echo "Error response from daemon: No such container: $container" >&2; exit 1
fi
cmd="$1"; shift
case "$cmd" in
  pg_dump) exec env PGHOST="$FAKE_PGHOST" PGPORT="$FAKE_PGPORT" "$FAKE_PG_BIN/pg_dump" "$@" ;;
  *) exec "$cmd" "$@" ;;
esac
`;

let cluster: TestCluster;
let work: { dir: string; remove: () => Promise<void> };
const saved = { ...process.env };

beforeAll(async () => {
  cluster = await startTestCluster({ database: 'shop' });
  await cluster.loadRealisticSchema();
  work = await tempDir();
  await writeFile(join(work.dir, 'docker'), FAKE_DOCKER);
  await chmod(join(work.dir, 'docker'), 0o755);
  Object.assign(process.env, {
    PATH: `${work.dir}:${process.env.PATH}`,
    FAKE_DOCKER_LOG: join(work.dir, 'docker.log'),
    FAKE_DOCKER_CONTAINER: 'shop-db',
    FAKE_PGHOST: '127.0.0.1',
    FAKE_PGPORT: String(cluster.port),
    FAKE_PG_BIN: PG_BIN,
  });
});

afterAll(async () => {
  process.env = saved;
  await cluster?.stop();
  await work?.remove();
});

describe('backup with docker-container', () => {
  it('dumps inside the container to a seekable file, streams it out, and verifies', async () => {
    const url = cluster.url.replace('postgres@', 'postgres:container-pw-123@');
    const store = join(work.dir, 'store');
    const result = await backup(
      testDeps(),
      parseBackupOptions(
        new OptionReader({ 'database-url': url, store, name: 'shop', 'docker-container': 'shop-db' }),
      ),
    );
    const log = await readFile(join(work.dir, 'docker.log'), 'utf8');
    expect(log).toMatch(/^exec shop-db pg_dump --version$/m);
    expect(log).toMatch(
      /^exec -i -e PGPASSWORD shop-db pg_dump --format=custom --snapshot=\S+ --no-sync --file \/tmp\/dbdrill-\S+\.dump --username postgres --dbname shop$/m,
    );
    expect(log).toMatch(/^exec shop-db cat \/tmp\/dbdrill-\S+\.dump$/m);
    expect(log).toMatch(/^exec shop-db rm -f \/tmp\/dbdrill-\S+\.dump$/m);
    expect(log).not.toContain('container-pw-123');
    const verified = await verify(
      testDeps(),
      parseVerifyOptions(new OptionReader({ bundle: result.bundle, deep: 'true' })),
    );
    expect(verified.ok).toBe(true);
    expect(verified.pgDump?.rows).toMatchObject({ 'public.orders': REALISTIC_COUNTS['public.orders'] });
    // written to a file inside the container, so the archive records its data offsets (pg_restore --jobs)
    const dataEntries = verified.pgDump!.report.toc.filter((e) => e.desc === 'TABLE DATA');
    expect(dataEntries.every((e) => e.dataOffsetState === 'set')).toBe(true);
  });

  it('a wrong container name fails before dumping and names the container', async () => {
    const err = await backup(
      testDeps(),
      parseBackupOptions(
        new OptionReader({
          'database-url': cluster.url,
          store: join(work.dir, 'store2'),
          name: 'shop',
          'docker-container': 'nope',
        }),
      ),
    ).catch((e) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toMatch(/docker-container "nope"/);
    expect(err.message).toMatch(/No such container/);
  });
});
