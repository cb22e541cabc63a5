// A grid's training curves grouped by one axis: for each value of the axis, the mean over its runs (seeds and the
// other axes' values) as a line with a shaded min–max or ±std band, with the shared curve controls. At most
// MAX_RUNS runs are read (their series in parallel); the caption says when a grid has more.
import { getJson, isAbort } from '../api';
import { type Band, groupCurve, X_NAMES } from '../charts/curve-data';
import { curvesOption } from '../charts/curves';
import { curveControls, DEFAULT_CURVES } from '../curve-controls';
import { h, replaceChildren } from '../dom';
import { shortPath, sortValues, value } from '../format';
import type { PageScope } from '../scope';
import type { GridCells, MetricPoint, ReportedMetric, RunMetrics } from '../types';
import { chartBox, note, problemBox, section } from '../widgets';

const MAX_RUNS = 60;
const MAX_POINTS = 1000;

export function gridCurvesSection(
  host: HTMLElement,
  scope: PageScope,
  gridId: string,
  axes: readonly string[],
  reported: readonly ReportedMetric[],
): void {
  const training = reported.filter((m) => m.source === 'training').map((m) => m.name);
  if (training.length === 0 || axes.length === 0) return;
  const settings = { ...DEFAULT_CURVES };
  let metric = training.includes('loss') ? 'loss' : (training[0] as string);
  let by = axes[0] as string;
  let band: Band = 'minmax';
  const chart = chartBox(true);
  const caption = h('p', { class: 'note' });
  const series = new Map<string, MetricPoint[]>();
  let cells: GridCells['cells'] = [];

  const draw = () => {
    const groups = sortValues(cells.map((cell) => cell.axis_values?.[by]));
    const curves = groups.map((groupValue) => {
      const runs = cells
        .filter((cell) => JSON.stringify(cell.axis_values?.[by]) === JSON.stringify(groupValue))
        .flatMap((cell) => {
          const points = series.get(cell.run_id);
          return points === undefined || points.length === 0 ? [] : [points];
        });
      const curve = groupCurve(runs, settings, band);
      return {
        name: `${shortPath(by)}=${value(groupValue)} (${curve.runs} runs)`,
        points: curve.mean,
        ...(band === 'none' ? {} : { band: curve.band }),
      };
    });
    scope.chart(
      chart,
      'grid-curves',
      curvesOption(curves, {
        title: `${metric}: mean over the runs of each ${by} value${band === 'minmax' ? ', min–max band' : band === 'std' ? ', ±1 std band' : ''}`,
        xName: X_NAMES[settings.x],
        yName: metric,
        logY: settings.logY,
      }),
    );
  };

  const load = async () => {
    try {
      cells = (await getJson<GridCells>(`/v1/grids/${encodeURIComponent(gridId)}/cells`, {}, scope.signal))
        .cells;
      const read = cells.slice(0, MAX_RUNS);
      caption.textContent =
        cells.length > MAX_RUNS
          ? `The first ${MAX_RUNS} of ${cells.length} runs are drawn.`
          : `${cells.length} runs, grouped by ${by}.`;
      series.clear();
      await Promise.all(
        read.map(async (cell) => {
          const metrics = await getJson<RunMetrics>(
            `/v1/runs/${encodeURIComponent(cell.run_id)}/metrics`,
            { name: metric, max_points: MAX_POINTS },
            scope.signal,
          );
          series.set(cell.run_id, metrics.series[0]?.points ?? []);
        }),
      );
      cells = read;
      if (!scope.disposed) draw();
    } catch (error) {
      if (!isAbort(error)) replaceChildren(chart, problemBox(error, 'Curves'));
    }
  };

  const select = (
    name: string,
    label: string,
    options: readonly string[],
    current: string,
    set: (v: string) => void,
  ) => {
    const element = h(
      'select',
      {
        name,
        aria: { label },
        onchange: () => set(element.value),
      },
      ...options.map((option) => h('option', { value: option, selected: option === current }, option)),
    );
    return h('label', {}, `${label} `, element);
  };
  replaceChildren(
    host,
    section(
      'Training curves by axis',
      curveControls(
        settings,
        draw,
        select('curve-metric', 'metric', training, metric, (v) => {
          metric = v;
          void load();
        }),
        select('curve-group', 'group by', axes, by, (v) => {
          by = v;
          draw();
        }),
        select('curve-band', 'band', ['minmax', 'std', 'none'], band, (v) => {
          band = v as Band;
          draw();
        }),
      ),
      chart,
      caption,
      note('Each line is the mean over the runs of one value of the axis; the band shows their spread.'),
    ),
  );
  void load();
}
