// Recipes over REST: listing them, submitting a spec that names one (stored expanded, hashed like the written-out
// spec), and the warnings a likely-wasted spec gets at submit time.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RECIPE_NAMES } from '@swavlab/spec';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tinySpec } from './fixtures.js';
import { expectProblem, type Harness, startHarness } from './harness.js';

describe('recipes and submit-time warnings', () => {
  let h: Harness;
  let roots: string;

  beforeAll(async () => {
    roots = mkdtempSync(join(tmpdir(), 'swavlab-recipes-'));
    mkdirSync(join(roots, 'cifar-10-batches-py'));
    // A small folder: 5 images in two classes (and a file that is not an image).
    for (const [cls, count] of [
      ['a', 3],
      ['b', 2],
    ] as const) {
      mkdirSync(join(roots, 'small', cls), { recursive: true });
      for (let i = 0; i < count; i++) writeFileSync(join(roots, 'small', cls, `${i}.JPG`), 'x');
    }
    writeFileSync(join(roots, 'small', 'labels.txt'), 'not an image');
    h = await startHarness({ config: { dataRoots: [roots] } });
  });
  afterAll(async () => {
    await h?.close();
    rmSync(roots, { recursive: true, force: true });
  });

  const post = (url: string, payload: unknown) =>
    h.app.inject({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/json' },
      payload: payload as object,
    });

  it('lists every recipe with its source and the fields it sets', async () => {
    const response = await h.app.inject({ method: 'GET', url: '/v1/recipes' });
    expect(response.statusCode).toBe(200);
    const { recipes } = response.json() as { recipes: { name: string; source: string; spec: object }[] };
    expect(recipes.map((r) => r.name)).toEqual([...RECIPE_NAMES]);
    const bs256 = recipes.find((r) => r.name === 'swav-bs256-queue');
    expect(bs256?.spec).toMatchObject({ swav: { queue_length: 3840 }, optim: { base_lr: 0.6 } });
    expect(bs256?.source).toContain('swav_400ep_bs256_pretrain.sh');
    const one = await h.app.inject({ method: 'GET', url: '/v1/recipes/cifar10' });
    expect(one.json()).toMatchObject({ name: 'cifar10', spec: { data: { source: 'cifar10' } } });
    expectProblem(await h.app.inject({ method: 'GET', url: '/v1/recipes/imagenet' }), 404, 'not_found');
  });

  it('stores the expanded spec: naming the recipe or writing it out is the same run', async () => {
    const named = await post('/v1/runs', {
      recipe: 'cifar10',
      data: { path: 'cifar-10-batches-py' },
      optim: { epochs: 60 },
    });
    expect(named.statusCode, named.body).toBe(201);
    const run = named.json();
    expect(run.spec).toMatchObject({
      recipe: 'cifar10',
      data: { source: 'cifar10', path: 'cifar-10-batches-py' },
      model: { arch: 'resnet18', small_stem: true },
      swav: { queue_length: 3840, queue_start_epoch: 50 },
      optim: { base_lr: 0.6, batch_size: 256, epochs: 60 },
    });
    expect(run.warnings).toEqual([]);
    const { recipe: _recipe, ...written } = run.spec;
    const again = await post('/v1/runs', written);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ id: run.id, deduplicated: true });
  });

  it('accepts a spec whose Sinkhorn batch is far below K, with a warning saying what to change', async () => {
    const response = await post('/v1/runs', tinySpec({ swav: { prototypes: 300 }, seed: 77 }));
    expect(response.statusCode, response.body).toBe(201);
    expect(response.json().warnings).toEqual([
      {
        path: 'swav.prototypes',
        message: expect.stringMatching(/^Sinkhorn spreads 16 samples over 300 prototypes/),
      },
    ]);
  });

  it("counts a small folder's images and points its untuned spec to the small-data recipe", async () => {
    const untuned = await post('/v1/runs', { data: { source: 'folder', path: 'small' }, seed: 78 });
    expect(untuned.statusCode, untuned.body).toBe(201);
    expect(untuned.json().warnings).toContainEqual({
      path: 'recipe',
      message: expect.stringMatching(/^the dataset has 5 images \(fewer than 50000\).*--recipe small-data/),
    });
    const recipe = await post('/v1/runs', { recipe: 'small-data', data: { path: 'small' }, seed: 78 });
    expect(recipe.statusCode, recipe.body).toBe(201);
    expect(recipe.json().warnings).toEqual([]);
  });

  it('tells a grid its warnings once per message, with the cells that share it', async () => {
    const response = await post('/v1/grids?dry_run=true', {
      base: tinySpec(),
      axes: { 'swav.prototypes': [8, 300, 400] },
      seeds: [1, 2],
    });
    expect(response.statusCode, response.body).toBe(200);
    const { warnings } = response.json() as {
      warnings: { path: string; cells: number; first_cell: number }[];
    };
    expect(warnings.map(({ path, cells, first_cell }) => ({ path, cells, first_cell }))).toEqual([
      { path: 'swav.prototypes', cells: 2, first_cell: 2 },
      { path: 'swav.prototypes', cells: 2, first_cell: 4 },
    ]);
  });
});
