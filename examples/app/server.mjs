#!/usr/bin/env node
/**
 * The "shop" sample service that dbdrill's demo and drill tests boot on a restored database.
 * It is deliberately strict about the one thing a backup without its secret store gets wrong:
 * /readyz only passes when the restored database and the restored key belong together and a
 * stored value really decrypts. The key never leaves this process: only fingerprint prefixes do.
 *
 * Env: DATABASE_URL (or libpq PGHOST/PGPORT/PGUSER/PGPASSWORD/PGDATABASE), PORT (default 3000,
 * 0 = any free port), DBDRILL_SECRETS_DIR or APP_SECRETS_DIR (holds kek.key).
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import http from 'node:http';
import { join, resolve } from 'node:path';

import pg from 'pg';

import {
  KEY_FILE_NAME,
  decryptValue,
  fingerprintPrefix,
  kekFingerprint,
  parseKek,
  sha256Hex,
} from './kek.mjs';

const HOST = '127.0.0.1';

function fail(message) {
  console.error(`shop: ${message}`);
  process.exit(1);
}

/**
 * kek.key at the top of the secrets dir, or one level down: a bundle made with
 * `secret-files: config/secrets` (a directory) restores it as <dir>/secrets/kek.key.
 */
function findKeyFile(dir) {
  const direct = join(dir, KEY_FILE_NAME);
  if (statSync(direct, { throwIfNoEntry: false })?.isFile()) return direct;
  const nested = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const candidate = join(dir, entry.name, KEY_FILE_NAME);
    if (statSync(candidate, { throwIfNoEntry: false })?.isFile()) nested.push(candidate);
  }
  if (nested.length > 1) fail(`${dir} holds several ${KEY_FILE_NAME} files (${nested.join(', ')}); keep one`);
  return nested[0];
}

function loadKey() {
  const envName = process.env.DBDRILL_SECRETS_DIR ? 'DBDRILL_SECRETS_DIR' : 'APP_SECRETS_DIR';
  const dirValue = process.env.DBDRILL_SECRETS_DIR || process.env.APP_SECRETS_DIR;
  if (!dirValue) {
    fail(
      `no secret store: set DBDRILL_SECRETS_DIR (or APP_SECRETS_DIR) to the directory holding ${KEY_FILE_NAME}; ` +
        `a dbdrill drill sets it to the secret files restored from the bundle`,
    );
  }
  const dir = resolve(dirValue);
  if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) {
    fail(`${envName}=${dir} is not a directory; it must hold ${KEY_FILE_NAME}`);
  }
  const file = findKeyFile(dir);
  if (!file) {
    fail(
      `key file missing: ${join(dir, KEY_FILE_NAME)} does not exist; without its KEK the shop's encrypted data ` +
        `is unreadable. Restore the secret store from the same bundle as the database`,
    );
  }
  try {
    return parseKek(readFileSync(file));
  } catch (err) {
    return fail(`${file}: ${err.message}`);
  }
}

function parsePort() {
  const raw = process.env.PORT ?? '3000';
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port > 65535)
    fail(`PORT="${raw}" is not a port number (0-65535; 0 picks a free port)`);
  return port;
}

/** Where the app connects, without the password. */
function describeDatabase() {
  const url = process.env.DATABASE_URL;
  if (url) {
    try {
      const u = new URL(url);
      return `${u.hostname || u.searchParams.get('host') || 'localhost'}:${u.port || 5432}${u.pathname}`;
    } catch {
      return '(DATABASE_URL, not a URL)';
    }
  }
  const e = process.env;
  return `${e.PGHOST || 'localhost'}:${e.PGPORT || 5432}/${e.PGDATABASE || e.PGUSER || ''} (PG* variables)`;
}

const key = loadKey();
const keyFingerprint = kekFingerprint(key);
const port = parsePort();

const pool = new pg.Pool({
  ...(process.env.DATABASE_URL ? { connectionString: process.env.DATABASE_URL } : {}),
  max: 4,
  connectionTimeoutMillis: 3000,
  statement_timeout: 5000,
});
// A restarted or vanished server must turn into 503s, not a crashed process.
pool.on('error', (err) => console.error(`shop: idle database connection lost: ${err.message}`));

const SQL_UNDEFINED_TABLE = '42P01';

async function readiness() {
  let fpRows;
  try {
    fpRows = (await pool.query('SELECT fingerprint FROM public.kek_install ORDER BY id LIMIT 1')).rows;
  } catch (err) {
    if (err.code === SQL_UNDEFINED_TABLE) {
      return [
        503,
        { status: 'not-initialized', detail: 'table kek_install is missing: not a shop database' },
      ];
    }
    return [503, { status: 'db-unavailable', detail: err.message }];
  }
  if (fpRows.length === 0) {
    return [
      503,
      {
        status: 'kek-missing',
        detail: 'kek_install has no row: the database does not say which key it expects',
      },
    ];
  }
  const expected = String(fpRows[0].fingerprint);
  if (expected !== keyFingerprint) {
    return [
      503,
      {
        status: 'kek-mismatch',
        expected: fingerprintPrefix(expected),
        actual: fingerprintPrefix(keyFingerprint),
        detail: 'the database and the secret store do not belong together; restore both from the same bundle',
      },
    ];
  }
  let vault;
  try {
    vault = (
      await pool.query(
        'SELECT name, iv, tag, ciphertext, plaintext_sha256 FROM public.secrets_vault ORDER BY id LIMIT 1',
      )
    ).rows[0];
  } catch (err) {
    if (err.code === SQL_UNDEFINED_TABLE) {
      return [503, { status: 'not-initialized', detail: 'table secrets_vault is missing' }];
    }
    return [503, { status: 'db-unavailable', detail: err.message }];
  }
  if (!vault) return [503, { status: 'vault-empty', detail: 'secrets_vault has no row to decrypt' }];
  let plaintext;
  try {
    plaintext = decryptValue(key, vault.name, vault);
  } catch {
    return [
      503,
      {
        status: 'decrypt-failed',
        detail: `secrets_vault "${vault.name}" does not decrypt with this key (GCM tag check failed)`,
      },
    ];
  }
  if (sha256Hex(plaintext) !== vault.plaintext_sha256) {
    return [
      503,
      {
        status: 'decrypt-failed',
        detail: `secrets_vault "${vault.name}" decrypts to a value whose hash is not the stored one`,
      },
    ];
  }
  return [200, { status: 'ready', kek: fingerprintPrefix(keyFingerprint), decrypted: vault.name }];
}

async function health() {
  try {
    await pool.query('SELECT 1');
    return [200, { status: 'ok' }];
  } catch (err) {
    return [503, { status: 'db-unavailable', detail: err.message }];
  }
}

async function apiQuery(fn) {
  try {
    return await fn();
  } catch (err) {
    console.error(`shop: query failed: ${err.message}`);
    return [503, { error: 'database unavailable' }];
  }
}

async function route(method, path) {
  if (method !== 'GET' && method !== 'HEAD') return [405, { error: `${method} not allowed; use GET` }];
  if (path === '/healthz') return health();
  if (path === '/readyz') return readiness();
  if (path === '/api/orders/count') {
    return apiQuery(async () => {
      const { rows } = await pool.query('SELECT count(*)::int AS orders FROM public.orders');
      return [200, { orders: rows[0].orders }];
    });
  }
  const customer = /^\/api\/customers\/([^/]+)$/.exec(path);
  if (customer) {
    const id = customer[1];
    if (!/^[1-9]\d{0,8}$/.test(id)) return [400, { error: 'customer id must be a positive integer' }];
    return apiQuery(async () => {
      const { rows } = await pool.query('SELECT * FROM public.customers WHERE id = $1', [Number(id)]);
      return rows[0] ? [200, rows[0]] : [404, { error: `customer ${id} not found` }];
    });
  }
  return [404, { error: `no route ${path}` }];
}

/** Logs readiness only when it changes, so a drill's polling does not flood the captured output. */
let lastReadiness;

const server = http.createServer((req, res) => {
  const path = new URL(req.url ?? '/', `http://${HOST}`).pathname;
  route(req.method ?? 'GET', path)
    .then(([status, body]) => {
      if (path === '/readyz' && body.status !== lastReadiness) {
        lastReadiness = body.status;
        const note =
          body.status === 'kek-mismatch'
            ? `KEK fingerprint mismatch: the database expects ${body.expected}…, the secret store gives ${body.actual}…`
            : (body.detail ?? '');
        console.log(`shop: readiness ${body.status}${note ? `: ${note}` : ''}`);
      }
      const text = JSON.stringify(body) + '\n';
      res.writeHead(status, {
        'content-type': 'application/json; charset=utf-8',
        'cache-control': 'no-store',
      });
      res.end(req.method === 'HEAD' ? undefined : text);
    })
    .catch((err) => {
      console.error(`shop: ${req.method} ${path} failed: ${err.message}`);
      res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify({ error: 'internal error' }) + '\n');
    });
});

server.on('error', (err) => fail(`cannot listen on ${HOST}:${port}: ${err.message}`));
server.listen(port, HOST, () => {
  const address = server.address();
  console.log(`shop: database ${describeDatabase()}, kek ${fingerprintPrefix(keyFingerprint)}…`);
  console.log(`listening on http://${HOST}:${address.port}`);
});

let stopping = false;
function shutdown(signal) {
  if (stopping) return;
  stopping = true;
  console.log(`shop: ${signal}, shutting down`);
  // A hung pool must not keep a drill waiting forever; the forced exit is still a clean stop.
  setTimeout(() => process.exit(0), 5000).unref();
  server.close();
  server.closeAllConnections();
  pool
    .end()
    .catch((err) => console.error(`shop: closing the pool: ${err.message}`))
    .finally(() => process.exit(0));
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
