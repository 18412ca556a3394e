/**
 * backupAndPrune now lives with the backup use case (backup.ts); this path stays so adapters
 * written against it keep compiling until they import from backup.ts.
 */
export { backupAndPrune, type BackupAndPruneResult } from './backup.js';
