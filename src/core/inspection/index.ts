/**
 * Inspection: reading a stored bundle's bytes and judging them layer by layer. Where each layer
 * lives: stored object (stored-object.ts), decrypts (crypto/decrypt-layer.ts), bundle readable /
 * manifest valid / member checksums / secret files (bundle-members.ts), backup age
 * (backup-age.ts); inspect-bundle.ts walks them in order. The dumps themselves are read by the
 * engines (`Engine` in engines/engine.ts, listed in engines/registry.ts): contents.ts asks each
 * whether it recognises a bare dump, bundle-members.ts lets each claim the members it reads, and
 * bare-directory.ts hands a dump directory on disk to the engine that reads it in place. The
 * PostgreSQL layers (dump header and TOC, data blocks, pg_restore --list, tables match manifest)
 * are in engines/postgres/ (inspect.ts, directory-inspect.ts), MongoDB's (mongodb archive,
 * collections match manifest) in engines/mongodb/inspect.ts.
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
