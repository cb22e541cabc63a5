// Writes the recipes' spec fields to packages/trainer/swavlab/recipes.json, where the Python trainer reads them
// to expand a spec that names a recipe exactly as packages/spec does. Run after changing src/recipes.ts and
// building (`npx tsc -b`); packages/spec/test/recipes.test.ts fails while the two differ.
import { writeFileSync } from 'node:fs';
import { RECIPES } from '../dist/index.js';

const target = new URL('../../trainer/swavlab/recipes.json', import.meta.url);
const specs = Object.fromEntries(Object.entries(RECIPES).map(([name, recipe]) => [name, recipe.spec]));
writeFileSync(target, `${JSON.stringify(specs, null, 2)}\n`);
console.log(`wrote ${Object.keys(specs).length} recipes to ${target.pathname}`);
