/**
 * backup, then (only when a retention policy was given) verify the new bundle where it was stored
 * and prune. Pruning after an unverified upload could rotate a good bundle away in favour of a bad
 * one, so a failed verification stops here with CheckFailed and deletes nothing.
 *
 * Without keep-* options backup does not re-read what it uploaded (that would double its I/O); the
 * stored object's sha256 sidecar still lets any later verify prove the bytes are intact.
 */
import { backup, type BackupDeps, type BackupResult } from './backup.js';
import { decryptHook } from './encryption.js';
import { CheckFailed } from './errors.js';
import type { BackupOptions } from './options.js';
import { pruneStore, verifyAndRecord, type PruneDeps, type PruneResult } from './prune.js';
import type { RetentionPolicy } from './retention.js';
import type { VerifyRecord } from './verify-record.js';

export interface BackupAndPruneResult extends BackupResult {
  /** The post-upload verification (only when a retention policy was given). */
  verification?: VerifyRecord;
  prune?: PruneResult;
}

export async function backupAndPrune(
  deps: BackupDeps & PruneDeps,
  options: BackupOptions,
  policy: RetentionPolicy | undefined,
): Promise<BackupAndPruneResult> {
  const result: BackupAndPruneResult = await backup(deps, options);
  if (!policy) return result;
  const { logger } = deps;
  const store = deps.openStore(options.store);
  logger.startGroup(`Verifying ${result.key} where it was stored, before pruning`);
  let record: VerifyRecord;
  try {
    // A passphrase decrypts what it encrypted; recipients' private keys are (rightly) not here.
    const decrypt = options.passphrase
      ? await decryptHook(logger, { passphrase: options.passphrase }, deps.label)
      : undefined;
    ({ record } = await verifyAndRecord({ ...deps, decrypt }, store, result.key, 'backup'));
  } finally {
    logger.endGroup();
  }
  result.verification = record;
  if (!record.ok) {
    throw new CheckFailed(
      `the new bundle ${result.key} failed verification after upload, so nothing was pruned: ${record.problems.join('; ')}`,
      result,
    );
  }
  if (record.scope === 'stored-object') {
    logger.info(
      `${result.key} is encrypted to recipients: its stored bytes match the uploaded sha256; run verify with identity to check its contents`,
    );
  }
  result.prune = await pruneStore(deps, store, options.name, policy, false);
  return result;
}
