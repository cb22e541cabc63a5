// A suite's trend over commits: the candidate mean ± std of one metric per finished regression, oldest first,
// one line per suite cell, with the verdict as the marker shape and, for anything but a pass, as a label.
import { renderBar } from './error-bars';
import { baseOption, type ChartOption, seriesLook } from './option';

export type Verdict = 'pass' | 'regression' | 'inconclusive' | 'error';

export const VERDICT_SYMBOL: Record<Verdict, string> = {
  pass: 'circle',
  regression: 'triangle',
  inconclusive: 'diamond',
  error: 'rect',
};

export interface TrendPoint {
  /** Index into the labels (the regression's position, oldest first). */
  x: number;
  mean: number;
  std: number | null;
  verdict: Verdict;
}

export interface TrendInput {
  title: string;
  metric: string;
  /** One x label per regression: a short commit, else the date. */
  labels: string[];
  lines: { name: string; points: TrendPoint[] }[];
}

export function trendOption(input: TrendInput): ChartOption {
  const { labels } = input;
  return {
    ...baseOption(input.title),
    legend: input.lines.length > 1 ? { top: 22, type: 'scroll' as const } : { show: false },
    grid: { left: 60, right: 30, top: input.lines.length > 1 ? 56 : 40, bottom: 64 },
    xAxis: {
      type: 'value',
      name: 'commit (oldest first)',
      nameLocation: 'middle',
      nameGap: 44,
      min: -0.5,
      max: Math.max(0.5, labels.length - 0.5),
      splitLine: { show: false },
      axisTick: { customValues: labels.map((_, i) => i) },
      axisLabel: {
        customValues: labels.map((_, i) => i),
        formatter: (v: number) => labels[v] ?? '',
        rotate: labels.length > 8 ? 30 : 0,
      },
    },
    yAxis: { type: 'value', name: input.metric, scale: true, axisLine: { onZero: false } },
    series: input.lines.flatMap((line, index) => {
      const look = seriesLook(index);
      return [
        {
          type: 'line' as const,
          name: line.name,
          symbolSize: 11,
          itemStyle: { color: look.color },
          lineStyle: { width: 1.5, type: look.dash, color: look.color },
          data: line.points.map((p) => ({
            value: [p.x, p.mean],
            symbol: VERDICT_SYMBOL[p.verdict],
            label: { show: p.verdict !== 'pass', formatter: p.verdict, position: 'top' as const },
          })),
        },
        {
          type: 'custom' as const,
          name: `${line.name} ± std`,
          renderItem: renderBar,
          itemStyle: { color: look.color },
          encode: { x: 0, y: [1, 2] },
          data: line.points.map((p) => [p.x, p.mean - (p.std ?? 0), p.mean + (p.std ?? 0)]),
          z: 1,
        },
      ];
    }),
  };
}
