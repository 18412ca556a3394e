/**
 * The PgClientCache port on @actions/tool-cache: the bin dir of a postgresql-client-<major> that
 * `pg-client: apt` installed is kept in the runner's tool cache, so a self-hosted runner (whose
 * tool cache persists) installs it once. The binaries link against the system's libpq5, which the
 * PGDG repository keeps current; a cached binary that no longer starts is ignored and reinstalled.
 * @actions/tool-cache loads only when the apt path runs.
 */
import type { PgClientCache } from '../core/engines/postgres/pg-client.js';
import type { Logger } from '../core/logger.js';

export const PG_CLIENT_CACHE_NAME = 'postgresql-client';

export function toolCachePgClient(logger: Logger): PgClientCache {
  return {
    async find(major) {
      const tc = await import('@actions/tool-cache');
      const dir = tc.find(PG_CLIENT_CACHE_NAME, `${major}.0.0`);
      return dir || undefined;
    },
    async save(binDir, major) {
      const tc = await import('@actions/tool-cache');
      const dir = await tc.cacheDir(binDir, PG_CLIENT_CACHE_NAME, `${major}.0.0`);
      logger.info(`postgresql-client-${major} cached in ${dir}`);
    },
  };
}
