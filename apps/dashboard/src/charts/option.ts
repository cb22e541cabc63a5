// The ECharts option type of every chart the dashboard draws (the chart kinds and components registered in
// host.ts), and the shared look that keeps series apart without colour: a marker shape and a dash pattern each.
import type {
  CustomSeriesOption,
  HeatmapSeriesOption,
  LineSeriesOption,
  ParallelSeriesOption,
  ScatterSeriesOption,
} from 'echarts/charts';
import type {
  AriaComponentOption,
  DataZoomComponentOption,
  GridComponentOption,
  LegendComponentOption,
  TitleComponentOption,
  TooltipComponentOption,
  VisualMapComponentOption,
} from 'echarts/components';
import type { ComposeOption } from 'echarts/core';

export type ChartOption = ComposeOption<
  | LineSeriesOption
  | ScatterSeriesOption
  | HeatmapSeriesOption
  | ParallelSeriesOption
  | CustomSeriesOption
  | GridComponentOption
  | TooltipComponentOption
  | LegendComponentOption
  | TitleComponentOption
  | VisualMapComponentOption
  | DataZoomComponentOption
  | AriaComponentOption
>;

const SYMBOLS = [
  'circle',
  'rect',
  'triangle',
  'diamond',
  'pin',
  'arrow',
  'roundRect',
  'emptyCircle',
] as const;
const DASHES: ('solid' | 'dashed' | 'dotted' | number[])[] = ['solid', 'dashed', 'dotted', [10, 4, 2, 4]];

const PALETTE = ['#1f5fa8', '#c2410c', '#15803d', '#7e22ce', '#a16207', '#0f766e', '#be123c', '#4b5563'];

export interface SeriesLook {
  symbol: string;
  dash: 'solid' | 'dashed' | 'dotted' | number[];
  /** Also given to a series' companion (its error bars), which ECharts would otherwise colour apart. */
  color: string;
}

/** Marker shape, dash pattern and colour of the i-th series. */
export function seriesLook(index: number): SeriesLook {
  return {
    symbol: SYMBOLS[index % SYMBOLS.length] as string,
    dash: DASHES[index % DASHES.length] as SeriesLook['dash'],
    color: PALETTE[index % PALETTE.length] as string,
  };
}

/** Shared parts: a title, tooltips, ECharts' aria description (screen readers) and decal patterns. */
export function baseOption(title: string): ChartOption {
  return {
    title: { text: title, left: 'center', textStyle: { fontSize: 13 } },
    tooltip: { trigger: 'item' },
    aria: { enabled: true, decal: { show: true } },
    animation: false,
  };
}
