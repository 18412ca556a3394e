import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { closedPort } from './capture-server.js';

export const PUSHGATEWAY_BIN = process.env.DBDRILL_PUSHGATEWAY ?? '/usr/bin/prometheus-pushgateway';

/**
 * A real Prometheus Pushgateway (Debian package prometheus-pushgateway) on a free loopback port,
 * persisting to a temp file, stopped and removed by `stop`.
 */
export async function startPushgateway(): Promise<{ url: string; stop: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'dbdrill-pushgateway-'));
  const port = await closedPort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    PUSHGATEWAY_BIN,
    [`--web.listen-address=127.0.0.1:${port}`, `--persistence.file=${join(dir, 'metrics.store')}`],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr.on('data', (c: Buffer) => (log = (log + c.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
    await rm(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) break;
    const ready = await fetch(`${url}/-/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) return { url, stop };
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop();
  throw new Error(`pushgateway did not become ready on ${url}:\n${log}`);
}
