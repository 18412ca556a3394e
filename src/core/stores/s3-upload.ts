import { createHash } from 'node:crypto';
import type {
  CompletedPart,
  CreateMultipartUploadCommandInput,
  PutObjectCommandInput,
  S3Client,
} from '@aws-sdk/client-s3';

import { formatBytes } from '../duration.js';

type S3Sdk = typeof import('@aws-sdk/client-s3');

/** What every object of the upload is written with: the key and the headers of its creation. */
export type UploadParams = Pick<
  PutObjectCommandInput,
  'Bucket' | 'Key' | 'ContentType' | 'Metadata' | 'ServerSideEncryption' | 'SSEKMSKeyId' | 'IfNoneMatch'
>;

export interface UploadOptions {
  /** The size of the first parts; see `partSizeOf`. */
  partSize: number;
  /** Parts between two growths of the part size; 1,000 unless a test asks for fewer. */
  partsPerStep?: number;
  /** Parts sent at once; one more buffer is filled meanwhile. */
  queueSize: number;
  /** Send each part's SHA-256 (ours), which the server checks against the bytes it received. */
  sha256: boolean;
  /** Called with the upload id once the multipart upload exists (so a failure can abort it). */
  onUploadId?: (uploadId: string) => void;
}

export interface UploadOutcome {
  bytes: number;
  /** sha256 of the whole object. */
  sha256: Buffer;
  /** sha256 of each part, in order (one, for a single PutObject). */
  partDigests: Buffer[];
  /** Undefined for an object small enough for one PutObject. */
  uploadId?: string;
}

/** S3 takes at most this many parts in one multipart upload. */
export const MAX_PARTS = 10_000;

/**
 * The size of part `n` (from 1): the first size for the first `perStep` parts, then one more of it
 * for each further `perStep` (8, 16, 24 … 80 MiB with the defaults). S3 allows at most 10,000
 * parts, so fixed 8 MiB parts would end a bundle at 78 GiB, after uploading all of it; these reach
 * 429 GiB, while a bundle under 7.8 GiB keeps its 8 MiB parts and memory (about five parts) grows
 * only with the bundle.
 */
export function partSizeOf(n: number, first: number, perStep = 1000): number {
  return first * (Math.floor((n - 1) / perStep) + 1);
}

/** The largest object the part sizes reach in `MAX_PARTS` parts. */
export function maxUploadBytes(first: number, perStep = 1000): number {
  let total = 0;
  for (let n = 1; n <= MAX_PARTS; n += perStep)
    total += partSizeOf(n, first, perStep) * Math.min(perStep, MAX_PARTS - n + 1);
  return total;
}

/**
 * Uploads chunks as one object: a single PutObject when they fit in one part, else a multipart
 * upload with `queueSize` parts in flight. Chunks may be reused by their producer as soon as the
 * next is asked for: each is copied at once into one of `queueSize + 1` part buffers, which are
 * reused once their part is stored.
 *
 * Why not `@aws-sdk/lib-storage`'s `Upload`: it joins the chunks of every part with
 * `Buffer.concat` into fresh memory (and a stream's chunks are fresh copies before that), and on
 * this project's bench machine fresh memory costs more than the copy (a page fault per 4 KiB).
 * It also has the SDK hash every part again for its checksum, although the bundle's own part
 * hashes are computed anyway: here they are sent as the parts' `ChecksumSHA256`, and the server
 * checks each part against them.
 */
export async function uploadChunks(
  client: S3Client,
  sdk: S3Sdk,
  params: UploadParams,
  chunks: AsyncIterable<Buffer>,
  options: UploadOptions,
): Promise<UploadOutcome> {
  const perStep = options.partsPerStep ?? 1000;
  const sizeOf = (n: number): number => partSizeOf(n, options.partSize, perStep);
  const whole = createHash('sha256');
  const partDigests: Buffer[] = [];
  const free: Buffer[] = [];
  let allocated = 0;
  const waiting: Array<() => void> = [];
  const inFlight = new Set<Promise<void>>();
  const completed: CompletedPart[] = [];
  /** The first failure, of a part or of the input; read by the loops that must stop on it. */
  const state: { failure?: { error: unknown } } = {};
  const stopIfFailed = (): void => {
    if (state.failure) throw state.failure.error;
  };
  let creating: Promise<string> | undefined;
  let uploadId: string | undefined;
  let bytes = 0;

  const release = (buffer: Buffer): void => {
    free.push(buffer);
    waiting.shift()?.();
  };
  /** A buffer for part `n`: a free one of its size, else a new one while fewer than queueSize + 1 exist. */
  const take = async (n: number): Promise<Buffer> => {
    const size = sizeOf(n);
    for (;;) {
      stopIfFailed();
      const buffer = free.pop();
      if (buffer && buffer.length === size) return buffer;
      // smaller, from before the part size grew: let it go
      if (buffer) allocated--;
      if (allocated < options.queueSize + 1) {
        allocated++;
        return Buffer.allocUnsafeSlow(size);
      }
      await new Promise<void>((resolve) => waiting.push(resolve));
    }
  };
  const create = (): Promise<string> => {
    creating ??= client
      .send(
        new sdk.CreateMultipartUploadCommand({
          ...params,
          ...(options.sha256 ? { ChecksumAlgorithm: 'SHA256' } : {}),
        } satisfies CreateMultipartUploadCommandInput),
      )
      .then((out) => {
        if (!out.UploadId) throw new Error('CreateMultipartUpload returned no UploadId');
        uploadId = out.UploadId;
        options.onUploadId?.(uploadId);
        return uploadId;
      });
    return creating;
  };
  const send = (buffer: Buffer, length: number, partNumber: number): void => {
    const body = buffer.subarray(0, length);
    const digest = createHash('sha256').update(body).digest();
    partDigests[partNumber - 1] = digest;
    const sending = (async () => {
      try {
        const id = await create();
        const out = await client.send(
          new sdk.UploadPartCommand({
            Bucket: params.Bucket,
            Key: params.Key,
            UploadId: id,
            PartNumber: partNumber,
            Body: body,
            ContentLength: length,
            ...(options.sha256 ? { ChecksumSHA256: digest.toString('base64') } : {}),
          }),
        );
        if (!out.ETag) throw new Error(`UploadPart ${partNumber} returned no ETag`);
        completed.push({
          PartNumber: partNumber,
          ETag: out.ETag,
          ...(options.sha256 ? { ChecksumSHA256: out.ChecksumSHA256 ?? digest.toString('base64') } : {}),
        });
        release(buffer);
      } catch (error) {
        state.failure ??= { error };
        // wake the reader so it stops at once
        for (const w of waiting.splice(0)) w();
      }
    })();
    inFlight.add(sending);
    void sending.finally(() => inFlight.delete(sending));
  };

  let buffer = await take(1);
  let filled = 0;
  let partNumber = 0;
  try {
    for await (const chunk of chunks) {
      stopIfFailed();
      whole.update(chunk);
      bytes += chunk.length;
      for (let at = 0; at < chunk.length;) {
        if (filled === buffer.length) {
          // full, and more bytes follow: it goes now, unless it is the last part S3 takes
          if (partNumber + 1 >= MAX_PARTS) {
            const max = maxUploadBytes(options.partSize, perStep);
            throw new Error(
              `the bundle is larger than one S3 object can be uploaded in (${MAX_PARTS} parts, ${max} bytes = ${formatBytes(max)} at most with these part sizes); nothing was stored: back up fewer databases per bundle (fleet-mode: separate) or to a directory store`,
            );
          }
          send(buffer, filled, ++partNumber);
          buffer = await take(partNumber + 1);
          filled = 0;
        }
        const n = Math.min(buffer.length - filled, chunk.length - at);
        chunk.copy(buffer, filled, at, at + n);
        filled += n;
        at += n;
      }
    }
    stopIfFailed();
    if (partNumber === 0) {
      // it all fits in the first part: one PutObject, no multipart upload
      const body = buffer.subarray(0, filled);
      const digest = createHash('sha256').update(body).digest();
      await client.send(
        new sdk.PutObjectCommand({
          ...params,
          Body: body,
          ContentLength: filled,
          ...(options.sha256
            ? { ChecksumAlgorithm: 'SHA256', ChecksumSHA256: digest.toString('base64') }
            : {}),
        }),
      );
      return { bytes, sha256: whole.digest(), partDigests: [digest] };
    }
    if (filled > 0) send(buffer, filled, ++partNumber);
    while (inFlight.size > 0) await Promise.all([...inFlight]);
    stopIfFailed();
    completed.sort((a, b) => a.PartNumber! - b.PartNumber!);
    await client.send(
      new sdk.CompleteMultipartUploadCommand({
        Bucket: params.Bucket,
        Key: params.Key,
        UploadId: uploadId,
        MultipartUpload: { Parts: completed },
        ...(params.IfNoneMatch ? { IfNoneMatch: params.IfNoneMatch } : {}),
      }),
    );
    return { bytes, sha256: whole.digest(), partDigests, uploadId };
  } catch (error) {
    state.failure ??= { error };
    // let the parts in flight settle before the caller aborts the upload
    await Promise.allSettled([...inFlight]);
    throw state.failure.error;
  }
}
