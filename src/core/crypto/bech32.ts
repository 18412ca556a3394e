/**
 * BIP 173 bech32 (not bech32m), as age uses it for `age1…` recipients and `AGE-SECRET-KEY-1…`
 * identities. Written out here (40 lines) rather than importing `@scure/base`, which is only a
 * transitive dependency of `age-encryption` and could move under us. Unlike BIP 173, age lifts the
 * 90-character limit, so no length cap is applied.
 */

const CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const GENERATORS = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];

function polymod(values: number[]): number {
  let chk = 1;
  for (const v of values) {
    const top = chk >>> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk ^= GENERATORS[i];
  }
  return chk >>> 0;
}

function hrpExpand(hrp: string): number[] {
  const out: number[] = [];
  for (const c of hrp) out.push(c.charCodeAt(0) >>> 5);
  out.push(0);
  for (const c of hrp) out.push(c.charCodeAt(0) & 31);
  return out;
}

function convertBits(data: ArrayLike<number>, from: number, to: number, pad: boolean): number[] | null {
  let acc = 0;
  let bits = 0;
  const out: number[] = [];
  const maxv = (1 << to) - 1;
  for (let i = 0; i < data.length; i++) {
    acc = (acc << from) | data[i];
    bits += from;
    while (bits >= to) {
      bits -= to;
      out.push((acc >>> bits) & maxv);
    }
    acc &= (1 << bits) - 1;
  }
  if (pad) {
    if (bits > 0) out.push((acc << (to - bits)) & maxv);
  } else if (bits >= from || ((acc << (to - bits)) & maxv) !== 0) {
    return null;
  }
  return out;
}

/** Encodes bytes; the result is lower case (callers upper-case secret keys, as age does). */
export function bech32Encode(hrp: string, bytes: Uint8Array): string {
  const lowerHrp = hrp.toLowerCase();
  const words = convertBits(bytes, 8, 5, true) as number[];
  const mod = polymod([...hrpExpand(lowerHrp), ...words, 0, 0, 0, 0, 0, 0]) ^ 1;
  const checksum: number[] = [];
  for (let i = 0; i < 6; i++) checksum.push((mod >>> (5 * (5 - i))) & 31);
  return lowerHrp + '1' + [...words, ...checksum].map((w) => CHARSET[w]).join('');
}

export type Bech32Result = { ok: true; hrp: string; bytes: Buffer } | { ok: false; reason: string };

/** Decodes a bech32 string; the hrp comes back lower case. Never throws. */
export function bech32Decode(value: string): Bech32Result {
  if (value !== value.toLowerCase() && value !== value.toUpperCase()) {
    return { ok: false, reason: 'mixes upper and lower case' };
  }
  const s = value.toLowerCase();
  const sep = s.lastIndexOf('1');
  if (sep < 1) return { ok: false, reason: 'has no "1" separator after the prefix' };
  if (s.length - sep - 1 < 6) return { ok: false, reason: 'is too short' };
  const hrp = s.slice(0, sep);
  for (const c of hrp) {
    const code = c.charCodeAt(0);
    if (code < 33 || code > 126) return { ok: false, reason: 'has an invalid character in its prefix' };
  }
  const words: number[] = [];
  for (const c of s.slice(sep + 1)) {
    const w = CHARSET.indexOf(c);
    if (w < 0)
      return {
        ok: false,
        reason: 'has a character bech32 does not use (bech32 has no b, i, o or 1 after the prefix)',
      };
    words.push(w);
  }
  if (polymod([...hrpExpand(hrp), ...words]) !== 1) {
    return { ok: false, reason: 'has a bad checksum (a typo or a truncated copy)' };
  }
  const bytes = convertBits(words.slice(0, -6), 5, 8, false);
  if (bytes === null) return { ok: false, reason: 'has invalid padding' };
  return { ok: true, hrp, bytes: Buffer.from(bytes) };
}
