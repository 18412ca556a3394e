/**
 * ProcessRunner.spawn with real processes: stdin fed while running, a child that stops reading
 * early, a command that cannot start, and stopping a whole process group.
 */
import { describe, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import { text } from 'node:stream/consumers';
import { setTimeout as sleep } from 'node:timers/promises';

import { MemoryLogger } from './helpers/memory-logger.js';
import { NodeProcessRunner } from '../src/core/process.js';

const logger = new MemoryLogger();
const runner = new NodeProcessRunner(logger);

/** True once the process is gone or a zombie waiting for a parent that is not us. */
async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
    if (stat === undefined || /^\d+ \(.*\) Z/.test(stat)) return true;
    await sleep(50);
  }
  return false;
}

describe('ProcessRunner.spawn', () => {
  it('feeds stdin while the child runs, hands back its output and exit code, and logs the command', async () => {
    const child = runner.spawn('sh', ['-c', 'tr a-z A-Z; exit 3'], { stdin: 'pipe' });
    const out = text(child.stdout);
    child.stdin!.write('hello ');
    child.stdin!.end('world');
    expect(await out).toBe('HELLO WORLD');
    expect(await child.exited).toEqual({ code: 3, signal: null });
    expect(logger.lines.join('\n')).toContain(`$ sh -c 'tr a-z A-Z; exit 3'`);
  });

  it('a child that stops reading early does not break the writer: the exit status tells', async () => {
    const child = runner.spawn('head', ['-c', '1'], { stdin: 'pipe', quiet: true });
    const out = text(child.stdout);
    const chunk = Buffer.alloc(1 << 20, 0x61);
    for (let i = 0; i < 16 && child.stdin!.writable; i++) {
      if (!child.stdin!.write(chunk)) await Promise.race([sleep(100), child.exited]);
    }
    child.stdin!.end();
    expect(await child.exited).toEqual({ code: 0, signal: null });
    expect(await out).toBe('a');
  });

  it('a command that cannot start settles with the error instead of rejecting', async () => {
    const child = runner.spawn('/nonexistent/dbdrill-tool', [], { quiet: true });
    child.stdout.resume();
    child.stderr.resume();
    const exit = await child.exited;
    expect(exit.code).toBeNull();
    expect(exit.error?.message).toMatch(/ENOENT/);
    expect(() => child.kill()).not.toThrow();
  });

  it('kill stops the whole process group, grandchildren included', async () => {
    const child = runner.spawn('sh', ['-c', 'sleep 300 & echo $!; wait'], {
      processGroup: true,
      quiet: true,
    });
    const grandchild = await new Promise<number>((resolve) =>
      child.stdout.setEncoding('utf8').once('data', (d: string) => resolve(Number(d.trim()))),
    );
    expect(grandchild).toBeGreaterThan(0);
    child.kill('SIGTERM');
    expect((await child.exited).signal).toBe('SIGTERM');
    expect(await gone(grandchild)).toBe(true);
  });

  it('without a process group, kill stops only the child', async () => {
    const child = runner.spawn('sh', ['-c', 'sleep 300 & echo $!; wait'], { quiet: true });
    const grandchild = await new Promise<number>((resolve) =>
      child.stdout.setEncoding('utf8').once('data', (d: string) => resolve(Number(d.trim()))),
    );
    child.kill('SIGTERM');
    await child.exited;
    try {
      expect(await readFile(`/proc/${grandchild}/stat`, 'utf8')).not.toMatch(/^\d+ \(.*\) Z/);
    } finally {
      process.kill(grandchild, 'SIGKILL');
    }
  });
});
