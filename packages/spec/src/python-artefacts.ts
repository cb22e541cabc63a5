import { defaultScales, MAX_INTEGER_DIGITS, MAX_SCALE_CHARS, MIN_TOTAL_CROPS } from './crops.js';
import { IMAGE_EXTENSIONS } from './data-sources.js';
import { toJsonSchema } from './json-schema.js';
import { RECIPES } from './recipes.js';
import { SPEC_METADATA_FIELDS, TRAINING_SECTIONS } from './spec-hash.js';
import { SPEC_RULES } from './spec-rules.js';

/**
 * The files the Python trainer validates specs with, generated from this package so that the zod schema stays the
 * single source: `node packages/spec/scripts/write-python.mjs` writes them into packages/trainer/swavlab/ and
 * test/python-artefacts.test.ts fails while a committed copy differs.
 */
export function pythonArtefacts(): Record<string, string> {
  const generated =
    'generated from packages/spec by `node packages/spec/scripts/write-python.mjs`; do not edit';
  const spec = {
    $comment:
      `${generated}. schema: JSON Schema of the input; rules: the cross-field rules (src/rule-engine.ts); ` +
      'identity: the fields the spec hash leaves out and the sections the resume identity covers',
    schema: toJsonSchema(),
    rules: SPEC_RULES,
    crops: {
      default_scales: [defaultScales(0), defaultScales(1)],
      min_total: MIN_TOTAL_CROPS,
      max_integer_digits: MAX_INTEGER_DIGITS,
      max_scale_chars: MAX_SCALE_CHARS,
    },
    identity: { metadata: SPEC_METADATA_FIELDS, training_sections: TRAINING_SECTIONS },
    data: { image_extensions: IMAGE_EXTENSIONS },
  };
  const recipes = Object.fromEntries(Object.entries(RECIPES).map(([name, recipe]) => [name, recipe.spec]));
  return { 'spec_schema.json': toText(spec), 'recipes.json': toText(recipes) };
}

function toText(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
