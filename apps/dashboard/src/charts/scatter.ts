// Cost against accuracy: one labelled point per group (x = a cost, y = the metric's mean).
import { baseOption, type ChartOption } from './option';

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
    grid: { left: 60, right: 160, top: 40, bottom: 48 },
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
        label: { show: true, position: 'right', formatter: '{b}', fontSize: 10 },
      },
    ],
  };
}
