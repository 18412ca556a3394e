import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import type { Logger } from './logger.js';

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Data or a stream fed to the child's stdin. */
  stdin?: string | Buffer | Readable;
  /** Where stdout goes; when absent it is collected (keep that for small outputs only). */
  stdout?: Writable;
  /** Keep at most this many bytes of stderr (the tail): a runaway tool must not fill memory. */
  maxStderrBytes?: number;
  signal?: AbortSignal;
  /** Shown in the log instead of the real arguments (for commands that carry secrets). */
  displayArgs?: string[];
  quiet?: boolean;
  /** Run as this unprivileged user (via runuser) when we are root; initdb and postgres refuse root. */
  asUser?: string;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * The process port. Core runs every external tool through this so tests can run the real tools
 * while a command line is logged once, in one place, with secrets redacted.
 */
export interface ProcessRunner {
  run(command: string, args: string[], options?: RunOptions): Promise<RunResult>;
  start(command: string, args: string[], options?: StartOptions): ChildProcess;
}

export interface StartOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** A new process group, so the whole tree can be stopped with one signal. */
  detached?: boolean;
  shell?: boolean;
}

export class NodeProcessRunner implements ProcessRunner {
  constructor(private readonly logger: Logger) {}

  async run(command: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
    let cmd = command;
    let argv = args;
    if (options.asUser && process.getuid?.() === 0) {
      cmd = 'runuser';
      argv = ['-u', options.asUser, '--', command, ...args];
    }
    if (!options.quiet) {
      this.logger.info(`$ ${[command, ...(options.displayArgs ?? args)].map(shellQuote).join(' ')}`);
    }
    const child = spawn(cmd, argv, {
      env: options.env ?? process.env,
      cwd: options.cwd,
      stdio: [options.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      signal: options.signal,
    });
    const maxErr = options.maxStderrBytes ?? 1 << 20;
    let stderr = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      stderr += chunk;
      if (stderr.length > maxErr * 2) stderr = stderr.slice(-maxErr);
    });
    const stdoutChunks: Buffer[] = [];
    const stdoutDone = options.stdout
      ? pipeline(child.stdout!, options.stdout)
      : new Promise<void>((resolve) => {
          child.stdout!.on('data', (c: Buffer) => stdoutChunks.push(c));
          child.stdout!.on('end', () => resolve());
        });
    if (options.stdin !== undefined) {
      const stdin = child.stdin!;
      stdin.on('error', () => {
        /* the child may exit before reading all its input; its exit code tells what happened */
      });
      if (typeof options.stdin === 'string' || Buffer.isBuffer(options.stdin)) stdin.end(options.stdin);
      else options.stdin.pipe(stdin);
    }
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code, signal) => resolve({ code, signal }));
    });
    const [{ code, signal }] = await Promise.all([exit, stdoutDone.catch(() => undefined)]);
    return {
      code,
      signal,
      stdout: Buffer.concat(stdoutChunks).toString('utf8'),
      stderr: stderr.length > maxErr ? stderr.slice(-maxErr) : stderr,
    };
  }

  start(command: string, args: string[], options: StartOptions = {}): ChildProcess {
    this.logger.info(`$ ${[command, ...args].map(shellQuote).join(' ')} &`);
    return spawn(command, args, {
      env: options.env ?? process.env,
      cwd: options.cwd,
      detached: options.detached ?? false,
      shell: options.shell ?? false,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  }
}

export function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** True when the executable exists and is runnable; errors from spawning are the answer "no". */
export async function commandOutput(
  runner: ProcessRunner,
  command: string,
  args: string[],
): Promise<string | undefined> {
  try {
    const r = await runner.run(command, args, { quiet: true });
    return r.code === 0 ? r.stdout.trim() : undefined;
  } catch {
    return undefined;
  }
}
