/**
 * The one start-up path of every entry point (the three actions and the CLI): register secret
 * inputs with the logger before anything can print them, turn cancellation signals into an
 * AbortSignal that core's clean-up paths watch, parse the store settings with the other options,
 * and wire core's ports. Both adapters differ only in how they collect raw options, name inputs
 * in messages, and report the outcome.
 */
import { loadYaml } from '../core/checks/yaml.js';
import { runtimeDeps, type RuntimeDeps } from '../core/deps.js';
import { maskUrlOrValue, type Logger, type Redactor } from '../core/logger.js';
import {
  OptionReader,
  parseStoreSettings,
  specsFor,
  type Command,
  type RawOptions,
} from '../core/options/index.js';
import { actionsArtifactService } from './actions-artifact.js';
import { toolCachePgClient } from './pg-client-cache.js';
import { lazyMongoDownloader } from './lazy-mongo-downloader.js';

/**
 * GitHub cancels a job with SIGINT, then SIGTERM; a CI system or `kill` sends SIGTERM; a closed
 * terminal sends SIGHUP. Each must stop the run and clean up (scratch servers, partial uploads).
 */
export const CANCEL_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

export interface StartupInput {
  command: Command;
  raw: RawOptions;
  /** How an input is named in messages: `--x` on the CLI, `x` in actions. */
  label: (input: string) => string;
  logger: Logger & { readonly redactor: Redactor };
  /** Where AWS_* and GITHUB_* settings come from; default process.env. */
  env?: NodeJS.ProcessEnv;
}

/** What a command body gets: its options to parse and the wired dependencies. */
export interface Session {
  reader: OptionReader;
  deps: SessionDeps;
  signal: AbortSignal;
}

export type SessionDeps = RuntimeDeps & {
  /** Masks every registered secret (for reports written outside the logger). */
  redact: (text: string) => string;
};

/**
 * Registers every secret input with the logger (masked in Actions, redacted by the CLI), once,
 * before any parsing can echo a value.
 */
export function maskSecretInputs(command: Command, raw: RawOptions, logger: Logger): void {
  for (const spec of specsFor(command)) {
    if (!spec.secret) continue;
    for (const value of [raw[spec.name]].flat()) {
      if (!value || (spec.name === 'identity' && isKeyFilePath(value))) continue;
      maskUrlOrValue(logger, value);
    }
  }
}

/**
 * An identity given as the path of a key file is not a secret (the keys read from it are masked
 * when they are loaded): masking the path would hide "cannot read /path/key.txt" from the user.
 */
function isKeyFilePath(value: string): boolean {
  return !/AGE-SECRET-KEY-|AGE-PLUGIN-|[\r\n]/i.test(value) && /^[~./]|^[A-Za-z]:\\/.test(value.trim());
}

/**
 * Runs `body` with cancellation signals turned into `session.signal`; the handlers are removed
 * when it settles, so a second signal after clean-up ends the process as Node normally does.
 * Errors propagate: the adapter turns them into an exit code or setFailed.
 */
export async function withSession<T>(
  input: StartupInput,
  body: (session: Session) => Promise<T>,
): Promise<T> {
  const { command, raw, label, logger, env = process.env } = input;
  maskSecretInputs(command, raw, logger);
  const controller = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    logger.warning(`received ${sig}; stopping and cleaning up`);
    controller.abort(sig);
  };
  for (const sig of CANCEL_SIGNALS) process.once(sig, onSignal);
  // `dbdrill drill ... | head`: once the reader goes away every write fails with EPIPE. Unhandled,
  // that error kills the process before teardown, leaving the scratch server running and the
  // decrypted dump on disk; handled, it cancels the run like a signal.
  const onPipeError = (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE' && !controller.signal.aborted) controller.abort('EPIPE');
  };
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', onPipeError);
    swallowLaterWriteErrors(stream);
  }
  try {
    // option parsing is synchronous: a YAML health-checks file needs the parser loaded first
    if (raw['health-checks'] !== undefined) await loadYaml();
    const reader = new OptionReader(raw, label);
    const store = parseStoreSettings(reader, command);
    const deps: SessionDeps = {
      ...runtimeDeps(logger, label, controller.signal, () => ({
        env,
        s3: store.s3,
        artifact: { ...store.artifact, service: () => actionsArtifactService(env) },
      })),
      mongoToolDownloader: lazyMongoDownloader(logger),
      // Only in an action: the runner's tool cache is where apt-installed clients are worth keeping.
      ...(env.GITHUB_ACTIONS === 'true' ? { pgClientPorts: { cache: toolCachePgClient(logger) } } : {}),
      redact: (text) => logger.redactor.redact(text),
    };
    return await body({ reader, deps, signal: controller.signal });
  } finally {
    for (const sig of CANCEL_SIGNALS) process.removeListener(sig, onSignal);
    for (const stream of [process.stdout, process.stderr]) stream.removeListener('error', onPipeError);
  }
}

/**
 * Marks a stream that already has the listener. A registry-wide symbol rather than a module-level
 * set: a test runner that loads this module afresh for every test file (jest) shares one
 * process.stdout, and a set per module copy added a listener per file until Node warned of a leak.
 */
const SWALLOWING = Symbol.for('dbdrill.swallowLaterWriteErrors');

/**
 * After a closed pipe, the clean-up and the final message still write; those writes fail too.
 * Nobody can read them, so their errors must not crash the process mid-teardown.
 */
function swallowLaterWriteErrors(stream: NodeJS.WriteStream): void {
  const marked = stream as NodeJS.WriteStream & { [SWALLOWING]?: true };
  if (marked[SWALLOWING]) return;
  marked[SWALLOWING] = true;
  stream.on('error', () => undefined);
}
