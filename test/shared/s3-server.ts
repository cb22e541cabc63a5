// A local S3-compatible server for tests: s3rver (npm) serving a temporary folder on a free port, with the
// environment a worker or the API needs to reach it (endpoint, region, credentials, path-style URLs).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';

export interface S3TestServer {
  endpoint: string;
  bucket: string;
  /** SWAVLAB_ARTIFACTS plus the S3 variables, for workers and the API. */
  env: Record<string, string>;
  close(): Promise<void>;
}

export async function startS3Server(bucket = 'swavlab-test', prefix = 'artifacts'): Promise<S3TestServer> {
  const directory = await mkdtemp(join(tmpdir(), 'swavlab-s3-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    directory,
    silent: true,
    configureBuckets: [{ name: bucket }],
  });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    bucket,
    env: {
      SWAVLAB_ARTIFACTS: `s3://${bucket}/${prefix}`,
      SWAVLAB_S3_ENDPOINT: endpoint,
      AWS_REGION: 'us-east-1',
      // s3rver checks signatures against its fixed test credentials.
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
    },
    async close() {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
