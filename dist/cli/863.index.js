export const id = 863;
export const ids = [863];
export const modules = {

/***/ 77863:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {


// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  b9: () => (/* binding */ decryptHook),
  z9: () => (/* binding */ loadSecretsEnv),
  U5: () => (/* binding */ prepareBackupSecurity),
  om: () => (/* binding */ registerSecretValues),
  wK: () => (/* binding */ secretFilesUnder)
});

// UNUSED EXPORTS: MAX_MASKED_FILE_BYTES, isEnvFileName, parseEnvFile

// EXTERNAL MODULE: external "node:fs/promises"
var promises_ = __webpack_require__(51455);
// EXTERNAL MODULE: external "node:path"
var external_node_path_ = __webpack_require__(76760);
// EXTERNAL MODULE: external "node:stream"
var external_node_stream_ = __webpack_require__(57075);
// EXTERNAL MODULE: ./build/ncc-src/src/core/bundle/stream-utils.js
var stream_utils = __webpack_require__(18208);
// EXTERNAL MODULE: external "node:crypto"
var external_node_crypto_ = __webpack_require__(77598);
// EXTERNAL MODULE: ./build/ncc-src/src/core/errors.js
var errors = __webpack_require__(1454);
// EXTERNAL MODULE: ./build/ncc-src/src/core/crypto/age-keys.js + 1 modules
var age_keys = __webpack_require__(85186);
;// CONCATENATED MODULE: ./build/ncc-src/src/core/crypto/age.js
/**
 * Streaming age v1 (https://age-encryption.org/v1) encryption and decryption of whole bundles,
 * on node:crypto.
 *
 * Why not the `age-encryption` package for the streams: its 0.3 release does stream (web
 * ReadableStreams), but the payload cipher is @noble/ciphers' pure-JS ChaCha20-Poly1305: measured
 * here at ~175 MB/s through its stream API (before any bridging to Node streams), against
 * ~1.1 GB/s for this module's Node Transforms on OpenSSL's cipher. A backup pipes pg_dump through
 * this on a 2-core runner and the issue budgets encryption at 10% of the backup's wall time, so
 * the payload must be native. The package also exposes no header-only encryption, reports
 * failures as bare strings ("no identity matched…") where dbdrill must tell a wrong passphrase
 * from a truncated or tampered file, and its scrypt is pure JS (1.7 s at the default work factor
 * here, 0.6 s native). The format is small
 * enough to write out against the spec, so the header is here as well; the package (an
 * independent implementation by age's author) and the real `age` CLI are the interop peers in
 * test/crypto-age.test.ts.
 *
 * Memory is bounded whatever the bundle size: one 64 KiB chunk per direction, plus the header
 * (capped at MAX_HEADER_BYTES).
 */





/**
 * Decryption failed: a key that does not fit, or ciphertext that is damaged. Messages name the
 * cause and never contain key material. Emitted as the decrypt stream's 'error'.
 */
class DecryptionError extends Error {
    reason;
    constructor(message, reason) {
        super(message);
        this.reason = reason;
        this.name = 'DecryptionError';
    }
}
const MAGIC = Buffer.from('age-encryption.org/v1\n', 'latin1');
const ARMOR_BEGIN = '-----BEGIN AGE ENCRYPTED FILE-----';
const CHUNK = 64 * 1024;
const TAG = 16;
const SEALED_CHUNK = CHUNK + TAG;
/** Sealed chunks per buffer `sealTransient` hands over: a store writes about 1 MiB at a time. */
const SEALED_PER_OUT = 16;
const FILE_KEY_BYTES = 16;
const NONCE_BYTES = 16;
/** An X25519 stanza is ~110 bytes, so this fits thousands of recipients while capping what a hostile header can make us buffer. */
const MAX_HEADER_BYTES = 1024 * 1024;
const DEFAULT_SCRYPT_WORK_FACTOR = 18;
/** 2^20 needs 1 GiB for scrypt; a header asking for more is refused rather than allowed to exhaust memory. */
const MAX_SCRYPT_WORK_FACTOR = 20;
const MIN_SCRYPT_WORK_FACTOR = 10;
const X25519_LABEL = 'age-encryption.org/v1/X25519';
const SCRYPT_LABEL = 'age-encryption.org/v1/scrypt';
const ZERO_NONCE = Buffer.alloc(12);
/** True when the bytes begin with the age v1 binary header ("age-encryption.org/v1\n"). */
function isAgeEncrypted(firstBytes) {
    return (firstBytes.length >= MAGIC.length &&
        Buffer.from(firstBytes.buffer, firstBytes.byteOffset, MAGIC.length).equals(MAGIC));
}
// ---------------------------------------------------------------- primitives
function b64(data) {
    return Buffer.from(data).toString('base64').replace(/=+$/, '');
}
/** Strict, canonical unpadded base64 as the spec requires; null if the text is anything else. */
function unb64(text) {
    if (!/^[A-Za-z0-9+/]*$/.test(text) || text.length % 4 === 1)
        return null;
    const bytes = Buffer.from(text, 'base64');
    return b64(bytes) === text ? bytes : null;
}
function hkdf(ikm, salt, info) {
    return Buffer.from((0,external_node_crypto_.hkdfSync)('sha256', ikm, salt, info, 32));
}
function aeadSeal(key, nonce, plaintext) {
    const cipher = (0,external_node_crypto_.createCipheriv)('chacha20-poly1305', key, nonce, { authTagLength: TAG });
    return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}
/** Opens a sealed box; null if it does not authenticate. Plaintext is only returned after the tag checks. */
function aeadOpen(key, nonce, sealed) {
    if (sealed.length < TAG)
        return null;
    const decipher = (0,external_node_crypto_.createDecipheriv)('chacha20-poly1305', key, nonce, { authTagLength: TAG });
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG));
    const plaintext = decipher.update(sealed.subarray(0, sealed.length - TAG));
    try {
        decipher.final();
    }
    catch {
        return null;
    }
    return plaintext;
}
function scryptKey(passphrase, salt, workFactor) {
    const N = 2 ** workFactor;
    return new Promise((resolve, reject) => {
        (0,external_node_crypto_.scrypt)(Buffer.from(passphrase, 'utf8'), Buffer.concat([Buffer.from(SCRYPT_LABEL, 'latin1'), salt]), 32, 
        // Node's default maxmem (32 MiB) is below the 128*N*r bytes age's N=2^18 needs.
        { N, r: 8, p: 1, maxmem: 256 * N * 8 }, (error, key) => (error ? reject(error) : resolve(key)));
    });
}
/** STREAM nonce: 11-byte big-endian chunk counter, then 1 if this is the final chunk. */
function chunkNonce(counter, last) {
    const nonce = Buffer.alloc(12);
    nonce.writeBigUInt64BE(BigInt(counter), 3);
    nonce[11] = last ? 1 : 0;
    return nonce;
}
function encodeStanzas(stanzas) {
    let text = 'age-encryption.org/v1\n';
    for (const stanza of stanzas) {
        text += `-> ${stanza.args.join(' ')}\n`;
        const body = b64(stanza.body);
        for (let i = 0; i <= body.length; i += 64)
            text += body.slice(i, i + 64) + '\n';
    }
    return Buffer.from(text + '---', 'latin1');
}
function headerMac(fileKey, headerNoMac) {
    return (0,external_node_crypto_.createHmac)('sha256', hkdf(fileKey, Buffer.alloc(0), 'header'))
        .update(headerNoMac)
        .digest();
}
function malformed(detail) {
    return new DecryptionError(`ciphertext tampered or corrupted: the age header is malformed (${detail})`, 'malformed-header');
}
/** Parses a complete header (ending with the MAC line's newline) into stanzas and MAC. */
function parseHeader(header) {
    const text = header.toString('latin1');
    const lines = text.split('\n');
    lines.pop(); // the header ends with '\n'
    if (lines[0] !== 'age-encryption.org/v1')
        throw malformed('bad version line');
    const stanzas = [];
    let i = 1;
    while (i < lines.length && lines[i].startsWith('-> ')) {
        const args = lines[i].slice(3).split(' ');
        if (args.some((arg) => !/^[\x21-\x7e]+$/.test(arg)))
            throw malformed(`stanza ${stanzas.length + 1} has a bad argument`);
        i++;
        const parts = [];
        for (;;) {
            if (i >= lines.length)
                throw malformed(`stanza ${stanzas.length + 1} has no end`);
            const line = lines[i++];
            const bytes = line.length <= 64 ? unb64(line) : null;
            if (bytes === null)
                throw malformed(`stanza ${stanzas.length + 1} has a bad body line`);
            parts.push(bytes);
            if (line.length < 64)
                break;
        }
        stanzas.push({ args, body: Buffer.concat(parts) });
    }
    if (i !== lines.length - 1 || !lines[i].startsWith('--- '))
        throw malformed('bad MAC line');
    const mac = unb64(lines[i].slice(4));
    if (mac === null || mac.length !== 32)
        throw malformed('bad MAC');
    if (stanzas.length === 0)
        throw malformed('no recipient stanzas');
    const headerNoMac = header.subarray(0, header.length - lines[i].length - 1 + 3);
    return { stanzas, mac, headerNoMac };
}
// ---------------------------------------------------------------- encryption
function x25519Stanza(recipient, fileKey) {
    const ephemeral = (0,external_node_crypto_.generateKeyPairSync)('x25519');
    const share = (0,age_keys/* rawPublicKey */.F7)(ephemeral.publicKey);
    const shared = (0,external_node_crypto_.diffieHellman)({ privateKey: ephemeral.privateKey, publicKey: (0,age_keys/* x25519PublicKey */.$l)(recipient) });
    const wrapKey = hkdf(shared, Buffer.concat([share, recipient]), X25519_LABEL);
    return { args: ['X25519', b64(share)], body: aeadSeal(wrapKey, ZERO_NONCE, fileKey) };
}
async function scryptStanza(passphrase, workFactor, fileKey) {
    const salt = (0,external_node_crypto_.randomBytes)(16);
    const wrapKey = await scryptKey(passphrase, salt, workFactor);
    return { args: ['scrypt', b64(salt), String(workFactor)], body: aeadSeal(wrapKey, ZERO_NONCE, fileKey) };
}
/**
 * Encrypts the STREAM payload: 64 KiB plaintext chunks, each sealed; the final one flagged. Used as
 * a Transform, or through `sealTransient` (not both).
 */
class PayloadEncryptor extends external_node_stream_.Transform {
    streamKey;
    buffer = Buffer.allocUnsafe(CHUNK);
    used = 0;
    counter = 0;
    prefix;
    constructor(streamKey, prefix) {
        super();
        this.streamKey = streamKey;
        this.prefix = prefix;
    }
    /** The cipher of the next payload chunk: its nonce is the chunk counter and the final flag. */
    nextCipher(last) {
        return (0,external_node_crypto_.createCipheriv)('chacha20-poly1305', this.streamKey, chunkNonce(this.counter++, last), {
            authTagLength: TAG,
        });
    }
    seal(plaintext, last) {
        const cipher = this.nextCipher(last);
        this.push(cipher.update(plaintext));
        cipher.final();
        this.push(cipher.getAuthTag());
    }
    /**
     * The same age file as the transform writes, as chunks of one reused buffer, each valid only
     * until the next is asked for (a local store writes it first); `input` may be transient too.
     * Sealed chunks are copied into that buffer, so a store writes 1 MiB at a time. Pushed one by
     * one from the transform, a reader got them joined into a fresh buffer for every read, which
     * cost 0.1 to 0.2 CPU-seconds per 100 MB in allocation and GC in profiles of an encrypted backup.
     */
    async *sealTransient(input) {
        const out = Buffer.allocUnsafe(SEALED_PER_OUT * SEALED_CHUNK);
        let filled = 0;
        const seal = (plaintext, last) => {
            const cipher = this.nextCipher(last);
            filled += cipher.update(plaintext).copy(out, filled);
            cipher.final();
            filled += cipher.getAuthTag().copy(out, filled);
        };
        if (this.prefix) {
            yield this.prefix;
            this.prefix = null;
        }
        for await (const chunk of input) {
            let offset = 0;
            while (offset < chunk.length) {
                // handed over while `chunk` is still valid: the input is not read on until this resumes
                if (filled + SEALED_CHUNK > out.length) {
                    yield out.subarray(0, filled);
                    filled = 0;
                }
                // A chunk is only sealed once more data follows: the last one must carry the final flag.
                if (this.used === CHUNK) {
                    seal(this.buffer, false);
                    this.used = 0;
                    continue;
                }
                if (this.used === 0 && chunk.length - offset > CHUNK) {
                    seal(chunk.subarray(offset, offset + CHUNK), false);
                    offset += CHUNK;
                    continue;
                }
                const n = Math.min(CHUNK - this.used, chunk.length - offset);
                chunk.copy(this.buffer, this.used, offset, offset + n);
                this.used += n;
                offset += n;
            }
        }
        if (filled + SEALED_CHUNK > out.length) {
            yield out.subarray(0, filled);
            filled = 0;
        }
        seal(this.buffer.subarray(0, this.used), true);
        yield out.subarray(0, filled);
    }
    start() {
        if (this.prefix) {
            this.push(this.prefix);
            this.prefix = null;
        }
    }
    _transform(chunk, _encoding, callback) {
        try {
            this.start();
            let offset = 0;
            while (offset < chunk.length) {
                // A chunk is only sealed once more data follows: the last one must carry the final flag.
                if (this.used === CHUNK) {
                    this.seal(this.buffer, false);
                    this.used = 0;
                }
                if (this.used === 0 && chunk.length - offset > CHUNK) {
                    this.seal(chunk.subarray(offset, offset + CHUNK), false); // no copy for big writes
                    offset += CHUNK;
                    continue;
                }
                const n = Math.min(CHUNK - this.used, chunk.length - offset);
                chunk.copy(this.buffer, this.used, offset, offset + n);
                this.used += n;
                offset += n;
            }
            callback();
        }
        catch (error) {
            callback(error);
        }
    }
    _flush(callback) {
        try {
            this.start();
            this.seal(this.buffer.subarray(0, this.used), true);
            callback();
        }
        catch (error) {
            callback(error);
        }
    }
}
/** Validates encryption options the same way for every caller; throws ConfigError. */
function validateEncryptionOptions(options) {
    const recipients = [...new Set((options.recipients ?? []).map((r) => (0,age_keys/* parseRecipient */.Fx)(r, 'recipients')))];
    const passphrase = options.passphrase === '' ? undefined : options.passphrase;
    if (passphrase !== undefined && recipients.length > 0) {
        throw new errors/* ConfigError */.xL('recipients and passphrase are both set, but age allows a passphrase only alone (a file is either ' +
            'passphrase-encrypted or encrypted to recipients); drop passphrase and use recipients, which keep ' +
            'every decryption key off the backup runner');
    }
    if (passphrase === undefined && recipients.length === 0) {
        throw new errors/* ConfigError */.xL('encryption needs recipients (age1… public keys, recommended) or passphrase; neither is set');
    }
    const scryptWorkFactor = options.scryptWorkFactor ?? DEFAULT_SCRYPT_WORK_FACTOR;
    if (!Number.isInteger(scryptWorkFactor) ||
        scryptWorkFactor < MIN_SCRYPT_WORK_FACTOR ||
        scryptWorkFactor > MAX_SCRYPT_WORK_FACTOR) {
        throw new errors/* ConfigError */.xL(`scrypt work factor ${scryptWorkFactor} is out of range; expected an integer from ${MIN_SCRYPT_WORK_FACTOR} to ${MAX_SCRYPT_WORK_FACTOR} (default ${DEFAULT_SCRYPT_WORK_FACTOR})`);
    }
    return { recipients, passphrase, scryptWorkFactor };
}
/**
 * A Transform that turns plaintext (a tar stream) into an age v1 file. Async because the header
 * is built first, and with a passphrase that means running scrypt (~0.5 s, off the event loop).
 * Rejects with ConfigError on bad options.
 */
async function createEncryptStream(options) {
    const { recipients, passphrase, scryptWorkFactor } = validateEncryptionOptions(options);
    const fileKey = (0,external_node_crypto_.randomBytes)(FILE_KEY_BYTES);
    const stanzas = passphrase !== undefined
        ? [await scryptStanza(passphrase, scryptWorkFactor, fileKey)]
        : recipients.map((r) => {
            const decoded = (0,age_keys/* decodeRecipient */.UC)(r);
            if (!decoded.ok)
                throw new errors/* ConfigError */.xL(`recipients: ${r} ${decoded.reason}`); // validated above
            return x25519Stanza(decoded.bytes, fileKey);
        });
    const headerNoMac = encodeStanzas(stanzas);
    const mac = headerMac(fileKey, headerNoMac);
    const nonce = (0,external_node_crypto_.randomBytes)(NONCE_BYTES);
    const prefix = Buffer.concat([headerNoMac, Buffer.from(` ${b64(mac)}\n`, 'latin1'), nonce]);
    return new PayloadEncryptor(hkdf(fileKey, nonce, 'payload'), prefix);
}
async function unwrapFileKey(stanzas, keys) {
    const count = `it is encrypted to ${stanzas.length} recipient(s)`;
    const scryptStanzas = stanzas.filter((s) => s.args[0] === 'scrypt');
    if (scryptStanzas.length > 0) {
        if (stanzas.length !== 1)
            throw malformed('a scrypt stanza must be the only stanza');
        const { args, body } = scryptStanzas[0];
        const salt = args.length === 3 ? unb64(args[1]) : null;
        if (salt === null || salt.length !== 16 || !/^[1-9][0-9]?$/.test(args[2]) || body.length !== 32) {
            throw malformed('bad scrypt stanza');
        }
        if (keys.passphrase === undefined) {
            throw new DecryptionError('this bundle is encrypted with a passphrase; pass passphrase', 'passphrase-required');
        }
        const workFactor = Number(args[2]);
        if (workFactor > MAX_SCRYPT_WORK_FACTOR) {
            throw new DecryptionError(`this bundle's scrypt work factor is 2^${workFactor}, above the 2^${MAX_SCRYPT_WORK_FACTOR} dbdrill accepts (it would need ${2 ** (workFactor - 10)} MiB); decrypt it with the age CLI`, 'malformed-header');
        }
        const fileKey = aeadOpen(await scryptKey(keys.passphrase, salt, workFactor), ZERO_NONCE, body);
        if (fileKey === null || fileKey.length !== FILE_KEY_BYTES) {
            throw new DecryptionError('wrong passphrase', 'wrong-passphrase');
        }
        return fileKey;
    }
    for (const stanza of stanzas) {
        if (stanza.args[0] !== 'X25519')
            continue; // other types (ssh, plugins, post-quantum) are not ours to open
        const share = stanza.args.length === 2 ? unb64(stanza.args[1]) : null;
        if (share === null || share.length !== 32 || stanza.body.length !== 32)
            throw malformed('bad X25519 stanza');
        for (const identity of keys.identities) {
            let shared;
            try {
                shared = (0,external_node_crypto_.diffieHellman)({ privateKey: identity.privateKey, publicKey: (0,age_keys/* x25519PublicKey */.$l)(share) });
            }
            catch {
                throw malformed('X25519 stanza with an invalid (low-order) share'); // OpenSSL refuses an all-zero secret
            }
            const wrapKey = hkdf(shared, Buffer.concat([share, identity.publicKey]), X25519_LABEL);
            const fileKey = aeadOpen(wrapKey, ZERO_NONCE, stanza.body);
            if (fileKey !== null) {
                if (fileKey.length !== FILE_KEY_BYTES)
                    throw malformed('bad file key length');
                return fileKey;
            }
        }
    }
    if (keys.identities.length === 0) {
        throw new DecryptionError(`no identity matches this bundle (${count}); it is not passphrase-encrypted: pass identity, the age secret key of one of its recipients`, 'no-identity');
    }
    const tried = keys.identities.map((id) => id.recipient).join(', ');
    throw new DecryptionError(`no identity matches this bundle (${count}); the identities given belong to ${tried}, none of them a recipient`, 'no-identity');
}
/** Decrypts an age v1 stream: parses and authenticates the header, then opens chunk by chunk. */
class AgeDecryptor extends external_node_stream_.Transform {
    keys;
    state = 'header';
    headerParts = [];
    headerLength = 0;
    /** Where the header's "\n---" (start of the MAC line) was found, and where to resume looking for it. */
    macLineAt = -1;
    scanFrom = 0;
    nonceParts = [];
    nonceLength = 0;
    fileKey = null;
    streamKey = null;
    buffer = Buffer.allocUnsafe(SEALED_CHUNK);
    used = 0;
    counter = 0;
    constructor(keys) {
        super();
        this.keys = keys;
    }
    _transform(chunk, _encoding, callback) {
        this.consume(chunk).then(() => callback(), (error) => callback(error));
    }
    _flush(callback) {
        try {
            this.finish();
            callback();
        }
        catch (error) {
            callback(error);
        }
    }
    async consume(chunk) {
        if (this.state === 'header') {
            const rest = await this.takeHeader(chunk);
            if (rest === null)
                return;
            chunk = rest;
        }
        this.takePayload(chunk);
    }
    /** Buffers header bytes until the MAC line is complete; returns the bytes after it, or null. */
    async takeHeader(chunk) {
        this.headerParts.push(chunk);
        this.headerLength += chunk.length;
        const data = this.headerParts.length === 1 ? chunk : Buffer.concat(this.headerParts);
        this.headerParts = [data];
        const prefix = data.subarray(0, Math.min(data.length, MAGIC.length));
        if (!MAGIC.subarray(0, prefix.length).equals(prefix))
            throw this.notAge(data);
        if (this.macLineAt < 0) {
            this.macLineAt = data.indexOf('\n---', this.scanFrom, 'latin1');
            this.scanFrom = Math.max(0, data.length - 3);
        }
        const end = this.macLineAt < 0 ? -1 : data.indexOf('\n', this.macLineAt + 1);
        if (end < 0) {
            if (this.headerLength > MAX_HEADER_BYTES) {
                throw malformed(`no end of header within ${MAX_HEADER_BYTES} bytes`);
            }
            return null;
        }
        const { stanzas, mac, headerNoMac } = parseHeader(data.subarray(0, end + 1));
        const fileKey = await unwrapFileKey(stanzas, this.keys);
        if (!(0,external_node_crypto_.timingSafeEqual)(headerMac(fileKey, headerNoMac), mac)) {
            throw new DecryptionError('ciphertext tampered or corrupted in the header (its MAC does not match)', 'header-tampered');
        }
        this.fileKey = fileKey;
        this.headerParts = [];
        this.state = 'payload';
        return data.subarray(end + 1);
    }
    notAge(data) {
        const start = data.subarray(0, ARMOR_BEGIN.length).toString('latin1');
        return new DecryptionError(ARMOR_BEGIN.startsWith(start)
            ? 'this is an ASCII-armored age file; dbdrill reads binary age files: convert it with `age -d` first'
            : 'this is not an age-encrypted file (it does not start with "age-encryption.org/v1")', 'not-age');
    }
    takePayload(chunk) {
        let offset = 0;
        if (this.streamKey === null) {
            const n = Math.min(NONCE_BYTES - this.nonceLength, chunk.length);
            this.nonceParts.push(chunk.subarray(0, n));
            this.nonceLength += n;
            offset = n;
            if (this.nonceLength < NONCE_BYTES)
                return;
            this.streamKey = hkdf(this.fileKey, Buffer.concat(this.nonceParts), 'payload');
        }
        while (offset < chunk.length) {
            // A full chunk is opened as non-final only once a further byte proves it is not the last.
            if (this.used === SEALED_CHUNK) {
                this.open(this.buffer, false);
                this.used = 0;
            }
            if (this.used === 0 && chunk.length - offset > SEALED_CHUNK) {
                this.open(chunk.subarray(offset, offset + SEALED_CHUNK), false);
                offset += SEALED_CHUNK;
                continue;
            }
            const n = Math.min(SEALED_CHUNK - this.used, chunk.length - offset);
            chunk.copy(this.buffer, this.used, offset, offset + n);
            this.used += n;
            offset += n;
        }
    }
    tryOpen(sealed, last) {
        return aeadOpen(this.streamKey, chunkNonce(this.counter, last), sealed);
    }
    where() {
        return `chunk ${this.counter} (plaintext offset ${this.counter * CHUNK})`;
    }
    open(sealed, last) {
        const plaintext = this.tryOpen(sealed, last);
        if (plaintext === null) {
            throw new DecryptionError(`ciphertext tampered or corrupted at ${this.where()}`, 'tampered');
        }
        this.counter++;
        if (plaintext.length > 0)
            this.push(plaintext);
    }
    finish() {
        if (this.state === 'header') {
            const data = this.headerParts[0] ?? Buffer.alloc(0);
            if (data.length === 0)
                throw new DecryptionError('ciphertext truncated: the input is empty', 'truncated');
            throw new DecryptionError('ciphertext truncated inside the age header', 'truncated');
        }
        if (this.streamKey === null || this.used < TAG) {
            throw new DecryptionError(`ciphertext truncated before the end of ${this.where()}`, 'truncated');
        }
        if (this.used === TAG && this.counter > 0) {
            // The spec forbids an empty final chunk after full ones (age never writes one), so that each
            // plaintext has exactly one encoding; refused like any other damage.
            throw new DecryptionError(`ciphertext truncated, tampered or corrupted at ${this.where()} (an empty final chunk after full ones)`, 'tampered');
        }
        const sealed = this.buffer.subarray(0, this.used);
        const plaintext = this.tryOpen(sealed, true);
        if (plaintext !== null) {
            this.counter++;
            if (plaintext.length > 0)
                this.push(plaintext);
            return;
        }
        if (this.used === SEALED_CHUNK && this.tryOpen(sealed, false) !== null) {
            // A whole chunk that authenticates as non-final: the real final chunk was cut off.
            throw new DecryptionError(`ciphertext truncated: it ends on a chunk boundary after ${this.where()}, without the final chunk`, 'truncated');
        }
        throw new DecryptionError(`ciphertext truncated, tampered or corrupted at ${this.where()} (the final chunk does not authenticate)`, 'tampered');
    }
}
/**
 * A Transform from an age v1 file to its plaintext. Synchronous: the header is read from the
 * stream itself, so key problems (no matching identity, wrong passphrase) surface as the
 * stream's 'error' (a DecryptionError) before any plaintext is emitted. Bad options throw
 * ConfigError right away. Plaintext of a chunk is only emitted after that chunk authenticates,
 * but a truncated or tampered file still yields the chunks before the damage, so consumers must
 * treat output as valid only once the stream ends without error.
 */
function createDecryptStream(options) {
    const identities = (options.identities ?? []).map((id) => (0,age_keys/* toX25519Identity */.w1)(id, 'identity'));
    const passphrase = options.passphrase === '' ? undefined : options.passphrase;
    if (identities.length === 0 && passphrase === undefined) {
        throw new errors/* ConfigError */.xL('the bundle is age-encrypted: pass identity (an age secret key or key file) or passphrase to decrypt it');
    }
    return new AgeDecryptor({ identities, passphrase });
}

// EXTERNAL MODULE: ./build/ncc-src/src/core/kek.js
var kek = __webpack_require__(95872);
;// CONCATENATED MODULE: ./build/ncc-src/src/core/encryption.js
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







/** Files up to this size are read so their values can be masked; bigger ones are not key material. */
const MAX_MASKED_FILE_BYTES = 64 * 1024;
const plainLabel = (n) => n;
/**
 * Everything a backup must settle before it dumps: mask the secret files' values, decide on
 * encryption (refusing plain secret files unless allowed), and check the KEK pairing.
 * `external` is an encrypt hook a caller already supplied (kept, recorded as age).
 */
async function prepareBackupSecurity(deps, options, secrets, external) {
    const label = deps.label ?? plainLabel;
    await registerSecretValues(deps.logger, secrets.map((s) => s.source));
    if (options.passphrase)
        deps.logger.addSecret(options.passphrase);
    const out = { encryption: null };
    if (external) {
        out.encrypt = external;
        out.encryption = { kind: 'age', recipients: options.recipients.length, passphrase: !!options.passphrase };
    }
    else if (options.recipients.length || options.passphrase) {
        const validated = validateEncryptionOptions({
            recipients: options.recipients,
            passphrase: options.passphrase,
        });
        // Built now, not lazily: a passphrase costs a scrypt run, and bad options must fail before the dump.
        const transform = await createEncryptStream({
            recipients: validated.recipients,
            passphrase: validated.passphrase,
        });
        out.encrypt = (plain) => (0,external_node_stream_.pipeline)(plain, transform, () => undefined);
        out.encryptChunks = (chunks) => new stream_utils/* TransientChunks */.lX(transform.sealTransient(chunks));
        out.encryption = {
            kind: 'age',
            recipients: validated.recipients.length,
            passphrase: !!validated.passphrase,
        };
        deps.logger.info(validated.passphrase
            ? 'Encrypting the bundle with age (passphrase)'
            : `Encrypting the bundle with age to ${validated.recipients.length} recipient(s)`);
    }
    else if (secrets.length > 0) {
        const what = `${secrets.length} secret file(s) from ${label('secret-files')}`;
        if (!options.allowUnencryptedSecrets) {
            throw new errors/* ConfigError */.xL(`the bundle would hold ${what} unencrypted; set ${label('recipients')} (age1… public keys, recommended) or ${label('passphrase')}, or set ${label('allow-unencrypted-secrets')}: true to store them in plain text`);
        }
        deps.logger.warning(`${label('allow-unencrypted-secrets')}: writing ${what} UNENCRYPTED; anyone who can read the store can read them. Set ${label('recipients')} to encrypt the bundle`);
    }
    if ((0,kek/* kekCheckWanted */.tC)(options)) {
        const member = (0,kek/* resolveKekMember */.O$)(secrets.map((s) => s.member), options.kekFile, label('kek-file'));
        const file = secrets.find((s) => s.member === `secrets/${member}`);
        out.kek = await (0,kek/* assertKekPairing */.EF)({ runner: deps.runner, signal: deps.signal, label }, {
            ...options,
            databaseUrl: options.databaseUrl,
            urlInput: label('database-url'),
            kekPath: file.source,
            kekMember: member,
        });
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
async function decryptHook(logger, options, label = plainLabel) {
    if (options.passphrase)
        logger.addSecret(options.passphrase);
    let identities;
    if (options.identity) {
        if (/AGE-SECRET-KEY-/i.test(options.identity))
            registerLines(logger, options.identity);
        identities = await (0,age_keys/* loadIdentities */.lt)(options.identity, label('identity'));
        for (const key of identities)
            logger.addSecret(key);
    }
    if (!identities && !options.passphrase)
        return undefined;
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
async function registerSecretValues(logger, paths) {
    for (const path of paths) {
        const info = await (0,promises_.stat)(path).catch(() => undefined);
        if (!info?.isFile())
            continue;
        if (info.size > MAX_MASKED_FILE_BYTES) {
            logger.debug(`${(0,external_node_path_.basename)(path)}: ${info.size} bytes, too large to register its values for masking`);
            continue;
        }
        const bytes = await (0,promises_.readFile)(path);
        const text = bytes.toString('utf8');
        if (bytes.includes(0) || text.includes('\uFFFD')) {
            logger.addSecret(bytes.toString('hex'));
            logger.addSecret(bytes.toString('base64'));
            continue;
        }
        if (text.trim())
            logger.addSecret(text.trim());
        registerLines(logger, text);
        if (isEnvFileName(path))
            for (const [, value] of parseEnvFile(text).entries)
                maskValue(logger, value);
    }
}
function registerLines(logger, text) {
    for (const raw of text.split(/\r?\n/)) {
        const line = raw.trim();
        if (!line || line.startsWith('#') || /^-----(BEGIN|END) /.test(line))
            continue;
        maskValue(logger, line);
    }
}
function maskValue(logger, value) {
    const v = value.trim();
    if (v.length >= 4 && !NOT_SECRET.test(v))
        logger.addSecret(v);
}
// --- .env files for the drill's app -------------------------------------------------------------
/** `.env`, `.env.production`, `app.env`: the names secrets-env loads. */
function isEnvFileName(path) {
    const name = (0,external_node_path_.basename)(path);
    return name === '.env' || name.startsWith('.env.') || name.endsWith('.env');
}
/**
 * KEY=VALUE lines as dotenv writes them: `#` comments, blank lines, an optional `export ` prefix,
 * single quotes (literal), double quotes (with \n, \t, \", \\ escapes), and unquoted values
 * with an inline ` #` comment stripped. Multi-line values are not supported.
 */
function parseEnvFile(text) {
    const entries = [];
    const badLines = [];
    const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
    for (let i = 0; i < lines.length; i++) {
        const line = lines[i].trim();
        if (!line || line.startsWith('#'))
            continue;
        const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.*)$/.exec(line);
        if (!m) {
            badLines.push(i + 1);
            continue;
        }
        const value = unquote(m[2]);
        if (value === undefined)
            badLines.push(i + 1);
        else
            entries.push([m[1], value]);
    }
    return { entries, badLines };
}
function unquote(raw) {
    if (raw.startsWith("'")) {
        const end = raw.indexOf("'", 1);
        if (end < 0 || !/^\s*(#.*)?$/.test(raw.slice(end + 1)))
            return undefined;
        return raw.slice(1, end);
    }
    if (raw.startsWith('"')) {
        let out = '';
        for (let i = 1; i < raw.length; i++) {
            const c = raw[i];
            if (c === '\\' && i + 1 < raw.length) {
                const n = raw[++i];
                out += n === 'n' ? '\n' : n === 't' ? '\t' : n === 'r' ? '\r' : n;
            }
            else if (c === '"') {
                return /^\s*(#.*)?$/.test(raw.slice(i + 1)) ? out : undefined;
            }
            else
                out += c;
        }
        return undefined;
    }
    const hash = raw.search(/\s#/);
    return (hash >= 0 ? raw.slice(0, hash) : raw).trim();
}
/** Never taken from a restored .env: they would point the app at production instead of the scratch target. */
const PROTECTED_ENV = /^(?:DATABASE_URL|PG[A-Z]*|DBDRILL_.*)$/;
/**
 * Loads the `.env`-style files of a restored secret store for the app's environment, registering
 * every value with the redactor first. Later files (in path order) win over earlier ones.
 */
async function loadSecretsEnv(logger, secretsDir) {
    const out = { env: {}, loaded: [], protectedNames: [], notes: [] };
    const files = (await walkFiles(secretsDir)).filter(isEnvFileName).sort();
    if (files.length === 0) {
        out.notes.push('secrets-env: the secret store holds no .env-style file (.env, .env.*, *.env); nothing loaded');
        return out;
    }
    for (const file of files) {
        const rel = file.slice(secretsDir.length + 1);
        const info = await (0,promises_.stat)(file);
        if (info.size > MAX_MASKED_FILE_BYTES) {
            out.notes.push(`secrets-env: ${rel} is ${info.size} bytes, over ${MAX_MASKED_FILE_BYTES}; not loaded`);
            continue;
        }
        const parsed = parseEnvFile(await (0,promises_.readFile)(file, 'utf8'));
        for (const [, value] of parsed.entries)
            maskValue(logger, value);
        const names = [];
        for (const [name, value] of parsed.entries) {
            if (PROTECTED_ENV.test(name)) {
                if (!out.protectedNames.includes(name))
                    out.protectedNames.push(name);
                continue;
            }
            out.env[name] = value;
            names.push(name);
        }
        out.loaded.push({ file: rel, names });
        if (parsed.badLines.length) {
            out.notes.push(`secrets-env: ${rel} line(s) ${parsed.badLines.join(', ')} are not KEY=VALUE and were skipped (contents not shown)`);
        }
    }
    const total = Object.keys(out.env).length;
    out.notes.push(`secrets-env: ${total} variable(s) from ${out.loaded.map((l) => `${l.file} (${l.names.join(', ') || 'none'})`).join('; ')} handed to the app, values masked`);
    if (out.protectedNames.length) {
        out.notes.push(`secrets-env: ${out.protectedNames.join(', ')} kept pointing at the scratch target, not taken from the restored .env`);
    }
    return out;
}
async function walkFiles(dir) {
    const entries = await (0,promises_.readdir)(dir, { withFileTypes: true }).catch(() => []);
    const out = [];
    for (const e of entries) {
        const full = (0,external_node_path_.join)(dir, e.name);
        if (e.isDirectory())
            out.push(...(await walkFiles(full)));
        else if (e.isFile())
            out.push(full);
    }
    return out;
}
/** The secret files of a restored store, for masking: every file under the dir. */
async function secretFilesUnder(dir) {
    return walkFiles(dir);
}


/***/ }),

/***/ 95872:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   Cm: () => (/* binding */ checkKekPairing),
/* harmony export */   EF: () => (/* binding */ assertKekPairing),
/* harmony export */   O$: () => (/* binding */ resolveKekMember),
/* harmony export */   tC: () => (/* binding */ kekCheckWanted)
/* harmony export */ });
/* unused harmony exports kekMismatchMessage, kekFingerprints, normalizeFingerprint */
/* harmony import */ var node_crypto__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(77598);
/* harmony import */ var node_fs_promises__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(51455);
/* harmony import */ var node_path__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(76760);
/* harmony import */ var _engines_postgres_connection_js__WEBPACK_IMPORTED_MODULE_3__ = __webpack_require__(68665);
/* harmony import */ var _errors_js__WEBPACK_IMPORTED_MODULE_4__ = __webpack_require__(1454);
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





const DEFAULT_KEK_NAME = 'kek.key';
/** A KEK is a few dozen bytes; a bigger file named as one is a mistake, not something to slurp. */
const MAX_KEK_FILE_BYTES = 1 << 20;
function kekMismatchMessage(expected, actual) {
    return `KEK fingerprint mismatch: the database expects ${expected}, the secret store gives ${actual}; restore both from the same bundle`;
}
function kekCheckWanted(options) {
    return !!(options.kekFingerprintQuery || options.kekFingerprintCommand);
}
/**
 * Picks the KEK among the secret files, by their names under `secrets/`: `kek-file` when given
 * (a full name like `config/kek.key`, or a base name that is unique), else the only file, else
 * the one file named kek.key.
 */
function resolveKekMember(names, kekFile, input) {
    const rel = names.map((n) => n.replace(/^secrets\//, ''));
    const list = rel.length ? rel.join(', ') : 'none';
    if (kekFile) {
        if (rel.includes(kekFile))
            return kekFile;
        const byBase = rel.filter((n) => (0,node_path__WEBPACK_IMPORTED_MODULE_2__.basename)(n) === kekFile);
        if (byBase.length === 1)
            return byBase[0];
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_4__/* .ConfigError */ .xL(byBase.length > 1
            ? `${input} "${kekFile}" matches several secret files (${byBase.join(', ')}); give the full name`
            : `${input} "${kekFile}" is not among the secret files (${list}); name the KEK file as it appears in the bundle's secrets/`);
    }
    if (rel.length === 1)
        return rel[0];
    const named = rel.filter((n) => (0,node_path__WEBPACK_IMPORTED_MODULE_2__.basename)(n) === DEFAULT_KEK_NAME);
    if (named.length === 1)
        return named[0];
    throw new _errors_js__WEBPACK_IMPORTED_MODULE_4__/* .ConfigError */ .xL(rel.length === 0
        ? 'the KEK check needs the KEK file in the secret store, but there are no secret files; add it to secret-files'
        : `which secret file is the KEK? the secret files are ${list}; set ${input} to one of them`);
}
/** The fingerprints a KEK file may be known by; the first is the one reported. */
async function kekFingerprints(path) {
    const info = await (0,node_fs_promises__WEBPACK_IMPORTED_MODULE_1__.stat)(path);
    if (info.size > MAX_KEK_FILE_BYTES) {
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_4__/* .ConfigError */ .xL(`the KEK file ${(0,node_path__WEBPACK_IMPORTED_MODULE_2__.basename)(path)} is ${info.size} bytes; a key file is expected to be small`);
    }
    const bytes = await (0,node_fs_promises__WEBPACK_IMPORTED_MODULE_1__.readFile)(path);
    const out = [];
    const decoded = decodeKeyText(bytes);
    if (decoded)
        out.push(fingerprintOf(decoded));
    out.push(fingerprintOf(bytes));
    decoded?.fill(0);
    bytes.fill(0);
    return out;
}
function decodeKeyText(bytes) {
    const text = bytes.toString('latin1').trim();
    if (/^[0-9a-fA-F]{64}$/.test(text))
        return Buffer.from(text, 'hex');
    if (/^[A-Za-z0-9+/_-]{42,43}={0,2}$/.test(text)) {
        const raw = Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
        if (raw.length === 32)
            return raw;
    }
    return undefined;
}
function fingerprintOf(bytes) {
    return 'sha256:' + (0,node_crypto__WEBPACK_IMPORTED_MODULE_0__.createHash)('sha256').update(bytes).digest('hex');
}
/** Lowercase, trimmed, with the `sha256:` prefix added to a bare 64-hex value. */
function normalizeFingerprint(value) {
    const t = value.trim().toLowerCase();
    return /^[0-9a-f]{64}$/.test(t) ? 'sha256:' + t : t;
}
/** Reads what the database expects and compares; a mismatch is a result, not an exception. */
async function checkKekPairing(deps, input) {
    const label = deps.label ?? ((n) => n);
    const actuals = await kekFingerprints(input.kekPath);
    const source = input.kekFingerprintQuery ? 'query' : 'command';
    const expectedRaw = input.kekFingerprintQuery
        ? await fingerprintFromQuery(input.databaseUrl, input.urlInput, input.kekFingerprintQuery, label('kek-fingerprint-query'))
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
async function assertKekPairing(deps, input) {
    const r = await checkKekPairing(deps, input);
    if (!r.ok)
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_4__/* .CheckFailed */ .EC(r.detail);
    return r;
}
function short(fp) {
    return fp.length > 23 ? fp.slice(0, 23) + '…' : fp;
}
/** One text value from the first row's first column; the fingerprint is not secret, so it may be shown. */
async function fingerprintFromQuery(url, urlInput, sql, input) {
    if (!/^postgres(?:ql)?:\/\//i.test(url)) {
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_4__/* .ConfigError */ .xL(`${input} is SQL for a PostgreSQL database, but ${urlInput} is not a postgres:// URL; for MongoDB use kek-fingerprint-command (e.g. mongosh "$DATABASE_URL" --quiet --eval '…')`);
    }
    const client = await (0,_engines_postgres_connection_js__WEBPACK_IMPORTED_MODULE_3__/* .connectPg */ .QB)(url, urlInput, { applicationName: 'dbdrill kek check' });
    try {
        let rows;
        try {
            rows = (await client.query(sql)).rows;
        }
        catch (err) {
            throw new _errors_js__WEBPACK_IMPORTED_MODULE_4__/* .CheckFailed */ .EC(`${input} failed: ${(0,_errors_js__WEBPACK_IMPORTED_MODULE_4__/* .messageOf */ .bD)(err)}; it must return one text value, the fingerprint the app recorded`);
        }
        if (rows.length === 0) {
            throw new _errors_js__WEBPACK_IMPORTED_MODULE_4__/* .CheckFailed */ .EC(`${input} returned no row: the database records no KEK fingerprint (is this the app's database, and was the app set up?)`);
        }
        if (rows.length > 1) {
            throw new _errors_js__WEBPACK_IMPORTED_MODULE_4__/* .CheckFailed */ .EC(`${input} returned ${rows.length} rows; it must return exactly one fingerprint`);
        }
        const value = Object.values(rows[0])[0];
        if (value === null || value === undefined || String(value).trim() === '') {
            throw new _errors_js__WEBPACK_IMPORTED_MODULE_4__/* .CheckFailed */ .EC(`${input} returned an empty value; it must return the fingerprint the app recorded`);
        }
        return Buffer.isBuffer(value) ? value.toString('hex') : String(value);
    }
    finally {
        await client.end().catch(() => undefined);
    }
}
async function fingerprintFromCommand(deps, input, label) {
    const command = input.kekFingerprintCommand;
    let pgEnv = {};
    try {
        pgEnv = (0,_engines_postgres_connection_js__WEBPACK_IMPORTED_MODULE_3__/* .libpqEnv */ .kY)((0,_engines_postgres_connection_js__WEBPACK_IMPORTED_MODULE_3__/* .parsePgUrl */ .c6)(input.databaseUrl, input.urlInput), {});
    }
    catch {
        /* not a PostgreSQL URL: DATABASE_URL alone */
    }
    const r = await deps.runner.run('/bin/sh', ['-c', command], {
        env: {
            ...process.env,
            ...input.env,
            ...pgEnv,
            DATABASE_URL: input.databaseUrl,
            DBDRILL_SECRETS_DIR: input.secretsDir ?? (0,node_path__WEBPACK_IMPORTED_MODULE_2__.dirname)(input.kekPath),
            DBDRILL_KEK_FILE: input.kekPath,
        },
        signal: deps.signal,
        maxStderrBytes: 8192,
    });
    if (r.code !== 0) {
        const tail = r.stderr.trim().split('\n').slice(-3).join(' | ');
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_4__/* .CheckFailed */ .EC(`${label} failed (exit ${r.code ?? r.signal}): ${tail || 'no output on stderr'}`);
    }
    const line = r.stdout
        .split(/\r?\n/)
        .map((l) => l.trim())
        .filter(Boolean)
        .pop();
    if (!line)
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_4__/* .CheckFailed */ .EC(`${label} printed nothing; it must print the fingerprint the database expects`);
    return line;
}


/***/ })

};
