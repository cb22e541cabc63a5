// Training curves: one line per series, each with its own marker and dash, labelled at its end; optional shaded
// bands (min–max or ±std over seeds), a log y axis, zoom and pan (mouse wheel and drag inside the plot, a slider
// under it), and vertical marks (collapse warnings) at given x values.
import type {
  CustomSeriesRenderItemAPI,
  CustomSeriesRenderItemParams,
  CustomSeriesRenderItemReturn,
} from 'echarts';
import type { CustomSeriesOption, LineSeriesOption } from 'echarts/charts';
import { baseOption, type ChartOption, chartColors, seriesLook } from './option';

export interface Curve {
  name: string;
  /** [x, value] pairs; null values leave a gap. */
  points: [number, number | null][];
  /** [x, low, high]: a shaded band around the line. */
  band?: [number, number, number][];
}

export interface CurveOptions {
  title: string;
  yName?: string;
  /** The x axis's name (default: step). */
  xName?: string;
  logY?: boolean;
  /** x values to mark with a labelled vertical line. */
  marks?: { step: number; label: string }[];
}

/** Markers on every point only while they stay readable; the line keeps its dash pattern either way. */
const MARKER_LIMIT = 300;

/** The band between consecutive points i and i + 1 as a filled quadrilateral (so that log axes work too). */
function bandRenderer(band: readonly [number, number, number][]) {
  return (
    params: CustomSeriesRenderItemParams,
    api: CustomSeriesRenderItemAPI,
  ): CustomSeriesRenderItemReturn => {
    const here = band[params.dataIndex];
    const next = band[params.dataIndex + 1];
    if (here === undefined || next === undefined) return null;
    const corner = (x: number, y: number) => api.coord([x, y]) as number[];
    return {
      type: 'polygon',
      shape: {
        points: [
          corner(here[0], here[1]),
          corner(here[0], here[2]),
          corner(next[0], next[2]),
          corner(next[0], next[1]),
        ],
      },
      style: { fill: api.visual('color') as string, opacity: 0.18 },
      silent: true,
    };
  };
}

export function curvesOption(curves: readonly Curve[], options: CurveOptions): ChartOption {
  const lines = curves.map((curve, index): LineSeriesOption => {
    const look = seriesLook(index);
    return {
      type: 'line' as const,
      name: curve.name,
      data: curve.points,
      symbol: look.symbol,
      showSymbol: curve.points.length <= MARKER_LIMIT,
      itemStyle: { color: look.color },
      lineStyle: { type: look.dash, width: 1.5, color: look.color },
      connectNulls: false,
      endLabel: { show: curves.length <= 6, formatter: curve.name },
      ...(index === 0 && options.marks && options.marks.length > 0
        ? {
            markLine: {
              symbol: 'none',
              lineStyle: { type: 'solid', width: 2, color: chartColors().mark },
              label: { formatter: '{b}', position: 'insideEndTop' },
              data: options.marks.map((mark) => ({ xAxis: mark.step, name: mark.label })),
            },
          }
        : {}),
    };
  });
  const bands = curves.flatMap((curve, index): CustomSeriesOption[] =>
    curve.band === undefined || curve.band.length < 2
      ? []
      : [
          {
            type: 'custom' as const,
            name: `${curve.name} band`,
            renderItem: bandRenderer(curve.band),
            itemStyle: { color: seriesLook(index).color },
            encode: { x: 0, y: [1, 2] },
            data: curve.band,
            z: 1,
            tooltip: { show: false },
          },
        ],
  );
  return {
    ...baseOption(options.title),
    tooltip: { trigger: 'axis' },
    legend:
      curves.length > 1
        ? { top: 22, type: 'scroll' as const, data: curves.map((curve) => curve.name) }
        : { show: false },
    grid: { left: 60, right: 90, top: curves.length > 1 ? 50 : 36, bottom: 64 },
    xAxis: {
      type: 'value',
      name: options.xName ?? 'step',
      nameLocation: 'middle',
      nameGap: 25,
      min: 'dataMin',
      max: 'dataMax',
    },
    yAxis: options.logY
      ? { type: 'log', name: options.yName ?? '', logBase: 10 }
      : { type: 'value', name: options.yName ?? '', scale: true },
    dataZoom: [
      { type: 'inside', xAxisIndex: 0, filterMode: 'none' },
      { type: 'slider', xAxisIndex: 0, filterMode: 'none', height: 14, bottom: 6 },
    ],
    series: [...lines, ...bands],
  };
}
