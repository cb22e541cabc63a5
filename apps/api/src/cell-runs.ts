// What the cells of an expanded grid or regression suite become: the runs to create, and the check that every
// folder they read lies inside the data roots (errors name the spec field or the axis value).
import type { JsonObject } from '@swavlab/db';
import { DEFAULT_PRIORITY } from '@swavlab/queue';
import { canonicalJson, type GridCell, getAtPath } from '@swavlab/spec';
import type { AppContext } from './context.js';
import { requireSpecPaths, rootedPaths } from './data-roots.js';

/** `axis=value … seed=n`, to name a cell's run. */
function describeCell(cell: GridCell): string {
  const parts = Object.entries(cell.axisValues).map(([path, value]) => `${path}=${canonicalJson(value)}`);
  return [...parts, `seed=${cell.seed}`].join(' ');
}

/** The run of `cell`: its spec without name and tags, named `label [cell]`, tagged with `tags` and its own. */
export function cellRunInput(cell: GridCell, label: string, tags: readonly string[]) {
  const { name: _name, tags: cellTags, ...spec } = cell.spec;
  return {
    spec: spec as unknown as JsonObject,
    specHash: cell.hash,
    seed: cell.seed,
    axisValues: cell.axisValues as JsonObject,
    name: `${label} [${describeCell(cell)}]`.slice(0, 500),
    tags: [...new Set([...tags, ...cellTags])],
    priority: DEFAULT_PRIORITY,
  };
}

/**
 * Everything the cells read (dataset folders, class and subset lists, initial weights) must be inside the data
 * roots; each distinct (field, value) is checked once. `fields.axes` are the grid's axes: a failing value that an
 * axis supplies is named by its index there (`axes["data.path"][2]`), otherwise by the field of `fields.base`.
 */
export async function checkCellDataPaths(
  ctx: AppContext,
  cells: readonly GridCell[],
  fields: { axesPath: string; axes: Readonly<Record<string, readonly unknown[]>>; base: string },
): Promise<void> {
  const checked = new Set<string>();
  for (const cell of cells) {
    const fresh = rootedPaths(cell.spec).filter(({ field, value }) => {
      const key = `${field}\u0000${value}`;
      if (checked.has(key)) return false;
      checked.add(key);
      return true;
    });
    if (fresh.length === 0) continue;
    await requireSpecPaths(cell.spec, ctx.config.dataRoots, (field) => {
      const values = fields.axes[field];
      const value = getAtPath(cell.spec, field);
      return values?.includes(value)
        ? `${fields.axesPath}["${field}"][${values.indexOf(value)}]`
        : `${fields.base}.${field}`;
    });
  }
}
