import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { canonicalJson, type ExperimentSpec, hashValidSpec, trainingHash } from '../src/index.js';

// The vectors the Python trainer is checked against too (packages/trainer/tests/test_canonical.py).
interface Vectors {
  canonical: [unknown, string][];
  specs: { spec: ExperimentSpec; spec_hash: string; training_hash: string }[];
}

const vectors = JSON.parse(
  readFileSync(new URL('./vectors/spec-hash.json', import.meta.url), 'utf8'),
) as Vectors;

describe('the shared canonical JSON and hash vectors', () => {
  it.each(vectors.canonical)('canonicalJson(%j) is %s', (value, expected) => {
    expect(canonicalJson(value)).toBe(expected);
  });

  it.each(vectors.specs.map((v, i) => [i, v] as const))('spec %i hashes as recorded', (_, vector) => {
    expect(hashValidSpec(vector.spec)).toBe(vector.spec_hash);
    expect(trainingHash(vector.spec)).toBe(vector.training_hash);
  });

  it('leave metadata out of the identity and runtime, checkpoint and eval out of the resume identity', () => {
    const [named, , rerun] = vectors.specs;
    expect(named?.spec.name).toBe('renamed');
    const { name: _name, tags: _tags, recipe: _recipe, ...unnamed } = named?.spec ?? ({} as ExperimentSpec);
    expect(hashValidSpec({ ...unnamed, tags: [] } as ExperimentSpec)).toBe(named?.spec_hash);
    expect(rerun?.training_hash).toBe(named?.training_hash);
    expect(rerun?.spec_hash).not.toBe(named?.spec_hash);
  });
});
