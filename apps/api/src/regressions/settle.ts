// Settling a regression: once every candidate run is terminal, compare its values with the baseline and store
// the verdict exactly once (the repository's UPDATE … WHERE verdict IS NULL decides between racing requests).
import { BaselineExistsError, type JsonObject, type RegressionRun } from '@swavlab/db';
import {
  type MetricComparison,
  type RegressionReport,
  RegressionSuite,
  type RegressionVerdict,
} from '@swavlab/spec';
import type { AppContext } from '../context.js';
import { baselineLookup, baselineMetricsOf } from './baseline-metrics.js';
import {
  allTerminal,
  type CandidateRun,
  candidateValues,
  groupByCell,
  loadCandidates,
} from './candidates.js';
import { compareMetric, overallVerdict, reportMessage } from './verdict.js';

export function missingBaselineMessage(baselineName: string, suiteName: string): string {
  return `no baseline ${baselineName} for suite ${suiteName}; create one with --promote`;
}

interface Judged {
  verdict: RegressionVerdict;
  report: RegressionReport;
  baselineVersion?: number;
  promote?: { runIds: string[]; metrics: JsonObject };
}

async function judge(ctx: AppContext, regression: RegressionRun, runs: CandidateRun[]): Promise<Judged> {
  const suite = RegressionSuite.parse(regression.suite);
  const { baselineName, suiteName } = regression;
  const promoting = regression.baselineVersion === null && regression.promoteIfMissing;
  if (regression.baselineVersion === null && !promoting) {
    return {
      verdict: 'error',
      report: { message: missingBaselineMessage(baselineName, suiteName), metrics: [] },
    };
  }
  const baseline =
    regression.baselineVersion === null
      ? null
      : await ctx.db.baselines.getBaseline(suiteName, baselineName, regression.baselineVersion);
  const baselineValues = baseline === null ? () => undefined : baselineLookup(baseline);
  const cells = groupByCell(runs);
  const values = await candidateValues(
    ctx,
    runs,
    suite.metrics.map((m) => m.name),
  );
  const rows: MetricComparison[] = suite.metrics.flatMap((metric) =>
    cells.map(({ cell, runs: cellRuns }) => {
      const byRun = values.get(metric.name);
      const problem = cellRuns.find((run) => run.problem !== null)?.problem ?? undefined;
      return compareMetric({
        metric,
        cell,
        candidate: cellRuns.flatMap((run) => (byRun?.has(run.id) ? [byRun.get(run.id) as number] : [])),
        baseline: baselineValues(metric.name, cell) ?? [],
        ...(problem === undefined ? {} : { candidateError: problem }),
        ...(promoting ? { promoting } : {}),
        ...(baseline === null && !promoting
          ? { baselineError: `baseline ${baselineName}@${regression.baselineVersion} no longer exists` }
          : {}),
      });
    }),
  );
  const verdict = overallVerdict(rows.map((row) => row.verdict));
  if (!promoting) return { verdict, report: { message: reportMessage(rows), metrics: rows } };
  if (verdict !== 'pass') {
    const message = `${reportMessage(rows)}; no baseline ${baselineName} for suite ${suiteName} was created`;
    return { verdict, report: { message, metrics: rows } };
  }
  return {
    verdict,
    report: {
      message: `pass: no baseline ${baselineName} for suite ${suiteName} existed; the candidate runs became its version 1`,
      metrics: rows,
    },
    baselineVersion: 1,
    promote: { runIds: runs.map((run) => run.id), metrics: baselineMetricsOf(cells, values) },
  };
}

export interface SettledRegression {
  regression: RegressionRun;
  runs: CandidateRun[];
}

/**
 * The regression with its candidates, its verdict stored first if every candidate is terminal and none is
 * stored yet. Idempotent and safe to call from concurrent requests: one verdict is stored, all callers see it.
 */
export async function settleRegression(
  ctx: AppContext,
  regression: RegressionRun,
): Promise<SettledRegression> {
  const runs = await loadCandidates(ctx, regression.candidateRunIds);
  if (regression.verdict !== null || !allTerminal(runs)) return { regression, runs };
  const judged = await judge(ctx, regression, runs);
  const store = (input: Judged) =>
    ctx.db.regressions.storeVerdict(regression.id, {
      verdict: input.verdict,
      report: input.report as unknown as JsonObject,
      ...(input.baselineVersion === undefined ? {} : { baselineVersion: input.baselineVersion }),
      ...(input.promote === undefined ? {} : { promote: input.promote }),
    });
  let stored: RegressionRun | null;
  try {
    stored = await store(judged);
  } catch (error) {
    if (!(error instanceof BaselineExistsError)) throw error;
    // Another regression of the suite created the baseline while this one ran: nothing to compare against.
    const message = `baseline ${regression.baselineName} of suite ${regression.suiteName} was created by another regression while this one ran; run it again to compare against it`;
    stored = await store({ verdict: 'error', report: { message, metrics: judged.report.metrics } });
  }
  return { regression: stored ?? regression, runs };
}
