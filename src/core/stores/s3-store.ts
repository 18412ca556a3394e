import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type {
  ListObjectsV2CommandOutput,
  PutObjectCommandInput,
  S3Client,
  S3ClientConfig,
} from '@aws-sdk/client-s3';
import { ConfigError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { PutOptions, PutResult, Store, StoredObject } from './store.js';
import { ObjectExistsError, ObjectNotFoundError, validateStoreKey } from './store-errors.js';
import { uploadChunks, type UploadOutcome } from './s3-upload.js';

/**
 * The AWS SDK is loaded on first use: it is most of the bundle, and every command that never
 * touches S3 (a local backup, the drill) would otherwise pay its load time at start-up.
 */
type S3Sdk = typeof import('@aws-sdk/client-s3');
let sdkLoading: Promise<{ s3: S3Sdk }> | undefined;
function loadSdk(): Promise<{ s3: S3Sdk }> {
  sdkLoading ??= import('@aws-sdk/client-s3').then((s3) => ({ s3 }));
  return sdkLoading;
}

export type S3Sse = 'AES256' | 'aws:kms';

export interface S3StoreOptions {
  /** Server-side encryption for every object written. */
  sse?: S3Sse;
  /** KMS key id or ARN; only with sse "aws:kms" (without it S3 uses the bucket's default KMS key). */
  kmsKeyId?: string;
  /** Path-style addressing; defaults to true exactly when a custom endpoint is set. */
  s3ForcePathStyle?: boolean;
  /**
   * "sha256": send SHA-256 checksums that the server verifies per part, and compare the
   * server's object checksum with ours where it returns one (servers that ignore checksums,
   * like s3rver, then get the size check only). "off": send no flexible checksums at all, for
   * S3-compatible servers that reject them.
   */
  checksum?: 'sha256' | 'off';
  /** Send If-None-Match: * so the server itself refuses an overwrite; default on for AWS, off for custom endpoints. */
  conditionalWrites?: boolean;
  /**
   * Size of the first multipart parts; memory use is about (queueSize + 1) x the part size. Default
   * 8 MiB, growing by the same every `partsPerStep` parts (see `partSizeOf` in s3-upload.ts).
   */
  partSizeBytes?: number;
  /** Parts between two growths of the part size. Default 1,000 (S3 takes at most 10,000 parts). */
  partsPerStep?: number;
  /** Parts in flight at once. Default 4. */
  queueSize?: number;
}

export interface S3StoreDeps {
  logger: Logger;
  /** Where AWS_* settings come from; process.env when omitted. */
  env?: NodeJS.ProcessEnv;
  /** Builds the SDK client; tests wrap or instrument it. */
  clientFactory?: (config: S3ClientConfig) => S3Client;
  options?: S3StoreOptions;
}

export const METADATA_PREFIX = 'dbdrill-';
const MIB = 1024 * 1024;
const DEFAULT_PART_SIZE = 8 * MIB;
const MIN_PART_SIZE = 5 * MIB;

/** Parses `s3://bucket/prefix`; credentials in the URI are refused so they never reach logs. */
export function parseS3Uri(uri: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([^/]*)(?:\/(.*))?$/.exec(uri);
  if (!m || !m[1]) {
    throw new ConfigError(`store "${uri}" is not an S3 URI: write s3://bucket or s3://bucket/prefix`);
  }
  const bucket = m[1];
  if (bucket.includes('@') || bucket.includes(':')) {
    throw new ConfigError(
      'store URI must not contain credentials or a port: write s3://bucket/prefix and set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY and AWS_ENDPOINT_URL_S3 in the environment',
    );
  }
  if (!/^[a-z0-9][a-z0-9.\-_]{1,254}$/i.test(bucket)) {
    throw new ConfigError(
      `store "${uri}": bucket "${bucket}" is not a valid bucket name: use 3-63 lowercase letters, digits, "." or "-"`,
    );
  }
  const prefix = (m[2] ?? '').replace(/^\/+|\/+$/g, '').replace(/\/{2,}/g, '/');
  return { bucket, prefix };
}

interface S3ErrorShape {
  name?: string;
  code?: string;
  message?: string;
  Code?: string;
  errors?: { code?: string }[];
  $metadata?: { httpStatusCode?: number };
}

const CREDENTIAL_ERRORS = new Set([
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'InvalidToken',
  'ExpiredToken',
  'TokenRefreshRequired',
  'InvalidClientTokenId',
  'InvalidSecurity',
]);
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'TimeoutError',
  'RequestTimeout',
]);

/**
 * Objects under `s3://bucket/prefix/`. Bundles are written with a multipart upload straight to
 * their final key: S3 makes an object visible only when CompleteMultipartUpload succeeds, so a
 * failed or killed upload never lists. We abort the upload on failure (parts cost money) and
 * check size and checksum with HeadObject before the put counts; a mismatch deletes the object.
 */
export class S3Store implements Store {
  readonly displayUri: string;
  readonly bucket: string;
  readonly prefix: string;
  readonly endpointLabel: string;
  private readonly clientConfig: S3ClientConfig;
  private readonly clientFactory?: (config: S3ClientConfig) => S3Client;
  private clientLoading?: Promise<S3Client>;
  private readonly logger: Logger;
  private readonly sse?: S3Sse;
  private readonly kmsKeyId?: string;
  private readonly checksum: 'sha256' | 'off';
  private readonly conditionalWrites: boolean;
  private readonly partSize: number;
  private readonly queueSize: number;
  private readonly partsPerStep?: number;

  constructor(uri: string, deps: S3StoreDeps) {
    const { bucket, prefix } = parseS3Uri(uri);
    const options = deps.options ?? {};
    const env = deps.env ?? process.env;
    this.bucket = bucket;
    this.prefix = prefix;
    this.displayUri = `s3://${bucket}${prefix ? `/${prefix}` : ''}`;
    this.logger = deps.logger;

    if (options.sse !== undefined && options.sse !== 'AES256' && options.sse !== 'aws:kms') {
      throw new ConfigError(`s3-sse "${String(options.sse)}" is not supported: use AES256 or aws:kms`);
    }
    if (options.kmsKeyId && options.sse !== 'aws:kms') {
      throw new ConfigError(
        's3-kms-key-id is set but s3-sse is not "aws:kms": set s3-sse to aws:kms or drop the key id',
      );
    }
    this.sse = options.sse;
    this.kmsKeyId = options.kmsKeyId || undefined;
    this.checksum = options.checksum ?? 'sha256';
    if (this.checksum !== 'sha256' && this.checksum !== 'off') {
      throw new ConfigError(`s3 checksum "${String(options.checksum)}" is not supported: use sha256 or off`);
    }
    this.partSize = options.partSizeBytes ?? DEFAULT_PART_SIZE;
    if (!Number.isInteger(this.partSize) || this.partSize < MIN_PART_SIZE) {
      throw new ConfigError(`S3 part size ${this.partSize} is below the S3 minimum of 5 MiB`);
    }
    this.queueSize = options.queueSize ?? 4;
    this.partsPerStep = options.partsPerStep;

    const endpoint = (env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || '').trim() || undefined;
    if (endpoint && !/^https?:\/\/[^/\s]+/.test(endpoint)) {
      throw new ConfigError(
        `AWS_ENDPOINT_URL_S3 "${endpoint}" is not a URL: write it like https://minio.example.com:9000 or http://127.0.0.1:9000`,
      );
    }
    const region = env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1';
    this.endpointLabel = endpoint ?? `AWS S3 (${region})`;
    this.conditionalWrites = options.conditionalWrites ?? !endpoint;

    const accessKeyId = env.AWS_ACCESS_KEY_ID;
    const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
    const sessionToken = env.AWS_SESSION_TOKEN || undefined;
    if (secretAccessKey) deps.logger.addSecret(secretAccessKey);
    if (sessionToken) deps.logger.addSecret(sessionToken);
    const config: S3ClientConfig = {
      region,
      endpoint,
      forcePathStyle: options.s3ForcePathStyle ?? !!endpoint,
      followRegionRedirects: true,
      // Static keys when the environment has them; otherwise the SDK's chain (profiles, web identity/OIDC, IMDS).
      credentials:
        accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey, sessionToken } : undefined,
      requestChecksumCalculation: this.checksum === 'off' ? 'WHEN_REQUIRED' : 'WHEN_SUPPORTED',
      responseChecksumValidation: this.checksum === 'off' ? 'WHEN_REQUIRED' : 'WHEN_SUPPORTED',
      requestHandler: { connectionTimeout: 15_000 },
    };
    this.clientConfig = config;
    this.clientFactory = deps.clientFactory;
  }

  /** Set by client(): every S3 call awaits the client first, so the SDK is loaded when it is read. */
  private sdk!: { s3: S3Sdk };

  private client(): Promise<S3Client> {
    this.clientLoading ??= loadSdk().then((sdk) => {
      this.sdk = sdk;
      return this.clientFactory
        ? this.clientFactory(this.clientConfig)
        : new sdk.s3.S3Client(this.clientConfig);
    });
    return this.clientLoading;
  }

  private objectKey(key: string): string {
    validateStoreKey(key);
    return this.prefix ? `${this.prefix}/${key}` : key;
  }

  private location(objectKey: string): string {
    return `s3://${this.bucket}/${objectKey}`;
  }

  private encryption(): Pick<PutObjectCommandInput, 'ServerSideEncryption' | 'SSEKMSKeyId'> {
    return {
      ...(this.sse ? { ServerSideEncryption: this.sse } : {}),
      ...(this.kmsKeyId ? { SSEKMSKeyId: this.kmsKeyId } : {}),
    };
  }

  async put(key: string, body: Readable, options: PutOptions = {}): Promise<PutResult> {
    try {
      return await this.putChunks(key, body, options);
    } finally {
      body.destroy();
    }
  }

  /**
   * Each chunk is copied into a part buffer before the next is asked for, so a producer may refill
   * one buffer for every chunk (`bundleChunks` with `reuseBuffers`); see `uploadChunks`.
   */
  async putChunks(key: string, chunks: AsyncIterable<Buffer>, options: PutOptions = {}): Promise<PutResult> {
    const objectKey = this.objectKey(key);
    const metadata = checkMetadata(options.metadata ?? {});
    const noOverwrite = options.noOverwrite ?? true;
    if (noOverwrite && (await this.exists(objectKey))) throw new ObjectExistsError(key, this.displayUri);

    const client = await this.client();
    let uploadId: string | undefined;
    let outcome: UploadOutcome;
    try {
      outcome = await uploadChunks(
        client,
        this.sdk.s3,
        {
          Bucket: this.bucket,
          Key: objectKey,
          ContentType: 'application/octet-stream',
          Metadata: metadata,
          ...this.encryption(),
          ...(noOverwrite && this.conditionalWrites ? { IfNoneMatch: '*' } : {}),
        },
        chunks,
        {
          partSize: this.partSize,
          queueSize: this.queueSize,
          partsPerStep: this.partsPerStep,
          sha256: this.checksum === 'sha256',
          onUploadId: (id) => (uploadId = id),
        },
      );
    } catch (error) {
      await this.abortUpload(objectKey, uploadId);
      if (noOverwrite && isPreconditionFailed(error)) throw new ObjectExistsError(key, this.displayUri);
      throw this.mapError(error, 'upload', objectKey);
    }

    const multipart = outcome.uploadId !== undefined;
    const { sha256, partDigests } = outcome;
    const expectedChecksum = multipart
      ? `${createHash('sha256').update(Buffer.concat(partDigests)).digest('base64')}-${partDigests.length}`
      : sha256.toString('base64');
    const head = await this.headOrThrow(objectKey, 'verify upload');
    const problems: string[] = [];
    if (head.ContentLength !== outcome.bytes) {
      problems.push(`server reports ${head.ContentLength} bytes, we sent ${outcome.bytes}`);
    }
    if (head.ChecksumSHA256) {
      const [got, parts] = head.ChecksumSHA256.split('-');
      const [want, wantParts] = expectedChecksum.split('-');
      if (got !== want || (parts !== undefined && wantParts !== undefined && parts !== wantParts)) {
        problems.push(`server SHA-256 checksum ${head.ChecksumSHA256} differs from ours ${expectedChecksum}`);
      }
    } else if (this.checksum === 'sha256') {
      this.logger.debug(
        `${this.endpointLabel} returned no SHA-256 checksum for ${objectKey}; checked the size only`,
      );
    }
    if (problems.length > 0) {
      await this.delete(key).catch(() => undefined);
      throw new Error(
        `upload of ${this.location(objectKey)} did not verify (${problems.join('; ')}); the object was deleted, run the backup again`,
      );
    }
    const hex = sha256.toString('hex');
    this.logger.debug(
      `stored ${this.location(objectKey)} (${outcome.bytes} bytes, sha256 ${hex}, ${multipart ? `${partDigests.length} parts` : 'single put'})`,
    );
    return { key, sizeBytes: outcome.bytes, sha256: hex, location: this.location(objectKey) };
  }

  /** Aborting frees the stored parts; a server that cannot abort (s3rver) leaves parts that never list as objects. */
  private async abortUpload(objectKey: string, uploadId: string | undefined): Promise<void> {
    if (!uploadId) return;
    try {
      await (
        await this.client()
      ).send(
        new this.sdk.s3.AbortMultipartUploadCommand({
          Bucket: this.bucket,
          Key: objectKey,
          UploadId: uploadId,
        }),
      );
      this.logger.debug(`aborted multipart upload ${uploadId} of ${this.location(objectKey)}`);
    } catch (error) {
      const e = error as S3ErrorShape;
      if (e.name === 'NoSuchUpload') return;
      this.logger.warning(
        `could not abort the failed multipart upload ${uploadId} of ${this.location(objectKey)} (${e.name ?? e.code ?? 'error'}): ` +
          'its parts are not a bundle and never list, but they use space until a bucket lifecycle rule (AbortIncompleteMultipartUpload) removes them',
      );
    }
  }

  /**
   * Existence via ListObjectsV2 rather than HeadObject: a HEAD error has no body, so a rejected
   * key and a missing permission would both be a bare 403; a list error names the cause.
   */
  private async exists(objectKey: string): Promise<boolean> {
    try {
      const page = await (
        await this.client()
      ).send(new this.sdk.s3.ListObjectsV2Command({ Bucket: this.bucket, Prefix: objectKey, MaxKeys: 1 }));
      return page.Contents?.[0]?.Key === objectKey;
    } catch (error) {
      throw this.mapError(error, 'put', objectKey);
    }
  }

  private async head(objectKey: string, op: string) {
    try {
      return await (
        await this.client()
      ).send(
        new this.sdk.s3.HeadObjectCommand({
          Bucket: this.bucket,
          Key: objectKey,
          ...(this.checksum === 'sha256' ? { ChecksumMode: 'ENABLED' as const } : {}),
        }),
      );
    } catch (error) {
      const e = error as S3ErrorShape;
      if (e.name === 'NotFound' || e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404)
        return undefined;
      throw this.mapError(error, op, objectKey);
    }
  }

  private async headOrThrow(objectKey: string, op: string) {
    const head = await this.head(objectKey, op);
    if (!head)
      throw new Error(
        `${this.location(objectKey)} is missing right after its upload completed (${this.endpointLabel})`,
      );
    return head;
  }

  async get(key: string): Promise<Readable> {
    const objectKey = this.objectKey(key);
    try {
      const out = await (
        await this.client()
      ).send(new this.sdk.s3.GetObjectCommand({ Bucket: this.bucket, Key: objectKey }));
      const bodyStream = out.Body;
      if (bodyStream instanceof Readable) return bodyStream;
      if (
        bodyStream &&
        typeof (bodyStream as { transformToWebStream?: unknown }).transformToWebStream === 'function'
      ) {
        return Readable.fromWeb(
          (
            bodyStream as unknown as { transformToWebStream(): ReadableStream }
          ).transformToWebStream() as never,
        );
      }
      throw new Error(`GetObject of ${this.location(objectKey)} returned no body stream`);
    } catch (error) {
      if ((error as S3ErrorShape).name === 'NoSuchKey') throw new ObjectNotFoundError(key, this.displayUri);
      throw this.mapError(error, 'download', objectKey);
    }
  }

  async list(prefix: string): Promise<StoredObject[]> {
    const base = this.prefix ? `${this.prefix}/` : '';
    const out: StoredObject[] = [];
    let token: string | undefined;
    do {
      let page: ListObjectsV2CommandOutput;
      try {
        page = await (
          await this.client()
        ).send(
          new this.sdk.s3.ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: base + prefix,
            // No Delimiter: s3rver fails paging with one; nested "folders" are filtered out below instead.
            ContinuationToken: token,
          }),
        );
      } catch (error) {
        throw this.mapError(error, 'list', base + prefix);
      }
      for (const item of page.Contents ?? []) {
        if (!item.Key || !item.Key.startsWith(base)) continue;
        const key = item.Key.slice(base.length);
        // Only direct children, like a directory: nested "folders" are other stores.
        if (!key || key.includes('/') || key.startsWith('.')) continue;
        out.push({ key, sizeBytes: item.Size ?? 0, modifiedAt: item.LastModified });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  async delete(key: string): Promise<void> {
    const objectKey = this.objectKey(key);
    try {
      await (
        await this.client()
      ).send(new this.sdk.s3.DeleteObjectCommand({ Bucket: this.bucket, Key: objectKey }));
    } catch (error) {
      const e = error as S3ErrorShape;
      if (e.name === 'NoSuchKey' || e.name === 'NotFound') return;
      throw this.mapError(error, 'delete', objectKey);
    }
  }

  async readText(key: string): Promise<string | undefined> {
    const objectKey = this.objectKey(key);
    try {
      const out = await (
        await this.client()
      ).send(new this.sdk.s3.GetObjectCommand({ Bucket: this.bucket, Key: objectKey }));
      return (await out.Body?.transformToString('utf-8')) ?? '';
    } catch (error) {
      const e = error as S3ErrorShape;
      if (e.name === 'NoSuchKey' || e.name === 'NotFound') return undefined;
      throw this.mapError(error, 'read', objectKey);
    }
  }

  /** A single PutObject: S3 replaces objects atomically, so readers see the old or the new text. */
  async writeText(key: string, text: string): Promise<void> {
    const objectKey = this.objectKey(key);
    try {
      await (
        await this.client()
      ).send(
        new this.sdk.s3.PutObjectCommand({
          Bucket: this.bucket,
          Key: objectKey,
          Body: Buffer.from(text, 'utf8'),
          ContentType: 'text/plain; charset=utf-8',
          ...this.encryption(),
        }),
      );
    } catch (error) {
      throw this.mapError(error, 'write', objectKey);
    }
  }

  /** Turns SDK errors into messages that name the bucket, endpoint and fix; never includes secrets. */
  mapError(error: unknown, op: string, objectKey: string): Error {
    if (error instanceof ConfigError) return error;
    const e = (error ?? {}) as S3ErrorShape;
    const name = e.name ?? e.Code ?? '';
    const status = e.$metadata?.httpStatusCode;
    const code =
      e.code ??
      e.errors?.find((x) => x.code)?.code ??
      /\b(E[A-Z_]{4,}|TimeoutError)\b/.exec(e.message ?? '')?.[1] ??
      '';
    const where = this.location(objectKey);
    if (name === 'NoSuchBucket') {
      return new ConfigError(
        `bucket "${this.bucket}" does not exist (endpoint ${this.endpointLabel}): create it, or fix the bucket in the store URI ${this.displayUri}`,
      );
    }
    if (CREDENTIAL_ERRORS.has(name)) {
      return new ConfigError(
        `credentials rejected by ${this.endpointLabel} (${name}) during ${op} of ${where}: check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN or the role the job assumes`,
      );
    }
    if (name === 'CredentialsProviderError') {
      return new ConfigError(
        `no AWS credentials found for ${this.displayUri}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or assume a role (on GitHub: aws-actions/configure-aws-credentials with OIDC)`,
      );
    }
    if (name === 'AccessDenied' || name === 'Forbidden' || status === 403) {
      return new ConfigError(
        `access denied by ${this.endpointLabel} during ${op} of ${where} (${name || status}): the credentials work but lack permission; allow s3:PutObject, s3:GetObject, s3:ListBucket, s3:DeleteObject and s3:AbortMultipartUpload on the bucket and prefix`,
      );
    }
    if (
      name === 'PermanentRedirect' ||
      name === 'AuthorizationHeaderMalformed' ||
      name === 'IllegalLocationConstraintException'
    ) {
      return new ConfigError(
        `bucket "${this.bucket}" is in another region than ${this.endpointLabel} (${name}): set AWS_REGION to the bucket's region`,
      );
    }
    if (NETWORK_CODES.has(code) || NETWORK_CODES.has(name)) {
      return Object.assign(
        new Error(
          `S3 endpoint ${this.endpointLabel} unreachable or dropping connections during ${op} of ${where} (${code || name}, after the SDK's retries): check AWS_ENDPOINT_URL_S3, the network, and that the service is up`,
        ),
        { cause: error },
      );
    }
    // a plain Error's name says nothing the message does not
    const shownName = name === 'Error' && e.message ? '' : name;
    const detail = [
      shownName,
      status ? `HTTP ${status}` : '',
      e.message && e.message !== name ? e.message : '',
    ]
      .filter(Boolean)
      .join(', ');
    return Object.assign(
      new Error(`S3 ${op} of ${where} failed (${detail || String(error)}) at ${this.endpointLabel}`),
      {
        cause: error,
      },
    );
  }
}

function isPreconditionFailed(error: unknown): boolean {
  const e = error as S3ErrorShape;
  return e.name === 'PreconditionFailed' || e.$metadata?.httpStatusCode === 412;
}

/** S3 user metadata is ASCII headers of 2 KB in total; failing here beats a 400 from the server after the upload. */
function checkMetadata(metadata: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  let total = 0;
  for (const [rawKey, value] of Object.entries(metadata)) {
    const key = rawKey.toLowerCase();
    if (!/^[a-z0-9][a-z0-9-]*$/.test(key))
      throw new Error(`S3 metadata key "${rawKey}" must be letters, digits and "-"`);
    const clean = String(value).replace(/[^\x20-\x7e]/g, '?');
    total += key.length + clean.length;
    out[key] = clean;
  }
  if (total > 2048)
    throw new Error(`S3 metadata is ${total} bytes; S3 allows 2 KB: shorten the manifest summary`);
  return out;
}
