import { ExperimentSpec } from './experiment-spec.js';
import { GridSpec } from './grid-spec.js';
import { type Issue, issuesFromZod, SpecValidationError } from './issues.js';
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

/** A parsed grid, ready to expand cell by cell. */
class Expander {
  readonly grid: GridSpec;
  readonly total: number;
  readonly cells: GridCell[] = [];
  readonly errors: Issue[] = [];
  readonly #paths: string[];
  readonly #axes: unknown[][];
  readonly #seeds: number[];
  readonly #firstWithHash = new Map<string, number>();
  #failingCells = 0;

  constructor(grid: GridSpec) {
    this.grid = grid;
    this.#paths = Object.keys(grid.axes).sort();
    this.#axes = this.#paths.map((path) => grid.axes[path] ?? []);
    this.#seeds = grid.seeds ?? [grid.base.seed];
    this.total = this.#axes.reduce((n, values) => n * values.length, this.#seeds.length);
  }

  /** Validates and hashes cell `index`; returns it, or undefined when it is invalid (recorded in `errors`). */
  expand(index: number): GridCell | undefined {
    const { grid } = this;
    const seeds = this.#seeds;
    const seed = seeds[index % seeds.length] ?? grid.base.seed;
    let rest = Math.floor(index / seeds.length);
    const axisValues: Record<string, unknown> = {};
    const choices: unknown[] = new Array(this.#paths.length);
    for (let a = this.#paths.length - 1; a >= 0; a--) {
      const values = this.#axes[a] ?? [];
      choices[a] = values[rest % values.length];
      rest = Math.floor(rest / values.length);
    }
    let cellInput: Record<string, unknown> = grid.base;
    for (const [a, path] of this.#paths.entries()) {
      axisValues[path] = choices[a];
      cellInput = setAtPath(cellInput, path, choices[a]);
    }
    cellInput = setAtPath(cellInput, 'seed', seed);

    const where = `in cell (${describeCell(axisValues, seed)})`;
    const result = ExperimentSpec.safeParse(cellInput, { reportInput: true });
    if (!result.success) {
      this.#failingCells++;
      const issues = issuesFromZod(result.error, { schema: ExperimentSpec, prefix: ['cells', index] });
      this.errors.push(
        ...issues.map((issue) => ({ path: issue.path, message: `${where}: ${issue.message}` })),
      );
      return undefined;
    }
    const hash = hashValidSpec(result.data);
    const twin = this.#firstWithHash.get(hash);
    if (twin !== undefined) {
      this.#failingCells++;
      this.errors.push({ path: `cells[${index}]`, message: `${where}: is the same spec as cells[${twin}]` });
      return undefined;
    }
    this.#firstWithHash.set(hash, index);
    const cell = { index, axisValues, seed, spec: result.data, hash };
    this.cells.push(cell);
    return cell;
  }

  /** The issues to report, at most MAX_REPORTED_CELL_ISSUES and a summary line. */
  reportedErrors(): Issue[] {
    const shown = this.errors.slice(0, MAX_REPORTED_CELL_ISSUES);
    if (this.errors.length > shown.length) {
      shown.push({
        path: 'cells',
        message: `${this.errors.length - shown.length} more issues not listed; ${this.#failingCells} of ${this.total} cells are invalid`,
      });
    }
    return shown;
  }

  result(): ExpandGridResult {
    return this.errors.length > 0
      ? { ok: false, errors: this.reportedErrors() }
      : { ok: true, grid: this.grid, cells: this.cells };
  }
}

function parseGrid(input: unknown): { ok: true; expander: Expander } | { ok: false; errors: Issue[] } {
  const parsed = GridSpec.safeParse(input, { reportInput: true });
  if (!parsed.success) return { ok: false, errors: issuesFromZod(parsed.error, { schema: GridSpec }) };
  return { ok: true, expander: new Expander(parsed.data) };
}

/** Waits for the event loop's next turn when the current slice has lasted `sliceMs`. */
class Slicer {
  #start = performance.now();
  constructor(private readonly sliceMs: number) {}

  async pause(): Promise<void> {
    if (performance.now() - this.#start < this.sliceMs) return;
    await new Promise((resume) => setImmediate(resume));
    this.#start = performance.now();
  }
}

/**
 * Expands a grid into validated, hashed specs: the cartesian product of the axes times the seeds. Axes are
 * taken in sorted path order so that the cell order does not depend on the key order of the request. Every
 * cell is validated (and cells with identical specs rejected) before anything is returned.
 */
export function expandGrid(input: unknown): ExpandGridResult {
  const parsed = parseGrid(input);
  if (!parsed.ok) return parsed;
  for (let index = 0; index < parsed.expander.total; index++) parsed.expander.expand(index);
  return parsed.expander.result();
}

/**
 * expandGrid for a server: the same result, computed in slices of about `sliceMs` between which the event loop
 * runs (validating 10,000 cells takes about a second, which would otherwise stall every other request).
 */
export async function expandGridInSlices(input: unknown, sliceMs = 10): Promise<ExpandGridResult> {
  const parsed = parseGrid(input);
  if (!parsed.ok) return parsed;
  const slicer = new Slicer(sliceMs);
  for (let index = 0; index < parsed.expander.total; index++) {
    parsed.expander.expand(index);
    await slicer.pause();
  }
  return parsed.expander.result();
}

/** A grid expanded chunk by chunk, so that a caller can store the first cells while later ones are validated. */
export interface GridExpansion {
  grid: GridSpec;
  /** How many cells the grid has. */
  total: number;
  /**
   * Every cell, in order, in chunks of `chunkSize`, computed in slices of about `sliceMs`; throws a
   * SpecValidationError naming the cells after the last chunk when any cell is invalid (so a caller that stored
   * chunks must roll them back).
   */
  chunks(chunkSize?: number, sliceMs?: number): AsyncGenerator<GridCell[], void>;
}

/** Parses the grid (its own fields: axes, seeds, base); its cells are validated as `chunks` produces them. */
export function startGridExpansion(
  input: unknown,
): { ok: true; expansion: GridExpansion } | { ok: false; errors: Issue[] } {
  const parsed = parseGrid(input);
  if (!parsed.ok) return parsed;
  const { expander } = parsed;
  async function* chunks(chunkSize = 1000, sliceMs = 10): AsyncGenerator<GridCell[], void> {
    const slicer = new Slicer(sliceMs);
    let chunk: GridCell[] = [];
    for (let index = 0; index < expander.total; index++) {
      const cell = expander.expand(index);
      if (cell !== undefined && expander.errors.length === 0) chunk.push(cell);
      if (chunk.length >= chunkSize) {
        yield chunk;
        chunk = [];
      }
      await slicer.pause();
    }
    if (expander.errors.length > 0) throw new SpecValidationError(expander.reportedErrors());
    if (chunk.length > 0) yield chunk;
  }
  return { ok: true, expansion: { grid: expander.grid, total: expander.total, chunks } };
}
