// Metric against one axis: a line of group means per value of an optional second axis, with the 95 % confidence
// interval of the mean as an error bar at every point that has one (custom series), a star on the best group and
// a ring around each group tied with it (scatter series of their own, in the legend). The x axis is numeric
// (category index plus a small offset per line) so that the bars of different lines at one axis value do not
// overlap.
import type {
  CustomSeriesRenderItemAPI,
  CustomSeriesRenderItemParams,
  CustomSeriesRenderItemReturn,
} from 'echarts';
import type { CustomSeriesOption, LineSeriesOption, ScatterSeriesOption } from 'echarts/charts';
import { num } from '../format';
import { baseOption, type ChartOption, chartColors, escapeHtml, seriesLook } from './option';

export interface ErrorBarPoint {
  mean: number;
  std: number | null;
  /** The bar: the 95 % confidence interval of the mean; null (no bar) below two values. */
  interval: { low: number; high: number } | null;
  n: number;
  /** The best group for the goal, or one that the test cannot tell from it. */
  mark: 'best' | 'tied' | null;
}

export interface ErrorBarLine {
  name: string;
  /** One entry per x category, in category order; null where the line has no group. */
  points: (ErrorBarPoint | null)[];
}

export const BEST_SERIES = '★ best';
export const TIED_SERIES = '≈ tied with best';
// A five-pointed star: readable without colour, unlike a filled marker of another hue.
const STAR = 'path://M50,0 L61,35 L98,35 L68,57 L79,91 L50,70 L21,91 L32,57 L2,35 L39,35 Z';

export interface ErrorBarInput {
  title: string;
  xName: string;
  categories: string[];
  yName: string;
  lines: ErrorBarLine[];
}

/** Draws one vertical bar from value(1) to value(2) at x = value(0), with caps, in the series' colour. */
export function renderBar(
  _params: CustomSeriesRenderItemParams,
  api: CustomSeriesRenderItemAPI,
): CustomSeriesRenderItemReturn {
  const x = Number(api.value(0));
  const top = api.coord([x, Number(api.value(2))]) as number[];
  const bottom = api.coord([x, Number(api.value(1))]) as number[];
  const [tx = 0, ty = 0] = top;
  const [bx = 0, by = 0] = bottom;
  const style = { stroke: api.visual('color') as string, lineWidth: 1.5 };
  const cap = 5;
  return {
    type: 'group',
    children: [
      { type: 'line', shape: { x1: tx, y1: ty, x2: bx, y2: by }, style },
      { type: 'line', shape: { x1: tx - cap, y1: ty, x2: tx + cap, y2: ty }, style },
      { type: 'line', shape: { x1: bx - cap, y1: by, x2: bx + cap, y2: by }, style },
    ],
  };
}

/** A point's tooltip: the line, the x value, mean ± std, the 95 % CI and n (no labels on the points: hover). */
function pointTooltip(
  input: ErrorBarInput,
  line: ErrorBarLine,
  point: ErrorBarPoint,
  category: number,
): string {
  return [
    `<b>${escapeHtml(line.name)}</b>`,
    `${escapeHtml(input.xName)} = ${escapeHtml(input.categories[category] ?? '')}`,
    `mean ${num(point.mean)}${point.std === null ? '' : ` ± ${num(point.std, 3)} (std)`}`,
    point.interval === null
      ? '95 % CI: needs n ≥ 2'
      : `95 % CI [${num(point.interval.low)}, ${num(point.interval.high)}]`,
    `n = ${point.n}${point.mark === 'best' ? ' · ★ best' : point.mark === 'tied' ? ' · ≈ tied with best' : ''}`,
  ].join('<br>');
}

export function errorBarOption(input: ErrorBarInput): ChartOption {
  const colors = chartColors();
  const { categories, lines } = input;
  const spread = lines.length > 1 ? Math.min(0.3, 0.6 / lines.length) : 0;
  const offset = (index: number) => (index - (lines.length - 1) / 2) * spread;
  const placed = lines.map((line, index) =>
    line.points
      .map((point, i) => (point === null ? null : { x: i + offset(index), category: i, ...point }))
      .filter((point) => point !== null),
  );
  const marked = (mark: 'best' | 'tied') =>
    placed
      .flat()
      .filter((point) => point.mark === mark)
      .map((point) => [point.x, point.mean, point.n]);
  const best = marked('best');
  const tied = marked('tied');
  const markers: ScatterSeriesOption[] = [
    ...(best.length === 0
      ? []
      : [
          {
            type: 'scatter' as const,
            name: BEST_SERIES,
            data: best,
            symbol: STAR,
            symbolSize: 22,
            itemStyle: { color: colors.star, borderColor: colors.ring, borderWidth: 1 },
            z: 3,
          },
        ]),
    ...(tied.length === 0
      ? []
      : [
          {
            type: 'scatter' as const,
            name: TIED_SERIES,
            data: tied,
            symbol: 'emptyCircle',
            symbolSize: 20,
            itemStyle: { color: colors.ring, borderWidth: 2 },
            z: 3,
          },
        ]),
  ];
  return {
    ...baseOption(input.title),
    legend: {
      top: 22,
      type: 'scroll' as const,
      data: [...lines.map((line) => line.name), ...markers.map((series) => String(series.name))],
    },
    grid: { left: 60, right: 30, top: 56, bottom: 48 },
    xAxis: {
      type: 'value',
      name: input.xName,
      nameLocation: 'middle',
      nameGap: 28,
      min: -0.5,
      max: categories.length - 0.5,
      splitLine: { show: false },
      // Ticks and labels at the category positions only (the axis runs from -0.5 to n - 0.5).
      axisTick: { customValues: categories.map((_, i) => i) },
      axisLabel: {
        customValues: categories.map((_, i) => i),
        formatter: (value: number) => categories[value] ?? '',
      },
    },
    yAxis: { type: 'value', name: input.yName, scale: true, axisLine: { onZero: false } },
    series: [
      ...lines.flatMap((line, index): (LineSeriesOption | CustomSeriesOption)[] => {
        const look = seriesLook(index);
        const { color } = look;
        const present = placed[index] ?? [];
        return [
          {
            type: 'line' as const,
            name: line.name,
            data: present.map((point) => [point.x, point.mean]),
            symbol: look.symbol,
            symbolSize: 9,
            itemStyle: { color },
            lineStyle: { type: look.dash, color, width: 1.5 },
            tooltip: {
              formatter: (params) => {
                const point = present[(params as { dataIndex: number }).dataIndex];
                return point === undefined ? '' : pointTooltip(input, line, point, point.category);
              },
            },
          },
          {
            type: 'custom' as const,
            name: `${line.name} 95% CI`,
            renderItem: renderBar,
            itemStyle: { color },
            encode: { x: 0, y: [1, 2] },
            data: present.flatMap((point) =>
              point.interval === null ? [] : [[point.x, point.interval.low, point.interval.high, point.n]],
            ),
            z: 1,
          },
        ];
      }),
      ...markers,
    ],
  };
}
