/**
 * The KEK pairing check: a database whose rows are encrypted with a key-encryption key is only
 * useful beside that key. Apps record which key they were set up with (a fingerprint in a lock
 * row such as `kek_install`); this module reads that record (SQL or a command) and compares it
 * with the fingerprint of the KEK file in the secret store, at backup (the source and the files
 * about to be bundled) and in the drill (the restored database and the restored files).
 *
 * How the secret store's fingerprint is computed (documented, and what the sample app does):
 * `sha256:` + lowercase hex sha256 of the key bytes of the KEK file, where a file holding exactly
 * one hex (64 characters) or base64 (43-44 characters) token of 32 bytes is decoded first, and any
 * other file is hashed byte for byte. The database's value is compared case-insensitively, with
 * or without the `sha256:` prefix; a bare file hash is accepted too, so an app that fingerprints
 * the file as stored also pairs. Only fingerprints are ever printed, never key bytes.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';

import { connectPg, libpqEnv, parsePgUrl } from './engines/postgres/connection.js';
import { CheckFailed, ConfigError, messageOf } from './errors.js';
import type { ProcessRunner } from './process.js';
import type { KekOptions } from './options/encryption-options.js';

const DEFAULT_KEK_NAME = 'kek.key';
/** A KEK is a few dozen bytes; a bigger file named as one is a mistake, not something to slurp. */
const MAX_KEK_FILE_BYTES = 1 << 20;

export function kekMismatchMessage(expected: string, actual: string): string {
  return `KEK fingerprint mismatch: the database expects ${expected}, the secret store gives ${actual}; restore both from the same bundle`;
}

export function kekCheckWanted(options: KekOptions): boolean {
  return !!(options.kekFingerprintQuery || options.kekFingerprintCommand);
}

/**
 * Picks the KEK among the secret files, by their names under `secrets/`: `kek-file` when given
 * (a full name like `config/kek.key`, or a base name that is unique), else the only file, else
 * the one file named kek.key.
 */
export function resolveKekMember(names: string[], kekFile: string | undefined, input: string): string {
  const rel = names.map((n) => n.replace(/^secrets\//, ''));
  const list = rel.length ? rel.join(', ') : 'none';
  if (kekFile) {
    if (rel.includes(kekFile)) return kekFile;
    const byBase = rel.filter((n) => basename(n) === kekFile);
    if (byBase.length === 1) return byBase[0];
    throw new ConfigError(
      byBase.length > 1
        ? `${input} "${kekFile}" matches several secret files (${byBase.join(', ')}); give the full name`
        : `${input} "${kekFile}" is not among the secret files (${list}); name the KEK file as it appears in the bundle's secrets/`,
    );
  }
  if (rel.length === 1) return rel[0];
  const named = rel.filter((n) => basename(n) === DEFAULT_KEK_NAME);
  if (named.length === 1) return named[0];
  throw new ConfigError(
    rel.length === 0
      ? 'the KEK check needs the KEK file in the secret store, but there are no secret files; add it to secret-files'
      : `which secret file is the KEK? the secret files are ${list}; set ${input} to one of them`,
  );
}

/** The fingerprints a KEK file may be known by; the first is the one reported. */
export async function kekFingerprints(path: string): Promise<string[]> {
  const info = await stat(path);
  if (info.size > MAX_KEK_FILE_BYTES) {
    throw new ConfigError(
      `the KEK file ${basename(path)} is ${info.size} bytes; a key file is expected to be small`,
    );
  }
  const bytes = await readFile(path);
  const out: string[] = [];
  const decoded = decodeKeyText(bytes);
  if (decoded) out.push(fingerprintOf(decoded));
  out.push(fingerprintOf(bytes));
  decoded?.fill(0);
  bytes.fill(0);
  return out;
}

function decodeKeyText(bytes: Buffer): Buffer | undefined {
  const text = bytes.toString('latin1').trim();
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, 'hex');
  if (/^[A-Za-z0-9+/_-]{42,43}={0,2}$/.test(text)) {
    const raw = Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (raw.length === 32) return raw;
  }
  return undefined;
}

function fingerprintOf(bytes: Buffer): string {
  return 'sha256:' + createHash('sha256').update(bytes).digest('hex');
}

/** Lowercase, trimmed, with the `sha256:` prefix added to a bare 64-hex value. */
export function normalizeFingerprint(value: string): string {
  const t = value.trim().toLowerCase();
  return /^[0-9a-f]{64}$/.test(t) ? 'sha256:' + t : t;
}

export interface KekCheckDeps {
  runner: ProcessRunner;
  signal?: AbortSignal;
  label?: (input: string) => string;
}

export interface KekCheckInput extends KekOptions {
  /** The database to ask: the backup's source, or the drill's restored target. */
  databaseUrl: string;
  urlInput: string;
  /** The KEK file on this machine. */
  kekPath: string;
  /** Its name under secrets/, for messages. */
  kekMember: string;
  /** DBDRILL_SECRETS_DIR for the command; default: the KEK file's directory. */
  secretsDir?: string;
  /** Extra environment for the command (the drill's secrets-env values). */
  env?: NodeJS.ProcessEnv;
}

export interface KekCheckResult {
  ok: boolean;
  expected: string;
  actual: string;
  source: 'query' | 'command';
  detail: string;
}

/** Reads what the database expects and compares; a mismatch is a result, not an exception. */
export async function checkKekPairing(deps: KekCheckDeps, input: KekCheckInput): Promise<KekCheckResult> {
  const label = deps.label ?? ((n: string) => n);
  const actuals = await kekFingerprints(input.kekPath);
  const source = input.kekFingerprintQuery ? 'query' : 'command';
  const expectedRaw = input.kekFingerprintQuery
    ? await fingerprintFromQuery(
        input.databaseUrl,
        input.urlInput,
        input.kekFingerprintQuery,
        label('kek-fingerprint-query'),
      )
    : await fingerprintFromCommand(deps, input, label('kek-fingerprint-command'));
  const expected = normalizeFingerprint(expectedRaw);
  const ok = actuals.some((a) => a === expected);
  const actual = ok ? expected : actuals[0];
  return {
    ok,
    expected,
    actual,
    source,
    detail: ok
      ? `the database (${source === 'query' ? 'kek-fingerprint-query' : 'kek-fingerprint-command'}) and the secret store's ${input.kekMember} agree on ${short(expected)}`
      : kekMismatchMessage(expected, actual),
  };
}

/** checkKekPairing for backup: a mismatch stops the backup before anything is written. */
export async function assertKekPairing(deps: KekCheckDeps, input: KekCheckInput): Promise<KekCheckResult> {
  const r = await checkKekPairing(deps, input);
  if (!r.ok) throw new CheckFailed(r.detail);
  return r;
}

function short(fp: string): string {
  return fp.length > 23 ? fp.slice(0, 23) + '…' : fp;
}

/** One text value from the first row's first column; the fingerprint is not secret, so it may be shown. */
async function fingerprintFromQuery(
  url: string,
  urlInput: string,
  sql: string,
  input: string,
): Promise<string> {
  if (!/^postgres(?:ql)?:\/\//i.test(url)) {
    throw new ConfigError(
      `${input} is SQL for a PostgreSQL database, but ${urlInput} is not a postgres:// URL; for MongoDB use kek-fingerprint-command (e.g. mongosh "$DATABASE_URL" --quiet --eval '…')`,
    );
  }
  const client = await connectPg(url, urlInput, { applicationName: 'dbdrill kek check' });
  try {
    let rows: Record<string, unknown>[];
    try {
      rows = (await client.query<Record<string, unknown>>(sql)).rows;
    } catch (err) {
      throw new CheckFailed(
        `${input} failed: ${messageOf(err)}; it must return one text value, the fingerprint the app recorded`,
      );
    }
    if (rows.length === 0) {
      throw new CheckFailed(
        `${input} returned no row: the database records no KEK fingerprint (is this the app's database, and was the app set up?)`,
      );
    }
    if (rows.length > 1) {
      throw new CheckFailed(`${input} returned ${rows.length} rows; it must return exactly one fingerprint`);
    }
    const value = Object.values(rows[0])[0];
    if (value === null || value === undefined || String(value).trim() === '') {
      throw new CheckFailed(
        `${input} returned an empty value; it must return the fingerprint the app recorded`,
      );
    }
    return Buffer.isBuffer(value) ? value.toString('hex') : String(value);
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function fingerprintFromCommand(
  deps: KekCheckDeps,
  input: KekCheckInput,
  label: string,
): Promise<string> {
  const command = input.kekFingerprintCommand!;
  let pgEnv: NodeJS.ProcessEnv = {};
  try {
    pgEnv = libpqEnv(parsePgUrl(input.databaseUrl, input.urlInput), {});
  } catch {
    /* not a PostgreSQL URL: DATABASE_URL alone */
  }
  const r = await deps.runner.run('/bin/sh', ['-c', command], {
    env: {
      ...process.env,
      ...input.env,
      ...pgEnv,
      DATABASE_URL: input.databaseUrl,
      DBDRILL_SECRETS_DIR: input.secretsDir ?? dirname(input.kekPath),
      DBDRILL_KEK_FILE: input.kekPath,
    },
    signal: deps.signal,
    maxStderrBytes: 8192,
  });
  if (r.code !== 0) {
    const tail = r.stderr.trim().split('\n').slice(-3).join(' | ');
    throw new CheckFailed(`${label} failed (exit ${r.code ?? r.signal}): ${tail || 'no output on stderr'}`);
  }
  const line = r.stdout
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean)
    .pop();
  if (!line)
    throw new CheckFailed(`${label} printed nothing; it must print the fingerprint the database expects`);
  return line;
}
