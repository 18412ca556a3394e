#!/usr/bin/env node
/**
 * Applies migrations/*.sql in file-name order, each in its own transaction, and records them in
 * `schema_migrations`, so running it twice changes nothing. This is the drill's `migrate-command`
 * example: `node examples/app/migrate.mjs` against the restored database (DATABASE_URL or PG*).
 *
 * Env: DATABASE_URL or libpq PG* variables; MIGRATIONS_DIR (default: ./migrations beside this file).
 * Exit 0 applied or up to date; 1 a migration failed (it is rolled back) or an applied one changed.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import pg from 'pg';

import { sha256Hex } from './kek.mjs';

const LOCK_KEY = 'dbdrill-example-migrate';

export function listMigrations(dir) {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((file) => {
      const sql = readFileSync(join(dir, file), 'utf8');
      return { version: file.slice(0, -'.sql'.length), file, sql, sha256: sha256Hex(sql) };
    });
}

/**
 * Applies what is not applied yet; returns { applied: [versions], skipped: [versions] }.
 * An advisory lock keeps two concurrent runs (two app replicas starting) from racing.
 */
export async function migrate(client, dir, log = () => undefined) {
  const migrations = listMigrations(dir);
  await client.query('SELECT pg_advisory_lock(hashtext($1))', [LOCK_KEY]);
  try {
    await client.query(`CREATE TABLE IF NOT EXISTS public.schema_migrations (
      version text PRIMARY KEY,
      sha256 text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const done = new Map(
      (await client.query('SELECT version, sha256 FROM public.schema_migrations')).rows.map((r) => [
        r.version,
        r.sha256,
      ]),
    );
    const applied = [];
    const skipped = [];
    for (const m of migrations) {
      const recorded = done.get(m.version);
      if (recorded !== undefined) {
        if (recorded !== m.sha256) {
          throw new Error(
            `${m.file} was changed after it was applied (recorded sha256 ${recorded.slice(0, 12)}…, ` +
              `file ${m.sha256.slice(0, 12)}…); never edit an applied migration, add a new one`,
          );
        }
        skipped.push(m.version);
        continue;
      }
      await client.query('BEGIN');
      try {
        await client.query(m.sql);
        await client.query('INSERT INTO public.schema_migrations (version, sha256) VALUES ($1, $2)', [
          m.version,
          m.sha256,
        ]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw new Error(`${m.file} failed and was rolled back: ${err.message}`);
      }
      applied.push(m.version);
      log(`applied ${m.file}`);
    }
    return { applied, skipped };
  } finally {
    await client.query('SELECT pg_advisory_unlock(hashtext($1))', [LOCK_KEY]).catch(() => undefined);
  }
}

async function main() {
  const dir = process.env.MIGRATIONS_DIR
    ? resolve(process.env.MIGRATIONS_DIR)
    : fileURLToPath(new URL('./migrations/', import.meta.url));
  const client = new pg.Client(
    process.env.DATABASE_URL ? { connectionString: process.env.DATABASE_URL } : {},
  );
  await client.connect().catch((err) => {
    throw new Error(`cannot connect to the database (DATABASE_URL or the PG* variables): ${err.message}`);
  });
  try {
    const { applied, skipped } = await migrate(client, dir, (line) => console.log(`migrate: ${line}`));
    console.log(
      applied.length === 0
        ? `migrate: up to date (${skipped.length} already applied)`
        : `migrate: ${applied.length} applied, ${skipped.length} already applied`,
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((err) => {
    console.error(`migrate: ${err.message}`);
    process.exit(1);
  });
}
