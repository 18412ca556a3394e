/**
 * The integration-test harness: a real scratch PostgreSQL per test file (or per test), started
 * from the local binaries the same way `provision: local` does it.
 *
 * Which major: `DBDRILL_TEST_PG_MAJOR` when set; otherwise the newest server that is not an
 * embedded npm package (Debian's 15 here, 16 on ubuntu-latest), since that is the version users'
 * own servers run; otherwise the newest of any kind.
 */
import { join } from 'node:path';

import { afterAll, beforeAll } from '@jest/globals';
import pg from 'pg';

import { tempDir } from './deps.js';

import { MemoryLogger } from './memory-logger.js';
import { NodeProcessRunner } from '../../src/core/process.js';
import { startLocalCluster, type LocalCluster } from '../../src/core/provision/local-postgres.js';
import { findPgInstalls } from '../../src/core/engines/postgres/pg-binaries.js';

export interface TestClusterOptions {
  major?: number;
  database?: string;
  settings?: Record<string, string>;
}

export interface TestCluster extends LocalCluster {
  logger: MemoryLogger;
  runner: NodeProcessRunner;
  /** Runs one query (or several statements when params are absent) and returns the rows. */
  sql<R extends Record<string, unknown> = Record<string, unknown>>(
    query: string,
    params?: unknown[],
  ): Promise<R[]>;
  /** Creates the realistic schema (see below) in the cluster's database; returns the exact row count per table. */
  loadRealisticSchema(): Promise<RealisticSchema>;
}

export interface RealisticSchema {
  /** Row count of every table holding data, keyed `schema.table` (partitions, not their parent). */
  counts: Record<string, number>;
  /** The OID of the large object created with lo_from_bytea, and its content. */
  largeObject: { oid: number; content: string };
}

/** The major integration tests run against, resolved once per process. */
let defaultMajor: Promise<number | undefined> | undefined;

export async function defaultTestMajor(): Promise<number | undefined> {
  defaultMajor ??= (async () => {
    const fromEnv = process.env.DBDRILL_TEST_PG_MAJOR;
    if (fromEnv) return Number(fromEnv);
    const runner = new NodeProcessRunner(new MemoryLogger());
    const servers = (await findPgInstalls(runner)).filter((i) => i.hasServer && !i.problem);
    const system = servers.filter((i) => i.source !== 'embedded-npm').sort((a, b) => b.major - a.major);
    return (system[0] ?? servers.sort((a, b) => b.major - a.major)[0])?.major;
  })();
  return defaultMajor;
}

export async function startTestCluster(options: TestClusterOptions = {}): Promise<TestCluster> {
  const logger = new MemoryLogger();
  const runner = new NodeProcessRunner(logger);
  const major = options.major ?? (await defaultTestMajor());
  const cluster = await startLocalCluster(
    { runner, logger },
    { major, database: options.database ?? 'app', settings: options.settings },
  );
  let pool: pg.Pool | undefined;
  const getPool = (): pg.Pool => {
    if (!pool) {
      pool = new pg.Pool({ connectionString: cluster.url, max: 2, ssl: false });
      // The server is stopped with -m immediate: idle clients then error, which must not crash jest.
      pool.on('error', () => undefined);
    }
    return pool;
  };
  const sql = async <R extends Record<string, unknown>>(query: string, params?: unknown[]): Promise<R[]> => {
    const result = (await getPool().query(query, params)) as pg.QueryResult<R> | pg.QueryResult<R>[];
    return Array.isArray(result) ? (result.at(-1)?.rows ?? []) : result.rows;
  };
  const stopCluster = cluster.stop;
  return {
    ...cluster,
    logger,
    runner,
    sql,
    loadRealisticSchema: () => loadRealisticSchema(sql),
    stop: async () => {
      const p = pool;
      pool = undefined;
      await p?.end().catch(() => undefined);
      await stopCluster();
    },
  };
}

/** Starts a cluster, runs fn, and always stops it. */
export async function withCluster<T>(
  fn: (cluster: TestCluster) => Promise<T>,
  options: TestClusterOptions = {},
): Promise<T> {
  const cluster = await startTestCluster(options);
  try {
    return await fn(cluster);
  } finally {
    await cluster.stop();
  }
}

/** What `withSourceCluster` sets up for a test file: filled in by its `beforeAll`. */
export interface SourceEnv {
  /** The "production" cluster, its database named `shop` unless told otherwise. */
  cluster: TestCluster;
  work: { dir: string; remove: () => Promise<void> };
  /** `<work>/store`, a file store the test's backups go to (not created). */
  storeDir: string;
}

/**
 * The usual integration-test file: one source cluster and one work dir for the whole file,
 * started in `beforeAll` (with `setup` run on the cluster) and always removed in `afterAll`.
 * Call it before the file's own `beforeAll`, which jest then runs after this one.
 */
export function withSourceCluster(
  options: {
    database?: string;
    workPrefix?: string;
    setup?: (cluster: TestCluster) => Promise<unknown>;
  } = {},
): SourceEnv {
  const env = {} as SourceEnv;
  beforeAll(async () => {
    env.work = await tempDir(options.workPrefix);
    env.storeDir = join(env.work.dir, 'store');
    env.cluster = await startTestCluster({ database: options.database ?? 'shop' });
    await options.setup?.(env.cluster);
  }, 120_000);
  afterAll(async () => {
    await env.cluster?.stop();
    await env.work?.remove();
  });
  return env;
}

export const REALISTIC_COUNTS = {
  'public.customers': 500,
  'public.orders': 2000,
  'public.order_items': 5000,
  'public.invoice_lines': 0,
  'app.events_2024': 366,
  'app.events_2025': 365,
  'app.documents': 1,
  'public.Mixed Case': 3,
} as const;

const LARGE_OBJECT_CONTENT = 'dbdrill large object: restored bytes must match';

/**
 * Every object kind a restore must bring back: FKs, an identity and serial columns, a standalone
 * sequence moved with setval, a view, a refreshed materialized view, an index, a partitioned table
 * with rows in each partition, a large object, a function, a second schema, a name needing quotes,
 * and an empty table. One round trip; about a few hundred ms.
 */
export async function loadRealisticSchema(
  sql: (query: string, params?: unknown[]) => Promise<Record<string, unknown>[]>,
): Promise<RealisticSchema> {
  await sql(`
    CREATE SCHEMA app;

    CREATE TABLE public.customers (
      id serial PRIMARY KEY,
      name text NOT NULL,
      email text NOT NULL UNIQUE,
      created_at timestamptz NOT NULL DEFAULT '2024-01-01 00:00:00+00'
    );
    INSERT INTO public.customers (name, email)
      SELECT 'Customer ' || g, 'customer' || g || '@example.test' FROM generate_series(1, 500) g;

    CREATE TABLE public.orders (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      customer_id integer NOT NULL REFERENCES public.customers (id),
      placed_at timestamptz NOT NULL,
      status text NOT NULL CHECK (status IN ('new', 'paid', 'shipped'))
    );
    INSERT INTO public.orders (customer_id, placed_at, status)
      SELECT 1 + (g % 500), timestamptz '2024-01-01 00:00:00+00' + g * interval '1 hour',
             (ARRAY['new', 'paid', 'shipped'])[1 + g % 3]
      FROM generate_series(1, 2000) g;
    CREATE INDEX orders_customer_id_idx ON public.orders (customer_id);

    CREATE TABLE public.order_items (
      order_id bigint NOT NULL REFERENCES public.orders (id) ON DELETE CASCADE,
      line integer NOT NULL,
      sku text NOT NULL,
      quantity integer NOT NULL,
      unit_price numeric(10, 2) NOT NULL,
      PRIMARY KEY (order_id, line)
    );
    INSERT INTO public.order_items
      SELECT 1 + ((g - 1) % 2000), 1 + (g - 1) / 2000, 'SKU-' || (g % 97), 1 + g % 5, (g % 1000) / 10.0
      FROM generate_series(1, 5000) g;

    CREATE TABLE public.invoice_lines (id serial PRIMARY KEY, note text);

    CREATE SEQUENCE public.invoice_number_seq START 1000;
    SELECT setval('public.invoice_number_seq', 4242);

    CREATE VIEW public.customer_totals AS
      SELECT c.id, c.name, count(o.id) AS orders
      FROM public.customers c LEFT JOIN public.orders o ON o.customer_id = c.id
      GROUP BY c.id, c.name;

    CREATE MATERIALIZED VIEW public.daily_revenue AS
      SELECT date_trunc('day', o.placed_at) AS day, sum(i.quantity * i.unit_price) AS revenue
      FROM public.orders o JOIN public.order_items i ON i.order_id = o.id
      GROUP BY 1
      WITH NO DATA;
    REFRESH MATERIALIZED VIEW public.daily_revenue;

    CREATE TABLE app.events (
      id bigserial,
      occurred_on date NOT NULL,
      kind text NOT NULL,
      payload jsonb,
      PRIMARY KEY (id, occurred_on)
    ) PARTITION BY RANGE (occurred_on);
    CREATE TABLE app.events_2024 PARTITION OF app.events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
    CREATE TABLE app.events_2025 PARTITION OF app.events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
    INSERT INTO app.events (occurred_on, kind, payload)
      SELECT d::date, 'tick', jsonb_build_object('n', row_number() OVER ())
      FROM generate_series(date '2024-01-01', date '2025-12-31', interval '1 day') d;

    CREATE TABLE app.documents (id serial PRIMARY KEY, title text NOT NULL, body oid NOT NULL);
    INSERT INTO app.documents (title, body)
      VALUES ('readme', lo_from_bytea(0, convert_to('${LARGE_OBJECT_CONTENT}', 'UTF8')));

    CREATE FUNCTION app.order_total(p_order bigint) RETURNS numeric
      LANGUAGE sql STABLE
      AS $$ SELECT coalesce(sum(quantity * unit_price), 0) FROM public.order_items WHERE order_id = p_order $$;

    CREATE TABLE public."Mixed Case" ("Key" integer PRIMARY KEY, "Some Value" text);
    INSERT INTO public."Mixed Case" VALUES (1, 'one'), (2, 'two'), (3, 'three');

    ANALYZE;
  `);
  const [lo] = await sql('SELECT body::bigint AS oid FROM app.documents');
  return {
    counts: { ...REALISTIC_COUNTS },
    largeObject: { oid: Number(lo!.oid), content: LARGE_OBJECT_CONTENT },
  };
}
