// Grids: an ablation grid, its cells and their runs, created together in one transaction. A cell whose spec
// already has a run (of another grid, say) is that run: grids share runs, their cells say which.
import type { PrismaClient, Queryable } from '../client.js';
import { GridChangedError, InvalidInputError } from '../errors.js';
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
import { requireInt, requireJsonObject, requireOneOf, requireString } from '../validate.js';
import { type BulkRunResult, insertOrReuseRuns, resetToQueued } from './runs.js';

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
  /** How many cells the grid has (what `cells` must deliver). */
  cellCount: number;
  /** In expansion order, whole or in chunks; a cell's position is its cell index. */
  cells: Iterable<readonly GridCellInput[]> | AsyncIterable<readonly GridCellInput[]>;
}

export interface CreatedGrid {
  grid: Grid;
  /** One per cell, in cell order; `created` as in createRun (false: an identical run already exists). */
  runs: BulkRunResult[];
}

export interface AddGridCellsInput {
  gridId: string;
  /** The grid's cell count its caller expanded against: the new cells are numbered from here. */
  expectedCellCount: number;
  /** The grid spec with the new cells in it (its seeds list grown). */
  spec: JsonObject;
  /** How many cells `cells` delivers. */
  addedCells: number;
  /** In expansion order, whole or in chunks; the i-th becomes cell expectedCellCount + i. */
  cells: Iterable<readonly GridCellInput[]> | AsyncIterable<readonly GridCellInput[]>;
}

export type GridStatusCounts = Record<RunStatus, number> & { total: number };

/** A grid with the run counts per status (the grids listing). */
export interface GridWithCounts {
  grid: Grid;
  counts: GridStatusCounts;
}

/** A metric some runs of a grid reported, and how many runs did. */
export interface ReportedMetric {
  name: string;
  source: 'training' | 'evaluation';
  runs: number;
}

function emptyCounts(): GridStatusCounts {
  return { ...(Object.fromEntries(RUN_STATUSES.map((s) => [s, 0])) as Record<RunStatus, number>), total: 0 };
}

// A 10,000-cell grid is a few multi-row statements (about a second on PostgreSQL); Prisma's 5 s default would
// still be tight on a loaded machine or the embedded database.
const GRID_TRANSACTION = { timeout: 60_000, maxWait: 10_000 };

/**
 * Writes cells `firstIndex`, `firstIndex + 1`, … of a grid as they arrive (chunks of an iterable) with their runs:
 * new runs for new specs, the existing run otherwise (every cell is recorded, also those whose run another grid
 * created first). Runs inside the caller's transaction.
 */
async function insertCells(
  tx: Queryable,
  gridId: string,
  firstIndex: number,
  cells: Iterable<readonly GridCellInput[]> | AsyncIterable<readonly GridCellInput[]>,
): Promise<BulkRunResult[]> {
  const runs: BulkRunResult[] = [];
  for await (const chunk of cells) {
    const first = firstIndex + runs.length;
    const chunkRuns = await insertOrReuseRuns(
      tx,
      chunk.map((cell, i) => ({ ...cell, gridId, cellIndex: first + i })),
      'cells',
      runs.length,
    );
    runs.push(...chunkRuns);
    const rows = chunk.map((cell, i) => ({
      cell_index: first + i,
      run_id: (chunkRuns[i] as BulkRunResult).run.id,
      axis_values: requireJsonObject(cell.axisValues, `cells[${first - firstIndex + i}].axisValues`),
      seed: cell.seed,
    }));
    await tx.$executeRaw`
      INSERT INTO grid_cells (grid_id, cell_index, run_id, axis_values, seed)
      SELECT ${gridId}, c.cell_index, c.run_id, c.axis_values, c.seed
      FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
        AS c(cell_index int, run_id text, axis_values jsonb, seed int)`;
  }
  return runs;
}

export class GridsRepository {
  constructor(private readonly prisma: PrismaClient) {}

  /**
   * Creates the grid and the runs of all its cells atomically: either all rows are written or none. `cells` may
   * arrive in chunks (an async iterable, e.g. as a grid's expansion validates them), written as they come inside
   * the one transaction; an error thrown by the iterable rolls everything back.
   */
  async createGrid(input: CreateGridInput): Promise<CreatedGrid> {
    const name = requireString(input.name, 'name', 500);
    const spec = requireJsonObject(input.spec, 'spec');
    const metricName = requireString(input.metricName, 'metricName', 200);
    const metricGoal = requireOneOf(input.metricGoal, METRIC_GOALS, 'metricGoal');
    const cellCount = requireInt(input.cellCount, 'cellCount', 1, 1_000_000);
    return this.prisma.$transaction(async (tx) => {
      const grid = await tx.grid.create({ data: { name, spec, metricName, metricGoal, cellCount } });
      const runs = await insertCells(tx, grid.id, 0, input.cells);
      if (runs.length !== cellCount) {
        throw new InvalidInputError('cells', `expected ${cellCount} cells, got ${runs.length}`);
      }
      return { grid: toGrid(grid), runs };
    }, GRID_TRANSACTION);
  }

  /**
   * Appends cells to an existing grid (seeds added later) with their runs, and stores its grown spec and cell
   * count, atomically. GridChangedError when the grid's cell count is no longer `expectedCellCount` (another
   * request added cells first): the caller expanded against a stale grid and should start again.
   */
  async addGridCells(input: AddGridCellsInput): Promise<CreatedGrid> {
    const gridId = requireString(input.gridId, 'gridId', 200);
    const spec = requireJsonObject(input.spec, 'spec');
    const expected = requireInt(input.expectedCellCount, 'expectedCellCount', 1, 1_000_000);
    const added = requireInt(input.addedCells, 'addedCells', 1, 1_000_000);
    return this.prisma.$transaction(async (tx) => {
      // The guarded update locks the grid row: a concurrent addition waits, then finds the count changed.
      const updated = await tx.grid.updateManyAndReturn({
        where: { id: gridId, cellCount: expected },
        data: { spec, cellCount: expected + added },
      });
      const grid = updated[0];
      if (grid === undefined) throw new GridChangedError(gridId);
      const runs = await insertCells(tx, gridId, expected, input.cells);
      if (runs.length !== added) {
        throw new InvalidInputError('cells', `expected ${added} cells, got ${runs.length}`);
      }
      return { grid: toGrid(grid), runs };
    }, GRID_TRANSACTION);
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

  /** Every grid, newest first, with its run counts per status (one grouped query for all grids). */
  async listGridsWithCounts(): Promise<GridWithCounts[]> {
    const [grids, rows] = await Promise.all([
      this.prisma.grid.findMany({ orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] }),
      this.prisma.$queryRaw<{ grid_id: string; status: RunStatus; runs: number }[]>`
        SELECT gc.grid_id, r.status::text AS status, count(DISTINCT r.id)::int AS runs
        FROM grid_cells gc JOIN runs r ON r.id = gc.run_id
        GROUP BY gc.grid_id, r.status`,
    ]);
    const counts = new Map<string, GridStatusCounts>();
    for (const row of rows) {
      const entry = counts.get(row.grid_id) ?? emptyCounts();
      entry[row.status] = row.runs;
      entry.total += row.runs;
      counts.set(row.grid_id, entry);
    }
    return grids.map((row) => ({ grid: toGrid(row), counts: counts.get(row.id) ?? emptyCounts() }));
  }

  /**
   * The metrics the grid's runs reported: training metrics (names found by a loose index scan per run, one
   * primary-key probe per name, not a scan of every point) and evaluations, with how many runs reported each.
   */
  async reportedMetrics(id: string): Promise<ReportedMetric[]> {
    const rows = await this.prisma.$queryRaw<ReportedMetric[]>`
      WITH grid_runs AS (SELECT DISTINCT run_id AS id FROM grid_cells WHERE grid_id = ${id})
      SELECT names.name, 'training' AS source, count(*)::int AS runs
      FROM grid_runs r CROSS JOIN LATERAL (
        WITH RECURSIVE names(name) AS (
          SELECT min(m.name) FROM metric_points m WHERE m.run_id = r.id
          UNION ALL
          SELECT (SELECT min(m.name) FROM metric_points m WHERE m.run_id = r.id AND m.name > names.name)
          FROM names WHERE names.name IS NOT NULL
        )
        SELECT name FROM names WHERE name IS NOT NULL
      ) AS names
      GROUP BY names.name
      UNION ALL
      SELECT e.name, 'evaluation' AS source, count(DISTINCT e.run_id)::int AS runs
      FROM evaluations e JOIN grid_runs r ON r.id = e.run_id
      GROUP BY e.name
      ORDER BY name`;
    return rows;
  }
}
