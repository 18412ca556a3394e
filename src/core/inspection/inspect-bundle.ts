/**
 * The layer walk over one stored object, outside in: the stored bytes (against their `.sha256`),
 * decryption, the contents (a bundle's members, or a bare pg_dump / mongodump file), then the
 * backup's age. One pass over the object; "could not verify" is never a pass: a layer that cannot
 * run fails with its reason, except the optional pg_restore --list cross-check, which is skipped
 * (and says so) when no installed pg_restore can read the archive's version.
 */
import { OffThreadHashingStream, OffThreadSha256 } from '../bundle/sha256-worker.js';
import { hashEach, peek, peekTransient, TransientChunks, type ByteInput } from '../bundle/stream-utils.js';
import { openContents } from '../crypto/decrypt-layer.js';
import { messageOf } from '../errors.js';
import { readSha256Sidecar } from '../stores/sha256-sidecar.js';
import { ObjectNotFoundError } from '../stores/store-errors.js';
import { backupAgeLayer } from './backup-age.js';
import { inspectContents } from './contents.js';
import { storedObjectLayer } from './stored-object.js';
import type { BundleLocation, InspectDeps, InspectOptions, VerifyResult } from './types.js';

/** Runs every layer over one pass of the stored object. Never throws for a bad bundle: it reports. */
export async function inspectBundle(
  deps: InspectDeps,
  location: BundleLocation,
  options: InspectOptions,
): Promise<VerifyResult> {
  const result: VerifyResult = {
    ok: false,
    bundle: location.display,
    key: location.key,
    kind: 'unknown',
    ageSeconds: null,
    problems: [],
    layers: [],
    encrypted: false,
  };
  // Before the object is opened: a body stream left waiting on another request could fail
  // unheard (a cut connection), and nothing would ever flow from it.
  const recorded = await readSha256Sidecar(location.store, location.key);
  let raw: ByteInput;
  try {
    // a local file is read through one reused buffer (the walk copies only what it keeps)
    raw = location.store.getChunks
      ? await location.store.getChunks(location.key)
      : await location.store.get(location.key);
  } catch (err) {
    const detail = `cannot read ${location.display}: ${messageOf(err)}`;
    result.layers.push({ name: 'stored object', ok: false, detail });
    // a store that cannot be reached says nothing about the bundle; one that lacks it does
    if (err instanceof ObjectNotFoundError) result.objectMissing = true;
    else result.inconclusive = detail;
    return finish(result);
  }
  // on the shared sha256 worker or in place (sha256-worker.ts), as the walk reads each chunk
  let whole: { readonly bytes: number; digest(): Promise<string> };
  let head: Buffer;
  let stream: ByteInput;
  // the first error reading the object itself (a cut connection, an I/O error), whoever meets it
  const readFault: { error?: unknown } = {};
  try {
    if (raw instanceof TransientChunks) {
      const hash = new OffThreadSha256();
      whole = hash;
      ({ head, rest: stream } = await peekTransient(hashEach(noteReadFault(raw, readFault), hash), 512));
    } else {
      const hashing = new OffThreadHashingStream();
      raw.on('error', (err) => {
        readFault.error ??= err;
        hashing.destroy(err);
      });
      // an error before the listener was attached (a store that hands over a failed stream)
      if (raw.errored) readFault.error ??= raw.errored;
      if (raw.destroyed) hashing.destroy(raw.errored ?? new Error('the stored object stream closed early'));
      whole = hashing;
      ({ head, stream } = await peek(raw.pipe(hashing), 512));
    }
  } catch (err) {
    return unreadToItsEnd(result, location, 0, readFault.error ?? err);
  }

  const contents = await openContents(head, stream, deps.decrypt);
  result.encrypted = contents.encrypted;
  if ('failed' in contents) {
    // Nothing past a failed decryption can be checked, and its age would say nothing.
    result.layers.push(contents.failed);
    await drainQuietly(stream);
    if (readFault.error) return unreadToItsEnd(result, location, whole.bytes, readFault.error);
    result.layers.push(storedObjectLayer({ bytes: whole.bytes, sha256: await whole.digest() }, recorded));
    return finish(result);
  }
  const localFile = contents.encrypted ? undefined : location.store.localPath?.(location.key);
  await inspectContents(deps, { ...options, localFile }, result, contents.head, contents.stream);
  if (result.inconclusive) {
    // What was read before the fault judges nothing (members after it were never read): one layer
    // says why the contents went unchecked; the stored object's hash below still speaks for the bytes.
    result.layers = [
      {
        name: 'bundle readable',
        ok: false,
        detail: `not checked to its end: ${result.inconclusive}`,
      },
    ];
  }
  const decrypts = contents.decryptsLayer();
  if (decrypts) result.layers.push(decrypts);
  await drainQuietly(stream);
  if (readFault.error) return unreadToItsEnd(result, location, whole.bytes, readFault.error);
  result.sha256 = await whole.digest();
  result.layers.push(storedObjectLayer({ bytes: whole.bytes, sha256: result.sha256 }, recorded));

  if (!result.manifest && !location.object) {
    // A bare dump has no manifest: its file's (or object's) modification time is the best end time.
    location.object = (await location.store.list(location.key).catch(() => [])).find(
      (o) => o.key === location.key,
    );
  }
  backupAgeLayer(deps.clock.now(), location, options.maxAgeSeconds, result);
  return finish(result);
}

/** The chunks, with the first error reading them noted in `fault` before it goes on. */
function noteReadFault(input: TransientChunks, fault: { error?: unknown }): TransientChunks {
  return new TransientChunks(
    (async function* () {
      try {
        yield* input;
      } catch (err) {
        fault.error ??= err;
        throw err;
      }
    })(),
  );
}

/**
 * The object could not be read to its end: a fault of the store or of the way to it. A partial
 * hash and a walk cut short would both look like a damaged bundle, so none of it is judged: one
 * layer says what happened, and `inconclusive` keeps it from being recorded as the bundle's verdict.
 */
function unreadToItsEnd(
  result: VerifyResult,
  location: BundleLocation,
  bytes: number,
  error: unknown,
): VerifyResult {
  result.inconclusive =
    `could not read ${location.display} to its end (${messageOf(error)}, after ${bytes} bytes). ` +
    'This is a fault reading the store, not in the bundle: run again, and check the store and the network if it repeats';
  result.layers = [{ name: 'stored object', ok: false, detail: result.inconclusive }];
  return finish(result);
}

async function drainQuietly(stream: ByteInput): Promise<void> {
  try {
    for await (const _ of stream) void _;
  } catch {
    /* a read error was already reported by the layer that hit it */
  }
}

/** The order an operator reads them in: outside in, then the dump, then the policy checks. */
const LAYER_ORDER = [
  'stored object',
  'decrypts',
  'bundle readable',
  'manifest valid',
  'manifest',
  'member checksums',
  'secret files',
  'dump header and TOC',
  'data blocks',
  'pg_restore --list',
  'tables match manifest',
  'backup age',
];

/** Orders the layers (engine layers not named above go just before the age) and decides the verdict. */
function finish(result: VerifyResult): VerifyResult {
  const rank = (name: string) => {
    const i = LAYER_ORDER.indexOf(name);
    return i < 0 ? LAYER_ORDER.indexOf('backup age') - 0.5 : i;
  };
  result.layers.sort((a, b) => rank(a.name) - rank(b.name));
  result.problems = result.layers.filter((l) => !l.ok && !l.skipped).map((l) => `${l.name}: ${l.detail}`);
  result.ok = result.problems.length === 0 && result.layers.length > 0;
  return result;
}
