// Prints the CHANGELOG.md section of one version, for the GitHub release body:
//   node scripts/release-notes.mjs 1.2.3      (a leading "v" is accepted: v1.2.3)
// Exit 1 when CHANGELOG.md has no `## [1.2.3]` section, so a tag without release notes does not ship.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The body under `## [version]` up to the next `## ` heading or link definitions; undefined if absent. */
export function notesFor(changelog, version) {
  const lines = changelog.split('\n');
  const start = lines.findIndex((l) => l.startsWith(`## [${version}]`));
  if (start < 0) return undefined;
  const rest = lines.slice(start + 1);
  const end = rest.findIndex((l) => l.startsWith('## ') || /^\[[^\]]+\]:\s/.test(l));
  return (end < 0 ? rest : rest.slice(0, end)).join('\n').trim();
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const version = (process.argv[2] ?? '').replace(/^v/, '');
  if (!/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(version)) {
    console.error(
      `release-notes: expected a version such as 1.2.3 or v1.2.3, got "${process.argv[2] ?? ''}"`,
    );
    process.exit(2);
  }
  const notes = notesFor(readFileSync(path.join(root, 'CHANGELOG.md'), 'utf8'), version);
  if (!notes) {
    console.error(
      `release-notes: CHANGELOG.md has no "## [${version}]" section; move Unreleased there first`,
    );
    process.exit(1);
  }
  console.log(notes);
}
