import { parseBundleKey } from '../bundle/naming.js';
import type { BundleLocation, VerifyResult } from './types.js';

/**
 * The `backup age` layer: how old the backup is, from the best source there is (the manifest's end
 * time, else the file's modification time, the bundle name, the dump header), against max-age when
 * one is set. An unknown time only fails when a max-age asks for proof.
 */
export function backupAgeLayer(
  now: Date,
  location: BundleLocation,
  maxAgeSeconds: number | undefined,
  result: VerifyResult,
): void {
  let endedAt: Date | undefined;
  let source = '';
  if (result.manifest) {
    endedAt = new Date(result.manifest.endedAt);
    source = "the manifest's end time";
  } else if (location.object?.modifiedAt) {
    endedAt = location.object.modifiedAt;
    source = "the file's modification time";
  } else if (parseBundleKey(location.key)) {
    endedAt = parseBundleKey(location.key)!.timestamp;
    source = 'the bundle name';
  } else if (result.pgDump?.report.header.createdAt) {
    endedAt = result.pgDump.report.header.createdAt;
    source = "the dump header's creation time";
  }
  if (!endedAt) {
    const ok = maxAgeSeconds === undefined;
    result.layers.push({
      name: 'backup age',
      ok,
      skipped: ok,
      detail: 'the backup time is unknown' + (ok ? '' : ', so max-age cannot be proven'),
    });
    return;
  }
  const age = Math.max(0, Math.round((now.getTime() - endedAt.getTime()) / 1000));
  result.ageSeconds = age;
  if (maxAgeSeconds === undefined) {
    result.layers.push({
      name: 'backup age',
      ok: true,
      detail: `${age} s old (from ${source}); no max-age set`,
    });
  } else {
    const ok = age <= maxAgeSeconds;
    result.layers.push({
      name: 'backup age',
      ok,
      detail: `${age} s old (from ${source}), ${ok ? 'within' : 'over'} max-age ${maxAgeSeconds} s`,
    });
  }
}
