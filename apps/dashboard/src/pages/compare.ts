// 2–10 runs side by side: the spec paths whose values differ, final metrics and evaluations (best per row
// marked), and their loss curves overlaid.
import { getJson } from '../api';
import { curvesOption } from '../charts/curves';
import { h } from '../dom';
import { num, shortId, value } from '../format';
import { hashOf, type Page } from '../router';
import type { Comparison, RunMetrics } from '../types';
import { chartBox, note, section, statusBadge } from '../widgets';

const LOWER_IS_BETTER = new Set(['loss', 'epoch_seconds', 'peak_memory_bytes']);

function metricRows(values: Record<string, (number | null)[]>): HTMLElement[] {
  return Object.entries(values).map(([name, row]) => {
    const present = row.filter((v): v is number => v !== null);
    const best =
      present.length < 2 ? null : LOWER_IS_BETTER.has(name) ? Math.min(...present) : Math.max(...present);
    return h(
      'tr',
      {},
      h('th', { scope: 'row' }, name),
      ...row.map((v) =>
        h(
          'td',
          { class: v !== null && v === best ? 'best' : '' },
          v !== null && v === best ? `★ ${num(v)}` : num(v),
        ),
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
    ...comparison.runs.map((run) =>
      h(
        'th',
        { scope: 'col' },
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
      comparison.runs.map((run, i) => ({
        name: run.name ?? shortId(run.id),
        points: (curves[i]?.series.find((s) => s.name === 'loss')?.points ?? []).map(
          (p) => [p.step, p.value] as [number, number | null],
        ),
      })),
      { title: 'loss' },
    ),
  );
};
