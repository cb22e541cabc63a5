import { describe, expect, it } from 'vitest';
import {
  isEvaluationMetric,
  isMetricName,
  LEARNING_CAUSES,
  learningCheck,
  metricGoal,
} from '../src/index.js';

const at = (step: number, values: Record<string, number | null>) =>
  Object.entries(values).map(([name, value]) => ({ name, value, step }));

describe('the learning check', () => {
  it('compares the first evaluation that has both values, at the smallest k', () => {
    const check = learningCheck([
      ...at(10, { 'knn_top1@20': 0.4 }), // no baseline at this step yet
      ...at(20, {
        'knn_top1@200': 0.5,
        'random_init_knn_top1@200': 0.3,
        'knn_top1@20': 0.61,
        'random_init_knn_top1@20': 0.452,
        linear_fast_top1: 0.7,
      }),
      ...at(30, { 'knn_top1@20': 0.2, 'random_init_knn_top1@20': 0.452 }),
    ]);
    expect(check).toEqual({
      metric: 'knn_top1@20',
      step: 20,
      value: 0.61,
      random_init: 0.452,
      gain_points: 15.8,
      learned: true,
      message: 'knn_top1@20 61.0 % against 45.2 % for the same backbone at random init (+15.8 points)',
      causes: [],
    });
  });

  it('says a run at or below random init is not learning, with the causes and the fields to change', () => {
    const check = learningCheck(at(6, { 'knn_top1@5': 0.3, 'random_init_knn_top1@5': 0.3 }));
    expect(check).toMatchObject({ learned: false, gain_points: 0, step: 6 });
    expect(check?.message).toBe(
      'knn_top1@5 30.0 % against 30.0 % for the same backbone at random init at the first evaluation (step 6): ' +
        'the features are no better than an untrained network',
    );
    expect(check?.causes).toEqual([...LEARNING_CAUSES]);
    expect(check?.causes.join(' ')).toContain('swav.prototypes');
  });

  it('is null without a k-NN pair, and ignores values that are not finite', () => {
    expect(learningCheck([])).toBeNull();
    expect(learningCheck(at(5, { linear_top1: 0.5, 'knn_top1@20': 0.5 }))).toBeNull();
    expect(learningCheck(at(5, { 'knn_top1@20': null, 'random_init_knn_top1@20': 0.4 }))).toBeNull();
  });

  it('knows the baseline as an evaluation metric to maximise', () => {
    expect(isMetricName('random_init_knn_top1@20')).toBe(true);
    expect(isEvaluationMetric('random_init_knn_top1@20')).toBe(true);
    expect(metricGoal('random_init_knn_top1@20')).toBe('max');
    expect(isMetricName('random_init_loss')).toBe(false);
  });
});
