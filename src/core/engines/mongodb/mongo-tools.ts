/**
 * Finding mongodump/mongorestore. The order is the issue's: `mongo-bin-dir`, then PATH, then the
 * database's own container (`docker exec`; the official images ship the tools), then a pinned
 * MongoDB Database Tools release fetched once into the tool cache. The download sits behind a
 * port because core never imports @actions/*; the CLI and the actions plug in the tool-cache.
 */
import { constants } from 'node:fs';
import { access, readFile, readdir, stat } from 'node:fs/promises';
import { arch, platform } from 'node:os';
import { delimiter, join } from 'node:path';

import { ConfigError, messageOf } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { ProcessRunner } from '../../process.js';

export type MongoToolName = 'mongodump' | 'mongorestore';

/** The release downloaded when no tool is found; 100.x tools work with servers 4.2 to 8. */
export const MONGO_TOOLS_VERSION = '100.10.0';
export const MONGO_TOOLS_BASE_URL = 'https://fastdl.mongodb.org/tools/db';

export interface MongoTool {
  name: MongoToolName;
  via: 'local' | 'docker';
  /** What to spawn: the binary, or `docker`. */
  command: string;
  /** Arguments before the tool's own (`exec -i <container> mongodump` for docker). */
  prefixArgs: string[];
  display: string;
  version: string;
  source: 'mongo-bin-dir' | 'PATH' | 'docker-container' | 'tool-cache';
  container?: string;
}

/** Port: downloads and caches the tools tarball; returns the directory it was extracted into. */
export interface MongoToolDownloader {
  ensure(url: string, version: string, signal?: AbortSignal): Promise<string>;
}

export interface FindMongoToolOptions {
  binDir?: string;
  dockerContainer?: string;
  label?: (input: string) => string;
  /** Defaults to process.env (PATH, DBDRILL_MONGO_TOOLS_URL). */
  env?: NodeJS.ProcessEnv;
  /** Contents of /etc/os-release; read when absent. */
  osRelease?: string;
  version?: string;
  signal?: AbortSignal;
}

export interface MongoToolDeps {
  runner: ProcessRunner;
  logger: Logger;
  mongoToolDownloader?: MongoToolDownloader;
}

/** The distro part of the tools' tarball name, from /etc/os-release. */
export function mongoToolsDistro(osRelease: string): string | undefined {
  const field = (k: string) => new RegExp(`^${k}="?([^"\\n]*)"?$`, 'm').exec(osRelease)?.[1];
  const id = field('ID');
  const version = field('VERSION_ID') ?? '';
  const major = version.split('.')[0];
  if (id === 'ubuntu' && ['20.04', '22.04', '24.04'].includes(version))
    return `ubuntu${version.replace('.', '')}`;
  if (id === 'debian' && ['11', '12'].includes(major)) return `debian${major}`;
  if (id === 'rhel' || id === 'rocky' || id === 'almalinux' || id === 'centos') {
    if (['8', '9'].includes(major)) return `rhel${major}0`;
  }
  if (id === 'amzn' && version === '2023') return 'amazon2023';
  return undefined;
}

export function mongoToolsUrl(distro: string, version: string, base = MONGO_TOOLS_BASE_URL): string {
  return `${base.replace(/\/+$/, '')}/mongodb-database-tools-${distro}-x86_64-${version}.tgz`;
}

/** The one message when no way works: it lists the three ways to get the tools. */
export function noMongoToolMessage(
  name: MongoToolName,
  label: (n: string) => string,
  tried: string[],
): string {
  return (
    `${name} not found (${tried.join('; ')}). Get the MongoDB Database Tools one of three ways: ` +
    `(1) install them and put ${name} on PATH, or set ${label('mongo-bin-dir')} to their bin directory; ` +
    `(2) set ${label('docker-container')} to the MongoDB container (the official mongo images ship ${name}); ` +
    `(3) allow the download of the pinned release ${MONGO_TOOLS_VERSION} from ${MONGO_TOOLS_BASE_URL} into the tool cache ` +
    `(Linux x86_64 on Ubuntu 20.04/22.04/24.04, Debian 11/12, RHEL 8/9; set DBDRILL_MONGO_TOOLS_URL for a mirror)`
  );
}

export async function findMongoTool(
  deps: MongoToolDeps,
  name: MongoToolName,
  o: FindMongoToolOptions = {},
): Promise<MongoTool> {
  const label = o.label ?? ((n: string) => n);
  const env = o.env ?? process.env;
  const tried: string[] = [];

  if (o.binDir) {
    const path = join(o.binDir, name);
    const version = await localVersion(deps.runner, path);
    if (version) return local(name, path, version, 'mongo-bin-dir');
    tried.push(`${label('mongo-bin-dir')} "${o.binDir}" has no runnable ${name}`);
  }

  let onPath: string | undefined;
  for (const dir of (env.PATH ?? '').split(delimiter).filter(Boolean)) {
    const candidate = join(dir, name);
    if (await isExecutable(candidate)) {
      onPath = candidate;
      break;
    }
  }
  if (onPath) {
    const version = await localVersion(deps.runner, onPath);
    if (version) return local(name, onPath, version, 'PATH');
    tried.push(`${onPath} on PATH does not run (${name} --version failed)`);
  } else tried.push(`not on PATH`);

  if (o.dockerContainer) {
    const c = o.dockerContainer;
    try {
      const r = await deps.runner.run('docker', ['exec', c, name, '--version'], { quiet: true, env });
      if (r.code === 0) {
        return {
          name,
          via: 'docker',
          command: 'docker',
          prefixArgs: ['exec', '-i'],
          display: `docker exec ${c} ${name}`,
          version: parseToolVersion(r.stdout),
          source: 'docker-container',
          container: c,
        };
      }
      tried.push(`"docker exec ${c} ${name} --version" failed: ${lastLine(r.stderr) || `exit ${r.code}`}`);
    } catch (err) {
      tried.push(`${label('docker-container')} "${c}": cannot run docker (${messageOf(err)})`);
    }
  } else tried.push(`no ${label('docker-container')} given`);

  const version = o.version ?? MONGO_TOOLS_VERSION;
  const base = env.DBDRILL_MONGO_TOOLS_URL;
  if (!deps.mongoToolDownloader) tried.push('no tool-cache download in this runtime');
  else if (platform() !== 'linux' || (arch() !== 'x64' && !base))
    tried.push(`no pinned build for ${platform()}/${arch()}`);
  else {
    const osRelease = o.osRelease ?? (await readFile('/etc/os-release', 'utf8').catch(() => ''));
    const distro = mongoToolsDistro(osRelease);
    if (!distro) tried.push('no pinned build for this Linux distribution (see /etc/os-release)');
    else {
      const url = mongoToolsUrl(distro, version, base || MONGO_TOOLS_BASE_URL);
      try {
        deps.logger.info(
          `${name} not installed: using MongoDB Database Tools ${version} (${distro}) from the tool cache`,
        );
        const dir = await deps.mongoToolDownloader.ensure(url, version, o.signal);
        const path = await findBinary(dir, name);
        const v = path ? await localVersion(deps.runner, path) : undefined;
        if (path && v) return local(name, path, v, 'tool-cache');
        tried.push(`the download from ${url} holds no runnable ${name}`);
      } catch (err) {
        tried.push(`download of ${url} failed: ${messageOf(err)}`);
      }
    }
  }
  throw new ConfigError(noMongoToolMessage(name, label, tried));
}

function local(name: MongoToolName, path: string, version: string, source: MongoTool['source']): MongoTool {
  return { name, via: 'local', command: path, prefixArgs: [], display: path, version, source };
}

/** `mongodump version: 100.10.0` / `mongodump version: r4.2.2`. */
export function parseToolVersion(out: string): string {
  const m = /version:\s*r?(\S+)/i.exec(out) ?? /(\d+\.\d+\.\d+\S*)/.exec(out);
  return m?.[1] ?? (out.trim().split('\n')[0] || 'unknown');
}

async function localVersion(runner: ProcessRunner, path: string): Promise<string | undefined> {
  if (!(await isExecutable(path))) return undefined;
  try {
    const r = await runner.run(path, ['--version'], { quiet: true });
    return r.code === 0 ? parseToolVersion(r.stdout + r.stderr) : undefined;
  } catch {
    return undefined;
  }
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** The tarball unpacks to `mongodb-database-tools-<distro>-x86_64-<v>/bin/<tool>`. */
async function findBinary(dir: string, name: string): Promise<string | undefined> {
  const candidates = [join(dir, 'bin', name), join(dir, name)];
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    if (entry.isDirectory()) candidates.push(join(dir, entry.name, 'bin', name));
  }
  for (const c of candidates) if (await isExecutable(c)) return c;
  return undefined;
}

function lastLine(s: string): string {
  return s.trim().split('\n').pop() ?? '';
}
