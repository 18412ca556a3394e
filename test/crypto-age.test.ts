/**
 * age encryption of bundles, against real peers: the `age` CLI (Debian package `age`, the Go
 * reference implementation) and the `age-encryption` npm package (typage, an independent
 * TypeScript implementation by age's author). The age CLI reads passphrases only from a terminal,
 * so passphrase interop with it runs under `expect`, which gives it a pty.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Decrypter, Encrypter } from 'age-encryption';
import { ConfigError } from '../src/core/errors.js';
import {
  createDecryptStream,
  createEncryptStream,
  DecryptionError,
  generateIdentity,
  isAgeEncrypted,
  loadIdentities,
  parseRecipient,
  recipientOf,
  type DecryptionOptions,
  type EncryptionOptions,
} from '../src/core/crypto/age.js';

const CHUNK = 64 * 1024;
const SEALED = CHUNK + 16;
/** Test passphrases use scrypt 2^14 where the work factor is not the point, to keep the suite quick. */
const FAST = 14;

let dir: string;
let keyFile: string;
let identity: string;
let recipient: string;

function run(
  command: string,
  args: string[],
  input?: Buffer,
  env?: Record<string, string>,
): { code: number | null; stdout: Buffer; stderr: string } {
  const result = spawnSync(command, args, {
    input,
    env: { ...process.env, ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr.toString() };
}

function collect(): { sink: Writable; result: () => Buffer } {
  const parts: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      parts.push(chunk);
      cb();
    },
  });
  return { sink, result: () => Buffer.concat(parts) };
}

/** Feeds the input in pieces of the given size, so header and chunk boundaries fall mid-write. */
function source(data: Buffer, piece = 16 * 1024): Readable {
  const pieces: Buffer[] = [];
  for (let i = 0; i < data.length; i += piece) pieces.push(data.subarray(i, i + piece));
  return Readable.from(pieces);
}

async function through(transform: Transform, data: Buffer, piece?: number): Promise<Buffer> {
  const { sink, result } = collect();
  await pipeline(source(data, piece), transform, sink);
  return result();
}

async function encrypt(data: Buffer, options: EncryptionOptions): Promise<Buffer> {
  return through(await createEncryptStream(options), data);
}

async function decrypt(data: Buffer, options: DecryptionOptions, piece?: number): Promise<Buffer> {
  return through(createDecryptStream(options), data, piece);
}

/** The ConfigError a promise rejects with (fails the test if it resolves). */
async function configError(promise: Promise<unknown>): Promise<ConfigError> {
  const error = await promise.then(
    () => new Error('unexpectedly succeeded'),
    (e: unknown) => e as Error,
  );
  expect(error).toBeInstanceOf(ConfigError);
  return error as ConfigError;
}

async function decryptError(data: Buffer, options: DecryptionOptions): Promise<DecryptionError> {
  try {
    await decrypt(data, options);
  } catch (error) {
    expect(error).toBeInstanceOf(DecryptionError);
    return error as DecryptionError;
  }
  throw new Error('decryption unexpectedly succeeded');
}

/** A deterministic pseudo-random stream of `size` bytes (not held in memory), and its digest. */
function randomStream(size: number): { stream: Readable; digest: () => string } {
  const hash = createHash('sha256');
  let left = size;
  let digest = '';
  const stream = new Readable({
    read() {
      if (left === 0) {
        digest = hash.digest('hex');
        this.push(null);
        return;
      }
      const piece = randomBytes(Math.min(left, 100_000));
      left -= piece.length;
      hash.update(piece);
      this.push(piece);
    },
  });
  return { stream, digest: () => digest };
}

function hashSink(): { sink: Writable; digest: () => string } {
  const hash = createHash('sha256');
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      cb();
    },
  });
  return { sink, digest: () => hash.digest('hex') };
}

/** Runs a command under `expect`, answering every passphrase prompt with $PW. */
function withPassphrase(command: string[], passphrase: string): { code: number | null; stderr: string } {
  const script = `
    set timeout 60
    spawn -noecho ${command.map((c) => `{${c}}`).join(' ')}
    expect {
      -re {[Pp]assphrase[^\\n]*:} { send -- "$env(PW)\\r"; exp_continue }
      eof
    }
    lassign [wait] pid spawnid os_error value
    exit $value
  `;
  const result = run('expect', ['-c', script], undefined, { PW: passphrase });
  return { code: result.code, stderr: result.stdout.toString() + result.stderr };
}

beforeAll(async () => {
  for (const tool of ['age', 'age-keygen', 'expect']) {
    if (run('which', [tool]).code !== 0)
      throw new Error(`${tool} is not installed: apt-get install -y age expect`);
  }
  dir = await mkdtemp(join(tmpdir(), 'dbdrill-age-'));
  await chmod(dir, 0o700);
  keyFile = join(dir, 'key.txt');
  const keygen = run('age-keygen', ['-o', keyFile]);
  expect(keygen.code).toBe(0);
  recipient = run('age-keygen', ['-y', keyFile]).stdout.toString().trim();
  identity = (await readFile(keyFile, 'utf8'))
    .split('\n')
    .find((l) => l.startsWith('AGE-SECRET-KEY-1')) as string;
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('interop with the age CLI (X25519 recipients)', () => {
  const sizes = [0, 1, 65535, 65536, 65537, 3 * 65536];

  it.each(sizes)('our encryption of %i bytes decrypts byte-identical with age -d', async (size) => {
    const plain = randomBytes(size);
    const cipher = await encrypt(plain, { recipients: [recipient] });
    expect(isAgeEncrypted(cipher)).toBe(true);
    const file = join(dir, `ours-${size}.age`);
    await writeFile(file, cipher);
    const out = run('age', ['-d', '-i', keyFile, file]);
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    expect(out.stdout.equals(plain)).toBe(true);
  });

  it.each(sizes)('age -e -r output of %i bytes decrypts byte-identical with ours', async (size) => {
    const plain = randomBytes(size);
    const cipher = run('age', ['-e', '-r', recipient], plain);
    expect(cipher.code).toBe(0);
    // Odd piece sizes put header, nonce and chunk boundaries in the middle of writes.
    for (const piece of [1 + (size % 7), 4093, 1 << 20]) {
      if (piece < 100 && size > 70000) continue; // 1-byte writes of 200 KiB only slow the suite down
      const out = await decrypt(cipher.stdout, { identities: [identity] }, piece);
      expect(out.equals(plain)).toBe(true);
    }
  });

  it('streams 20 MiB both ways without holding it in memory', async () => {
    const size = 20 * 1024 * 1024;
    const file = join(dir, 'big.age');
    const input = randomStream(size);
    await pipeline(
      input.stream,
      await createEncryptStream({ recipients: [recipient] }),
      createWriteStream(file),
    );
    const age = spawn('age', ['-d', '-i', keyFile, file], { stdio: ['ignore', 'pipe', 'inherit'] });
    const viaCli = hashSink();
    const exited = new Promise<number | null>((resolve) => age.on('close', resolve));
    await pipeline(age.stdout, viaCli.sink);
    expect(await exited).toBe(0);
    expect(viaCli.digest()).toBe(input.digest());

    const cliEncrypted = spawn('age', ['-e', '-r', recipient], { stdio: ['pipe', 'pipe', 'inherit'] });
    const second = randomStream(size);
    const fed = pipeline(second.stream, cliEncrypted.stdin);
    const ours = hashSink();
    await Promise.all([
      fed,
      pipeline(cliEncrypted.stdout, createDecryptStream({ identities: [identity] }), ours.sink),
    ]);
    expect(ours.digest()).toBe(second.digest());
  });

  it('encrypts to several recipients; each identity decrypts, and so does age -d', async () => {
    const others = [generateIdentity(), generateIdentity()];
    const plain = randomBytes(100_000);
    const cipher = await encrypt(plain, {
      recipients: [recipientOf(others[0]), recipient, recipientOf(others[1])],
    });
    expect(cipher.toString('latin1').match(/^-> X25519 /gm)).toHaveLength(3);
    for (const id of [...others, identity]) {
      expect((await decrypt(cipher, { identities: [id] })).equals(plain)).toBe(true);
    }
    // Several identities at once: the matching one is found whatever its position.
    expect((await decrypt(cipher, { identities: [generateIdentity(), others[1]] })).equals(plain)).toBe(true);
    const file = join(dir, 'multi.age');
    await writeFile(file, cipher);
    expect(run('age', ['-d', '-i', keyFile, file]).stdout.equals(plain)).toBe(true);
  });

  it('derives the same recipient as age-keygen -y, and age decrypts to our generated identities', async () => {
    expect(recipientOf(identity)).toBe(recipient);
    const fresh = generateIdentity();
    expect(fresh).toMatch(/^AGE-SECRET-KEY-1[0-9A-Z]{58}$/);
    const freshFile = join(dir, 'fresh.txt');
    await writeFile(freshFile, `# generated by dbdrill\n${fresh}\n`, { mode: 0o600 });
    expect(run('age-keygen', ['-y', freshFile]).stdout.toString().trim()).toBe(recipientOf(fresh));
    const cipher = await encrypt(Buffer.from('hello'), { recipients: [recipientOf(fresh)] });
    await writeFile(join(dir, 'fresh.age'), cipher);
    expect(run('age', ['-d', '-i', freshFile, join(dir, 'fresh.age')]).stdout.toString()).toBe('hello');
  });
});

describe('passphrase (scrypt)', () => {
  const passphrase = 'correct horse battery staple 7';

  it('round-trips through ours at the default work factor (2^18)', async () => {
    const plain = randomBytes(70_000);
    const cipher = await encrypt(plain, { passphrase });
    expect(cipher.toString('latin1')).toMatch(/^age-encryption\.org\/v1\n-> scrypt [A-Za-z0-9+/]{22} 18\n/);
    expect((await decrypt(cipher, { passphrase })).equals(plain)).toBe(true);
    // An identity alongside the passphrase does no harm.
    expect((await decrypt(cipher, { passphrase, identities: [identity] })).equals(plain)).toBe(true);
  });

  it('ours decrypts with the age CLI (under expect, which gives it the terminal it insists on)', async () => {
    const plain = randomBytes(200_000);
    const file = join(dir, 'pass-ours.age');
    await writeFile(file, await encrypt(plain, { passphrase }));
    const out = join(dir, 'pass-ours.out');
    const result = withPassphrase(['age', '-d', '-o', out, file], passphrase);
    expect(result.code).toBe(0);
    expect((await readFile(out)).equals(plain)).toBe(true);
    const wrong = withPassphrase(['age', '-d', '-o', join(dir, 'never.out'), file], 'not it');
    expect(wrong.code).not.toBe(0);
  });

  it('the age CLI -p output decrypts with ours', async () => {
    const plain = randomBytes(150_000);
    const input = join(dir, 'pass-theirs.in');
    const file = join(dir, 'pass-theirs.age');
    await writeFile(input, plain);
    const result = withPassphrase(['age', '-p', '-o', file, input], passphrase);
    expect(result.code).toBe(0);
    const cipher = await readFile(file);
    expect(cipher.toString('latin1')).toMatch(/^age-encryption\.org\/v1\n-> scrypt /);
    expect((await decrypt(cipher, { passphrase })).equals(plain)).toBe(true);
    expect((await decryptError(cipher, { passphrase: 'not it' })).message).toBe('wrong passphrase');
  });

  it('interoperates with the age-encryption package both ways', async () => {
    const plain = randomBytes(100_000);
    const e = new Encrypter();
    e.setScryptWorkFactor(FAST);
    e.setPassphrase(passphrase);
    const theirs = Buffer.from(await e.encrypt(plain));
    expect((await decrypt(theirs, { passphrase })).equals(plain)).toBe(true);

    const ours = await encrypt(plain, { passphrase, scryptWorkFactor: FAST });
    const d = new Decrypter();
    d.addPassphrase(passphrase);
    expect(Buffer.from(await d.decrypt(ours)).equals(plain)).toBe(true);

    const byRecipient = await encrypt(plain, { recipients: [recipient] });
    const d2 = new Decrypter();
    d2.addIdentity(identity);
    expect(Buffer.from(await d2.decrypt(byRecipient)).equals(plain)).toBe(true);
  });

  it('refuses a passphrase together with recipients, and options that give nothing to encrypt to', async () => {
    await expect(createEncryptStream({ passphrase, recipients: [recipient] })).rejects.toThrow(
      /age allows a passphrase only alone.*use recipients/,
    );
    await expect(createEncryptStream({})).rejects.toThrow(ConfigError);
    await expect(createEncryptStream({ recipients: [], passphrase: '' })).rejects.toThrow(/neither is set/);
    await expect(createEncryptStream({ passphrase, scryptWorkFactor: 30 })).rejects.toThrow(/work factor 30/);
    expect(() => createDecryptStream({})).toThrow(ConfigError);
  });
});

describe('the wrong key', () => {
  let byRecipient: Buffer;
  let byPassphrase: Buffer;
  beforeAll(async () => {
    byRecipient = await encrypt(randomBytes(1000), {
      recipients: [recipient, recipientOf(generateIdentity())],
    });
    byPassphrase = await encrypt(randomBytes(1000), { passphrase: 'right one', scryptWorkFactor: FAST });
  });

  it('names the recipient count when no identity matches, and the keys tried (public, never secret)', async () => {
    const other = generateIdentity();
    const error = await decryptError(byRecipient, { identities: [other] });
    expect(error.reason).toBe('no-identity');
    expect(error.message).toContain('no identity matches this bundle (it is encrypted to 2 recipient(s))');
    expect(error.message).toContain(recipientOf(other));
    expect(error.message).not.toContain(other);
  });

  it('says a recipient bundle is not passphrase-encrypted when only a passphrase is given', async () => {
    const error = await decryptError(byRecipient, { passphrase: 'whatever' });
    expect(error.message).toMatch(/^no identity matches this bundle .*pass identity/);
  });

  it('tells a wrong passphrase from a missing one', async () => {
    expect((await decryptError(byPassphrase, { passphrase: 'wrong one' })).message).toBe('wrong passphrase');
    const missing = await decryptError(byPassphrase, { identities: [identity] });
    expect(missing.message).toBe('this bundle is encrypted with a passphrase; pass passphrase');
    expect(missing.reason).toBe('passphrase-required');
  });

  it('refuses input that is not age, naming the armored form', async () => {
    const tar = Buffer.alloc(1024);
    tar.write('dump.sql', 0);
    expect((await decryptError(tar, { identities: [identity] })).reason).toBe('not-age');
    expect(isAgeEncrypted(tar)).toBe(false);
    expect(isAgeEncrypted(Buffer.from('age-encryption.org/v1'))).toBe(false); // too short to tell
    const armored = run('age', ['-e', '-a', '-r', recipient], Buffer.from('x')).stdout;
    expect((await decryptError(armored, { identities: [identity] })).message).toMatch(/ASCII-armored/);
  });
});

describe('damaged ciphertext', () => {
  let plain: Buffer;
  let cipher: Buffer;
  let headerLength: number;
  const options = (): DecryptionOptions => ({ identities: [identity] });

  beforeAll(async () => {
    plain = randomBytes(3 * CHUNK + 1000); // chunks 0..2 full, chunk 3 partial and final
    cipher = await encrypt(plain, { recipients: [recipient, recipientOf(generateIdentity())] });
    headerLength = cipher.indexOf('\n---') + 1;
    headerLength = cipher.indexOf('\n', headerLength) + 1;
    expect(cipher.length).toBe(headerLength + 16 + 3 * SEALED + 1000 + 16);
  });

  it.each([
    ['empty input', 0],
    ['inside the version line', 10],
    ['inside the header', 60],
    ['right after the header', -1],
    ['inside the payload nonce', -2],
  ])('reports truncation %s', async (_what, at) => {
    const cut = at === -1 ? headerLength : at === -2 ? headerLength + 8 : at;
    const error = await decryptError(cipher.subarray(0, cut), options());
    expect(error.reason).toBe('truncated');
    expect(error.message).toMatch(/^ciphertext truncated/);
  });

  it('reports truncation exactly on a chunk boundary (the final-chunk flag catches it)', async () => {
    for (const chunks of [1, 2, 3]) {
      const error = await decryptError(cipher.subarray(0, headerLength + 16 + chunks * SEALED), options());
      expect(error.reason).toBe('truncated');
      expect(error.message).toBe(
        `ciphertext truncated: it ends on a chunk boundary after chunk ${chunks - 1} (plaintext offset ${(chunks - 1) * CHUNK}), without the final chunk`,
      );
    }
  });

  it('reports truncation mid-chunk and by a single byte', async () => {
    for (const cut of [headerLength + 16 + SEALED + 500, cipher.length - 1, headerLength + 16 + 10]) {
      const error = await decryptError(cipher.subarray(0, cut), options());
      expect(error.message).toMatch(/^ciphertext truncated/);
    }
  });

  it('names the chunk of a flipped payload byte, and emits nothing past it', async () => {
    const damaged = Buffer.from(cipher);
    damaged[headerLength + 16 + SEALED + 100] ^= 0x01; // chunk 1
    const { sink, result } = collect();
    await expect(pipeline(source(damaged), createDecryptStream(options()), sink)).rejects.toThrow(
      'ciphertext tampered or corrupted at chunk 1 (plaintext offset 65536)',
    );
    expect(result().length).toBeLessThanOrEqual(CHUNK);
    expect(result().equals(plain.subarray(0, result().length))).toBe(true);

    const lastTag = Buffer.from(cipher);
    lastTag[lastTag.length - 1] ^= 0x80;
    expect((await decryptError(lastTag, options())).message).toMatch(/tampered or corrupted at chunk 3/);

    const appended = Buffer.concat([cipher, Buffer.from([0])]);
    expect((await decryptError(appended, options())).reason).toBe('tampered');
  });

  it('catches a changed header through its MAC', async () => {
    const text = cipher.subarray(0, headerLength).toString('latin1');
    const lines = text.split('\n');
    // Line 4 is the body of the second recipient's stanza; our identity opens the first one.
    const body = lines[4];
    const swapped = body.slice(0, 5) + (body[5] === 'A' ? 'B' : 'A') + body.slice(6);
    const changed = Buffer.concat([
      Buffer.from(text.replace(body, swapped), 'latin1'),
      cipher.subarray(headerLength),
    ]);
    const error = await decryptError(changed, options());
    expect(error.reason).toBe('header-tampered');
    expect(error.message).toBe('ciphertext tampered or corrupted in the header (its MAC does not match)');

    const macAt = text.indexOf('--- ') + 10;
    const badMac = Buffer.from(cipher);
    badMac[macAt] = badMac[macAt] === 0x41 ? 0x42 : 0x41;
    expect((await decryptError(badMac, options())).reason).toBe('header-tampered');

    const badSyntax = Buffer.from(cipher);
    badSyntax[headerLength - 50] = 0x2a; // '*' is not base64
    expect((await decryptError(badSyntax, options())).reason).toBe('malformed-header');
  });

  it('refuses a header that never ends instead of buffering it, and a scrypt stanza beside others', async () => {
    const endless = Buffer.concat([
      Buffer.from('age-encryption.org/v1\n'),
      Buffer.alloc(2 * 1024 * 1024, 'A'),
    ]);
    const error = await decryptError(endless, options());
    expect(error.reason).toBe('malformed-header');
    expect(error.message).toMatch(/no end of header within 1048576 bytes/);

    const byPassphrase = (
      await encrypt(Buffer.from('x'), { passphrase: 'p', scryptWorkFactor: FAST })
    ).toString('latin1');
    const x25519Stanza = cipher.toString('latin1').split('\n').slice(1, 3).join('\n');
    const mixed = byPassphrase.replace('age-encryption.org/v1\n', `age-encryption.org/v1\n${x25519Stanza}\n`);
    const mixedError = await decryptError(Buffer.from(mixed, 'latin1'), { passphrase: 'p' });
    expect(mixedError.message).toMatch(/a scrypt stanza must be the only stanza/);
  });

  it('a flipped byte in our own stanza means the key no longer opens it', async () => {
    const text = cipher.subarray(0, headerLength).toString('latin1');
    const body = text.split('\n')[2];
    const at = text.indexOf(body) + 3;
    const damaged = Buffer.from(cipher);
    damaged[at] = damaged[at] === 0x41 ? 0x42 : 0x41;
    expect((await decryptError(damaged, options())).reason).toBe('no-identity');
  });
});

describe('recipients and identities as options', () => {
  it('accepts a valid recipient and trims it', () => {
    expect(parseRecipient(`  ${recipient}\n`)).toBe(recipient);
  });

  it.each([
    ['a bad checksum', () => recipient.slice(0, -1) + (recipient.endsWith('q') ? 'p' : 'q'), /bad checksum/],
    ['a truncated key', () => recipient.slice(0, 40), /bad checksum|too short/],
    ['another prefix', () => 'bge1' + recipient.slice(4), /does not start with "age1"/],
    ['an SSH key', () => 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHn3 me@host', /SSH public key/],
    [
      'a character bech32 lacks',
      () => recipient.slice(0, 10) + 'b' + recipient.slice(11),
      /bech32 does not use/,
    ],
  ])('rejects %s naming the input, the value and the expected form', (_what, make, reason) => {
    const value = make();
    let error: unknown;
    try {
      parseRecipient(value, 'recipients');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toMatch(/^recipients: /);
    expect(message).toContain(JSON.stringify(value));
    expect(message).toMatch(reason);
    expect(message).toContain('age-keygen -y');
  });

  it('never echoes a secret key given where a recipient belongs', () => {
    expect(() => parseRecipient(identity, 'recipients')).toThrow(/SECRET key, not a public one/);
    try {
      parseRecipient(identity);
    } catch (e) {
      expect((e as Error).message).not.toContain(identity);
    }
  });

  it('loads identities from a key string, key file text, and a key file with comments', async () => {
    expect(await loadIdentities(identity)).toEqual([identity]);
    const second = generateIdentity();
    const file = join(dir, 'keys.txt');
    await writeFile(
      file,
      `# created: 2025-01-01T00:00:00Z\n# public key: ${recipient}\n${identity}\n\n  # rotated in\r\n${second}\r\n`,
      { mode: 0o600 },
    );
    expect(await loadIdentities(file)).toEqual([identity, second]);
    expect(await loadIdentities(await readFile(file, 'utf8'))).toEqual([identity, second]);
    expect(await loadIdentities(keyFile)).toEqual([identity]); // as age-keygen writes it
  });

  it('rejects what is neither a key nor a key file, without echoing possible secrets', async () => {
    await expect(loadIdentities(join(dir, 'missing.txt'), 'identity')).rejects.toThrow(
      /^identity: ".*missing\.txt" is neither an age secret key nor an existing file/,
    );
    const mistyped = 'AGESECRETKEY1QQQQ';
    const error = await configError(loadIdentities(mistyped));
    expect(error.message).not.toContain(mistyped);
    const badChecksum = identity.slice(0, -1) + (identity.endsWith('Q') ? 'P' : 'Q');
    const bad = await configError(loadIdentities(`# comment\n${badChecksum}\n`));
    expect(bad.message).toMatch(
      /line 2 of the identity value is a malformed secret key: it has a bad checksum/,
    );
    expect(bad.message).not.toContain(badChecksum);
    const commentsOnly = join(dir, 'empty-keys.txt');
    await writeFile(commentsOnly, '# nothing here\n');
    await expect(loadIdentities(commentsOnly)).rejects.toThrow(/holds no AGE-SECRET-KEY-1/);
    await expect(loadIdentities(dir)).rejects.toThrow(/not a regular file/);
    await expect(loadIdentities('  ')).rejects.toThrow(/identity is empty/);
    const pq = 'AGE-SECRET-KEY-PQ-1' + 'Q'.repeat(58);
    await expect(loadIdentities(pq)).rejects.toThrow(/post-quantum/);
    expect(() => createDecryptStream({ identities: [badChecksum] })).toThrow(ConfigError);
  });

  it('reads a key file the CLI way: a file of several keys decrypts what any of them opens', async () => {
    const plain = Buffer.from('secret store');
    const cipher = await encrypt(plain, { recipients: [recipient] });
    const cipherFile = join(dir, 'small.age');
    await writeFile(cipherFile, cipher);
    const file = join(dir, 'keys2.txt');
    await writeFile(file, `${generateIdentity()}\n${identity}\n`, { mode: 0o600 });
    expect((await decrypt(cipher, { identities: await loadIdentities(file) })).equals(plain)).toBe(true);
    expect(run('age', ['-d', '-i', file, cipherFile]).stdout.equals(plain)).toBe(true);
    // And a bundle encrypted by a pipeline of ours reads back from disk as a stream.
    const { sink, result } = collect();
    await pipeline(createReadStream(cipherFile), createDecryptStream({ identities: [identity] }), sink);
    expect(result().equals(plain)).toBe(true);
  });
});
