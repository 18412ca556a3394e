import { spawn } from 'node:child_process';
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
  /**
   * Starts a long-lived child and hands back its streams: for tools fed while another reader
   * consumes the same data (pg_restore --list beside the native dump reader) and for the app
   * under drill, which runs in its own process group until it is stopped.
   */
  spawn(command: string, args: string[], options?: SpawnOptions): SpawnedProcess;
}

export interface SpawnOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** 'pipe' exposes the child's stdin on the handle; by default the child gets no stdin. */
  stdin?: 'pipe' | 'ignore';
  /** A new process group, so `kill` stops the child and everything it spawned. */
  processGroup?: boolean;
  /** Not logged here (the caller logs a friendlier line). */
  quiet?: boolean;
  /** Shown in the log instead of the real arguments (for commands that carry secrets). */
  displayArgs?: string[];
}

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be started at all (e.g. ENOENT). */
  error?: Error;
}

export interface SpawnedProcess {
  readonly pid: number | undefined;
  /**
   * Present with `stdin: 'pipe'`. Write errors (the child stopped reading and exited) are
   * swallowed: the exit status says what happened.
   */
  readonly stdin?: Writable;
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** Settles when the process exits or fails to start; never rejects. Output may still be draining. */
  readonly exited: Promise<ProcessExit>;
  /** Signals the process, or its whole group when started with `processGroup`; a gone process is not an error. */
  kill(signal?: NodeJS.Signals): void;
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

  spawn(command: string, args: string[], options: SpawnOptions = {}): SpawnedProcess {
    if (!options.quiet) {
      this.logger.info(`$ ${[command, ...(options.displayArgs ?? args)].map(shellQuote).join(' ')}`);
    }
    const child = spawn(command, args, {
      env: options.env ?? process.env,
      cwd: options.cwd,
      detached: options.processGroup ?? false,
      stdio: [options.stdin ?? 'ignore', 'pipe', 'pipe'],
    });
    child.stdin?.on('error', () => {
      /* the child may exit before reading all its input; its exit status tells what happened */
    });
    const exited = new Promise<ProcessExit>((resolve) => {
      child.once('error', (error) => resolve({ code: null, signal: null, error }));
      child.once('exit', (code, signal) => resolve({ code, signal }));
    });
    const group = options.processGroup ?? false;
    return {
      pid: child.pid,
      stdin: child.stdin ?? undefined,
      stdout: child.stdout!,
      stderr: child.stderr!,
      exited,
      kill(signal: NodeJS.Signals = 'SIGTERM') {
        if (child.pid === undefined) return;
        try {
          if (group) process.kill(-child.pid, signal);
          else child.kill(signal);
        } catch {
          /* already gone */
        }
      },
    };
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
