import { CropNotationError, expandGrid, parseCrops, parseExperimentSpec } from '@swavlab/spec';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

/** Whatever a client sends, the answer is a result with errors, never an exception. */
describe('robustness against arbitrary input', () => {
  const json = fc.jsonValue({ maxDepth: 4 });
  const specLike = fc.record(
    {
      seed: json,
      swav: fc.dictionary(
        fc.constantFrom('prototypes', 'crops', 'crops_for_assign', 'queue_length', 'x'),
        json,
      ),
      optim: json,
      __proto__: json,
      constructor: json,
    },
    { requiredKeys: [] },
  );

  it('parseExperimentSpec returns errors with string paths and messages', () => {
    fc.assert(
      fc.property(fc.oneof(json, specLike), (input) => {
        const result = parseExperimentSpec(input);
        if (!result.ok) {
          expect(result.errors.length).toBeGreaterThan(0);
          for (const e of result.errors)
            expect(typeof e.path === 'string' && e.message.length > 0).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('expandGrid returns errors for malformed grids', () => {
    const gridLike = fc.record(
      {
        base: fc.oneof(json, specLike),
        axes: fc.dictionary(
          fc.oneof(fc.string(), fc.constantFrom('swav.prototypes', 'eval.knn.k', 'swav.crops')),
          json,
        ),
        seeds: json,
        metric: json,
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.oneof(json, gridLike), (input) => {
        const result = expandGrid(input);
        if (!result.ok) expect(result.errors.length).toBeGreaterThan(0);
      }),
      { numRuns: 300 },
    );
  });

  it('parseCrops throws nothing but CropNotationError', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.stringMatching(/^[0-9x+().e-]{0,20}$/)), (notation) => {
        try {
          parseCrops(notation);
        } catch (error) {
          expect(error).toBeInstanceOf(CropNotationError);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
