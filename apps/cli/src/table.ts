// Plain-text tables: columns padded to their widest cell, numbers right-aligned.

export interface Column {
  header: string;
  align?: 'left' | 'right';
}

/** The table as lines; `rule` draws a line of dashes under the header. */
export function renderTable(
  columns: readonly Column[],
  rows: readonly (readonly string[])[],
  rule = false,
): string {
  const widths = columns.map((column, i) =>
    Math.max(column.header.length, ...rows.map((row) => (row[i] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    columns
      .map((column, i) => {
        const cell = cells[i] ?? '';
        const width = widths[i] ?? 0;
        return column.align === 'right' ? cell.padStart(width) : cell.padEnd(width);
      })
      .join('  ')
      .trimEnd();
  const lines = [line(columns.map((column) => column.header))];
  if (rule) lines.push(widths.map((width) => '-'.repeat(width)).join('  '));
  for (const row of rows) lines.push(line(row));
  return lines.join('\n');
}
