#!/usr/bin/env node
/**
 * The "shop" demo database: deterministic data (generate_series, fixed timestamps) so a restore can
 * be compared row for row, plus the two things that tie the data to its secret store: the
 * `kek_install` row (which key the database expects) and `secrets_vault` (values encrypted with it).
 *
 * As a module: `seed(client, key)`, `generateKek()`, `kekFingerprint(content)`.
 * As a script: `DATABASE_URL=... DBDRILL_SECRETS_DIR=./secrets node examples/app/seed.mjs`
 * writes `kek.key` there when it is missing (0600, dir 0700) and seeds the database.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

import pg from 'pg';

import { KEY_FILE_NAME, encryptValue, generateKek, kekFingerprint, parseKek, sha256Hex } from './kek.mjs';

export { generateKek, kekFingerprint, parseKek } from './kek.mjs';

/** Exact row counts after `seed`, keyed `schema.table`. */
export const SEED_COUNTS = Object.freeze({
  'public.customers': 2000,
  'public.orders': 10000,
  'public.order_items': 25000,
  'public.kek_install': 1,
  'public.secrets_vault': 2,
});

/** The values stored encrypted; the first is the one /readyz decrypts. Fake, and meant to look it. */
export const VAULT_VALUES = Object.freeze([
  { name: 'readiness-probe', plaintext: 'the shop KEK decrypts this value' },
  { name: 'payment-api-token', plaintext: 'tok_demo_dbdrill_not_a_real_token' },
]);

const SCHEMA_SQL = `
CREATE TABLE public.customers (
  id serial PRIMARY KEY,
  name text NOT NULL,
  email text NOT NULL UNIQUE,
  country text NOT NULL,
  created_at timestamptz NOT NULL
);
INSERT INTO public.customers (name, email, country, created_at)
  SELECT 'Customer ' || g, 'customer' || g || '@shop.example',
         (ARRAY['DE', 'FR', 'US', 'JP', 'BR'])[1 + g % 5],
         timestamptz '2023-01-01 00:00:00+00' + g * interval '3 hours'
  FROM generate_series(1, 2000) g;

CREATE TABLE public.orders (
  id bigserial PRIMARY KEY,
  customer_id integer NOT NULL REFERENCES public.customers (id),
  placed_at timestamptz NOT NULL,
  status text NOT NULL CHECK (status IN ('new', 'paid', 'shipped', 'cancelled'))
);
INSERT INTO public.orders (customer_id, placed_at, status)
  SELECT 1 + (g * 7) % 2000, timestamptz '2024-01-01 00:00:00+00' + g * interval '47 minutes',
         (ARRAY['new', 'paid', 'shipped', 'cancelled'])[1 + g % 4]
  FROM generate_series(1, 10000) g;
CREATE INDEX orders_customer_id_idx ON public.orders (customer_id);
CREATE INDEX orders_placed_at_idx ON public.orders (placed_at);

CREATE TABLE public.order_items (
  order_id bigint NOT NULL REFERENCES public.orders (id) ON DELETE CASCADE,
  line integer NOT NULL,
  sku text NOT NULL,
  quantity integer NOT NULL CHECK (quantity > 0),
  unit_price_cents integer NOT NULL,
  PRIMARY KEY (order_id, line)
);
INSERT INTO public.order_items
  SELECT 1 + (g - 1) % 10000, 1 + (g - 1) / 10000, 'SKU-' || lpad((g % 250)::text, 4, '0'),
         1 + g % 4, 199 + (g * 37) % 9800
  FROM generate_series(1, 25000) g;

CREATE SEQUENCE public.invoice_number_seq START 100000;
SELECT setval('public.invoice_number_seq', 100000 + 7500);

CREATE VIEW public.customer_order_totals AS
  SELECT c.id AS customer_id, c.name, count(DISTINCT o.id) AS orders,
         coalesce(sum(i.quantity * i.unit_price_cents), 0) AS total_cents
  FROM public.customers c
  LEFT JOIN public.orders o ON o.customer_id = c.id
  LEFT JOIN public.order_items i ON i.order_id = o.id
  GROUP BY c.id, c.name;

-- Which KEK this database's ciphertext belongs to: one row, written when the key is installed.
CREATE TABLE public.kek_install (
  id smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
  fingerprint text NOT NULL CHECK (fingerprint ~ '^sha256:[0-9a-f]{64}$'),
  installed_at timestamptz NOT NULL
);

CREATE TABLE public.secrets_vault (
  id serial PRIMARY KEY,
  name text NOT NULL UNIQUE,
  iv bytea NOT NULL,
  tag bytea NOT NULL,
  ciphertext bytea NOT NULL,
  plaintext_sha256 text NOT NULL
);
`;

/**
 * Creates the demo schema and data in an empty database, in one transaction. `client` is a
 * connected pg.Client (a pg.Pool works too: one connection is taken for the transaction); `key`
 * is the key file's content (as from generateKek) or the 32 raw key bytes.
 * Returns SEED_COUNTS and the key's fingerprint.
 */
export async function seed(client, key) {
  const raw = parseKek(key);
  const pooled = typeof client.totalCount === 'number' && typeof client.connect === 'function';
  const conn = pooled ? await client.connect() : client;
  try {
    const [{ existing }] = (await conn.query(`SELECT to_regclass('public.customers')::text AS existing`))
      .rows;
    if (existing) {
      throw new Error(
        `seed: the database already has ${existing}; seed needs an empty database (drop it or use a new one)`,
      );
    }
    await conn.query('BEGIN');
    try {
      await conn.query(SCHEMA_SQL);
      const fingerprint = kekFingerprint(raw);
      await conn.query(
        `INSERT INTO public.kek_install (fingerprint, installed_at) VALUES ($1, '2024-01-01 00:00:00+00')`,
        [fingerprint],
      );
      for (const { name, plaintext } of VAULT_VALUES) {
        const { iv, tag, ciphertext } = encryptValue(raw, name, plaintext);
        await conn.query(
          'INSERT INTO public.secrets_vault (name, iv, tag, ciphertext, plaintext_sha256) VALUES ($1, $2, $3, $4, $5)',
          [name, iv, tag, ciphertext, sha256Hex(plaintext)],
        );
      }
      await conn.query('ANALYZE');
      await conn.query('COMMIT');
      return { counts: { ...SEED_COUNTS }, fingerprint };
    } catch (err) {
      await conn.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  } finally {
    if (pooled) conn.release();
  }
}

async function main() {
  const dir = process.env.DBDRILL_SECRETS_DIR || process.env.APP_SECRETS_DIR;
  if (!dir) {
    console.error('seed: set DBDRILL_SECRETS_DIR (or APP_SECRETS_DIR) to the directory for kek.key');
    process.exit(2);
  }
  const keyFile = join(resolve(dir), KEY_FILE_NAME);
  if (!existsSync(keyFile)) {
    mkdirSync(resolve(dir), { recursive: true, mode: 0o700 });
    writeFileSync(keyFile, generateKek(), { mode: 0o600, flag: 'wx' });
    console.log(`seed: wrote a new key to ${keyFile}`);
  }
  const client = new pg.Client(
    process.env.DATABASE_URL ? { connectionString: process.env.DATABASE_URL } : {},
  );
  await client.connect().catch((err) => {
    throw new Error(`cannot connect to the database (DATABASE_URL or the PG* variables): ${err.message}`);
  });
  try {
    const { counts, fingerprint } = await seed(client, readFileSync(keyFile));
    console.log(`seed: done, kek ${fingerprint.slice(0, 19)}…, ${JSON.stringify(counts)}`);
  } finally {
    await client.end();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((err) => {
    console.error(`seed: ${err.message}`);
    process.exit(1);
  });
}
