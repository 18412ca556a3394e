import { randomBytes } from 'node:crypto';
import { appendFile, chmod, chown, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { Cancelled, ConfigError, messageOf, throwIfCancelled } from '../errors.js';
import type { Logger } from '../logger.js';
import type { ProcessRunner, RunResult } from '../process.js';
import { freePort } from './free-port.js';
import { defaultCacheDir, prepareDataDir, type PreparedDataDir } from './initdb-cache.js';
import { newSystemIdentifier, setSystemIdentifier } from './control-file.js';
import type { DatabaseLocale } from '../bundle/manifest.js';
import { loadPg, quoteIdent } from '../engines/postgres/connection.js';
import { createDatabaseOptions, describeLocale } from '../engines/postgres/database-locale.js';
import { findServer } from '../engines/postgres/pg-binaries.js';
import { reapAfterExit } from '../reaper.js';

export interface LocalCluster {
  /** postgres://postgres@127.0.0.1:<port>/<database> (trust auth: no password). */
  url: string;
  host: string;
  port: number;
  user: string;
  database: string;
  socketDir: string;
  dataDir: string;
  major: number;
  version: string;
  /**
   * PGHOST PGPORT PGUSER PGDATABASE for child processes (libpq tools, the app under test), and
   * PGSSLMODE=disable: the scratch server has no TLS, so an inherited PGSSLMODE=require must not apply.
   */
  env: NodeJS.ProcessEnv;
  /** Idempotent and never throws: pg_ctl stop -m immediate, then the temp dir is removed. */
  stop(): Promise<void>;
}

export interface LocalClusterOptions {
  /** Server major; undefined picks the newest installed. */
  major?: number;
  /** Created after start unless it is `postgres`. Default `postgres`. */
  database?: string;
  /**
   * The source's encoding and locale: the database is created with them (TEMPLATE template0;
   * `postgres` itself is dropped and recreated). Default: initdb's UTF8 and C.
   */
  locale?: DatabaseLocale;
  /** The user's pg-bin-dir, preferred when it holds the right major. */
  binDir?: string;
  /** Where embedded npm packages may be (dbdrill's install dir). */
  searchRoots?: string[];
  /** Extra postgresql.conf settings (name → value; values are quoted for you). */
  settings?: Record<string, string>;
  /** Aborting tears down whatever was started and rejects with Cancelled. */
  signal?: AbortSignal;
  /**
   * The cache of initdb'd templates (`initdb-cache.ts`): a cache root, `false` for none.
   * Default `defaultCacheDir()` (`DBDRILL_CACHE_DIR`, `$XDG_CACHE_HOME/dbdrill`, `~/.cache/dbdrill`).
   */
  cacheDir?: string | false;
}

const SUPERUSER = 'postgres';
const HOST = '127.0.0.1';
const PORT_ATTEMPTS = 3;
const LOG_TAIL_LINES = 30;
/** sun_path is 108 bytes on Linux; keep room for "/.s.PGSQL.65535.lock". */
const MAX_SOCKET_DIR = 80;

/** The server reads PGPORT/PGDATA/... itself; the caller's libpq variables must not steer the scratch cluster. */
function serverEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PG')) env[k] = v;
  env.LC_ALL = 'C';
  return env;
}

function quoteConfValue(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

async function logTail(file: string, lines = LOG_TAIL_LINES): Promise<string> {
  try {
    const text = await readFile(file, 'utf8');
    return text.trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no server log was written)';
  }
}

function outputOf(r: RunResult): string {
  return (r.stderr.trim() || r.stdout.trim()).split('\n').slice(-LOG_TAIL_LINES).join('\n');
}

/** uid and gid of a user from one `id` run (`uid=104(postgres) gid=111(postgres) …`); undefined: no such user. */
async function idsOf(runner: ProcessRunner, name: string): Promise<{ uid: number; gid: number } | undefined> {
  let r: RunResult;
  try {
    // LC_ALL=C: the labels of id's output are translatable
    r = await runner.run('id', [name], { quiet: true, env: { ...process.env, LC_ALL: 'C' } });
  } catch {
    return undefined;
  }
  const uid = /\buid=(\d+)/.exec(r.stdout)?.[1];
  const gid = /\bgid=(\d+)/.exec(r.stdout)?.[1];
  if (r.code !== 0 || uid === undefined || gid === undefined) return undefined;
  return { uid: Number(uid), gid: Number(gid) };
}

/**
 * initdb and postgres refuse to run as root. The packaged `postgres` account is the natural owner;
 * without one (a bare CI image with only the npm binaries) a system account `dbdrill` is created
 * once with useradd: no home, no login shell, its own group.
 */
async function unprivilegedUser(
  runner: ProcessRunner,
  logger: Logger,
): Promise<{ name: string; uid: number; gid: number }> {
  for (const name of ['postgres', 'dbdrill']) {
    const ids = await idsOf(runner, name);
    if (ids) return { name, ...ids };
  }
  logger.info(
    'running as root and no postgres user exists: creating the system user dbdrill for scratch clusters',
  );
  let r: RunResult | undefined;
  try {
    r = await runner.run('useradd', [
      '--system',
      '--user-group',
      '--no-create-home',
      '--home-dir',
      '/nonexistent',
      '--shell',
      '/usr/sbin/nologin',
      'dbdrill',
    ]);
  } catch (e) {
    throw new ConfigError(
      `Running as root, a scratch PostgreSQL must run as an unprivileged user, but there is no postgres user and useradd failed (${messageOf(e)}). Fix: create one (useradd --system postgres) or run dbdrill as a non-root user.`,
    );
  }
  // A concurrent start may have created it first.
  const ids = await idsOf(runner, 'dbdrill');
  if (!ids) {
    throw new ConfigError(
      r.code !== 0
        ? `Running as root, a scratch PostgreSQL must run as an unprivileged user, but there is no postgres user and "useradd dbdrill" failed: ${outputOf(r)}. Fix: create one (useradd --system postgres) or run dbdrill as a non-root user.`
        : 'Running as root: created the system user dbdrill for scratch clusters, but `id dbdrill` cannot read its uid and gid. Fix: create a postgres user (useradd --system postgres) or run dbdrill as a non-root user.',
    );
  }
  return { name: 'dbdrill', ...ids };
}

async function scratchParent(): Promise<string> {
  const base = tmpdir();
  // mkdtemp adds 6 characters after the prefix.
  if (path.join(base, 'dbdrill-pg-XXXXXX').length <= MAX_SOCKET_DIR) return base;
  return '/tmp';
}

/**
 * A throwaway PostgreSQL cluster from local binaries, in a private 0700 temp dir, listening on
 * 127.0.0.1 only (and a unix socket in that dir), trust auth, durability off (it is scratch).
 * Registers nothing global: the caller owns signal handling and must call stop(). On any failure
 * the half-made cluster is torn down before the error is thrown, and the error carries the tail
 * of the server log.
 */
export async function startLocalCluster(
  deps: { runner: ProcessRunner; logger: Logger },
  options: LocalClusterOptions = {},
): Promise<LocalCluster> {
  const { runner, logger } = deps;
  const signal = options.signal;
  const database = options.database ?? 'postgres';
  const settings = options.settings ?? {};
  for (const name of Object.keys(settings)) {
    if (!/^[A-Za-z_][A-Za-z0-9_.]*$/.test(name)) {
      throw new ConfigError(
        `Invalid PostgreSQL setting name ${JSON.stringify(name)}: use a name like work_mem.`,
      );
    }
  }
  if (database.length === 0 || database.length > 63 || database.includes('\0')) {
    throw new ConfigError(`Invalid database name ${JSON.stringify(database)}: 1 to 63 characters, no NUL.`);
  }
  const checkAbort = (): void => {
    throwIfCancelled(signal);
  };
  checkAbort();

  const install = await findServer(runner, options.major, {
    explicitBinDir: options.binDir,
    searchRoots: options.searchRoots,
  });
  const bin = (tool: string): string => path.join(install.binDir, tool);
  const root = process.getuid?.() === 0;
  const owner = root ? await unprivilegedUser(runner, logger) : undefined;
  const asUser = owner?.name;

  const dir = await mkdtemp(path.join(await scratchParent(), 'dbdrill-pg-'));
  const dataDir = path.join(dir, 'data');
  const logFile = path.join(dir, 'server.log');
  const env = serverEnv();
  const runOpts = { env, cwd: dir, asUser, signal, maxStderrBytes: 64 * 1024 };
  // stop() below is the teardown; the reaper covers a dbdrill (or test runner) killed before it
  const reaper = reapAfterExit(dir, dataDir);

  /** The fallback when the signal could not be sent or did not end the server. */
  const pgCtlStop = async (): Promise<boolean> => {
    try {
      const r = await runner.run(
        bin('pg_ctl'),
        ['stop', '-D', dataDir, '-m', 'immediate', '-w', '-t', '30'],
        {
          env,
          cwd: dir,
          asUser,
          quiet: true,
        },
      );
      if (r.code === 0) return true;
      logger.warning(`pg_ctl stop failed for ${dataDir}: ${outputOf(r)}`);
    } catch (e) {
      logger.warning(`pg_ctl stop failed for ${dataDir}: ${messageOf(e)}`);
    }
    return false;
  };
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      let pidFileExists = false;
      try {
        await stat(path.join(dataDir, 'postmaster.pid'));
        pidFileExists = true;
      } catch {
        /* never started, or already stopped */
      }
      if (pidFileExists) {
        const stopped = (await quitPostmaster(dataDir)) || (await pgCtlStop());
        if (!stopped) await killPostmaster(dataDir, logger);
      }
      try {
        await rm(dir, { recursive: true, force: true, maxRetries: 3 });
      } catch (e) {
        logger.warning(`could not remove the scratch cluster directory ${dir}: ${messageOf(e)}`);
      }
      reaper.cancel();
    })();
    return stopping;
  };

  try {
    await chmod(dir, 0o700);
    if (owner) await chown(dir, owner.uid, owner.gid);
    // Checked while the data directory is copied (or initdb runs): two runuser starts that need not
    // wait for each other. When both fail, the check's error says more and wins.
    const userCheck = owner
      ? checkUserCanRun(runner, owner.name, bin('postgres'), dir, env)
      : Promise.resolve();
    userCheck.catch(() => undefined);

    logger.info(`starting a scratch PostgreSQL ${install.version} from ${install.binDir} in ${dir}`);
    const initdbArgs = ['-U', SUPERUSER, '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync'];
    const runInitdb = async (): Promise<void> => {
      const init = await runner.run(bin('initdb'), ['-D', dataDir, ...initdbArgs], {
        ...runOpts,
        quiet: false,
      });
      checkAbort();
      if (init.code !== 0) {
        throw new Error(
          `initdb (PostgreSQL ${install.version}, ${bin('initdb')}) failed with exit code ${init.code}:\n${outputOf(init)}`,
        );
      }
    };
    // A copy of the cached template gets its own system identifier (control-file.ts).
    const freshen = async (): Promise<void> => {
      await setSystemIdentifier(dataDir, newSystemIdentifier(Date.now(), randomBytes(4)));
    };
    const template = {
      initdb: bin('initdb'),
      version: install.version,
      major: install.major,
      args: initdbArgs,
      owner,
      dataDir,
      runInitdb,
      freshen,
    };
    const cacheDir = options.cacheDir === undefined ? defaultCacheDir() : options.cacheDir || undefined;
    const [checked, made] = await Promise.allSettled([
      userCheck,
      prepareDataDir(deps, { ...template, cacheDir }),
    ]);
    if (checked.status === 'rejected') throw checked.reason;
    if (made.status === 'rejected') throw made.reason;
    let prepared: PreparedDataDir = made.value;
    checkAbort();
    const configure = async (): Promise<void> => {
      // initdb also trusts ::1 and replication; only the socket and 127.0.0.1 are wanted.
      await writeFile(
        path.join(dataDir, 'pg_hba.conf'),
        '# dbdrill scratch cluster: trust, loopback and socket only\n' +
          'local all all trust\n' +
          `host all all ${HOST}/32 trust\n`,
      );
      const conf = {
        listen_addresses: HOST,
        unix_socket_directories: dir,
        fsync: 'off',
        full_page_writes: 'off',
        synchronous_commit: 'off',
        lc_messages: 'C',
        ...settings,
      };
      await appendFile(
        path.join(dataDir, 'postgresql.conf'),
        '\n# dbdrill scratch cluster\n' +
          Object.entries(conf)
            .map(([k, v]) => `${k} = ${quoteConfValue(v)}\n`)
            .join(''),
      );
    };
    await configure();

    let port = 0;
    let suspect: PreparedDataDir | undefined;
    for (let attempt = 1; ; attempt++) {
      port = await freePort(HOST);
      const r = await runner.run(
        bin('pg_ctl'),
        ['start', '-D', dataDir, '-l', logFile, '-w', '-t', '120', '-o', `-p ${port}`],
        runOpts,
      );
      checkAbort();
      if (r.code === 0) {
        // The fresh initdb started where the template did not: the template was the problem.
        if (suspect) await suspect.invalidate();
        break;
      }
      const tail = await logTail(logFile);
      if (/Address already in use/i.test(tail) && attempt < PORT_ATTEMPTS) {
        logger.info(`port ${port} was taken before the server bound it; trying another`);
        continue;
      }
      if (prepared.fromCache) {
        // A template that copies whole but does not start may be damaged: start once more from a
        // fresh initdb, and drop the entry only if that one starts (a bad setting fails both).
        logger.debug(`the server did not start from the cached template; trying a fresh initdb:\n${tail}`);
        suspect = prepared;
        await killPostmaster(dataDir, logger);
        await rm(dataDir, { recursive: true, force: true });
        await rm(logFile, { force: true });
        prepared = await prepareDataDir(deps, { ...template, cacheDir: undefined });
        await configure();
        attempt = 0;
        continue;
      }
      throw new Error(
        `PostgreSQL ${install.version} (${install.binDir}) did not start on ${HOST}:${port}: pg_ctl exited with ${r.code}: ${outputOf(r)}\n` +
          `server log (last lines):\n${tail}`,
      );
    }

    if (database !== SUPERUSER || options.locale) {
      // ssl: false, or an inherited PGSSLMODE=require would fail against this SSL-less server.
      const { Client } = await loadPg();
      const client = new Client({ host: HOST, port, user: SUPERUSER, database: 'template1', ssl: false });
      client.on('error', () => {
        /* a stopped server drops the connection; the query promise reports it */
      });
      try {
        await client.connect();
        if (!options.locale) await client.query(`CREATE DATABASE ${quoteIdent(database)}`);
        else {
          if (database === SUPERUSER) await client.query(`DROP DATABASE ${quoteIdent(database)}`);
          try {
            await client.query(
              `CREATE DATABASE ${quoteIdent(database)} ${createDatabaseOptions(options.locale, install.major)}`,
            );
          } catch (err) {
            throw new ConfigError(
              `cannot create the scratch database like the source (${describeLocale(options.locale)}) in PostgreSQL ${install.version}: ${messageOf(err)}. ` +
                `Fix: install that locale on this machine (e.g. locale-gen), or restore into a target-url you created and set accept-locale-mismatch with a reason.`,
            );
          }
        }
      } finally {
        await client.end().catch(() => undefined);
      }
    }
    checkAbort();

    const url = `postgres://${SUPERUSER}@${HOST}:${port}/${encodeURIComponent(database)}`;
    logger.info(`scratch PostgreSQL ${install.version} ready at ${url}`);
    return {
      url,
      host: HOST,
      port,
      user: SUPERUSER,
      database,
      socketDir: dir,
      dataDir,
      major: install.major,
      version: install.version,
      env: {
        PGHOST: HOST,
        PGPORT: String(port),
        PGUSER: SUPERUSER,
        PGDATABASE: database,
        PGSSLMODE: 'disable',
      },
      stop,
    };
  } catch (e) {
    // Read the log before stop() removes it; pg_ctl failures already carry it.
    const tail =
      messageOf(e).includes('(last lines)') || !(await exists(logFile))
        ? ''
        : `\nserver log (last lines):\n${await logTail(logFile)}`;
    await stop();
    throwIfCancelled(signal);
    if (e instanceof ConfigError || e instanceof Cancelled) throw e;
    throw new Error(`could not start a scratch PostgreSQL ${install.version}: ${messageOf(e)}${tail}`, {
      cause: e,
    });
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}

/**
 * A root-owned checkout under a 0700 directory (/root) is unreachable for the unprivileged user;
 * fail with the reason instead of initdb's "could not find own program executable".
 */
async function checkUserCanRun(
  runner: ProcessRunner,
  user: string,
  postgres: string,
  dir: string,
  env: NodeJS.ProcessEnv,
): Promise<void> {
  // Both probes at once: each is a runuser start, and this sits before initdb on the drill's path.
  const [r, w] = await Promise.all([
    runner.run(postgres, ['--version'], { env, cwd: dir, asUser: user, quiet: true }),
    runner.run('test', ['-w', dir], { env, cwd: dir, asUser: user, quiet: true }),
  ]);
  if (r.code !== 0) {
    throw new ConfigError(
      `The unprivileged user ${user} cannot run ${postgres} (${outputOf(r) || `exit code ${r.code}`}); when root, scratch clusters run as ${user}. ` +
        `Fix: make every parent directory of it traversable (chmod o+x), or install dbdrill and its node_modules outside /root.`,
    );
  }
  if (w.code !== 0) {
    throw new ConfigError(
      `The unprivileged user ${user} cannot write the scratch directory ${dir}. Fix: set TMPDIR to a directory every user can traverse (e.g. /tmp).`,
    );
  }
}

/**
 * The immediate shutdown pg_ctl stop -m immediate asks for (SIGQUIT to the postmaster), sent
 * directly and watched every 10 ms: pg_ctl adds a runuser start and polls every 100 ms, a tenth of
 * a second at the end of every drill. Done when the postmaster has removed its pid file (a zombie
 * left by an init that does not reap would still answer kill 0). False when the pid file does not
 * name a postgres of this data dir, or it does not go within 10 s: pg_ctl then takes over.
 */
async function quitPostmaster(dataDir: string): Promise<boolean> {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  const pid = await ourPostmaster(dataDir);
  if (pid === undefined) return false;
  try {
    process.kill(pid, 'SIGQUIT');
  } catch {
    return false;
  }
  for (let waited = 0; waited < 10_000; waited += 10) {
    await new Promise((r) => setTimeout(r, 10));
    try {
      await stat(pidFile);
    } catch {
      return true;
    }
  }
  return false;
}

/**
 * The postmaster serving this data dir, from its pid file. The file may be stale and its pid
 * reused, so the pid counts only when /proc shows a postgres with this very data dir.
 */
async function ourPostmaster(dataDir: string): Promise<number | undefined> {
  try {
    const pid = Number((await readFile(path.join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
    if (!Number.isInteger(pid) || pid <= 1) return undefined;
    const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
    if (!cmdline.some((a) => a.endsWith('postgres')) || !cmdline.includes(dataDir)) return undefined;
    return pid;
  } catch {
    return undefined; // gone already, or no /proc to confirm it is ours
  }
}

/** Last resort when neither the signal nor pg_ctl stopped the server. */
async function killPostmaster(dataDir: string, logger: Logger): Promise<void> {
  const pid = await ourPostmaster(dataDir);
  if (pid === undefined) return;
  try {
    process.kill(pid, 'SIGKILL');
    logger.warning(`killed the scratch postmaster ${pid}`);
  } catch {
    /* gone already */
  }
}
