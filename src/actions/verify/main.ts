import * as core from '@actions/core';

import { CheckFailed } from '../../core/errors.js';
import { fleetResultOf } from '../../core/fleet/index.js';
import { parseVerifyFleet, parseVerifyOptions } from '../../core/options/index.js';
import { verify, type VerifyResult } from '../../core/verify.js';
import { announcedName, announcer, verifyOutcome } from '../../adapters/announce.js';
import { runVerifyFleetAction } from '../fleet.js';
import { runAction } from '../run-action.js';

async function report(result: VerifyResult): Promise<void> {
  core.setOutput('verified', String(result.ok));
  core.setOutput('bundle', result.bundle);
  core.setOutput('age-seconds', result.ageSeconds === null ? '' : String(result.ageSeconds));
  if (!process.env.GITHUB_STEP_SUMMARY) return;
  await core.summary
    .addHeading(`dbdrill verify: ${result.ok ? '✅ verified' : '❌ failed'}`, 3)
    .addRaw(`\`${result.bundle}\`\n\n`)
    .addTable([
      [
        { data: 'layer', header: true },
        { data: 'result', header: true },
        { data: 'detail', header: true },
      ],
      ...result.layers.map((l) => [l.name, l.skipped ? 'skipped' : l.ok ? 'ok' : 'FAILED', l.detail]),
    ])
    .write();
}

/** The verify action: inputs -> verify -> outputs and job summary, on failure too. */
export async function run(): Promise<void> {
  await runAction('verify', async ({ reader, deps }) => {
    try {
      const fleet = parseVerifyFleet(reader);
      if (fleet) return await runVerifyFleetAction(deps, reader, fleet);
    } catch (err) {
      if (!fleetResultOf(err)) core.setOutput('verified', 'false');
      throw err;
    }
    try {
      const options = parseVerifyOptions(reader);
      const name = announcedName(options);
      const announced = announcer(reader, deps, process.env);
      await report(
        await announced(
          'verify',
          name,
          () => verify(deps, options),
          (r) => verifyOutcome(name, r),
        ),
      );
    } catch (err) {
      const failed = CheckFailed.resultOf<VerifyResult>(err, 'layers');
      if (failed) await report(failed);
      else core.setOutput('verified', 'false');
      throw err;
    }
  });
}
