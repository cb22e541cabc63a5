// CI regression runs: the list (newest first, filtered by suite), and one regression with its verdict, the
// per-metric table (baseline vs candidate, delta, threshold, p) and the suite's trend over commits per metric.
import type { MetricComparison, RegressionList, RegressionView, SuiteHistory } from '@swavlab/spec';
import { getJson, isAbort } from '../api';
import { trendOption, type Verdict } from '../charts/trend';
import { h, replaceChildren } from '../dom';
import { dateTime, keyLabel, meanStd, num, shortId } from '../format';
import { hashOf, type Page, replaceQuery } from '../router';
import type { PageScope } from '../scope';
import { chartBox, facts, note, problemBox, section, table } from '../widgets';

const VERDICT_SYMBOL: Record<Verdict, string> = { pass: '✓', regression: '✗', inconclusive: '?', error: '!' };
const REFRESH_MS = 5000;

export function verdictBadge(verdict: Verdict | null): HTMLElement {
  const text = verdict === null ? '… running' : `${VERDICT_SYMBOL[verdict]} ${verdict}`;
  return h(
    'span',
    { class: `verdict verdict-${verdict ?? 'running'}`, data: { verdict: verdict ?? 'running' } },
    text,
  );
}

function shortCommit(commit: string | null): string | null {
  return commit === null ? null : /^[0-9a-f]{12,}$/i.test(commit) ? commit.slice(0, 8) : commit;
}

function progressText(view: RegressionView): string {
  const p = view.progress;
  return `${p.succeeded + p.failed}/${p.total} runs done (${p.succeeded} succeeded, ${p.failed} failed, ${p.running} running, ${p.queued} queued)`;
}

function tolerance(row: MetricComparison): string {
  const t = row.tolerance;
  if (t.kind === 'statistical') return `statistical α=${t.alpha}, min effect ${t.min_effect}`;
  return `${t.kind} ${t.value}`;
}

function metricTable(rows: readonly MetricComparison[]): HTMLElement {
  return table(
    [
      'metric',
      'cell',
      'direction',
      'tolerance',
      'baseline mean ± std (n)',
      'candidate mean ± std (n)',
      'delta',
      'threshold',
      'p',
      'verdict',
      'reason',
    ],
    rows.map((row) => [
      row.name,
      Object.keys(row.cell).length === 0 ? '–' : keyLabel(row.cell),
      row.direction === 'max' ? 'higher is better' : 'lower is better',
      tolerance(row),
      `${meanStd(row.baseline.mean, row.baseline.std)} (${row.baseline.n})`,
      `${meanStd(row.candidate.mean, row.candidate.std)} (${row.candidate.n})`,
      num(row.delta),
      num(row.threshold),
      num(row.p_value, 3),
      verdictBadge(row.verdict),
      row.reason,
    ]),
    'per-metric verdicts',
  );
}

async function trendSection(
  scope: PageScope,
  suite: string,
  metric: string,
): Promise<{ element: HTMLElement; draw: () => void }> {
  const history = await getJson<SuiteHistory>(
    `/v1/suites/${encodeURIComponent(suite)}/history`,
    { metric },
    scope.signal,
  );
  const host = chartBox(true);
  const regressionIds = [...new Set(history.points.map((p) => p.regression_id))];
  const labels = regressionIds.map((id) => {
    const point = history.points.find((p) => p.regression_id === id);
    return shortCommit(point?.commit ?? null) ?? dateTime(point?.created_at).slice(5, 16);
  });
  const cells = new Map<
    string,
    { name: string; points: { x: number; mean: number; std: number | null; verdict: Verdict }[] }
  >();
  for (const point of history.points) {
    if (point.mean === null) continue;
    const name = Object.keys(point.cell).length === 0 ? metric : keyLabel(point.cell);
    const line = cells.get(name) ?? { name, points: [] };
    line.points.push({
      x: regressionIds.indexOf(point.regression_id),
      mean: point.mean,
      std: point.std,
      verdict: point.verdict,
    });
    cells.set(name, line);
  }
  const element = section(
    `Trend of ${metric} over commits`,
    history.points.length === 0 ? note('No finished regressions of this suite yet.') : host,
  );
  return {
    element,
    draw: () => {
      if (history.points.length > 0)
        scope.chart(
          host,
          `trend-${metric}`,
          trendOption({
            title: `${metric} by commit (candidate mean ± std; marker: the regression's verdict)`,
            metric,
            labels,
            lines: [...cells.values()],
          }),
        );
    },
  };
}

export const regressionPage: Page = async (root, route, scope) => {
  const id = route.segments[1] as string;
  const path = `/v1/regressions/${encodeURIComponent(id)}`;
  let view = await getJson<RegressionView>(path, {}, scope.signal);
  const summary = h('div', {});
  const tableHost = h('div', {});
  const trendsHost = h('div', {});

  const render = () => {
    replaceChildren(
      summary,
      h('h1', {}, `Regression of suite ${view.suite_name} `, verdictBadge(view.verdict)),
      facts(
        [
          ['verdict', verdictBadge(view.verdict)],
          ['baseline', view.baseline === null ? '–' : `${view.baseline.name}@${view.baseline.version}`],
          ['commit', view.commit === null ? '–' : h('code', {}, view.commit)],
          ['branch', view.branch ?? '–'],
          ['CI', view.ci_url === null ? '–' : h('a', { href: view.ci_url }, view.ci_url)],
          ['created', dateTime(view.created_at)],
          ['finished', dateTime(view.finished_at)],
          ['progress', progressText(view)],
          [
            'candidate runs',
            h(
              'span',
              {},
              ...view.candidate_run_ids.flatMap((runId, i) => [
                i > 0 ? ', ' : '',
                h('a', { href: hashOf(['runs', runId]) }, shortId(runId)),
              ]),
            ),
          ],
          [
            'suite',
            h(
              'a',
              { href: hashOf(['regressions'], { suite: view.suite_name }) },
              `all regressions of ${view.suite_name}`,
            ),
          ],
        ],
        'regression',
      ),
      view.report === null
        ? null
        : h('p', { class: `report-message verdict-${view.verdict ?? 'running'}` }, view.report.message),
    );
    replaceChildren(
      tableHost,
      view.report === null
        ? note('The verdict is computed when every candidate run has finished.')
        : metricTable(view.report.metrics),
    );
  };

  const renderTrends = async () => {
    const metrics = [...new Set((view.report?.metrics ?? []).map((row) => row.name))];
    const sections = await Promise.all(metrics.map((metric) => trendSection(scope, view.suite_name, metric)));
    replaceChildren(trendsHost, ...sections.map((s) => s.element));
    for (const s of sections) s.draw();
  };

  render();
  root.append(summary, section('Per-metric verdicts', tableHost), trendsHost);
  await renderTrends();
  if (view.status === 'running') {
    scope.every(REFRESH_MS, async () => {
      try {
        view = await getJson<RegressionView>(path, {}, scope.signal);
        render();
        if (view.status === 'finished') await renderTrends();
      } catch (error) {
        if (!isAbort(error)) console.warn('refresh failed', error);
      }
    });
  }
};

export const regressionsPage: Page = async (root, route, scope) => {
  let suite = route.query.get('suite') ?? '';
  const listHost = h('div', {});
  const load = async () => {
    const list = await getJson<RegressionList>('/v1/regressions', { suite, page_size: 100 }, scope.signal);
    replaceChildren(
      listHost,
      list.regressions.length === 0
        ? note('No regressions yet. Start one with `swavlab regress --suite FILE --baseline NAME`.')
        : table(
            ['regression', 'suite', 'verdict', 'baseline', 'commit', 'branch', 'created', 'progress'],
            list.regressions.map((r) => [
              h('a', { href: hashOf(['regressions', r.id]) }, shortId(r.id)),
              h('a', { href: hashOf(['regressions'], { suite: r.suite_name }) }, r.suite_name),
              verdictBadge(r.verdict),
              r.baseline === null ? '–' : `${r.baseline.name}@${r.baseline.version}`,
              shortCommit(r.commit) ?? '–',
              r.branch ?? '–',
              dateTime(r.created_at),
              `${r.progress.succeeded + r.progress.failed}/${r.progress.total}`,
            ]),
            'regressions',
          ),
    );
  };
  const input = h('input', {
    type: 'search',
    name: 'suite',
    value: suite,
    placeholder: 'suite name',
    aria: { label: 'suite' },
  });
  root.append(
    h('h1', {}, 'Regressions'),
    h(
      'form',
      {
        class: 'filters',
        onsubmit: (event) => {
          event.preventDefault();
          suite = input.value.trim();
          replaceQuery(route, { suite });
          load().catch((error: unknown) => {
            if (!isAbort(error)) replaceChildren(listHost, problemBox(error, 'Regressions'));
          });
        },
      },
      input,
      h('button', { type: 'submit' }, 'Filter'),
    ),
    listHost,
  );
  await load();
};
