import { describe, expect, it } from 'vitest';
import {
  type ExperimentSpec,
  hashValidSpec,
  parseExperimentSpec,
  RECIPE_NAMES,
  RECIPES,
  specHash,
  specWarnings,
} from '../src/index.js';

function parsed(input: unknown): ExperimentSpec {
  const result = parseExperimentSpec(input);
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.spec;
}

describe('recipes', () => {
  it.each(RECIPE_NAMES)('%s expands to a valid spec once data.path is given', (name) => {
    const spec = parsed({ recipe: name, data: { path: 'datasets/x' } });
    expect(spec.recipe).toBe(name);
    expect(spec.data.path).toBe('datasets/x');
    expect(specWarnings(spec)).toEqual([]);
  });

  it('sets what the paper states for the 256-batch recipe', () => {
    const spec = parsed({ recipe: 'swav-bs256-queue', data: { path: 'imagenet' } });
    expect(spec.optim).toMatchObject({ base_lr: 0.6, final_lr: 0.0006, warmup_epochs: 0, batch_size: 64 });
    expect(spec.swav).toMatchObject({
      queue_length: 3840,
      queue_start_epoch: 15,
      freeze_prototypes_iters: 5005,
    });
    expect(spec.optim.batch_size * spec.runtime.gpus).toBe(256);
    expect(spec.eval.linear?.protocol).toBe('paper');
  });

  it('lets the spec override any field, nested fields one by one and arrays whole', () => {
    const spec = parsed({
      recipe: 'cifar10',
      data: { path: 'c' },
      optim: { epochs: 20 },
      swav: { crops_for_assign: [1] },
      eval: { linear: null },
    });
    expect(spec.optim).toMatchObject({ epochs: 20, base_lr: 0.6, batch_size: 256 });
    expect(spec.swav.crops_for_assign).toEqual([1]);
    expect(spec.swav.queue_length).toBe(3840);
    expect(spec.eval.linear).toBeNull();
  });

  it('gives the same hash whether the recipe is named or written out', () => {
    const named = parsed({ recipe: 'swav-2x224', data: { path: 'imagenet' } });
    const { recipe: _recipe, ...written } = named;
    expect(specHash(written)).toBe(hashValidSpec(named));
    expect(specHash({ ...written, recipe: 'swav-bs4096' })).toBe(hashValidSpec(named));
  });

  it('names an unknown recipe and lists the known ones', () => {
    const result = parseExperimentSpec({ recipe: 'swav-bs512' });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]?.path).toBe('recipe');
    expect(result.errors[0]?.message).toContain('swav-bs256-queue');
  });

  it('cites a source for every recipe', () => {
    for (const recipe of Object.values(RECIPES)) {
      // A published source, or the repository's own measurements.
      expect(recipe.source).toMatch(/^(https:\/\/|packages\/trainer\/docs\/)/);
      expect(recipe.description.length).toBeGreaterThan(80);
    }
  });
});

describe('specWarnings', () => {
  it('warns when Sinkhorn sees fewer samples than prototypes, and says what to change', () => {
    const warnings = specWarnings(
      parsed({
        data: { source: 'cifar10', path: 'c' },
        optim: { batch_size: 64 },
        swav: { prototypes: 3000 },
      }),
    );
    expect(warnings).toEqual([
      {
        path: 'swav.prototypes',
        message:
          'Sinkhorn spreads 64 samples over 3000 prototypes; with fewer samples than prototypes the codes flatten ' +
          'towards uniform and the run may not learn. Set swav.queue_length to 2944 or more (a multiple of ' +
          'optim.batch_size × ranks = 64), raise optim.batch_size, or lower swav.prototypes to 64 or less',
      },
    ]);
  });

  it('counts every rank and the queue', () => {
    const large = { source: 'cifar10', path: 'c' } as const;
    expect(
      specWarnings(
        parsed({
          data: large,
          optim: { batch_size: 64 },
          runtime: { processes: 4 },
          swav: { prototypes: 256 },
        }),
      ),
    ).toEqual([]);
    expect(
      specWarnings(
        parsed({ data: large, optim: { batch_size: 64 }, swav: { prototypes: 3000, queue_length: 2944 } }),
      ),
    ).toEqual([]);
  });

  it('points a small dataset with the ImageNet defaults to the small-data recipe', () => {
    const untuned = { optim: { batch_size: 64 }, swav: { queue_length: 3008 } };
    const smallData = {
      path: 'recipe',
      message: expect.stringMatching(
        /^the dataset has 4096 images \(fewer than 50000\), and the paper's defaults .* --recipe small-data/,
      ),
    };
    expect(specWarnings(parsed(untuned))).toEqual([smallData]);
    // The spec does not tell a folder's size: the caller counts it.
    const folder = parsed({ ...untuned, data: { source: 'folder', path: 'f' } });
    expect(specWarnings(folder)).toEqual([]);
    expect(specWarnings(folder, { images: 400 })[0]?.message).toMatch(/^the dataset has 400 images/);
    expect(specWarnings(folder, { images: 50_000 })).toEqual([]);
    // Tuned K, a recipe, or a large source: nothing to say.
    expect(specWarnings(parsed({ ...untuned, swav: { prototypes: 60 } }))).toEqual([]);
    expect(specWarnings(parsed({ ...untuned, recipe: 'small-data', data: { path: 'f' } }))).toEqual([]);
    expect(specWarnings(parsed({ ...untuned, data: { source: 'stl10', path: 's' } }))).toEqual([]);
    expect(specWarnings(parsed({ ...untuned, data: { source: 'digits' } }))[0]?.message).toMatch(
      / 1797 images /,
    );
  });

  it('warns about a queue that starts after the last epoch', () => {
    const spec = parsed({
      optim: { epochs: 10, warmup_epochs: 0 },
      swav: { prototypes: 10, queue_length: 640 },
    });
    expect(specWarnings(spec)).toEqual([
      {
        path: 'swav.queue_start_epoch',
        message: 'is 15 but the run trains 10 epochs, so the queue is never used',
      },
    ]);
  });
});
