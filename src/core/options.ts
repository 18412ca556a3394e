/** The option table and parsers live in options/; this path stays so existing importers keep working. */
export * from './options/index.js';
