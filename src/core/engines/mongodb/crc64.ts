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
export class Crc64 {
  /** Running register, already inverted (Go's `^crc` on entry and exit). */
  private lo = 0xffffffff;
  private hi = 0xffffffff;

  update(buf: Uint8Array, start = 0, end = buf.length): this {
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
  hex(): string {
    return (~this.hi >>> 0).toString(16).padStart(8, '0') + (~this.lo >>> 0).toString(16).padStart(8, '0');
  }

  /** The checksum as an unsigned 64-bit integer. */
  value(): bigint {
    return BigInt('0x' + this.hex());
  }
}

/** One-shot CRC-64/XZ of a buffer, as 16 hex digits. */
export function crc64Hex(buf: Uint8Array): string {
  return new Crc64().update(buf).hex();
}
