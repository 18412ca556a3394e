/**
 * Shim: the bundle inspection (the layer walk the verify use case and the drill share) as the
 * drill sees it. It only re-exports today's implementation; its real home replaces this file.
 */
export {
  inspectBundle,
  type InspectOptions,
  type PgDumpSummary,
  type VerifyDeps,
  type VerifyLayer,
  type VerifyResult,
} from '../verify.js';
