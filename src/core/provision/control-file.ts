/**
 * A new database system identifier for a copied, never-started data directory. Copies of one
 * initdb template would otherwise share initdb's identifier, and the drill tells the backup's own
 * source from a scratch target by that identifier (`engines/postgres/target-safety.ts`): a source
 * that is itself a dbdrill scratch cluster (the demo, the tests) would look like the target.
 *
 * pg_resetwal has no option for it (and the embedded npm server has no pg_resetwal), so the
 * identifier is rewritten here: the first 8 bytes of `global/pg_control`, with the control file's
 * CRC-32C, whose offset is found rather than assumed (the struct differs between majors), and the
 * `xlp_sysid` of each WAL segment's long page header, which the server checks against pg_control
 * (`XLogLongPageHeaderData`, unchanged since 9.x; page headers carry no CRC). A file that does not
 * look as expected is an error, and the caller falls back to initdb.
 */
import { open, readdir } from 'node:fs/promises';
import path from 'node:path';

/** PG_CONTROL_MAX_SAFE_SIZE: the struct, CRC included, fits in the first 512 bytes. */
const MAX_CONTROL = 512;

let table: Uint32Array | undefined;

/** CRC-32C (Castagnoli), as PostgreSQL's INIT/COMP/FIN_CRC32C compute it. */
export function crc32c(buf: Uint8Array): number {
  if (!table) {
    table = new Uint32Array(256);
    for (let i = 0; i < 256; i++) {
      let c = i;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
      table[i] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (const b of buf) crc = table[(crc ^ b) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** Where the control file's CRC sits: the one 4-aligned offset whose stored value is the CRC of what precedes it. */
export function controlCrcOffset(control: Buffer): number {
  const found: number[] = [];
  for (let off = 16; off + 4 <= Math.min(control.length, MAX_CONTROL); off += 4) {
    if (control.readUInt32LE(off) === crc32c(control.subarray(0, off))) found.push(off);
  }
  if (found.length !== 1) throw new Error(`pg_control: ${found.length} candidate CRC offsets, expected 1`);
  return found[0]!;
}

/** A fresh identifier shaped like initdb's: seconds since the epoch in the high half. */
export function newSystemIdentifier(nowMs: number, random: Buffer): bigint {
  return (BigInt(Math.floor(nowMs / 1000)) << 32n) | BigInt(random.readUInt32LE(0));
}

/** XLOG_PAGE_MAGIC differs per major; XLP_LONG_HEADER marks a segment's first page. */
const XLP_LONG_HEADER = 0x0002;
const SYSID_IN_LONG_HEADER = 24;
const WAL_SEGMENT = /^[0-9A-F]{24}$/;

/** Rewrites the identifier in place, pg_control and WAL (owner and mode kept); returns the old one. */
export async function setSystemIdentifier(dataDir: string, id: bigint): Promise<bigint> {
  const file = await open(path.join(dataDir, 'global', 'pg_control'), 'r+');
  let old: bigint;
  let control: Buffer;
  let crcAt: number;
  try {
    const head = Buffer.alloc(MAX_CONTROL);
    const { bytesRead } = await file.read(head, 0, MAX_CONTROL, 0);
    control = head.subarray(0, bytesRead);
    crcAt = controlCrcOffset(control);
    old = control.readBigUInt64LE(0);
  } catch (e) {
    await file.close();
    throw e;
  }
  try {
    const wal = path.join(dataDir, 'pg_wal');
    let patched = 0;
    for (const name of (await readdir(wal)).filter((n) => WAL_SEGMENT.test(n))) {
      const seg = await open(path.join(wal, name), 'r+');
      try {
        const h = Buffer.alloc(SYSID_IN_LONG_HEADER + 8);
        const { bytesRead } = await seg.read(h, 0, h.length, 0);
        // a preallocated, never-written segment is all zeroes: nothing to patch
        if (bytesRead < h.length || h.readUInt16LE(0) === 0) continue;
        if (!(h.readUInt16LE(2) & XLP_LONG_HEADER) || h.readBigUInt64LE(SYSID_IN_LONG_HEADER) !== old)
          throw new Error(`pg_wal/${name} does not start with a long page header of this system`);
        h.writeBigUInt64LE(id, SYSID_IN_LONG_HEADER);
        await seg.write(h, SYSID_IN_LONG_HEADER, 8, SYSID_IN_LONG_HEADER);
        patched++;
      } finally {
        await seg.close();
      }
    }
    if (patched === 0) throw new Error('pg_wal holds no segment to carry the new system identifier');
    control.writeBigUInt64LE(id, 0);
    control.writeUInt32LE(crc32c(control.subarray(0, crcAt)), crcAt);
    await file.write(control, 0, crcAt + 4, 0);
    return old;
  } finally {
    await file.close();
  }
}
