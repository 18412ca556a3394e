/**
 * What a (decrypted) stored object holds, told by its first bytes: a dump one of the engines
 * recognises, stored bare (a pg_dump custom-format file, a mongodump archive), read by that
 * engine; or a dbdrill bundle (a tar), walked member by member.
 */
import type { ByteInput } from '../bundle/stream-utils.js';
import { ENGINES } from '../engines/registry.js';
import { inspectBundleMembers } from './bundle-members.js';
import { engineInspectContext } from './engine-context.js';
import type { InspectDeps, InspectOptions, VerifyResult } from './types.js';

export async function inspectContents(
  deps: InspectDeps,
  options: InspectOptions,
  result: VerifyResult,
  head: Buffer,
  stream: ByteInput,
): Promise<void> {
  const bare = (deps.engines ?? ENGINES).find((e) => e.recognizesBareDump(head));
  if (bare) {
    const context = engineInspectContext(deps, options, result, () => (result.extracted ??= {}));
    return bare.inspectBareDump(head, stream, context);
  }
  if (head.length < 512 || head.subarray(257, 262).toString('latin1') !== 'ustar') {
    result.layers.push({
      name: 'bundle readable',
      ok: false,
      detail:
        head.length === 0
          ? 'the file is empty'
          : 'not a dbdrill bundle (a tar archive) nor a pg_dump custom-format file nor a mongodump archive; check the path',
    });
    return;
  }
  result.kind = 'bundle';
  await inspectBundleMembers(deps, options, result, stream);
}
