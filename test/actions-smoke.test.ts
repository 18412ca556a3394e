/**
 * The committed bundles, run the way the GitHub runner runs them: `node dist/<action>/index.js`
 * with every input as an `INPUT_<NAME>` variable (upper-cased, hyphens kept), outputs appended to
 * the file named by GITHUB_OUTPUT in heredoc form, the job summary to GITHUB_STEP_SUMMARY, and
 * failure as exit code 1 with an `::error::` workflow command. Against a real scratch cluster.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { copyFile, mkdir, open, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { generateIdentity, recipientOf } from '../src/core/crypto/age-keys.js';
import { inputEnvName, parseOutputFile, runActionBundle, type ActionRun } from './helpers/action-runner.js';
import { startTestCluster, type TestCluster } from './helpers/pg-cluster.js';
import { tempDir } from './helpers/deps.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BACKUP = join(ROOT, 'dist', 'backup', 'index.js');
const VERIFY = join(ROOT, 'dist', 'verify', 'index.js');
const RESTORE_DRILL = join(ROOT, 'dist', 'restore-drill', 'index.js');
/** The root action.yml's bundle: `command` picks one of the three. */
const ROOT_ACTION = join(ROOT, 'dist', 'action', 'index.js');
/** Goes in the URL although the scratch cluster trusts local connections: it must never leak. */
const PASSWORD = 'Smoke-Pw-7f3a9c';

let work: { dir: string; remove: () => Promise<void> };
let runs = 0;

/** Runs one action bundle on jest's own node, in a fresh directory of the test's work dir. */
const runAction = (script: string, inputs: Record<string, string>): Promise<ActionRun> =>
  runActionBundle(process.execPath, script, inputs, join(work.dir, `run-${++runs}`));

/** Every place a secret could leak to, minus the `::add-mask::` commands that register it. */
function visibleText(run: ActionRun): string {
  const stdout = run.stdout
    .split('\n')
    .filter((l) => !l.startsWith('::add-mask::'))
    .join('\n');
  return [stdout, run.stderr, JSON.stringify(run.outputs), run.summary].join('\n');
}

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

describe('action bundles run as the runner runs them', () => {
  let cluster: TestCluster;
  let storeDir: string;
  let secretFiles: string[];
  let databaseUrl: string;
  /** age key pair: the backup gets only the public recipient, verify the identity. */
  let identity: string;
  let backupRun: ActionRun;
  /** A bundle without secret files, so unencrypted: its dump bytes can be located and damaged. */
  let plainRun: ActionRun;

  beforeAll(async () => {
    if (![BACKUP, VERIFY, RESTORE_DRILL, ROOT_ACTION].every((f) => existsSync(f))) {
      const { build } = (await import(join(ROOT, 'scripts', 'build.mjs'))) as {
        build: (o: { only: string[] }) => unknown;
      };
      build({ only: ['backup', 'verify', 'restore-drill', 'action'] });
    }
    work = await tempDir('dbdrill-smoke-');
    storeDir = join(work.dir, 'store');
    const secrets = join(work.dir, 'secrets');
    await mkdir(secrets, { mode: 0o700 });
    secretFiles = [join(secrets, 'kek.key'), join(secrets, 'app.env')];
    await writeFile(secretFiles[0], 'kek-0123456789abcdef\n', { mode: 0o600 });
    await writeFile(secretFiles[1], 'APP_ENV=smoke\n', { mode: 0o600 });
    identity = generateIdentity();
    cluster = await startTestCluster({ database: 'shop' });
    await cluster.loadRealisticSchema();
    const u = new URL(cluster.url);
    u.password = PASSWORD;
    databaseUrl = u.toString();
    backupRun = await runAction(BACKUP, {
      'database-url': databaseUrl,
      store: storeDir,
      name: 'smoke',
      'secret-files': secretFiles.join('\n'),
      recipients: recipientOf(identity),
    });
    plainRun = await runAction(BACKUP, { 'database-url': databaseUrl, store: storeDir, name: 'plain' });
  });

  afterAll(async () => {
    await cluster?.stop();
    await work?.remove();
  });

  it('backup exits 0 and sets bundle, sha256, size-bytes and duration-seconds', () => {
    expect(backupRun.stdout).not.toContain('::error::');
    expect(backupRun.code).toBe(0);
    const { bundle, sha256: sum, 'size-bytes': size, 'duration-seconds': duration } = backupRun.outputs;
    expect(existsSync(bundle)).toBe(true);
    expect(bundle.startsWith(storeDir)).toBe(true);
    expect(bundle).toMatch(/smoke-\d{8}T\d{6}Z/);
    expect(sum).toMatch(/^[0-9a-f]{64}$/);
    expect(sum).toBe(sha256(bundle));
    expect(Number(size)).toBe(statSync(bundle).size);
    expect(duration).toMatch(/^\d+(\.\d+)?$/);
    expect(statSync(bundle).mode & 0o777).toBe(0o600);
  });

  it('backup writes a job summary naming the bundle', () => {
    expect(backupRun.summary).toContain('dbdrill backup');
    expect(backupRun.summary).toContain(backupRun.outputs.bundle.split('/').pop());
  });

  it('masks the database password and never shows it anywhere else', () => {
    expect(backupRun.stdout).toContain(`::add-mask::${PASSWORD}`);
    expect(visibleText(backupRun)).not.toContain(PASSWORD);
    expect(visibleText(plainRun)).not.toContain(PASSWORD);
  });

  it('with recipients, the secret files are not readable in the stored bundle', () => {
    const bytes = readFileSync(backupRun.outputs.bundle);
    expect(bytes.includes('kek-0123456789abcdef')).toBe(false);
    expect(bytes.includes('APP_ENV=smoke')).toBe(false);
  });

  it('verify of that bundle (deep, with the identity) sets verified=true, bundle and age-seconds', async () => {
    const run = await runAction(VERIFY, { bundle: backupRun.outputs.bundle, deep: 'true', identity });
    expect(run.stdout).not.toContain('::error::');
    expect(run.code).toBe(0);
    expect(run.outputs.verified).toBe('true');
    expect(run.outputs.bundle).toBe(backupRun.outputs.bundle);
    expect(run.outputs['age-seconds']).toMatch(/^\d+$/);
    expect(run.summary).toContain('verified');
    expect(run.stdout).toContain(`::add-mask::`);
    expect(visibleText(run)).not.toContain(identity);
  });

  it('verify by store + name with max-age picks the newest bundle of that name', async () => {
    const run = await runAction(VERIFY, {
      store: storeDir,
      name: 'smoke',
      'max-age': '1h',
      deep: 'true',
      identity,
    });
    expect(run.code).toBe(0);
    expect(run.outputs.verified).toBe('true');
    expect(run.outputs.bundle).toContain(backupRun.outputs.bundle.split('/').pop());
  });

  it('verify of the encrypted bundle without the identity is not a pass', async () => {
    const run = await runAction(VERIFY, { bundle: backupRun.outputs.bundle });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^::error::.+/m);
    expect(run.outputs.verified).toBe('false');
  });

  it('verify of a corrupted bundle exits 1 with ::error:: and verified=false', async () => {
    expect(plainRun.code).toBe(0);
    const bad = join(work.dir, 'corrupt', 'plain-20240101T000000Z.dbdrill.tar');
    await mkdir(join(work.dir, 'corrupt'));
    await copyFile(plainRun.outputs.bundle, bad);
    // One flipped byte near the end of the dump member, inside its last data block: only reading
    // (and inflating) the data finds it. The member's tar header sits just before the PGDMP magic.
    const bytes = readFileSync(bad);
    const magic = bytes.indexOf('PGDMP');
    expect(magic).toBeGreaterThanOrEqual(512);
    const dumpSize = parseInt(
      bytes
        .subarray(magic - 512 + 124, magic - 512 + 136)
        .toString('latin1')
        .trim(),
      8,
    );
    expect(dumpSize).toBeGreaterThan(1000);
    const at = magic + dumpSize - 200;
    const fh = await open(bad, 'r+');
    try {
      await fh.write(Buffer.from([bytes[at] ^ 0xff]), 0, 1, at);
    } finally {
      await fh.close();
    }
    const run = await runAction(VERIFY, { bundle: bad, deep: 'true' });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^::error::.*corrupt/im);
    expect(run.outputs.verified).toBe('false');
    expect(run.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
  });

  it('backup without database-url fails with ::error:: naming the input, writing nothing', async () => {
    const store = join(work.dir, 'store-untouched');
    const run = await runAction(BACKUP, { store, name: 'smoke' });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^::error::.*database-url/m);
    expect(run.outputs).toEqual({});
    expect(existsSync(store) ? await readdir(store) : []).toEqual([]);
  });

  it('backup of secret files with neither recipients nor passphrase is refused, writing nothing', async () => {
    const store = join(work.dir, 'store-refused');
    const run = await runAction(BACKUP, {
      'database-url': databaseUrl,
      store,
      name: 'smoke',
      'secret-files': secretFiles.join('\n'),
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^::error::.*(recipients|passphrase|allow-unencrypted-secrets)/m);
    expect(existsSync(store) ? await readdir(store) : []).toEqual([]);
  });

  it('restore-drill with a malformed health-urls line fails at once, naming the input as the action spells it', async () => {
    const reportDir = join(work.dir, 'drill-report-never');
    const run = await runAction(RESTORE_DRILL, {
      bundle: plainRun.outputs.bundle,
      provision: 'local',
      'report-dir': reportDir,
      'health-urls': 'GET http://127.0.0.1:1/healthz\nFETCH http://127.0.0.1:1/ready',
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^::error::health-urls line 2: "FETCH http:\/\/127\.0\.0\.1:1\/ready"/m);
    expect(run.stdout).not.toContain('--health-urls');
    expect(run.outputs.status).toBe('failed');
    // parsed before any work: no scratch server was started, no report written
    expect(run.stdout + run.stderr).not.toMatch(/scratch PostgreSQL/);
    expect(existsSync(reportDir)).toBe(false);
  });

  it('restore-drill rejects a report-retention-days outside 1-90, naming it', async () => {
    const run = await runAction(RESTORE_DRILL, {
      bundle: plainRun.outputs.bundle,
      provision: 'local',
      'report-retention-days': '91',
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      /^::error::report-retention-days "91" is not valid; expected a whole number from 1 to 90/m,
    );
  });

  it('verify with a bad deep value fails with ::error:: naming deep and the value', async () => {
    const run = await runAction(VERIFY, { bundle: plainRun.outputs.bundle, deep: 'maybe' });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^::error::.*deep.*maybe/m);
    expect(run.outputs.verified).toBe('false');
  });
});

describe('the root action bundle (command: backup | verify | restore-drill | drill)', () => {
  let cluster: TestCluster;
  let storeDir: string;
  let backup: ActionRun;

  beforeAll(async () => {
    work = await tempDir('dbdrill-smoke-root-');
    storeDir = join(work.dir, 'root-store');
    cluster = await startTestCluster({ database: 'shop' });
    await cluster.loadRealisticSchema();
    backup = await runAction(ROOT_ACTION, {
      command: 'backup',
      'database-url': cluster.url,
      store: storeDir,
      name: 'root',
      // an input of backup's that the other commands take too, and one left empty: both fine
      'notify-on': 'never',
      'max-age': '',
    });
  });

  afterAll(async () => {
    await cluster?.stop();
    await work?.remove();
  });

  it('command: backup runs the backup action: same outputs, same job summary', () => {
    expect(backup.stdout).not.toContain('::error::');
    expect(backup.code).toBe(0);
    expect(backup.outputs.bundle.startsWith(storeDir)).toBe(true);
    expect(backup.outputs.sha256).toBe(sha256(backup.outputs.bundle));
    expect(Number(backup.outputs['size-bytes'])).toBe(statSync(backup.outputs.bundle).size);
    expect(backup.summary).toContain('dbdrill backup');
  });

  it('command: verify runs the verify action on that bundle', async () => {
    const run = await runAction(ROOT_ACTION, {
      command: 'verify',
      store: storeDir,
      name: 'root',
      deep: 'true',
    });
    expect(run.stdout).not.toContain('::error::');
    expect(run.code).toBe(0);
    expect(run.outputs.verified).toBe('true');
    expect(run.outputs.bundle).toContain(backup.outputs.bundle.split('/').pop());
  });

  it("rejects an input of another command, naming it and the command, before anything runs, and sets verify's failure output", async () => {
    const run = await runAction(ROOT_ACTION, {
      command: 'verify',
      bundle: backup.outputs.bundle,
      format: 'custom',
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      /^::error::input format does not apply to command verify \(it is an input of backup\)/m,
    );
    expect(run.outputs).toEqual({ verified: 'false' });
    expect(run.summary).toBe('');
  });

  it('drill is restore-drill; every foreign input is named at once, with the commands it belongs to, values never shown', async () => {
    const reportDir = join(work.dir, 'root-report-never');
    const secretLike = 'AGE-SECRET-KEY-1NOTAREALKEYBUTMUSTNOTBESHOWN';
    const run = await runAction(ROOT_ACTION, {
      command: 'drill',
      bundle: backup.outputs.bundle,
      provision: 'local',
      'report-dir': reportDir,
      'max-age': '26h',
      recipients: secretLike,
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      /^::error::inputs recipients \(backup\), max-age \(verify\) do not apply to command restore-drill/m,
    );
    expect(run.outputs).toEqual({ status: 'failed' });
    expect(run.stdout + run.stderr).not.toContain(secretLike);
    expect(existsSync(reportDir)).toBe(false);
  });

  it('an input of backup given to backup through the root is checked as the backup action checks it', async () => {
    const run = await runAction(ROOT_ACTION, {
      command: 'backup',
      store: join(work.dir, 'never'),
      name: 'x',
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^::error::.*database-url/m);
    expect(existsSync(join(work.dir, 'never'))).toBe(false);
  });

  it('a missing or unknown command fails, listing the commands', async () => {
    const missing = await runAction(ROOT_ACTION, { bundle: backup.outputs.bundle });
    expect(missing.code).toBe(1);
    expect(missing.stdout).toMatch(
      /^::error::command is required; expected one of: backup, verify, restore-drill \(or drill/m,
    );
    const unknown = await runAction(ROOT_ACTION, { command: 'prune', store: storeDir, name: 'root' });
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toMatch(
      /^::error::command "prune" is not valid; expected one of: backup, verify/m,
    );
    expect(unknown.outputs).toEqual({});
  });
});

describe("an action's main.ts, imported and run in process", () => {
  it('does nothing on import; run() reads the inputs, sets the outputs and fails the step', async () => {
    const dir = await tempDir('dbdrill-run-');
    const saved = { ...process.env };
    const writes: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      writes.push(String(chunk));
      return true;
    });
    try {
      const { run } = await import('../src/actions/verify/main.js');
      expect(writes).toEqual([]);
      expect(process.exitCode).toBeUndefined();
      const outputFile = join(dir.dir, 'github_output');
      await writeFile(outputFile, '');
      process.env.GITHUB_OUTPUT = outputFile;
      delete process.env.GITHUB_STEP_SUMMARY;
      process.env[inputEnvName('bundle')] = join(dir.dir, 'missing.dbdrill.tar');
      process.env[inputEnvName('max-age')] = '26';
      await run();
      expect(process.exitCode).toBe(1);
      expect(writes.join('')).toMatch(/::error::max-age "26" has no unit/);
      expect(parseOutputFile(readFileSync(outputFile, 'utf8'))).toEqual({ verified: 'false' });
    } finally {
      spy.mockRestore();
      process.exitCode = undefined;
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
      await dir.remove();
    }
  });
});

describe("the root action's main.ts, imported and run in process", () => {
  it('does nothing on import; run() routes to the command, which reads its own inputs and fails the step', async () => {
    const dir = await tempDir('dbdrill-run-root-');
    const saved = { ...process.env };
    const writes: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      writes.push(String(chunk));
      return true;
    });
    try {
      const { run } = await import('../src/actions/dispatch/main.js');
      expect(writes).toEqual([]);
      const outputFile = join(dir.dir, 'github_output');
      await writeFile(outputFile, '');
      process.env.GITHUB_OUTPUT = outputFile;
      delete process.env.GITHUB_STEP_SUMMARY;
      process.env[inputEnvName('command')] = 'verify';
      process.env[inputEnvName('bundle')] = join(dir.dir, 'missing.dbdrill.tar');
      process.env[inputEnvName('max-age')] = '26';
      // whitespace only is empty, as @actions/core reads it: not a foreign input
      process.env[inputEnvName('keep-last')] = '  ';
      await run();
      expect(process.exitCode).toBe(1);
      // the verify action's own check of its own input: routing passed
      expect(writes.join('')).toMatch(/::error::max-age "26" has no unit/);
      expect(parseOutputFile(readFileSync(outputFile, 'utf8'))).toEqual({ verified: 'false' });
    } finally {
      spy.mockRestore();
      process.exitCode = undefined;
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
      await dir.remove();
    }
  });
});

describe('parseOutputFile (the GITHUB_OUTPUT reader the bundle runs rely on)', () => {
  it('reads heredoc blocks, multiline values and plain lines', () => {
    const text = 'a<<ghadelimiter_1\none\nghadelimiter_1\nb<<EOF\nx\ny\nEOF\nc=3\n';
    expect(parseOutputFile(text)).toEqual({ a: 'one', b: 'x\ny', c: '3' });
  });

  it('rejects a block whose delimiter never closes', () => {
    expect(() => parseOutputFile('a<<D\nvalue\n')).toThrow(/never closes/);
  });
});
