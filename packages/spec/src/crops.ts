import { z } from 'zod';
import { defaultScales } from './crop-notation.js';
import { issuesFromZod, WHEN_FIELDS_VALID } from './issues.js';

export { defaultScales, formatCrops } from './crop-notation.js';

/**
 * Multi-crop settings (SwAV §3.1). The notation `2x224+6x96` means 2 crops of 224 px and 6 of 96 px; a group
 * may carry explicit RandomResizedCrop scales, `2x224(0.14-1)`. Without them the first group gets the paper's
 * global-crop scales (0.14, 1) and every later group the local-crop scales (0.05, 0.14).
 */

export const DEFAULT_CROPS = '2x224+6x96';

export const CropGroup = z
  .strictObject({
    count: z.int().min(1).max(64),
    size: z.int().min(8).max(1024),
    min_scale: z.number().gt(0).lt(1),
    max_scale: z.number().gt(0).lte(1),
  })
  .superRefine((group, ctx) => {
    if (group.min_scale >= group.max_scale) {
      ctx.addIssue({
        code: 'custom',
        path: ['min_scale'],
        input: group.min_scale,
        message: `must be < max_scale (${group.max_scale}); got ${group.min_scale}`,
      });
    }
  }, WHEN_FIELDS_VALID);
export type CropGroup = z.output<typeof CropGroup>;

/** Total number of crops an image yields, i.e. the length of the flattened crop list. */
export function totalCrops(groups: readonly CropGroup[]): number {
  return groups.reduce((sum, g) => sum + g.count, 0);
}

/** SwAV swaps codes between views, so an image yields at least two crops. */
export const MIN_TOTAL_CROPS = 2;

export const CropGroups = z
  .array(CropGroup)
  .min(1)
  .superRefine((groups, ctx) => {
    const total = totalCrops(groups);
    if (total < MIN_TOTAL_CROPS) {
      ctx.addIssue({
        code: 'custom',
        input: groups,
        message: `must define at least ${MIN_TOTAL_CROPS} crops in total (SwAV swaps codes between views); got ${total}`,
      });
    }
  }, WHEN_FIELDS_VALID);

/** A malformed crop notation; the message says what is wrong and at which character. */
export class CropNotationError extends Error {
  readonly notation: string;

  constructor(notation: string, problem: string) {
    super(`invalid crop notation ${JSON.stringify(notation)}: ${problem}`);
    this.name = 'CropNotationError';
    this.notation = notation;
  }
}

/** The notation's longest count or size, in digits, and longest scale, in characters. */
export const MAX_INTEGER_DIGITS = 9;
export const MAX_SCALE_CHARS = 32;
// What String(x) produces for a number in (0, 1], so that every valid scale has a spelling.
const SCALE_TOKEN = /^[0-9]+(?:\.[0-9]+)?(?:e[+-]?[0-9]+)?/;

/** A left-to-right reader over the notation that reports 1-based character positions. */
class Reader {
  pos = 0;

  constructor(readonly text: string) {}

  peek(): string | undefined {
    return this.text[this.pos];
  }

  fail(expected: string): never {
    throw new CropNotationError(
      this.text,
      `expected ${expected} at character ${this.pos + 1}, ${this.found()}`,
    );
  }

  private found(): string {
    const ch = this.peek();
    if (ch === undefined) return 'found the end of the notation';
    if (/\s/.test(ch)) return 'found whitespace (the notation has no spaces)';
    if (ch === '×' || ch === 'X') return `found "${ch}" (use a lowercase "x" between count and size)`;
    return `found ${JSON.stringify(ch)}`;
  }

  expect(ch: string, what: string): void {
    if (this.peek() !== ch) this.fail(what);
    this.pos++;
  }

  integer(what: string): number {
    const start = this.pos;
    while (/[0-9]/.test(this.peek() ?? '')) this.pos++;
    const digits = this.text.slice(start, this.pos);
    if (digits === '') this.fail(`a ${what} (digits)`);
    if (digits.length > MAX_INTEGER_DIGITS) {
      throw new CropNotationError(this.text, `${what} "${digits}" at character ${start + 1} is too large`);
    }
    if (digits.length > 1 && digits.startsWith('0')) {
      throw new CropNotationError(
        this.text,
        `${what} "${digits}" at character ${start + 1} has a leading zero`,
      );
    }
    return Number(digits);
  }

  scale(what: string): number {
    const match = SCALE_TOKEN.exec(this.text.slice(this.pos));
    if (!match) this.fail(what);
    if (match[0].length > MAX_SCALE_CHARS) {
      throw new CropNotationError(this.text, `${what} at character ${this.pos + 1} is too long`);
    }
    this.pos += match[0].length;
    return Number(match[0]);
  }
}

interface ParsedGroup {
  group: z.input<typeof CropGroup>;
  text: string;
  start: number;
}

function readGroup(reader: Reader, position: number): ParsedGroup {
  const start = reader.pos;
  const count = reader.integer('crop count');
  reader.expect('x', '"x" after the crop count');
  const size = reader.integer('crop size');
  let [minScale, maxScale] = defaultScales(position);
  if (reader.peek() === '(') {
    reader.pos++;
    minScale = reader.scale('a minimum scale such as 0.14');
    reader.expect('-', '"-" between the minimum and maximum scale');
    maxScale = reader.scale('a maximum scale such as 1');
    reader.expect(')', '")" after the maximum scale');
  }
  const group = { count, size, min_scale: minScale, max_scale: maxScale };
  return { group, text: reader.text.slice(start, reader.pos), start };
}

/**
 * Parses crop notation into the structured form: `"2x224+6x96"` →
 * `[{count: 2, size: 224, min_scale: 0.14, max_scale: 1}, {count: 6, size: 96, min_scale: 0.05, max_scale: 0.14}]`.
 * Throws a `CropNotationError` naming the problem and its position.
 */
export function parseCrops(notation: string): CropGroup[] {
  if (notation === '')
    throw new CropNotationError(notation, `is empty; write groups such as "${DEFAULT_CROPS}"`);
  const reader = new Reader(notation);
  const parsed: ParsedGroup[] = [readGroup(reader, 0)];
  while (reader.peek() !== undefined) {
    reader.expect('+', '"+" or the end of the notation');
    parsed.push(readGroup(reader, parsed.length));
  }
  const problems = parsed.flatMap(({ group, text, start }, i) => {
    const result = CropGroup.safeParse(group, { reportInput: true });
    if (result.success) return [];
    const where = `group ${i + 1} "${text}" (character ${start + 1})`;
    return issuesFromZod(result.error).map((issue) => `${where}: ${issue.path} ${issue.message}`);
  });
  if (problems.length > 0) throw new CropNotationError(notation, problems.join('; '));
  const total = CropGroups.safeParse(parsed.map((p) => p.group));
  if (!total.success)
    throw new CropNotationError(notation, issuesFromZod(total.error)[0]?.message ?? 'invalid');
  return total.data;
}

const CropNotation = z
  .string()
  .meta({
    description: 'crop notation such as "2x224+6x96" or "2x224(0.14-1)+6x96(0.05-0.14)"',
    format: 'crop-notation',
  })
  .transform((notation, ctx) => {
    try {
      return parseCrops(notation);
    } catch (error) {
      if (!(error instanceof CropNotationError)) throw error;
      ctx.addIssue({ code: 'custom', input: notation, message: error.message });
      return z.NEVER;
    }
  });

/** The `swav.crops` field: notation or structured groups in, structured groups out. */
export const Crops = z.union([CropNotation, CropGroups]).prefault(DEFAULT_CROPS);
