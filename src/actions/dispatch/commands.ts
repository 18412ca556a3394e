/**
 * The root action's routing, apart from GitHub so it can be tested as plain functions: which
 * sub-action a `command` value names, and which of the inputs the user set belong to another
 * command. The root action.yml must declare the union of the three actions' inputs (metadata
 * cannot depend on another input), so without this check an input meant for another command
 * (`format` on a verify step, `max-age` on a drill) would be silently ignored.
 */
import { ConfigError } from '../../core/errors.js';
import { specsFor, type Command } from '../../core/options/index.js';

/** The three actions, by the name their own action.yml lives under. */
export type ActionName = 'backup' | 'verify' | 'restore-drill';

export const ACTION_NAMES: readonly ActionName[] = ['backup', 'verify', 'restore-drill'];

/** The option-table command each action reads its inputs as. */
export const COMMAND_OF: Record<ActionName, Command> = {
  backup: 'backup',
  verify: 'verify',
  'restore-drill': 'drill',
};

/** `drill` too, because that is the CLI's name for the same command. */
const ALIASES: Record<string, ActionName> = { drill: 'restore-drill' };

/** The root action's own input, not an option of any command. */
export const COMMAND_INPUT = 'command';

/** The action a `command` input names; anything else is a ConfigError naming the value and the choices. */
export function resolveAction(value: string): ActionName {
  const v = value.trim();
  const choices = `${ACTION_NAMES.join(', ')} (or drill, the same as restore-drill)`;
  if (!v) throw new ConfigError(`${COMMAND_INPUT} is required; expected one of: ${choices}`);
  const found = (ACTION_NAMES as readonly string[]).includes(v) ? (v as ActionName) : ALIASES[v];
  if (!found) throw new ConfigError(`${COMMAND_INPUT} "${v}" is not valid; expected one of: ${choices}`);
  return found;
}

/** Every input the root action declares besides `command`: the union of the three actions' inputs. */
export function rootInputs(): string[] {
  const names = new Set<string>();
  for (const action of ACTION_NAMES) for (const spec of specsFor(COMMAND_OF[action])) names.add(spec.name);
  return [...names];
}

/**
 * Fails when any input the user set is not one of `action`'s, naming each such input, the command
 * and the commands it does belong to. Values are never shown: one may be another command's secret.
 * `isSet` says whether an input has a non-empty value (an input left empty is its default, and the
 * root action declares a default only where every command takes the input).
 */
export function rejectForeignInputs(action: ActionName, isSet: (input: string) => boolean): void {
  const own = new Set(specsFor(COMMAND_OF[action]).map((s) => s.name));
  const foreign = rootInputs().filter((name) => !own.has(name) && isSet(name));
  if (!foreign.length) return;
  const owners = (name: string) =>
    ACTION_NAMES.filter((a) => specsFor(COMMAND_OF[a]).some((s) => s.name === name)).join(' and ');
  if (foreign.length === 1) {
    const [name] = foreign;
    throw new ConfigError(
      `input ${name} does not apply to command ${action} (it is an input of ${owners(name)}); remove it from the step`,
    );
  }
  throw new ConfigError(
    `inputs ${foreign.map((n) => `${n} (${owners(n)})`).join(', ')} do not apply to command ${action}; ` +
      'remove them from the step',
  );
}
