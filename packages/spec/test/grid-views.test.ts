// Metric directions and the seeds request of the grid wire views.
import { describe, expect, it } from 'vitest';
import { GridSeedsRequest, issuesFromZod, metricGoal } from '../src/index.js';

describe('metricGoal', () => {
  it('maximises accuracies and throughput, minimises the loss and costs, and has no goal for the lr', () => {
    for (const name of ['knn_top1@20', 'knn_top1@200', 'linear_top1', 'linear_fast_top5', 'semisup_top1']) {
      expect(metricGoal(name), name).toBe('max');
    }
    expect(metricGoal('images_per_sec')).toBe('max');
    for (const name of ['loss', 'epoch_seconds', 'peak_memory_bytes'])
      expect(metricGoal(name), name).toBe('min');
    expect(metricGoal('lr')).toBeNull();
    expect(metricGoal('accuracy')).toBeNull();
  });
});

describe('GridSeedsRequest', () => {
  const paths = (body: unknown) => {
    const result = GridSeedsRequest.safeParse(body);
    return result.success ? [] : issuesFromZod(result.error, { schema: GridSeedsRequest }).map((i) => i.path);
  };

  it('takes seeds or add, exactly one, and names the field it refuses', () => {
    expect(GridSeedsRequest.parse({ seeds: [3, 4] })).toEqual({ seeds: [3, 4] });
    expect(GridSeedsRequest.parse({ add: 2 })).toEqual({ add: 2 });
    expect(paths({})).toEqual(['seeds']);
    expect(paths({ seeds: [1], add: 1 })).toEqual(['add']);
    expect(paths({ seeds: [1, 1] })).toEqual(['seeds[1]']);
    expect(paths({ add: 1001 })).toEqual(['add']);
    expect(paths({ add: 1, extra: true })).toEqual(['extra']);
  });
});
