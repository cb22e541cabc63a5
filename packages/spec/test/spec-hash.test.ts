import { createHash } from 'node:crypto';
import {
  canonicalJson,
  type ExperimentSpec,
  formatCrops,
  getAtPath,
  parseExperimentSpec,
  rankCount,
  SPEC_LEAF_PATHS,
  SpecValidationError,
  setAtPath,
  specHash,
} from '@swavlab/spec';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { randomSource, shuffleKeys, specInput } from './arbitraries.js';

function parsed(input: unknown): ExperimentSpec {
  const result = parseExperimentSpec(input);
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.spec;
}

describe('canonicalJson', () => {
  it('sorts keys recursively, keeps array order and drops undefined entries', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null }, u: undefined })).toBe(
      '{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}',
    );
  });

  it('rejects values JSON cannot represent', () => {
    expect(() => canonicalJson({ a: Number.NaN })).toThrow(/NaN has no JSON form/);
    expect(() => canonicalJson([undefined])).toThrow(/undefined inside an array/);
    expect(() => canonicalJson(10n)).toThrow(/bigint has no JSON form/);
  });
});

describe('specHash', () => {
  it('is the sha256 of the canonical JSON of the defaulted spec without name and tags', () => {
    const { name: _name, tags: _tags, ...identity } = parsed({ name: 'x', tags: ['a'] });
    const expected = createHash('sha256').update(canonicalJson(identity)).digest('hex');
    expect(specHash({ name: 'x', tags: ['a'] })).toBe(expected);
    expect(specHash({})).toMatch(/^[0-9a-f]{64}$/);
  });

  it('throws a SpecValidationError naming the path for an invalid spec', () => {
    expect(() => specHash({ swav: { prototypes: 1 } })).toThrow(SpecValidationError);
    expect(() => specHash({ swav: { prototypes: 1 } })).toThrow('swav.prototypes: must be >= 2; got 1');
  });

  it('does not depend on key order', () => {
    fc.assert(
      fc.property(specInput, fc.integer(), (input, seed) => {
        expect(specHash(shuffleKeys(input, randomSource(seed)))).toBe(specHash(input));
      }),
      { numRuns: 200 },
    );
  });

  it('treats explicit defaults like omitted fields', () => {
    fc.assert(
      fc.property(specInput, (input) => {
        // The parsed spec is the input with every default spelled out.
        expect(specHash(parsed(input))).toBe(specHash(input));
      }),
      { numRuns: 200 },
    );
    expect(specHash({ seed: 31, swav: { prototypes: 3000, crops: '2x224+6x96' }, eval: {} })).toBe(
      specHash({}),
    );
  });

  it('treats crop notation like its structured form', () => {
    fc.assert(
      fc.property(specInput, (input) => {
        const crops = parsed(input).swav.crops;
        const asNotation = { ...input, swav: { ...input.swav, crops: formatCrops(crops) } };
        const asStructure = { ...input, swav: { ...input.swav, crops } };
        expect(specHash(asNotation)).toBe(specHash(asStructure));
      }),
      { numRuns: 200 },
    );
  });

  it('ignores the metadata fields name and tags', () => {
    fc.assert(
      fc.property(specInput, fc.string({ minLength: 1, maxLength: 10 }), (input, name) => {
        expect(specHash({ ...input, name, tags: ['other'] })).toBe(specHash(input));
      }),
      { numRuns: 100 },
    );
  });

  const METADATA = new Set(['name', 'tags', 'recipe']);

  /** Candidate replacements for the value at a leaf path; the first one that gives a valid spec is used. */
  function alternatives(spec: ExperimentSpec, path: string, value: unknown): unknown[] {
    const enums: Record<string, string[]> = {
      'data.source': ['synthetic', 'digits'],
      'eval.linear.protocol': ['fast', 'paper'],
      'model.arch': ['tiny', 'resnet18', 'resnet50', 'resnet50w2', 'resnet50w4', 'resnet50w5'],
      'swav.assignment': ['soft', 'hard'],
      'swav.prototypes_mode': ['learned', 'fixed'],
      'optim.optimizer': ['lars', 'sgd'],
      'runtime.device': ['auto', 'cpu', 'cuda'],
      'runtime.precision': ['fp32', 'fp16', 'bf16'],
    };
    if (typeof value === 'string' && /(path|_file|init_from)$/.test(path)) return [`${value}x`];
    if (path === 'data.classes') return [['a', 'c']];
    if (path === 'eval.semisup.fraction') return [0.01, 0.1];
    if (path === 'eval.semisup.decay_epochs') return [[5], [6]];
    if (value === null) return [0.5];
    if (path === 'swav.queue_length') {
      const step = spec.optim.batch_size * rankCount(spec.runtime);
      return [spec.swav.queue_length + step, spec.swav.queue_length - step];
    }
    if (path === 'swav.crops') return ['2x32+2x16', '2x32+3x16'];
    if (path === 'swav.crops_for_assign') return [[1, 0], [0]];
    if (path === 'eval.knn.k') return [[7], [8]];
    const options = enums[path];
    if (options) return options.filter((o) => o !== value);
    if (typeof value === 'boolean') return [!value];
    if (typeof value === 'number') return [value + 1, value - 1, value / 2, value * 0.9];
    throw new Error(`no alternatives for ${path}`);
  }

  it('changes when any single field changes, seed included', () => {
    const fields = SPEC_LEAF_PATHS.filter((p) => !METADATA.has(p));
    fc.assert(
      fc.property(specInput, fc.constantFrom(...fields), (input, path) => {
        const spec = parsed(input);
        const current = getAtPath(spec, path);
        fc.pre(current !== undefined);
        const changed = alternatives(spec, path, current)
          .filter((alternative) => canonicalJson(alternative) !== canonicalJson(current))
          .map((alternative) => setAtPath(spec, path, alternative))
          .find((candidate) => parseExperimentSpec(candidate).ok);
        fc.pre(changed !== undefined);
        expect(specHash(changed as ExperimentSpec)).not.toBe(specHash(spec));
      }),
      { numRuns: 400 },
    );
  });

  it('has a hash-changing alternative for every field (the property above covers them all)', () => {
    const bases = [
      parsed({}),
      parsed({ data: { source: 'folder', path: 'p' } }),
      parsed({
        data: { source: 'imagefolder', path: 'p', classes: ['a', 'b'] },
        model: { init_from: 'w.pth' },
        eval: { semisup: { subset_file: 's.txt' } },
      }),
      parsed({ data: { source: 'imagefolder', path: 'p', classes_file: 'c.txt' } }),
      parsed({ data: { seed: 5 } }),
    ];
    for (const path of SPEC_LEAF_PATHS.filter((p) => !METADATA.has(p))) {
      const changedHashes = bases.flatMap((spec) => {
        const current = getAtPath(spec, path);
        if (current === undefined) return [];
        return alternatives(spec, path, current)
          .map((alternative) => setAtPath(spec, path, alternative))
          .filter((candidate) => parseExperimentSpec(candidate).ok)
          .map((candidate) => specHash(candidate as ExperimentSpec))
          .filter((hash) => hash !== specHash(spec));
      });
      expect(changedHashes.length, path).toBeGreaterThan(0);
    }
  });

  it('changes when a nested evaluation is switched off', () => {
    expect(specHash({ eval: { knn: null } })).not.toBe(specHash({}));
    expect(specHash({ eval: { linear: null } })).not.toBe(specHash({ eval: { knn: null } }));
  });
});
