/**
 * Encryption wired into the use cases: turns the security options into the encrypt/decrypt hooks
 * that backup.ts and verify.ts already accept, refuses to write secret files in plain text, runs
 * the KEK pairing check, loads `.env` files for the drill's app, and registers every secret value
 * with the logger's redactor before anything can print it.
 *
 * Why the hooks are built inside the use cases rather than in the CLI and action adapters: both
 * adapters (and the tests, and the demo) then get the same behaviour from the same options, and
 * the secret values are registered in the one place that reads them.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { pipeline, type Readable } from 'node:stream';

import type { Manifest } from './bundle/manifest.js';
import { TransientChunks } from './bundle/stream-utils.js';
import {
  createDecryptStream,
  createEncryptStream,
  loadIdentities,
  validateEncryptionOptions,
} from './crypto/age.js';
import { ConfigError } from './errors.js';
import { assertKekPairing, kekCheckWanted, resolveKekMember, type KekCheckResult } from './kek.js';
import type { Logger } from './logger.js';
import type { ProcessRunner } from './process.js';
import type { SecretFile } from './secrets.js';
import type { BackupSecurityOptions, DecryptSecurityOptions } from './options/encryption-options.js';

/** Files up to this size are read so their values can be masked; bigger ones are not key material. */
export const MAX_MASKED_FILE_BYTES = 64 * 1024;

type Label = (input: string) => string;
const plainLabel: Label = (n) => n;

export interface BackupSecurity {
  encrypt?: (plain: Readable) => Readable;
  /**
   * The same encryption from chunks each valid only until the next is asked for (the packer reuses
   * its buffers), to chunks of one reused buffer (`PayloadEncryptor.sealTransient`). Absent for an
   * encrypt hook a caller supplied.
   */
  encryptChunks?: (chunks: AsyncIterable<Buffer>) => TransientChunks;
  encryption: Manifest['encryption'];
  kek?: KekCheckResult;
}

/**
 * Everything a backup must settle before it dumps: mask the secret files' values, decide on
 * encryption (refusing plain secret files unless allowed), and check the KEK pairing.
 * `external` is an encrypt hook a caller already supplied (kept, recorded as age).
 */
export async function prepareBackupSecurity(
  deps: { logger: Logger; runner: ProcessRunner; signal?: AbortSignal; label?: Label },
  options: BackupSecurityOptions & { databaseUrl: string },
  secrets: SecretFile[],
  external?: (plain: Readable) => Readable,
): Promise<BackupSecurity> {
  const label = deps.label ?? plainLabel;
  await registerSecretValues(
    deps.logger,
    secrets.map((s) => s.source),
  );
  if (options.passphrase) deps.logger.addSecret(options.passphrase);

  const out: BackupSecurity = { encryption: null };
  if (external) {
    out.encrypt = external;
    out.encryption = { kind: 'age', recipients: options.recipients.length, passphrase: !!options.passphrase };
  } else if (options.recipients.length || options.passphrase) {
    const validated = validateEncryptionOptions({
      recipients: options.recipients,
      passphrase: options.passphrase,
    });
    // Built now, not lazily: a passphrase costs a scrypt run, and bad options must fail before the dump.
    const transform = await createEncryptStream({
      recipients: validated.recipients,
      passphrase: validated.passphrase,
    });
    out.encrypt = (plain) => pipeline(plain, transform, () => undefined);
    out.encryptChunks = (chunks) => new TransientChunks(transform.sealTransient(chunks));
    out.encryption = {
      kind: 'age',
      recipients: validated.recipients.length,
      passphrase: !!validated.passphrase,
    };
    deps.logger.info(
      validated.passphrase
        ? 'Encrypting the bundle with age (passphrase)'
        : `Encrypting the bundle with age to ${validated.recipients.length} recipient(s)`,
    );
  } else if (secrets.length > 0) {
    const what = `${secrets.length} secret file(s) from ${label('secret-files')}`;
    if (!options.allowUnencryptedSecrets) {
      throw new ConfigError(
        `the bundle would hold ${what} unencrypted; set ${label('recipients')} (age1… public keys, recommended) or ${label('passphrase')}, or set ${label('allow-unencrypted-secrets')}: true to store them in plain text`,
      );
    }
    deps.logger.warning(
      `${label('allow-unencrypted-secrets')}: writing ${what} UNENCRYPTED; anyone who can read the store can read them. Set ${label('recipients')} to encrypt the bundle`,
    );
  }

  if (kekCheckWanted(options)) {
    const member = resolveKekMember(
      secrets.map((s) => s.member),
      options.kekFile,
      label('kek-file'),
    );
    const file = secrets.find((s) => s.member === `secrets/${member}`)!;
    out.kek = await assertKekPairing(
      { runner: deps.runner, signal: deps.signal, label },
      {
        ...options,
        databaseUrl: options.databaseUrl,
        urlInput: label('database-url'),
        kekPath: file.source,
        kekMember: member,
      },
    );
    deps.logger.info(`KEK check: ${out.kek.detail}`);
  }
  return out;
}

/**
 * The decrypt hook for verify and the drill, or undefined when no key was given. Loads key files
 * once (ConfigError on a bad one) and registers every key with the redactor. A new decrypt stream
 * per call: the drill may open several bundles looking for one that verifies.
 *
 * The ciphertext is piped, not pipelined, on purpose: when decryption fails (wrong key, damage),
 * the source must stay readable so verify can still hash the whole stored object.
 */
export async function decryptHook(
  logger: Logger,
  options: DecryptSecurityOptions,
  label: Label = plainLabel,
): Promise<((cipher: Readable) => Readable) | undefined> {
  if (options.passphrase) logger.addSecret(options.passphrase);
  let identities: string[] | undefined;
  if (options.identity) {
    if (/AGE-SECRET-KEY-/i.test(options.identity)) registerLines(logger, options.identity);
    identities = await loadIdentities(options.identity, label('identity'));
    for (const key of identities) logger.addSecret(key);
  }
  if (!identities && !options.passphrase) return undefined;
  const keys = { identities, passphrase: options.passphrase };
  createDecryptStream(keys).destroy(); // validates now, so a bad key is a ConfigError before any work
  return (cipher) => {
    const decrypt = createDecryptStream(keys);
    cipher.once('error', (err) => decrypt.destroy(err));
    return cipher.pipe(decrypt);
  };
}

// --- masking ---------------------------------------------------------------------------------

const NOT_SECRET = /^(?:true|false|yes|no|on|off|null|none|\d{1,5})$/i;

/**
 * Registers the values of small secret files with the redactor: each meaningful line, each
 * `.env` value, and for binary files the hex and base64 forms. Lines are registered one by one
 * because GitHub masks single lines; values that cannot be secrets (ports, booleans) are skipped so
 * they do not blank out ordinary log text.
 */
export async function registerSecretValues(logger: Logger, paths: string[]): Promise<void> {
  for (const path of paths) {
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile()) continue;
    if (info.size > MAX_MASKED_FILE_BYTES) {
      logger.debug(`${basename(path)}: ${info.size} bytes, too large to register its values for masking`);
      continue;
    }
    const bytes = await readFile(path);
    const text = bytes.toString('utf8');
    if (bytes.includes(0) || text.includes('\uFFFD')) {
      logger.addSecret(bytes.toString('hex'));
      logger.addSecret(bytes.toString('base64'));
      continue;
    }
    if (text.trim()) logger.addSecret(text.trim());
    registerLines(logger, text);
    if (isEnvFileName(path)) for (const [, value] of parseEnvFile(text).entries) maskValue(logger, value);
  }
}

function registerLines(logger: Logger, text: string): void {
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || /^-----(BEGIN|END) /.test(line)) continue;
    maskValue(logger, line);
  }
}

function maskValue(logger: Logger, value: string): void {
  const v = value.trim();
  if (v.length >= 4 && !NOT_SECRET.test(v)) logger.addSecret(v);
}

// --- .env files for the drill's app -------------------------------------------------------------

/** `.env`, `.env.production`, `app.env`: the names secrets-env loads. */
export function isEnvFileName(path: string): boolean {
  const name = basename(path);
  return name === '.env' || name.startsWith('.env.') || name.endsWith('.env');
}

export interface ParsedEnv {
  entries: [string, string][];
  /** 1-based line numbers that are not KEY=VALUE (their content is never shown). */
  badLines: number[];
}

/**
 * KEY=VALUE lines as dotenv writes them: `#` comments, blank lines, an optional `export ` prefix,
 * single quotes (literal), double quotes (with \n, \t, \", \\ escapes), and unquoted values
 * with an inline ` #` comment stripped. Multi-line values are not supported.
 */
export function parseEnvFile(text: string): ParsedEnv {
  const entries: [string, string][] = [];
  const badLines: number[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.*)$/.exec(line);
    if (!m) {
      badLines.push(i + 1);
      continue;
    }
    const value = unquote(m[2]);
    if (value === undefined) badLines.push(i + 1);
    else entries.push([m[1], value]);
  }
  return { entries, badLines };
}

function unquote(raw: string): string | undefined {
  if (raw.startsWith("'")) {
    const end = raw.indexOf("'", 1);
    if (end < 0 || !/^\s*(#.*)?$/.test(raw.slice(end + 1))) return undefined;
    return raw.slice(1, end);
  }
  if (raw.startsWith('"')) {
    let out = '';
    for (let i = 1; i < raw.length; i++) {
      const c = raw[i];
      if (c === '\\' && i + 1 < raw.length) {
        const n = raw[++i];
        out += n === 'n' ? '\n' : n === 't' ? '\t' : n === 'r' ? '\r' : n;
      } else if (c === '"') {
        return /^\s*(#.*)?$/.test(raw.slice(i + 1)) ? out : undefined;
      } else out += c;
    }
    return undefined;
  }
  const hash = raw.search(/\s#/);
  return (hash >= 0 ? raw.slice(0, hash) : raw).trim();
}

/** Never taken from a restored .env: they would point the app at production instead of the scratch target. */
const PROTECTED_ENV = /^(?:DATABASE_URL|PG[A-Z]*|DBDRILL_.*)$/;

export interface SecretsEnv {
  env: Record<string, string>;
  /** Names loaded, per file (names only; values are secret). */
  loaded: { file: string; names: string[] }[];
  /** Names present in a .env but kept from the scratch target instead. */
  protectedNames: string[];
  notes: string[];
}

/**
 * Loads the `.env`-style files of a restored secret store for the app's environment, registering
 * every value with the redactor first. Later files (in path order) win over earlier ones.
 */
export async function loadSecretsEnv(logger: Logger, secretsDir: string): Promise<SecretsEnv> {
  const out: SecretsEnv = { env: {}, loaded: [], protectedNames: [], notes: [] };
  const files = (await walkFiles(secretsDir)).filter(isEnvFileName).sort();
  if (files.length === 0) {
    out.notes.push(
      'secrets-env: the secret store holds no .env-style file (.env, .env.*, *.env); nothing loaded',
    );
    return out;
  }
  for (const file of files) {
    const rel = file.slice(secretsDir.length + 1);
    const info = await stat(file);
    if (info.size > MAX_MASKED_FILE_BYTES) {
      out.notes.push(`secrets-env: ${rel} is ${info.size} bytes, over ${MAX_MASKED_FILE_BYTES}; not loaded`);
      continue;
    }
    const parsed = parseEnvFile(await readFile(file, 'utf8'));
    for (const [, value] of parsed.entries) maskValue(logger, value);
    const names: string[] = [];
    for (const [name, value] of parsed.entries) {
      if (PROTECTED_ENV.test(name)) {
        if (!out.protectedNames.includes(name)) out.protectedNames.push(name);
        continue;
      }
      out.env[name] = value;
      names.push(name);
    }
    out.loaded.push({ file: rel, names });
    if (parsed.badLines.length) {
      out.notes.push(
        `secrets-env: ${rel} line(s) ${parsed.badLines.join(', ')} are not KEY=VALUE and were skipped (contents not shown)`,
      );
    }
  }
  const total = Object.keys(out.env).length;
  out.notes.push(
    `secrets-env: ${total} variable(s) from ${out.loaded.map((l) => `${l.file} (${l.names.join(', ') || 'none'})`).join('; ')} handed to the app, values masked`,
  );
  if (out.protectedNames.length) {
    out.notes.push(
      `secrets-env: ${out.protectedNames.join(', ')} kept pointing at the scratch target, not taken from the restored .env`,
    );
  }
  return out;
}

async function walkFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const out: string[] = [];
  for (const e of entries) {
    const full = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walkFiles(full)));
    else if (e.isFile()) out.push(full);
  }
  return out;
}

/** The secret files of a restored store, for masking: every file under the dir. */
export async function secretFilesUnder(dir: string): Promise<string[]> {
  return walkFiles(dir);
}
