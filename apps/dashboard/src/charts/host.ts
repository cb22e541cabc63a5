// Mounts ECharts instances (only the chart kinds the dashboard uses are bundled) and keeps a registry of the
// live ones in window.__swavlabCharts by name, which the browser tests read to count series and points.
import { CustomChart, HeatmapChart, LineChart, ParallelChart, ScatterChart } from 'echarts/charts';
import {
  AriaComponent,
  DataZoomComponent,
  GridComponent,
  LegendComponent,
  MarkLineComponent,
  ParallelComponent,
  TitleComponent,
  TooltipComponent,
  VisualMapComponent,
} from 'echarts/components';
import { type EChartsType, init, use } from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import { currentTheme } from '../theme';
import type { ChartOption } from './option';

use([
  LineChart,
  ScatterChart,
  HeatmapChart,
  ParallelChart,
  CustomChart,
  GridComponent,
  TooltipComponent,
  LegendComponent,
  TitleComponent,
  VisualMapComponent,
  ParallelComponent,
  MarkLineComponent,
  DataZoomComponent,
  AriaComponent,
  CanvasRenderer,
]);

declare global {
  interface Window {
    __swavlabCharts: Record<string, EChartsType>;
  }
}

window.__swavlabCharts = {};

export interface MountedChart {
  chart: EChartsType;
  dispose(): void;
}

/** Draws `option` in `container` (which gets data-chart=NAME) and follows the container's size. */
export function mountChart(container: HTMLElement, name: string, option: ChartOption): MountedChart {
  container.dataset.chart = name;
  const chart = init(container, currentTheme() === 'dark' ? 'dark' : null, { renderer: 'canvas' });
  chart.setOption(option);
  window.__swavlabCharts[name] = chart;
  const observer = new ResizeObserver(() => chart.resize());
  observer.observe(container);
  return {
    chart,
    dispose() {
      observer.disconnect();
      if (window.__swavlabCharts[name] === chart) delete window.__swavlabCharts[name];
      chart.dispose();
    },
  };
}
