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
import { currentTheme } from '../theme';

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

const PALETTES = {
  light: ['#1f5fa8', '#c2410c', '#15803d', '#7e22ce', '#a16207', '#0f766e', '#be123c', '#4b5563'],
  dark: ['#6cb6ff', '#fb8f44', '#56d364', '#d2a8ff', '#e3b341', '#39c5cf', '#ff7b72', '#b1bac4'],
};

/** The colours charts draw with besides their series, per theme (both readable on their background). */
export function chartColors() {
  const dark = currentTheme() === 'dark';
  return {
    text: dark ? '#e6edf3' : '#111111',
    labelBackground: dark ? 'rgba(13,17,23,0.75)' : 'rgba(255,255,255,0.75)',
    heat: dark ? ['#1b2533', '#6cb6ff'] : ['#f1f5f9', '#1f5fa8'],
    star: '#d4a017',
    ring: dark ? '#e6edf3' : '#111111',
    mark: dark ? '#ff7b72' : '#b00020',
  };
}

/** Text from the API inside a tooltip (ECharts renders tooltip formatters as HTML). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

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
    color: PALETTES[currentTheme()][index % PALETTES.light.length] as string,
  };
}

/** Shared parts: a title, tooltips, ECharts' aria description (screen readers) and decal patterns. */
export function baseOption(title: string): ChartOption {
  return {
    backgroundColor: 'transparent',
    title: { text: title, left: 'center', textStyle: { fontSize: 13 } },
    tooltip: { trigger: 'item' },
    aria: { enabled: true, decal: { show: true } },
    animation: false,
  };
}
