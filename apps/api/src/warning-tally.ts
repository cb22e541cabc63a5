// The spec warnings of many cells (a grid, a regression suite), told once per distinct message with how many
// cells share it, so that a 10,000-cell grid with the same mistake everywhere gets one line, not 10,000.
import type { CellWarning, GridCell } from '@swavlab/spec';
import { specWarnings } from '@swavlab/spec';

/** At most this many distinct warnings are listed. */
const MAX_DISTINCT = 20;

export class WarningTally {
  private readonly byText = new Map<string, CellWarning>();

  /** Counts the warnings of each cell. */
  add(cells: readonly GridCell[]): void {
    for (const cell of cells) {
      for (const warning of specWarnings(cell.spec)) {
        const key = `${warning.path}\u0000${warning.message}`;
        const seen = this.byText.get(key);
        if (seen) seen.cells += 1;
        else if (this.byText.size < MAX_DISTINCT)
          this.byText.set(key, { ...warning, cells: 1, first_cell: cell.index });
      }
    }
  }

  list(): CellWarning[] {
    return [...this.byText.values()];
  }
}
