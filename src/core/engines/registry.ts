/**
 * The engines a bundle can hold, in the order the use cases run them. PostgreSQL comes first: in
 * a joint bundle its target is the app's DATABASE_URL and the report's target kind, and it is
 * the first asked to claim a bundle member or recognise a bare dump.
 */
import type { Engine } from './engine.js';
import { mongodbEngine } from './mongodb/mongodb-engine.js';
import type { MongoDrillOptions } from './mongodb/drill.js';
import { postgresEngine } from './postgres/postgres-engine.js';
import type { PostgresDrillOptions } from './postgres/drill.js';

/** Every engine's drill options: what the drill use case must hand to all of them. */
export type EngineDrillOptions = PostgresDrillOptions & MongoDrillOptions;

/** An engine the use cases can be handed (tests add their own beside these). */
export type RegisteredEngine = Engine<EngineDrillOptions>;

export const ENGINES: readonly RegisteredEngine[] = [postgresEngine, mongodbEngine];

/** The engine that wrote a component or reads a URL's database; a name no engine has is a bug, not user input. */
export function engineNamed(name: string, engines: readonly RegisteredEngine[] = ENGINES): RegisteredEngine {
  const engine = engines.find((e) => e.name === name);
  if (!engine) throw new Error(`internal: no engine named ${name}`);
  return engine;
}
