/**
 * The app under drill: started in its own process group so that stopping it stops everything
 * it spawned (npm, a shell, workers), with the tail of its output kept for the report.
 */
import { spawn, type ChildProcess } from 'node:child_process';

import type { Logger } from './logger.js';

export interface AppProcess {
  pid?: number;
  /** true while running; a reason ("exited with code 1") once it stopped on its own. */
  alive(): true | string;
  tail(): string[];
  stop(): Promise<void>;
}

export function startApp(
  command: string,
  options: { env: NodeJS.ProcessEnv; cwd?: string; logger: Logger; tailLines?: number },
): AppProcess {
  const max = options.tailLines ?? 200;
  const lines: string[] = [];
  const partial = { out: '', err: '' };
  const push = (stream: 'out' | 'err', chunk: string) => {
    const text = partial[stream] + chunk;
    const parts = text.split(/\r?\n/);
    partial[stream] = parts.pop() ?? '';
    for (const p of parts) {
      lines.push(p);
      if (lines.length > max) lines.shift();
    }
  };
  options.logger.info(`starting the app: ${command}`);
  const child: ChildProcess = spawn('/bin/sh', ['-c', command], {
    env: options.env,
    cwd: options.cwd,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let exit: string | undefined;
  child.stdout!.setEncoding('utf8').on('data', (d: string) => push('out', d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => push('err', d));
  const exited = new Promise<void>((resolve) => {
    child.on('error', (err) => {
      exit = `could not start: ${err.message}`;
      resolve();
    });
    child.on('exit', (code, signal) => {
      exit = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      resolve();
    });
  });
  const killGroup = (sig: NodeJS.Signals) => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, sig);
    } catch {
      /* the group is already gone */
    }
  };
  return {
    pid: child.pid,
    alive: () => (exit === undefined ? true : `the app ${exit}`),
    tail: () => [...lines, ...(partial.out ? [partial.out] : []), ...(partial.err ? [partial.err] : [])],
    async stop() {
      if (exit === undefined) {
        killGroup('SIGTERM');
        const timer = setTimeout(() => killGroup('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      // children that ignored SIGTERM or were orphaned in the group
      killGroup('SIGKILL');
    },
  };
}
