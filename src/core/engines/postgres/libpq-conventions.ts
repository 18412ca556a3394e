/**
 * libpq's own conventions for the Node driver, which knows only a URL: the service file
 * (PGSERVICE, PGSERVICEFILE, ~/.pg_service.conf, PGSYSCONFDIR), the password file (PGPASSFILE,
 * ~/.pgpass) and PGSSLMODE. Child tools (pg_dump, pg_restore, psql) are libpq and read these
 * themselves; resolving them the same way here makes dbdrill's own connections agree with them.
 * Precedence is libpq's: the URL, then the service, then the PG* variables, then the defaults.
 */
import { readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Connection keywords a service file section may set (the ones dbdrill's driver uses). */
export type ServiceParams = Partial<
  Record<'host' | 'port' | 'user' | 'dbname' | 'password' | 'sslmode' | 'sslrootcert', string>
>;

function readIfFile(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** The section of a pg_service.conf, or undefined when the file has none of that name. */
export function parseServiceFile(text: string, service: string): ServiceParams | undefined {
  let current: string | undefined;
  let found: ServiceParams | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const section = /^\[(.*)\]$/.exec(line);
    if (section) {
      current = section[1];
      if (current === service) found ??= {};
      continue;
    }
    if (current !== service || !found) continue;
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    if (['host', 'port', 'user', 'dbname', 'password', 'sslmode', 'sslrootcert'].includes(key))
      (found as Record<string, string>)[key] = value;
  }
  return found;
}

/**
 * The service's parameters from the user's file (PGSERVICEFILE or ~/.pg_service.conf), else the
 * system one (PGSYSCONFDIR/pg_service.conf). Undefined when neither names it: libpq then fails
 * with "definition of service not found", and so does the caller.
 */
export function lookupService(service: string, env: NodeJS.ProcessEnv): ServiceParams | undefined {
  const files = [
    env.PGSERVICEFILE ?? join(env.HOME ?? homedir(), '.pg_service.conf'),
    ...(env.PGSYSCONFDIR
      ? [join(env.PGSYSCONFDIR, 'pg_service.conf')]
      : ['/etc/postgresql-common/pg_service.conf']),
  ];
  for (const f of files) {
    const text = readIfFile(f);
    const found = text === undefined ? undefined : parseServiceFile(text, service);
    if (found) return found;
  }
  return undefined;
}

/** Splits a .pgpass line on unescaped ":" and unescapes "\:" and "\\". */
function passfileFields(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (ch === '\\' && i + 1 < line.length) cur += line[++i];
    else if (ch === ':') {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

/**
 * The password libpq would take from the password file for these parameters: the first line
 * whose host, port, database and user match ("*" matches anything; a socket directory matches
 * "localhost"). Like libpq, a file readable by group or others is ignored.
 */
export function lookupPassfile(
  p: { host: string; port: number; database: string; user: string },
  env: NodeJS.ProcessEnv,
): string | undefined {
  const file = env.PGPASSFILE ?? join(env.HOME ?? homedir(), '.pgpass');
  try {
    if ((statSync(file).mode & 0o077) !== 0) return undefined;
  } catch {
    return undefined;
  }
  const text = readIfFile(file);
  if (text === undefined) return undefined;
  const host = p.host.startsWith('/') ? 'localhost' : p.host;
  for (const raw of text.split(/\r?\n/)) {
    if (!raw.trim() || raw.trimStart().startsWith('#')) continue;
    const f = passfileFields(raw);
    if (f.length < 5) continue;
    const matches = (pattern: string, value: string) => pattern === '*' || pattern === value;
    if (
      matches(f[0], host) &&
      matches(f[1], String(p.port)) &&
      matches(f[2], p.database) &&
      matches(f[3], p.user)
    )
      return f.slice(4).join(':');
  }
  return undefined;
}

/**
 * The driver's TLS setting for an sslmode. "prefer" and "allow" (libpq's default is prefer)
 * try TLS first and fall back to plain text when the server has none, as libpq does.
 */
export function sslFor(
  sslmode: string | undefined,
  rootCert: string | undefined,
): {
  ssl: false | { rejectUnauthorized: boolean; ca?: string; checkServerIdentity?: () => undefined };
  fallback: boolean;
} {
  const ca = rootCert ? readIfFile(rootCert) : undefined;
  switch (sslmode ?? 'prefer') {
    case 'disable':
      return { ssl: false, fallback: false };
    case 'allow':
    case 'prefer':
      return { ssl: { rejectUnauthorized: false }, fallback: true };
    case 'require':
      // libpq's require verifies the server against a root certificate when one is given
      return {
        ssl: ca
          ? { rejectUnauthorized: true, ca, checkServerIdentity: () => undefined }
          : { rejectUnauthorized: false },
        fallback: false,
      };
    case 'no-verify':
      // node-postgres' own spelling (TLS without any verification), kept for URLs written for it
      return { ssl: { rejectUnauthorized: false }, fallback: false };
    case 'verify-ca':
      return { ssl: { rejectUnauthorized: true, ca, checkServerIdentity: () => undefined }, fallback: false };
    default:
      return { ssl: { rejectUnauthorized: true, ca }, fallback: false };
  }
}
