/**
 * age X25519 keys: parsing and validating recipients (`age1…`) and identities
 * (`AGE-SECRET-KEY-1…`, alone or in an age key file), deriving a recipient from an identity, and
 * the X25519 operations on node:crypto KeyObjects that the header code uses.
 *
 * Error messages never echo a secret key (or anything that might be one): a mistyped identity is
 * described by its line number and what is wrong with it, not by its value.
 */
import { createPrivateKey, createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { ConfigError } from '../errors.js';
import { bech32Decode, bech32Encode } from './bech32.js';

// DER wrappers for a raw 32-byte X25519 key (RFC 8410), so OpenSSL does the curve arithmetic.
const PKCS8_X25519_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_X25519_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');

const RECIPIENT_FORM =
  'an age X25519 public key: "age1" followed by 58 bech32 characters, as printed by `age-keygen -y key.txt`';
const IDENTITY_FORM =
  'an age secret key (AGE-SECRET-KEY-1…, as written by `age-keygen -o key.txt`), the contents of such a key file, or the path of one';

/** A parsed identity: its X25519 private key and the matching recipient's raw public key. */
export interface X25519Identity {
  privateKey: KeyObject;
  publicKey: Buffer;
  /** The `age1…` recipient, for messages: public, safe to print. */
  recipient: string;
}

export function x25519PrivateKey(scalar: Uint8Array): KeyObject {
  return createPrivateKey({
    key: Buffer.concat([PKCS8_X25519_PREFIX, scalar]),
    format: 'der',
    type: 'pkcs8',
  });
}

export function x25519PublicKey(raw: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.concat([SPKI_X25519_PREFIX, raw]), format: 'der', type: 'spki' });
}

export function rawPublicKey(key: KeyObject): Buffer {
  const spki = (key.type === 'public' ? key : createPublicKey(key)).export({ format: 'der', type: 'spki' });
  return Buffer.from(spki.subarray(SPKI_X25519_PREFIX.length));
}

/** Decodes a recipient to its 32 raw public-key bytes, or explains (without throwing) what is wrong. */
export function decodeRecipient(value: string): { ok: true; bytes: Buffer } | { ok: false; reason: string } {
  if (value.startsWith('ssh-')) {
    return { ok: false, reason: 'is an SSH public key; dbdrill supports only native age X25519 recipients' };
  }
  if (/^age1(pq|tag|tagpq)1/.test(value)) {
    return {
      ok: false,
      reason: 'is a post-quantum or tag recipient; dbdrill supports only age X25519 recipients',
    };
  }
  if (!value.startsWith('age1')) {
    return {
      ok: false,
      reason: value.toUpperCase().startsWith('AGE-SECRET-KEY-')
        ? 'is a SECRET key, not a public one: pass it as identity to decrypt, and give the backup its public key (age-keygen -y)'
        : 'does not start with "age1"',
    };
  }
  const decoded = bech32Decode(value);
  if (!decoded.ok) return { ok: false, reason: decoded.reason };
  if (decoded.hrp !== 'age') return { ok: false, reason: `has the prefix "${decoded.hrp}", not "age"` };
  if (decoded.bytes.length !== 32) {
    return { ok: false, reason: `encodes ${decoded.bytes.length} bytes, not a 32-byte X25519 key` };
  }
  return { ok: true, bytes: decoded.bytes };
}

/**
 * Validates one `age1…` recipient and returns it trimmed. The input's name and the bad value go
 * into the error: a recipient is a public key, so echoing it is safe and saves a round trip.
 */
export function parseRecipient(value: string, input = 'recipients'): string {
  const trimmed = value.trim();
  const result = decodeRecipient(trimmed);
  if (!result.ok) {
    const shown = trimmed.toUpperCase().startsWith('AGE-SECRET-KEY-')
      ? '(a secret key, not shown)'
      : JSON.stringify(trimmed);
    throw new ConfigError(`${input}: ${shown} ${result.reason}; expected ${RECIPIENT_FORM}`);
  }
  return trimmed;
}

function decodeIdentity(line: string): { ok: true; scalar: Buffer } | { ok: false; reason: string } {
  if (line.startsWith('AGE-SECRET-KEY-PQ-1')) {
    return {
      ok: false,
      reason: 'is a post-quantum identity; dbdrill supports only X25519 identities (AGE-SECRET-KEY-1…)',
    };
  }
  if (line.startsWith('AGE-PLUGIN-')) {
    return {
      ok: false,
      reason: 'is an age plugin identity; dbdrill supports only X25519 identities (AGE-SECRET-KEY-1…)',
    };
  }
  if (!line.startsWith('AGE-SECRET-KEY-1')) return { ok: false, reason: 'is not an AGE-SECRET-KEY-1… line' };
  const decoded = bech32Decode(line);
  if (!decoded.ok) return { ok: false, reason: `is a malformed secret key: it ${decoded.reason}` };
  if (decoded.hrp !== 'age-secret-key-' || decoded.bytes.length !== 32) {
    return { ok: false, reason: 'is a malformed secret key: it does not encode 32 bytes' };
  }
  return { ok: true, scalar: decoded.bytes };
}

/** Parses a key file's text: `#` comments and blank lines are skipped, every other line must be a key. */
function parseIdentityText(text: string, where: string, input: string): string[] {
  const keys: string[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '' || line.startsWith('#')) continue;
    const result = decodeIdentity(line);
    if (!result.ok)
      throw new ConfigError(
        `${input}: line ${i + 1} of ${where} ${result.reason}; expected ${IDENTITY_FORM}`,
      );
    keys.push(line);
  }
  if (keys.length === 0) {
    throw new ConfigError(`${input}: ${where} holds no AGE-SECRET-KEY-1… line; expected ${IDENTITY_FORM}`);
  }
  return keys;
}

const MAX_KEY_FILE_BYTES = 1024 * 1024;

/**
 * Resolves the `identity` option to secret key strings. The value is a key, the text of a key file
 * (how a CI secret usually holds it, comments and all), or a path to a key file. Throws
 * ConfigError if it is none of these; the value itself is only echoed when it looks like a path,
 * since a mistyped key must not end up in a log.
 */
export async function loadIdentities(value: string, input = 'identity'): Promise<string[]> {
  const trimmed = value.trim();
  if (trimmed === '') throw new ConfigError(`${input} is empty; expected ${IDENTITY_FORM}`);
  if (/AGE-(SECRET-KEY|PLUGIN)-/i.test(trimmed) || trimmed.includes('\n')) {
    return parseIdentityText(trimmed, `the ${input} value`, input);
  }
  const looksLikePath = /[/\\.~]/.test(trimmed);
  const shown = looksLikePath ? JSON.stringify(trimmed) : '(value not shown: it might be a mistyped key)';
  let text: string;
  try {
    const info = await stat(trimmed);
    if (!info.isFile())
      throw new ConfigError(`${input}: ${shown} is not a regular file; expected ${IDENTITY_FORM}`);
    if (info.size > MAX_KEY_FILE_BYTES) {
      throw new ConfigError(
        `${input}: ${shown} is ${info.size} bytes, too big for an age key file; expected ${IDENTITY_FORM}`,
      );
    }
    text = await readFile(trimmed, 'utf8');
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'is neither an age secret key nor an existing file'
        : `cannot be read (${code ?? 'error'})`;
    throw new ConfigError(`${input}: ${shown} ${why}; expected ${IDENTITY_FORM}`);
  }
  return parseIdentityText(text, looksLikePath ? `key file ${trimmed}` : 'the key file', input);
}

/** Turns validated identity strings into key objects; ConfigError (without the value) if one is malformed. */
export function toX25519Identity(identity: string, input = 'identity'): X25519Identity {
  const result = decodeIdentity(identity.trim());
  if (!result.ok) throw new ConfigError(`${input}: the key ${result.reason}; expected ${IDENTITY_FORM}`);
  const privateKey = x25519PrivateKey(result.scalar);
  const publicKey = rawPublicKey(privateKey);
  return { privateKey, publicKey, recipient: bech32Encode('age', publicKey) };
}

/** The public `age1…` recipient of a secret key (what `age-keygen -y` prints). */
export function recipientOf(identity: string): string {
  return toX25519Identity(identity).recipient;
}

/** A fresh X25519 identity, in the same format as `age-keygen`. */
export function generateIdentity(): string {
  return bech32Encode('AGE-SECRET-KEY-', randomBytes(32)).toUpperCase();
}
