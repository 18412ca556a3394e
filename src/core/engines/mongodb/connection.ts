/**
 * MongoDB connection strings, parsed without the WHATWG URL parser (which rejects the
 * multi-host seed lists `mongodb://a:1,b:2/db` that replica sets use). The password leaves this
 * module only inside a 0600 `--config` file for the tools, or in the driver's options.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { ConfigError } from '../../errors.js';

export interface MongoHost {
  host: string;
  port: number;
}

export interface MongoTarget {
  scheme: 'mongodb' | 'mongodb+srv';
  user?: string;
  password?: string;
  hosts: MongoHost[];
  /** The database in the path; null when the URL names none (the whole deployment). */
  database: string | null;
  query: URLSearchParams;
  /** The URL without its password: safe to log. */
  safeUrl: string;
}

const URL_RE = /^(mongodb(?:\+srv)?):\/\/(?:([^@/]*)@)?([^/?#]*)(?:\/([^?#]*))?(?:\?([^#]*))?$/i;

export function parseMongoUrl(url: string, input: string): MongoTarget {
  const m = URL_RE.exec(url.trim());
  if (!m) {
    throw new ConfigError(
      `${input} is not a valid MongoDB URL; expected mongodb://user:password@host:27017/database (or mongodb+srv://)`,
    );
  }
  const scheme = m[1].toLowerCase() as MongoTarget['scheme'];
  let user: string | undefined;
  let password: string | undefined;
  if (m[2] !== undefined) {
    const colon = m[2].indexOf(':');
    user = safeDecode(colon >= 0 ? m[2].slice(0, colon) : m[2], input);
    if (colon >= 0) password = safeDecode(m[2].slice(colon + 1), input);
  }
  if (!m[3]) throw new ConfigError(`${input} names no host; expected mongodb://host:27017/database`);
  const hosts = m[3].split(',').map((h): MongoHost => {
    const ipv6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(h);
    const plain = /^([^:]+)(?::(\d+))?$/.exec(h);
    const parts = ipv6 ?? plain;
    if (!parts) throw new ConfigError(`${input}: host "${h}" is not valid; expected host or host:port`);
    return { host: parts[1].toLowerCase(), port: parts[2] ? Number(parts[2]) : 27017 };
  });
  const database = m[4] ? safeDecode(m[4], input) : null;
  const query = new URLSearchParams(m[5] ?? '');
  const target: MongoTarget = { scheme, user, password, hosts, database, query, safeUrl: '' };
  target.safeUrl = formatMongoUrl(target, { password: false });
  return target;
}

function safeDecode(s: string, input: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new ConfigError(
      `${input} has a bad %-escape; percent-encode special characters in the user and password`,
    );
  }
}

/** Rebuilds a URL; `database: null` drops the path, `hosts` replaces the seed list. */
export function formatMongoUrl(
  t: MongoTarget,
  o: { password?: boolean; database?: string | null; hosts?: MongoHost[]; query?: URLSearchParams } = {},
): string {
  const auth =
    t.user !== undefined
      ? encodeURIComponent(t.user) +
        (t.password !== undefined && o.password !== false ? ':' + encodeURIComponent(t.password) : '') +
        '@'
      : '';
  const hosts = (o.hosts ?? t.hosts).map(
    (h) => (h.host.includes(':') ? `[${h.host}]` : h.host) + (t.scheme === 'mongodb+srv' ? '' : `:${h.port}`),
  );
  const db = o.database === undefined ? t.database : o.database;
  const q = (o.query ?? t.query).toString();
  return `${t.scheme}://${auth}${hosts.join(',')}/${db ? encodeURIComponent(db) : ''}${q ? '?' + q : ''}`;
}

export function describeMongo(t: MongoTarget): string {
  return `${t.user ? t.user + '@' : ''}${t.hosts.map((h) => `${h.host}:${h.port}`).join(',')}/${t.database ?? ''}`;
}

/**
 * The tools treat a database in `--uri` as `--db`, which for an archive restore is a filter that
 * matches nothing after a rename. The target database is therefore expressed by nsFrom/nsTo and
 * the URI keeps only where to connect; a path database that was the auth source stays one.
 */
export function connectionOnlyUrl(t: MongoTarget): string {
  const query = new URLSearchParams(t.query);
  if (t.database && t.user !== undefined && !query.has('authSource')) query.set('authSource', t.database);
  return formatMongoUrl(t, { database: null, query });
}

/**
 * The tools' `--config` YAML (`uri:`), so the password is on no command line. Written 0600 in
 * the 0700 work dir and removed with it.
 */
export async function writeToolConfig(dir: string, name: string, uri: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, toolConfigText(uri), { mode: 0o600 });
  return path;
}

/** A JSON string is a valid YAML double-quoted scalar, whatever the password holds. */
export function toolConfigText(uri: string): string {
  return `uri: ${JSON.stringify(uri)}\n`;
}

/** True when two URLs point at the same database on an overlapping set of hosts. */
export function sameMongoSource(
  a: { hosts: MongoHost[]; database: string | null },
  b: { hosts: MongoHost[]; database: string | null },
): boolean {
  const norm = (h: MongoHost) =>
    `${h.host === 'localhost' || h.host === '::1' ? '127.0.0.1' : h.host}:${h.port}`;
  const set = new Set(a.hosts.map(norm));
  return b.hosts.some((h) => set.has(norm(h))) && (a.database ?? '') === (b.database ?? '');
}
