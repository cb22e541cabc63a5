// `swavlab grid FILE [--dry-run]`: validate an ablation grid locally, then submit it (or preview its cells).
import {
  type Command,
  JSON_USAGE,
  parseCommand,
  printJson,
  printLine,
  SERVER_OPTIONS,
  SERVER_USAGE,
} from '../command.js';
import { EXIT } from '../errors.js';
import { formatValue } from '../format.js';
import { ApiClient, serverSettings } from '../http-client.js';
import { readGridSpec } from '../spec-file.js';
import { renderTable } from '../table.js';
import type { CreatedGrid, GridDryRun } from '../wire.js';

function printDryRun(preview: GridDryRun): void {
  const paths = [...new Set(preview.cells.flatMap((cell) => Object.keys(cell.axis_values)))];
  printLine(
    renderTable(
      [
        { header: 'CELL', align: 'right' },
        ...paths.map((path) => ({ header: path })),
        { header: 'SEED', align: 'right' },
        { header: 'EXISTING RUN' },
      ],
      preview.cells.map((cell) => [
        String(cell.index),
        ...paths.map((path) => formatValue(cell.axis_values[path])),
        String(cell.seed),
        cell.existing_run_id ?? '-',
      ]),
    ),
  );
  printLine();
  printLine(`${preview.cell_count} cells, ${preview.new_cells} new (dry run: nothing was submitted)`);
}

export const gridCommand: Command = {
  name: 'grid',
  summary: 'submit an ablation grid from a JSON grid spec (or preview it with --dry-run)',
  usage: `Usage: swavlab grid FILE [options]

FILE is a JSON grid spec: {"name", "base": <experiment spec>, "axes": {"swav.prototypes": [...], ...},
"seeds": [...], "metric": {"name": "knn_top1@20", "goal": "max"}}. Every cell is validated locally first.

Options:
  --dry-run        list the cells (and which already have a run) without submitting anything
${JSON_USAGE}
${SERVER_USAGE}

Exit codes: 0 submitted, 1 failed, 2 invalid file or grid, 3 server unreachable.`,

  async run(args) {
    const parsed = parseCommand(
      this,
      args,
      { ...SERVER_OPTIONS, 'dry-run': { type: 'boolean' }, json: { type: 'boolean' } },
      { min: 1, max: 1, names: 'FILE' },
    );
    if (!parsed) return EXIT.ok;
    const { values } = parsed;
    const file = parsed.positionals[0] as string;
    const client = new ApiClient(serverSettings(values));
    const { body } = await readGridSpec(file);
    if (values['dry-run']) {
      const { body: preview } = await client.request<GridDryRun>('POST', '/v1/grids', `grid ${file}`, {
        body,
        query: { dry_run: 'true' },
      });
      if (values.json) printJson(preview);
      else printDryRun(preview);
      return EXIT.ok;
    }
    const { body: grid } = await client.request<CreatedGrid>('POST', '/v1/grids', `grid ${file}`, { body });
    if (values.json) {
      printJson(grid);
      return EXIT.ok;
    }
    printLine(
      `grid ${grid.id} "${grid.name}": ${grid.cell_count} cells, ${grid.runs.created} queued, ${grid.runs.deduplicated} already had a run`,
    );
    printLine(`follow it with \`swavlab ls --grid ${grid.id}\`; results with \`swavlab results ${grid.id}\``);
    return EXIT.ok;
  },
};
