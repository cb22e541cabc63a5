import { describe, expect, it } from 'vitest';
import { artifactKey, localPathOf } from '../src/artifacts.js';
import { InvalidTrainerEvent, parseTrainerEvent } from '../src/trainer-events.js';

const sha256 = 'a'.repeat(64);

describe('trainer events', () => {
  it('parses each event type the trainer sends', () => {
    expect(
      parseTrainerEvent({ type: 'progress', epoch: 2, step: 9, total_steps: 18, eta_seconds: null }),
    ).toEqual({ type: 'progress', epoch: 2, step: 9, totalSteps: 18, etaSeconds: null });
    expect(
      parseTrainerEvent({ type: 'metrics', epoch: 1, step: 3, values: { loss: 2.5, lr: null } }),
    ).toEqual({
      type: 'metrics',
      epoch: 1,
      step: 3,
      values: { loss: 2.5, lr: null },
    });
    expect(
      parseTrainerEvent({ type: 'checkpoint', path: '/a/b.pt', sha256, bytes: 10, epoch: 1, step: 6 }),
    ).toEqual({ type: 'checkpoint', path: '/a/b.pt', sha256, bytes: 10, epoch: 1, step: 6 });
    expect(
      parseTrainerEvent({
        type: 'artifact',
        name: 'backbone',
        path: '/a/backbone.pt',
        sha256,
        bytes: 9,
        step: 6,
      }),
    ).toEqual({ type: 'artifact', name: 'backbone', path: '/a/backbone.pt', sha256, bytes: 9, step: 6 });
    expect(
      parseTrainerEvent({ type: 'collapse_warning', epoch: 1, step: 4, message: 'm', advice: ['x'] }),
    ).toMatchObject({ advice: ['x'] });
    const counts = {
      pretrain_images: 102,
      eval_train_images: 102,
      eval_test_images: 26,
      classes: 10,
      skipped: 1,
    };
    expect(
      parseTrainerEvent({ type: 'dataset', source: 'folder', ...counts, skipped_files: ['a/b.jpg'] }),
    ).toEqual({ type: 'dataset', dataset: { source: 'folder', ...counts, skipped_files: ['a/b.jpg'] } });
    expect(() => parseTrainerEvent({ type: 'dataset', source: 'folder', ...counts, classes: -1 })).toThrow(
      'dataset.classes: expected an integer >= 0, got -1',
    );
    expect(() => parseTrainerEvent({ type: 'dataset', ...counts })).toThrow(
      'dataset.source: expected a string',
    );
    expect(parseTrainerEvent({ type: 'status', status: 'running' })).toEqual({
      type: 'status',
      status: 'running',
    });
    expect(
      parseTrainerEvent({
        type: 'metrics_batch',
        points: [
          { epoch: 1, step: 1, values: { loss: 3 } },
          { epoch: 1, step: 2, values: { loss: null } },
        ],
      }),
    ).toEqual({
      type: 'metrics_batch',
      points: [
        { epoch: 1, step: 1, values: { loss: 3 } },
        { epoch: 1, step: 2, values: { loss: null } },
      ],
    });
    expect(
      parseTrainerEvent({
        type: 'eval_progress',
        evaluation: 'linear_paper',
        epoch: 3,
        epochs: 100,
        values: { loss: 1.5, top1: null },
      }),
    ).toEqual({
      type: 'eval_progress',
      evaluation: 'linear_paper',
      epoch: 3,
      epochs: 100,
      values: { loss: 1.5, top1: null },
    });
    expect(parseTrainerEvent({ type: 'something_new' })).toBeNull();
  });

  it.each([
    [{ type: 'metrics', epoch: 1, step: -1, values: {} }, 'metrics.step: expected an integer >= 0, got -1'],
    [
      { type: 'metrics', epoch: 1, step: 1, values: { loss: 'x' } },
      'metrics.values.loss: expected a number or null',
    ],
    [{ type: 'checkpoint', path: 'p', sha256: 'XYZ', bytes: 1, epoch: 1, step: 1 }, 'checkpoint.sha256'],
    [{ type: 'artifact', name: 'b', path: 'p', sha256: '0', bytes: 1, step: 1 }, 'artifact.sha256'],
    [
      { type: 'artifact', path: 'p', sha256: 'a'.repeat(64), bytes: 1, step: 1 },
      'artifact.name: expected a string',
    ],
    [{ type: 'eval', epoch: 1, step: 1, values: [] }, 'eval.values: expected an object'],
    [{ type: 'metrics_batch', points: [] }, 'metrics_batch.points: expected a non-empty array'],
    [
      { type: 'metrics_batch', points: [{ epoch: 1, step: 'x', values: {} }] },
      'metrics_batch.points[0].step: expected an integer >= 0',
    ],
    [{ type: 'collapse_warning', epoch: 1, step: 1, message: 'm', advice: [1] }, 'collapse_warning.advice'],
    [{ type: 'eval_progress', evaluation: 'semisup', epoch: 1, values: {} }, 'eval_progress.epochs'],
  ])('rejects %o naming the field', (event, message) => {
    expect(() => parseTrainerEvent(event)).toThrow(InvalidTrainerEvent);
    expect(() => parseTrainerEvent(event)).toThrow(message);
  });
});

describe('artifact keys of trainer files', () => {
  it('are paths relative to the attempt folders, and nothing outside them gets one', () => {
    expect(artifactKey('/data/artifacts', '/data/artifacts/run/attempt-1/c.pt')).toBe('run/attempt-1/c.pt');
    expect(localPathOf('/scratch', 'run/attempt-1/c.pt')).toBe('/scratch/run/attempt-1/c.pt');
    expect(() => artifactKey('/data/artifacts/', '/data/artifacts-old/c.pt')).toThrow(/outside its attempt/);
    expect(() => artifactKey('/data/artifacts', '/elsewhere/c.pt')).toThrow(/outside its attempt/);
    expect(() => artifactKey('/data/artifacts', '/data/artifacts')).toThrow(/outside its attempt/);
  });
});
