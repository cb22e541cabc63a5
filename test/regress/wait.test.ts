// The verdict wait of `swavlab regress` against a real HTTP server that goes away for a while: a CI job must ride
// out a server restart (connection refused, 503 from a proxy) and still fail fast on a real error.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { RegressionView } from '@swavlab/spec';
import { afterEach, describe, expect, it } from 'vitest';
import { CliError } from '../../apps/cli/src/errors.js';
import { ApiClient, ApiError } from '../../apps/cli/src/http-client.js';
import { waitForVerdict } from '../../apps/cli/src/regress/wait.js';

const RUNNING = RegressionView.parse({
  id: 'reg_1',
  suite_name: 'tiny',
  baseline: { name: 'main', version: 1 },
  commit: null,
  branch: null,
  ci_url: null,
  created_at: '2026-11-29T16:00:00.000Z',
  finished_at: null,
  status: 'running',
  verdict: null,
  progress: { total: 3, succeeded: 1, failed: 0, running: 1, queued: 1 },
  candidate_run_ids: ['r1', 'r2', 'r3'],
  report: null,
});
const FINISHED = {
  ...RUNNING,
  status: 'finished',
  verdict: 'pass',
  finished_at: '2026-11-29T16:01:00.000Z',
  progress: { total: 3, succeeded: 3, failed: 0, running: 0, queued: 0 },
  report: { message: 'pass', metrics: [] },
};

/** Answers each GET with the next of `replies` (the last one repeats): a status, or a status and a body. */
async function serve(
  replies: readonly (number | [number, unknown])[],
): Promise<{ server: Server; url: string }> {
  let calls = 0;
  const server = createServer((_request, response) => {
    const reply = replies[Math.min(calls++, replies.length - 1)] as number | [number, unknown];
    const [status, body] = typeof reply === 'number' ? [reply, { title: 'unavailable' }] : reply;
    response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
});

function waitOn(url: string, outageMs = 10_000) {
  const stream = new PassThrough() as unknown as NodeJS.WriteStream;
  return waitForVerdict(new ApiClient({ url, token: undefined }), 'reg_1', { stream, pollMs: 20, outageMs });
}

describe('waiting for a verdict', () => {
  it('rides out 503 answers and a refused connection, then returns the verdict', async () => {
    const { server, url } = await serve([503, [200, RUNNING], 502, 504, [200, FINISHED]]);
    servers.push(server);
    expect((await waitOn(url)).verdict).toBe('pass');

    // Nothing listens at first (a restarting server); it comes back on the same port.
    const port = Number(new URL(url).port);
    await new Promise((resolve) => server.close(resolve));
    servers.pop();
    const waiting = waitOn(url);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const back = createServer((_request, response) =>
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(FINISHED)),
    );
    await new Promise<void>((resolve) => back.listen(port, '127.0.0.1', resolve));
    servers.push(back);
    expect((await waiting).verdict).toBe('pass');
  });

  it('fails at once on an error that is not an outage, and after the outage allowance otherwise', async () => {
    const missing = await serve([[404, { title: 'not found', detail: 'no regression reg_1' }]]);
    servers.push(missing.server);
    const error = await waitOn(missing.url).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(404);

    const down = await serve([503]);
    servers.push(down.server);
    const outage = await waitOn(down.url, 200).catch((e: unknown) => e);
    expect(outage).toBeInstanceOf(CliError);
    expect((outage as ApiError).status).toBe(503);
  });
});
