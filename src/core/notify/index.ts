/** What adapters need from the notify module: announce/announceStart (or runAnnounced), the Outcome builders and the settings (parsed by options/notify-options.ts). */
export {
  announce,
  announceStart,
  runAnnounced,
  type AnnounceReport,
  type ChannelResult,
  type NotifyDeps,
} from './announce.js';
export { runFleetAnnounced, type FleetOutcomes } from './fleet-announce.js';
export type { FetchPort, DeliveryPolicy } from './http-delivery.js';
export type { TextFileIo } from './metrics-file.js';
export { notifyDisabled, registerNotifySecrets, type NotifySettings } from './settings.js';
export {
  backupOutcome,
  drillOutcome,
  errorOutcome,
  runUrlFrom,
  verifyOutcome,
  type NotifyCommand,
  type Outcome,
} from './outcome.js';
export { NOTIFY_EVENT_SCHEMA_VERSION, type NotifyEvent } from './webhook-payloads.js';
