import { describe, expect, it } from 'vitest';
import { storedPath } from '../src/artifacts.js';
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
      parseTrainerEvent({ type: 'collapse_warning', epoch: 1, step: 4, message: 'm', advice: ['x'] }),
    ).toMatchObject({ advice: ['x'] });
    expect(parseTrainerEvent({ type: 'status', status: 'running' })).toEqual({
      type: 'status',
      status: 'running',
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
    [{ type: 'eval', epoch: 1, step: 1, values: [] }, 'eval.values: expected an object'],
    [{ type: 'collapse_warning', epoch: 1, step: 1, message: 'm', advice: [1] }, 'collapse_warning.advice'],
  ])('rejects %o naming the field', (event, message) => {
    expect(() => parseTrainerEvent(event)).toThrow(InvalidTrainerEvent);
    expect(() => parseTrainerEvent(event)).toThrow(message);
  });
});

describe('stored artifact paths', () => {
  it('are relative inside the artifacts root and absolute outside it', () => {
    expect(storedPath('/data/artifacts', '/data/artifacts/run/attempt-1/c.pt')).toBe('run/attempt-1/c.pt');
    expect(storedPath('/data/artifacts/', '/data/artifacts-old/c.pt')).toBe('/data/artifacts-old/c.pt');
    expect(storedPath('/data/artifacts', '/elsewhere/c.pt')).toBe('/elsewhere/c.pt');
  });
});
