/**
 * The databases of one PostgreSQL cluster, for a fleet backup (`databases: all`): read from
 * `pg_database` through the one connection the user gave, and that connection's URL pointed at
 * each member in turn.
 */
import { connectPg } from './connection.js';

export interface ClusterDatabase {
  name: string;
  /** False for a template or a database that refuses connections: `all` leaves it out. */
  dumpable: boolean;
}

/** Every database of the cluster `url` connects to, by name. */
export async function listClusterDatabases(url: string, input: string): Promise<ClusterDatabase[]> {
  const client = await connectPg(url, input);
  try {
    const { rows } = await client.query<{ datname: string; dumpable: boolean }>(
      'SELECT datname, datallowconn AND NOT datistemplate AS dumpable FROM pg_database ORDER BY datname',
    );
    return rows.map((r) => ({ name: r.datname, dumpable: r.dumpable }));
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The same connection pointed at another database of the cluster (path, or a dbname= parameter). */
export function urlForDatabase(url: string, database: string): string {
  const u = new URL(url);
  if (u.searchParams.has('dbname')) u.searchParams.set('dbname', database);
  u.pathname = '/' + encodeURIComponent(database);
  return u.toString();
}
