import * as core from '@actions/core';

import { CheckFailed } from '../../core/errors.js';
import { parseVerifyOptions } from '../../core/options.js';
import { verify, type VerifyResult } from '../../core/verify.js';
import { runAction } from '../common.js';

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

await runAction('verify', async ({ reader, deps }) => {
  try {
    await report(await verify(deps, parseVerifyOptions(reader)));
  } catch (err) {
    if (err instanceof CheckFailed && err.result) await report(err.result as VerifyResult);
    else core.setOutput('verified', 'false');
    throw err;
  }
});
