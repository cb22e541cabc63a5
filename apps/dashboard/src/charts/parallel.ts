// Three or more axes: parallel coordinates, one line per cell (axis values, then the metric).
import { baseOption, type ChartOption } from './option';

export interface ParallelInput {
  title: string;
  /** Axis paths and their values as shown (sorted). */
  axes: { name: string; values: string[] }[];
  metric: string;
  /** One row per run: axis values as strings in `axes` order, then the metric value. */
  rows: { values: string[]; metric: number }[];
}

export function parallelOption(input: ParallelInput): ChartOption {
  return {
    ...baseOption(input.title),
    parallel: { left: 60, right: 80, top: 50, bottom: 30 },
    parallelAxis: [
      ...input.axes.map((axis, dim) => ({
        dim,
        name: axis.name,
        type: 'category' as const,
        data: axis.values,
      })),
      { dim: input.axes.length, name: input.metric, type: 'value' as const, scale: true },
    ],
    series: [
      {
        type: 'parallel',
        name: input.metric,
        lineStyle: { width: 1.5, opacity: 0.6 },
        data: input.rows.map((row) => [...row.values, row.metric]),
      },
    ],
  };
}
