// Two axes: a heatmap of group means laid out like the ablation table (first row at the top), every cell labelled
// with its mean ± std and n (the colour only repeats what the label says), ★ and a thick border on the best cell,
// ≈ on the cells tied with it, a colour bar with its numbers, and a tooltip with the mean, std, 95 % CI and n.
import { num } from '../format';
import { baseOption, type ChartOption, chartColors, escapeHtml } from './option';

export interface HeatCell {
  mean: number | null;
  std: number | null;
  n: number;
  ci95: { low: number; high: number } | null;
  best: boolean;
  tied_with_best: boolean | null;
}

export interface HeatmapInput {
  title: string;
  rowName: string;
  rows: string[];
  columnName: string;
  columns: string[];
  /** cells[i][j] for rows[i], columns[j]. */
  cells: (HeatCell | null)[][];
}

function label(cell: HeatCell): string {
  const mean = num(cell.mean);
  const std = cell.std === null ? '' : ` ± ${num(cell.std, 2)}`;
  const mark = cell.best ? '★ ' : cell.tied_with_best === true ? '≈ ' : '';
  return `${mark}${mean}${std} (n=${cell.n})`;
}

/** The tooltip of a cell: where it is and its statistics. */
export function cellTooltip(input: HeatmapInput, i: number, j: number): string {
  const cell = input.cells[i]?.[j];
  if (cell === null || cell === undefined) return '';
  const lines = [
    `${escapeHtml(input.rowName)} = ${escapeHtml(input.rows[i] ?? '')}`,
    `${escapeHtml(input.columnName)} = ${escapeHtml(input.columns[j] ?? '')}`,
    `mean ${num(cell.mean)}${cell.std === null ? '' : ` ± ${num(cell.std, 3)} (std)`}`,
    cell.ci95 === null ? '95 % CI: needs n ≥ 2' : `95 % CI [${num(cell.ci95.low)}, ${num(cell.ci95.high)}]`,
    `n = ${cell.n}${cell.best ? ' · ★ best' : cell.tied_with_best === true ? ' · ≈ tied with best' : ''}`,
  ];
  return lines.join('<br>');
}

export function heatmapOption(input: HeatmapInput): ChartOption {
  const colors = chartColors();
  const data: {
    value: [number, number, number];
    label: { formatter: string };
    itemStyle?: { borderColor: string; borderWidth: number };
  }[] = [];
  input.cells.forEach((row, i) => {
    row.forEach((cell, j) => {
      if (cell !== null && cell.mean !== null)
        data.push({
          value: [j, i, cell.mean],
          label: { formatter: label(cell) },
          ...(cell.best ? { itemStyle: { borderColor: colors.star, borderWidth: 4 } } : {}),
        });
    });
  });
  const means = data.map((item) => item.value[2]);
  const min = means.length > 0 ? Math.min(...means) : 0;
  const max = means.length > 0 ? Math.max(...means) : 1;
  return {
    ...baseOption(input.title),
    aria: { enabled: true },
    tooltip: {
      trigger: 'item',
      formatter: (params) => {
        const value = (params as { value?: unknown }).value;
        return Array.isArray(value) ? cellTooltip(input, Number(value[1]), Number(value[0])) : '';
      },
    },
    grid: { left: 90, right: 30, top: 40, bottom: 90, containLabel: true },
    xAxis: {
      type: 'category',
      name: input.columnName,
      nameLocation: 'middle',
      nameGap: 28,
      data: input.columns,
    },
    // The first row on top, as in the ablation table.
    yAxis: { type: 'category', name: input.rowName, data: input.rows, inverse: true },
    visualMap: {
      type: 'continuous' as const,
      min,
      max: max > min ? max : min + 1e-9,
      orient: 'horizontal',
      left: 'center',
      bottom: 0,
      calculable: true,
      text: [num(max), num(min)],
      formatter: (value) => num(Number(value)),
      textStyle: { color: colors.text },
      inRange: { color: colors.heat },
    },
    series: [
      {
        type: 'heatmap',
        name: input.title,
        data,
        label: {
          show: true,
          fontSize: 11,
          color: colors.text,
          backgroundColor: colors.labelBackground,
          padding: 2,
        },
      },
    ],
  };
}
