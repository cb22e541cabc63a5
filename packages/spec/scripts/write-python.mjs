// Writes the spec artefacts the Python trainer validates with (spec_schema.json: the JSON Schema, the cross-field
// rules; recipes.json: the recipes' fields) into packages/trainer/swavlab/. Run after changing the spec schema, a
// rule or a recipe, and building (`npx tsc -b`); packages/spec/test/python-artefacts.test.ts fails while they differ.
import { writeFileSync } from 'node:fs';
import { pythonArtefacts } from '../dist/index.js';

for (const [name, text] of Object.entries(pythonArtefacts())) {
  const target = new URL(`../../trainer/swavlab/${name}`, import.meta.url);
  writeFileSync(target, text);
  console.log(`wrote ${target.pathname}`);
}
