/**
 * The CLI adapter: argv -> the same option parsers and use cases as the actions. The only place
 * besides the actions' wrappers that turns errors into exit codes (0 ok, 1 check failed, 2 usage).
 *
 * Each command's code is imported when that command runs (its own ncc chunks), not at start-up:
 * Node.js reads and compiles every module a bundle imports before the first line runs, and the
 * whole CLI is 1.2 MB of JavaScript. `dbdrill --version` took 0.28 s with everything loaded, where
 * the modules `verify` needs alone load in 0.19 s (`node -e 0`: 0.12 s).
 */
import { withSession } from '../adapters/startup.js';
import type { DrillResult } from '../core/drill.js';
import type { PruneResult } from '../core/prune.js';
import { formatBytes, formatDuration } from '../core/duration.js';
import { CheckFailed, ConfigError, exitCodeOf, messageOf } from '../core/errors.js';
import { ConsoleLogger } from '../core/logger.js';
import {
  cliSpecsFor,
  COMMANDS,
  OPTION_SPECS,
  parseBackupFleet,
  parseBackupOptions,
  parseDrillFleet,
  parseDrillOptions,
  parseRetentionPolicy,
  parseVerifyFleet,
  parseVerifyOptions,
  type Command,
  type RawOptions,
} from '../core/options/index.js';
import type { VerifyResult } from '../core/verify.js';
import { DBDRILL_VERSION } from '../core/version.js';
import type { CommandIo } from './store-commands.js';

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
}

export interface ParsedArgs {
  command: Command;
  raw: RawOptions;
  json: boolean;
  verbose: boolean;
}

/** `help` with `usageError`: the help is the answer to a mistake (no command), printed on stderr, exit 2. */
export type HelpRequest = { help: string; usageError?: boolean };

export function parseArgs(argv: string[]): ParsedArgs | HelpRequest | { version: true } {
  const [command, ...rest] = argv;
  if (!command) return { help: usage(), usageError: true };
  if (command === '--help' || command === '-h' || command === 'help') return { help: usage() };
  if (command === '--version' || command === '-V') return { version: true };
  if (!COMMANDS.includes(command as Command)) {
    throw new ConfigError(
      `unknown command "${command}"; expected one of: ${COMMANDS.join(', ')} (see dbdrill --help)`,
    );
  }
  const cmd = command as Command;
  const specs = cliSpecsFor(cmd);
  const raw: RawOptions = {};
  let json = false;
  let verbose = false;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    if (arg === '--help' || arg === '-h') return { help: usage(cmd) };
    if (arg === '--json') {
      json = true;
      continue;
    }
    if (arg === '--verbose' || arg === '-v') {
      verbose = true;
      continue;
    }
    if (!arg.startsWith('--')) {
      throw new ConfigError(
        `unexpected argument "${arg}"; options are --name value (see dbdrill ${cmd} --help)`,
      );
    }
    const eq = arg.indexOf('=');
    const flag = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    const spec = specs.find((s) => s.name === flag);
    if (!spec) {
      const other = OPTION_SPECS.find((s) => s.name === flag);
      throw new ConfigError(
        other?.actionOnly
          ? `--${flag} is an input of the GitHub Action only (it concerns GitHub itself), not a dbdrill option`
          : other
            ? `--${flag} does not apply to "${cmd}" (it is for: ${other.commands.join(', ')})`
            : `unknown option --${flag} for "${cmd}"; see dbdrill ${cmd} --help`,
      );
    }
    let value: string;
    if (eq >= 0) value = arg.slice(eq + 1);
    else if (
      spec.kind === 'boolean' &&
      (i + 1 >= rest.length ||
        rest[i + 1].startsWith('--') ||
        !/^(true|false|yes|no|1|0|on|off)$/i.test(rest[i + 1]))
    )
      value = 'true';
    else {
      if (i + 1 >= rest.length) throw new ConfigError(`--${flag} needs a value: ${spec.description}`);
      value = rest[++i];
    }
    if (spec.kind === 'list') raw[flag] = [...((raw[flag] as string[] | undefined) ?? []), value];
    else raw[flag] = value;
  }
  return { command: cmd, raw, json, verbose };
}

export function usage(command?: Command): string {
  if (!command) {
    return [
      `dbdrill ${DBDRILL_VERSION}: backups are only real once restored.`,
      '',
      'Usage: dbdrill <command> [--option value ...] [--json] [--verbose]',
      '',
      'Commands:',
      '  backup   dump a database with its secret files into one bundle in a store',
      '  verify   prove a bundle is readable, layer by layer',
      '  drill    restore the newest bundle into a scratch database, boot the app, time it',
      '  prune    delete old bundles by a grandfather-father-son policy',
      '  list     the bundles of a name, newest first',
      '',
      'Exit codes: 0 ok, 1 a check failed, 2 bad usage or configuration.',
      'dbdrill <command> --help lists its options.',
    ].join('\n');
  }
  const lines = [`Usage: dbdrill ${command} [options]`, ''];
  for (const s of cliSpecsFor(command)) {
    const flag = `--${s.name}${s.kind === 'boolean' ? '' : s.kind === 'list' ? ' <value> (repeatable)' : ' <value>'}`;
    lines.push(`  ${flag}`);
    lines.push(`      ${s.description}${s.default ? ` Default: ${s.default}.` : ''}`);
  }
  lines.push('  --json      print one JSON object on stdout', '  --verbose   debug output on stderr');
  return lines.join('\n');
}

/** Runs the CLI; returns the exit code. Never throws. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const logger = new ConsoleLogger({ write: (line) => io.stderr(line + '\n') });
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs(argv);
  } catch (err) {
    logger.error(messageOf(err));
    return exitCodeOf(err);
  }
  if ('help' in parsed) {
    if (parsed.usageError) {
      io.stderr(parsed.help + '\n');
      return 2;
    }
    io.stdout(parsed.help + '\n');
    return 0;
  }
  if ('version' in parsed) {
    io.stdout(DBDRILL_VERSION + '\n');
    return 0;
  }
  const { command, raw, json, verbose } = parsed;
  const verboseLogger = new ConsoleLogger({ write: (line) => io.stderr(line + '\n'), verbose });
  const print = (obj: unknown) => {
    if (json) io.stdout(verboseLogger.redactor.redact(JSON.stringify(obj, null, 2)) + '\n');
  };
  try {
    return await withSession(
      { command, raw, label: (n) => `--${n}`, logger: verboseLogger, env: io.env },
      async ({ reader, deps }) => {
        const commandIo: CommandIo = { json, stdout: io.stdout, print };
        switch (command) {
          case 'backup': {
            const fleet = parseBackupFleet(reader);
            if (fleet)
              return await (
                await import('./fleet-commands.js')
              ).runBackupFleet(deps, reader, fleet, io.env, commandIo);
            const options = parseBackupOptions(reader);
            const retention = parseRetentionPolicy(reader);
            const [{ announcer, backupOutcome }, { backupAndPrune }] = await Promise.all([
              import('../adapters/announce.js'),
              import('../core/backup.js'),
            ]);
            const announced = announcer(reader, deps, io.env);
            const result = await announced(
              'backup',
              options.name,
              () => backupAndPrune(deps, options, retention),
              (r) => backupOutcome(options.name, r),
            );
            verboseLogger.info(
              `backup ok: ${result.bundle} (${formatBytes(result.sizeBytes)}, ${result.tables} tables, ${result.rows} rows${result.collections ? `, ${result.collections} collections, ${result.documents} documents` : ''}${result.skewSeconds !== null ? `, skew ${result.skewSeconds} s` : ''}, ${result.secretFiles} secret file(s), ${formatDuration(result.durationSeconds)})`,
            );
            print(result);
            return 0;
          }
          case 'verify': {
            const fleet = parseVerifyFleet(reader);
            if (fleet)
              return await (
                await import('./fleet-commands.js')
              ).runVerifyFleet(deps, reader, fleet, io.env, commandIo);
            const options = parseVerifyOptions(reader);
            const [{ announcedName, announcer, verifyOutcome }, { verify }] = await Promise.all([
              import('../adapters/announce.js'),
              import('../core/verify.js'),
            ]);
            const name = announcedName(options);
            const result = await announcer(reader, deps, io.env)(
              'verify',
              name,
              () => verify(deps, options),
              (r) => verifyOutcome(name, r),
            );
            verboseLogger.info(`verified: ${result.bundle}`);
            print(verifyJson(result));
            return 0;
          }
          case 'drill': {
            const fleet = parseDrillFleet(reader);
            if (fleet)
              return await (
                await import('./fleet-commands.js')
              ).runDrillFleet(deps, reader, fleet, io.env, commandIo);
            const options = parseDrillOptions(reader);
            const [{ announcedName, announcer, drillOutcome }, { drill }] = await Promise.all([
              import('../adapters/announce.js'),
              import('../core/drill.js'),
            ]);
            const name = announcedName(options);
            const result = await announcer(reader, deps, io.env)(
              'drill',
              name,
              () => drill(deps, options),
              (r) => drillOutcome(name, r),
            );
            print(drillJson(result));
            return 0;
          }
          case 'list':
            return await (await import('./store-commands.js')).runList(deps, reader, commandIo);
          case 'prune':
            return await (await import('./store-commands.js')).runPrune(deps, reader, commandIo);
        }
      },
    );
  } catch (err) {
    const failed = await failureJson(err);
    if (failed) print(failed);
    else if (json) print({ ok: false, error: messageOf(err), exitCode: exitCodeOf(err) });
    verboseLogger.error(messageOf(err));
    if (!(err instanceof ConfigError || err instanceof CheckFailed) && verbose && err instanceof Error) {
      verboseLogger.debug(err.stack ?? '');
    }
    return exitCodeOf(err);
  }
}

/** The --json answer of a failed check: the failed use case's own result, as on success. */
async function failureJson(err: unknown): Promise<Record<string, unknown> | undefined> {
  if (!(err instanceof CheckFailed) || !err.result) return undefined;
  const fleet = (await import('./fleet-commands.js')).fleetFailureJson(err);
  if (fleet) return fleet;
  const verified = CheckFailed.resultOf<VerifyResult>(err, 'layers');
  if (verified) return verifyJson(verified);
  const drilled = CheckFailed.resultOf<DrillResult>(err, 'report');
  if (drilled) return drillJson(drilled);
  const pruned = CheckFailed.resultOf<PruneResult>(err, 'kept');
  if (pruned) return (await import('./store-commands.js')).pruneJson(pruned);
  const other = err instanceof CheckFailed ? err.result : undefined;
  return typeof other === 'object' && other !== null ? (other as Record<string, unknown>) : undefined;
}

export function verifyJson(r: VerifyResult): Record<string, unknown> {
  return {
    ok: r.ok,
    bundle: r.bundle,
    ageSeconds: r.ageSeconds,
    problems: r.problems,
    // only when a fault outside the bundle stopped the check: "could not verify", not "failed"
    ...(r.inconclusive ? { inconclusive: r.inconclusive } : {}),
    kind: r.kind,
    encrypted: r.encrypted,
    layers: r.layers,
    manifest: r.manifest
      ? { name: r.manifest.name, endedAt: r.manifest.endedAt, components: r.manifest.components.length }
      : undefined,
    dump: r.pgDump
      ? {
          archiveVersion: r.pgDump.archiveVersion,
          compression: r.pgDump.compression,
          database: r.pgDump.database,
          serverVersion: r.pgDump.serverVersion,
          pgDumpVersion: r.pgDump.pgDumpVersion,
          tocEntries: r.pgDump.tocEntries,
          dataBlocks: r.pgDump.dataBlocks,
          rows: r.pgDump.rows,
        }
      : undefined,
    mongo: r.mongo,
  };
}

export function drillJson(r: DrillResult): Record<string, unknown> {
  return {
    ok: r.ok,
    status: r.status,
    bundle: r.bundle,
    rtoSeconds: r.rtoSeconds,
    rpoSeconds: r.rpoSeconds,
    phases: r.phases,
    counts: r.counts,
    checks: r.checks,
    reportDir: r.reportDir,
    reportPath: r.reportPath,
  };
}
