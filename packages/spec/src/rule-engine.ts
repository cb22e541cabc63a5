import { canonicalJson } from './canonical-json.js';
import { getAtPath, isPlainObject } from './paths.js';

/**
 * A small expression language for the spec's cross-field rules. The rules are data (`spec-rules.ts`) so that
 * the Python trainer executes the very same rules from the generated `spec_schema.json`; its interpreter
 * (`packages/trainer/swavlab/spec_rules.py`) implements exactly the semantics below.
 *
 * - a JSON scalar is itself; a JSON array is a literal list (never evaluated)
 * - `{field: "a.b"}`: the spec's value there, null when absent; `{present: "a.b"}`: whether it is there
 * - `{var: name}`: a `let` binding, or in an `each` rule `item`, `index` and `first` (the index of the first
 *   entry equal to `item`, found in one pass over the array so that long arrays stay linear)
 * - `eq`, `ne` (any values), `lt`, `le`, `gt`, `ge` (numbers; false when either side is not a number)
 * - `and`, `or` (short-circuit), `not`; `in: [x, list]`
 * - `add`, `sub`, `mul`, `mod` (the remainder takes the dividend's sign), `max` over two numbers (null when
 *   either is not a number, and for `mod` by 0)
 * - `sum: [array, key]`: the sum of a key over an array of objects (0 for a non-array)
 * - `at: [array, i]` (null outside the array)
 */
export type RuleExpr =
  | number
  | string
  | boolean
  | null
  | readonly (string | number)[]
  | { readonly field: string }
  | { readonly present: string }
  | { readonly var: string }
  | { readonly eq: Pair }
  | { readonly ne: Pair }
  | { readonly lt: Pair }
  | { readonly le: Pair }
  | { readonly gt: Pair }
  | { readonly ge: Pair }
  | { readonly and: readonly RuleExpr[] }
  | { readonly or: readonly RuleExpr[] }
  | { readonly not: RuleExpr }
  | { readonly in: Pair }
  | { readonly add: Pair }
  | { readonly sub: Pair }
  | { readonly mul: Pair }
  | { readonly mod: Pair }
  | { readonly max: Pair }
  | { readonly sum: readonly [RuleExpr, string] }
  | { readonly at: Pair };

type Pair = readonly [RuleExpr, RuleExpr];

/**
 * One rule: when `when` holds, an issue at `path` with `message`. With `each`, the rule runs once per entry of the
 * array at `path` (`item`, `index`, `first` bound) and the issue is at `path[index]`. `let` bindings are evaluated in order
 * before `when`. `{name}` in the message is a binding, `item`, `index` or a dotted spec field, written as JavaScript's
 * `String()` writes strings and numbers (anything else as canonical JSON).
 */
export interface SpecRule {
  readonly path: string;
  readonly each?: boolean;
  readonly let?: Readonly<Record<string, RuleExpr>>;
  readonly when: RuleExpr;
  readonly message: string;
}

/** A rule's verdict: the issue's path (dotted segments, then an index for `each` rules) and message. */
export interface RuleIssue {
  path: (string | number)[];
  input: unknown;
  message: string;
}

type Scope = Map<string, unknown>;

const OPERATORS = [
  'field',
  'present',
  'var',
  'eq',
  'ne',
  'lt',
  'le',
  'gt',
  'ge',
  'and',
  'or',
  'not',
  'in',
  'add',
  'sub',
  'mul',
  'mod',
  'max',
  'sum',
  'at',
] as const;
type Operator = (typeof OPERATORS)[number];

const isNumber = (value: unknown): value is number => typeof value === 'number';

function compare(args: Pair, spec: unknown, scope: Scope, test: (a: number, b: number) => boolean): boolean {
  const [a, b] = args.map((arg) => evaluate(arg, spec, scope));
  return isNumber(a) && isNumber(b) && test(a, b);
}

function arithmetic(args: Pair, spec: unknown, scope: Scope, op: (a: number, b: number) => number): unknown {
  const [a, b] = args.map((arg) => evaluate(arg, spec, scope));
  return isNumber(a) && isNumber(b) ? op(a, b) : null;
}

function operatorOf(expr: object): [Operator, unknown] {
  const entries = Object.entries(expr);
  const [entry] = entries;
  if (entries.length !== 1 || entry === undefined || !(OPERATORS as readonly string[]).includes(entry[0])) {
    throw new Error(`invalid rule expression ${JSON.stringify(expr)}`);
  }
  return entry as [Operator, unknown];
}

/** The value of `expr` for a validated spec, with `scope` holding `let` bindings, `item` and `index`. */
export function evaluate(expr: RuleExpr, spec: unknown, scope: Scope): unknown {
  if (expr === null || typeof expr !== 'object' || Array.isArray(expr)) return expr;
  const [op, arg] = operatorOf(expr);
  const pair = arg as Pair;
  switch (op) {
    case 'field':
      return getAtPath(spec, arg as string) ?? null;
    case 'present':
      return getAtPath(spec, arg as string) !== undefined;
    case 'var':
      if (!scope.has(arg as string)) throw new Error(`rule variable "${String(arg)}" is not bound`);
      return scope.get(arg as string);
    case 'eq':
      return evaluate(pair[0], spec, scope) === evaluate(pair[1], spec, scope);
    case 'ne':
      return evaluate(pair[0], spec, scope) !== evaluate(pair[1], spec, scope);
    case 'lt':
      return compare(pair, spec, scope, (a, b) => a < b);
    case 'le':
      return compare(pair, spec, scope, (a, b) => a <= b);
    case 'gt':
      return compare(pair, spec, scope, (a, b) => a > b);
    case 'ge':
      return compare(pair, spec, scope, (a, b) => a >= b);
    case 'and':
      return (arg as RuleExpr[]).every((part) => evaluate(part, spec, scope) === true);
    case 'or':
      return (arg as RuleExpr[]).some((part) => evaluate(part, spec, scope) === true);
    case 'not':
      return evaluate(arg as RuleExpr, spec, scope) !== true;
    case 'in': {
      const list = evaluate(pair[1], spec, scope);
      return Array.isArray(list) && list.includes(evaluate(pair[0], spec, scope));
    }
    case 'add':
      return arithmetic(pair, spec, scope, (a, b) => a + b);
    case 'sub':
      return arithmetic(pair, spec, scope, (a, b) => a - b);
    case 'mul':
      return arithmetic(pair, spec, scope, (a, b) => a * b);
    case 'mod': {
      const remainder = arithmetic(pair, spec, scope, (a, b) => a % b);
      return isNumber(remainder) && Number.isFinite(remainder) ? remainder : null;
    }
    case 'max':
      return arithmetic(pair, spec, scope, Math.max);
    case 'sum': {
      const [array, key] = arg as readonly [RuleExpr, string];
      const items = evaluate(array, spec, scope);
      if (!Array.isArray(items)) return 0;
      return items.reduce<number>((total, item: unknown) => {
        const value = isPlainObject(item) ? item[key] : undefined;
        return total + (isNumber(value) ? value : 0);
      }, 0);
    }
    case 'at': {
      const items = evaluate(pair[0], spec, scope);
      const index = evaluate(pair[1], spec, scope);
      return Array.isArray(items) && isNumber(index) && index >= 0 && index < items.length
        ? items[index]
        : null;
    }
  }
}

function render(message: string, spec: unknown, scope: Scope): string {
  return message.replace(/\{([A-Za-z_][A-Za-z0-9_.]*)\}/g, (_, name: string) => {
    const value = scope.has(name) ? scope.get(name) : getAtPath(spec, name);
    return typeof value === 'string' || isNumber(value) ? String(value) : canonicalJson(value ?? null);
  });
}

function check(rule: SpecRule, spec: unknown, scope: Scope, path: (string | number)[]): RuleIssue[] {
  for (const [name, expr] of Object.entries(rule.let ?? {})) scope.set(name, evaluate(expr, spec, scope));
  if (evaluate(rule.when, spec, scope) !== true) return [];
  const input = scope.has('item') ? scope.get('item') : getAtPath(spec, rule.path);
  return [{ path, input, message: render(rule.message, spec, scope) }];
}

/** Every issue the rules find in a spec whose fields are individually valid, in rule order. */
export function runRules(rules: readonly SpecRule[], spec: unknown): RuleIssue[] {
  return rules.flatMap((rule) => {
    const path = rule.path.split('.');
    if (!rule.each) return check(rule, spec, new Map(), path);
    const items: unknown = getAtPath(spec, rule.path);
    if (!Array.isArray(items)) return [];
    const firstIndex = new Map<string, number>();
    return items.flatMap((item: unknown, index) => {
      const key = canonicalJson(item);
      const first = firstIndex.get(key) ?? index;
      firstIndex.set(key, first);
      const scope = new Map<string, unknown>([
        ['item', item],
        ['index', index],
        ['first', first],
      ]);
      return check(rule, spec, scope, [...path, index]);
    });
  });
}
