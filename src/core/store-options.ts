/** Moved to options/store-options.ts and options/retention-options.ts; kept only so importers on parallel branches compile. Delete once none is left. */
export * from './options/retention-options.js';
export * from './options/store-options.js';
