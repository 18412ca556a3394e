/**
 * Encryption end to end on real parts: a real source cluster, real pg_dump, bundles encrypted by
 * dbdrill and opened by the real `age` CLI, verify and the drill decrypting them, the KEK pairing
 * check against real databases, and the tiny app receiving secrets-env variables.
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile, stat, truncate, writeFile, open } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

import { backup, type BackupResult } from '../src/core/backup.js';
import { generateIdentity, recipientOf } from '../src/core/crypto/age.js';
import { drill, type DrillResult } from '../src/core/drill.js';
import { isEnvFileName, parseEnvFile } from '../src/core/encryption.js';
import { CheckFailed, ConfigError } from '../src/core/errors.js';
import { kekMismatchMessage, normalizeFingerprint, resolveKekMember } from '../src/core/kek.js';
import { MemoryLogger } from './helpers/memory-logger.js';
import {
  OptionReader,
  parseBackupOptions,
  parseDrillOptions,
  parseVerifyOptions,
  type RawOptions,
} from '../src/core/options/index.js';
import { verify, type VerifyResult } from '../src/core/verify.js';
import { withSourceCluster } from './helpers/pg-cluster.js';
import { testDeps } from './helpers/deps.js';
import { freePort } from '../src/core/provision/free-port.js';

const sh = promisify(execFile);
const APP = resolve('test/apps/tiny-app.mjs');
const PSQL = '/usr/lib/postgresql/15/bin/psql';

// Two different 32-byte KEKs as hex, and their fingerprints as the sample app computes them.
const KEK_A = 'a1'.repeat(32);
const KEK_B = 'b2'.repeat(32);
const FP_A = 'sha256:' + sha256Hex(Buffer.from(KEK_A, 'hex'));
const FP_B = 'sha256:' + sha256Hex(Buffer.from(KEK_B, 'hex'));
const ENV_SECRET = 'env-secret-value-7f3a9c';

function sha256Hex(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

let secretsA: string;
let secretsB: string;
let identity: string;
let keyFile: string;
let encrypted: BackupResult;

function backupOpts(extra: RawOptions = {}, secrets = secretsA) {
  return parseBackupOptions(
    new OptionReader({
      'database-url': env.cluster.url,
      store: env.storeDir,
      name: 'shop',
      'secret-files': [join(secrets, 'kek.key'), join(secrets, 'app.env')],
      ...extra,
    }),
  );
}

async function verifyBundle(
  bundle: string,
  extra: RawOptions = {},
): Promise<{ result: VerifyResult; logger: MemoryLogger }> {
  const deps = testDeps();
  try {
    return {
      result: await verify(deps, parseVerifyOptions(new OptionReader({ bundle, ...extra }))),
      logger: deps.logger,
    };
  } catch (err) {
    if (err instanceof CheckFailed && err.result)
      return { result: err.result as VerifyResult, logger: deps.logger };
    throw err;
  }
}

const layer = (r: VerifyResult, name: string) => r.layers.find((l) => l.name === name);

async function runDrill(
  raw: RawOptions,
): Promise<{ result?: DrillResult; error?: unknown; logger: MemoryLogger }> {
  const deps = testDeps();
  const reportDir = join(env.work.dir, 'reports', String(Math.random()).slice(2));
  try {
    return {
      result: await drill(
        deps,
        parseDrillOptions(new OptionReader({ 'report-dir': reportDir, provision: 'local', ...raw })),
      ),
      logger: deps.logger,
    };
  } catch (err) {
    if (err instanceof CheckFailed && err.result)
      return { result: err.result as DrillResult, error: err, logger: deps.logger };
    return { error: err, logger: deps.logger };
  }
}

const env = withSourceCluster({
  setup: (cluster) =>
    cluster.sql(`
      CREATE TABLE public.orders (id serial PRIMARY KEY, total numeric NOT NULL);
      INSERT INTO public.orders (total) SELECT g FROM generate_series(1, 250) g;
      CREATE TABLE public.kek_install (fingerprint text NOT NULL);
      INSERT INTO public.kek_install VALUES ('${FP_A}');
    `),
});

beforeAll(async () => {
  secretsA = join(env.work.dir, 'secrets-a');
  secretsB = join(env.work.dir, 'secrets-b');
  for (const [dir, kek] of [
    [secretsA, KEK_A],
    [secretsB, KEK_B],
  ]) {
    await mkdir(dir, { mode: 0o700 });
    await writeFile(join(dir, 'kek.key'), kek + '\n', { mode: 0o600 });
    await writeFile(
      join(dir, 'app.env'),
      `# app config\nexport APP_SECRET="${ENV_SECRET}"\nPORT=3000\nDATABASE_URL=postgres://prod@prod-db:5432/shop\n`,
      {
        mode: 0o600,
      },
    );
  }
  identity = generateIdentity();
  keyFile = join(env.work.dir, 'key.txt');
  await writeFile(keyFile, `# created: test\n# public key: ${recipientOf(identity)}\n${identity}\n`, {
    mode: 0o600,
  });
  encrypted = await backup(
    testDeps(),
    backupOpts({
      recipients: [recipientOf(identity)],
      'kek-fingerprint-query': 'SELECT fingerprint FROM public.kek_install',
    }),
  );
}, 120_000);

describe('encrypted backup', () => {
  it('is an .age object with a sha256 sidecar, and the real age CLI opens it', async () => {
    expect(encrypted.encrypted).toBe(true);
    expect(encrypted.key).toMatch(/\.age$/);
    const head = (await readFile(join(env.storeDir, encrypted.key))).subarray(0, 22).toString('latin1');
    expect(head).toBe('age-encryption.org/v1\n');
    expect(await readFile(join(env.storeDir, encrypted.key + '.sha256'), 'utf8')).toContain(encrypted.sha256);
    const listed = await sh('/bin/sh', [
      '-c',
      `age -d -i "$1" "$2" | tar -t`,
      'sh',
      keyFile,
      join(env.storeDir, encrypted.key),
    ]);
    expect(listed.stdout.split('\n').filter(Boolean)).toEqual(
      expect.arrayContaining(['manifest.json', 'secrets/kek.key', 'secrets/app.env']),
    );
    const manifest = JSON.parse(
      (
        await sh('/bin/sh', [
          '-c',
          `age -d -i "$1" "$2" | tar -xO manifest.json`,
          'sh',
          keyFile,
          join(env.storeDir, encrypted.key),
        ])
      ).stdout,
    );
    expect(manifest.encryption).toEqual({ kind: 'age', recipients: 1, passphrase: false });
    expect(manifest.secrets.fingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('refuses secret files without encryption, and warns when that is explicitly allowed', async () => {
    await expect(backup(testDeps(), backupOpts())).rejects.toThrow(
      /would hold 2 secret file\(s\) from secret-files unencrypted; set recipients .* or passphrase, or set allow-unencrypted-secrets: true/,
    );
    const deps = testDeps();
    const plain = await backup(deps, backupOpts({ 'allow-unencrypted-secrets': 'true' }));
    expect(plain.encrypted).toBe(false);
    expect(
      deps.logger.lines.some((l) =>
        l.startsWith('warning: allow-unencrypted-secrets: writing 2 secret file(s)'),
      ),
    ).toBe(true);
  });

  it('rejects a malformed recipient naming recipients, and recipients together with a passphrase', () => {
    expect(() => backupOpts({ recipients: ['age1notakey'] })).toThrow(ConfigError);
    expect(() => backupOpts({ recipients: ['age1notakey'] })).toThrow(/^recipients: "age1notakey" /);
    expect(() => backupOpts({ recipients: [recipientOf(identity)], passphrase: 'pw-123456' })).toThrow(
      /both set/,
    );
  });

  it('fails the backup when the database and the secret store do not pair (query and command)', async () => {
    const run = (extra: RawOptions) =>
      backup(testDeps(), backupOpts({ recipients: [recipientOf(identity)], ...extra }, secretsB));
    await expect(
      run({ 'kek-fingerprint-query': 'SELECT fingerprint FROM public.kek_install' }),
    ).rejects.toThrow(new CheckFailed(kekMismatchMessage(FP_A, FP_B)));
    const command = `${PSQL} -XAtc 'SELECT fingerprint FROM public.kek_install' "$DATABASE_URL"`;
    const err = await run({ 'kek-fingerprint-command': command }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CheckFailed);
    expect((err as Error).message).toBe(
      `KEK fingerprint mismatch: the database expects ${FP_A}, the secret store gives ${FP_B}; restore both from the same bundle`,
    );
    // the same command with the right store passes
    const ok = await backup(
      testDeps(),
      backupOpts({ recipients: [recipientOf(identity)], 'kek-fingerprint-command': command }),
    );
    expect(ok.encrypted).toBe(true);
  });

  it('fails the KEK check when the query finds no fingerprint (could not check is not a pass)', async () => {
    await expect(
      backup(
        testDeps(),
        backupOpts({
          recipients: [recipientOf(identity)],
          'kek-fingerprint-query': 'SELECT fingerprint FROM public.kek_install WHERE false',
        }),
      ),
    ).rejects.toThrow(/kek-fingerprint-query returned no row/);
  });
});

describe('verify an encrypted bundle', () => {
  it('passes every layer with the identity (a key file path, or the key itself)', async () => {
    for (const id of [keyFile, identity]) {
      const { result, logger } = await verifyBundle(join(env.storeDir, encrypted.key), {
        identity: id,
        deep: 'true',
      });
      expect(result.problems).toEqual([]);
      expect(result.ok).toBe(true);
      expect(result.encrypted).toBe(true);
      expect(layer(result, 'stored object')?.detail).toMatch(/^intact/);
      expect(layer(result, 'decrypts')).toMatchObject({ ok: true });
      expect(layer(result, 'member checksums')?.ok).toBe(true);
      expect(logger.lines.join('\n')).not.toContain(identity);
    }
  });

  it('fails without a key, but says the stored object is intact', async () => {
    const { result } = await verifyBundle(join(env.storeDir, encrypted.key));
    expect(result.ok).toBe(false);
    expect(layer(result, 'stored object')).toMatchObject({ ok: true });
    expect(layer(result, 'stored object')?.detail).toMatch(/^intact/);
    expect(layer(result, 'decrypts')).toMatchObject({ ok: false });
    expect(layer(result, 'decrypts')?.detail).toMatch(/no identity or passphrase was given/);
  });

  it('fails with a wrong identity: "no identity matches this bundle"', async () => {
    const { result } = await verifyBundle(join(env.storeDir, encrypted.key), {
      identity: generateIdentity(),
    });
    expect(result.ok).toBe(false);
    expect(layer(result, 'decrypts')?.detail).toMatch(/no identity matches this bundle/);
    expect(layer(result, 'stored object')?.ok).toBe(true);
  });

  it('rejects a malformed identity before reading anything, without echoing it', async () => {
    const bad = 'AGE-SECRET-KEY-1NOTAREALKEY';
    const err = await verify(
      testDeps(),
      parseVerifyOptions(new OptionReader({ bundle: join(env.storeDir, encrypted.key), identity: bad })),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/^identity: /);
    expect((err as Error).message).not.toContain('NOTAREALKEY');
  });

  it('reports a truncated and a tampered bundle as damaged, and the stored object as changed', async () => {
    const damaged = join(env.work.dir, 'damaged');
    await mkdir(damaged);
    const size = (await stat(join(env.storeDir, encrypted.key))).size;
    const cut = join(damaged, 'cut-' + encrypted.key);
    await copyFile(join(env.storeDir, encrypted.key), cut);
    await copyFile(join(env.storeDir, encrypted.key + '.sha256'), cut + '.sha256');
    await truncate(cut, size - 1000);
    const t = await verifyBundle(cut, { identity: keyFile });
    expect(t.result.ok).toBe(false);
    expect(layer(t.result, 'decrypts')?.detail).toMatch(/truncated/);
    expect(layer(t.result, 'stored object')?.ok).toBe(false);

    const flipped = join(damaged, 'flip-' + encrypted.key);
    await copyFile(join(env.storeDir, encrypted.key), flipped);
    await copyFile(join(env.storeDir, encrypted.key + '.sha256'), flipped + '.sha256');
    const fh = await open(flipped, 'r+');
    const at = Math.floor(size / 2);
    const b = Buffer.alloc(1);
    await fh.read(b, 0, 1, at);
    b[0] ^= 0x40;
    await fh.write(b, 0, 1, at);
    await fh.close();
    const f = await verifyBundle(flipped, { identity: keyFile });
    expect(f.result.ok).toBe(false);
    expect(layer(f.result, 'decrypts')?.detail).toMatch(/tampered/);
    expect(layer(f.result, 'stored object')?.detail).toMatch(/does not match the recorded/);
  });

  it('with a passphrase: the right one passes, a wrong one says so', async () => {
    const pw = await backup(testDeps(), backupOpts({ passphrase: 'correct horse battery staple' }));
    expect(pw.encrypted).toBe(true);
    const good = await verifyBundle(join(env.storeDir, pw.key), {
      passphrase: 'correct horse battery staple',
    });
    expect(good.result.problems).toEqual([]);
    const wrong = await verifyBundle(join(env.storeDir, pw.key), { passphrase: 'wrong horse' });
    expect(wrong.result.ok).toBe(false);
    expect(layer(wrong.result, 'decrypts')?.detail).toBe('wrong passphrase');
    const withIdentity = await verifyBundle(join(env.storeDir, pw.key), { identity: keyFile });
    expect(layer(withIdentity.result, 'decrypts')?.detail).toMatch(
      /encrypted with a passphrase; pass passphrase/,
    );
  });

  it('accepts a key for a plain bundle, with a note', async () => {
    const plain = await backup(testDeps(), backupOpts({ 'allow-unencrypted-secrets': 'true' }));
    const { result, logger } = await verifyBundle(join(env.storeDir, plain.key), { identity: keyFile });
    expect(result.ok).toBe(true);
    expect(layer(result, 'decrypts')).toMatchObject({ ok: true, skipped: true });
    expect(
      logger.lines.some((l) => l.startsWith('[skip] decrypts: not needed: the bundle is not encrypted')),
    ).toBe(true);
  });
});

describe('drill an encrypted bundle', () => {
  it('decrypts with the identity, pairs the KEK on the restored database, and hands the app its .env', async () => {
    const port = await freePort();
    const { result, logger } = await runDrill({
      bundle: join(env.storeDir, encrypted.key),
      identity: keyFile,
      'secrets-env': 'true',
      'kek-fingerprint-query': 'SELECT fingerprint FROM public.kek_install',
      'app-command': `TINY_APP_PORT=${port} exec node ${APP}`,
      'health-urls': [
        `GET http://127.0.0.1:${port}/healthz 200 "status":"ok"`,
        `GET http://127.0.0.1:${port}/env/APP_SECRET 200 "set":true`,
      ],
      'health-timeout': '20s',
    });
    expect(result?.checks.failures).toEqual([]);
    expect(result?.status).toBe('passed');
    const kek = result!.report.checks.find((c) => c.group === 'kek');
    expect(kek).toMatchObject({ ok: true });
    expect(result!.report.checks.find((c) => c.name === 'decrypts')?.ok).toBe(true);
    expect(result!.phases.map((p) => p.name)).toContain('kek check');
    const notes = result!.report.notes.join('\n');
    expect(notes).toContain('secrets-env: 2 variable(s) from app.env (APP_SECRET, PORT)');
    expect(notes).toContain('DATABASE_URL kept pointing at the scratch target');
    expect(logger.lines.join('\n')).not.toContain(ENV_SECRET);
    expect(JSON.stringify(result!.report)).not.toContain(ENV_SECRET);
  }, 120_000);

  it('without secrets-env the app does not get the .env variables', async () => {
    const port = await freePort();
    const { result } = await runDrill({
      bundle: join(env.storeDir, encrypted.key),
      identity: identity,
      'app-command': `TINY_APP_PORT=${port} exec node ${APP}`,
      'health-urls': [`GET http://127.0.0.1:${port}/env/APP_SECRET 200 "set":false`],
      'health-timeout': '20s',
    });
    expect(result?.checks.failures).toEqual([]);
  }, 120_000);

  it('fails without the key, and fails in group kek when the restored database and secret store do not pair', async () => {
    const noKey = await runDrill({ bundle: join(env.storeDir, encrypted.key) });
    expect(noKey.result?.status).toBe('failed');
    expect(noKey.result?.report.checks.find((c) => c.name === 'decrypts')).toMatchObject({ ok: false });

    // A bundle whose database expects KEK A but whose secret store holds KEK B (no check at backup).
    const mismatched = await backup(
      testDeps(),
      backupOpts({ recipients: [recipientOf(identity)] }, secretsB),
    );
    const { result, error } = await runDrill({
      bundle: join(env.storeDir, mismatched.key),
      identity: keyFile,
      'kek-fingerprint-query': 'SELECT fingerprint FROM public.kek_install',
    });
    expect(result?.status).toBe('failed');
    const kek = result!.report.checks.find((c) => c.group === 'kek');
    expect(kek).toMatchObject({ ok: false, detail: kekMismatchMessage(FP_A, FP_B) });
    expect((error as Error).message).toContain(kekMismatchMessage(FP_A, FP_B));
  }, 180_000);
});

describe('helpers', () => {
  it('parses .env files like dotenv, reporting bad lines by number only', () => {
    const parsed = parseEnvFile(
      [
        '# comment',
        'export A=1',
        'B = "two words" # trailing',
        "C='lit\\n'",
        'D="esc\\n\\"q\\""',
        'E=plain value # comment',
        'not a pair',
        'F="unterminated',
        'G=',
      ].join('\n'),
    );
    expect(parsed.entries).toEqual([
      ['A', '1'],
      ['B', 'two words'],
      ['C', 'lit\\n'],
      ['D', 'esc\n"q"'],
      ['E', 'plain value'],
      ['G', ''],
    ]);
    expect(parsed.badLines).toEqual([7, 8]);
    expect(['.env', '.env.production', 'app.env', 'env.txt', 'kek.key'].map(isEnvFileName)).toEqual([
      true,
      true,
      true,
      false,
      false,
    ]);
  });

  it('picks the KEK file and normalizes fingerprints', () => {
    expect(resolveKekMember(['secrets/kek.key'], undefined, 'kek-file')).toBe('kek.key');
    expect(resolveKekMember(['secrets/app.env', 'secrets/cfg/kek.key'], undefined, 'kek-file')).toBe(
      'cfg/kek.key',
    );
    expect(resolveKekMember(['secrets/a.key', 'secrets/b.key'], 'b.key', 'kek-file')).toBe('b.key');
    expect(() => resolveKekMember(['secrets/a.key', 'secrets/b.key'], undefined, 'kek-file')).toThrow(
      /set kek-file to one of them/,
    );
    expect(() => resolveKekMember(['secrets/a.key'], 'c.key', 'kek-file')).toThrow(
      /"c.key" is not among the secret files \(a.key\)/,
    );
    expect(normalizeFingerprint(' ' + FP_A.slice(7).toUpperCase() + '\n')).toBe(FP_A);
  });
});
