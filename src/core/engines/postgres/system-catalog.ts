/**
 * What the drill asks a PostgreSQL server's system catalog about the user's objects. Target
 * safety, `clean` and the structure checks must agree on what counts as the user's, or clean
 * would leave behind objects the non-empty refusal then counts.
 */
import type pg from 'pg';

/** The user's schemas: everything but the catalogs and the server's own `pg_*` (toast, temp). */
export function userSchemaFilter(column = 'nspname'): string {
  return `${column} NOT IN ('pg_catalog', 'information_schema') AND ${column} NOT LIKE 'pg\\_%'`;
}

/** Large objects live outside every schema, so they are counted on their own. */
export async function countLargeObjects(client: pg.Client): Promise<number> {
  const r = await client.query<{ n: string }>('SELECT count(*) AS n FROM pg_largeobject_metadata');
  return Number(r.rows[0].n);
}
