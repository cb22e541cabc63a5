// `swavlab results GRID`: the ablation table of a grid (mean ± std, 95 % CI, n, min, max per group, the best group
// and those tied with it) with the test that decided the marks, what the seeds resolve, and with --power the seeds
// a given difference needs.
import {
  differenceInMetricUnits,
  groupsTable,
  pivotTable,
  significantDifferences,
  statisticsNotes,
} from '../ablation-table.js';
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

/** A number > 0 given as --NAME; undefined when absent. */
function positiveNumber(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || value <= 0) {
    throw new UsageError(`--${name}: expected a number above 0, got ${JSON.stringify(raw)}`);
  }
  return value;
}

export const resultsCommand: Command = {
  name: 'results',
  summary: "a grid's ablation table: mean ± std, 95% CI, n per group; the best and the groups tied with it",
  usage: `Usage: swavlab results GRID [options]

Summarises the final value of a metric over the grid's succeeded runs, grouped by spec paths.
Accuracies (knn_top1@k, linear_top1/5) are shown in percent, their differences in percentage points.

★ marks the best group for the metric's goal (highest accuracy, lowest loss), ≈ the groups that Welch's
two-sided t-test against the best, Holm-corrected, cannot tell from it (α = 0.05). With one seed per
group no test is possible, and the table says so. Under the table: the smallest difference the seeds
resolve (α = 0.05, power 0.8, from the pooled within-group variance).

Options:
  --metric M       metric name, e.g. knn_top1@20, linear_top1, loss (default: the grid's metric)
  --by PATH        group by this spec path; repeat for more (default: the grid's axes)
  --pivot          with exactly two --by paths (or two axes): rows by the first, columns by the second
  --power D        how many seeds per group would resolve a difference of D, from the observed variance;
                   D is in the table's units: percentage points for accuracies (2 = 0.02 of a 0..1
                   accuracy), the metric's own units otherwise (0.05 of the loss)
${JSON_USAGE}
${SERVER_USAGE}

Add seeds to a grid with \`swavlab grid seeds GRID --add N\`.`,

  async run(args) {
    const parsed = parseCommand(
      this,
      args,
      {
        ...SERVER_OPTIONS,
        metric: { type: 'string' },
        by: { type: 'string', multiple: true },
        pivot: { type: 'boolean' },
        power: { type: 'string' },
        json: { type: 'boolean' },
      },
      { min: 1, max: 1, names: 'GRID' },
    );
    if (!parsed) return EXIT.ok;
    const { values } = parsed;
    const grid = parsed.positionals[0] as string;
    const power = positiveNumber('power', values.power);
    const client = new ApiClient(serverSettings(values));
    const path = `/v1/grids/${encodeURIComponent(grid)}/results`;
    const query = { metric: values.metric, group_by: values.by };
    let results = await client.get<GridResults>(path, `results of grid ${grid}`, query);
    // The unit of --power depends on the metric, which the first answer names (the grid's, by default).
    if (power !== undefined) {
      const difference = differenceInMetricUnits(results.metric, power);
      results = await client.get<GridResults>(path, `results of grid ${grid}`, {
        ...query,
        difference: String(difference),
      });
    }
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
    if (results.groups.length > 0) {
      printLine();
      for (const line of statisticsNotes(results)) printLine(line);
      for (const line of significantDifferences(results)) printLine(line);
    }
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
