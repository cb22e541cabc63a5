import { createHash, randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Database, type GridCellInput, GridChangedError } from '../src/index.js';
import { testBackends } from './backends.js';

function cell(prototypes: number, seed: number, salt = randomUUID()): GridCellInput {
  const spec = { swav: { prototypes }, seed, salt };
  return {
    spec,
    specHash: createHash('sha256').update(JSON.stringify(spec)).digest('hex'),
    seed,
    axisValues: { 'swav.prototypes': prototypes },
  };
}

function gridOf(cells: GridCellInput[], name = `grid-${randomUUID()}`) {
  return {
    name,
    spec: { axes: { 'swav.prototypes': [300, 3000] } },
    metricName: 'knn_top1@20',
    metricGoal: 'max' as const,
    cellCount: cells.length,
    cells: [cells],
  };
}

describe.each(testBackends())('grids on $kind', (backend) => {
  let db: Database;

  beforeAll(async () => {
    ({ db } = await backend.fresh());
  });

  async function gridsNamed(name: string): Promise<number> {
    const rows = await db.query<{ n: number }>`SELECT count(*)::int AS n FROM grids WHERE name = ${name}`;
    return rows[0]?.n ?? -1;
  }

  it('creates a grid with one run per cell, in cell order', async () => {
    const cells = [cell(300, 1), cell(300, 2), cell(3000, 1), cell(3000, 2)];
    const { grid, runs } = await db.grids.createGrid(gridOf(cells));
    expect(grid).toMatchObject({ cellCount: 4, metricName: 'knn_top1@20', metricGoal: 'max' });
    const stored = await db.runs.getRuns(runs.map((r) => r.run.id));
    expect(
      runs.map((r, i) => [r.created, stored[i]?.gridId, stored[i]?.cellIndex, r.run.specHash, r.run.status]),
    ).toEqual(cells.map((c, i) => [true, grid.id, i, c.specHash, 'queued']));
    expect(stored[2]?.axisValues).toEqual({ 'swav.prototypes': 3000 });
    expect(await db.grids.getGrid(grid.id)).toEqual(grid);
    const listed = await db.runs.listRuns({ gridId: grid.id });
    expect(listed.runs.map((r) => r.id).sort()).toEqual(runs.map((r) => r.run.id).sort());
    expect(await db.grids.getGrid('no-such-grid')).toBeNull();
  });

  it('counts the runs of a grid by status', async () => {
    const { grid, runs } = await db.grids.createGrid(gridOf([cell(1, 1), cell(2, 1), cell(3, 1)]));
    const [a, b] = runs.map((r) => r.run.id);
    const claim = await db.runs.claimRun(a ?? '', { workerHost: 'h', device: 'cpu' });
    await db.runs.finishRun(a ?? '', claim?.token ?? '', {
      status: 'failed',
      error: { kind: 'crashed', message: 'x' },
    });
    await db.runs.claimRun(b ?? '', { workerHost: 'h', device: 'cpu' });
    expect(await db.grids.gridStatusCounts(grid.id)).toEqual({
      queued: 1,
      running: 1,
      stopping: 0,
      succeeded: 0,
      failed: 1,
      canceled: 0,
      total: 3,
    });
    expect(await db.grids.gridStatusCounts('no-such-grid')).toBeNull();

    const requeued = await db.grids.requeueFailedRuns(grid.id);
    expect(requeued.map((r) => [r.id, r.status])).toEqual([[a, 'queued']]);
    expect((await db.grids.gridStatusCounts(grid.id))?.queued).toBe(2);
  });

  it('lists every grid newest first with its counts, and the metrics its runs reported', async () => {
    const older = await db.grids.createGrid(gridOf([cell(7, 1), cell(8, 1)]));
    const newer = await db.grids.createGrid(gridOf([cell(9, 1)]));
    const [a, b] = older.runs.map((r) => r.run.id) as [string, string];
    const claim = await db.runs.claimRun(a, { workerHost: 'h', device: 'cpu' });
    const token = claim?.token ?? '';
    await db.metrics.appendMetrics(a, token, [
      { name: 'loss', step: 1, value: 2 },
      { name: 'lr', step: 1, value: 0.1 },
      { name: 'loss', step: 2, value: 1.5 },
    ]);
    await db.evaluations.addEvaluation(a, token, {
      name: 'knn_top1@20',
      value: 0.4,
      split: 'test',
      epoch: 1,
      step: 2,
    });
    await db.runs.finishRun(a, token, { status: 'succeeded', finalMetrics: {} });
    const claimB = await db.runs.claimRun(b, { workerHost: 'h', device: 'cpu' });
    await db.metrics.appendMetrics(b, claimB?.token ?? '', [{ name: 'loss', step: 1, value: 3 }]);

    const listed = await db.grids.listGridsWithCounts();
    const ids = listed.map((entry) => entry.grid.id);
    expect(ids.indexOf(newer.grid.id)).toBeLessThan(ids.indexOf(older.grid.id));
    const entry = listed.find((e) => e.grid.id === older.grid.id);
    expect(entry?.counts).toMatchObject({ succeeded: 1, running: 1, queued: 0, total: 2 });
    expect(listed.find((e) => e.grid.id === newer.grid.id)?.counts).toMatchObject({ queued: 1, total: 1 });

    expect(await db.grids.reportedMetrics(older.grid.id)).toEqual([
      { name: 'knn_top1@20', source: 'evaluation', runs: 1 },
      { name: 'loss', source: 'training', runs: 2 },
      { name: 'lr', source: 'training', runs: 1 },
    ]);
    expect(await db.grids.reportedMetrics(newer.grid.id)).toEqual([]);
  });

  it('reuses existing runs for identical cells: adopts those of no grid, shares those of another grid', async () => {
    const standalone = cell(500, 1);
    const { run } = await db.runs.createRun(standalone);
    const first = await db.grids.createGrid(gridOf([standalone, cell(500, 2)]));
    expect(first.runs.map((r) => r.created)).toEqual([false, true]);
    expect(first.runs[0]?.run.id).toBe(run.id);
    expect(await db.runs.getRun(run.id)).toMatchObject({ gridId: first.grid.id, cellIndex: 0 });

    // A second grid with an overlapping cell shares that run: it is a cell of both grids, while the run
    // keeps the grid that created it.
    const second = await db.grids.createGrid(gridOf([cell(700, 1), standalone]));
    expect(second.runs.map((r) => r.created)).toEqual([true, false]);
    expect(second.runs[1]?.run.id).toBe(run.id);
    expect((await db.runs.getRun(run.id))?.gridId).toBe(first.grid.id);
    expect((await db.grids.gridStatusCounts(second.grid.id))?.total).toBe(2);
    expect((await db.grids.gridStatusCounts(first.grid.id))?.total).toBe(2);
    const cells = await db.query<{ cell_index: number; run_id: string }>`
      SELECT cell_index, run_id FROM grid_cells WHERE grid_id = ${second.grid.id} ORDER BY cell_index`;
    expect(cells).toEqual([
      { cell_index: 0, run_id: second.runs[0]?.run.id },
      { cell_index: 1, run_id: run.id },
    ]);
    expect((await db.runs.listRuns({ gridId: second.grid.id })).runs.map((r) => r.id)).toContain(run.id);

    // Re-running a grid's failed cells also re-queues a shared run that failed.
    const claim = await db.runs.claimRun(run.id, { workerHost: 'h', device: 'cpu' });
    await db.runs.finishRun(run.id, claim?.token ?? '', {
      status: 'failed',
      error: { kind: 'crashed', message: 'x' },
    });
    expect((await db.grids.requeueFailedRuns(second.grid.id)).map((r) => r.id)).toEqual([run.id]);
  });

  it('writes nothing when a cell is invalid, naming the cell', async () => {
    const name = `bad-${randomUUID()}`;
    const bad = { ...cell(7, 1), seed: 1.5 };
    await expect(db.grids.createGrid(gridOf([cell(7, 2), bad], name))).rejects.toThrow(
      /^cells\[1\]\.seed: expected an integer, got 1\.5/,
    );
    const twin = cell(8, 1);
    await expect(db.grids.createGrid(gridOf([twin, cell(8, 2), twin], name))).rejects.toThrow(
      /^cells\[2\]\.specHash: same spec hash as cells\[0\]/,
    );
    await expect(db.grids.createGrid(gridOf([], name))).rejects.toThrow(/^cellCount: must be between 1 and/);
    expect(await gridsNamed(name)).toBe(0);
  });

  it('takes cells in chunks as they come, and rolls everything back when the source fails half-way', async () => {
    const cells = Array.from({ length: 5 }, (_, i) => cell(20 + i, 1));
    async function* chunks(fail: boolean) {
      yield cells.slice(0, 2);
      yield cells.slice(2, 4);
      if (fail) throw new Error('cell 4 is invalid');
      yield cells.slice(4);
    }
    const name = `chunked-${randomUUID()}`;
    const base = { ...gridOf([], name), cellCount: 5 };
    await expect(db.grids.createGrid({ ...base, cells: chunks(true) })).rejects.toThrow('cell 4 is invalid');
    expect(await gridsNamed(name)).toBe(0);
    expect((await db.runs.getRuns([])).length).toBe(0);
    const { runs } = await db.grids.createGrid({ ...base, cells: chunks(false) });
    expect(runs.map((r) => r.run.specHash)).toEqual(cells.map((c) => c.specHash));
    expect(runs.every((r) => r.created && r.inserted)).toBe(true);
    await expect(db.grids.createGrid({ ...gridOf(cells.slice(0, 2)), cellCount: 3 })).rejects.toThrow(
      /^cells: expected 3 cells, got 2/,
    );
  });

  it('rolls the grid back when the database rejects a cell half-way', async () => {
    const name = `rejected-${randomUUID()}`;
    const poisoned = { ...cell(9, 2), spec: { text: 'NUL \u0000 is not allowed in jsonb' } };
    const ok = cell(9, 1);
    await expect(db.grids.createGrid(gridOf([ok, poisoned], name))).rejects.toThrow(
      /unsupported Unicode escape sequence/,
    );
    expect(await gridsNamed(name)).toBe(0);
    expect((await db.runs.createRun(ok)).created).toBe(true);
  });

  it('appends cells to a grid with their runs, numbered after its last cell, and refuses a stale cell count', async () => {
    const { grid } = await db.grids.createGrid(gridOf([cell(40, 1), cell(41, 1)]));
    const shared = cell(42, 2);
    const { run: existing } = await db.runs.createRun(shared);
    const added = await db.grids.addGridCells({
      gridId: grid.id,
      expectedCellCount: 2,
      spec: { axes: { 'swav.prototypes': [40, 41] }, seeds: [1, 2] },
      addedCells: 2,
      cells: [[cell(40, 2), shared]],
    });
    expect(added.grid).toMatchObject({ id: grid.id, cellCount: 4, spec: { seeds: [1, 2] } });
    expect(added.runs.map((r) => r.created)).toEqual([true, false]);
    expect(added.runs[1]?.run.id).toBe(existing.id);
    const cells = await db.query<{ cell_index: number; seed: number; run_id: string }>`
      SELECT cell_index, seed, run_id FROM grid_cells WHERE grid_id = ${grid.id} ORDER BY cell_index`;
    expect(cells.map((c) => [c.cell_index, c.seed])).toEqual([
      [0, 1],
      [1, 1],
      [2, 2],
      [3, 2],
    ]);
    expect(cells[3]?.run_id).toBe(existing.id);
    expect(await db.runs.getRun(added.runs[0]?.run.id ?? '')).toMatchObject({
      gridId: grid.id,
      cellIndex: 2,
    });
    expect((await db.grids.gridStatusCounts(grid.id))?.total).toBe(4);

    // Expanded against the old count: nothing is written.
    const stale = {
      gridId: grid.id,
      expectedCellCount: 2,
      spec: { seeds: [1, 2, 3] },
      addedCells: 1,
      cells: [[cell(40, 3)]],
    };
    await expect(db.grids.addGridCells(stale)).rejects.toBeInstanceOf(GridChangedError);
    await expect(db.grids.addGridCells({ ...stale, gridId: 'no-such-grid' })).rejects.toThrow(
      /grid no-such-grid changed/,
    );
    await expect(db.grids.addGridCells({ ...stale, expectedCellCount: 4, addedCells: 2 })).rejects.toThrow(
      /^cells: expected 2 cells, got 1/,
    );
    expect((await db.grids.getGrid(grid.id))?.cellCount).toBe(4);
  });
});
