import * as core from '@actions/core';
import { readFile } from 'node:fs/promises';

import { drill, type DrillResult } from '../../core/drill.js';
import { CheckFailed, messageOf } from '../../core/errors.js';
import {
  parseDrillFleet,
  parseDrillOptions,
  parseReportUpload,
  type ReportUploadOptions,
} from '../../core/options/index.js';
import { fleetResultOf } from '../../core/fleet/index.js';
import { REPORT_FILES } from '../../core/report/write.js';
import { announcedName, announcer, drillOutcome } from '../../adapters/announce.js';
import { runDrillFleetAction } from '../fleet.js';
import { runAction } from '../run-action.js';

async function publish(result: DrillResult, upload: ReportUploadOptions): Promise<void> {
  core.setOutput('status', result.status);
  core.setOutput('rto-seconds', result.rtoSeconds === null ? '' : String(result.rtoSeconds));
  core.setOutput('rpo-seconds', result.rpoSeconds === null ? '' : String(result.rpoSeconds));
  core.setOutput('report-path', result.reportDir);
  if (process.env.GITHUB_STEP_SUMMARY) {
    const md = await readFile(`${result.reportDir}/${REPORT_FILES.markdown}`, 'utf8');
    await core.summary.addRaw(md).write();
  }
  if (upload.artifactName && process.env.ACTIONS_RUNTIME_TOKEN) {
    try {
      const files = Object.values(REPORT_FILES).map((f) => `${result.reportDir}/${f}`);
      const { DefaultArtifactClient } = await import('@actions/artifact');
      await new DefaultArtifactClient().uploadArtifact(upload.artifactName, files, result.reportDir, {
        retentionDays: upload.retentionDays,
      });
      core.info(`report uploaded as workflow artifact "${upload.artifactName}"`);
    } catch (err) {
      core.warning(`could not upload the report artifact: ${messageOf(err)}`);
    }
  }
}

/** The restore-drill action: inputs -> drill -> outputs, job summary and the report artifact, on failure too. */
export async function run(): Promise<void> {
  await runAction('drill', async ({ reader, deps }) => {
    let fleet;
    try {
      fleet = parseDrillFleet(reader);
      if (fleet) return await runDrillFleetAction(deps, reader, fleet);
    } catch (err) {
      if (!fleetResultOf(err)) core.setOutput('status', 'failed');
      throw err;
    }
    let upload: ReportUploadOptions | undefined;
    try {
      upload = parseReportUpload(reader);
      const options = parseDrillOptions(reader);
      const name = announcedName(options);
      const announced = announcer(reader, deps, process.env);
      await publish(
        await announced(
          'drill',
          name,
          () => drill(deps, options),
          (r) => drillOutcome(name, r),
        ),
        upload,
      );
    } catch (err) {
      const failed = CheckFailed.resultOf<DrillResult>(err, 'report');
      if (failed && upload) await publish(failed, upload);
      else core.setOutput('status', 'failed');
      throw err;
    }
  });
}
