import type { z } from 'zod';
import { closestName } from './did-you-mean.js';
import { formatPath } from './paths.js';
import { objectKeysAt } from './schema-walk.js';

/** One problem with an input: where (a dotted/bracket path such as `swav.crops_for_assign[2]`) and why. */
export interface Issue {
  path: string;
  message: string;
}

export interface IssueOptions {
  /** The schema that produced the error: unknown fields then get a "did you mean" suggestion. */
  schema?: z.core.$ZodType;
  /** Prepended to every path (e.g. `['base']` when a grid's base spec is reported). */
  prefix?: readonly PropertyKey[];
}

type ZodIssue = z.core.$ZodIssue;

const ARTICLE: Record<string, string> = {
  int: 'an integer',
  number: 'a number',
  string: 'a string',
  boolean: 'a boolean (true or false)',
  array: 'an array',
  object: 'an object',
  record: 'an object',
  null: 'null',
};

/** A short rendering of an offending value for messages: `"abc"`, `1.5`, `an array`. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') {
    const shown = value.length > 40 ? `${value.slice(0, 37)}...` : value;
    return `string ${JSON.stringify(shown)}`;
  }
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'an array';
  return `${typeof value === 'object' ? 'an object' : typeof value}`;
}

function got(issue: ZodIssue): string {
  return 'input' in issue && issue.input !== undefined ? `; got ${describeValue(issue.input)}` : '';
}

function isMissing(issue: ZodIssue): boolean {
  return 'input' in issue && issue.input === undefined;
}

function rangeMessage(issue: z.core.$ZodIssueTooSmall | z.core.$ZodIssueTooBig): string {
  const small = issue.code === 'too_small';
  const bound = small ? issue.minimum : issue.maximum;
  switch (issue.origin) {
    case 'string':
      if (small && bound === 1) return 'must not be empty';
      return `must be at ${small ? 'least' : 'most'} ${bound} characters long`;
    case 'array':
    case 'set': {
      const size = Array.isArray(issue.input) ? `; got ${issue.input.length}` : '';
      if (small && bound === 1) return `must have at least 1 entry${size}`;
      return `must have at ${small ? 'least' : 'most'} ${bound} entries${size}`;
    }
    default: {
      const op = small ? (issue.inclusive ? '>=' : '>') : issue.inclusive ? '<=' : '<';
      return `must be ${op} ${bound}${got(issue)}`;
    }
  }
}

function typeMessage(issue: z.core.$ZodIssueInvalidType): string {
  if (isMissing(issue)) return 'is required';
  if (issue.expected === 'int' && typeof issue.input === 'number' && Number.isFinite(issue.input)) {
    return `must be an integer${got(issue)}`;
  }
  if ((issue.expected === 'number' || issue.expected === 'int') && typeof issue.input === 'number') {
    return `must be a finite number${got(issue)}`;
  }
  return `expected ${ARTICLE[issue.expected] ?? issue.expected}${got(issue)}`;
}

/**
 * A union fails as a whole; the useful report is the branch the input was aimed at (the one that got past
 * its type check). When every branch rejects the type, say which types would have been accepted.
 */
function unionIssues(
  issue: z.core.$ZodIssueInvalidUnion,
  path: PropertyKey[],
  options: IssueOptions,
): Issue[] {
  const isMismatch = (i: ZodIssue) =>
    (i.code === 'invalid_type' || i.code === 'invalid_value') && i.path.length === 0;
  // A discriminated union whose discriminator matched no option reports at the discriminator's path.
  if (issue.discriminator !== undefined && 'options' in issue && issue.options !== undefined) {
    const record = typeof issue.input === 'object' && issue.input !== null ? issue.input : {};
    const value: unknown = Reflect.get(record, issue.discriminator);
    if (value === undefined) return [{ path: formatPath(path), message: 'is required' }];
    const choices = issue.options.map((option) => JSON.stringify(option)).join(', ');
    return [{ path: formatPath(path), message: `must be one of ${choices}; got ${describeValue(value)}` }];
  }
  const aimed = issue.errors.find((branch) => !branch.every(isMismatch));
  if (aimed) return aimed.flatMap((inner) => convert(inner, [...path, ...inner.path], options));
  if (isMissing(issue)) return [{ path: formatPath(path), message: 'is required' }];
  const accepted = issue.errors.flatMap((branch) =>
    branch.flatMap((i) => {
      if (i.code === 'invalid_type') return [ARTICLE[i.expected] ?? i.expected];
      if (i.code === 'invalid_value') return i.values.map((v) => JSON.stringify(v));
      return [];
    }),
  );
  const list = [...new Set(accepted)].join(' or ');
  return [{ path: formatPath(path), message: `expected ${list || 'a different value'}${got(issue)}` }];
}

function unknownKeyMessage(key: string, parentPath: readonly PropertyKey[], options: IssueOptions): string {
  const known = options.schema
    ? objectKeysAt(options.schema, parentPath.slice(options.prefix?.length ?? 0))
    : [];
  const suggestion = known && closestName(key, known);
  return `unknown field ${JSON.stringify(key)}${suggestion ? ` (did you mean ${JSON.stringify(suggestion)}?)` : ''}`;
}

function convert(issue: ZodIssue, path: PropertyKey[], options: IssueOptions): Issue[] {
  const at = formatPath(path);
  switch (issue.code) {
    case 'invalid_type':
      return [{ path: at, message: typeMessage(issue) }];
    case 'too_small':
    case 'too_big':
      return [{ path: at, message: rangeMessage(issue) }];
    case 'not_multiple_of':
      return [{ path: at, message: `must be a multiple of ${issue.divisor}${got(issue)}` }];
    case 'invalid_format':
      return [
        {
          path: at,
          message: `${issue.pattern ? `must match ${issue.pattern}` : `must be a valid ${issue.format}`}${got(issue)}`,
        },
      ];
    case 'unrecognized_keys':
      return issue.keys.map((key) => ({
        path: formatPath([...path, key]),
        message: unknownKeyMessage(key, path, options),
      }));
    case 'invalid_union':
      return unionIssues(issue, path, options);
    case 'invalid_value': {
      const values = issue.values.map((v) => JSON.stringify(v));
      const choice = values.length === 1 ? `must be ${values[0]}` : `must be one of ${values.join(', ')}`;
      return [{ path: at, message: `${choice}${got(issue)}` }];
    }
    case 'invalid_key':
      return issue.issues.map((inner) => ({
        path: at,
        message: `invalid key: ${convert(inner, [], options)[0]?.message ?? inner.message}`,
      }));
    case 'invalid_element':
      return issue.issues.flatMap((inner) => convert(inner, [...path, ...inner.path], options));
    default:
      return [{ path: at, message: issue.message }];
  }
}

/**
 * Turns a zod error into `{path, message}` pairs worded for researchers. Built-in checks are worded from
 * the issue's data (bounds, expected type, offending value when parsed with `reportInput: true`); custom
 * refinements keep their own message.
 */
export function issuesFromZod(error: { issues: readonly ZodIssue[] }, options: IssueOptions = {}): Issue[] {
  const prefix = options.prefix ?? [];
  return error.issues.flatMap((issue) => convert(issue, [...prefix, ...issue.path], options));
}

/**
 * zod runs refinements even after range checks failed; cross-field rules would then report noise derived
 * from values already reported. Passed as a refinement's params, this runs it only when every field is valid
 * (unknown keys do not count: they do not affect the values the rules compare).
 */
export const WHEN_FIELDS_VALID: z.core.$ZodSuperRefineParams = {
  when: (payload) => payload.issues.every((issue) => issue.code === 'unrecognized_keys'),
};

/** One line per issue, `path: message`, for exceptions and logs. */
export function issuesToText(issues: readonly Issue[]): string {
  return issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('\n');
}

/** Thrown by functions that need a valid spec (e.g. `specHash`) when given an invalid one. */
export class SpecValidationError extends Error {
  readonly issues: Issue[];

  constructor(issues: Issue[]) {
    super(`invalid experiment spec:\n${issuesToText(issues)}`);
    this.name = 'SpecValidationError';
    this.issues = issues;
  }
}
