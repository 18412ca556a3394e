/**
 * TEST DOUBLES for mongodump and mongorestore. No mongod can run on this machine (the real tools
 * run in the project's GitHub workflow, .github/workflows/mongo.yml), so these shell scripts stand
 * in for the tools' command-line behaviour only: `--version`, logging the argv and the --config
 * file they were given, and (mongodump) writing a real mongodump archive from test/fixtures/mongo.
 */
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface FakeToolOptions {
  /** The archive mongodump "writes" (copied to --archive=...). */
  source?: string;
  /** Seconds mongodump sleeps before writing (for max-skew). */
  sleep?: number;
  /** Exit code and stderr of the run (not of --version). */
  exitCode?: number;
  stderr?: string;
  version?: string;
}

export interface FakeTools {
  binDir: string;
  /** Files the doubles write: <log>.argv, <log>.config, <log>.configmode. */
  log: (tool: 'mongodump' | 'mongorestore') => string;
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export async function writeFakeMongoTools(dir: string, o: FakeToolOptions = {}): Promise<FakeTools> {
  const binDir = join(dir, 'fake-mongo-bin');
  await mkdir(binDir, { recursive: true });
  const log = (tool: string) => join(dir, `${tool}.log`);
  for (const tool of ['mongodump', 'mongorestore'] as const) {
    const body = [
      '#!/bin/sh',
      `# TEST DOUBLE for ${tool}: see test/helpers/fake-mongo-tools.ts`,
      `if [ "$1" = "--version" ]; then echo "${tool} version: ${o.version ?? '100.10.0'}"; echo "git version: test-double"; exit 0; fi`,
      `LOG=${q(log(tool))}`,
      'printf "%s\\n" "$@" > "$LOG.argv"',
      'cfg=""; out=""',
      'for a in "$@"; do case "$a" in --config=*) cfg="${a#--config=}";; --archive=*) out="${a#--archive=}";; esac; done',
      'if [ -n "$cfg" ]; then stat -c %a "$cfg" > "$LOG.configmode"; cp "$cfg" "$LOG.config"; fi',
      o.sleep ? `sleep ${o.sleep}` : '',
      o.stderr ? `echo ${q(o.stderr)} >&2` : '',
      o.exitCode ? `exit ${o.exitCode}` : '',
      tool === 'mongodump' && o.source ? `cp ${q(o.source)} "$out"` : '',
      tool === 'mongorestore'
        ? 'echo "25 document(s) restored successfully. 0 document(s) failed to restore." >&2'
        : '',
      'exit 0',
    ];
    await writeFile(join(binDir, tool), body.filter(Boolean).join('\n') + '\n');
    await chmod(join(binDir, tool), 0o755);
  }
  return { binDir, log };
}
