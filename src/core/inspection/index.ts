/**
 * Inspection: reading a stored bundle's bytes and judging them layer by layer. Where each layer
 * lives: stored object (stored-object.ts), decrypts (crypto/decrypt-layer.ts), bundle readable /
 * manifest valid / member checksums / secret files (bundle-members.ts), bare dumps (contents.ts),
 * dump header and TOC / data blocks / pg_restore --list / tables match manifest
 * (engines/postgres/inspect.ts; directory-format dumps: engines/postgres/directory-inspect.ts),
 * mongodb archive / collections match manifest (engines/mongodb/inspect.ts), backup age
 * (backup-age.ts); inspect-bundle.ts walks them in order. A bare pg_dump -Fd directory on disk is
 * read in place (bare-directory.ts).
 */
export { inspectDumpDirectory, isBareDumpDirectory } from './bare-directory.js';
export { inspectBundle } from './inspect-bundle.js';
export type {
  BundleLocation,
  InspectDeps,
  InspectOptions,
  PgDumpSummary,
  VerifyLayer,
  VerifyResult,
} from './types.js';
export type { UseCaseDeps } from '../deps.js';
