import * as core from '@actions/core';

import { messageOf } from '../../core/errors.js';
import { run as backup } from '../backup/main.js';
import { run as restoreDrill } from '../restore-drill/main.js';
import { run as verify } from '../verify/main.js';
import { COMMAND_INPUT, rejectForeignInputs, resolveAction, type ActionName } from './commands.js';

const RUN: Record<ActionName, () => Promise<void>> = { backup, verify, 'restore-drill': restoreDrill };

/**
 * What each action sets when it fails before producing a result, so a workflow reading
 * `steps.x.outputs.verified` or `.status` sees the same failure from the root action.
 */
const FAILED_OUTPUTS: Record<ActionName, Record<string, string>> = {
  backup: {},
  verify: { verified: 'false' },
  'restore-drill': { status: 'failed' },
};

/**
 * The root action (`uses: dbdrill/dbdrill@v1` with `command:`): checks the command and that no
 * input of another command is set, then runs the chosen action's own run(), so both forms are
 * one code path. A routing error fails the step before anything else runs.
 */
export async function run(): Promise<void> {
  let action: ActionName | undefined;
  try {
    action = resolveAction(core.getInput(COMMAND_INPUT));
    rejectForeignInputs(action, (name) => core.getInput(name) !== '');
  } catch (err) {
    if (action)
      for (const [name, value] of Object.entries(FAILED_OUTPUTS[action])) core.setOutput(name, value);
    core.setFailed(messageOf(err));
    return;
  }
  await RUN[action]();
}
