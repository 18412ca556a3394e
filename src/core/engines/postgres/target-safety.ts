/**
 * The two PostgreSQL restores that destroy data, refused before pg_restore runs: into the
 * backup's own source, and over a database that already holds objects. `clean` turns the second
 * refusal into dropping those objects first, loudly.
 */
import type pg from 'pg';

import type { PostgresComponent } from '../../bundle/manifest.js';
import { ConfigError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { connectPg, describeTarget, parsePgUrl, quoteIdent } from './connection.js';
import { countLargeObjects, userSchemaFilter } from './system-catalog.js';

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
