// A minimal app for drill tests: it needs the database and the restored secret store.
// TINY_APP_MODE: normal | exit (exits at once with a message) | never (never becomes healthy)
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import pg from 'pg';

const mode = process.env.TINY_APP_MODE ?? 'normal';
const port = Number(process.env.TINY_APP_PORT ?? 0);
if (mode === 'exit') {
  console.error('tiny-app: fatal: cannot read config, giving up');
  process.exit(3);
}
const secrets = process.env.DBDRILL_SECRETS_DIR;
const key = secrets ? readFileSync(join(secrets, 'kek.key'), 'utf8').trim() : '';
console.log(`tiny-app: key loaded (${key.length} chars)`);
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 2 });
const server = http.createServer(async (req, res) => {
  // /env/<NAME>: whether the drill handed the app that variable (secrets-env); never its value.
  const env = /^\/env\/([A-Za-z_][A-Za-z0-9_]*)$/.exec(req.url ?? '');
  if (env) {
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ name: env[1], set: process.env[env[1]] !== undefined }));
    return;
  }
  if (mode === 'never') {
    res.writeHead(503).end('starting');
    return;
  }
  try {
    const r = await pool.query('SELECT count(*)::int AS n FROM public.orders');
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ status: 'ok', orders: r.rows[0].n, keyLoaded: key.length > 0 }));
  } catch (err) {
    res.writeHead(503).end(String(err.message));
  }
});
server.listen(port, '127.0.0.1', () => console.log(`tiny-app: listening on ${server.address().port}`));
const stop = () => server.close(() => pool.end().then(() => process.exit(0)));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
