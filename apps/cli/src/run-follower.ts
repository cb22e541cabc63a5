// Follows one run until it ends: the Server-Sent Events stream /v1/runs/{id}/events (resumed with Last-Event-ID
// after a dropped connection), falling back to polling GET /v1/runs/{id} when the stream is unavailable.
import { setTimeout as sleep } from 'node:timers/promises';
import { CliError } from './errors.js';
import type { ApiClient } from './http-client.js';
import { readServerEvents } from './sse.js';
import {
  isTerminal,
  type Run,
  type RunDetail,
  type RunError,
  type RunProgress,
  type RunStatus,
  type StreamedPoint,
} from './wire.js';

/** Where a metric point was recorded: its step, epoch and time (ms since the epoch). */
export interface Position {
  step: number;
  epoch: number | null;
  time: number;
}

/** What is known about the run so far. */
export interface RunState {
  run: Run;
  /** Latest value of each metric (null for a non-finite one). */
  metrics: Record<string, number | null>;
  /**
   * The newest metric point's position. Points arrive with every logged step, while the run's progress is
   * throttled on the way, so this is often the fresher position.
   */
  latest?: Position;
  /** The first point seen of the current attempt: with `latest`, it gives the observed step rate. */
  origin?: Position;
}

/** Takes a metric point's position into `state`. */
export function observePoint(
  state: RunState,
  point: { step: number; epoch: number | null; time: string },
): void {
  const position = { step: point.step, epoch: point.epoch, time: Date.parse(point.time) };
  const started = state.run.timings.started_at === null ? 0 : Date.parse(state.run.timings.started_at);
  if (Number.isNaN(position.time) || position.time < started) return;
  if (state.origin === undefined || position.time < state.origin.time) state.origin = position;
  if (state.latest === undefined || position.step > state.latest.step) state.latest = position;
}

export interface FollowOptions {
  onUpdate(state: RunState): void;
  /** Polling interval of the fallback. */
  pollMs?: number;
  /** Stream reconnects before falling back to polling. */
  maxReconnects?: number;
}

const runPath = (id: string) => `/v1/runs/${encodeURIComponent(id)}`;

/** Streams events into `state`; true once the stream said the run ended, false when it broke off first. */
async function followStream(
  client: ApiClient,
  id: string,
  state: { current?: RunState; lastEventId?: string },
  onUpdate: (state: RunState) => void,
): Promise<boolean> {
  const controller = new AbortController();
  try {
    const response = await client.fetch('GET', `${runPath(id)}/events`, {
      headers: {
        accept: 'text/event-stream',
        ...(state.lastEventId === undefined ? {} : { 'last-event-id': state.lastEventId }),
      },
      signal: controller.signal,
    });
    if (response.status >= 400 && response.status < 500) throw await client.errorOf(response, `run ${id}`);
    const streaming = (response.headers.get('content-type') ?? '').startsWith('text/event-stream');
    if (!response.ok || !streaming || response.body === null) return false;
    for await (const event of readServerEvents(response.body)) {
      if (event.id !== undefined) state.lastEventId = event.id;
      const data: unknown = JSON.parse(event.data);
      if (event.event === 'run') {
        state.current = { run: data as Run, metrics: state.current?.metrics ?? {} };
      } else if (event.event === 'end') {
        return true;
      } else if (event.event === 'error') {
        return false;
      }
      const current = state.current;
      if (current === undefined) continue;
      if (event.event === 'progress') current.run = { ...current.run, progress: data as RunProgress };
      if (event.event === 'metrics') {
        for (const point of (data as { points: StreamedPoint[] }).points) {
          current.metrics[point.name] = point.value;
          observePoint(current, point);
        }
      }
      if (event.event === 'status') {
        const change = data as { status: RunStatus; error: RunError | null };
        current.run = { ...current.run, status: change.status, error: change.error };
      }
      onUpdate(current);
    }
    return false;
  } catch (error) {
    if (error instanceof CliError) throw error;
    // A dropped connection or a malformed event: reconnect (or poll).
    return false;
  } finally {
    controller.abort();
  }
}

/** Follows run `id` until it is succeeded, failed or canceled; returns its final state from GET /v1/runs/{id}. */
export async function followRun(client: ApiClient, id: string, options: FollowOptions): Promise<RunDetail> {
  const state: { current?: RunState; lastEventId?: string } = {};
  const maxReconnects = options.maxReconnects ?? 3;
  let ended = false;
  for (let attempt = 0; attempt <= maxReconnects && !ended; attempt++) {
    if (attempt > 0) await sleep(500 * attempt);
    ended = await followStream(client, id, state, options.onUpdate);
  }
  while (!ended) {
    const detail = await client.get<RunDetail>(runPath(id), `run ${id}`);
    const polled: RunState = {
      run: detail,
      metrics: Object.fromEntries(
        Object.entries(detail.last_metrics).map(([name, point]) => [name, point.value]),
      ),
      ...(state.current?.origin === undefined ? {} : { origin: state.current.origin }),
    };
    for (const point of Object.values(detail.last_metrics)) observePoint(polled, point);
    state.current = polled;
    options.onUpdate(polled);
    ended = isTerminal(detail.status);
    if (!ended) await sleep(options.pollMs ?? 1_000);
  }
  return client.get<RunDetail>(runPath(id), `run ${id}`);
}
