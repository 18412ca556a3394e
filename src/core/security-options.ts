/** Moved to options/encryption-options.ts; kept only so importers on parallel branches compile. Delete once none is left. */
export * from './options/encryption-options.js';
