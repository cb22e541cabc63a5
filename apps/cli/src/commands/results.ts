// `swavlab results GRID`: the ablation table of a grid (mean ± std, n, min, max per group).
import { groupsTable, pivotTable } from '../ablation-table.js';
import {
  type Command,
  JSON_USAGE,
  parseCommand,
  printJson,
  printLine,
  SERVER_OPTIONS,
  SERVER_USAGE,
} from '../command.js';
import { EXIT, UsageError } from '../errors.js';
import { metricHeader } from '../format.js';
import { ApiClient, serverSettings } from '../http-client.js';
import type { GridResults } from '../wire.js';

export const resultsCommand: Command = {
  name: 'results',
  summary: "a grid's ablation table: mean ± std, n, min, max per group",
  usage: `Usage: swavlab results GRID [options]

Summarises the final value of a metric over the grid's succeeded runs, grouped by spec paths.
Accuracies (knn_top1@k, linear_top1/5) are shown in percent.

Options:
  --metric M       metric name, e.g. knn_top1@20, linear_top1, loss (default: the grid's metric)
  --by PATH        group by this spec path; repeat for more (default: the grid's axes)
  --pivot          with exactly two --by paths (or two axes): rows by the first, columns by the second
${JSON_USAGE}
${SERVER_USAGE}`,

  async run(args) {
    const parsed = parseCommand(
      this,
      args,
      {
        ...SERVER_OPTIONS,
        metric: { type: 'string' },
        by: { type: 'string', multiple: true },
        pivot: { type: 'boolean' },
        json: { type: 'boolean' },
      },
      { min: 1, max: 1, names: 'GRID' },
    );
    if (!parsed) return EXIT.ok;
    const { values } = parsed;
    const grid = parsed.positionals[0] as string;
    const client = new ApiClient(serverSettings(values));
    const results = await client.get<GridResults>(
      `/v1/grids/${encodeURIComponent(grid)}/results`,
      `results of grid ${grid}`,
      {
        metric: values.metric,
        group_by: values.by,
      },
    );
    if (values.json) {
      printJson(results);
      return EXIT.ok;
    }
    const [rowPath, columnPath] = results.group_by;
    if (
      values.pivot &&
      (results.group_by.length !== 2 || rowPath === undefined || columnPath === undefined)
    ) {
      throw new UsageError(`--pivot needs exactly two group paths; got ${results.group_by.length}`);
    }
    printLine(
      `grid ${results.grid_id}: ${metricHeader(results.metric)} by ${results.group_by.join(', ') || '(all runs)'}`,
    );
    printLine();
    if (results.groups.length === 0) printLine('no finished runs with this metric yet');
    else
      printLine(
        values.pivot && rowPath && columnPath
          ? pivotTable(results, rowPath, columnPath)
          : groupsTable(results),
      );
    const notes: string[] = [];
    if (results.runs_not_finished > 0) notes.push(`${results.runs_not_finished} run(s) not (yet) succeeded`);
    if (results.runs_without_value > 0)
      notes.push(`${results.runs_without_value} succeeded run(s) without ${results.metric}`);
    if (notes.length > 0) {
      printLine();
      printLine(`note: ${notes.join('; ')}`);
    }
    return EXIT.ok;
  },
};
