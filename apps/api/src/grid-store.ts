// Storing a grid's cells as they are validated, for a new grid and for seeds added to one alike: each chunk of the
// expansion is checked (data folders inside the roots, ranks some worker can hold), its spec warnings tallied and
// its runs written by the caller's repository call (one transaction), then the new runs are queued.
import type { CreatedGrid, GridCellInput } from '@swavlab/db';
import { type GridCell, type GridExpansion, type GridSpec, SpecValidationError } from '@swavlab/spec';
import { requireCapacity } from './capacity.js';
import { cellRunInput, checkCellDataPaths } from './cell-runs.js';
import type { AppContext } from './context.js';
import { validationProblem } from './problem.js';
import { readAhead } from './read-ahead.js';
import { enqueueBulk } from './routes/runs.js';
import { WarningTally } from './warning-tally.js';

/** What must hold of cells before they are stored: data folders inside the roots, ranks some worker can hold. */
export async function checkCells(ctx: AppContext, grid: GridSpec, cells: readonly GridCell[]): Promise<void> {
  await checkCellDataPaths(ctx, cells, { axesPath: 'axes', axes: grid.axes, base: 'base' });
  await requireCapacity(
    ctx,
    cells.map((cell) => ({ spec: cell.spec, prefix: `cells[${cell.index}].` })),
  );
}

/**
 * Writes the cells of `expansion` through `store` (createGrid or addGridCells, handed the runs chunk by chunk as
 * they are validated; a late invalid cell rolls the transaction back) and queues the runs it created. `label`
 * names the runs (`label [axis=value … seed=n]`).
 */
export async function storeGridCells(
  ctx: AppContext,
  expansion: GridExpansion,
  label: string,
  store: (cells: AsyncIterable<GridCellInput[]>) => Promise<CreatedGrid>,
): Promise<{ created: CreatedGrid; warnings: WarningTally }> {
  const { grid } = expansion;
  const warnings = new WarningTally();
  async function* cellRuns() {
    for await (const cells of readAhead(expansion.chunks())) {
      await checkCells(ctx, grid, cells);
      warnings.add(cells);
      yield cells.map((cell) => cellRunInput(cell, label, grid.tags));
    }
  }
  const created = await store(cellRuns()).catch((error: unknown) => {
    throw error instanceof SpecValidationError ? validationProblem(error.issues, 'grid') : error;
  });
  await enqueueBulk(ctx, created.runs);
  return { created, warnings };
}
