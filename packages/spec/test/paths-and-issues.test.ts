import { formatPath, getAtPath, issuesFromZod, setAtPath, splitDottedPath } from '@swavlab/spec';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';

describe('paths', () => {
  it('formats zod paths the way researchers write them', () => {
    expect(formatPath(['swav', 'crops_for_assign', 2])).toBe('swav.crops_for_assign[2]');
    expect(formatPath(['axes', 'swav.prototypes', 0])).toBe('axes["swav.prototypes"][0]');
    expect(formatPath([0, 'count'])).toBe('[0].count');
    expect(formatPath([])).toBe('');
  });

  it('reads dotted paths, missing steps giving undefined', () => {
    const spec = { swav: { prototypes: 3000 }, eval: { knn: null } };
    expect(getAtPath(spec, 'swav.prototypes')).toBe(3000);
    expect(getAtPath(spec, 'swav')).toEqual({ prototypes: 3000 });
    expect(getAtPath(spec, 'eval.knn')).toBeNull();
    expect(getAtPath(spec, 'eval.knn.k')).toBeUndefined();
    expect(getAtPath(spec, 'optim.base_lr')).toBeUndefined();
    expect(getAtPath(spec, 'swav.toString')).toBeUndefined();
  });

  it('writes a copy, sharing untouched branches and creating missing sections', () => {
    const base = { swav: { prototypes: 3000, epsilon: 0.05 }, optim: { epochs: 10 } };
    const out = setAtPath(base, 'swav.prototypes', 300);
    expect(out).toEqual({ swav: { prototypes: 300, epsilon: 0.05 }, optim: { epochs: 10 } });
    expect(base.swav.prototypes).toBe(3000);
    expect(out.optim).toBe(base.optim);
    expect(setAtPath({}, 'eval.knn.k', [5])).toEqual({ eval: { knn: { k: [5] } } });
  });

  it('refuses to write through a value that is not an object', () => {
    expect(() => setAtPath({ eval: { knn: null } }, 'eval.knn.k', [5])).toThrow(
      'cannot set "eval.knn.k": "eval.knn" is null, not an object',
    );
    expect(() => setAtPath({ seed: 3 }, 'seed.x', 1)).toThrow('"seed" is 3');
    expect(() => splitDottedPath('swav..prototypes')).toThrow('empty segment');
  });
});

describe('issuesFromZod on schemas other than the spec', () => {
  const Body = z.strictObject({
    priority: z.int().min(0).max(10),
    mode: z.union([z.literal('a'), z.strictObject({ level: z.number().positive() })]),
    note: z.string().refine((s) => !s.includes('!'), { message: 'must not shout' }),
  });

  it('words built-in checks, keeps custom messages and picks the union branch the input aimed at', () => {
    const result = Body.safeParse(
      { priority: 11, mode: { level: -1 }, note: 'hi!', extra: 1 },
      { reportInput: true },
    );
    expect(result.success).toBe(false);
    if (result.success) return;
    expect(issuesFromZod(result.error, { schema: Body, prefix: ['body'] })).toEqual([
      { path: 'body.priority', message: 'must be <= 10; got 11' },
      { path: 'body.mode.level', message: 'must be > 0; got -1' },
      { path: 'body.note', message: 'must not shout' },
      { path: 'body.extra', message: 'unknown field "extra"' },
    ]);
  });

  it('says which types a union accepts when the input matches none', () => {
    const result = Body.safeParse({ priority: 1, mode: 3, note: '' }, { reportInput: true });
    if (result.success) throw new Error('accepted');
    expect(issuesFromZod(result.error)).toEqual([
      { path: 'mode', message: 'expected "a" or an object; got 3' },
    ]);
  });

  it('says a missing union field is required', () => {
    const result = Body.safeParse({ priority: 1, note: '' }, { reportInput: true });
    if (result.success) throw new Error('accepted');
    expect(issuesFromZod(result.error)).toEqual([{ path: 'mode', message: 'is required' }]);
  });

  it('works without reportInput, just without the offending value', () => {
    const result = Body.safeParse({ priority: 1.5, note: '' });
    if (result.success) throw new Error('accepted');
    expect(issuesFromZod(result.error)).toEqual([
      { path: 'priority', message: 'expected an integer' },
      { path: 'mode', message: 'expected "a" or an object' },
    ]);
  });
});
