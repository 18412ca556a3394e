/**
 * `pg-client`: where pg_dump/pg_restore come from when the installed ones are older than the
 * server. A real PostgreSQL 15 server throughout. Three TEST DOUBLEs, each for something that
 * cannot run here:
 * - an old client: pg_dump/pg_restore scripts on PATH that report 14.9 (and do nothing else),
 *   with the real /usr/lib/postgresql hidden (`pgClientPorts.systemRoot` points at an empty dir);
 * - the docker CLI (no Docker engine here): `docker run ... <image> <tool> <args>` runs the real
 *   PostgreSQL 15 tool with only the mounted paths and the `-e` variables visible, so the bundle is
 *   real and read back by the real pg_restore;
 * - apt (no network, and no installing on this machine): a process runner that records the apt
 *   commands and "installs" by linking the real PostgreSQL 15 client into the hidden system root.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chmod, mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import type { Manifest } from '../src/core/bundle/manifest.js';
import { join } from 'node:path';

import { backup } from '../src/core/backup.js';
import { drill } from '../src/core/drill.js';
import { ConfigError } from '../src/core/errors.js';
import {
  resolvePgClient,
  type PgClientCache,
  type PgClientHost,
  type PgClientPorts,
} from '../src/core/engines/postgres/pg-client.js';
import {
  OptionReader,
  parseBackupOptions,
  parseDrillOptions,
  parseVerifyOptions,
  type RawOptions,
} from '../src/core/options/index.js';
import { NodeProcessRunner, type ProcessRunner, type RunOptions } from '../src/core/process.js';
import { verify } from '../src/core/verify.js';
import { MemoryLogger } from './helpers/memory-logger.js';
import { startTestCluster, type TestCluster } from './helpers/pg-cluster.js';
import { tempDir, testDeps } from './helpers/deps.js';

const PG_BIN = '/usr/lib/postgresql/15/bin';
const PG_TOOLS = ['initdb', 'pg_ctl', 'postgres', 'pg_dump', 'pg_restore', 'psql'];

const OLD_CLIENT = (tool: string) => `#!/bin/sh
# TEST DOUBLE: an installed ${tool} older than the server; it only answers --version.
[ "$1" = --version ] && { echo "${tool} (PostgreSQL) 14.9"; exit 0; }
echo "${tool}: this old client double only answers --version" >&2
exit 1
`;

const FAKE_DOCKER = `#!/bin/bash
# TEST DOUBLE of the docker CLI (no Docker engine here). "docker version" answers unless
# FAKE_DOCKER_DOWN is set; "docker run [opts] <image> <tool> <args>" runs the real PostgreSQL tool
# from $FAKE_PG_BIN for images matching $FAKE_DOCKER_IMAGES, seeing, like a container, only the
# variables passed by name with -e and only the paths mounted with -v.
printf '%s\\n' "$*" >> "$FAKE_DOCKER_LOG"
case "$1" in
  version)
    if [ -n "$FAKE_DOCKER_DOWN" ]; then
      echo "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?" >&2; exit 1
    fi
    echo 27.3.1; exit 0 ;;
  run) shift ;;
  *) echo "fake docker: only version and run are doubled" >&2; exit 1 ;;
esac
mounts=(); envs=()
while [[ "$1" == -* ]]; do
  case "$1" in
    -v) mounts+=("\${2%%:*}"); shift 2 ;;
    -e) if [[ "$2" == *=* ]]; then echo "fake docker: a value on argv (-e $2)" >&2; exit 97; fi
        [ -n "\${!2+x}" ] && envs+=("$2=\${!2}"); shift 2 ;;
    --user) [[ "$2" =~ ^[0-9]+:[0-9]+$ ]] || { echo "fake docker: --user $2 is not uid:gid" >&2; exit 96; }; shift 2 ;;
    --network) shift 2 ;;
    *) shift ;;
  esac
done
image="$1"; shift
if ! [[ "$image" =~ $FAKE_DOCKER_IMAGES ]]; then
  echo "Unable to find image '$image' locally" >&2
  echo "docker: Error response from daemon: pull access denied for \${image%%:*}, repository does not exist or may require 'docker login'." >&2
  echo "See 'docker run --help'." >&2
  exit 125
fi
tool="$1"; shift
for a in "$@"; do
  p="\${a#--file=}"
  if [[ "$p" == /* ]]; then
    ok=; for m in "\${mounts[@]}"; do [[ "$p" == "$m" || "$p" == "$m"/* ]] && ok=1; done
    [ -n "$ok" ] || { echo "$tool: error: could not open file \\"$p\\": No such file or directory" >&2; exit 1; }
  fi
done
exec env -i PATH=/usr/bin:/bin "\${envs[@]}" "$FAKE_PG_BIN/$tool" "$@"
`;

let cluster: TestCluster;
let work: { dir: string; remove: () => Promise<void> };
let hiddenRoot: string;
const saved = { ...process.env };

/** The bundle's manifest, read by the real tar. */
const openBundleManifest = (bundle: string): Manifest =>
  JSON.parse(execFileSync('tar', ['-xOf', bundle, 'manifest.json'], { encoding: 'utf8' })) as Manifest;
const dockerLog = () => readFile(join(work.dir, 'docker.log'), 'utf8').catch(() => '');

beforeAll(async () => {
  cluster = await startTestCluster({ database: 'shop' });
  await cluster.loadRealisticSchema();
  await cluster.sql('CREATE DATABASE shop_drill');
  work = await tempDir();
  const bin = join(work.dir, 'bin');
  await mkdir(bin);
  for (const tool of ['pg_dump', 'pg_restore', 'psql']) {
    await writeFile(join(bin, tool), OLD_CLIENT(tool));
    await chmod(join(bin, tool), 0o755);
  }
  await writeFile(join(bin, 'docker'), FAKE_DOCKER);
  await chmod(join(bin, 'docker'), 0o755);
  hiddenRoot = join(work.dir, 'no-system-postgresql');
  await mkdir(hiddenRoot);
  // PATH without any real PostgreSQL tool (/usr/local/bin may link initdb into
  // /usr/lib/postgresql/15/bin, which also holds pg_dump): such a dir is replaced by a copy of its
  // links without the PostgreSQL tools, so the old client double is the installed one.
  const entries: string[] = [];
  for (const [i, dir] of (process.env.PATH ?? '').split(':').entries()) {
    if (dir.includes('postgresql')) continue;
    const names = await readdir(dir).catch(() => [] as string[]);
    if (!names.some((n) => PG_TOOLS.includes(n))) {
      entries.push(dir);
      continue;
    }
    const shadow = join(work.dir, `path-${i}`);
    await mkdir(shadow);
    for (const n of names) if (!PG_TOOLS.includes(n)) await symlink(join(dir, n), join(shadow, n));
    entries.push(shadow);
  }
  const path = entries.join(':');
  Object.assign(process.env, {
    PATH: `${bin}:${path}`,
    FAKE_DOCKER_LOG: join(work.dir, 'docker.log'),
    FAKE_DOCKER_IMAGES: '^(postgres|mirror\\.example/pg):[0-9]+$',
    FAKE_PG_BIN: PG_BIN,
  });
  delete process.env.FAKE_DOCKER_DOWN;
});

afterAll(async () => {
  process.env = saved;
  await cluster?.stop();
  await work?.remove();
});

/** The machine facts `auto` decides on, as a TEST DOUBLE (this machine is root, not a runner). */
function host(facts: { docker: boolean; privilege?: 'root' | 'sudo'; debian?: boolean; hosted?: boolean }) {
  return {
    dockerProblem: async () => (facts.docker ? undefined : 'Cannot connect to the Docker daemon'),
    privilege: async () => facts.privilege,
    debianLike: async () => facts.debian ?? true,
    githubHosted: () => facts.hosted ?? false,
    user: () => '1001:127',
  } satisfies PgClientHost;
}

/**
 * TEST DOUBLE of the process runner for apt: apt commands are recorded and succeed, and
 * `apt-get install postgresql-client-15` links the real PostgreSQL 15 client into the system root.
 * Everything else runs for real.
 */
function aptRunner(systemRoot: string): ProcessRunner & { apt: string[] } {
  const real = new NodeProcessRunner(new MemoryLogger());
  const apt: string[] = [];
  return {
    apt,
    spawn: (command, args, options) => real.spawn(command, args, options),
    async run(command: string, args: string[], options?: RunOptions) {
      const line = [command, ...args].join(' ');
      if (/apt\.postgresql\.org\.sh|apt-get|^sh -c|^sudo /.test(line)) {
        apt.push(line);
        const pkg = /apt-get install .*postgresql-client-(\d+)$/.exec(line);
        if (pkg) {
          const dir = join(systemRoot, pkg[1]!, 'bin');
          await mkdir(dir, { recursive: true });
          for (const tool of ['pg_dump', 'pg_restore', 'psql'])
            if (!existsSync(join(dir, tool))) await symlink(join(PG_BIN, tool), join(dir, tool));
        }
        return { code: 0, signal: null, stdout: '', stderr: '' };
      }
      return real.run(command, args, options);
    },
  };
}

function depsWith(ports: PgClientPorts, runner?: ProcessRunner) {
  const deps = testDeps();
  return { ...deps, ...(runner ? { runner } : {}), pgClientPorts: { systemRoot: hiddenRoot, ...ports } };
}

const backupRaw = (raw: RawOptions): RawOptions => ({
  'database-url': cluster.url.replace('postgres@', 'postgres:client-pw-321@'),
  store: join(work.dir, 'store'),
  name: 'shop',
  ...raw,
});

describe('pg-client auto, the installed pg_dump older than the server', () => {
  let bundle: string;

  it('runs pg_dump from postgres:<server major> with docker, into the same bundle, password by name only', async () => {
    const deps = depsWith({ host: host({ docker: true }) });
    const result = await backup(deps, parseBackupOptions(new OptionReader(backupRaw({}))));
    bundle = result.bundle;
    const log = await dockerLog();
    expect(log).toMatch(/^run --rm postgres:15 pg_dump --version$/m);
    const dump = log.split('\n').find((l) => / pg_dump --format=/.test(l))!;
    expect(dump).toMatch(/^run --rm -i --network host --user 1001:127 -v \/\S+:\/\S+ /);
    expect(dump).toMatch(/ -e PGPASSWORD /);
    expect(dump).toMatch(/ postgres:15 pg_dump --format=directory /);
    expect(log).not.toContain('client-pw-321');
    expect(deps.logger.lines.join('\n')).toMatch(
      /pg-client auto: the installed pg_dump is too old or missing \(pg_dump 14\.9/,
    );
    const manifest = openBundleManifest(bundle);
    const pg = manifest.components.find((c) => c.engine === 'postgres')!;
    expect(pg.engine === 'postgres' && pg.tool).toMatchObject({
      via: 'image',
      image: 'postgres:15',
      path: 'docker run postgres:15 pg_dump',
      version: expect.stringMatching(/^15\./),
    });
  });

  it('the bundle verifies deep with the real pg_restore', async () => {
    const verified = await verify(
      testDeps(),
      parseVerifyOptions(
        new OptionReader({ bundle, deep: 'true', 'pg-bin-dir': PG_BIN, 'pg-client': 'local' }),
      ),
    );
    expect(verified.ok).toBe(true);
    expect(verified.layers.find((l) => l.name === 'pg_restore --list')?.detail).toMatch(
      /pg_restore 15\.\d+ lists \d+ entries, all found/,
    );
  });

  it('verify with pg-client docker runs pg_restore --list in the image (directory mounted)', async () => {
    await writeFile(join(work.dir, 'docker.log'), '');
    const verified = await verify(
      depsWith({ host: host({ docker: true }) }),
      parseVerifyOptions(new OptionReader({ bundle, 'pg-client': 'docker' })),
    );
    expect(verified.ok).toBe(true);
    expect(verified.layers.find((l) => l.name === 'pg_restore --list')?.detail).toMatch(/all found/);
    expect(await dockerLog()).toMatch(/ -v (\/\S+):\1 postgres:\d+ pg_restore --list \1$/m);
  });

  it('a custom-format dump streams through docker run -i into pg_restore --list', async () => {
    const deps = depsWith({ host: host({ docker: true }) });
    const custom = await backup(deps, parseBackupOptions(new OptionReader(backupRaw({ format: 'custom' }))));
    await writeFile(join(work.dir, 'docker.log'), '');
    const verified = await verify(
      depsWith({ host: host({ docker: true }) }),
      parseVerifyOptions(new OptionReader({ bundle: custom.bundle, 'pg-client': 'docker' })),
    );
    expect(verified.ok).toBe(true);
    expect(await dockerLog()).toMatch(
      /^run --rm -i --network host --user 1001:127 postgres:\d+ pg_restore --list$/m,
    );
  });

  it('the drill restores with pg_restore from postgres:15 (dump and work dir mounted, --network host)', async () => {
    await writeFile(join(work.dir, 'docker.log'), '');
    const deps = depsWith({ host: host({ docker: true }) });
    const result = await drill(
      deps,
      parseDrillOptions(
        new OptionReader({
          bundle,
          'target-url': cluster.url.replace(/\/shop$/, '/shop_drill'),
          'pg-client': 'docker',
          'report-dir': join(work.dir, 'report'),
        }),
      ),
    );
    expect(result.ok).toBe(true);
    expect(result.counts.every((c) => c.expected === c.actual)).toBe(true);
    const restore = (await dockerLog()).split('\n').find((l) => / pg_restore --dbname /.test(l))!;
    expect(restore).toMatch(
      /^run --rm -i --network host --user 1001:127 (-v \S+ )+(-e PG\w+ )+postgres:15 pg_restore /,
    );
    expect(deps.logger.lines.join('\n')).toMatch(
      /with pg_restore 15\.\d+ \(docker run postgres:15 pg_restore\)/,
    );
  });
});

describe("auto's choice", () => {
  const request = (
    ports: PgClientPorts,
    mode: 'auto' | 'local' | 'docker' | 'apt' = 'auto',
    image = 'postgres:{major}',
  ) => ({
    tool: 'pg_dump' as const,
    minMajor: 15,
    serverVersion: '15.8',
    choice: { mode, image },
    ports: { systemRoot: hiddenRoot, ...ports },
  });
  const logger = new MemoryLogger();
  const realRunner = new NodeProcessRunner(logger);

  it('stays local when the installed client is new enough, even with docker', async () => {
    const c = await resolvePgClient(
      { runner: realRunner, logger },
      { ...request({ host: host({ docker: true }) }), ports: { host: host({ docker: true }) } },
    );
    expect(c.via).toBe('local');
    expect(c.path).toMatch(/\/15\/bin\/pg_dump$/);
  });

  it.each([
    [{ docker: true, privilege: 'root', hosted: true }, 'docker'],
    [{ docker: true, hosted: false }, 'docker'],
    [{ docker: false, privilege: 'root', hosted: true }, 'apt'],
    [{ docker: false, privilege: 'sudo', hosted: true }, 'apt'],
  ] as const)('%j -> %s', async (facts, expected) => {
    const root = join(work.dir, `root-${Math.random().toString(36).slice(2)}`);
    await mkdir(root);
    const runner = aptRunner(root);
    const c = await resolvePgClient({ runner, logger }, request({ host: host(facts), systemRoot: root }));
    expect(c.via).toBe(expected);
    if (expected === 'apt') {
      const sudo = facts.privilege === 'sudo' ? 'sudo -n ' : '';
      expect(runner.apt).toEqual([
        `${sudo}/usr/share/postgresql-common/pgdg/apt.postgresql.org.sh -y`,
        `${sudo}env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql-client-15`,
      ]);
      expect(c.path).toBe(join(root, '15', 'bin', 'pg_dump'));
    } else expect(runner.apt).toEqual([]);
  });

  it.each([
    [{ docker: false, privilege: 'root', hosted: false }, /not a GitHub-hosted runner/],
    [{ docker: false, hosted: true }, /neither as root nor with passwordless sudo/],
    [{ docker: false, privilege: 'root', hosted: true, debian: false }, /not Debian\/Ubuntu/],
  ] as const)('%j -> exit 2 offering the fixes', async (facts, why) => {
    const runner = aptRunner(hiddenRoot);
    const err = await resolvePgClient({ runner, logger }, request({ host: host(facts) })).catch((e) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.exitCode).toBe(2);
    expect(err.message).toMatch(why);
    expect(err.message).toMatch(/pg_dump 14\.9 at \S+\/bin\/pg_dump/);
    expect(err.message).toMatch(/install postgresql-client-15/);
    expect(err.message).toMatch(/pg-client: docker/);
    expect(err.message).toMatch(/pg-client-image/);
    expect(runner.apt).toEqual([]);
  });

  it('local never substitutes, and its error offers pg-client docker', async () => {
    const err = await resolvePgClient(
      { runner: realRunner, logger },
      request({ host: host({ docker: true }) }, 'local'),
    ).catch((e) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toMatch(/No pg_dump of PostgreSQL 15 or newer was found/);
    expect(err.message).toMatch(/pg-client: docker \(runs pg_dump from the postgres:15 image/);
  });

  it('docker forced without an engine fails with exit 2', async () => {
    const err = await resolvePgClient(
      { runner: realRunner, logger },
      request({ host: host({ docker: false }) }, 'docker'),
    ).catch((e) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toMatch(/pg-client docker needs a working Docker engine \(Cannot connect/);
  });

  it("a wrong pg-client-image is named with docker's own reason", async () => {
    const err = await resolvePgClient(
      { runner: realRunner, logger },
      request({ host: host({ docker: true }) }, 'docker', 'nosuch/registry:{major}'),
    ).catch((e) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toMatch(/^pg-client-image "nosuch\/registry:15": .*pull access denied/);
  });

  it('a mirror image with {major} is used as given', async () => {
    const c = await resolvePgClient(
      { runner: realRunner, logger },
      request({ host: host({ docker: true }) }, 'docker', 'mirror.example/pg:{major}'),
    );
    expect(c.image).toBe('mirror.example/pg:15');
    expect(c.invocation(['--version']).args.slice(-3)).toEqual([
      'mirror.example/pg:15',
      'pg_dump',
      '--version',
    ]);
  });

  it('an image older than the server is refused', async () => {
    const err = await resolvePgClient(
      { runner: realRunner, logger },
      { ...request({ host: host({ docker: true }) }, 'docker'), minMajor: 16, imageMajor: 16 },
    ).catch((e) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toMatch(
      /pg-client-image "postgres:16" has pg_dump 15\.\d+, older than PostgreSQL 16/,
    );
  });

  it('the real host probe reports a docker without an engine', async () => {
    process.env.FAKE_DOCKER_DOWN = '1';
    try {
      const err = await resolvePgClient(
        { runner: realRunner, logger },
        { ...request({}, 'docker'), ports: { systemRoot: hiddenRoot } },
      ).catch((e) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect(err.message).toMatch(/docker version: Cannot connect to the Docker daemon/);
    } finally {
      delete process.env.FAKE_DOCKER_DOWN;
    }
  });
});

describe('pg-client apt through a backup', () => {
  it('installs postgresql-client-<major>, dumps with it, records it, and keeps it in the tool cache', async () => {
    const root = join(work.dir, 'apt-root');
    await mkdir(root);
    const runner = aptRunner(root);
    const kept: [string, number][] = [];
    // TEST DOUBLE of the tool-cache port: remembers what it was given.
    const cache: PgClientCache = {
      find: async (major) => kept.find(([, m]) => m === major)?.[0],
      save: async (dir, major) => void kept.push([dir, major]),
    };
    const deps = depsWith(
      { host: host({ docker: false, privilege: 'root', hosted: true }), systemRoot: root, cache },
      runner,
    );
    const result = await backup(deps, parseBackupOptions(new OptionReader(backupRaw({ format: 'custom' }))));
    expect(runner.apt.at(-1)).toBe(
      'env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql-client-15',
    );
    expect(kept).toEqual([[join(root, '15', 'bin'), 15]]);
    const manifest = openBundleManifest(result.bundle);
    const pg = manifest.components.find((c) => c.engine === 'postgres')!;
    expect(pg.engine === 'postgres' && pg.tool).toMatchObject({
      via: 'apt',
      path: join(root, '15', 'bin', 'pg_dump'),
    });
    const verified = await verify(
      testDeps(),
      parseVerifyOptions(new OptionReader({ bundle: result.bundle, deep: 'true', 'pg-bin-dir': PG_BIN })),
    );
    expect(verified.ok).toBe(true);

    // The same machine again: the installed client is now the local one.
    runner.apt.length = 0;
    await backup(deps, parseBackupOptions(new OptionReader(backupRaw({ format: 'custom' }))));
    expect(runner.apt).toEqual([]);

    // A fresh machine (nothing under its system root) with the same tool cache installs nothing.
    const fresh = join(work.dir, 'apt-root-fresh');
    await mkdir(fresh);
    const freshRunner = aptRunner(fresh);
    const again = depsWith(
      { host: host({ docker: false, privilege: 'root', hosted: true }), systemRoot: fresh, cache },
      freshRunner,
    );
    await backup(again, parseBackupOptions(new OptionReader(backupRaw({ format: 'custom' }))));
    expect(freshRunner.apt).toEqual([]);
    expect(again.logger.lines.join('\n')).toMatch(
      /pg_dump 15\.\d+ from the tool cache: \S+apt-root\/15\/bin/,
    );
  });

  it('pg-client apt without root or sudo fails with exit 2', async () => {
    const deps = depsWith({ host: host({ docker: false, hosted: true }) }, aptRunner(hiddenRoot));
    const err = await backup(
      deps,
      parseBackupOptions(new OptionReader(backupRaw({ 'pg-client': 'apt' }))),
    ).catch((e) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toMatch(
      /pg-client apt installs postgresql-client-15 and needs root or passwordless sudo/,
    );
  });
});

describe('options', () => {
  it('pg-client takes auto, local, docker or apt', () => {
    expect(() => parseBackupOptions(new OptionReader(backupRaw({ 'pg-client': 'podman' })))).toThrow(
      /pg-client.*podman/,
    );
    expect(parseBackupOptions(new OptionReader(backupRaw({}))).pgClient).toEqual({
      mode: 'auto',
      image: 'postgres:{major}',
    });
  });

  it('pg-client-image must be an image reference', () => {
    expect(() =>
      parseDrillOptions(
        new OptionReader({ bundle: 'x', 'target-url': cluster.url, 'pg-client-image': 'postgres 17' }),
      ),
    ).toThrow(/pg-client-image "postgres 17" is not an image reference/);
  });
});
