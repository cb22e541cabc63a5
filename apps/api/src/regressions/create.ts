// Creating a regression: the suite's cells become fresh candidate runs (a spec hash of their own per
// regression, so they never reuse earlier runs) compared against the baseline version that is latest now.
import { createHash } from 'node:crypto';
import type { JsonObject, RegressionRun } from '@swavlab/db';
import { expandSuite, type RegressionRequest } from '@swavlab/spec';
import { cellRunInput, checkCellDataPaths } from '../cell-runs.js';
import type { AppContext } from '../context.js';
import { validationProblem } from '../problem.js';
import { enqueueBulk } from '../routes/runs.js';
import { missingBaselineMessage } from './settle.js';

/** The spec hash stored for a candidate: sha256 of the cell's spec hash and the regression id. */
export function candidateHash(specHash: string, regressionId: string): string {
  return createHash('sha256').update(`${specHash}${regressionId}`).digest('hex');
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
  await checkCellDataPaths(ctx, cells, { axesPath: 'suite.axes', axes: suite.axes, base: 'suite.spec' });
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
      ? cells.map((cell) => cellRunInput(cell, `regression ${suite.name}`, ['regression']))
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
  await enqueueBulk(ctx, runs);
  return regression;
}
