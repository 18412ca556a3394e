/**
 * Accepting a scratch target whose encoding or locale is not the source's. The default refuses:
 * a restore into another encoding or collation is not a rehearsal of the real one. Accepting
 * takes a reason, which the report shows, so a green drill never hides the difference.
 */
import { ConfigError } from '../errors.js';
import type { Command, OptionSource, OptionSpec } from './spec.js';

const DRILL: Command[] = ['drill'];

export const TARGET_LOCALE_OPTION_SPECS: OptionSpec[] = [
  {
    name: 'accept-locale-mismatch',
    kind: 'string',
    commands: DRILL,
    description:
      "Accept a target-url database whose encoding, LC_COLLATE/LC_CTYPE or locale provider differ from the source's; the value is the reason, shown in the report.",
  },
];

export interface TargetLocaleOptions {
  /** The reason a locale difference is accepted; undefined: a difference fails the drill. */
  acceptLocaleMismatch?: string;
}

export function parseTargetLocaleOptions(o: OptionSource): TargetLocaleOptions {
  const reason = o.string('accept-locale-mismatch');
  if (reason === undefined) return {};
  if (!reason.trim() || /^(true|false|yes|no|1|0)$/i.test(reason.trim())) {
    throw new ConfigError(
      `${o.name('accept-locale-mismatch')} "${reason}" is not a reason; give the reason the difference is acceptable, e.g. "staging has no de_DE locale; text is ASCII"`,
    );
  }
  return { acceptLocaleMismatch: reason.trim() };
}
