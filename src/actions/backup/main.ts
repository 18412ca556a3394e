import * as core from '@actions/core';

import { backupAndPrune } from '../../core/backup.js';
import { formatBytes, formatDuration } from '../../core/duration.js';
import { parseBackupFleet, parseBackupOptions, parseRetentionPolicy } from '../../core/options/index.js';
import { announcer, backupOutcome } from '../../adapters/announce.js';
import { runBackupFleetAction } from '../fleet.js';
import { runAction } from '../run-action.js';

/** The backup action: inputs -> backup (and prune, with keep-*) -> outputs and job summary. */
export async function run(): Promise<void> {
  await runAction('backup', async ({ reader, deps }) => {
    const fleet = parseBackupFleet(reader);
    if (fleet) return runBackupFleetAction(deps, reader, fleet);
    const options = parseBackupOptions(reader);
    const retention = parseRetentionPolicy(reader);
    const result = await announcer(reader, deps, process.env)(
      'backup',
      options.name,
      () => backupAndPrune(deps, options, retention),
      (r) => backupOutcome(options.name, r),
    );
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
}
