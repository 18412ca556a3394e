/**
 * Connecting to PostgreSQL with errors an operator can act on. The password never leaves this
 * module except through PGPASSWORD in a child's environment. The URL is completed the way libpq
 * completes it (service file, PG* variables, password file, sslmode), so dbdrill's own
 * connections and its pg_dump/pg_restore/psql children reach the same server as the same user.
 */
import type pg from 'pg';

import { ConfigError } from '../../errors.js';
import { lookupPassfile, lookupService, sslFor } from './libpq-conventions.js';

export interface PgTarget {
  /** The URL without its password: safe to log and to pass on a command line. */
  safeUrl: string;
  /** The URL's or the service file's password; PGPASSWORD and the password file are looked up at connect. */
  password?: string;
  /** sslmode from the URL, the service or PGSSLMODE (undefined: libpq's default, prefer). */
  sslmode?: string;
  sslrootcert?: string;
  host: string;
  port: number;
  user: string;
  database: string;
}

export function parsePgUrl(url: string, input: string): PgTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(
      `${input} is not a valid URL; expected postgres://user:password@host:5432/database`,
    );
  }
  if (!/^postgres(ql)?:$/.test(parsed.protocol)) {
    throw new ConfigError(`${input} must start with postgres:// or postgresql://`);
  }
  const env = process.env;
  const serviceName = parsed.searchParams.get('service') ?? env.PGSERVICE;
  const service = serviceName ? lookupService(serviceName, env) : undefined;
  if (serviceName && !service) {
    throw new ConfigError(
      `${input}: service "${serviceName}" is not defined in ${env.PGSERVICEFILE ?? '~/.pg_service.conf'} or ${env.PGSYSCONFDIR ? env.PGSYSCONFDIR + '/pg_service.conf' : 'the system pg_service.conf'}; check PGSERVICE/service= and PGSERVICEFILE`,
    );
  }
  const password = parsed.password ? decodeURIComponent(parsed.password) : service?.password;
  const safe = new URL(url);
  safe.password = '';
  const hostParam = parsed.searchParams.get('host');
  const host = decodeURIComponent(parsed.hostname) || hostParam || service?.host || env.PGHOST || 'localhost';
  const database =
    decodeURIComponent(parsed.pathname.replace(/^\//, '')) ||
    parsed.searchParams.get('dbname') ||
    service?.dbname ||
    env.PGDATABASE ||
    '';
  const user =
    decodeURIComponent(parsed.username) ||
    parsed.searchParams.get('user') ||
    service?.user ||
    env.PGUSER ||
    'postgres';
  const portText = parsed.port || parsed.searchParams.get('port') || service?.port || env.PGPORT || '5432';
  const sslmode = parsed.searchParams.get('sslmode') ?? service?.sslmode ?? env.PGSSLMODE;
  const sslrootcert = parsed.searchParams.get('sslrootcert') ?? service?.sslrootcert ?? env.PGSSLROOTCERT;
  if (!database) {
    throw new ConfigError(
      `${input} names no database; add it to the path: postgres://user@host:5432/<database>`,
    );
  }
  return {
    safeUrl: safe.toString(),
    password,
    ...(sslmode ? { sslmode } : {}),
    ...(sslrootcert ? { sslrootcert } : {}),
    host,
    port: Number(portText),
    user,
    database,
  };
}

/**
 * Environment for libpq tools (pg_dump, pg_restore, psql, the app) pointing at the target. The
 * caller's PGPASSWORD, PGPASSFILE, PGSERVICE, PGSSLMODE... stay: a URL without a password
 * authenticates exactly as psql would with the same environment.
 */
export function libpqEnv(target: PgTarget, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...base,
    PGHOST: target.host,
    PGPORT: String(target.port),
    PGUSER: target.user,
    PGDATABASE: target.database,
  };
  if (target.password !== undefined) env.PGPASSWORD = target.password;
  if (target.sslmode !== undefined) env.PGSSLMODE = target.sslmode;
  return env;
}

/** The password libpq would send: the URL's or the service's, then PGPASSWORD, then the password file. */
function effectivePassword(t: PgTarget): string | undefined {
  return t.password ?? process.env.PGPASSWORD ?? lookupPassfile(t, process.env);
}

export function describeTarget(t: PgTarget): string {
  return `${t.user}@${t.host}:${t.port}/${t.database}`;
}

/**
 * node-postgres, loaded on the first connection: evaluating it (and the undici it pulls in to
 * probe for Cloudflare Workers) was 0.1 s of every start-up, paid also by the commands that never
 * connect (verify, list, prune).
 */
export async function loadPg(): Promise<typeof pg> {
  return (await import('pg')).default;
}

/** Connects or throws a ConfigError that names host, port, user and database, never the password. */
export async function connectPg(
  url: string,
  input: string,
  options: { applicationName?: string } = {},
): Promise<pg.Client> {
  const target = parsePgUrl(url, input);
  const tls = sslFor(target.sslmode, target.sslrootcert);
  const { Client } = await loadPg();
  const open = async (ssl: typeof tls.ssl): Promise<pg.Client> => {
    const client = new Client({
      host: target.host,
      port: target.port,
      user: target.user,
      database: target.database,
      password: effectivePassword(target),
      ssl,
      application_name: options.applicationName ?? 'dbdrill',
      connectionTimeoutMillis: 15000,
    });
    client.on('error', () => {
      /* a connection dropped while idle surfaces on the next query instead of crashing */
    });
    try {
      await client.connect();
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
    return client;
  };
  try {
    try {
      return await open(tls.ssl);
    } catch (err) {
      // sslmode prefer/allow: a server without TLS is reached in plain text, as libpq does
      if (tls.fallback && /does not support SSL/i.test((err as Error).message ?? ''))
        return await open(false);
      throw err;
    }
  } catch (err) {
    throw explainPgError(err, target, input);
  }
}

export function explainPgError(err: unknown, t: PgTarget, input: string): Error {
  const e = err as { code?: string; message?: string };
  const where = `${t.host}:${t.port}`;
  switch (e.code) {
    case 'ECONNREFUSED':
      return new ConfigError(
        `cannot connect to PostgreSQL at ${where}: connection refused; check the host and port in ${input} and that the server is running`,
      );
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new ConfigError(
        `cannot connect to PostgreSQL: host "${t.host}" not found; check the host in ${input}`,
      );
    case 'ETIMEDOUT':
      return new ConfigError(
        `cannot connect to PostgreSQL at ${where}: timed out; check ${input} and firewalls`,
      );
    case undefined:
      if (e.message && /client password must be a string|password must be a string/i.test(e.message)) {
        return new ConfigError(
          `PostgreSQL at ${where} asks user "${t.user}" for a password and none was found: put it in ${input}, PGPASSWORD, the password file (PGPASSFILE or ~/.pgpass, mode 0600) or the service file`,
        );
      }
      return explainOther(e, err, t, where, input);
    case '28P01':
      return new ConfigError(
        `password authentication failed for user "${t.user}" at ${where}; check the password in ${input} (not shown)`,
      );
    case '28000':
      return new ConfigError(
        `PostgreSQL at ${where} rejected user "${t.user}" (${e.message}); check the user in ${input} and pg_hba.conf`,
      );
    case '3D000':
      return new ConfigError(
        `database "${t.database}" does not exist at ${where}; check the database name in ${input}`,
      );
    default:
      return explainOther(e, err, t, where, input);
  }
}

function explainOther(
  e: { message?: string },
  err: unknown,
  t: PgTarget,
  where: string,
  input: string,
): ConfigError {
  if (e.message && /timeout/i.test(e.message)) {
    return new ConfigError(`cannot connect to PostgreSQL at ${where}: ${e.message}; check ${input}`);
  }
  return new ConfigError(
    `cannot connect to PostgreSQL at ${where} as "${t.user}": ${e.message ?? String(err)}`,
  );
}

export function quoteIdent(name: string): string {
  return '"' + name.replace(/"/g, '""') + '"';
}

/** Parses "15.8 (Debian 15.8-1)" or "pg_dump (PostgreSQL) 15.8" into a major version. */
export function majorOf(version: string): number {
  const m = /(\d+)(?:\.(\d+))?/.exec(version);
  if (!m) throw new Error(`cannot read a PostgreSQL version from "${version}"`);
  const major = Number(m[1]);
  // 9.6 and older are "9.x" majors; they are out of range for dbdrill anyway.
  return major;
}
