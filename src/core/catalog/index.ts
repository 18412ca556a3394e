/**
 * The bundle catalog: every name in a store and every lookup of what it holds. Bundle keys
 * (bundle/naming.ts), where a bundle is and which is newest (locate.ts), the `.sha256` sidecar
 * (stores/sha256-sidecar.ts), verification records (verify-records.ts), listing with records
 * (listing.ts), the newest bundle that verifies (newest-that-verifies.ts), the drill history
 * (drill-history.ts) and retention applied to a store (prune-store.ts). Use cases depend on this,
 * never on each other.
 */
export {
  BUNDLE_SUFFIX,
  ENCRYPTED_SUFFIX,
  bundleKey,
  bundlesOf,
  compareNewestFirst,
  formatTimestamp,
  parseBundleKey,
  parseTimestamp,
  validateName,
  type ParsedBundleKey,
} from '../bundle/naming.js';
export {
  SHA256_SIDECAR_SUFFIX,
  readSha256Sidecar,
  sha256SidecarKey,
  writeSha256Sidecar,
} from '../stores/sha256-sidecar.js';
export { DRILL_HISTORY_SUFFIX, appendDrillHistory, readDrillHistory } from './drill-history.js';
export {
  LEVEL_TEXT,
  contentsVerified,
  listWithRecords,
  verifiedLevel,
  verifiedState,
  type ListedBundle,
  type VerifiedLevel,
  type VerifiedState,
} from './listing.js';
export { displayOf, listBundles, locateBundle, resolveNewest, type BundleLocation } from './locate.js';
export { newestThatVerifies } from './newest-that-verifies.js';
export { pruneStore, type PruneResult, type PruneStoreDeps } from './prune-store.js';
export {
  VERIFY_RECORD_SUFFIX,
  readVerifyRecord,
  recordKey,
  recordOf,
  recordVerifyOutcome,
  verifyAndRecord,
  writeVerifyRecord,
  type VerifyRecord,
} from './verify-records.js';
