/**
 * Connecting to PostgreSQL with errors an operator can act on. The password never leaves this
 * module except through PGPASSWORD in a child's environment.
 */
import pg from 'pg';

import { ConfigError } from '../../errors.js';

export interface PgTarget {
  /** The URL without its password: safe to log and to pass on a command line. */
  safeUrl: string;
  password?: string;
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
  const password = parsed.password ? decodeURIComponent(parsed.password) : undefined;
  const safe = new URL(url);
  safe.password = '';
  const hostParam = parsed.searchParams.get('host');
  const host = decodeURIComponent(parsed.hostname) || hostParam || process.env.PGHOST || 'localhost';
  const database =
    decodeURIComponent(parsed.pathname.replace(/^\//, '')) || parsed.searchParams.get('dbname') || '';
  const user = decodeURIComponent(parsed.username) || process.env.PGUSER || 'postgres';
  if (!database) {
    throw new ConfigError(
      `${input} names no database; add it to the path: postgres://user@host:5432/<database>`,
    );
  }
  return {
    safeUrl: safe.toString(),
    password,
    host,
    port: parsed.port ? Number(parsed.port) : Number(process.env.PGPORT || 5432),
    user,
    database,
  };
}

/** Environment for libpq tools (pg_dump, pg_restore, psql, the app) pointing at the target. */
export function libpqEnv(target: PgTarget, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...base,
    PGHOST: target.host,
    PGPORT: String(target.port),
    PGUSER: target.user,
    PGDATABASE: target.database,
  };
  if (target.password !== undefined) env.PGPASSWORD = target.password;
  else delete env.PGPASSWORD;
  return env;
}

export function describeTarget(t: PgTarget): string {
  return `${t.user}@${t.host}:${t.port}/${t.database}`;
}

/** Connects or throws a ConfigError that names host, port, user and database, never the password. */
export async function connectPg(
  url: string,
  input: string,
  options: { applicationName?: string } = {},
): Promise<pg.Client> {
  const target = parsePgUrl(url, input);
  const client = new pg.Client({
    connectionString: url,
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
    throw explainPgError(err, target, input);
  }
  return client;
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
      if (e.message && /timeout/i.test(e.message)) {
        return new ConfigError(`cannot connect to PostgreSQL at ${where}: ${e.message}; check ${input}`);
      }
      return new ConfigError(
        `cannot connect to PostgreSQL at ${where} as "${t.user}": ${e.message ?? String(err)}`,
      );
  }
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
