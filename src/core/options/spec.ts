/**
 * What an option is, independent of any one option: the spec type every concept file fills in,
 * the raw strings adapters collect, and the reading interface the parse functions take. Every file
 * in this folder imports this one and nothing here imports them back, so the graph stays one-way.
 */

export type Command = 'backup' | 'verify' | 'drill' | 'prune' | 'list';
export type OptionKind = 'string' | 'boolean' | 'list' | 'int' | 'duration';

export const COMMANDS: Command[] = ['backup', 'verify', 'drill', 'prune', 'list'];

export interface OptionSpec {
  /** The kebab-case action input, which is also the CLI flag without its `--`. */
  name: string;
  kind: OptionKind;
  commands: Command[];
  description: string;
  /** The one place a default is written: the reader applies it, action.yml must repeat it verbatim. */
  default?: string;
  /** Never logged; masked in Actions and redacted in CLI output. */
  secret?: boolean;
  /** Accepted values, for enums. */
  choices?: string[];
  /**
   * An input of the GitHub Action only, because it concerns GitHub itself (e.g. uploading the
   * report as a workflow artifact): the CLI neither accepts nor lists it.
   */
  actionOnly?: boolean;
}

/** Options as adapters collect them: strings keyed by input name; lists for multiline inputs and repeated flags. */
export type RawOptions = Record<string, string | string[] | undefined>;

/**
 * Typed, validated access to raw options, as the parse functions use it. Every error names the
 * input through `name`, the way the user typed it (`--x` on the CLI, `x` in an action).
 */
export interface OptionSource {
  /** The input as the user typed it, for messages. */
  name(input: string): string;
  /** The value (or the spec's default), checked against the spec's choices. */
  string(input: string): string | undefined;
  required(input: string, hint: string): string;
  boolean(input: string): boolean;
  int(input: string, min?: number, max?: number): number | undefined;
  /** Seconds. */
  duration(input: string): number | undefined;
  /** One item a line; blank lines and `#` comment lines dropped. */
  list(input: string): string[];
}
