import type { Readable } from 'node:stream';

/** What the reader accepts: a byte stream (file, stdin, tar member, HTTP body) or a whole buffer. */
export type PgDumpInput = Readable | AsyncIterable<Buffer | Uint8Array> | Buffer | Uint8Array;

/** Raised when the input ends before the bytes a field needs; the parser adds the context. */
export class EndOfInput extends Error {
  constructor(readonly offset: number) {
    super(`end of input at byte ${offset}`);
    this.name = 'EndOfInput';
  }
}

async function* single(buffer: Buffer): AsyncIterable<Buffer> {
  yield buffer;
}

/**
 * A forward-only cursor over an async byte stream. Small fields are read synchronously from
 * the buffered input (the common case costs no await); large payloads are handed out as
 * zero-copy slices of the input chunks, so nothing ever holds more than a few input chunks.
 * The input may refill one buffer: a chunk is not read once the next is asked for (what a field
 * needs across chunks is copied first).
 */
export class ByteSource {
  private readonly iterator: AsyncIterator<unknown>;
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;
  /** Absolute offset of buf[0] in the stream. */
  private base = 0;
  private ended = false;

  constructor(input: PgDumpInput) {
    const iterable: AsyncIterable<unknown> = Buffer.isBuffer(input)
      ? single(input)
      : input instanceof Uint8Array
        ? single(Buffer.from(input.buffer, input.byteOffset, input.byteLength))
        : (input as AsyncIterable<unknown>);
    this.iterator = iterable[Symbol.asyncIterator]();
  }

  /** Absolute offset of the next unread byte. */
  get offset(): number {
    return this.base + this.pos;
  }

  available(): number {
    return this.buf.length - this.pos;
  }

  /** True once the input is exhausted and every buffered byte consumed. */
  async atEnd(): Promise<boolean> {
    return this.available() === 0 && !(await this.ensure(1));
  }

  /** Make at least n bytes contiguous in the buffer; false when the input ends first. */
  async ensure(n: number): Promise<boolean> {
    if (this.available() >= n) return true;
    // copied before the next chunk is asked for: that may overwrite this one
    const rest = this.buf.subarray(this.pos);
    const parts: Buffer[] = rest.length ? [Buffer.from(rest)] : [];
    let have = rest.length;
    while (have < n) {
      const chunk = await this.next();
      if (!chunk) break;
      parts.push(chunk);
      have += chunk.length;
    }
    this.base += this.pos;
    this.buf = parts.length === 1 ? parts[0]! : Buffer.concat(parts, have);
    this.pos = 0;
    return have >= n;
  }

  /** Load the next input chunk when the buffer is empty; false at end of input. */
  async refill(): Promise<boolean> {
    if (this.available() > 0) return true;
    const chunk = await this.next();
    if (!chunk) return false;
    this.base += this.buf.length;
    this.buf = chunk;
    this.pos = 0;
    return true;
  }

  /** Sync reads: the caller has ensured the bytes are buffered. */
  u8(): number {
    return this.buf[this.pos++]!;
  }

  /** A view of the next n buffered bytes (valid until the next refill/ensure). */
  take(n: number): Buffer {
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** Stop reading: lets a Readable source release its file descriptor. */
  async close(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    try {
      await this.iterator.return?.();
    } catch {
      // A source that fails while being closed has nothing more to tell us.
    }
  }

  private async next(): Promise<Buffer | undefined> {
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
        throw new TypeError(
          'the pg_dump input stream yields text, not bytes: do not set an encoding on a stream of a binary dump',
        );
      }
      if (chunk.length > 0) return chunk;
    }
    return undefined;
  }
}
