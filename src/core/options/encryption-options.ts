/**
 * Encryption, the KEK pairing check and the secrets handed to the drill's app. Parsing checks
 * shapes only (a malformed recipient fails here, naming `recipients`); reading key files and
 * deciding whether a bundle may be written unencrypted happen in encryption.ts, where the secret
 * set is known.
 */
import { parseRecipient } from '../crypto/age-keys.js';
import { ConfigError } from '../errors.js';
import type { OptionSource, OptionSpec } from './spec.js';

export const ENCRYPTION_OPTION_SPECS: OptionSpec[] = [
  {
    name: 'recipients',
    kind: 'list',
    commands: ['backup'],
    description:
      'Encrypt the bundle with age to these X25519 public keys (age1…, one a line; recommended: the backup runner then holds no key that decrypts).',
  },
  {
    name: 'passphrase',
    kind: 'string',
    commands: ['backup', 'verify', 'drill'],
    secret: true,
    description:
      'age passphrase (scrypt): encrypts the bundle on backup (instead of recipients), decrypts it on verify and drill. Surrounding whitespace is ignored.',
  },
  {
    name: 'allow-unencrypted-secrets',
    kind: 'boolean',
    commands: ['backup'],
    default: 'false',
    description:
      'Allow writing a bundle that holds secret-files without recipients or passphrase (a warning is logged). Without it that is an error.',
  },
  {
    name: 'identity',
    kind: 'string',
    commands: ['verify', 'drill'],
    secret: true,
    description:
      'age identity that decrypts the bundle: an AGE-SECRET-KEY-1… key, the text of a key file, or the path of a key file.',
  },
  {
    name: 'kek-fingerprint-query',
    kind: 'string',
    commands: ['backup', 'drill'],
    description:
      'SQL returning one text value: the KEK fingerprint the app keeps in its database (e.g. SELECT fingerprint FROM kek_install). Backup runs it on the source, the drill on the restored database; a mismatch with the secret store fails.',
  },
  {
    name: 'kek-fingerprint-command',
    kind: 'string',
    commands: ['backup', 'drill'],
    description:
      'Shell command printing the KEK fingerprint the database expects (instead of kek-fingerprint-query); runs with DATABASE_URL, DBDRILL_SECRETS_DIR and DBDRILL_KEK_FILE set.',
  },
  {
    name: 'kek-file',
    kind: 'string',
    commands: ['backup', 'drill'],
    description:
      'Which secret file is the KEK, by its name in the bundle\'s secrets/ (e.g. kek.key); its fingerprint is "sha256:" + hex sha256 of the key bytes (hex/base64 text decoded first). Default: the only secret file, or the one named kek.key.',
  },
  {
    name: 'secrets-env',
    kind: 'boolean',
    commands: ['drill'],
    default: 'false',
    description:
      'Load .env-style secret files (.env, .env.*, *.env: KEY=VALUE lines) into the environment of app-command and migrate-command; values are masked.',
  },
];

export interface KekOptions {
  kekFingerprintQuery?: string;
  kekFingerprintCommand?: string;
  kekFile?: string;
}

export interface BackupSecurityOptions extends KekOptions {
  recipients: string[];
  passphrase?: string;
  allowUnencryptedSecrets: boolean;
}

export interface DecryptSecurityOptions {
  /** The raw identity value (a key, key-file text or a path); resolved later by loadIdentities. */
  identity?: string;
  passphrase?: string;
}

export interface DrillSecurityOptions extends DecryptSecurityOptions, KekOptions {
  secretsEnv: boolean;
}

function parseKek(o: OptionSource): KekOptions {
  const kekFingerprintQuery = o.string('kek-fingerprint-query');
  const kekFingerprintCommand = o.string('kek-fingerprint-command');
  if (kekFingerprintQuery && kekFingerprintCommand) {
    throw new ConfigError(
      `${o.name('kek-fingerprint-query')} and ${o.name('kek-fingerprint-command')} both given; use one way to read the fingerprint the database expects`,
    );
  }
  const kekFile = o.string('kek-file')?.replace(/^secrets\//, '');
  if (kekFile !== undefined && (kekFile.startsWith('/') || kekFile.split('/').includes('..'))) {
    throw new ConfigError(
      `${o.name('kek-file')} "${kekFile}" must name a file inside the bundle's secrets/, e.g. kek.key or config/kek.key`,
    );
  }
  return { kekFingerprintQuery, kekFingerprintCommand, kekFile };
}

export function parseBackupSecurity(o: OptionSource): BackupSecurityOptions {
  const recipients = o.list('recipients').map((r) => parseRecipient(r, o.name('recipients')));
  const passphrase = o.string('passphrase');
  if (passphrase !== undefined && recipients.length > 0) {
    throw new ConfigError(
      `${o.name('recipients')} and ${o.name('passphrase')} are both set, but age allows a passphrase only alone; drop ${o.name('passphrase')} and keep ${o.name('recipients')}, which keep every decryption key off the backup runner`,
    );
  }
  return {
    recipients: [...new Set(recipients)],
    passphrase,
    allowUnencryptedSecrets: o.boolean('allow-unencrypted-secrets'),
    ...parseKek(o),
  };
}

export function parseDecryptSecurity(o: OptionSource): DecryptSecurityOptions {
  return { identity: o.string('identity'), passphrase: o.string('passphrase') };
}

export function parseDrillSecurity(o: OptionSource): DrillSecurityOptions {
  return { ...parseDecryptSecurity(o), ...parseKek(o), secretsEnv: o.boolean('secrets-env') };
}
