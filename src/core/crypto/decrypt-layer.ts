/**
 * Verify's `decrypts` layer: an age-encrypted bundle is opened with the key given, and its
 * contents are checked through the decrypting stream. The layer's verdict is only known once the
 * contents were read to the end, because damage past the age header (a truncated or tampered
 * object) surfaces mid-stream.
 */
import type { Readable } from 'node:stream';

import { peek, toReadable, type ByteInput } from '../bundle/stream-utils.js';
import { messageOf } from '../errors.js';
import type { VerifyLayer } from '../verify-layer.js';

/** What `decrypts` says when a key was given but the bundle is not encrypted. */
export const KEY_FOR_PLAIN_BUNDLE_NOTE =
  'not needed: the bundle is not encrypted, so the identity or passphrase given was not used';

const NAME = 'decrypts';

export type Decrypt = (cipher: Readable) => Readable;

/** The plain contents to inspect, and the `decrypts` layer to add once they were read. */
export interface OpenedContents {
  encrypted: boolean;
  head: Buffer;
  stream: ByteInput;
  /** Call after the contents were consumed; undefined for a plain bundle read without a key. */
  decryptsLayer(): VerifyLayer | undefined;
}

/** The contents could not be reached: the layer says why, and nothing past it can be checked. */
export interface UnopenedContents {
  encrypted: true;
  failed: VerifyLayer;
}

/**
 * Opens what a stored object holds: itself when plain, its decryption when it starts with the age
 * header. `head` is the object's first 512 bytes and `stream` all of it (head included).
 */
export async function openContents(
  head: Buffer,
  stream: ByteInput,
  decrypt: Decrypt | undefined,
): Promise<OpenedContents | UnopenedContents> {
  if (head.subarray(0, 21).toString('latin1') !== 'age-encryption.org/v1') {
    return {
      encrypted: false,
      head,
      stream,
      decryptsLayer: () =>
        decrypt ? { name: NAME, ok: true, skipped: true, detail: KEY_FOR_PLAIN_BUNDLE_NOTE } : undefined,
    };
  }
  if (!decrypt) {
    return {
      encrypted: true,
      failed: {
        name: NAME,
        ok: false,
        detail:
          'the bundle is age-encrypted and no identity or passphrase was given; pass identity (or passphrase)',
      },
    };
  }
  const plain = decrypt(toReadable(stream));
  let decryptError: unknown;
  plain.on('error', (err) => (decryptError ??= err));
  const inner = await peek(plain, 512).catch((err: Error) => ({ error: err }) as const);
  if ('error' in inner)
    return { encrypted: true, failed: { name: NAME, ok: false, detail: messageOf(inner.error) } };
  return {
    encrypted: true,
    head: inner.head,
    stream: inner.stream,
    decryptsLayer: () => ({
      name: NAME,
      ok: !decryptError,
      detail: decryptError
        ? messageOf(decryptError)
        : 'decrypted with the given key to its end; contents checked below',
    }),
  };
}
