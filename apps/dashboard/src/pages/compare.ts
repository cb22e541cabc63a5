// 2–10 runs side by side: the spec paths whose values differ, final metrics and evaluations (best per row
// marked), and their loss curves overlaid.
import { getJson } from '../api';
import { curvesOption } from '../charts/curves';
import { h } from '../dom';
import { bytes, num, value } from '../format';
import { hashOf, type Page } from '../router';
import type { Comparison, RunMetrics } from '../types';
import { chartBox, note, section, statusBadge } from '../widgets';

/** Which way is better, for the metrics where that is clear; others get no ★. */
function goalOf(name: string): 'max' | 'min' | null {
  if (name.startsWith('knn_') || name.startsWith('linear_') || name === 'images_per_sec') return 'max';
  if (name === 'loss' || name === 'epoch_seconds' || name === 'peak_memory_bytes') return 'min';
  return null;
}

function metricRows(values: Record<string, (number | null)[]>): HTMLElement[] {
  return Object.entries(values).map(([name, row]) => {
    const present = row.filter((v): v is number => v !== null);
    const goal = goalOf(name);
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
        { name: 'loss', max_points: 1000 },
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
      : h(
          'table',
          { class: 'compare', aria: { label } },
          h('thead', {}, head.cloneNode(true)),
          h('tbody', {}, ...rows),
        );
  const chartHost = chartBox(true);
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
    section('Loss curves', chartHost),
  );
  scope.chart(
    chartHost,
    'compare-loss',
    curvesOption(
      comparison.runs.map((_run, i) => ({
        // Short names for the legend and line labels; the tables above say which run is which.
        name: `run ${i + 1}`,
        points: (curves[i]?.series.find((s) => s.name === 'loss')?.points ?? []).map(
          (p) => [p.step, p.value] as [number, number | null],
        ),
      })),
      { title: 'loss' },
    ),
  );
};
