// What the cells of an expanded grid or regression suite become: the runs to create, and the check that every
// folder they read lies inside the data roots (errors name the spec field or the axis value).
import type { JsonObject } from '@swavlab/db';
import { DEFAULT_PRIORITY } from '@swavlab/queue';
import { canonicalJson, type GridCell } from '@swavlab/spec';
import type { AppContext } from './context.js';
import { requireDataPath } from './data-roots.js';

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
 * Every distinct folder the cells read must be inside the data roots. `fields` names where a path came from:
 * the `data.path` axis (its values, to index into) or the base spec.
 */
export async function checkCellDataPaths(
  ctx: AppContext,
  cells: readonly GridCell[],
  fields: { axis: string; axisValues: readonly unknown[] | undefined; base: string },
): Promise<void> {
  const checked = new Set<string>();
  for (const cell of cells) {
    const path = cell.spec.data.path;
    if (cell.spec.data.source !== 'folder' || path === undefined || checked.has(path)) continue;
    checked.add(path);
    const where = fields.axisValues
      ? `${fields.axis}[${fields.axisValues.indexOf(path)}]`
      : `${fields.base}.data.path`;
    await requireDataPath(cell.spec.data, ctx.config.dataRoots, where);
  }
}
