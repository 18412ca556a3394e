/**
 * MongoDB as an `Engine`: mongodump for backup, its archives for verify (bare, or as bundle
 * members), and its half of the drill. The work lives in the files beside this one; this file
 * says which of them each use case reaches.
 */
import type { Writable } from 'node:stream';

import type { Component, Manifest, MongoComponent } from '../../bundle/manifest.js';
import { toReadable } from '../../bundle/stream-utils.js';
import type { TarEntry } from '../../bundle/tar.js';
import type { BundleMemberReader, Engine, EngineInspectContext } from '../engine.js';
import { manifestNotApplicable } from '../../verify-layer.js';
import { isMongoArchive } from './archive-reader.js';
import { planMongoDrill, type MongoDrillOptions } from './drill.js';
import { dumpMongo } from './dump.js';
import { collectionsLayer, inspectMongoStream } from './inspect.js';

export const mongodbEngine: Engine<MongoDrillOptions> = {
  name: 'mongodb',

  dump: (deps, { databaseUrl, id, workDir, options, label }) =>
    dumpMongo(deps, {
      databaseUrl,
      urlInput: label('database-url'),
      workDir,
      mongoBinDir: options.mongoBinDir,
      // With several databases docker-container names the MongoDB container, so it is always ours.
      dockerContainer: options.dockerContainer,
      label,
      signal: deps.signal,
      id,
    }),

  summarize(c) {
    const mongo = own(c);
    return {
      id: mongo.id,
      engine: mongo.engine,
      database: mongo.database ?? '(all)',
      serverVersion: mongo.serverVersion ?? 'unknown',
      tool: `mongodump ${mongo.tool.version}`,
    };
  },

  totals(c) {
    const collections = own(c).collections;
    return { collections: collections.length, documents: collections.reduce((n, x) => n + x.documents, 0) };
  },

  describeSource(c) {
    const mongo = own(c);
    return { engine: 'mongodb', database: mongo.database ?? '(all)', serverVersion: mongo.serverVersion };
  },

  recognizesBareDump: (head) => isMongoArchive(head),

  async inspectBareDump(head, input, { deps, findings, extract }) {
    findings.kind = 'bare-mongo-archive';
    findings.layers.push({
      name: 'bundle readable',
      ok: true,
      detail: 'a bare mongodump archive (no dbdrill manifest)',
    });
    const member = head[0] === 0x1f ? 'mongodb.archive.gz' : 'mongodb.archive';
    const sink = await extract(member);
    // the archive reader keeps slices of what it reads: a stream of chunks it may keep
    const inspected = await inspectMongoStream(toReadable(input), 'mongodump archive', sink, deps.signal);
    if (inspected.summary) findings.mongo = [{ ...inspected.summary, member }];
    findings.layers.push(
      ...inspected.layers,
      manifestNotApplicable('a bare mongodump archive', 'recorded counts'),
    );
  },

  readMembers: (context) => new MongoMemberReader(context),

  planDrill: planMongoDrill,
};

function own(c: Component): MongoComponent {
  if (c.engine !== 'mongodb')
    throw new Error(`internal: a ${c.engine} component given to the MongoDB engine`);
  return c;
}

/** A bundle's archives: each read natively as it streams, its counts held against the manifest's. */
class MongoMemberReader implements BundleMemberReader {
  constructor(private readonly context: EngineInspectContext) {}

  claims(path: string, manifest: Manifest | undefined): boolean {
    if (!manifest) return /\.archive(\.gz)?$/.test(path);
    return manifest.components.some((c) => c.engine === 'mongodb' && c.member === path);
  }

  async read(
    member: TarEntry,
    sink: Writable | undefined,
    manifest: Manifest | undefined,
  ): Promise<{ size: number; sha256: string }> {
    const { deps, findings } = this.context;
    const { path, stream } = member;
    const component = manifest?.components.find(
      (c): c is MongoComponent => c.engine === 'mongodb' && c.member === path,
    );
    const inspected = await inspectMongoStream(stream, path, sink, deps.signal);
    if (inspected.summary) (findings.mongo ??= []).push(inspected.summary);
    findings.layers.push(...inspected.layers);
    if (inspected.report && component) findings.layers.push(collectionsLayer(component, inspected.report));
    return { size: inspected.bytes, sha256: inspected.sha256 };
  }

  async finish(): Promise<void> {
    // Each archive is judged as it streams: nothing waits for the end of the walk.
  }
}
