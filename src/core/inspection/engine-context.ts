import { resolve } from 'node:path';

import type { EngineInspectContext } from '../engines/engine.js';
import { openExtract } from './extract.js';
import type { InspectDeps, InspectOptions, VerifyResult } from './types.js';

/**
 * What an engine is handed to read a stored object's dumps: the ports, how deep to read, the
 * result it adds its layers to, and where extracted members go (`extracted`, created on first
 * use, and only when verify extracts for a drill), and for a local tar read deep, where each
 * member starts in the file (`seekable`), so a reader may read members at their offsets.
 */
export function engineInspectContext(
  deps: InspectDeps,
  options: InspectOptions,
  result: VerifyResult,
  extracted: () => Record<string, string>,
  seekable?: EngineInspectContext['seekable'],
): EngineInspectContext {
  const { extractTo } = options;
  return {
    deps,
    options,
    findings: result,
    seekable,
    extract: async (member) => (extractTo ? openExtract(extractTo, member, extracted(), result) : undefined),
    recordExtracted(key, member) {
      if (extractTo) extracted()[key] = resolve(extractTo, member);
    },
  };
}
