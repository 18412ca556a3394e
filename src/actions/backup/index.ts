import * as core from '@actions/core';

import { backupAndPrune } from '../../core/backup-prune.js';
import { formatBytes, formatDuration } from '../../core/duration.js';
import { parseBackupOptions } from '../../core/options.js';
import { parseRetentionPolicy } from '../../core/store-options.js';
import { runAction } from '../common.js';

await runAction('backup', async ({ reader, deps }) => {
  const result = await backupAndPrune(deps, parseBackupOptions(reader), parseRetentionPolicy(reader));
  if (result.prune) core.setOutput('pruned', result.prune.deleted.join('\n'));
  core.setOutput('bundle', result.bundle);
  core.setOutput('sha256', result.sha256);
  core.setOutput('size-bytes', String(result.sizeBytes));
  core.setOutput('duration-seconds', String(result.durationSeconds));
  if (process.env.GITHUB_STEP_SUMMARY) {
    await core.summary
      .addHeading('dbdrill backup', 3)
      .addTable([
        [
          { data: 'bundle', header: true },
          { data: 'size', header: true },
          { data: 'duration', header: true },
          { data: 'tables', header: true },
          { data: 'rows', header: true },
          { data: 'secret files', header: true },
        ],
        [
          result.key,
          formatBytes(result.sizeBytes),
          formatDuration(result.durationSeconds),
          String(result.tables),
          String(result.rows),
          String(result.secretFiles),
        ],
      ])
      .addRaw(`sha256 \`${result.sha256}\`\n`)
      .write();
  }
});
