// Keeps the generated parts of docs/ equal to their sources, so the reference pages cannot drift:
//   - each docs/actions/<action>.md input/output table, from actions/<action>/action.yml;
//   - each `dbdrill <command> --help` block of docs/cli.md, from the committed CLI bundle
//     (dist/cli/index.js), since that is what users run.
//
//   node scripts/docs-tables.mjs          rewrite the generated blocks in place
//   node scripts/docs-tables.mjs --check  exit 1 when any page is out of date (names the pages)
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';
import YAML from 'yaml';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const ACTIONS = ['backup', 'verify', 'restore-drill'];
export const CLI_COMMANDS = ['backup', 'verify', 'drill', 'prune', 'list'];

const cell = (s) =>
  String(s ?? '')
    .replace(/([|*_<>])/g, '\\$1')
    .replace(/\n/g, ' ')
    .trim();

export function tablesFor(name) {
  const meta = YAML.parse(readFileSync(path.join(root, 'actions', name, 'action.yml'), 'utf8'));
  const inputs = Object.entries(meta.inputs ?? {}).map(
    ([k, v]) =>
      `| \`${k}\` | ${v.required ? 'yes' : ''} | ${v.default !== undefined ? `\`${cell(v.default)}\`` : ''} | ${cell(v.description)} |`,
  );
  const outputs = Object.entries(meta.outputs ?? {}).map(([k, v]) => `| \`${k}\` | ${cell(v.description)} |`);
  return [
    '| input | required | default | description |',
    '|---|---|---|---|',
    ...inputs,
    '',
    '| output | description |',
    '|---|---|',
    ...outputs,
  ].join('\n');
}

export function cliHelpFor(command) {
  const help = execFileSync(
    process.execPath,
    [path.join(root, 'dist', 'cli', 'index.js'), command, '--help'],
    {
      encoding: 'utf8',
    },
  );
  return ['```text', help.trimEnd(), '```'].join('\n');
}

/** Replaces the body of every `<!-- kind:key -->…<!-- /kind:key -->` block; a missing block is an error. */
export function fillBlocks(text, kind, keys, render, file) {
  let out = text;
  for (const key of keys) {
    const re = new RegExp(`(<!-- ${kind}:${key} -->)[\\s\\S]*?(<!-- /${kind}:${key} -->)`);
    if (!re.test(out)) throw new Error(`${file} has no <!-- ${kind}:${key} --> block`);
    out = out.replace(re, (_m, open, close) => `${open}\n\n${render(key)}\n\n${close}`);
  }
  return out;
}

/** Every generated page: its path relative to the root and how to render it from its current text. */
export function pages() {
  return [
    ...ACTIONS.map((name) => ({
      file: `docs/actions/${name}.md`,
      render: (text, file) => fillBlocks(text, 'action-table', [name], tablesFor, file),
    })),
    {
      file: 'docs/cli.md',
      render: (text, file) => fillBlocks(text, 'cli-help', CLI_COMMANDS, cliHelpFor, file),
    },
  ];
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const check = process.argv.includes('--check');
  const stale = [];
  for (const page of pages()) {
    const file = path.join(root, page.file);
    const text = readFileSync(file, 'utf8');
    // formatted as Prettier formats the page, so the check and `prettier --check` agree
    const config = (await prettier.resolveConfig(file)) ?? {};
    const next = await prettier.format(page.render(text, page.file), { ...config, filepath: file });
    if (next === text) continue;
    stale.push(page.file);
    if (!check) writeFileSync(file, next);
  }
  if (check && stale.length) {
    console.error(
      `${stale.join(', ')}: generated tables differ from actions/*/action.yml or dist/cli; run: node scripts/docs-tables.mjs`,
    );
    process.exit(1);
  }
  if (!check && stale.length) console.log(`docs-tables: rewrote ${stale.join(', ')}`);
}
