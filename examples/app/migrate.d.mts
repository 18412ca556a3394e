/** Types for migrate.mjs. */
import type { Client } from 'pg';

export interface Migration {
  version: string;
  file: string;
  sql: string;
  sha256: string;
}
export declare function listMigrations(dir: string): Migration[];
export declare function migrate(
  client: Client,
  dir: string,
  log?: (line: string) => void,
): Promise<{ applied: string[]; skipped: string[] }>;
