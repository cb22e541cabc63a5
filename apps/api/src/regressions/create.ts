// Creating a regression: the suite's cells become fresh candidate runs (a spec hash of their own per
// regression, so they never reuse earlier runs) compared against the baseline version that is latest now.
import { createHash } from 'node:crypto';
import type { JsonObject, RegressionRun } from '@swavlab/db';
import { DEFAULT_PRIORITY } from '@swavlab/queue';
import { canonicalJson, expandSuite, type GridCell, type RegressionRequest } from '@swavlab/spec';
import type { AppContext } from '../context.js';
import { requireDataPath } from '../data-roots.js';
import { validationProblem } from '../problem.js';
import { enqueueAll } from '../routes/runs.js';
import { missingBaselineMessage } from './settle.js';

/** The spec hash stored for a candidate: sha256 of the cell's spec hash and the regression id. */
export function candidateHash(specHash: string, regressionId: string): string {
  return createHash('sha256').update(`${specHash}${regressionId}`).digest('hex');
}

function describeCell(cell: GridCell): string {
  const parts = Object.entries(cell.axisValues).map(([path, value]) => `${path}=${canonicalJson(value)}`);
  return [...parts, `seed=${cell.seed}`].join(' ');
}

async function checkDataPaths(ctx: AppContext, cells: readonly GridCell[], axisPaths: unknown[] | undefined) {
  const checked = new Set<string>();
  for (const cell of cells) {
    const path = cell.spec.data.path;
    if (cell.spec.data.source !== 'folder' || path === undefined || checked.has(path)) continue;
    checked.add(path);
    const where = axisPaths ? `suite.axes["data.path"][${axisPaths.indexOf(path)}]` : 'suite.spec.data.path';
    await requireDataPath(cell.spec.data, ctx.config.dataRoots, where);
  }
}

/**
 * Validates the suite completely, then stores the regression with its candidate runs and queues them. Without
 * a baseline to compare against (and no promote_if_missing) nothing runs: the verdict is an error at once.
 */
export async function createRegression(ctx: AppContext, request: RegressionRequest): Promise<RegressionRun> {
  const expansion = expandSuite(request.suite);
  if (!expansion.ok) {
    throw validationProblem(
      expansion.errors.map((issue) => ({ ...issue, path: `suite.${issue.path}` })),
      'request body',
    );
  }
  const { suite, cells } = expansion;
  await checkDataPaths(ctx, cells, suite.axes['data.path']);
  const baseline = await ctx.db.baselines.getBaseline(suite.name, request.baseline);
  const runnable = baseline !== null || request.promote_if_missing;
  const { regression, runs } = await ctx.db.regressions.createRegressionRun({
    suiteName: suite.name,
    suite: suite as unknown as JsonObject,
    baselineName: request.baseline,
    baselineVersion: baseline?.version ?? null,
    promoteIfMissing: request.promote_if_missing,
    commit: request.commit ?? null,
    branch: request.branch ?? null,
    ciUrl: request.ci_url ?? null,
    candidateHash,
    candidates: runnable
      ? cells.map((cell) => {
          const { name: _name, tags, ...spec } = cell.spec;
          return {
            spec: spec as unknown as JsonObject,
            specHash: cell.hash,
            seed: cell.seed,
            axisValues: cell.axisValues as JsonObject,
            name: `regression ${suite.name} [${describeCell(cell)}]`.slice(0, 500),
            tags: [...new Set([...tags, 'regression'])],
            priority: DEFAULT_PRIORITY,
          };
        })
      : [],
  });
  if (!runnable) {
    const message = missingBaselineMessage(request.baseline, suite.name);
    const stored = await ctx.db.regressions.storeVerdict(regression.id, {
      verdict: 'error',
      report: { message, metrics: [] },
    });
    return stored ?? regression;
  }
  await enqueueAll(
    ctx,
    runs.map(({ run }) => run),
  );
  return regression;
}
