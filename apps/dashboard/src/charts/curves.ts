// Training curves: one line per series over steps, each with its own marker and dash, labelled at its end;
// optional vertical marks (collapse warnings) at given steps.
import { baseOption, type ChartOption, seriesLook } from './option';

export interface Curve {
  name: string;
  /** [step, value] pairs; null values leave a gap. */
  points: [number, number | null][];
}

export interface CurveOptions {
  title: string;
  yName?: string;
  /** Steps to mark with a labelled vertical line. */
  marks?: { step: number; label: string }[];
}

/** Markers on every point only while they stay readable; the line keeps its dash pattern either way. */
const MARKER_LIMIT = 300;

export function curvesOption(curves: readonly Curve[], options: CurveOptions): ChartOption {
  return {
    ...baseOption(options.title),
    tooltip: { trigger: 'axis' },
    legend: curves.length > 1 ? { top: 22, type: 'scroll' as const } : { show: false },
    grid: { left: 60, right: 90, top: curves.length > 1 ? 50 : 36, bottom: 40 },
    xAxis: {
      type: 'value',
      name: 'step',
      nameLocation: 'middle',
      nameGap: 25,
      min: 'dataMin',
      max: 'dataMax',
    },
    yAxis: { type: 'value', name: options.yName ?? '', scale: true },
    series: curves.map((curve, index) => {
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
        endLabel: { show: true, formatter: curve.name },
        ...(index === 0 && options.marks && options.marks.length > 0
          ? {
              markLine: {
                symbol: 'none',
                lineStyle: { type: 'solid', width: 2, color: '#b00020' },
                label: { formatter: '{b}', position: 'insideEndTop' },
                data: options.marks.map((mark) => ({ xAxis: mark.step, name: mark.label })),
              },
            }
          : {}),
      };
    }),
  };
}
