/**
 * The two PostgreSQL restores that destroy data, refused before pg_restore runs: into the
 * backup's own source, and over a database that already holds objects. `clean` turns the second
 * refusal into dropping those objects first, loudly. And the restore that proves nothing: into a
 * database whose encoding or locale is not the source's.
 */
import type pg from 'pg';

import type { DatabaseLocale, PostgresComponent } from '../../bundle/manifest.js';
import { CheckFailed, ConfigError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { connectPg, describeTarget, parsePgUrl, quoteIdent } from './connection.js';
import { describeLocale, localeDifferences, readDatabaseLocale } from './database-locale.js';
import { countLargeObjects, userSchemaFilter } from './system-catalog.js';

/**
 * The target must hold text the way the source did: same encoding, collation, ctype and locale
 * provider. A difference fails the drill (restored text may be invalid, partition bounds and
 * unique indexes may sort differently) unless `acceptReason` accepts it; the reason is then in
 * the report. Returns the check to record.
 */
export async function checkTargetLocale(
  targetUrl: string,
  source: DatabaseLocale | undefined,
  acceptReason: string | undefined,
  record: { logger: Logger; notes: string[]; label: (input: string) => string },
): Promise<{ name: string; group: string; ok: boolean; detail: string }> {
  const name = 'target encoding and locale match the source';
  if (!source) {
    record.notes.push(
      'the source encoding and locale are unknown (not in the manifest or the dump TOC): the target was not compared',
    );
    return { name, group: 'restore', ok: true, detail: 'source encoding and locale unknown; not compared' };
  }
  const client = await connectPg(targetUrl, 'target-url');
  let target: DatabaseLocale;
  try {
    const n = Number(
      (await client.query<{ n: string }>(`SELECT current_setting('server_version_num') AS n`)).rows[0].n,
    );
    target = await readDatabaseLocale(client, n);
  } finally {
    await client.end().catch(() => undefined);
  }
  const differences = localeDifferences(source, target);
  if (!differences.length) return { name, group: 'restore', ok: true, detail: describeLocale(target) };
  const what = `the target database is ${describeLocale(target)}; the source was ${describeLocale(source)} (${differences.join('; ')})`;
  if (acceptReason) {
    record.logger.warning(`${what}: accepted by accept-locale-mismatch (${acceptReason})`);
    record.notes.push(`accept-locale-mismatch: ${what}; accepted because: ${acceptReason}`);
    return { name, group: 'restore', ok: true, detail: `mismatch accepted (${acceptReason}): ${what}` };
  }
  return {
    name,
    group: 'restore',
    ok: false,
    detail: `${what}. Restore into a database created like the source (CREATE DATABASE ... TEMPLATE template0 with its ENCODING, LC_COLLATE, LC_CTYPE and locale provider), use ${record.label('provision')}: local (it does), or set ${record.label('accept-locale-mismatch')} to a reason to accept it`,
  };
}

/** Thrown after the failing locale check is recorded: the restore would prove nothing. */
export function localeMismatch(detail: string): CheckFailed {
  return new CheckFailed(`target encoding/locale differs from the source: ${detail}`);
}

/** Returns the target server's version (e.g. "17.2") for the report. */
export async function refuseUnsafeTarget(
  targetUrl: string,
  source: PostgresComponent | undefined,
  clean: boolean,
  record: { logger: Logger; notes: string[] },
): Promise<string> {
  const client = await connectPg(targetUrl, 'target-url');
  try {
    const info = await client.query<{ v: string; db: string }>(
      `SELECT current_setting('server_version') AS v, current_database() AS db`,
    );
    const database = info.rows[0].db;
    if (source) await refuseSource(client, targetUrl, database, source);
    const n = await countUserObjects(client);
    if (n > 0) {
      if (!clean) {
        throw new ConfigError(
          `target-url database "${database}" is not empty (${n} object(s)); restore into an empty scratch database, or set clean: true to drop its contents first`,
        );
      }
      record.logger.warning(
        `clean: dropping ${n} object(s) in ${describeTarget(parsePgUrl(targetUrl, 'target-url'))}`,
      );
      await dropUserObjects(client);
      record.notes.push(`clean: dropped ${n} existing object(s) in the target before restoring`);
    }
    return info.rows[0].v.split(' ')[0];
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Same database name on the same cluster is the source. The cluster is the system identifier
 * when both sides know it (a host alias or a port forward cannot hide it), else host and port.
 */
async function refuseSource(
  client: pg.Client,
  targetUrl: string,
  database: string,
  source: PostgresComponent,
): Promise<void> {
  let sysid: string | null;
  try {
    sysid = (
      await client.query<{ id: string }>('SELECT system_identifier::text AS id FROM pg_control_system()')
    ).rows[0].id;
  } catch {
    sysid = null;
  }
  const target = parsePgUrl(targetUrl, 'target-url');
  const sameCluster =
    sysid && source.systemIdentifier
      ? sysid === source.systemIdentifier
      : target.host === source.host && target.port === source.port;
  if (database === source.database && sameCluster) {
    throw new ConfigError(
      `refusing to restore into the backup's own source: target-url is database "${source.database}" on the cluster that was backed up (system identifier ${source.systemIdentifier ?? 'unknown'}); point target-url at a scratch database or use provision: local`,
    );
  }
}

async function countUserObjects(client: pg.Client): Promise<number> {
  const relations = await client.query<{ n: string }>(
    `SELECT count(*) AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE ${userSchemaFilter('n.nspname')}`,
  );
  return Number(relations.rows[0].n) + (await countLargeObjects(client));
}

async function dropUserObjects(client: pg.Client): Promise<void> {
  const schemas = await client.query<{ nspname: string }>(
    `SELECT nspname FROM pg_namespace WHERE ${userSchemaFilter()}`,
  );
  for (const s of schemas.rows) await client.query(`DROP SCHEMA ${quoteIdent(s.nspname)} CASCADE`);
  await client.query('CREATE SCHEMA IF NOT EXISTS public');
  await client.query('SELECT lo_unlink(oid) FROM pg_largeobject_metadata');
}
