import { CropNotationError, formatCrops, parseCrops } from '@swavlab/spec';
import { isCropGroups } from '@swavlab/spec/crop-notation';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cropGroups } from './arbitraries.js';

function cropError(notation: string): string {
  try {
    parseCrops(notation);
  } catch (error) {
    expect(error).toBeInstanceOf(CropNotationError);
    return (error as Error).message;
  }
  throw new Error(`parseCrops accepted ${JSON.stringify(notation)}`);
}

describe('parseCrops', () => {
  it('gives the first group the global-crop scales and later groups the local-crop scales', () => {
    expect(parseCrops('2x224+6x96')).toEqual([
      { count: 2, size: 224, min_scale: 0.14, max_scale: 1 },
      { count: 6, size: 96, min_scale: 0.05, max_scale: 0.14 },
    ]);
    expect(parseCrops('2x32+4x16+2x8')[2]).toEqual({ count: 2, size: 8, min_scale: 0.05, max_scale: 0.14 });
  });

  it('reads explicit scales, including exponent notation', () => {
    expect(parseCrops('2x224(0.2-0.9)+6x96(1e-7-0.5)')).toEqual([
      { count: 2, size: 224, min_scale: 0.2, max_scale: 0.9 },
      { count: 6, size: 96, min_scale: 1e-7, max_scale: 0.5 },
    ]);
    expect(parseCrops('2x224(0.14-1)+6x96(0.05-0.14)')).toEqual(parseCrops('2x224+6x96'));
  });

  it.each([
    ['', 'is empty'],
    ['2x', 'expected a crop size (digits) at character 3, found the end'],
    ['2x224+', 'expected a crop count (digits) at character 7, found the end'],
    ['0x96', 'group 1 "0x96" (character 1): count must be >= 1; got 0'],
    ['2x224+0x96', 'group 2 "0x96" (character 7): count must be >= 1; got 0'],
    ['65x96', 'count must be <= 64; got 65'],
    ['2x4', 'size must be >= 8; got 4'],
    ['2x2048', 'size must be <= 1024; got 2048'],
    ['2×224', 'found "×" (use a lowercase "x"'],
    ['2X224', 'found "X" (use a lowercase "x"'],
    [' 2x224', 'at character 1, found whitespace'],
    ['2x224 +6x96', 'at character 6, found whitespace'],
    ['2x224\n', 'at character 6, found whitespace'],
    ['2x224+6x96;', 'expected "+" or the end of the notation at character 11, found ";"'],
    ['99999999999999999999x96', 'crop count "99999999999999999999" at character 1 is too large'],
    ['2x1000000000000', 'crop size "1000000000000" at character 3 is too large'],
    ['02x224', 'has a leading zero'],
    ['1x224', 'at least 2 crops in total'],
    ['2x224(0.5-0.2)', 'min_scale must be < max_scale (0.2); got 0.5'],
    ['2x224(0-1)', 'min_scale must be > 0; got 0'],
    ['2x224(0.1-1.5)', 'max_scale must be <= 1; got 1.5'],
    ['2x224(1e999-1)', 'must be a finite number; got Infinity'],
    ['2x224(0.1-1', 'expected ")" after the maximum scale at character 12'],
    ['2x224(0.1)', 'expected "-" between the minimum and maximum scale at character 10'],
    ['2x224()', 'expected a minimum scale such as 0.14 at character 7'],
    ['-2x224', 'expected a crop count (digits) at character 1, found "-"'],
    ['2.5x224', 'expected "x" after the crop count at character 2, found "."'],
  ])('rejects %j: %s', (notation, problem) => {
    const message = cropError(notation);
    expect(message).toContain(`invalid crop notation ${JSON.stringify(notation)}`);
    expect(message).toContain(problem);
  });

  it('rejects any junk character inserted into a valid notation', () => {
    const junk = fc.constantFrom(' ', '\t', '\n', '×', 'X', '(', ')', '.', '-', '*', 'a', ',');
    fc.assert(
      fc.property(cropGroups, junk, fc.nat(), (groups, ch, at) => {
        const notation = formatCrops(groups);
        const i = at % (notation.length + 1);
        const broken = `${notation.slice(0, i)}${ch}${notation.slice(i)}`;
        expect(cropError(broken)).toMatch(/character \d+|group \d+/);
      }),
      { numRuns: 300 },
    );
  });
});

describe('formatCrops', () => {
  it('omits scales equal to the positional defaults and spells out the others', () => {
    expect(formatCrops(parseCrops('2x224+6x96'))).toBe('2x224+6x96');
    expect(formatCrops(parseCrops('2x224(0.14-1)+6x96(0.05-0.14)'))).toBe('2x224+6x96');
    // The first group's defaults are not the later groups' defaults, so moving a group changes its spelling.
    expect(
      formatCrops([
        { count: 6, size: 96, min_scale: 0.05, max_scale: 0.14 },
        { count: 2, size: 224, min_scale: 0.14, max_scale: 1 },
      ]),
    ).toBe('6x96(0.05-0.14)+2x224(0.14-1)');
  });

  it('recognises structured crop groups (in a grid key, say) and nothing else', () => {
    expect(isCropGroups(parseCrops('2x32(0.3-1)+4x16(0.15-0.4)'))).toBe(true);
    for (const other of [
      [],
      '2x32',
      [30, 100],
      [{ count: 2, size: 32 }],
      [{ ...parseCrops('2x32')[0], x: 1 }],
      null,
    ]) {
      expect(isCropGroups(other), JSON.stringify(other)).toBe(false);
    }
  });

  it('round-trips every valid structured crop list through the notation', () => {
    fc.assert(
      fc.property(cropGroups, (groups) => {
        expect(parseCrops(formatCrops(groups))).toEqual(groups);
      }),
      { numRuns: 500 },
    );
  });

  it('returns canonical notation unchanged after parsing', () => {
    fc.assert(
      fc.property(cropGroups, (groups) => {
        const canonical = formatCrops(groups);
        expect(formatCrops(parseCrops(canonical))).toBe(canonical);
      }),
      { numRuns: 500 },
    );
  });
});
