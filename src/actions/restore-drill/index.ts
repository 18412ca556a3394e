import * as core from '@actions/core';
import { readFile } from 'node:fs/promises';

import { drill, type DrillResult } from '../../core/drill.js';
import { CheckFailed, ConfigError, messageOf } from '../../core/errors.js';
import { parseDrillOptions } from '../../core/options.js';
import { REPORT_FILES } from '../../core/report/write.js';
import { runAction } from '../common.js';

async function publish(
  result: DrillResult,
  artifactName: string,
  retentionDays: number | undefined,
): Promise<void> {
  core.setOutput('status', result.status);
  core.setOutput('rto-seconds', result.rtoSeconds === null ? '' : String(result.rtoSeconds));
  core.setOutput('rpo-seconds', result.rpoSeconds === null ? '' : String(result.rpoSeconds));
  core.setOutput('report-path', result.reportDir);
  if (process.env.GITHUB_STEP_SUMMARY) {
    const md = await readFile(`${result.reportDir}/${REPORT_FILES.markdown}`, 'utf8');
    await core.summary.addRaw(md).write();
  }
  if (artifactName && process.env.ACTIONS_RUNTIME_TOKEN) {
    try {
      const files = Object.values(REPORT_FILES).map((f) => `${result.reportDir}/${f}`);
      const { DefaultArtifactClient } = await import('@actions/artifact');
      await new DefaultArtifactClient().uploadArtifact(artifactName, files, result.reportDir, {
        retentionDays,
      });
      core.info(`report uploaded as workflow artifact "${artifactName}"`);
    } catch (err) {
      core.warning(`could not upload the report artifact: ${messageOf(err)}`);
    }
  }
}

await runAction('drill', async ({ reader, deps, logger }) => {
  const artifactName = core.getInput('report-artifact-name') || 'dbdrill-drill-report';
  const retentionRaw = core.getInput('report-retention-days');
  if (retentionRaw && !/^([1-9]|[1-8]\d|90)$/.test(retentionRaw)) {
    throw new ConfigError(
      `report-retention-days "${retentionRaw}" is not valid; expected a whole number of days from 1 to 90`,
    );
  }
  const retentionDays = retentionRaw ? Number(retentionRaw) : undefined;
  const options = parseDrillOptions(reader);
  try {
    await publish(
      await drill({ ...deps, redact: (t) => logger.redactor.redact(t) }, options),
      artifactName,
      retentionDays,
    );
  } catch (err) {
    if (err instanceof CheckFailed && err.result && 'report' in (err.result as object)) {
      await publish(err.result as DrillResult, artifactName, retentionDays);
    } else core.setOutput('status', 'failed');
    throw err;
  }
});
