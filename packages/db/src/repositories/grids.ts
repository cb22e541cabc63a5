// Grids: an ablation grid, its cells and their runs, created together in one transaction. A cell whose spec
// already has a run (of another grid, say) is that run: grids share runs, their cells say which.
import type { PrismaClient } from '../client.js';
import { InvalidInputError } from '../errors.js';
import {
  type Grid,
  type JsonObject,
  METRIC_GOALS,
  type MetricGoal,
  RUN_STATUSES,
  type Run,
  type RunStatus,
  toGrid,
  toRun,
} from '../rows.js';
import { requireJsonObject, requireOneOf, requireString } from '../validate.js';
import { type CreateRunResult, insertOrReuseRuns, resetToQueued } from './runs.js';

export interface GridCellInput {
  spec: JsonObject;
  specHash: string;
  seed: number;
  /** The axis values of this cell, keyed by spec path (e.g. {"swav.prototypes": 3000}). */
  axisValues: JsonObject;
  name?: string | null;
  tags?: string[];
  priority?: number;
}

export interface CreateGridInput {
  name: string;
  spec: JsonObject;
  metricName: string;
  metricGoal: MetricGoal;
  /** In expansion order; a cell's position is its cell index. */
  cells: GridCellInput[];
}

export interface CreatedGrid {
  grid: Grid;
  /** One per cell, in cell order; `created` as in createRun (false: an identical run already exists). */
  runs: CreateRunResult[];
}

export type GridStatusCounts = Record<RunStatus, number> & { total: number };

export class GridsRepository {
  constructor(private readonly prisma: PrismaClient) {}

  /** Creates the grid and the runs of all its cells atomically: either all rows are written or none. */
  async createGrid(input: CreateGridInput): Promise<CreatedGrid> {
    const name = requireString(input.name, 'name', 500);
    const spec = requireJsonObject(input.spec, 'spec');
    const metricName = requireString(input.metricName, 'metricName', 200);
    const metricGoal = requireOneOf(input.metricGoal, METRIC_GOALS, 'metricGoal');
    if (!Array.isArray(input.cells) || input.cells.length === 0) {
      throw new InvalidInputError('cells', 'expected at least one cell');
    }
    return this.prisma.$transaction(async (tx) => {
      const grid = await tx.grid.create({
        data: { name, spec, metricName, metricGoal, cellCount: input.cells.length },
      });
      const runs = await insertOrReuseRuns(
        tx,
        input.cells.map((cell, cellIndex) => ({ ...cell, gridId: grid.id, cellIndex })),
        'cells',
      );
      // Every cell is recorded here, also those whose run another grid created first.
      await tx.gridCell.createMany({
        data: input.cells.map((cell, cellIndex) => ({
          gridId: grid.id,
          cellIndex,
          runId: (runs[cellIndex] as CreateRunResult).run.id,
          axisValues: requireJsonObject(cell.axisValues, `cells[${cellIndex}].axisValues`),
          seed: cell.seed,
        })),
      });
      return { grid: toGrid(grid), runs };
    });
  }

  async getGrid(id: string): Promise<Grid | null> {
    const row = await this.prisma.grid.findUnique({ where: { id } });
    return row === null ? null : toGrid(row);
  }

  /** Re-queues the grid's failed and canceled runs (POST /v1/grids/{id}/rerun-failed) and returns them. */
  async requeueFailedRuns(id: string): Promise<Run[]> {
    const rows = await this.prisma.run.updateManyAndReturn({
      where: { gridCells: { some: { gridId: id } }, status: { in: ['failed', 'canceled'] } },
      data: resetToQueued(),
    });
    return rows.map(toRun);
  }

  /** How many of the grid's runs are in each status; null when the grid does not exist. */
  async gridStatusCounts(id: string): Promise<GridStatusCounts | null> {
    const grid = await this.prisma.grid.findUnique({ where: { id }, select: { id: true } });
    if (grid === null) return null;
    const groups = await this.prisma.run.groupBy({
      by: ['status'],
      where: { gridCells: { some: { gridId: id } } },
      _count: { _all: true },
    });
    const counts = Object.fromEntries(RUN_STATUSES.map((s) => [s, 0])) as Record<RunStatus, number>;
    let total = 0;
    for (const group of groups) {
      counts[group.status] = group._count._all;
      total += group._count._all;
    }
    return { ...counts, total };
  }
}
