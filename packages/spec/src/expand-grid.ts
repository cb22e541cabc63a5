import { ExperimentSpec } from './experiment-spec.js';
import { GridSpec } from './grid-spec.js';
import { type Issue, issuesFromZod } from './issues.js';
import { setAtPath } from './paths.js';
import { hashValidSpec } from './spec-hash.js';

export interface GridCell {
  /** Position in the expansion order (axes sorted by path, first axis slowest, seeds fastest). */
  index: number;
  axisValues: Record<string, unknown>;
  seed: number;
  spec: ExperimentSpec;
  hash: string;
}

export type ExpandGridResult =
  | { ok: true; grid: GridSpec; cells: GridCell[] }
  | { ok: false; errors: Issue[] };

// A grid where every cell fails would otherwise bury the first, most useful errors under thousands of copies.
const MAX_REPORTED_CELL_ISSUES = 50;

function describeCell(axisValues: Record<string, unknown>, seed: number): string {
  const parts = Object.entries(axisValues).map(([path, value]) => {
    const shown = JSON.stringify(value);
    return `${path}=${shown.length > 40 ? `${shown.slice(0, 37)}...` : shown}`;
  });
  return [...parts, `seed=${seed}`].join(', ');
}

/**
 * Expands a grid into validated, hashed specs: the cartesian product of the axes times the seeds. Axes are
 * taken in sorted path order so that the cell order does not depend on the key order of the request. Every
 * cell is validated (and cells with identical specs rejected) before anything is returned.
 */
export function expandGrid(input: unknown): ExpandGridResult {
  const parsed = GridSpec.safeParse(input, { reportInput: true });
  if (!parsed.success) return { ok: false, errors: issuesFromZod(parsed.error, { schema: GridSpec }) };
  const grid = parsed.data;
  const paths = Object.keys(grid.axes).sort();
  const axes = paths.map((path) => grid.axes[path] ?? []);
  const seeds = grid.seeds ?? [grid.base.seed];
  const total = axes.reduce((n, values) => n * values.length, seeds.length);

  const cells: GridCell[] = [];
  const errors: Issue[] = [];
  const firstWithHash = new Map<string, number>();
  let failingCells = 0;
  for (let index = 0; index < total; index++) {
    const seed = seeds[index % seeds.length] ?? grid.base.seed;
    let rest = Math.floor(index / seeds.length);
    const axisValues: Record<string, unknown> = {};
    const choices: unknown[] = new Array(paths.length);
    for (let a = paths.length - 1; a >= 0; a--) {
      const values = axes[a] ?? [];
      choices[a] = values[rest % values.length];
      rest = Math.floor(rest / values.length);
    }
    let cellInput: Record<string, unknown> = grid.base;
    for (const [a, path] of paths.entries()) {
      axisValues[path] = choices[a];
      cellInput = setAtPath(cellInput, path, choices[a]);
    }
    cellInput = setAtPath(cellInput, 'seed', seed);

    const where = `in cell (${describeCell(axisValues, seed)})`;
    const result = ExperimentSpec.safeParse(cellInput, { reportInput: true });
    if (!result.success) {
      failingCells++;
      const issues = issuesFromZod(result.error, { schema: ExperimentSpec, prefix: ['cells', index] });
      errors.push(...issues.map((issue) => ({ path: issue.path, message: `${where}: ${issue.message}` })));
      continue;
    }
    const hash = hashValidSpec(result.data);
    const twin = firstWithHash.get(hash);
    if (twin !== undefined) {
      failingCells++;
      errors.push({ path: `cells[${index}]`, message: `${where}: is the same spec as cells[${twin}]` });
      continue;
    }
    firstWithHash.set(hash, index);
    cells.push({ index, axisValues, seed, spec: result.data, hash });
  }

  if (errors.length > 0) {
    const shown = errors.slice(0, MAX_REPORTED_CELL_ISSUES);
    if (errors.length > shown.length) {
      shown.push({
        path: 'cells',
        message: `${errors.length - shown.length} more issues not listed; ${failingCells} of ${total} cells are invalid`,
      });
    }
    return { ok: false, errors: shown };
  }
  return { ok: true, grid, cells };
}
