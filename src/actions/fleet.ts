/**
 * The backup, verify and restore-drill actions' fleet runs (`databases` or `fleet-mode` set): the fleet
 * layer, then the outputs, the fleet table as the job summary and `fleet-json`, on failure too.
 * The single-database outputs stay meaningful: backup's `bundle` and `sha256` list every stored
 * bundle one a line and `size-bytes` is their total; the drill's `status` is failed when any member
 * failed, `rto-seconds`/`rpo-seconds` are the worst member's, `report-path` the fleet's directory;
 * verify's `verified` is true only when every member passed, `bundle` lists the bundles read one a
 * line and `age-seconds` is the oldest member's.
 */
import * as core from '@actions/core';
import { join } from 'node:path';

import { fleetBackupRun, fleetDrillRun, fleetVerifyRun } from '../adapters/fleet-runs.js';
import type { SessionDeps } from '../adapters/startup.js';
import { messageOf } from '../core/errors.js';
import {
  fleetMarkdown,
  fleetResultOf,
  FLEET_SUMMARY_FILES,
  type FleetBackupResult,
  type FleetDrillResult,
  type FleetSummary,
  type FleetVerifyResult,
} from '../core/fleet/index.js';
import { parseReportUpload, type FleetSelection, type OptionSource } from '../core/options/index.js';
import { REPORT_FILES } from '../core/report/write.js';

/** Reasons quote tool errors: every registered secret is removed before they leave the process. */
async function publishSummary(deps: SessionDeps, summary: FleetSummary): Promise<void> {
  core.setOutput('fleet-json', deps.redact(JSON.stringify(summary)));
  if (process.env.GITHUB_STEP_SUMMARY) await core.summary.addRaw(deps.redact(fleetMarkdown(summary))).write();
}

async function settled<T extends FleetBackupResult | FleetDrillResult | FleetVerifyResult>(
  run: () => Promise<T>,
  publish: (r: T) => Promise<void>,
): Promise<void> {
  let result: T;
  try {
    result = await run();
  } catch (err) {
    const failed = fleetResultOf<T>(err);
    if (failed) await publish(failed);
    throw err;
  }
  await publish(result);
}

export async function runBackupFleetAction(
  deps: SessionDeps,
  reader: OptionSource,
  selection: FleetSelection,
): Promise<void> {
  await settled(fleetBackupRun(deps, reader, selection, process.env), async (r) => {
    const stored = [
      ...new Map(r.members.filter((m) => m.result).map((m) => [m.result!.key, m.result!])).values(),
    ];
    core.setOutput('bundle', stored.map((b) => b.bundle).join('\n'));
    core.setOutput('sha256', stored.map((b) => b.sha256).join('\n'));
    core.setOutput('size-bytes', String(stored.reduce((n, b) => n + b.sizeBytes, 0)));
    core.setOutput('duration-seconds', String(r.durationSeconds));
    await publishSummary(deps, r.summary);
  });
}

export async function runDrillFleetAction(
  deps: SessionDeps,
  reader: OptionSource,
  selection: FleetSelection,
): Promise<void> {
  const upload = parseReportUpload(reader);
  await settled(fleetDrillRun(deps, reader, selection, process.env), async (r) => {
    core.setOutput('status', r.status);
    core.setOutput('rto-seconds', r.rtoSeconds === null ? '' : String(r.rtoSeconds));
    core.setOutput('rpo-seconds', r.rpoSeconds === null ? '' : String(r.rpoSeconds));
    core.setOutput('report-path', r.reportDir);
    await publishSummary(deps, r.summary);
    if (upload.artifactName && process.env.ACTIONS_RUNTIME_TOKEN) {
      try {
        const files = [
          ...Object.values(FLEET_SUMMARY_FILES).map((f) => join(r.reportDir, f)),
          ...r.summary.members.flatMap((m) =>
            m.reportDir ? Object.values(REPORT_FILES).map((f) => join(m.reportDir!, f)) : [],
          ),
        ];
        const { DefaultArtifactClient } = await import('@actions/artifact');
        await new DefaultArtifactClient().uploadArtifact(upload.artifactName, files, r.reportDir, {
          retentionDays: upload.retentionDays,
        });
        core.info(`fleet reports uploaded as workflow artifact "${upload.artifactName}"`);
      } catch (err) {
        core.warning(`could not upload the fleet reports artifact: ${messageOf(err)}`);
      }
    }
  });
}

export async function runVerifyFleetAction(
  deps: SessionDeps,
  reader: OptionSource,
  selection: FleetSelection,
): Promise<void> {
  await settled(fleetVerifyRun(deps, reader, selection, process.env), async (r) => {
    const bundles = [...new Set(r.members.flatMap((m) => (m.result ? [m.result.bundle] : [])))];
    core.setOutput('verified', String(r.ok));
    core.setOutput('bundle', bundles.join('\n'));
    core.setOutput('age-seconds', r.ageSeconds === null ? '' : String(r.ageSeconds));
    await publishSummary(deps, r.summary);
  });
}
