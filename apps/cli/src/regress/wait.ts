// The regression endpoints as the CLI calls them (responses checked against the @swavlab/spec schemas), and the
// loop that waits for a regression's verdict while showing its progress.
import { setTimeout as sleep } from 'node:timers/promises';
import {
  BaselineView,
  issuesFromZod,
  type RegressionProgress,
  type RegressionRequestInput,
  RegressionView,
} from '@swavlab/spec';
import { CliError, EXIT } from '../errors.js';
import { formatDuration } from '../format.js';
import { type ApiClient, ApiError } from '../http-client.js';
import { progressBar } from '../progress-view.js';
import { issueLines } from '../spec-file.js';
import { StatusLine } from '../status-line.js';

type SafeParse<T> = (
  value: unknown,
) => { success: true; data: T } | { success: false; error: Parameters<typeof issuesFromZod>[0] };

/** `body` parsed with `schema`; a mismatch means client and server disagree on the wire format. */
function parseBody<T>(schema: { safeParse: SafeParse<T> }, body: unknown, what: string): T {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  throw new CliError(
    `${what}: the server's answer is not what this swavlab expects (a different version?)`,
    EXIT.failure,
    issueLines(issuesFromZod(parsed.error)),
  );
}

export async function createRegression(
  client: ApiClient,
  request: RegressionRequestInput,
  what: string,
): Promise<RegressionView> {
  const { body } = await client.request<unknown>('POST', '/v1/regressions', what, { body: request });
  return parseBody(RegressionView, body, what);
}

export async function getRegression(client: ApiClient, id: string): Promise<RegressionView> {
  const what = `regression ${id}`;
  return parseBody(
    RegressionView,
    await client.get<unknown>(`/v1/regressions/${encodeURIComponent(id)}`, what),
    what,
  );
}

/** The latest version of baseline `name` of `suite`, or undefined when there is none. */
export async function findBaseline(
  client: ApiClient,
  name: string,
  suite: string,
): Promise<BaselineView | undefined> {
  const what = `baseline ${name} of suite ${suite}`;
  try {
    const body = await client.get<unknown>(`/v1/baselines/${encodeURIComponent(name)}`, what, { suite });
    return parseBody(BaselineView, body, what);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return undefined;
    throw error;
  }
}

export async function promoteBaseline(
  client: ApiClient,
  name: string,
  regressionId: string,
): Promise<BaselineView> {
  const what = `promote regression ${regressionId} to baseline ${name}`;
  const { body } = await client.request<unknown>('POST', '/v1/baselines', what, {
    body: { name, regression_id: regressionId },
  });
  return parseBody(BaselineView, body, what);
}

/** `3/6 runs done (1 failed)  2 running  1 queued`: the counts, which change only when a run moves on. */
export function progressCounts(progress: RegressionProgress): string {
  const done = progress.succeeded + progress.failed;
  const failed = progress.failed > 0 ? ` (${progress.failed} failed)` : '';
  return `${done}/${progress.total} runs done${failed}  ${progress.running} running  ${progress.queued} queued`;
}

export interface WaitOptions {
  /** Where progress goes: stdout normally, stderr when stdout carries JSON. */
  stream: NodeJS.WriteStream;
  pollMs?: number;
  /** How long an unreachable server (or 502, 503, 504 answers) is waited out before giving up; default 2 min. */
  outageMs?: number;
  /** Stops waiting (SIGINT); the regression's latest state is returned. */
  signal?: AbortSignal;
}

/** A restart of the server or a proxy's hiccup, which the regression itself survives. */
function isTransient(error: unknown): boolean {
  if (error instanceof ApiError) return error.status === 502 || error.status === 503 || error.status === 504;
  return error instanceof CliError && error.exitCode === EXIT.unreachable;
}

/** The regression's state, riding out a server that is briefly away (a CI job should not fail on a restart). */
async function pollRegression(
  client: ApiClient,
  id: string,
  options: WaitOptions,
  line: StatusLine,
): Promise<RegressionView> {
  let since: number | undefined;
  for (;;) {
    try {
      return await getRegression(client, id);
    } catch (error) {
      since ??= Date.now();
      const away = Date.now() - since;
      if (!isTransient(error) || away > (options.outageMs ?? 120_000) || options.signal?.aborted) throw error;
      line.update(`${(error as Error).message}; retrying (${formatDuration(away / 1000)})`);
      await sleep(options.pollMs ?? 1_000, undefined, { signal: options.signal }).catch(() => undefined);
    }
  }
}

/**
 * Polls regression `id` until it is finished (its verdict stored) or `signal` aborts. On a terminal the progress
 * line is redrawn in place with a bar and the elapsed time; otherwise (CI logs) one line is printed per change
 * of the counts, so that a long wait does not flood the log. A server that is briefly away is waited out.
 */
export async function waitForVerdict(
  client: ApiClient,
  id: string,
  options: WaitOptions,
): Promise<RegressionView> {
  const line = new StatusLine(options.stream);
  const started = Date.now();
  let lastCounts = '';
  let view = await pollRegression(client, id, options, line);
  while (view.status !== 'finished' && !options.signal?.aborted) {
    const counts = progressCounts(view.progress);
    const elapsed = `elapsed ${formatDuration((Date.now() - started) / 1000)}`;
    if (line.isTty) {
      const { total, succeeded, failed } = view.progress;
      const fraction = total === 0 ? 0 : (succeeded + failed) / total;
      line.update(`${progressBar(fraction)}  ${counts}  ${elapsed}`);
    } else if (counts !== lastCounts) {
      line.update(`${view.suite_name}: ${counts}  ${elapsed}`);
    }
    lastCounts = counts;
    await sleep(options.pollMs ?? 1_000, undefined, { signal: options.signal }).catch(() => undefined);
    if (!options.signal?.aborted) view = await pollRegression(client, id, options, line);
  }
  line.finish();
  return view;
}
