// Recursive-descent parser of run search expressions. Grammar (keywords case-insensitive):
//
//   expr       := and_expr ( OR and_expr )*
//   and_expr   := not_expr ( AND not_expr )*
//   not_expr   := NOT not_expr | primary
//   primary    := '(' expr ')' | comparison
//   comparison := field op value
//               | field [NOT] IN '(' value ( ',' value )* ')'
//               | field [NOT] LIKE string
//   field      := ident ( '.' ident )*
//   op         := '=' | '!=' | '<>' | '<' | '<=' | '>' | '>='
//   value      := string | number | TRUE | FALSE | NULL
//
// Fields: status, name, id, grid, tag, metrics.<metric name>, and leaf paths of the spec (swav.prototypes).
// Every name and value is checked here, so that errors carry the position of what is wrong.
import { isMetricName, isSpecLeafPath } from '@swavlab/spec';
import { metricSource } from '../reads/final-metrics.js';
import { RUN_STATUSES } from '../rows.js';
import { COMPARE_OPS, type CompareOp, type Expr, type FieldRef, type Literal } from './ast.js';
import { SearchSyntaxError } from './errors.js';
import { describeToken, type Token, tokenize } from './tokens.js';

const MAX_DEPTH = 32;
const MAX_COMPARISONS = 64;
const MAX_IN_VALUES = 100;
const SEGMENT = /^[a-z_][a-z0-9_]*$/;

interface LocatedField {
  ref: FieldRef;
  text: string;
  offset: number;
}

class Parser {
  private index = 0;
  private depth = 0;
  private comparisons = 0;

  constructor(private readonly tokens: Token[]) {}

  // A method rather than a getter: TypeScript would otherwise keep a narrowed kind across advance().
  private peek(): Token {
    return this.tokens[this.index] as Token;
  }

  private advance(): Token {
    const token = this.peek();
    if (token.kind !== 'end') this.index++;
    return token;
  }

  private fail(expected: string, token: Token = this.peek()): never {
    throw new SearchSyntaxError(token.offset, expected, describeToken(token));
  }

  private isKeyword(word: string, token: Token = this.peek()): boolean {
    return token.kind === 'keyword' && token.text === word;
  }

  parse(): Expr {
    if (this.peek().kind === 'end') this.fail("a comparison such as status = 'failed'");
    const expr = this.orExpr();
    if (this.peek().kind !== 'end') {
      this.fail(
        this.peek().kind === 'rparen' ? 'AND, OR or the end (this ")" closes nothing)' : 'AND, OR or the end',
      );
    }
    return expr;
  }

  private nested<T>(token: Token, body: () => T): T {
    if (++this.depth > MAX_DEPTH) this.fail(`at most ${MAX_DEPTH} nested parentheses or NOTs`, token);
    try {
      return body();
    } finally {
      this.depth--;
    }
  }

  private orExpr(): Expr {
    let left = this.andExpr();
    while (this.isKeyword('or')) {
      this.advance();
      left = { kind: 'or', left, right: this.andExpr() };
    }
    return left;
  }

  private andExpr(): Expr {
    let left = this.notExpr();
    while (this.isKeyword('and')) {
      this.advance();
      left = { kind: 'and', left, right: this.notExpr() };
    }
    return left;
  }

  private notExpr(): Expr {
    if (this.isKeyword('not')) {
      const token = this.advance();
      return this.nested(token, () => ({ kind: 'not', operand: this.notExpr() }));
    }
    return this.primary();
  }

  private primary(): Expr {
    if (this.peek().kind === 'lparen') {
      const open = this.advance();
      return this.nested(open, () => {
        const inner = this.orExpr();
        if (this.peek().kind !== 'rparen') this.fail(`")" to close the "(" at character ${open.offset + 1}`);
        this.advance();
        return inner;
      });
    }
    return this.comparison();
  }

  private comparison(): Expr {
    const field = this.field();
    if (++this.comparisons > MAX_COMPARISONS) {
      throw new SearchSyntaxError(field.offset, `at most ${MAX_COMPARISONS} comparisons`, 'more');
    }
    let negated = false;
    if (this.isKeyword('not')) {
      this.advance();
      negated = true;
      if (!this.isKeyword('in') && !this.isKeyword('like')) this.fail('IN or LIKE after NOT');
    }
    let expr: Expr;
    if (this.isKeyword('in')) {
      this.advance();
      expr = { kind: 'in', field: field.ref, values: this.valueList(field) };
    } else if (this.isKeyword('like')) {
      this.advance();
      expr = { kind: 'like', field: field.ref, pattern: this.likePattern(field) };
    } else if (this.peek().kind === 'op') {
      const opToken = this.advance();
      const op = opToken.text as CompareOp;
      if (!(COMPARE_OPS as readonly string[]).includes(op)) this.fail('a comparison operator', opToken);
      const valueToken = this.peek();
      const value = this.literal();
      this.checkComparison(field, op, value, opToken, valueToken);
      expr = { kind: 'compare', field: field.ref, op, value };
    } else {
      this.fail(`an operator (=, !=, <, <=, >, >=, IN, LIKE) after ${field.text}`);
    }
    return negated ? { kind: 'not', operand: expr } : expr;
  }

  private field(): LocatedField {
    const first = this.peek();
    if (first.kind !== 'ident') {
      this.fail(
        'a field (status, name, id, grid, tag, metrics.<name> or a spec path such as swav.prototypes)',
      );
    }
    this.advance();
    const segments = [first.text];
    while (this.peek().kind === 'dot') {
      this.advance();
      const segment = this.peek();
      if (segment.kind !== 'ident' && segment.kind !== 'keyword')
        this.fail(`a name after "${segments.join('.')}."`);
      segments.push(this.advance().text);
    }
    const text = segments.join('.');
    return { ref: this.resolveField(segments, text, first), text, offset: first.offset };
  }

  private resolveField(segments: string[], text: string, at: Token): FieldRef {
    const [head, ...rest] = segments;
    if (rest.length === 0) {
      if (head === 'status' || head === 'name' || head === 'id') return { kind: 'column', column: head };
      if (head === 'grid') return { kind: 'grid' };
      if (head === 'tag' || head === 'tags') return { kind: 'tag' };
    }
    if (head === 'metrics') {
      const name = rest.join('.');
      if (rest.length !== 1 || !isMetricName(name)) {
        this.fail('a metric name such as metrics.loss or metrics.knn_top1@20', {
          ...at,
          text,
          kind: 'ident',
        });
      }
      return { kind: 'metric', name, source: metricSource(name) };
    }
    if (segments.every((s) => SEGMENT.test(s)) && isSpecLeafPath(text))
      return { kind: 'spec', path: segments };
    return this.fail(
      'a field: status, name, id, grid, tag, metrics.<name> or a spec leaf path such as swav.prototypes',
      { ...at, text, kind: 'ident' },
    );
  }

  private literal(): Literal {
    const token = this.peek();
    switch (token.kind) {
      case 'string':
        this.advance();
        return token.text;
      case 'number': {
        const value = Number(token.text);
        if (!Number.isFinite(value)) this.fail('a finite number');
        this.advance();
        return value;
      }
      case 'keyword':
        if (token.text === 'true' || token.text === 'false' || token.text === 'null') {
          this.advance();
          return token.text === 'null' ? null : token.text === 'true';
        }
        return this.fail('a value (a quoted string, a number, TRUE, FALSE or NULL)');
      default:
        return this.fail('a value (a quoted string, a number, TRUE, FALSE or NULL)');
    }
  }

  private valueList(field: LocatedField): Literal[] {
    if (this.peek().kind !== 'lparen') this.fail('"(" to start the IN list');
    this.advance();
    const values: Literal[] = [];
    for (;;) {
      const token = this.peek();
      const value = this.literal();
      if (value === null) this.fail('a value other than NULL in an IN list', token);
      this.checkValue(field, value, token, 'IN');
      values.push(value);
      if (values.length > MAX_IN_VALUES) this.fail(`at most ${MAX_IN_VALUES} values in an IN list`, token);
      if (this.peek().kind === 'comma') {
        this.advance();
        continue;
      }
      if (this.peek().kind === 'rparen') {
        this.advance();
        return values;
      }
      this.fail('"," or ")" in the IN list');
    }
  }

  private likePattern(field: LocatedField): string {
    const token = this.peek();
    if (token.kind !== 'string')
      this.fail('a quoted pattern after LIKE (% matches any text, _ one character)');
    if (field.ref.kind === 'metric') this.fail(`a numeric comparison: ${field.text} is a number`, token);
    this.checkValue(field, token.text, token, 'LIKE');
    this.advance();
    return token.text;
  }

  private checkComparison(
    field: LocatedField,
    op: CompareOp,
    value: Literal,
    opToken: Token,
    valueToken: Token,
  ): void {
    const ordering = op !== '=' && op !== '!=';
    if (value === null) {
      if (ordering) this.fail('= NULL or != NULL (NULL cannot be ordered)', opToken);
      if (
        field.ref.kind === 'tag' ||
        field.ref.kind === 'metric' ||
        (field.ref.kind === 'column' && field.ref.column === 'status')
      ) {
        this.fail(`a value: ${field.text} is never NULL`, valueToken);
      }
      return;
    }
    if (ordering) {
      const plainEquality =
        field.ref.kind === 'tag' ||
        field.ref.kind === 'grid' ||
        (field.ref.kind === 'column' && field.ref.column === 'status');
      if (plainEquality) this.fail(`=, !=, IN or LIKE: ${field.text} cannot be ordered`, opToken);
      if (typeof value === 'boolean')
        this.fail('a number or a string (booleans cannot be ordered)', valueToken);
    }
    this.checkValue(field, value, valueToken, op);
  }

  /** The value's type must suit the field; status values must be real statuses. */
  private checkValue(field: LocatedField, value: Literal, token: Token, op: string): void {
    const ref = field.ref;
    if (ref.kind === 'metric' && typeof value !== 'number') {
      this.fail(`a number: ${field.text} is numeric`, token);
    }
    if (
      (ref.kind === 'column' || ref.kind === 'tag' || ref.kind === 'grid') &&
      typeof value !== 'string' &&
      value !== null
    ) {
      this.fail(`a quoted string: ${field.text} is text`, token);
    }
    if (
      ref.kind === 'column' &&
      ref.column === 'status' &&
      op !== 'LIKE' &&
      !(RUN_STATUSES as readonly string[]).includes(String(value))
    ) {
      this.fail(`a run status (${RUN_STATUSES.join(', ')})`, token);
    }
  }
}

/** Parses a search expression into a checked syntax tree; throws SearchSyntaxError with the position. */
export function parseSearch(source: string): Expr {
  return new Parser(tokenize(source)).parse();
}
