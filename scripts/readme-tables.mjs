// Keeps the README's input/output tables equal to the action.yml files (the source of truth).
//   node scripts/readme-tables.mjs          rewrite the README blocks in place
//   node scripts/readme-tables.mjs --check  exit 1 when the README is out of date
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';
import YAML from 'yaml';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ACTIONS = ['backup', 'verify', 'restore-drill'];

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

export function renderReadme(text) {
  let out = text;
  for (const name of ACTIONS) {
    const re = new RegExp(`(<!-- action-table:${name} -->)[\\s\\S]*?(<!-- /action-table:${name} -->)`);
    if (!re.test(out)) throw new Error(`README has no <!-- action-table:${name} --> block`);
    out = out.replace(re, (_m, open, close) => `${open}\n${tablesFor(name)}\n${close}`);
  }
  return out;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const file = path.join(root, 'README.md');
  const text = readFileSync(file, 'utf8');
  // formatted as Prettier formats the README, so the check and `prettier --check` agree
  const config = (await prettier.resolveConfig(file)) ?? {};
  const next = await prettier.format(renderReadme(text), { ...config, filepath: file });
  if (process.argv.includes('--check')) {
    if (next !== text) {
      console.error(
        'README.md action tables differ from actions/*/action.yml; run: node scripts/readme-tables.mjs',
      );
      process.exit(1);
    }
  } else writeFileSync(file, next);
}
