// The artifact store a SWAVLAB_ARTIFACTS value names: `s3://bucket/prefix` for S3-compatible object storage,
// anything else a filesystem path. The S3 client takes the AWS SDK's usual variables, plus an endpoint for
// servers other than AWS.
import { S3Client } from '@aws-sdk/client-s3';
import { FileArtifactStore } from './file-store.js';
import { S3ArtifactStore } from './s3-store.js';
import type { ArtifactStore } from './store.js';

/** The variables the S3 backend reads (see README.md). */
export interface S3Environment {
  /** Endpoint of a non-AWS server (MinIO, Ceph, …): SWAVLAB_S3_ENDPOINT, else AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL. */
  SWAVLAB_S3_ENDPOINT?: string;
  AWS_ENDPOINT_URL_S3?: string;
  AWS_ENDPOINT_URL?: string;
  /** AWS_REGION, else AWS_DEFAULT_REGION, else us-east-1. */
  AWS_REGION?: string;
  AWS_DEFAULT_REGION?: string;
  /** `true` / `false`: path-style URLs (bucket in the path). Default: true with a custom endpoint. */
  SWAVLAB_S3_FORCE_PATH_STYLE?: string;
  /** Static credentials; without them the SDK's default chain applies (profiles, instance and pod roles). */
  AWS_ACCESS_KEY_ID?: string;
  AWS_SECRET_ACCESS_KEY?: string;
  AWS_SESSION_TOKEN?: string;
}

function staticCredentials(env: S3Environment) {
  const accessKeyId = nonEmpty(env.AWS_ACCESS_KEY_ID);
  const secretAccessKey = nonEmpty(env.AWS_SECRET_ACCESS_KEY);
  if (accessKeyId === undefined && secretAccessKey === undefined) return {};
  if (accessKeyId === undefined || secretAccessKey === undefined) {
    throw new RangeError('AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY: set both or neither');
  }
  const sessionToken = nonEmpty(env.AWS_SESSION_TOKEN);
  return {
    credentials: { accessKeyId, secretAccessKey, ...(sessionToken === undefined ? {} : { sessionToken }) },
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function parseS3Url(location: string): { bucket: string; prefix: string } {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(location);
  const bucket = match?.[1] ?? '';
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new RangeError(
      `SWAVLAB_ARTIFACTS: expected s3://<bucket>[/<prefix>] with a valid bucket name (3-63 lowercase letters, ` +
        `digits, '.' or '-'), got ${JSON.stringify(location)}`,
    );
  }
  const prefix = (match?.[2] ?? '').replace(/\/+$/, '');
  if (prefix !== '' && !/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(prefix)) {
    throw new RangeError(
      `SWAVLAB_ARTIFACTS: the prefix ${JSON.stringify(prefix)} must be '/'-separated letters, digits, '.', '_', '-'`,
    );
  }
  return { bucket, prefix };
}

function forcePathStyle(env: S3Environment, endpoint: string | undefined): boolean {
  const text = nonEmpty(env.SWAVLAB_S3_FORCE_PATH_STYLE);
  if (text === undefined) return endpoint !== undefined;
  if (text === 'true' || text === 'false') return text === 'true';
  throw new RangeError(`SWAVLAB_S3_FORCE_PATH_STYLE: expected true or false, got ${JSON.stringify(text)}`);
}

/** The S3 client for `env` (static credentials from it, else the SDK's default chain). */
export function s3ClientFromEnv(env: S3Environment): S3Client {
  const endpoint =
    nonEmpty(env.SWAVLAB_S3_ENDPOINT) ?? nonEmpty(env.AWS_ENDPOINT_URL_S3) ?? nonEmpty(env.AWS_ENDPOINT_URL);
  if (endpoint !== undefined && !/^https?:\/\/[^/]+/.test(endpoint)) {
    throw new RangeError(`SWAVLAB_S3_ENDPOINT: expected an http(s) URL, got ${JSON.stringify(endpoint)}`);
  }
  return new S3Client({
    region: nonEmpty(env.AWS_REGION) ?? nonEmpty(env.AWS_DEFAULT_REGION) ?? 'us-east-1',
    ...(endpoint === undefined ? {} : { endpoint }),
    forcePathStyle: forcePathStyle(env, endpoint),
    ...staticCredentials(env),
    // Checksums only where the API requires them: many S3-compatible servers refuse the SDK's default
    // aws-chunked uploads with trailing checksums. Integrity is checked by Content-MD5 and sha256 instead.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** The store SWAVLAB_ARTIFACTS names; `env` supplies the S3 settings. Errors name the variable. */
export function openArtifactStore(location: string, env: S3Environment = process.env): ArtifactStore {
  if (location.startsWith('s3://')) {
    const { bucket, prefix } = parseS3Url(location);
    return new S3ArtifactStore({ client: s3ClientFromEnv(env), bucket, prefix });
  }
  if (location.trim() === '') throw new RangeError('SWAVLAB_ARTIFACTS: expected a folder or an s3:// URL');
  return new FileArtifactStore(location.startsWith('file:') ? location.slice('file:'.length) : location);
}
