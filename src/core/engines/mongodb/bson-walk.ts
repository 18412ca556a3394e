/**
 * Just enough BSON for verification: a structural walk that proves a document is well formed
 * without materialising it (so a 200 MB archive costs no allocations per document), and a
 * decoder of top-level scalar fields for the archive's small header documents. The `bson`
 * package is only a transitive dependency of the driver, and deserialising every document
 * would be several times slower than walking it.
 */

/** mongo-tools' `db.MaxBSONSize`: the parser rejects any length above it. */
export const MAX_BSON_SIZE = 16 * 1024 * 1024;

/** Deeper nesting is refused rather than risking the call stack; the server allows 100 levels. */
const MAX_DEPTH = 200;

/** Where and why a document is malformed; `at` is relative to the document's first byte. */
export interface BsonFault {
  at: number;
  reason: string;
}

function i32(buf: Uint8Array, i: number): number {
  return buf[i] | (buf[i + 1] << 8) | (buf[i + 2] << 16) | (buf[i + 3] << 24);
}

/**
 * Walks the document occupying `buf[start, start + size)`, whose length prefix the caller has
 * already read and bounded. Returns undefined when every element's type, name and length are
 * consistent with the framing, else the first fault.
 */
export function checkBsonDocument(buf: Uint8Array, start: number, size: number): BsonFault | undefined {
  if (size < 5) return { at: 0, reason: `length ${size} is below the BSON minimum of 5` };
  if (buf[start + size - 1] !== 0) {
    return { at: size - 1, reason: `document of ${size} bytes does not end with 0x00` };
  }
  const fault = walk(buf, start, start + size, 0);
  return fault === undefined ? undefined : { at: fault.at - start, reason: fault.reason };
}

/** Walks one (sub)document spanning [pos, end); the terminal 0x00 at end-1 is already checked. */
function walk(buf: Uint8Array, pos: number, end: number, depth: number): BsonFault | undefined {
  if (depth > MAX_DEPTH) return { at: pos, reason: `documents nested deeper than ${MAX_DEPTH} levels` };
  const last = end - 1;
  let i = pos + 4;
  while (i < last) {
    const typeAt = i;
    const type = buf[i++];
    while (i < last && buf[i] !== 0) i++;
    if (i >= last) return { at: typeAt, reason: 'element name runs past the end of the document' };
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
        if (i < last && buf[i] > 1) return { at: i, reason: `boolean byte ${buf[i]} is neither 0 nor 1` };
        i += 1;
        break;
      case 0x02: // string
      case 0x0d: // JavaScript code
      case 0x0e: // symbol
      case 0x0c: {
        // DBPointer: string then ObjectId
        const fault = stringAt(buf, i, last);
        if (typeof fault !== 'number') return fault;
        i = fault + (type === 0x0c ? 12 : 0);
        break;
      }
      case 0x03: // embedded document
      case 0x04: {
        // array
        if (i + 4 > last) return { at: i, reason: 'embedded document length runs past the end' };
        const n = i32(buf, i);
        if (n < 5 || i + n > last) return { at: i, reason: `embedded document length ${n} does not fit` };
        if (buf[i + n - 1] !== 0)
          return { at: i + n - 1, reason: 'embedded document does not end with 0x00' };
        const fault = walk(buf, i, i + n, depth + 1);
        if (fault) return fault;
        i += n;
        break;
      }
      case 0x05: {
        // binary: length, subtype, bytes
        if (i + 4 > last) return { at: i, reason: 'binary length runs past the end' };
        const n = i32(buf, i);
        if (n < 0 || i + 5 + n > last) return { at: i, reason: `binary length ${n} does not fit` };
        i += 5 + n;
        break;
      }
      case 0x0b: {
        // regex: pattern cstring, options cstring
        for (let k = 0; k < 2; k++) {
          while (i < last && buf[i] !== 0) i++;
          if (i >= last) return { at: typeAt, reason: 'regular expression runs past the end' };
          i++;
        }
        break;
      }
      case 0x0f: {
        // code with scope: total length, string, document
        if (i + 4 > last) return { at: i, reason: 'code-with-scope length runs past the end' };
        const n = i32(buf, i);
        if (n < 14 || i + n > last) return { at: i, reason: `code-with-scope length ${n} does not fit` };
        const afterString = stringAt(buf, i + 4, i + n);
        if (typeof afterString !== 'number') return afterString;
        const scopeLen = afterString + 4 <= i + n ? i32(buf, afterString) : -1;
        if (scopeLen < 5 || afterString + scopeLen !== i + n || buf[i + n - 1] !== 0) {
          return { at: afterString, reason: 'code-with-scope scope document does not fit' };
        }
        const fault = walk(buf, afterString, i + n, depth + 1);
        if (fault) return fault;
        i += n;
        break;
      }
      default:
        return { at: typeAt, reason: `unknown element type 0x${type.toString(16).padStart(2, '0')}` };
    }
    if (i > last) return { at: typeAt, reason: 'element value runs past the end of the document' };
  }
  return undefined;
}

/** Checks a length-prefixed, NUL-terminated string at i ending before `limit`; returns the index after it. */
function stringAt(buf: Uint8Array, i: number, limit: number): number | BsonFault {
  if (i + 4 > limit) return { at: i, reason: 'string length runs past the end' };
  const n = i32(buf, i);
  if (n < 1 || i + 4 + n > limit) return { at: i, reason: `string length ${n} does not fit` };
  if (buf[i + 3 + n] !== 0) return { at: i + 3 + n, reason: 'string does not end with 0x00' };
  return i + 4 + n;
}

/** Top-level scalar fields of a small document; other types map to null. */
export type BsonScalar = string | number | bigint | boolean | null;

/**
 * Decodes the top-level fields of a document that `checkBsonDocument` has accepted. Only the
 * scalar types the archive's header, prelude and namespace documents use are decoded.
 */
export function decodeTopLevel(buf: Buffer, start = 0): Map<string, BsonScalar> {
  const size = i32(buf, start);
  const last = start + size - 1;
  const out = new Map<string, BsonScalar>();
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

function skipValue(buf: Buffer, type: number, i: number): number {
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
