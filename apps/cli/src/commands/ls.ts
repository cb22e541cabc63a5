// `swavlab ls`: runs as a table, newest first, with filters and a search expression.
import {
  type Command,
  intOption,
  JSON_USAGE,
  parseCommand,
  printJson,
  printLine,
  SERVER_OPTIONS,
  SERVER_USAGE,
} from '../command.js';
import { EXIT } from '../errors.js';
import { formatAge, formatDuration, formatMetricValue } from '../format.js';
import { ApiClient, serverSettings } from '../http-client.js';
import { renderTable } from '../table.js';
import type { Run, RunPage } from '../wire.js';

const MAX_PAGE = 500;

/** What the RESULT column shows: the first k-NN accuracy of a succeeded run, the error kind of a failed one. */
function resultOf(run: Run): string {
  if (run.status === 'failed') return run.error ? `error: ${run.error.kind}` : 'error';
  const metrics = run.final_metrics ?? {};
  const name = Object.keys(metrics)
    .filter((key) => key.startsWith('knn_top1@'))
    .sort()[0];
  const value = name === undefined ? undefined : metrics[name];
  return name !== undefined && typeof value === 'number' ? `${name} ${formatMetricValue(name, value)}` : '';
}

function progressOf(run: Run): string {
  const { progress } = run;
  if (run.status !== 'running' && run.status !== 'stopping') {
    return run.timings.duration_seconds === null ? '' : formatDuration(run.timings.duration_seconds);
  }
  if (progress.fraction === null) return 'starting';
  return `${Math.floor(progress.fraction * 100)}% ep ${progress.epoch ?? '-'}`;
}

export const lsCommand: Command = {
  name: 'ls',
  summary: 'list runs (filters: status, grid, tag, search expression)',
  usage: `Usage: swavlab ls [options]

Lists runs, newest first.

Options:
  --status S       only runs in these statuses (repeat or comma-separate: queued, running, stopping,
                   succeeded, failed, canceled)
  --grid G         only the runs of grid G
  --tag T          only runs tagged T
  -q, --query EXPR search expression, e.g. 'metrics.knn_top1@20 > 0.5 and swav.prototypes = 3000'
  --limit N        at most N runs (default 50)
${JSON_USAGE}
${SERVER_USAGE}`,

  async run(args) {
    const parsed = parseCommand(this, args, {
      ...SERVER_OPTIONS,
      status: { type: 'string', multiple: true },
      grid: { type: 'string' },
      tag: { type: 'string' },
      query: { type: 'string', short: 'q' },
      limit: { type: 'string' },
      json: { type: 'boolean' },
    });
    if (!parsed) return EXIT.ok;
    const { values } = parsed;
    const limit = intOption('limit', values.limit, 1, 100_000) ?? 50;
    const client = new ApiClient(serverSettings(values));
    const runs: Run[] = [];
    let pageToken: string | undefined;
    let next: string | null = null;
    do {
      const page: RunPage = await client.get<RunPage>('/v1/runs', 'list runs', {
        status: values.status?.join(','),
        grid: values.grid,
        tag: values.tag,
        q: values.query,
        page_size: Math.min(MAX_PAGE, limit - runs.length),
        page_token: pageToken,
      });
      runs.push(...page.runs);
      next = page.next_page_token;
      pageToken = next ?? undefined;
    } while (next !== null && runs.length < limit);

    if (values.json) {
      printJson({ runs, next_page_token: next });
      return EXIT.ok;
    }
    if (runs.length === 0) {
      printLine('no runs');
      return EXIT.ok;
    }
    const now = new Date();
    printLine(
      renderTable(
        [
          { header: 'ID' },
          { header: 'STATUS' },
          { header: 'PROGRESS' },
          { header: 'RESULT' },
          { header: 'CREATED' },
          { header: 'NAME' },
        ],
        runs.map((run) => [
          run.id,
          run.status,
          progressOf(run),
          resultOf(run),
          formatAge(run.timings.created_at, now),
          run.name ?? '',
        ]),
      ),
    );
    if (next !== null) printLine(`(more runs: raise --limit to see them)`);
    return EXIT.ok;
  },
};
