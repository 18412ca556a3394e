import type { VerifyLayer } from '../verify-layer.js';

/** The object's bytes as stored, against the sha256 recorded beside it at upload (when there is one). */
export function storedObjectLayer(
  whole: { bytes: number; sha256: string },
  recorded: string | undefined,
): VerifyLayer {
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
