/**
 * The `.sha256` file beside a stored object, in `sha256sum` format ("<hex>  <key>"). Backup writes
 * it from the hash the store computed while uploading, so a later read can prove the stored bytes
 * did not change, even for a bundle encrypted to keys the reader does not hold.
 */
import type { Store } from './store.js';

export const SHA256_SIDECAR_SUFFIX = '.sha256';

export function sha256SidecarKey(key: string): string {
  return key + SHA256_SIDECAR_SUFFIX;
}

export async function writeSha256Sidecar(store: Store, key: string, sha256: string): Promise<void> {
  await store.writeText(sha256SidecarKey(key), `${sha256}  ${key}\n`);
}

/** The recorded hex digest; undefined when there is no sidecar or it cannot be read (then nothing is compared). */
export async function readSha256Sidecar(store: Store, key: string): Promise<string | undefined> {
  const text = await store.readText(sha256SidecarKey(key)).catch(() => undefined);
  return text?.trim().split(/\s+/)[0] || undefined;
}
