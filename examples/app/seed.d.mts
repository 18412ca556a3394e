/** Types for seed.mjs. */
import type { Client, Pool } from 'pg';

export { generateKek, kekFingerprint, parseKek } from './kek.mjs';
export declare const SEED_COUNTS: Readonly<Record<string, number>>;
export declare const VAULT_VALUES: ReadonlyArray<{ name: string; plaintext: string }>;
export declare function seed(
  client: Client | Pool,
  key: string | Buffer,
): Promise<{ counts: Record<string, number>; fingerprint: string }>;
