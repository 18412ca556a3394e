/**
 * Where bundles live and which one a command works on: a store and a name (the newest bundle of
 * that name), or one bundle given directly.
 */
import { validateName } from '../bundle/naming.js';
import { ConfigError } from '../errors.js';
import { COMMANDS, type OptionSource, type OptionSpec } from './spec.js';

export const LOCATION_OPTION_SPECS: OptionSpec[] = [
  {
    name: 'store',
    kind: 'string',
    commands: COMMANDS,
    description:
      'Where bundles live: a directory path, file:///abs/dir, s3://bucket/prefix or artifact://name.',
  },
  {
    name: 'name',
    kind: 'string',
    commands: COMMANDS,
    description:
      'Bundle name prefix (letters, digits, ".", "_", "-"); bundles are <name>-<UTC timestamp>.dbdrill.tar.',
  },
  {
    name: 'bundle',
    kind: 'string',
    commands: ['verify', 'drill'],
    description:
      'One bundle to use instead of the newest of name in store: a path, file:// or s3:// URI. May be a bare pg_dump -Fc file from another tool.',
  },
];

export interface BundleSelection {
  bundle?: string;
  store?: string;
  name?: string;
}

export function parseSelection(o: OptionSource): BundleSelection {
  const bundle = o.string('bundle');
  const store = o.string('store');
  const nameRaw = o.string('name');
  if (bundle) return { bundle };
  if (!store || !nameRaw) {
    throw new ConfigError(
      `which bundle? set ${o.name('bundle')} (a bundle file or URI), or ${o.name('store')} and ${o.name('name')} to use the newest bundle of that name`,
    );
  }
  return { store, name: validateName(nameRaw, o.name('name')) };
}

export interface ListOptions {
  store: string;
  name: string;
}

export function parseListOptions(o: OptionSource): ListOptions {
  return {
    store: o.required('store', 'the store to list: a directory, file:///dir or s3://bucket/prefix'),
    name: validateName(o.required('name', 'the bundle name to list'), o.name('name')),
  };
}
