/**
 * The action.yml files are the actions' public contract: they must agree with the option specs
 * the adapters read inputs through (an input missing from action.yml is rejected by the runner's
 * warnings and invisible in the Marketplace; one missing from the specs is silently ignored), and
 * with the contract table in DESIGN.md.
 */
import { describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

import { rejectForeignInputs, resolveAction, rootInputs } from '../src/actions/dispatch/commands.js';
import { ConfigError } from '../src/core/errors.js';
import { cliSpecsFor, specsFor, type Command } from '../src/core/options/index.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

interface ActionCase {
  action: string;
  command: Command;
  /** The DESIGN.md contract: inputs and outputs users' workflows depend on. */
  contractInputs: string[];
  contractOutputs: string[];
  /**
   * Inputs only the action has, because they concern GitHub itself (the CLI has no workflow
   * artifacts to upload): they are in the option table, flagged actionOnly.
   */
  actionOnlyInputs: string[];
}

const CASES: ActionCase[] = [
  {
    action: 'backup',
    command: 'backup',
    contractInputs: ['engine', 'database-url', 'store', 'name', 'secret-files'],
    contractOutputs: ['bundle', 'sha256', 'size-bytes', 'duration-seconds'],
    actionOnlyInputs: [],
  },
  {
    action: 'verify',
    command: 'verify',
    contractInputs: ['bundle', 'store', 'name', 'max-age', 'deep'],
    contractOutputs: ['verified', 'bundle', 'age-seconds'],
    actionOnlyInputs: [],
  },
  {
    action: 'restore-drill',
    command: 'drill',
    contractInputs: [
      'store',
      'name',
      'bundle',
      'target-url',
      'provision',
      'app-command',
      'health-urls',
      'rto',
      'rpo',
      'report-dir',
    ],
    contractOutputs: ['status', 'rto-seconds', 'rpo-seconds', 'report-path'],
    actionOnlyInputs: ['report-artifact-name', 'report-retention-days'],
  },
];

interface ActionYaml {
  name?: unknown;
  description?: unknown;
  inputs?: Record<string, { description?: unknown; required?: unknown; default?: unknown } | null>;
  outputs?: Record<string, { description?: unknown } | null>;
  runs?: { using?: unknown; main?: unknown };
}

function load(action: string): ActionYaml | undefined {
  const file = join(ROOT, 'actions', action, 'action.yml');
  if (!existsSync(file)) return undefined;
  return parse(readFileSync(file, 'utf8')) as ActionYaml;
}

const sorted = (xs: Iterable<string>) => [...xs].sort();

/** The design's contract table, from the repository's copy (see test/fixtures/design/PROVENANCE.md). */
const DESIGN_COPY = join(ROOT, 'test', 'fixtures', 'design', 'DESIGN.md');

/** shared/DESIGN.md beside the checkout (or beside the folder of worktrees it is in), when there is one. */
function findSharedDesign(): string | undefined {
  for (let dir = ROOT; ; dir = dirname(dir)) {
    const candidate = join(dir, '..', 'shared', 'DESIGN.md');
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

describe.each(CASES)('actions/$action/action.yml', (c) => {
  const meta = load(c.action);

  it('exists and parses', () => {
    expect(meta).toBeDefined();
    expect(typeof meta!.name).toBe('string');
    expect(String(meta!.description ?? '').length).toBeGreaterThan(10);
  });

  it(`runs on node24 from ../../dist/${c.action}/index.js, which is built`, () => {
    expect(meta!.runs?.using).toBe('node24');
    expect(meta!.runs?.main).toBe(`../../dist/${c.action}/index.js`);
    expect(existsSync(join(ROOT, 'actions', c.action, String(meta!.runs?.main)))).toBe(true);
  });

  it('describes every input and output', () => {
    const undescribed = [
      ...Object.entries(meta!.inputs ?? {}).map(([k, v]) => ['input', k, v] as const),
      ...Object.entries(meta!.outputs ?? {}).map(([k, v]) => ['output', k, v] as const),
    ]
      .filter(([, , v]) => typeof v?.description !== 'string' || v.description.trim().length < 5)
      .map(([kind, k]) => `${kind} ${k}`);
    expect(undescribed).toEqual([]);
  });

  it(`has exactly the inputs of the "${c.command}" option specs, action-only ones included`, () => {
    const expected = new Set(specsFor(c.command).map((s) => s.name));
    const declared = new Set(Object.keys(meta!.inputs ?? {}));
    expect({
      missingFromActionYml: sorted([...expected].filter((n) => !declared.has(n))),
      notAnOptionSpec: sorted([...declared].filter((n) => !expected.has(n))),
    }).toEqual({ missingFromActionYml: [], notAnOptionSpec: [] });
  });

  it('flags exactly its GitHub-only inputs actionOnly, which the CLI does not accept', () => {
    expect(
      sorted(
        specsFor(c.command)
          .filter((s) => s.actionOnly)
          .map((s) => s.name),
      ),
    ).toEqual(sorted(c.actionOnlyInputs));
    const cli = new Set(cliSpecsFor(c.command).map((s) => s.name));
    expect(c.actionOnlyInputs.filter((n) => cli.has(n))).toEqual([]);
  });

  it('declares exactly the defaults of the option specs, the one place defaults are written', () => {
    const mismatched: string[] = [];
    for (const spec of specsFor(c.command)) {
      const declared = meta!.inputs?.[spec.name]?.default;
      const yml = declared === undefined ? undefined : String(declared);
      if (yml !== spec.default) {
        mismatched.push(
          `${spec.name}: action.yml ${JSON.stringify(yml)}, spec ${JSON.stringify(spec.default)}`,
        );
      }
    }
    expect(mismatched).toEqual([]);
  });

  it('keeps the contract inputs and outputs of DESIGN.md', () => {
    expect(c.contractInputs.filter((i) => !(i in (meta!.inputs ?? {})))).toEqual([]);
    expect(c.contractOutputs.filter((o) => !(o in (meta!.outputs ?? {})))).toEqual([]);
  });
});

describe('the contract table', () => {
  it('is what DESIGN.md says (so this test is updated with the design, not apart from it)', () => {
    const text = readFileSync(DESIGN_COPY, 'utf8');
    for (const c of CASES) {
      const row = text.split('\n').find((l) => l.startsWith(`| ${c.action} |`));
      expect(row).toBeDefined();
      const [, , inputs, outputs] = row!.split('|');
      const names = (cell: string) => [...cell.matchAll(/`([a-z][a-z0-9-]*)`/g)].map((m) => m[1]);
      const contractValues = ['postgres', 'mongodb', 'true', 'false', 'passed', 'failed', 'local'];
      expect(sorted(names(inputs).filter((n) => !contractValues.includes(n)))).toEqual(
        sorted(c.contractInputs),
      );
      expect(sorted(names(outputs).filter((n) => !contractValues.includes(n)))).toEqual(
        sorted(c.contractOutputs),
      );
    }
  });
});

describe('the repository copy of DESIGN.md', () => {
  const shared = findSharedDesign();
  // Beside a bare clone there is no shared/ to compare with; the contract tests above still ran on the copy.
  (shared ? it : it.skip)('is the current design (update test/fixtures/design/DESIGN.md with it)', () => {
    expect(readFileSync(DESIGN_COPY, 'utf8')).toBe(readFileSync(shared!, 'utf8'));
  });
});

describe('the root action.yml (uses: dbdrill/dbdrill@v1, with command)', () => {
  const file = join(ROOT, 'action.yml');
  const meta = (existsSync(file) ? parse(readFileSync(file, 'utf8')) : undefined) as
    (ActionYaml & { branding?: { icon?: unknown; color?: unknown } }) | undefined;
  const subActions = CASES.map((c) => ({ ...c, meta: load(c.action)! }));
  /** The commands (as action names) that take an input, from the option table. */
  const takers = (input: string) =>
    CASES.filter((c) => specsFor(c.command).some((s) => s.name === input)).map((c) => c.action);

  it('exists, with a name, a description and Marketplace branding', () => {
    expect(meta).toBeDefined();
    expect(meta!.name).toBe('dbdrill');
    expect(String(meta!.description ?? '').length).toBeGreaterThan(10);
    expect(typeof meta!.branding?.icon).toBe('string');
    // the colours the Marketplace accepts
    expect(['white', 'black', 'yellow', 'blue', 'green', 'orange', 'red', 'purple', 'gray-dark']).toContain(
      meta!.branding?.color,
    );
  });

  it('runs on node24 from dist/action/index.js, built from src/actions/dispatch by scripts/build.mjs', async () => {
    expect(meta!.runs?.using).toBe('node24');
    expect(meta!.runs?.main).toBe('dist/action/index.js');
    expect(existsSync(join(ROOT, 'dist', 'action', 'index.js'))).toBe(true);
    const { ENTRIES } = (await import(join(ROOT, 'scripts', 'build.mjs'))) as {
      ENTRIES: Record<string, string>;
    };
    expect(ENTRIES.action).toBe('src/actions/dispatch/index.ts');
  });

  it('has a required command input and, besides it, exactly the union of the three option specs', () => {
    expect(meta!.inputs?.command?.required).toBe(true);
    const union = new Set(CASES.flatMap((c) => specsFor(c.command).map((s) => s.name)));
    const declared = Object.keys(meta!.inputs ?? {}).filter((n) => n !== 'command');
    expect(sorted(declared)).toEqual(sorted(union));
    // what the dispatcher checks foreign inputs against is that same list
    expect(sorted(rootInputs())).toEqual(sorted(declared));
    // no other input is required: each command checks its own required inputs when it runs
    expect(declared.filter((n) => meta!.inputs?.[n]?.required === true)).toEqual([]);
  });

  it('has exactly the union of the three actions’ outputs, each saying which command sets it', () => {
    const union = new Set(subActions.flatMap((a) => Object.keys(a.meta.outputs ?? {})));
    expect(sorted(Object.keys(meta!.outputs ?? {}))).toEqual(sorted(union));
    for (const [name, v] of Object.entries(meta!.outputs ?? {})) {
      for (const a of subActions.filter((s) => name in (s.meta.outputs ?? {})))
        expect(`${name}: ${String(v?.description)}`).toContain(a.action);
    }
  });

  it('describes every input and output; one that not every command takes names the commands that do', () => {
    const problems: string[] = [];
    for (const [name, v] of Object.entries(meta!.inputs ?? {})) {
      const text = typeof v?.description === 'string' ? v.description : '';
      if (text.trim().length < 5) problems.push(`input ${name}: no description`);
      if (name === 'command') continue;
      const who = takers(name);
      if (who.length === CASES.length) continue;
      // "For backup (required) and restore-drill: ... For verify: ..." names exactly the takers
      const named = [...text.matchAll(/For ((?:[a-z-]+(?: \(required\))?(?:, | and )?)+):/g)].flatMap((m) =>
        m[1].split(/, | and /).map((w) => w.replace(' (required)', '')),
      );
      if (sorted(named).join() !== sorted(who).join())
        problems.push(`input ${name}: names ${named.join(', ')}, taken by ${who.join(', ')}`);
    }
    for (const [name, v] of Object.entries(meta!.outputs ?? {}))
      if (typeof v?.description !== 'string' || v.description.trim().length < 5)
        problems.push(`output ${name}: no description`);
    expect(problems).toEqual([]);
  });

  it('declares a default only where every command takes the input with it; other defaults are in the text', () => {
    const problems: string[] = [];
    for (const name of Object.keys(meta!.inputs ?? {})) {
      if (name === 'command') continue;
      const declared = meta!.inputs?.[name]?.default;
      const spec = CASES.flatMap((c) => specsFor(c.command)).find((s) => s.name === name)!;
      const everyCommand = takers(name).length === CASES.length;
      if (declared !== undefined && (!everyCommand || String(declared) !== spec.default))
        problems.push(`${name}: declares default ${JSON.stringify(declared)}`);
      if (declared === undefined && spec.default !== undefined) {
        const text = String(meta!.inputs?.[name]?.description);
        if (everyCommand)
          problems.push(`${name}: taken by every command, default ${spec.default} not declared`);
        else if (!text.includes(`Default: \`${spec.default}\``))
          problems.push(`${name}: the description does not give the default ${spec.default}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('is what scripts/docs-tables.mjs generates from the three actions (so it cannot drift from them)', async () => {
    const { rootActionYaml } = (await import(join(ROOT, 'scripts', 'docs-tables.mjs'))) as {
      rootActionYaml: () => string;
    };
    expect(parse(rootActionYaml())).toEqual(meta);
  });
});

describe('routing of the root action', () => {
  it('resolves the three commands and the CLI name drill, and rejects others, naming the choices', () => {
    expect(resolveAction('backup')).toBe('backup');
    expect(resolveAction(' verify ')).toBe('verify');
    expect(resolveAction('restore-drill')).toBe('restore-drill');
    expect(resolveAction('drill')).toBe('restore-drill');
    expect(() => resolveAction('')).toThrow(
      new ConfigError(
        'command is required; expected one of: backup, verify, restore-drill (or drill, the same as restore-drill)',
      ),
    );
    expect(() => resolveAction('list')).toThrow(/^command "list" is not valid; expected one of: backup/);
    expect(() => resolveAction('Backup')).toThrow(ConfigError);
  });

  it("passes the command's own inputs and empty ones; rejects others with a ConfigError naming them", () => {
    const set =
      (...names: string[]) =>
      (n: string) =>
        names.includes(n);
    expect(() => rejectForeignInputs('backup', set('database-url', 'store', 'notify-on'))).not.toThrow();
    expect(() => rejectForeignInputs('restore-drill', set('bundle', 'provision', 'identity'))).not.toThrow();
    expect(() => rejectForeignInputs('verify', set())).not.toThrow();
    expect(() => rejectForeignInputs('verify', set('bundle', 'keep-last'))).toThrow(
      new ConfigError(
        'input keep-last does not apply to command verify (it is an input of backup); remove it from the step',
      ),
    );
    // an input of two other commands names both
    expect(() => rejectForeignInputs('verify', set('docker-container'))).toThrow(
      /docker-container does not apply to command verify \(it is an input of backup and restore-drill\)/,
    );
    expect(() => rejectForeignInputs('backup', set('identity', 'rto'))).toThrow(
      /^inputs identity \(verify and restore-drill\), rto \(restore-drill\) do not apply to command backup/,
    );
  });
});
