// One run: status and progress, collapse warnings (prominent), the error with its traceback, training curves,
// evaluations, the dataset it read, final metrics, checkpoints with sha256 and the spec. Live over SSE (GET /v1/runs/{id}/events),
// with a stream ticket when a token is stored (EventSource cannot send the token's header).
import { isTerminalStatus } from '@swavlab/spec/run-status';
import { eventStreamUrl, getJson, isAbort, postJson } from '../api';
import { curvePoints, X_NAMES, xValues } from '../charts/curve-data';
import { curvesOption } from '../charts/curves';
import { curveControls, DEFAULT_CURVES } from '../curve-controls';
import { h, replaceChildren } from '../dom';
import { bytes, dateTime, duration, num } from '../format';
import { hashOf, type Page } from '../router';
import type { PageScope } from '../scope';
import { canSubmit } from '../session';
import type {
  Checkpoint,
  Grid,
  MetricPoint,
  MetricsEvent,
  RunDetail,
  RunMetrics,
  RunProgress,
  RunStatus,
  StatusEvent,
} from '../types';
import {
  chartBox,
  facts,
  metricValue,
  note,
  problemBox,
  progressView,
  scrollBox,
  section,
  statusBadge,
  table,
} from '../widgets';

export const CURVE_METRICS = ['loss', 'lr', 'prototype_usage', 'code_entropy', 'images_per_sec'] as const;
const COLLAPSE_METRIC = 'collapse_warning';
const MAX_POINTS = 2000;
/** The least time between detail refreshes while a run goes. */
const REFRESH_MS = 5000;
/** Pause before a refused or broken event stream is opened again. */
const REOPEN_MS = 3000;

interface CollapseNote {
  epoch: number | null;
  step: number;
  message: string | null;
  advice: string[];
}

/** The run's collapse warnings: the messages in final_metrics.warnings, else the steps of the metric points. */
function collapseNotes(detail: RunDetail, steps: readonly number[]): CollapseNote[] {
  const stored = detail.final_metrics?.warnings;
  if (Array.isArray(stored) && stored.length > 0) {
    return stored.map((warning) => {
      const w = warning as Record<string, unknown>;
      return {
        epoch: typeof w.epoch === 'number' ? w.epoch : null,
        step: typeof w.step === 'number' ? w.step : 0,
        message: typeof w.message === 'string' ? w.message : null,
        advice: Array.isArray(w.advice) ? w.advice.map(String) : [],
      };
    });
  }
  return steps.map((step) => ({ epoch: null, step, message: null, advice: [] }));
}

export const runPage: Page = async (root, route, scope) => {
  const id = route.segments[1] as string;
  const base = `/v1/runs/${encodeURIComponent(id)}`;
  const series = new Map<string, MetricPoint[]>();
  const settings = { ...DEFAULT_CURVES };
  const mayAct = await canSubmit();
  const actions = h('div', { class: 'actions' });

  const header = h('div', { class: 'run-header' });
  const warnings = h('div', { class: 'warnings' });
  const errorHost = h('div', {});
  const chartHosts = new Map(CURVE_METRICS.map((name) => [name, chartBox()]));
  const evaluationsHost = h('div', {});
  const datasetHost = h('div', {});
  const finalHost = h('div', {});
  const checkpointsHost = h('div', {});
  const specHost = h('pre', { class: 'spec' });
  // Set by the first loadDetail, which completes before anything reads it.
  let detail!: RunDetail;

  /** The name of the run's grid, read once (the run's own view has only its id). */
  let gridName: string | undefined;
  const loadDetail = async () => {
    const [d, checkpoints] = await Promise.all([
      getJson<RunDetail>(base, {}, scope.signal),
      getJson<{ checkpoints: Checkpoint[] }>(`${base}/checkpoints`, {}, scope.signal),
    ]);
    detail = d;
    if (d.grid_id !== null && gridName === undefined) {
      gridName = await getJson<Grid>(`/v1/grids/${encodeURIComponent(d.grid_id)}`, {}, scope.signal).then(
        (grid) => grid.name,
        () => undefined,
      );
    }
    renderDetail(checkpoints.checkpoints);
  };

  const renderHeader = (status: RunStatus, progress: RunProgress) => {
    replaceChildren(
      header,
      h('h1', {}, detail.name ?? detail.id),
      h(
        'p',
        { class: 'run-facts' },
        statusBadge(status),
        ' ',
        progressView(progress, status),
        ` · seed ${detail.seed} · attempt ${detail.attempt} · ${detail.device ?? 'no device yet'}`,
        detail.grid_id === null
          ? null
          : h(
              'span',
              {},
              ' · grid ',
              h('a', { href: hashOf(['grids', detail.grid_id]) }, gridName ?? detail.grid_id),
            ),
        ` · id `,
        h('code', {}, detail.id),
      ),
    );
  };

  const renderWarnings = () => {
    const notes = collapseNotes(
      detail,
      (series.get(COLLAPSE_METRIC) ?? []).map((point) => point.step),
    );
    const check = detail.learning_check;
    replaceChildren(
      warnings,
      check === null
        ? null
        : h(
            'div',
            check.learned
              ? { class: 'learning-check learned', data: { learned: 'true' } }
              : { class: 'learning-check', role: 'alert', data: { learned: 'false' } },
            h('strong', {}, check.learned ? 'Learned' : '⚠ Not learning'),
            `: ${check.message}`,
            check.causes.length > 0
              ? h('p', {}, 'Likely causes:', h('ul', {}, ...check.causes.map((c) => h('li', {}, c))))
              : null,
          ),
      ...notes.map((warning) =>
        h(
          'div',
          { class: 'collapse-warning', role: 'alert', data: { step: String(warning.step) } },
          h('strong', {}, '⚠ Collapse warning'),
          ` at step ${warning.step}${warning.epoch === null ? '' : ` (epoch ${warning.epoch})`}: `,
          warning.message ?? 'the representations may be collapsing (few prototypes in use).',
          warning.advice.length > 0 ? h('ul', {}, ...warning.advice.map((a) => h('li', {}, a))) : null,
        ),
      ),
    );
  };

  /** Cancel while the run is queued or going, retry once it failed or was canceled; after a confirmation. */
  const renderActions = () => {
    if (!mayAct) return;
    const result = h('span', { class: 'action-result', aria: { live: 'polite' } });
    const act = async (question: string, path: 'cancel' | 'retry') => {
      if (!confirm(question)) return;
      try {
        const answer = await postJson<{ status: RunStatus }>(`${base}/${path}`);
        result.textContent = `${path === 'cancel' ? 'cancel requested' : 'queued again'}: ${answer.status}`;
        await loadDetail();
      } catch (error) {
        replaceChildren(result, problemBox(error, path === 'cancel' ? 'Cancel' : 'Retry'));
      }
    };
    const name = detail.name ?? detail.id;
    const cancellable = detail.status === 'queued' || detail.status === 'running';
    const retriable = detail.status === 'failed' || detail.status === 'canceled';
    replaceChildren(
      actions,
      cancellable
        ? h(
            'button',
            {
              type: 'button',
              data: { action: 'cancel' },
              onclick: () =>
                void act(`Cancel ${name}? A running run checkpoints first and ends canceled.`, 'cancel'),
            },
            '◼ Cancel run',
          )
        : null,
      retriable
        ? h(
            'button',
            {
              type: 'button',
              data: { action: 'retry' },
              onclick: () =>
                void act(
                  `Retry ${name}? It is queued again and resumes from its latest checkpoint.`,
                  'retry',
                ),
            },
            '↻ Retry run',
          )
        : null,
      result,
    );
  };

  const renderDetail = (checkpoints: Checkpoint[]) => {
    renderHeader(detail.status, detail.progress);
    renderActions();
    renderWarnings();
    replaceChildren(
      errorHost,
      detail.error === null
        ? null
        : section(
            'Error',
            h(
              'div',
              { class: 'run-error', role: 'alert' },
              h('p', {}, h('strong', {}, `${detail.error.kind}: `), detail.error.message),
              detail.error.traceback ? h('pre', { class: 'traceback' }, detail.error.traceback) : null,
            ),
          ),
    );
    replaceChildren(
      evaluationsHost,
      detail.evaluations.length === 0
        ? note('No evaluations yet.')
        : scrollBox(
            table(
              ['metric', 'value', 'split', 'epoch', 'step', 'at'],
              detail.evaluations.map((e) => [
                e.name,
                num(e.value),
                e.split,
                String(e.epoch),
                String(e.step),
                dateTime(e.created_at),
              ]),
              'evaluations',
            ),
          ),
    );
    const { dataset } = detail;
    replaceChildren(
      datasetHost,
      dataset === null
        ? note('Not reported yet: the trainer reports its dataset when it starts.')
        : facts(
            [
              ['source', dataset.source],
              ['classes', String(dataset.classes)],
              ['pretraining images', String(dataset.pretrain_images)],
              ['evaluation train images', String(dataset.eval_train_images)],
              ['evaluation test images', String(dataset.eval_test_images)],
              ['skipped as unreadable', String(dataset.skipped)],
            ],
            'dataset',
          ),
    );
    const finals = Object.entries(detail.final_metrics ?? {}).filter(([name]) => name !== 'warnings');
    const latest = Object.entries(detail.last_metrics).filter(([name]) => name !== COLLAPSE_METRIC);
    replaceChildren(
      finalHost,
      finals.length > 0
        ? facts(
            finals.map(([name, v]) => [
              name,
              name === 'peak_memory_bytes' && typeof v === 'number' ? bytes(v) : metricValue(v),
            ]),
            'final metrics',
          )
        : latest.length > 0
          ? facts(
              latest.map(([name, point]) => [`${name} (step ${point.step})`, num(point.value)]),
              'latest metrics',
            )
          : note('No metrics yet.'),
      facts(
        [
          ['created', dateTime(detail.timings.created_at)],
          ['started', dateTime(detail.timings.started_at)],
          ['finished', dateTime(detail.timings.finished_at)],
          ['duration', duration(detail.timings.duration_seconds)],
          ['worker', detail.worker_host ?? '–'],
          ['spec hash', h('code', {}, detail.spec_hash)],
        ],
        'timings',
      ),
    );
    replaceChildren(
      checkpointsHost,
      checkpoints.length === 0
        ? note('No checkpoints yet.')
        : scrollBox(
            table(
              ['epoch', 'step', 'sha256', 'size', 'attempt', 'path', 'saved'],
              checkpoints.map((c) => [
                String(c.epoch),
                String(c.step),
                h('code', { class: 'sha' }, c.sha256),
                bytes(c.bytes),
                String(c.attempt),
                h('code', {}, c.path),
                dateTime(c.created_at),
              ]),
              'checkpoints',
            ),
          ),
    );
    specHost.textContent = JSON.stringify(detail.spec, null, 2);
  };

  /** Collapse warnings at their x on the loss curve (a step the loss has; others are left out off the step axis). */
  const collapseMarks = () => {
    const loss = series.get('loss') ?? [];
    const xs = xValues(loss, settings.x);
    return (series.get(COLLAPSE_METRIC) ?? []).flatMap((warning) => {
      if (settings.x === 'step') return [{ step: warning.step, label: 'collapse warning' }];
      const at = loss.findIndex((point) => point.step >= warning.step);
      return at < 0 ? [] : [{ step: xs[at] as number, label: 'collapse warning' }];
    });
  };

  const drawCharts = () => {
    const marks = collapseMarks();
    for (const name of CURVE_METRICS) {
      const stored = series.get(name) ?? [];
      const points = curvePoints(stored, settings);
      const option = curvesOption([{ name, points }], {
        title: stored.length === 0 ? `${name} (no points yet)` : name,
        xName: X_NAMES[settings.x],
        logY: settings.logY,
        marks: name === 'loss' ? marks : [],
      });
      scope.chart(chartHosts.get(name) as HTMLElement, `run-${name}`, option);
    }
  };

  const loadSeries = async () => {
    const metrics = await getJson<RunMetrics>(
      `${base}/metrics`,
      { name: [...CURVE_METRICS, COLLAPSE_METRIC], max_points: MAX_POINTS },
      scope.signal,
    );
    series.clear();
    for (const s of metrics.series) series.set(s.name, s.points);
  };

  await Promise.all([loadDetail(), loadSeries()]);
  root.append(
    header,
    actions,
    warnings,
    errorHost,
    section(
      'Training curves',
      curveControls(settings, () => drawCharts()),
      h('div', { class: 'chart-grid' }, ...chartHosts.values()),
    ),
    section('Evaluations', evaluationsHost),
    section('Dataset', datasetHost),
    section('Metrics and timings', finalHost),
    section('Checkpoints', checkpointsHost),
    section('Spec', specHost),
  );
  drawCharts();
  if (!isTerminalStatus(detail.status))
    follow(scope, base, { series, loadDetail, loadSeries, drawCharts, renderWarnings, renderHeader });
};

interface LiveView {
  series: Map<string, MetricPoint[]>;
  loadDetail(): Promise<void>;
  loadSeries(): Promise<void>;
  drawCharts(): void;
  renderWarnings(): void;
  renderHeader(status: RunStatus, progress: RunProgress): void;
}

/**
 * Keeps the page current until the run ends, over SSE: opened directly on an open server, with a ticket when a
 * token is stored. A stream that fails (server restart, expired ticket) is opened anew after a pause; metric points
 * already shown are skipped.
 */
function follow(scope: PageScope, base: string, view: LiveView): void {
  const refresh = async () => {
    try {
      await view.loadDetail();
    } catch (error) {
      if (!isAbort(error)) console.warn('refresh failed', error);
    }
  };
  let ended = false;
  let source: EventSource | null = null;
  scope.onDispose(() => {
    ended = true;
    source?.close();
  });
  let status: RunStatus | null = null;
  let lastRefresh = Date.now();
  const reopenLater = () => {
    if (!ended && !scope.disposed) setTimeout(() => void open(), REOPEN_MS);
  };
  const open = async (): Promise<void> => {
    let url: string;
    try {
      url = await eventStreamUrl(base);
    } catch (error) {
      if (!isAbort(error)) console.warn('cannot open the event stream', error);
      reopenLater();
      return;
    }
    if (ended || scope.disposed) return;
    const stream = new EventSource(url);
    source = stream;
    stream.onerror = () => {
      // EventSource retries by itself unless the server refused the stream (e.g. an expired ticket).
      if (stream.readyState !== EventSource.CLOSED) return;
      stream.close();
      reopenLater();
    };
    stream.addEventListener('metrics', (event) => {
      const { points } = JSON.parse((event as MessageEvent<string>).data) as MetricsEvent;
      for (const point of points) {
        const { name, ...stored } = point;
        const list = view.series.get(name) ?? [];
        const last = list.at(-1);
        if (last === undefined || stored.step > last.step) list.push(stored);
        view.series.set(name, list);
      }
      view.drawCharts();
      if (points.some((p) => p.name === COLLAPSE_METRIC)) view.renderWarnings();
    });
    stream.addEventListener('progress', (event) => {
      const progress = JSON.parse((event as MessageEvent<string>).data) as RunProgress;
      if (status !== null) view.renderHeader(status, progress);
      // Evaluations and checkpoints have no event of their own: fetch them now and then while the run goes.
      if (Date.now() - lastRefresh >= REFRESH_MS) {
        lastRefresh = Date.now();
        void refresh();
      }
    });
    stream.addEventListener('run', (event) => {
      status = (JSON.parse((event as MessageEvent<string>).data) as { status: RunStatus }).status;
    });
    stream.addEventListener('status', (event) => {
      status = (JSON.parse((event as MessageEvent<string>).data) as StatusEvent).status;
      void refresh();
    });
    stream.addEventListener('end', () => {
      // The server closes the stream after the run ended; without close() EventSource would reconnect.
      ended = true;
      stream.close();
      void refresh();
    });
  };
  void open();
}
