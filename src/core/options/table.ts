/**
 * The one option table: every option of every command, in the order --help lists them. CLI flags,
 * action inputs (action.yml is checked against it), defaults and --help all come from here.
 */
import { BACKUP_OPTION_SPECS } from './backup-options.js';
import { DUMP_FORMAT_OPTION_SPECS } from './dump-format-options.js';
import { DRILL_OPTION_SPECS, REPORT_UPLOAD_OPTION_SPECS } from './drill-options.js';
import { ENCRYPTION_OPTION_SPECS } from './encryption-options.js';
import { FLEET_OPTION_SPECS } from './fleet-options.js';
import { LOCATION_OPTION_SPECS } from './location-options.js';
import { NOTIFY_OPTION_SPECS } from './notify-options.js';
import { RETENTION_OPTION_SPECS } from './retention-options.js';
import type { Command, OptionSpec } from './spec.js';
import { STORE_OPTION_SPECS } from './store-options.js';
import { TARGET_LOCALE_OPTION_SPECS } from './target-locale-options.js';
import { TOOL_OPTION_SPECS } from './tool-options.js';
import { VERIFY_OPTION_SPECS } from './verify-options.js';

export const OPTION_SPECS: OptionSpec[] = [
  ...LOCATION_OPTION_SPECS,
  ...BACKUP_OPTION_SPECS,
  ...FLEET_OPTION_SPECS,
  ...DUMP_FORMAT_OPTION_SPECS,
  ...TOOL_OPTION_SPECS,
  ...VERIFY_OPTION_SPECS,
  ...DRILL_OPTION_SPECS,
  ...TARGET_LOCALE_OPTION_SPECS,
  ...ENCRYPTION_OPTION_SPECS,
  ...STORE_OPTION_SPECS,
  ...RETENTION_OPTION_SPECS,
  ...REPORT_UPLOAD_OPTION_SPECS,
  ...NOTIFY_OPTION_SPECS,
];

/** Every input of the command's action, action-only inputs included. */
export function specsFor(command: Command): OptionSpec[] {
  return OPTION_SPECS.filter((s) => s.commands.includes(command));
}

/** The command's CLI flags: its specs without the action-only ones. */
export function cliSpecsFor(command: Command): OptionSpec[] {
  return specsFor(command).filter((s) => !s.actionOnly);
}

export function specOf(name: string): OptionSpec {
  const spec = OPTION_SPECS.find((s) => s.name === name);
  if (!spec) throw new Error(`internal: no option spec named ${name}`);
  return spec;
}
