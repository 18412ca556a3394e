/**
 * Fleets: one backup, verify or drill run over many databases, a layer above the backup and drill use
 * cases (which know nothing of fleets). See docs/fleets.md.
 */
export * from './backup-fleet.js';
export * from './drill-fleet.js';
export * from './verify-fleet.js';
export * from './record.js';
export * from './summary.js';
export * from './outcomes.js';
