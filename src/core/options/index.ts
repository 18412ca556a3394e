/**
 * Every option of every use case, parsed and validated once, before any work, for both the CLI
 * and the actions. Raw options are strings keyed by the kebab-case input name, which is also the
 * CLI flag: `database-url` is `--database-url`. Errors name the input as the user typed it, the
 * bad value and what is expected.
 *
 * One file per concept; `spec.ts` is imported by all and imports none, `table.ts` assembles the
 * concept files' specs, `reader.ts` reads raw options against the table.
 */
export * from './backup-options.js';
export * from './database-urls.js';
export * from './drill-options.js';
export * from './dump-format-options.js';
export * from './encryption-options.js';
export * from './fleet-options.js';
export * from './location-options.js';
export * from './notify-options.js';
export * from './reader.js';
export * from './retention-options.js';
export * from './spec.js';
export * from './store-options.js';
export * from './table.js';
export * from './target-locale-options.js';
export * from './tool-options.js';
export * from './verify-options.js';
