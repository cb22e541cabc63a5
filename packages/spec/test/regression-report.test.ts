import {
  BaselineRequest,
  BaselineView,
  issuesFromZod,
  RegressionRequest,
  RegressionView,
  SuiteHistory,
} from '@swavlab/spec';
import { describe, expect, it } from 'vitest';

const suite = {
  name: 'tiny',
  spec: { model: { arch: 'tiny' } },
  seeds: [1, 2, 3],
  metrics: [{ name: 'loss', direction: 'min', tolerance: { kind: 'relative', value: 0.05 } }],
};

function issuesOf(schema: typeof RegressionRequest | typeof BaselineRequest, input: unknown) {
  const result = schema.safeParse(input, { reportInput: true });
  if (result.success) throw new Error('expected a rejection');
  return issuesFromZod(result.error, { schema });
}

const row = {
  name: 'knn_top1@20',
  cell: { 'swav.prototypes': 30 },
  direction: 'max',
  tolerance: { kind: 'absolute', value: 0.02 },
  baseline: { mean: 0.5, std: 0.01, n: 3, values: [0.49, 0.5, 0.51] },
  candidate: { mean: 0.4, std: 0.01, n: 3, values: [0.39, 0.4, 0.41] },
  delta: -0.1,
  threshold: 0.02,
  p_value: 0.0001,
  verdict: 'regression',
  reason: 'worse by 0.1 > 0.02',
};

const view = {
  id: '01JD',
  suite_name: 'tiny',
  baseline: { name: 'main', version: 2 },
  commit: 'abc',
  branch: null,
  ci_url: null,
  created_at: '2026-11-29T16:00:00.000Z',
  finished_at: '2026-11-29T16:05:00.000Z',
  status: 'finished',
  verdict: 'regression',
  progress: { total: 3, succeeded: 3, failed: 0, running: 0, queued: 0 },
  candidate_run_ids: ['a', 'b', 'c'],
  report: { message: '1 of 1 metric rows regressed', metrics: [row] },
};

describe('RegressionRequest', () => {
  it('applies the suite defaults and promote_if_missing = false', () => {
    const request = RegressionRequest.parse({ suite, baseline: 'main', commit: 'abc123' });
    expect(request.promote_if_missing).toBe(false);
    expect(request.suite.axes).toEqual({});
    expect(request.commit).toBe('abc123');
  });

  it('names nested suite fields and request fields in its errors', () => {
    const issues = issuesOf(RegressionRequest, {
      suite: { ...suite, metrics: [{ ...suite.metrics[0], tolerance: { kind: 'relative', value: 'x' } }] },
      baseline: 'main branch',
      ci_url: 'ftp://ci.example/1',
    });
    expect(issues.map((i) => i.path)).toEqual(['suite.metrics[0].tolerance.value', 'baseline', 'ci_url']);
    expect(issuesOf(RegressionRequest, { suite })).toEqual([{ path: 'baseline', message: 'is required' }]);
  });
});

describe('response views', () => {
  it('parse a finished regression, and reject a row with an unknown verdict', () => {
    expect(RegressionView.parse(view)).toEqual(view);
    const bad = { ...view, report: { ...view.report, metrics: [{ ...row, verdict: 'fail' }] } };
    expect(RegressionView.safeParse(bad).success).toBe(false);
  });

  it('parse a running regression without report or verdict', () => {
    const running = {
      ...view,
      status: 'running',
      verdict: null,
      report: null,
      finished_at: null,
      baseline: null,
    };
    expect(RegressionView.parse(running).report).toBeNull();
  });

  it('parse history points and baselines', () => {
    const history = {
      suite_name: 'tiny',
      metric: 'loss',
      points: [
        {
          regression_id: 'r1',
          commit: null,
          branch: 'main',
          created_at: view.created_at,
          verdict: 'pass',
          cell: {},
          mean: 1.5,
          std: null,
          n: 1,
        },
      ],
    };
    expect(SuiteHistory.parse(history)).toEqual(history);
    const baseline = {
      name: 'main',
      version: 1,
      suite_name: 'tiny',
      run_ids: ['a'],
      metrics: [{ name: 'loss', cell: {}, values: [1.5], run_ids: ['a'] }],
      created_at: view.created_at,
    };
    expect(BaselineView.parse(baseline)).toEqual(baseline);
    expect(issuesOf(BaselineRequest, { name: 'v1.2' })).toEqual([
      { path: 'regression_id', message: 'is required' },
    ]);
  });
});
