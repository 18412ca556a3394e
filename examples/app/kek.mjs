/**
 * The sample app's key-encryption key (KEK): one 32-byte AES-256 key in a file named `kek.key`,
 * written as hex (64 characters) or base64 (44). The database records the sha256 fingerprint of the
 * key it was encrypted with, so a database restored beside the wrong secret store is detected
 * before any ciphertext is trusted. The key itself is never printed: only fingerprint prefixes are.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

export const KEY_FILE_NAME = 'kek.key';
const KEY_BYTES = 32;

/** A new random key, as the content of a `kek.key` file (hex and a newline). */
export function generateKek() {
  return randomBytes(KEY_BYTES).toString('hex') + '\n';
}

/**
 * The raw key bytes from a key file's content (string or Buffer), or from a Buffer that already
 * holds the 32 raw bytes. The error never quotes the content: it might be a real key with a typo.
 */
export function parseKek(content) {
  if (Buffer.isBuffer(content) && content.length === KEY_BYTES) return Buffer.from(content);
  const text = (Buffer.isBuffer(content) ? content.toString('utf8') : String(content ?? '')).trim();
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, 'hex');
  if (/^[A-Za-z0-9+/_-]{42,43}={0,2}$/.test(text)) {
    const bytes = Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (bytes.length === KEY_BYTES) return bytes;
  }
  throw new Error(
    `the key file must hold a ${KEY_BYTES}-byte key as 64 hex characters or 44 base64 characters ` +
      `(found ${text.length} characters that are neither); generate one with: ` +
      `node -e "console.log(require('crypto').randomBytes(32).toString('hex'))"`,
  );
}

/** `sha256:` + hex sha256 of the raw key bytes: what `kek_install.fingerprint` holds. */
export function kekFingerprint(keyFileContent) {
  return 'sha256:' + createHash('sha256').update(parseKek(keyFileContent)).digest('hex');
}

/** Enough of a fingerprint to tell two keys apart in a log or a health response; never the key. */
export function fingerprintPrefix(fingerprint) {
  return String(fingerprint).slice(0, 'sha256:'.length + 12);
}

export function sha256Hex(data) {
  return createHash('sha256').update(data).digest('hex');
}

/** AES-256-GCM with the row's name as associated data, so a ciphertext cannot be moved to another row. */
export function encryptValue(key, name, plaintext) {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', parseKek(key), iv);
  cipher.setAAD(Buffer.from(name, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return { iv, tag: cipher.getAuthTag(), ciphertext };
}

/** Throws when the key is wrong or the row was tampered with (the GCM tag does not verify). */
export function decryptValue(key, name, { iv, tag, ciphertext }) {
  const decipher = createDecipheriv('aes-256-gcm', parseKek(key), iv);
  decipher.setAAD(Buffer.from(name, 'utf8'));
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
}
