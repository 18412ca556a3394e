/**
 * The yaml package, loaded on demand (its own ncc chunk). Only a health-checks file needs it, and
 * evaluating it at start-up cost every command about 0.03 s (a quarter of the CLI's start-up over
 * Node.js's own). Option parsing stays synchronous: the session loads it before options are
 * parsed when a health-checks file is given (`adapters/startup.ts`).
 */
export type Yaml = typeof import('yaml');

let loaded: Yaml | undefined;

export async function loadYaml(): Promise<Yaml> {
  return (loaded ??= await import('yaml'));
}

/** The package `loadYaml` loaded; throws (a bug, not a user error) when it was not. */
export function loadedYaml(): Yaml {
  if (!loaded)
    throw new Error('internal: YAML needed before loadYaml() (withSession loads it for health-checks)');
  return loaded;
}
