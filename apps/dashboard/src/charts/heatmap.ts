// Two axes: a heatmap of group means, every cell labelled with its mean ± std and n (the colour only repeats
// what the label says), ★ on the best cell and ≈ on the cells tied with it.
import { num } from '../format';
import { baseOption, type ChartOption } from './option';

export interface HeatCell {
  mean: number | null;
  std: number | null;
  n: number;
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

export function heatmapOption(input: HeatmapInput): ChartOption {
  const data: { value: [number, number, number]; label: { formatter: string } }[] = [];
  input.cells.forEach((row, i) => {
    row.forEach((cell, j) => {
      if (cell !== null && cell.mean !== null)
        data.push({ value: [j, i, cell.mean], label: { formatter: label(cell) } });
    });
  });
  const means = data.map((item) => item.value[2]);
  return {
    ...baseOption(input.title),
    aria: { enabled: true },
    tooltip: { trigger: 'item' },
    grid: { left: 90, right: 30, top: 40, bottom: 80 },
    xAxis: {
      type: 'category',
      name: input.columnName,
      nameLocation: 'middle',
      nameGap: 28,
      data: input.columns,
    },
    yAxis: { type: 'category', name: input.rowName, data: input.rows },
    visualMap: {
      type: 'continuous' as const,
      min: means.length > 0 ? Math.min(...means) : 0,
      max: means.length > 0 ? Math.max(...means) : 1,
      orient: 'horizontal',
      left: 'center',
      bottom: 0,
      calculable: false,
      inRange: { color: ['#f1f5f9', '#1f5fa8'] },
    },
    series: [
      {
        type: 'heatmap',
        name: input.title,
        data,
        label: {
          show: true,
          fontSize: 11,
          color: '#111',
          backgroundColor: 'rgba(255,255,255,0.75)',
          padding: 2,
        },
      },
    ],
  };
}
