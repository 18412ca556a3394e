/**
 * A streaming decoder of the LZ4 frame format (lz4_Frame_format.md, magic 0x184D2204), the
 * container pg_dump 16+ writes for `--compress=lz4` (LZ4F_compressBegin/Update/End), in custom
 * archives and in directory dumps' `.lz4` files alike. Node.js has no built-in LZ4 and a native
 * npm module would have to be bundled into every action; the format is small enough to read
 * here, in bounded memory (one block and the 64 KiB window), checking every checksum the frame
 * carries (header, block and content xxHash32) so a flipped byte cannot pass unnoticed when the
 * writer asked for checksums.
 */
import { Transform, type TransformCallback } from 'node:stream';

const FRAME_MAGIC = 0x184d2204;
const WINDOW = 64 * 1024;
const BLOCK_MAX: Record<number, number> = { 4: 64 * 1024, 5: 256 * 1024, 6: 1024 * 1024, 7: 4 * 1024 * 1024 };

const P1 = 2654435761;
const P2 = 2246822519;
const P3 = 3266489917;
const P4 = 668265263;
const P5 = 374761393;

function rotl(x: number, r: number): number {
  return ((x << r) | (x >>> (32 - r))) >>> 0;
}

/** Streaming xxHash32 (seed 0), the checksum LZ4 frames use. */
export class XxHash32 {
  private v1 = (P1 + P2) >>> 0;
  private v2 = P2;
  private v3 = 0;
  private v4 = (0 - P1) >>> 0;
  private total = 0;
  private readonly mem = Buffer.alloc(16);
  private memLen = 0;

  update(buf: Uint8Array): void {
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
    for (; p + 16 <= len; p += 16) this.round(buf, p);
    if (p < len) {
      this.mem.set(buf.subarray(p), 0);
      this.memLen = len - p;
    }
  }

  digest(): number {
    let h =
      this.total >= 16
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
      h = (h + Math.imul(m[p]!, P5)) >>> 0;
      h = Math.imul(rotl(h, 11), P1) >>> 0;
    }
    h ^= h >>> 15;
    h = Math.imul(h, P2) >>> 0;
    h ^= h >>> 13;
    h = Math.imul(h, P3) >>> 0;
    h ^= h >>> 16;
    return h >>> 0;
  }

  private round(b: Uint8Array, p: number): void {
    const r = (v: number, i: number) =>
      Math.imul(rotl((v + Math.imul(readU32(b, i), P2)) >>> 0, 13), P1) >>> 0;
    this.v1 = r(this.v1, p);
    this.v2 = r(this.v2, p + 4);
    this.v3 = r(this.v3, p + 8);
    this.v4 = r(this.v4, p + 12);
  }
}

function readU32(b: Uint8Array, i: number): number {
  return (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;
}

export function xxh32(buf: Uint8Array): number {
  const h = new XxHash32();
  h.update(buf);
  return h.digest();
}

export class Lz4FormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Lz4FormatError';
  }
}

/**
 * Decompresses one LZ4 block into `out` at `outPos` (the window before it holds earlier data
 * for linked blocks). Returns the new output position.
 */
export function decodeLz4Block(
  src: Uint8Array,
  out: Uint8Array,
  outPos: number,
  windowStart: number,
): number {
  let s = 0;
  let o = outPos;
  const end = src.length;
  for (;;) {
    if (s >= end) throw new Lz4FormatError('block ends inside a sequence');
    const token = src[s++]!;
    let lit = token >>> 4;
    if (lit === 15) {
      let b;
      do {
        if (s >= end) throw new Lz4FormatError('block ends inside a literal length');
        b = src[s++]!;
        lit += b;
      } while (b === 255);
    }
    if (s + lit > end) throw new Lz4FormatError('literal run goes past the end of the block');
    if (o + lit > out.length) throw new Lz4FormatError('block inflates beyond its maximum size');
    out.set(src.subarray(s, s + lit), o);
    s += lit;
    o += lit;
    if (s === end) return o; // the last sequence has literals only
    if (s + 2 > end) throw new Lz4FormatError('block ends inside a match offset');
    const offset = src[s]! | (src[s + 1]! << 8);
    s += 2;
    if (offset === 0 || o - offset < windowStart)
      throw new Lz4FormatError(`match offset ${offset} points before the start of the data`);
    let mlen = token & 15;
    if (mlen === 15) {
      let b;
      do {
        if (s >= end) throw new Lz4FormatError('block ends inside a match length');
        b = src[s++]!;
        mlen += b;
      } while (b === 255);
    }
    mlen += 4;
    if (o + mlen > out.length) throw new Lz4FormatError('block inflates beyond its maximum size');
    let from = o - offset;
    if (offset >= mlen) {
      out.copyWithin(o, from, from + mlen);
      o += mlen;
    } else {
      for (let i = 0; i < mlen; i++) out[o++] = out[from++]!;
    }
  }
}

type State = 'magic' | 'header' | 'block-size' | 'block' | 'content-checksum' | 'skippable';

/**
 * LZ4 frame(s) in, plain bytes out. Concatenated and skippable frames are accepted, as the
 * reference `lz4 -d` does. Errors name what is wrong; `bytesWritten` counts the input consumed,
 * like zlib's streams, and `flush` fails when the input stops inside a frame.
 */
export class Lz4FrameDecoder extends Transform {
  bytesWritten = 0;
  private pending: Buffer[] = [];
  private pendingLen = 0;
  private state: State = 'magic';
  private need = 4;
  private frames = 0;
  private blockIndependent = false;
  private blockChecksum = false;
  private contentChecksum = false;
  private contentSize: number | undefined;
  private blockMax = BLOCK_MAX[4]!;
  private blockLen = 0;
  private blockRaw = false;
  private produced = 0;
  private hash?: XxHash32;
  /** Window + current block: linked blocks refer back up to 64 KiB. */
  private buf = Buffer.alloc(0);
  private bufPos = 0;

  constructor(options: { chunkSize?: number } = {}) {
    super({ readableHighWaterMark: options.chunkSize ?? 256 * 1024 });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    try {
      this.pending.push(chunk);
      this.pendingLen += chunk.length;
      this.run();
      done();
    } catch (err) {
      done(err instanceof Lz4FormatError ? err : new Lz4FormatError((err as Error).message));
    }
  }

  override _flush(done: TransformCallback): void {
    if (this.frames === 0 && this.state === 'magic')
      return done(new Lz4FormatError('empty input: no LZ4 frame'));
    if (this.state !== 'magic' || this.pendingLen > 0)
      return done(new Lz4FormatError('the input ends inside an LZ4 frame (truncated)'));
    done();
  }

  private takeBytes(n: number): Buffer {
    let out: Buffer;
    const first = this.pending[0]!;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.pending.shift();
      else this.pending[0] = first.subarray(n);
    } else {
      out = Buffer.allocUnsafe(n);
      let o = 0;
      while (o < n) {
        const head = this.pending[0]!;
        const k = Math.min(head.length, n - o);
        head.copy(out, o, 0, k);
        o += k;
        if (k === head.length) this.pending.shift();
        else this.pending[0] = head.subarray(k);
      }
    }
    this.pendingLen -= n;
    this.bytesWritten += n;
    return out;
  }

  private peekByte(i: number): number {
    for (const b of this.pending) {
      if (i < b.length) return b[i]!;
      i -= b.length;
    }
    return -1;
  }

  private run(): void {
    for (;;) {
      if (this.state === 'header') {
        // FLG BD [content size 8] [dict id 4] HC; the length depends on FLG.
        if (this.pendingLen < 1) return;
        const flg = this.peekByte(0);
        this.need = 3 + (flg & 0x08 ? 8 : 0) + (flg & 0x01 ? 4 : 0);
      }
      if (this.pendingLen < this.need) return;
      switch (this.state) {
        case 'magic': {
          const m = this.takeBytes(4).readUInt32LE(0);
          if (m === FRAME_MAGIC) {
            this.state = 'header';
          } else if ((m & 0xfffffff0) === 0x184d2a50) {
            this.state = 'skippable';
            this.need = 4;
            this.skipLen = -1;
          } else {
            throw new Lz4FormatError(
              `not an LZ4 frame: magic number 0x${m.toString(16).padStart(8, '0')} (expected 0x184d2204)`,
            );
          }
          break;
        }
        case 'skippable': {
          if (this.skipLen < 0) {
            this.skipLen = this.takeBytes(4).readUInt32LE(0);
            this.need = Math.min(this.skipLen, 1);
          }
          const k = Math.min(this.skipLen, this.pendingLen);
          if (k > 0) this.takeBytes(k);
          this.skipLen -= k;
          if (this.skipLen > 0) return;
          this.state = 'magic';
          this.need = 4;
          break;
        }
        case 'header': {
          const h = this.takeBytes(this.need);
          const flg = h[0]!;
          const bd = h[1]!;
          if (flg >>> 6 !== 1) throw new Lz4FormatError(`unsupported LZ4 frame version ${flg >>> 6}`);
          if (flg & 0x02 || bd & 0x8f) throw new Lz4FormatError('reserved bits set in the LZ4 frame header');
          const max = BLOCK_MAX[(bd >>> 4) & 7];
          if (!max) throw new Lz4FormatError(`bad LZ4 block size id ${(bd >>> 4) & 7}`);
          const hc = h[h.length - 1]!;
          const expected = (xxh32(h.subarray(0, h.length - 1)) >>> 8) & 0xff;
          if (hc !== expected) throw new Lz4FormatError('LZ4 frame header checksum mismatch');
          if (flg & 0x01) throw new Lz4FormatError('LZ4 frame needs a dictionary, which pg_dump never uses');
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
              throw new Lz4FormatError(
                `LZ4 frame holds ${this.produced} bytes, its header says ${this.contentSize}`,
              );
            }
            this.frames++;
            if (this.contentChecksum) {
              this.state = 'content-checksum';
              this.need = 4;
            } else {
              this.state = 'magic';
              this.need = 4;
            }
            break;
          }
          this.blockRaw = (v & 0x80000000) !== 0;
          this.blockLen = v & 0x7fffffff;
          if (this.blockLen > this.blockMax)
            throw new Lz4FormatError(
              `LZ4 block of ${this.blockLen} bytes exceeds the frame's ${this.blockMax}`,
            );
          this.state = 'block';
          this.need = this.blockLen + (this.blockChecksum ? 4 : 0);
          break;
        }
        case 'block': {
          const data = this.takeBytes(this.blockLen);
          if (this.blockChecksum) {
            const sum = this.takeBytes(4).readUInt32LE(0);
            if (sum !== xxh32(data)) throw new Lz4FormatError('LZ4 block checksum mismatch');
          }
          this.decodeBlock(data);
          this.state = 'block-size';
          this.need = 4;
          break;
        }
        case 'content-checksum': {
          const sum = this.takeBytes(4).readUInt32LE(0);
          if (sum !== this.hash!.digest())
            throw new Lz4FormatError('LZ4 content checksum mismatch: the data inflates to other bytes');
          this.state = 'magic';
          this.need = 4;
          break;
        }
      }
    }
  }

  private skipLen = -1;

  private decodeBlock(data: Buffer): void {
    if (!this.blockIndependent && this.bufPos > WINDOW) {
      // Keep the last 64 KiB as the window for the next linked block.
      this.buf.copyWithin(0, this.bufPos - WINDOW, this.bufPos);
      this.bufPos = WINDOW;
    }
    const start = this.blockIndependent ? 0 : this.bufPos;
    if (this.blockIndependent) this.bufPos = 0;
    let end: number;
    if (this.blockRaw) {
      this.buf.set(data, start);
      end = start + data.length;
    } else {
      end = decodeLz4Block(data, this.buf, start, this.blockIndependent ? start : 0);
    }
    this.bufPos = end;
    const out = Buffer.from(this.buf.subarray(start, end));
    this.produced += out.length;
    this.hash?.update(out);
    if (out.length) this.push(out);
  }
}
