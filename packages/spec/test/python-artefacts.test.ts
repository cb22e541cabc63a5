import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { pythonArtefacts } from '../src/index.js';

const TRAINER = new URL('../../trainer/swavlab/', import.meta.url);

describe('the Python trainer’s spec artefacts', () => {
  // A default, a limit, a rule or a recipe changed here without regenerating leaves the trainer validating the
  // old spec: this fails until `npx tsc -b && node packages/spec/scripts/write-python.mjs` is run.
  it.each(Object.entries(pythonArtefacts()))('%s is generated from the current schema', (name, text) => {
    const committed = readFileSync(new URL(name, TRAINER), 'utf8');
    expect(committed, `${name} is stale: run npx tsc -b && node packages/spec/scripts/write-python.mjs`).toBe(
      text,
    );
  });
});
