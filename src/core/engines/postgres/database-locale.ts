/**
 * A database's encoding and locale: what its text may hold and how it sorts. A restore into a
 * database with other settings is not the same database (a SQL_ASCII dump's bytes are invalid in
 * UTF8, a range partition bound sorts elsewhere under ICU than under C), so the backup records
 * them, provisioning recreates them and a given target is compared with them.
 */
import type pg from 'pg';

import type { DatabaseLocale } from '../../bundle/manifest.js';
import type { PgTocEntry } from './pgdump-reader.js';

export type { DatabaseLocale };

/** Reads the current database's settings; the columns moved between majors 14, 15, 16 and 17. */
export async function readDatabaseLocale(
  client: pg.Client,
  serverVersionNum: number,
): Promise<DatabaseLocale> {
  const provider = serverVersionNum >= 150000 ? 'd.datlocprovider::text' : `'c'`;
  const locale =
    serverVersionNum >= 170000 ? 'd.datlocale' : serverVersionNum >= 150000 ? 'd.daticulocale' : 'NULL::text';
  const rules = serverVersionNum >= 160000 ? 'd.daticurules' : 'NULL::text';
  const r = await client.query<{
    encoding: string;
    collate: string;
    ctype: string;
    provider: string;
    locale: string | null;
    rules: string | null;
  }>(
    `SELECT pg_encoding_to_char(d.encoding) AS encoding, d.datcollate AS collate, d.datctype AS ctype,
            ${provider} AS provider, ${locale} AS locale, ${rules} AS rules
       FROM pg_database d WHERE d.datname = current_database()`,
  );
  const row = r.rows[0];
  const out: DatabaseLocale = {
    encoding: row.encoding,
    collate: row.collate,
    ctype: row.ctype,
    provider: row.provider === 'i' ? 'icu' : row.provider === 'b' ? 'builtin' : 'libc',
  };
  if (out.provider !== 'libc' && row.locale) out.locale = row.locale;
  if (row.rules) out.icuRules = row.rules;
  return out;
}

/**
 * A bare pg_dump file has no manifest: its ENCODING entry and, when pg_dump wrote one, its
 * DATABASE entry (the CREATE DATABASE that `pg_restore --create` would run) say the same.
 */
export function localeFromToc(toc: PgTocEntry[]): DatabaseLocale | undefined {
  const encodingEntry = toc.find((e) => e.desc === 'ENCODING');
  const database = toc.find((e) => e.desc === 'DATABASE' && /CREATE DATABASE/i.test(e.defn));
  const value = (key: string): string | undefined => {
    const m = new RegExp(`\\b${key} = '((?:[^']|'')*)'`).exec(database?.defn ?? '');
    return m ? m[1].replace(/''/g, "'") : undefined;
  };
  const encoding =
    value('ENCODING') ?? /client_encoding = '([^']*)'/.exec(encodingEntry?.defn ?? '')?.[1] ?? undefined;
  if (!encoding) return undefined;
  if (!database) return { encoding, collate: '', ctype: '', provider: 'libc', partial: true };
  const both = value('LOCALE');
  const providerWord = /\bLOCALE_PROVIDER = (\w+)/.exec(database.defn)?.[1];
  const provider: DatabaseLocale['provider'] =
    providerWord === 'icu' ? 'icu' : providerWord === 'builtin' ? 'builtin' : 'libc';
  const out: DatabaseLocale = {
    encoding,
    collate: value('LC_COLLATE') ?? both ?? '',
    ctype: value('LC_CTYPE') ?? both ?? '',
    provider,
  };
  const locale =
    provider === 'icu' ? value('ICU_LOCALE') : provider === 'builtin' ? value('BUILTIN_LOCALE') : undefined;
  if (locale) out.locale = locale;
  const rules = value('ICU_RULES');
  if (rules) out.icuRules = rules;
  return out;
}

const quoteLiteral = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/**
 * The options of a CREATE DATABASE that reproduces the locale (TEMPLATE template0: template1 may
 * have another encoding). A partial locale (a bare dump without a DATABASE entry) sets the encoding
 * only, with the C locale that accepts every encoding.
 */
export function createDatabaseOptions(locale: DatabaseLocale, targetMajor: number): string {
  const parts = ['TEMPLATE template0', `ENCODING ${quoteLiteral(locale.encoding)}`];
  parts.push(
    `LC_COLLATE ${quoteLiteral(locale.collate || 'C')}`,
    `LC_CTYPE ${quoteLiteral(locale.ctype || 'C')}`,
  );
  if (locale.provider !== 'libc' && targetMajor >= 15) {
    parts.push(`LOCALE_PROVIDER ${locale.provider}`);
    if (locale.provider === 'icu' && locale.locale) parts.push(`ICU_LOCALE ${quoteLiteral(locale.locale)}`);
    if (locale.provider === 'builtin' && locale.locale)
      parts.push(`BUILTIN_LOCALE ${quoteLiteral(locale.locale)}`);
    if (locale.icuRules && targetMajor >= 16) parts.push(`ICU_RULES ${quoteLiteral(locale.icuRules)}`);
  }
  return parts.join(' ');
}

/** "LATIN1, collate C, ctype C, libc" or "UTF8, ICU de-DE (collate C, ctype C)". */
export function describeLocale(l: DatabaseLocale): string {
  const libc =
    l.collate === l.ctype ? `locale ${l.collate || '?'}` : `collate ${l.collate}, ctype ${l.ctype}`;
  if (l.partial) return `${l.encoding} (locale not recorded)`;
  if (l.provider === 'libc') return `${l.encoding}, libc ${libc}`;
  return `${l.encoding}, ${l.provider === 'icu' ? 'ICU' : 'builtin'} ${l.locale ?? '?'} (${libc})`;
}

/**
 * Where the target differs from the source, one phrase each. An ICU database's libc collate and
 * ctype still steer a few functions (e.g. upper() under libc ctype), so they are compared too.
 */
export function localeDifferences(source: DatabaseLocale, target: DatabaseLocale): string[] {
  const out: string[] = [];
  const norm = (s: string | undefined) =>
    (s ?? '').toLowerCase().replace(/[-_]/g, '').replace(/utf8$/, 'utf8');
  if (norm(source.encoding) !== norm(target.encoding))
    out.push(`encoding ${target.encoding}, the source's is ${source.encoding}`);
  if (source.partial) return out;
  if (source.provider !== target.provider)
    out.push(`locale provider ${target.provider}, the source's is ${source.provider}`);
  else if (source.provider !== 'libc' && (source.locale ?? '') !== (target.locale ?? ''))
    out.push(
      `${source.provider} locale ${target.locale ?? 'none'}, the source's is ${source.locale ?? 'none'}`,
    );
  // C.UTF-8 sorts by code point, which is C's byte order in UTF8: the same collation (not the same ctype)
  const collation = (l: string) => (/^c\.utf-?8$/i.test(l.trim()) ? 'C' : normLocale(l));
  if (collation(source.collate) !== collation(target.collate))
    out.push(`LC_COLLATE ${target.collate}, the source's is ${source.collate}`);
  if (normLocale(source.ctype) !== normLocale(target.ctype))
    out.push(`LC_CTYPE ${target.ctype}, the source's is ${source.ctype}`);
  if ((source.icuRules ?? '') !== (target.icuRules ?? '')) out.push(`ICU rules differ from the source's`);
  return out;
}

/** en_US.UTF-8 and en_US.utf8 name the same locale; C and POSIX are the same. */
function normLocale(s: string): string {
  const l = s.trim();
  if (l === 'POSIX') return 'C';
  const [name, codeset] = l.split('.');
  return codeset ? `${name}.${codeset.toLowerCase().replace(/-/g, '')}` : name;
}
