// 2–10 runs side by side: the spec paths whose values differ, final metrics and evaluations (best per row
// marked), and any training metric's curves overlaid (with the shared curve controls).
import { metricGoal } from '@swavlab/spec/metrics';
import { getJson } from '../api';
import { curvePoints, X_NAMES } from '../charts/curve-data';
import { curvesOption } from '../charts/curves';
import { curveControls, DEFAULT_CURVES } from '../curve-controls';
import { h } from '../dom';
import { bytes, num, value } from '../format';
import { hashOf, type Page, replaceQuery } from '../router';
import type { Comparison, RunMetrics } from '../types';
import { chartBox, note, scrollBox, section, statusBadge } from '../widgets';

function metricRows(values: Record<string, (number | null)[]>): HTMLElement[] {
  return Object.entries(values).map(([name, row]) => {
    const present = row.filter((v): v is number => v !== null);
    // The metric's direction as the API ranks grid groups by it; metrics without one (lr) get no ★.
    const goal = metricGoal(name);
    // A ★ only where the runs differ: equal values have no best.
    const best =
      goal === null || new Set(present).size < 2
        ? null
        : goal === 'min'
          ? Math.min(...present)
          : Math.max(...present);
    const show = (v: number | null) => (name.endsWith('_bytes') ? bytes(v) : num(v));
    return h(
      'tr',
      {},
      h('th', { scope: 'row' }, name),
      ...row.map((v) =>
        v !== null && v === best ? h('td', { class: 'best' }, `★ ${show(v)}`) : h('td', {}, show(v)),
      ),
    );
  });
}

export const comparePage: Page = async (root, route, scope) => {
  const ids = (route.query.get('ids') ?? '').split(',').filter((id) => id !== '');
  root.append(h('h1', {}, `Compare ${ids.length} runs`));
  const comparison = await getJson<Comparison>('/v1/compare', { ids }, scope.signal);
  const curves = await Promise.all(
    comparison.runs.map((run) =>
      getJson<RunMetrics>(
        `/v1/runs/${encodeURIComponent(run.id)}/metrics`,
        { max_points: 1000 },
        scope.signal,
      ),
    ),
  );
  const head = h(
    'tr',
    {},
    h('th', { scope: 'col' }, ''),
    ...comparison.runs.map((run, i) =>
      h(
        'th',
        { scope: 'col' },
        h('strong', {}, `run ${i + 1}: `),
        h('a', { href: hashOf(['runs', run.id]) }, run.name ?? run.id),
        h('br', {}),
        statusBadge(run.status),
      ),
    ),
  );
  const table = (label: string, rows: HTMLElement[]) =>
    rows.length === 0
      ? note(`No ${label}.`)
      : scrollBox(
          h(
            'table',
            { class: 'compare', aria: { label } },
            h('thead', {}, head.cloneNode(true)),
            h('tbody', {}, ...rows),
          ),
        );
  const chartHost = chartBox(true);
  const names = [...new Set(curves.flatMap((metrics) => metrics.series.map((series) => series.name)))]
    .filter((name) => name !== 'collapse_warning')
    .sort();
  const settings = { ...DEFAULT_CURVES };
  let metric = route.query.get('metric') ?? (names.includes('loss') ? 'loss' : (names[0] ?? 'loss'));
  const draw = () =>
    scope.chart(
      chartHost,
      'compare-curves',
      curvesOption(
        comparison.runs.map((_run, i) => ({
          // Short names for the legend and line labels; the tables above say which run is which.
          name: `run ${i + 1}`,
          points: curvePoints(curves[i]?.series.find((s) => s.name === metric)?.points ?? [], settings),
        })),
        { title: metric, yName: metric, xName: X_NAMES[settings.x], logY: settings.logY },
      ),
    );
  const metricSelect = h(
    'select',
    {
      name: 'compare-metric',
      aria: { label: 'metric to overlay' },
      onchange: () => {
        metric = metricSelect.value;
        replaceQuery(route, { ids: ids.join(','), metric });
        draw();
      },
    },
    ...names.map((name) => h('option', { value: name, selected: name === metric }, name)),
  );
  root.append(
    section(
      'Spec differences',
      table(
        'spec differences',
        comparison.spec_differences.map((difference) =>
          h(
            'tr',
            { data: { path: difference.path } },
            h('th', { scope: 'row' }, h('code', {}, difference.path)),
            ...difference.values.map((v) => h('td', {}, value(v))),
          ),
        ),
      ),
    ),
    section('Final metrics', table('final metrics', metricRows(comparison.final_metrics))),
    section('Evaluations', table('evaluations', metricRows(comparison.evaluations))),
    section('Curves', curveControls(settings, draw, h('label', {}, 'metric ', metricSelect)), chartHost),
  );
  draw();
};
