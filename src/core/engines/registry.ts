/**
 * The engines a bundle can hold, in the order a drill runs them. PostgreSQL comes first: in a
 * joint bundle its target is the app's DATABASE_URL and the report's target kind.
 */
import type { Engine } from './engine.js';
import { mongodbEngine, type MongoDrillOptions } from './mongodb/drill.js';
import { postgresEngine, type PostgresDrillOptions } from './postgres/drill.js';

/** Every engine's drill options: what the drill use case must hand to all of them. */
export type EngineDrillOptions = PostgresDrillOptions & MongoDrillOptions;

export const ENGINES: readonly Engine<EngineDrillOptions>[] = [postgresEngine, mongodbEngine];
