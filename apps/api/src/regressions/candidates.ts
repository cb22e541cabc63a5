// A regression's candidate runs as the verdict needs them: status, cell, why a run did not succeed, and the
// final values of the suite's metrics (through @swavlab/db's runsFinalValues, the one definition of a final value).
import { type Run, type RunStatus, runsFinalValues, TERMINAL_STATUSES } from '@swavlab/db';
import { cellKey, type RegressionProgress, type SuiteCell } from '@swavlab/spec';
import type { AppContext } from '../context.js';

export interface CandidateRun {
  id: string;
  /** null: the run no longer exists. */
  status: RunStatus | null;
  seed: number | null;
  cell: SuiteCell;
  /** Why the run cannot be judged (failed, canceled, deleted); null for a succeeded or unfinished run. */
  problem: string | null;
}

function problemOf(id: string, row: Run | undefined): string | null {
  if (row === undefined) return `candidate run ${id} no longer exists`;
  const which = `candidate run ${id} (seed ${row.seed})`;
  if (row.status === 'canceled') return `${which} was canceled`;
  if (row.status === 'failed') {
    const cause = [row.error?.kind, row.error?.message].filter((part) => part).join(': ');
    return `${which} failed${cause ? ` (${cause.slice(0, 300)})` : ''}`;
  }
  return null;
}

/** The candidate runs in the regression's order (cell by cell, seeds fastest). */
export async function loadCandidates(ctx: AppContext, runIds: readonly string[]): Promise<CandidateRun[]> {
  if (runIds.length === 0) return [];
  const byId = new Map((await ctx.db.runs.getRuns(runIds)).map((run) => [run.id, run]));
  return runIds.map((id) => {
    const row = byId.get(id);
    return {
      id,
      status: row?.status ?? null,
      seed: row?.seed ?? null,
      cell: row?.axisValues ?? {},
      problem: problemOf(id, row),
    };
  });
}

/** Every candidate is terminal (or gone): the verdict can be computed. */
export function allTerminal(runs: readonly CandidateRun[]): boolean {
  return runs.every(
    (run) => run.status === null || (TERMINAL_STATUSES as readonly RunStatus[]).includes(run.status),
  );
}

export function progressOf(runs: readonly CandidateRun[]): RegressionProgress {
  const count = (statuses: readonly (RunStatus | null)[]) =>
    runs.filter((run) => statuses.includes(run.status)).length;
  return {
    total: runs.length,
    succeeded: count(['succeeded']),
    failed: count(['failed', 'canceled', null]),
    running: count(['running', 'stopping']),
    queued: count(['queued']),
  };
}

export interface CellRuns {
  cell: SuiteCell;
  runs: CandidateRun[];
}

/** The runs grouped by cell, cells in order of first appearance. */
export function groupByCell(runs: readonly CandidateRun[]): CellRuns[] {
  const groups = new Map<string, CellRuns>();
  for (const run of runs) {
    const key = cellKey(run.cell);
    const group = groups.get(key) ?? { cell: run.cell, runs: [] };
    group.runs.push(run);
    groups.set(key, group);
  }
  return [...groups.values()];
}

/** Metric name → (run id → final value), for the succeeded runs that report it. */
export async function candidateValues(
  ctx: AppContext,
  runs: readonly CandidateRun[],
  metrics: readonly string[],
): Promise<Map<string, Map<string, number>>> {
  const succeeded = runs.filter((run) => run.status === 'succeeded').map((run) => run.id);
  const values = new Map<string, Map<string, number>>();
  for (const metric of new Set(metrics)) values.set(metric, await runsFinalValues(ctx.db, succeeded, metric));
  return values;
}
