// Metric against one axis: a line of group means per value of an optional second axis, with a mean ± std error
// bar at every point (custom series). The x axis is numeric (category index plus a small offset per line) so
// that the bars of different lines at the same axis value do not overlap.
import type {
  CustomSeriesRenderItemAPI,
  CustomSeriesRenderItemParams,
  CustomSeriesRenderItemReturn,
} from 'echarts';
import { baseOption, type ChartOption, seriesLook } from './option';

export interface ErrorBarLine {
  name: string;
  /** One entry per x category, in category order; null where the line has no group. */
  points: ({ mean: number; std: number | null; n: number } | null)[];
}

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

export function errorBarOption(input: ErrorBarInput): ChartOption {
  const { categories, lines } = input;
  const spread = lines.length > 1 ? Math.min(0.3, 0.6 / lines.length) : 0;
  const offset = (index: number) => (index - (lines.length - 1) / 2) * spread;
  return {
    ...baseOption(input.title),
    legend: { top: 22, type: 'scroll' as const, data: lines.map((line) => line.name) },
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
    series: lines.flatMap((line, index) => {
      const look = seriesLook(index);
      const { color } = look;
      const present = line.points
        .map((point, i) => (point === null ? null : { x: i + offset(index), ...point }))
        .filter((point) => point !== null);
      return [
        {
          type: 'line' as const,
          name: line.name,
          data: present.map((point) => [point.x, point.mean]),
          symbol: look.symbol,
          symbolSize: 9,
          itemStyle: { color },
          lineStyle: { type: look.dash, color, width: 1.5 },
          label: { show: lines.length <= 3, position: 'right', formatter: line.name, fontSize: 10 },
          tooltip: {
            valueFormatter: (value) => (typeof value === 'number' ? value.toPrecision(4) : String(value)),
          },
        },
        {
          type: 'custom' as const,
          name: `${line.name} ± std`,
          renderItem: renderBar,
          itemStyle: { color },
          encode: { x: 0, y: [1, 2] },
          data: present.map((point) => [
            point.x,
            point.mean - (point.std ?? 0),
            point.mean + (point.std ?? 0),
            point.n,
          ]),
          z: 1,
        },
      ];
    }),
  };
}
