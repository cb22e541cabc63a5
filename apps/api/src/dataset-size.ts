// How many images a folder dataset pretrains on, counted at submission for the small-dataset warning
// (packages/spec `specWarnings`). The count stops at SMALL_DATASET_IMAGES, so a folder of ImageNet's size costs
// a bounded walk. Files count by their extension; the trainer decodes them and may still skip a few.
import type { Dir } from 'node:fs';
import { opendir } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { type ExperimentSpec, IMAGE_EXTENSIONS, SMALL_DATASET_IMAGES } from '@swavlab/spec';
import { checkDataPath } from './data-roots.js';

const IMAGE_FILES: ReadonlySet<string> = new Set(IMAGE_EXTENSIONS);
/** Directory entries read at most, whatever they are. */
const MAX_ENTRIES = 200_000;

async function countImages(folder: string, budget: { entries: number; images: number }): Promise<void> {
  let dir: Dir;
  try {
    dir = await opendir(folder);
  } catch {
    return;
  }
  for await (const entry of dir) {
    if (budget.images >= SMALL_DATASET_IMAGES || budget.entries >= MAX_ENTRIES) return;
    budget.entries += 1;
    if (entry.isDirectory()) await countImages(join(folder, entry.name), budget);
    else if (entry.isFile() && IMAGE_FILES.has(extname(entry.name).toLowerCase())) budget.images += 1;
  }
}

/**
 * The images a `folder` (all of it) or `imagefolder` (its train/) source pretrains on, when fewer than
 * SMALL_DATASET_IMAGES; undefined for other sources, for a larger folder, or when the walk hit its entry bound.
 */
export async function folderImageCount(
  spec: ExperimentSpec,
  roots: readonly string[],
): Promise<number | undefined> {
  const { source, path } = spec.data;
  if ((source !== 'folder' && source !== 'imagefolder') || path === undefined) return undefined;
  const check = await checkDataPath(path, roots);
  if (!check.ok) return undefined;
  const budget = { entries: 0, images: 0 };
  await countImages(source === 'imagefolder' ? join(check.resolved, 'train') : check.resolved, budget);
  return budget.images < SMALL_DATASET_IMAGES && budget.entries < MAX_ENTRIES ? budget.images : undefined;
}
