/**
 * `pg-client`: where pg_dump and pg_restore come from. The most common failure of PostgreSQL
 * backups on CI runners is a pg_dump older than the server ("aborting because of server version
 * mismatch"); with `auto` dbdrill fixes that itself, by running the matching client from the
 * `postgres:<major>` image, or by installing it from the PGDG apt repository on a GitHub-hosted
 * runner. `local` is the behaviour before this option existed.
 */
import { constants } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import path from 'node:path';

import { ConfigError } from '../../errors.js';
import { DEFAULT_PG_CLIENT_IMAGE, type PgClientChoice } from '../../options/tool-options.js';
import type { Logger } from '../../logger.js';
import type { ProcessRunner } from '../../process.js';
import { parsePgUrl } from './connection.js';
import {
  ClientTooOldError,
  DEBIAN_ROOT,
  findClientTool,
  parsePgVersion,
  type PgClientTool,
} from './pg-binaries.js';

export type { PgClientChoice };

/** Facts about the machine that decide what `auto` may do; probed for real unless a test passes its own. */
export interface PgClientHost {
  /** Undefined when a Docker engine answers `docker version`; otherwise why not. */
  dockerProblem(): Promise<string | undefined>;
  /** `root`, `sudo` (passwordless), or undefined when packages cannot be installed. */
  privilege(): Promise<'root' | 'sudo' | undefined>;
  /** Debian or Ubuntu with apt-get. */
  debianLike(): Promise<boolean>;
  /** A GitHub-hosted runner (RUNNER_ENVIRONMENT=github-hosted): a throwaway machine dbdrill may install on. */
  githubHosted(): boolean;
  /** `uid:gid` the container runs as, so files it writes into the work dir are ours. */
  user(): string;
}

/** Keeps an apt-installed client's bin dir between runs (tool-cache in the adapters). */
export interface PgClientCache {
  find(major: number): Promise<string | undefined>;
  save(binDir: string, major: number): Promise<void>;
}

/** The ports a client lookup uses besides the runner; all optional. */
export interface PgClientPorts {
  host?: PgClientHost;
  cache?: PgClientCache;
  /** Where Debian-style installs live; /usr/lib/postgresql unless a test hides the real ones. */
  systemRoot?: string;
}

/** A resolved client tool and how to run it. */
export interface PgClient {
  via: 'local' | 'docker' | 'apt';
  tool: PgClientTool;
  version: string;
  major: number;
  /** The binary's path (local, apt) or `docker run <image> <tool>`, for logs and the manifest. */
  display: string;
  path?: string;
  image?: string;
  /**
   * The command line that runs the tool with `args`. For docker, `mounts` are bind-mounted at the
   * same path (so file arguments mean the same thing inside) and `env` names are passed by name
   * only (`-e PGPASSWORD`): the value travels in the docker CLI's environment, never on argv.
   */
  invocation(args: string[], o?: { mounts?: string[]; env?: string[] }): { command: string; args: string[] };
}

export interface PgClientRequest {
  tool: PgClientTool;
  /** The oldest major that works (the server's for pg_dump, the archive's reader for pg_restore). */
  minMajor: number;
  /** The image's major; defaults to minMajor (e.g. the dumped server's major for a drill's pg_restore). */
  imageMajor?: number;
  /** Only for messages. */
  serverVersion?: string;
  choice?: PgClientChoice;
  pgBinDir?: string;
  searchRoots?: string[];
  ports?: PgClientPorts;
}

export function pgClientImage(choice: PgClientChoice | undefined, major: number): string {
  return (choice?.image ?? DEFAULT_PG_CLIENT_IMAGE).replaceAll('{major}', String(major));
}

function localClient(tool: PgClientTool, found: { path: string; major: number; version: string }): PgClient {
  return {
    via: 'local',
    tool,
    ...found,
    display: found.path,
    invocation: (args) => ({ command: found.path, args }),
  };
}

/**
 * The client tool to run. `local` (and no choice at all) is the installed-tools lookup; `auto`
 * is the same when an installed tool is new enough and only otherwise picks docker, then apt
 * (GitHub-hosted runners only: never an unasked install on someone's own machine), else fails
 * with the fixes; `docker` and `apt` force that path.
 */
export async function resolvePgClient(
  deps: { runner: ProcessRunner; logger?: Logger },
  r: PgClientRequest,
): Promise<PgClient> {
  const mode = r.choice?.mode ?? 'local';
  const search = {
    explicitBinDir: r.pgBinDir,
    searchRoots: r.searchRoots,
    serverVersion: r.serverVersion,
    systemRoot: r.ports?.systemRoot,
  };
  const host = r.ports?.host ?? systemPgClientHost(deps.runner);
  if (mode === 'docker') return dockerClient(deps, r, host);
  if (mode === 'apt') return aptClient(deps, r, host, true);
  try {
    return localClient(r.tool, await findClientTool(deps.runner, r.tool, r.minMajor, search));
  } catch (err) {
    if (mode !== 'auto' || !(err instanceof ClientTooOldError)) throw err;
    const image = pgClientImage(r.choice, r.imageMajor ?? r.minMajor);
    const dockerProblem = await host.dockerProblem();
    if (!dockerProblem) {
      deps.logger?.info(
        `pg-client auto: the installed ${r.tool} is too old or missing (${err.found}); running ${r.tool} from ${image} with docker`,
      );
      return dockerClient(deps, r, host);
    }
    const privilege = await host.privilege();
    const debian = await host.debianLike();
    const hosted = host.githubHosted();
    if (privilege && debian && hosted) {
      deps.logger?.info(
        `pg-client auto: the installed ${r.tool} is too old or missing (${err.found}) and docker is unavailable (${dockerProblem}); installing postgresql-client-${r.imageMajor ?? r.minMajor} from apt.postgresql.org`,
      );
      return aptClient(deps, r, host, false);
    }
    const whyNotApt = !hosted
      ? 'this is not a GitHub-hosted runner, so dbdrill does not install packages by itself'
      : !debian
        ? 'this is not Debian/Ubuntu'
        : 'it runs neither as root nor with passwordless sudo';
    const major = r.imageMajor ?? r.minMajor;
    throw new ConfigError(
      `pg-client auto: no ${r.tool} of PostgreSQL ${r.minMajor} or newer is installed` +
        `${r.serverVersion ? ` (the server is PostgreSQL ${r.serverVersion})` : ''}; found ${err.found}. ` +
        `It cannot run one from ${image} (docker: ${dockerProblem}) and will not apt-install one (${whyNotApt}). ` +
        `Fix: install postgresql-client-${major} (apt.postgresql.org on Debian/Ubuntu) or set pg-bin-dir to one; ` +
        `set pg-client: docker where a Docker engine runs (pg-client-image for a mirror of ${DEFAULT_PG_CLIENT_IMAGE}); ` +
        `or set pg-client: apt to install it here as root.`,
    );
  }
}

function lastLine(text: string): string {
  return (
    text
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l && !/^See 'docker|^Run 'docker .* --help'/i.test(l))
      .pop() ?? '(no output)'
  );
}

async function dockerClient(
  deps: { runner: ProcessRunner; logger?: Logger },
  r: PgClientRequest,
  host: PgClientHost,
): Promise<PgClient> {
  const major = r.imageMajor ?? r.minMajor;
  const image = pgClientImage(r.choice, major);
  const problem = await host.dockerProblem();
  if (problem) {
    throw new ConfigError(
      `pg-client docker needs a working Docker engine (${problem}); install postgresql-client-${major} and set pg-client: local, or run where docker works`,
    );
  }
  // The first run pulls the image; a wrong pg-client-image fails here, named, before any work.
  let out;
  try {
    out = await deps.runner.run('docker', ['run', '--rm', image, r.tool, '--version'], {
      quiet: true,
      maxStderrBytes: 64 << 10,
    });
  } catch (err) {
    throw new ConfigError(`pg-client docker: cannot run docker (${(err as Error).message})`);
  }
  const parsed = out.code === 0 ? parsePgVersion(out.stdout) : undefined;
  if (!parsed) {
    throw new ConfigError(
      `pg-client-image "${image}": "docker run --rm ${image} ${r.tool} --version" failed: ${lastLine(out.stderr || out.stdout)}; check the image name (the default is ${DEFAULT_PG_CLIENT_IMAGE}, {major} becomes the server's major)`,
    );
  }
  if (parsed.major < r.minMajor) {
    throw new ConfigError(
      `pg-client-image "${image}" has ${r.tool} ${parsed.version}, older than PostgreSQL ${r.minMajor}${r.serverVersion ? ` (the server is ${r.serverVersion})` : ''}; use an image of PostgreSQL ${r.minMajor} or newer (e.g. ${DEFAULT_PG_CLIENT_IMAGE})`,
    );
  }
  const user = host.user();
  return {
    via: 'docker',
    tool: r.tool,
    version: parsed.version,
    major: parsed.major,
    image,
    display: `docker run ${image} ${r.tool}`,
    invocation(args, o = {}) {
      const mounts = [...new Set(o.mounts ?? [])].sort();
      return {
        command: 'docker',
        args: [
          'run',
          '--rm',
          '-i',
          '--network',
          'host',
          '--user',
          user,
          ...mounts.flatMap((m) => ['-v', `${m}:${m}`]),
          ...[...new Set(o.env ?? [])].sort().flatMap((name) => ['-e', name]),
          image,
          r.tool,
          ...args,
        ],
      };
    },
  };
}

const PGDG_SCRIPT = '/usr/share/postgresql-common/pgdg/apt.postgresql.org.sh';
/** Without postgresql-common: the repository's own instructions (https://www.postgresql.org/download/linux/debian/). */
const PGDG_MANUAL = [
  'set -e',
  'install -d /usr/share/postgresql-common/pgdg',
  'curl -fsSL -o /usr/share/postgresql-common/pgdg/apt.postgresql.org.asc https://www.postgresql.org/media/keys/ACCC4CF8.asc',
  '. /etc/os-release',
  'echo "deb [signed-by=/usr/share/postgresql-common/pgdg/apt.postgresql.org.asc] https://apt.postgresql.org/pub/repos/apt $VERSION_CODENAME-pgdg main" > /etc/apt/sources.list.d/pgdg.list',
  'apt-get update',
].join('\n');

async function exists(file: string): Promise<boolean> {
  try {
    await access(file, constants.F_OK);
    return true;
  } catch {
    return false;
  }
}

async function binaryVersion(
  runner: ProcessRunner,
  file: string,
): Promise<{ major: number; version: string } | undefined> {
  try {
    const out = await runner.run(file, ['--version'], { quiet: true });
    return out.code === 0 ? parsePgVersion(out.stdout) : undefined;
  } catch {
    return undefined;
  }
}

async function aptClient(
  deps: { runner: ProcessRunner; logger?: Logger },
  r: PgClientRequest,
  host: PgClientHost,
  forced: boolean,
): Promise<PgClient> {
  const major = r.imageMajor ?? r.minMajor;
  const pkg = `postgresql-client-${major}`;
  const cached = await r.ports?.cache?.find(major);
  if (cached) {
    const v = await binaryVersion(deps.runner, path.join(cached, r.tool));
    if (v && v.major >= r.minMajor) {
      deps.logger?.info(`${r.tool} ${v.version} from the tool cache: ${cached}`);
      return { ...localClient(r.tool, { path: path.join(cached, r.tool), ...v }), via: 'apt' };
    }
  }
  const privilege = await host.privilege();
  if (!privilege) {
    throw new ConfigError(
      `pg-client apt installs ${pkg} and needs root or passwordless sudo${forced ? '' : ' here'}; install it yourself and set pg-client: local, or set pg-client: docker`,
    );
  }
  if (!(await host.debianLike())) {
    throw new ConfigError(
      `pg-client apt works on Debian/Ubuntu only; install PostgreSQL ${major} client tools with this system's packages and set pg-bin-dir, or set pg-client: docker`,
    );
  }
  const sudo = privilege === 'sudo' ? ['sudo', '-n'] : [];
  const run = async (argv: string[], what: string) => {
    const [command, ...args] = [...sudo, ...argv];
    const out = await deps.runner.run(command!, args, { maxStderrBytes: 64 << 10 });
    if (out.code !== 0) {
      throw new ConfigError(
        `pg-client apt: ${what} failed (exit ${out.code}): ${lastLine(out.stderr)}; install ${pkg} yourself, or set pg-client: docker`,
      );
    }
  };
  if (await exists(PGDG_SCRIPT)) await run([PGDG_SCRIPT, '-y'], 'adding the apt.postgresql.org repository');
  else await run(['sh', '-c', PGDG_MANUAL], 'adding the apt.postgresql.org repository');
  await run(
    ['env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', 'install', '-y', '--no-install-recommends', pkg],
    `apt-get install ${pkg}`,
  );
  const binDir = path.join(r.ports?.systemRoot ?? DEBIAN_ROOT, String(major), 'bin');
  const file = path.join(binDir, r.tool);
  const v = await binaryVersion(deps.runner, file);
  if (!v) {
    throw new ConfigError(`pg-client apt: ${pkg} is installed but ${file} --version does not answer`);
  }
  try {
    await r.ports?.cache?.save(binDir, major);
  } catch (err) {
    deps.logger?.warning(`could not keep ${binDir} in the tool cache: ${(err as Error).message}`);
  }
  deps.logger?.info(`installed ${pkg}: ${file} (${v.version})`);
  return { ...localClient(r.tool, { path: file, ...v }), via: 'apt' };
}

/**
 * What a containerised client must see of a connection: the socket directory when the host is
 * one, and the TLS and password files the URL or the PG* variables name. Mounted read-only would
 * be nicer, but the same path both ways keeps libpq's view identical and the list short.
 */
export function pgClientMounts(
  databaseUrl: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string[] {
  const files: string[] = [];
  for (const name of ['PGSSLROOTCERT', 'PGSSLCERT', 'PGSSLKEY', 'PGSSLCRL', 'PGPASSFILE', 'PGSERVICEFILE']) {
    const v = env[name];
    if (v && path.isAbsolute(v)) files.push(v);
  }
  let hostDir: string | undefined;
  if (databaseUrl) {
    try {
      const url = new URL(databaseUrl);
      for (const key of ['sslrootcert', 'sslcert', 'sslkey', 'sslcrl', 'passfile']) {
        const v = url.searchParams.get(key);
        if (v && path.isAbsolute(v)) files.push(v);
      }
      const host = parsePgUrl(databaseUrl, 'database-url').host;
      if (host.startsWith('/')) hostDir = host;
    } catch {
      /* the caller has parsed it already; nothing to add */
    }
  }
  if (!hostDir && env.PGHOST?.startsWith('/')) hostDir = env.PGHOST;
  return [...files, ...(hostDir ? [hostDir] : [])];
}

/** The libpq variables a containerised client needs, by name (their values stay in the environment). */
export function pgEnvNames(env: NodeJS.ProcessEnv): string[] {
  return Object.keys(env).filter((k) => /^PG[A-Z]+$/.test(k) && env[k] !== undefined);
}

/** The real machine's facts: `docker version`, the uid, `sudo -n true`, /etc/os-release, RUNNER_ENVIRONMENT. */
export function systemPgClientHost(runner: ProcessRunner): PgClientHost {
  let docker: Promise<string | undefined> | undefined;
  return {
    dockerProblem() {
      docker ??= runner.run('docker', ['version', '--format', '{{.Server.Version}}'], { quiet: true }).then(
        (out) => (out.code === 0 ? undefined : `docker version: ${lastLine(out.stderr)}`),
        (err: Error) => `no docker CLI (${err.message})`,
      );
      return docker;
    },
    async privilege() {
      if (process.getuid?.() === 0) return 'root';
      try {
        const out = await runner.run('sudo', ['-n', 'true'], { quiet: true });
        return out.code === 0 ? 'sudo' : undefined;
      } catch {
        return undefined;
      }
    },
    async debianLike() {
      try {
        const release = await readFile('/etc/os-release', 'utf8');
        const ids = /^(ID|ID_LIKE)=.*$/gm;
        const debian = (release.match(ids) ?? []).some((l) => /\b(debian|ubuntu)\b/.test(l));
        return debian && (await exists('/usr/bin/apt-get'));
      } catch {
        return false;
      }
    },
    githubHosted: () => process.env.RUNNER_ENVIRONMENT === 'github-hosted',
    user: () => `${process.getuid?.() ?? 0}:${process.getgid?.() ?? 0}`,
  };
}
