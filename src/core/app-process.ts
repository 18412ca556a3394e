/**
 * The app under drill: started in its own process group so that stopping it stops everything
 * it spawned (npm, a shell, workers), with the tail of its output kept for the report.
 */
import type { Logger } from './logger.js';
import { NodeProcessRunner, type ProcessRunner } from './process.js';

export interface AppProcess {
  pid?: number;
  /** true while running; a reason ("exited with code 1") once it stopped on its own. */
  alive(): true | string;
  tail(): string[];
  stop(): Promise<void>;
}

export function startApp(
  command: string,
  options: {
    env: NodeJS.ProcessEnv;
    cwd?: string;
    logger: Logger;
    tailLines?: number;
    /** The process port; callers without one get the real runner (the app is a real process either way). */
    runner?: ProcessRunner;
  },
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
  const runner = options.runner ?? new NodeProcessRunner(options.logger);
  const child = runner.spawn('/bin/sh', ['-c', command], {
    env: options.env,
    cwd: options.cwd,
    processGroup: true,
    quiet: true,
  });
  let exit: string | undefined;
  child.stdout.setEncoding('utf8').on('data', (d: string) => push('out', d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => push('err', d));
  const exited = child.exited.then(({ code, signal, error }) => {
    exit = error
      ? `could not start: ${error.message}`
      : signal
        ? `was killed by ${signal}`
        : `exited with code ${code}`;
  });
  return {
    pid: child.pid,
    alive: () => (exit === undefined ? true : `the app ${exit}`),
    tail: () => [...lines, ...(partial.out ? [partial.out] : []), ...(partial.err ? [partial.err] : [])],
    async stop() {
      if (exit === undefined) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      // children that ignored SIGTERM or were orphaned in the group
      child.kill('SIGKILL');
    },
  };
}
