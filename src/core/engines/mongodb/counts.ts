/**
 * Document counts after a restore, through the official driver, against the archive's own
 * counts (mapped through the same renames mongorestore applied), and the drift against
 * production (compare-url, read-only).
 */
import type { MongoClient } from 'mongodb';

import type { DrillCount } from '../../report/model.js';
import { ConfigError, messageOf } from '../../errors.js';
import { describeMongo, parseMongoUrl } from './connection.js';
import type { NsRename } from './restore.js';

export interface ExpectedCollection {
  /** As dumped. */
  ns: string;
  /** Where mongorestore puts it. */
  target: string;
  documents: number;
}

/** Databases mongorestore does not restore into (or that are the server's own). */
const SYSTEM_DBS = new Set(['admin', 'config', 'local']);

/**
 * The collections whose counts a restore must reproduce: documents of plain and time-series
 * (bucket) collections; not views (no documents), the oplog (replayed only with --oplogReplay),
 * system collections or the server's own databases.
 */
export function expectedCollections(
  collections: { ns: string; type?: string; documents: number }[],
  renames: NsRename[],
): ExpectedCollection[] {
  const out: ExpectedCollection[] = [];
  for (const c of collections) {
    if (c.type === 'view' || c.type === 'oplog' || c.ns === 'oplog') continue;
    const dot = c.ns.indexOf('.');
    if (dot <= 0) continue;
    const db = c.ns.slice(0, dot);
    const coll = c.ns.slice(dot + 1);
    if (SYSTEM_DBS.has(db)) continue;
    if (coll.startsWith('system.') && !coll.startsWith('system.buckets.')) continue;
    out.push({ ns: c.ns, target: renameNamespace(c.ns, renames), documents: c.documents });
  }
  return out;
}

/**
 * mongorestore's nsFrom/nsTo matching: `*` matches any text and is put back positionally,
 * `$name$` matches any text and is put back by name, `\` escapes. The first matching pair wins.
 */
export function renameNamespace(ns: string, renames: NsRename[]): string {
  for (const r of renames) {
    const { regex, vars } = compilePattern(r.from);
    const m = regex.exec(ns);
    if (!m) continue;
    const stars = vars.map((v, i) => ({ v, value: m[i + 1] })).filter((x) => x.v === '*');
    const named = new Map(vars.map((v, i) => [v, m[i + 1]] as const).filter(([v]) => v !== '*'));
    let star = 0;
    let out = '';
    const to = r.to;
    for (let i = 0; i < to.length; i++) {
      const ch = to[i];
      if (ch === '\\' && i + 1 < to.length) out += to[++i];
      else if (ch === '*') out += stars[star++]?.value ?? '';
      else if (ch === '$') {
        const end = to.indexOf('$', i + 1);
        if (end < 0) throw new ConfigError(`ns-to "${to}" has an unclosed $variable$`);
        const name = to.slice(i + 1, end);
        if (!named.has(name))
          throw new ConfigError(`ns-to "${to}" uses $${name}$, which ns-from "${r.from}" does not define`);
        out += named.get(name);
        i = end;
      } else out += ch;
    }
    return out;
  }
  return ns;
}

function compilePattern(pattern: string): { regex: RegExp; vars: string[] } {
  const vars: string[] = [];
  let src = '^';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '\\' && i + 1 < pattern.length) src += escapeRe(pattern[++i]);
    else if (ch === '*') {
      vars.push('*');
      src += '(.*?)';
    } else if (ch === '$') {
      const end = pattern.indexOf('$', i + 1);
      if (end < 0) throw new ConfigError(`ns-from "${pattern}" has an unclosed $variable$`);
      vars.push(pattern.slice(i + 1, end));
      src += '(.*?)';
      i = end;
    } else src += escapeRe(ch);
  }
  return { regex: new RegExp(src + '$'), vars };
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Opens the driver with errors that name the input and never the password. */
export async function connectMongo(url: string, input: string): Promise<MongoClient> {
  const t = parseMongoUrl(url, input);
  // A timeout in the URL (serverSelectionTimeoutMS=...) wins over the default.
  const timeout = t.query.has('serverSelectionTimeoutMS') ? {} : { serverSelectionTimeoutMS: 15000 };
  // loaded on first use: the driver is large and only MongoDB drills need it
  const { MongoClient: Client } = await import('mongodb');
  const client = new Client(url, { ...timeout, appName: 'dbdrill' });
  try {
    await client.connect();
  } catch (err) {
    await client.close().catch(() => undefined);
    const msg = messageOf(err).replace(t.password ?? '\u0000', '***');
    if (/auth/i.test(msg))
      throw new ConfigError(
        `cannot authenticate to MongoDB at ${describeMongo(t)}; check the user, password (not shown) and authSource in ${input}: ${msg}`,
      );
    throw new ConfigError(
      `cannot connect to MongoDB at ${describeMongo(t)}: ${msg}; check ${input} and that mongod runs`,
    );
  }
  return client;
}

export async function countCollections(
  client: MongoClient,
  namespaces: string[],
): Promise<Map<string, number | null>> {
  const out = new Map<string, number | null>();
  for (const ns of namespaces) {
    const dot = ns.indexOf('.');
    try {
      out.set(
        ns,
        await client
          .db(ns.slice(0, dot))
          .collection(ns.slice(dot + 1))
          .countDocuments({}),
      );
    } catch {
      out.set(ns, null);
    }
  }
  return out;
}

/** Restored counts against the archive's: exact. */
export async function compareMongoCounts(
  client: MongoClient,
  expected: ExpectedCollection[],
): Promise<DrillCount[]> {
  const actual = await countCollections(
    client,
    expected.map((e) => e.target),
  );
  return expected.map((e) => {
    const got = actual.get(e.target) ?? null;
    return {
      name: e.target,
      expected: e.documents,
      actual: got,
      ok: got === e.documents,
      source: 'manifest',
    };
  });
}

/**
 * Restored counts against production's (compare-url), within the tolerance. Production
 * collections are named as dumped, so the lookup uses the source namespace.
 */
export async function compareMongoWithProduction(
  prod: MongoClient,
  restored: { source: string; count: DrillCount }[],
  tolerance: { percent?: number; rows?: number },
): Promise<DrillCount[]> {
  const prodCounts = await countCollections(
    prod,
    restored.map((r) => r.source),
  );
  return restored.map(({ source, count }) => {
    const p = prodCounts.get(source) ?? null;
    let ok = p !== null && count.actual !== null;
    if (ok)
      ok =
        Math.abs(p! - count.actual!) <= (tolerance.rows ?? Math.ceil((p! * (tolerance.percent ?? 10)) / 100));
    return { name: count.name, expected: p, actual: count.actual, ok, source: 'compare-url' };
  });
}
