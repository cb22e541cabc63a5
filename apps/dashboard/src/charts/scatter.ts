// Cost against accuracy: one point per group (x = a cost, y = the metric's mean); hovering a point names its group
// and gives both values (labels beside every point would overlap and run off the chart).
import { num } from '../format';
import { baseOption, type ChartOption, escapeHtml } from './option';

export interface ScatterPoint {
  label: string;
  x: number;
  y: number;
}

export interface ScatterInput {
  title: string;
  xName: string;
  yName: string;
  points: ScatterPoint[];
  xFormatter?: (value: number) => string;
}

export function scatterOption(input: ScatterInput): ChartOption {
  return {
    ...baseOption(input.title),
    grid: { left: 60, right: 30, top: 40, bottom: 48 },
    tooltip: {
      trigger: 'item',
      formatter: (params) => {
        const point = input.points[(params as { dataIndex: number }).dataIndex];
        if (point === undefined) return '';
        const x = input.xFormatter ? input.xFormatter(point.x) : num(point.x);
        return `${escapeHtml(point.label)}<br>${escapeHtml(input.xName)}: ${x}<br>${escapeHtml(input.yName)}: ${num(point.y)}`;
      },
    },
    xAxis: {
      type: 'value',
      name: input.xName,
      nameLocation: 'middle',
      nameGap: 28,
      scale: true,
      ...(input.xFormatter ? { axisLabel: { formatter: input.xFormatter } } : {}),
    },
    yAxis: { type: 'value', name: input.yName, scale: true },
    series: [
      {
        type: 'scatter',
        name: input.title,
        symbol: 'diamond',
        symbolSize: 11,
        data: input.points.map((point) => ({ name: point.label, value: [point.x, point.y] })),
      },
    ],
  };
}
