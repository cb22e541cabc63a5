// `swavlab show ID`: one run in detail: status, dataset, progress, timings, error, latest metrics, evaluations.
import { type Command, JSON_USAGE, parseIdCommand, printJson, printLine, SERVER_USAGE } from '../command.js';
import { EXIT } from '../errors.js';
import {
  formatAge,
  formatDuration,
  formatMetricValue,
  formatNumber,
  formatSettings,
  formatValue,
} from '../format.js';
import { renderTable } from '../table.js';
import type { RunDetail } from '../wire.js';

function field(spec: Record<string, unknown>, section: string, key: string): unknown {
  const part = spec[section];
  return typeof part === 'object' && part !== null ? (part as Record<string, unknown>)[key] : undefined;
}

/** The spec's main choices on one line; the full spec is in `--json`. */
function specSummary(spec: Record<string, unknown>): string {
  const entries: [string, unknown][] = [
    [
      'data',
      `${formatValue(field(spec, 'data', 'source'))} ${formatValue(field(spec, 'data', 'num_images') ?? field(spec, 'data', 'path'))}`,
    ],
    ['arch', field(spec, 'model', 'arch')],
    ['prototypes', field(spec, 'swav', 'prototypes')],
    ['sinkhorn_iterations', field(spec, 'swav', 'sinkhorn_iterations')],
    ['epsilon', field(spec, 'swav', 'epsilon')],
    ['crops', field(spec, 'swav', 'crops')],
    ['batch_size', field(spec, 'optim', 'batch_size')],
    ['epochs', field(spec, 'optim', 'epochs')],
  ];
  return entries
    .filter(([, value]) => value !== undefined)
    .map(([name, value]) => `${name} ${formatValue(value)}`)
    .join(', ');
}

/** The trainer's dataset report on one line: what a run read, so that a wrong folder shows at a glance. */
function datasetSummary(dataset: RunDetail['dataset']): string {
  if (dataset === null) return '- (not reported yet)';
  const skipped = dataset.skipped > 0 ? `, ${dataset.skipped} files skipped as unreadable` : '';
  return (
    `${dataset.source}: ${dataset.classes} classes, ${dataset.pretrain_images} pretraining images, ` +
    `${dataset.eval_train_images} evaluation train / ${dataset.eval_test_images} test images${skipped}`
  );
}

/** Did the run learn? Its k-NN against the same backbone at random init, from the first evaluation on. */
function learningSummary(check: RunDetail['learning_check']): string {
  if (check === null) return '- (after the first k-NN evaluation)';
  return `${check.learned ? 'learned' : 'NOT LEARNING'}: ${check.message}`;
}

function when(iso: string | null, now: Date): string {
  return iso === null ? '-' : `${iso} (${formatAge(iso, now)})`;
}

export function printRun(run: RunDetail): void {
  const now = new Date();
  const { progress, timings } = run;
  const rows: [string, string][] = [
    ['status', run.status + (run.cancel_requested && run.status !== 'canceled' ? ' (cancel requested)' : '')],
    ['name', run.name ?? '-'],
    ['grid', run.grid_id === null ? '-' : `${run.grid_id} cell ${run.cell_index ?? '-'}`],
    ['axis values', run.axis_values === null ? '-' : formatSettings(run.axis_values)],
    ['seed', String(run.seed)],
    ['spec', specSummary(run.spec)],
    ['dataset', datasetSummary(run.dataset)],
    ['learning', learningSummary(run.learning_check)],
    ['spec hash', run.spec_hash],
    ['tags', run.tags.join(', ') || '-'],
    ['priority', String(run.priority)],
    ['attempt', String(run.attempt)],
    ['device', run.device === null ? '-' : `${run.device} on ${run.worker_host ?? '?'}`],
    [
      'progress',
      progress.step === null
        ? '-'
        : `epoch ${progress.epoch ?? '-'}, step ${progress.step}/${progress.total_steps ?? '?'}${progress.eta_seconds === null || run.status !== 'running' ? '' : `, ETA ${formatDuration(progress.eta_seconds)}`}`,
    ],
    ['created', when(timings.created_at, now)],
    ['started', when(timings.started_at, now)],
    ['finished', when(timings.finished_at, now)],
    ['duration', formatDuration(timings.duration_seconds)],
  ];
  printLine(`run ${run.id}`);
  for (const [name, value] of rows) printLine(`  ${`${name}:`.padEnd(14)}${value}`);
  if (run.error !== null) {
    printLine(`  ${'error:'.padEnd(14)}${run.error.kind}: ${run.error.message}`);
    if (run.error.traceback)
      for (const line of run.error.traceback.trimEnd().split('\n')) printLine(`    ${line}`);
  }
  if (run.learning_check !== null && run.learning_check.causes.length > 0) {
    printLine('  likely causes:');
    for (const cause of run.learning_check.causes) printLine(`    - ${cause}`);
  }
  const metrics = Object.entries(run.last_metrics).sort(([a], [b]) => a.localeCompare(b));
  if (metrics.length > 0) {
    printLine();
    printLine('latest metrics:');
    printLine(
      renderTable(
        [
          { header: '  NAME' },
          { header: 'VALUE', align: 'right' },
          { header: 'STEP', align: 'right' },
          { header: 'EPOCH', align: 'right' },
        ],
        metrics.map(([name, point]) => [
          `  ${name}`,
          formatNumber(point.value),
          String(point.step),
          String(point.epoch ?? '-'),
        ]),
      ),
    );
  }
  if (run.evaluations.length > 0) {
    printLine();
    printLine('evaluations:');
    printLine(
      renderTable(
        [
          { header: '  NAME' },
          { header: 'VALUE', align: 'right' },
          { header: 'SPLIT' },
          { header: 'EPOCH', align: 'right' },
          { header: 'STEP', align: 'right' },
        ],
        run.evaluations.map((e) => [
          `  ${e.name}`,
          formatMetricValue(e.name, e.value),
          e.split,
          String(e.epoch),
          String(e.step),
        ]),
      ),
    );
  }
}

export const showCommand: Command = {
  name: 'show',
  summary: 'show one run: status, progress, timings, error, metrics, evaluations',
  usage: `Usage: swavlab show ID [options]

Options:
${JSON_USAGE}
${SERVER_USAGE}

Exit codes: 0 shown, 1 no such run, 3 server unreachable.`,

  async run(args) {
    const parsed = parseIdCommand(this, args);
    if (!parsed) return EXIT.ok;
    const { id, client, json } = parsed;
    const run = await client.get<RunDetail>(`/v1/runs/${encodeURIComponent(id)}`, `run ${id}`);
    if (json) printJson(run);
    else printRun(run);
    return EXIT.ok;
  },
};
