// Keeps the generated files equal to their sources, so the reference pages cannot drift:
//   - the root action.yml (the Marketplace listing, `uses: dbdrill/dbdrill@v1` with a `command`
//     input), from the three actions/<action>/action.yml: their union, so it cannot disagree with them;
//   - each docs/actions/<action>.md input/output table, from actions/<action>/action.yml, and
//     docs/actions/action.md from the root action.yml;
//   - each `dbdrill <command> --help` block of docs/cli.md, from the committed CLI bundle
//     (dist/cli/index.js), since that is what users run.
//
//   node scripts/docs-tables.mjs          rewrite the generated blocks in place
//   node scripts/docs-tables.mjs --check  exit 1 when any page is out of date (names the pages)
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';
import YAML from 'yaml';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const ACTIONS = ['backup', 'verify', 'restore-drill'];
/** The root action's page and table key; its metadata is the root action.yml. */
export const ROOT_ACTION = 'action';
export const CLI_COMMANDS = ['backup', 'verify', 'drill', 'prune', 'list'];

const cell = (s) =>
  String(s ?? '')
    .replace(/([|*_<>])/g, '\\$1')
    .replace(/\n/g, ' ')
    .trim();

const metadataFile = (name) =>
  name === ROOT_ACTION ? path.join(root, 'action.yml') : path.join(root, 'actions', name, 'action.yml');

export function tablesFor(name) {
  const meta = YAML.parse(readFileSync(metadataFile(name), 'utf8'));
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

const quote = (s) => `\`${s}\``;
const and = (xs) => (xs.length === 1 ? xs[0] : `${xs.slice(0, -1).join(', ')} and ${xs[xs.length - 1]}`);

/**
 * One description for an input or output several actions declare, saying which commands take it:
 * the root action accepts every input but rejects, at run time, those its command does not take,
 * so the listing must say which is whose. Per-command defaults and `required` go into the text
 * (the root declares neither: a default there would reach every command).
 */
function mergedDescription(uses, everyCommand) {
  const text = (u) =>
    [u.description.trim(), u.default !== undefined ? `Default: ${quote(u.default)}.` : '']
      .filter(Boolean)
      .join(' ');
  const who = (us) => and(us.map((u) => (u.required ? `${u.action} (required)` : u.action)));
  const groups = new Map();
  for (const u of uses) groups.set(text(u), [...(groups.get(text(u)) ?? []), u]);
  if (groups.size === 1 && everyCommand && !uses.some((u) => u.required)) return text(uses[0]);
  return [...groups].map(([t, us]) => `For ${who(us)}: ${t}`).join(' ');
}

/**
 * The root action.yml: a `command` input, then every input and output of the three actions (their
 * union, in the order the actions declare them). A default is declared only where every command
 * takes the input with that same default, so an input left out stays empty for the commands it
 * does not belong to; the option table still applies each command's own defaults when it reads.
 */
export function rootActionYaml() {
  const metas = ACTIONS.map((action) => ({
    action,
    meta: YAML.parse(readFileSync(path.join(root, 'actions', action, 'action.yml'), 'utf8')),
  }));
  const union = (key) => {
    const byName = new Map();
    for (const { action, meta } of metas) {
      for (const [name, v] of Object.entries(meta[key] ?? {})) {
        if (!byName.has(name)) byName.set(name, []);
        byName.get(name).push({
          action,
          description: String(v?.description ?? ''),
          default: v?.default === undefined ? undefined : String(v.default),
          required: v?.required === true,
        });
      }
    }
    return byName;
  };
  const inputs = {
    command: {
      description:
        'What to run: backup, verify or restore-drill (drill is the same as restore-drill). ' +
        'An input of another command is rejected, naming it and the command.',
      required: true,
    },
  };
  for (const [name, uses] of union('inputs')) {
    const everyCommand = uses.length === ACTIONS.length;
    const defaults = new Set(uses.map((u) => u.default));
    const shared = everyCommand && defaults.size === 1 ? uses[0].default : undefined;
    const description =
      shared !== undefined
        ? mergedDescription(
            uses.map((u) => ({ ...u, default: undefined })),
            everyCommand,
          )
        : mergedDescription(uses, everyCommand);
    inputs[name] = { description, required: false, ...(shared !== undefined ? { default: shared } : {}) };
  }
  const outputs = {};
  for (const [name, uses] of union('outputs')) {
    outputs[name] = { description: mergedDescription(uses, uses.length === ACTIONS.length) };
  }
  const doc = new YAML.Document({
    name: 'dbdrill',
    description:
      'Back up PostgreSQL/MongoDB with the app secret store, verify the backups, and run timed restore drills.',
    author: 'dbdrill',
    branding: { icon: 'database', color: 'blue' },
    inputs,
    outputs,
    runs: { using: 'node24', main: 'dist/action/index.js' },
  });
  doc.commentBefore =
    ' Generated by scripts/docs-tables.mjs from actions/*/action.yml (edit those, then run\n' +
    ' node scripts/docs-tables.mjs). One action for the Marketplace: `command` picks backup, verify or\n' +
    ' restore-drill; actions/<name> stay the same actions under their own paths.';
  return doc.toString({ defaultStringType: 'QUOTE_SINGLE', defaultKeyType: 'PLAIN', lineWidth: 0 });
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
    { file: 'action.yml', render: () => rootActionYaml() },
    ...[...ACTIONS, ROOT_ACTION].map((name) => ({
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
    const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
    // formatted as Prettier formats the page, so the check and `prettier --check` agree
    const config = (await prettier.resolveConfig(file)) ?? {};
    const next = await prettier.format(page.render(text, page.file), { ...config, filepath: file });
    if (next === text) continue;
    stale.push(page.file);
    if (!check) writeFileSync(file, next);
  }
  if (check && stale.length) {
    console.error(
      `${stale.join(', ')}: generated files differ from actions/*/action.yml or dist/cli; run: node scripts/docs-tables.mjs`,
    );
    process.exit(1);
  }
  if (!check && stale.length) console.log(`docs-tables: rewrote ${stale.join(', ')}`);
}
