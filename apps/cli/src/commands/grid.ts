// `swavlab grid FILE [--dry-run]`: validate an ablation grid locally, then submit it (or preview its cells);
// `swavlab grid seeds GRID --add N | --seeds S,…`: add seeds to a submitted grid.
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
import { EXIT, type ExitCode, UsageError } from '../errors.js';
import { formatValue } from '../format.js';
import { ApiClient, serverSettings } from '../http-client.js';
import { readGridSpec } from '../spec-file.js';
import { renderTable } from '../table.js';
import type { CreatedGrid, GridDryRun, GridSeedsView } from '../wire.js';

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

const SEEDS_USAGE = `Usage: swavlab grid seeds GRID (--add N | --seeds S,S,...) [options]

Adds seeds to a submitted grid: every axis combination gets a run per new seed, queued at once; seeds the
grid has already are left alone, so the same command twice adds nothing the second time. Use it to tighten
a table whose groups are tied (see \`swavlab results GRID --power D\` for how many seeds a difference needs).

Options:
  --add N          add N new seeds: the grid's largest seed + 1, + 2, ...
  --seeds S,S,...  the seeds the grid should have (comma-separated)
${JSON_USAGE}
${SERVER_USAGE}

Exit codes: 0 added (or nothing to add), 1 failed, 2 invalid options or seeds, 3 server unreachable.`;

/** The request body of `grid seeds`: exactly one of --add and --seeds. */
function seedsBody(add: string | undefined, seeds: string | undefined): Record<string, unknown> {
  if ((add === undefined) === (seeds === undefined)) {
    throw new UsageError('grid seeds: give either --add N or --seeds S,S,...', [
      'see `swavlab grid seeds --help`',
    ]);
  }
  if (add !== undefined) return { add: intOption('add', add, 1, 1000) };
  return { seeds: (seeds ?? '').split(',').map((seed) => intOption('seeds', seed.trim(), 0, 2 ** 31 - 1)) };
}

async function addSeeds(args: string[]): Promise<ExitCode> {
  const parsed = parseCommand(
    { name: 'grid seeds', usage: SEEDS_USAGE },
    args,
    { ...SERVER_OPTIONS, add: { type: 'string' }, seeds: { type: 'string' }, json: { type: 'boolean' } },
    { min: 1, max: 1, names: 'GRID' },
  );
  if (!parsed) return EXIT.ok;
  const { values } = parsed;
  const grid = parsed.positionals[0] as string;
  const client = new ApiClient(serverSettings(values));
  const { body: added } = await client.request<GridSeedsView>(
    'POST',
    `/v1/grids/${encodeURIComponent(grid)}/seeds`,
    `seeds of grid ${grid}`,
    { body: seedsBody(values.add, values.seeds) },
  );
  if (values.json) {
    printJson(added);
    return EXIT.ok;
  }
  const already = added.existing_seeds.length > 0 ? `; already had ${added.existing_seeds.join(', ')}` : '';
  if (added.added_seeds.length === 0) {
    printLine(`grid ${added.id} "${added.name}": no new seeds${already}`);
    return EXIT.ok;
  }
  printLine(
    `grid ${added.id} "${added.name}": added seed${added.added_seeds.length === 1 ? '' : 's'} ` +
      `${added.added_seeds.join(', ')}${already}: ${added.runs.run_ids.length} cells, ${added.runs.created} ` +
      `queued, ${added.runs.deduplicated} already had a run; ${added.cell_count} cells in all`,
  );
  printLine(`follow it with \`swavlab ls --grid ${added.id}\`; results with \`swavlab results ${added.id}\``);
  return EXIT.ok;
}

export const gridCommand: Command = {
  name: 'grid',
  summary:
    'submit an ablation grid from a JSON grid spec (or preview it with --dry-run); grid seeds GRID: add seeds',
  usage: `Usage: swavlab grid FILE [options]
       swavlab grid seeds GRID (--add N | --seeds S,S,...)   add seeds to a grid (see \`swavlab grid seeds --help\`)

FILE is a JSON grid spec: {"name", "base": <experiment spec>, "axes": {"swav.prototypes": [...], ...},
"seeds": [...], "metric": {"name": "knn_top1@20", "goal": "max"}}. Every cell is validated locally first.

Options:
  --dry-run        list the cells (and which already have a run) without submitting anything
${JSON_USAGE}
${SERVER_USAGE}

Exit codes: 0 submitted, 1 failed, 2 invalid file or grid, 3 server unreachable.`,

  async run(args) {
    // A grid file named "seeds" is still reachable as ./seeds.
    if (args[0] === 'seeds') return addSeeds(args.slice(1));
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
