/**
 * Runs a committed action bundle the way the GitHub runner does: `<node> dist/<action>/index.js`
 * with every input as `INPUT_<NAME>`, outputs appended to the GITHUB_OUTPUT file, the job summary to
 * GITHUB_STEP_SUMMARY, and a private RUNNER_TEMP. The node binary is a parameter so that the same
 * run can happen under the runtime the action declares (node24), not only the one running jest.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface ActionRun {
  code: number | null;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  summary: string;
}

/** What the runner does to an input name: `INPUT_${name.replace(/ /g, '_').toUpperCase()}`. */
export function inputEnvName(name: string): string {
  return `INPUT_${name.replace(/ /g, '_').toUpperCase()}`;
}

/** Parses a GITHUB_OUTPUT file: `name<<delimiter\nvalue\ndelimiter` blocks and plain `name=value` lines. */
export function parseOutputFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (!line) continue;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const [, name, delimiter] = heredoc;
      const value: string[] = [];
      for (i++; i < lines.length && lines[i] !== delimiter; i++) value.push(lines[i]);
      if (i >= lines.length) throw new Error(`output ${name}: delimiter ${delimiter} never closes`);
      out[name] = value.join('\n');
      continue;
    }
    const eq = line.indexOf('=');
    if (eq <= 0) throw new Error(`not an output line: ${JSON.stringify(line)}`);
    out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

/** Runs `node script` in a fresh `runDir` with a clean GitHub environment apart from PATH/HOME etc. */
export async function runActionBundle(
  node: string,
  script: string,
  inputs: Record<string, string>,
  runDir: string,
): Promise<ActionRun> {
  await mkdir(join(runDir, 'temp'), { recursive: true });
  const outputFile = join(runDir, 'github_output');
  const summaryFile = join(runDir, 'step_summary');
  await writeFile(outputFile, '');
  await writeFile(summaryFile, '');
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^(INPUT_|GITHUB_|RUNNER_|ACTIONS_)/.test(k)) env[k] = v;
  }
  Object.assign(env, {
    GITHUB_ACTIONS: 'true',
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    RUNNER_TEMP: join(runDir, 'temp'),
  });
  for (const [name, value] of Object.entries(inputs)) env[inputEnvName(name)] = value;
  const child = spawn(node, [script], { cwd: runDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  return {
    code,
    stdout,
    stderr,
    outputs: parseOutputFile(readFileSync(outputFile, 'utf8')),
    summary: readFileSync(summaryFile, 'utf8'),
  };
}
