/**
 * The headers of the bundle's tar, written by dbdrill itself so the packer can stream file members
 * through buffers it reuses (see `bundleChunks` in tar.ts). The layout is exactly the one tar-stream
 * 3 wrote before (ustar; a name longer than 100 bytes split at a "/" into the 155-byte prefix; a
 * pax `path` record when it cannot be split or is not ASCII; a size of 8 GiB or more in GNU
 * base-256): bundles stay byte for byte what they were, and every tar reader keeps reading them.
 */

export const BLOCK = 512;
/** Two zero blocks end a tar archive. */
export const END_OF_ARCHIVE = Buffer.alloc(2 * BLOCK);

const FILE_MODE = 0o600;
const TYPE_FILE = 0x30; // '0'
const TYPE_PAX = 0x78; // 'x'
const MAX_OCTAL_SIZE = 0o77777777777; // 11 octal digits

export interface FileHeader {
  name: string;
  size: number;
  mtime: Date;
}

/** The header block(s) of a regular file member: one ustar block, or a pax record, its data and the block. */
export function fileHeader(header: FileHeader): Buffer {
  const plain = ustarBlock(header.name, header.size, header.mtime, TYPE_FILE);
  if (plain) return plain;
  const record = paxRecord('path', header.name);
  return Buffer.concat([
    ustarBlock('PaxHeader', record.length, header.mtime, TYPE_PAX)!,
    record,
    Buffer.alloc(padding(record.length)),
    ustarBlock('PaxHeader', header.size, header.mtime, TYPE_FILE)!,
  ]);
}

/** Zero bytes that bring a member's data to a whole number of blocks. */
export function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

function ustarBlock(fullName: string, size: number, mtime: Date, type: number): Buffer | null {
  if (Buffer.byteLength(fullName) !== fullName.length) return null; // not ASCII: pax
  let name = fullName;
  let prefix = '';
  while (name.length > 100) {
    const slash = name.indexOf('/');
    if (slash === -1) return null;
    prefix += prefix ? '/' + name.slice(0, slash) : name.slice(0, slash);
    name = name.slice(slash + 1);
  }
  if (prefix.length > 155) return null;
  const block = Buffer.alloc(BLOCK);
  block.write(name, 0, 'latin1');
  block.write(octal(FILE_MODE, 6), 100, 'latin1');
  block.write(octal(0, 6), 108, 'latin1'); // uid
  block.write(octal(0, 6), 116, 'latin1'); // gid
  if (size > MAX_OCTAL_SIZE) base256(size, block, 124);
  else block.write(octal(size, 11), 124, 'latin1');
  block.write(octal(Math.trunc(mtime.getTime() / 1000), 11), 136, 'latin1');
  block[156] = type;
  block.write('ustar\0', 257, 'latin1');
  block.write('00', 263, 'latin1');
  block.write(octal(0, 6), 329, 'latin1'); // devmajor
  block.write(octal(0, 6), 337, 'latin1'); // devminor
  if (prefix) block.write(prefix, 345, 'latin1');
  block.write(octal(checksum(block), 6), 148, 'latin1');
  return block;
}

/** Zero-padded octal digits and a space; all 7s when the value does not fit (as tar-stream wrote). */
function octal(value: number, digits: number): string {
  const text = value.toString(8);
  return (text.length > digits ? '7'.repeat(digits) : text.padStart(digits, '0')) + ' ';
}

/** GNU's base-256 size field: 0x80, then the value big-endian in the 11 bytes after it. */
function base256(value: number, block: Buffer, at: number): void {
  block[at] = 0x80;
  let rest = value;
  for (let i = 11; i > 0; i--) {
    block[at + i] = rest % 256;
    rest = Math.floor(rest / 256);
  }
}

/** The header's byte sum with the checksum field itself counted as eight spaces. */
function checksum(block: Buffer): number {
  let sum = 8 * 0x20;
  for (let i = 0; i < 148; i++) sum += block[i];
  for (let i = 156; i < BLOCK; i++) sum += block[i];
  return sum;
}

/** One pax record, "<length> <key>=<value>\n", whose length counts its own digits. */
function paxRecord(key: string, value: string): Buffer {
  const body = ` ${key}=${value}\n`;
  const bytes = Buffer.byteLength(body);
  let digits = String(bytes).length;
  if (bytes + digits >= 10 ** digits) digits++;
  return Buffer.from(`${bytes + digits}${body}`);
}
