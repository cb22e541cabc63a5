import { describe, expect, it } from 'vitest';
import { compileSearch, type Expr, parseSearch, SearchSyntaxError, tokenize } from '../src/search/index.js';

function errorOf(source: string): SearchSyntaxError {
  try {
    parseSearch(source);
  } catch (error) {
    if (error instanceof SearchSyntaxError) return error;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(source)} to be rejected`);
}

describe('tokenize', () => {
  it('keeps metric names with @ in one identifier and normalises <> to !=', () => {
    const tokens = tokenize("metrics.knn_top1@20 <> 0.5 AND name LIKE 'a''b%'");
    expect(tokens.map((t) => [t.kind, t.text])).toEqual([
      ['ident', 'metrics'],
      ['dot', '.'],
      ['ident', 'knn_top1@20'],
      ['op', '!='],
      ['number', '0.5'],
      ['keyword', 'and'],
      ['ident', 'name'],
      ['keyword', 'like'],
      ['string', "a'b%"],
      ['end', ''],
    ]);
  });

  it('reads negative and exponent numbers', () => {
    expect(tokenize('-1.5e3 .5').map((t) => t.text)).toEqual(['-1.5e3', '.5', '']);
  });
});

describe('parseSearch', () => {
  it('gives AND precedence over OR and honours parentheses', () => {
    const tree = parseSearch("status = 'failed' OR tag = 'a' AND swav.prototypes = 3000");
    expect(tree.kind).toBe('or');
    const grouped = parseSearch("(status = 'failed' OR tag = 'a') AND swav.prototypes = 3000");
    expect(grouped.kind).toBe('and');
  });

  it('resolves every kind of field', () => {
    const tree = parseSearch(
      "metrics.knn_top1@20 > 0.5 and metrics.loss < 2 and swav.prototypes = 3000 and model.arch IN ('tiny', 'resnet18') and tag LIKE 'abl%' and name != null and grid = 'g1' and id = 'r1' and status NOT IN ('failed')",
    );
    const leaves: Expr[] = [];
    const walk = (e: Expr): void => {
      if (e.kind === 'and' || e.kind === 'or') {
        walk(e.left);
        walk(e.right);
      } else leaves.push(e);
    };
    walk(tree);
    expect(leaves).toEqual([
      {
        kind: 'compare',
        field: { kind: 'metric', name: 'knn_top1@20', source: 'evaluation' },
        op: '>',
        value: 0.5,
      },
      { kind: 'compare', field: { kind: 'metric', name: 'loss', source: 'training' }, op: '<', value: 2 },
      { kind: 'compare', field: { kind: 'spec', path: ['swav', 'prototypes'] }, op: '=', value: 3000 },
      { kind: 'in', field: { kind: 'spec', path: ['model', 'arch'] }, values: ['tiny', 'resnet18'] },
      { kind: 'like', field: { kind: 'tag' }, pattern: 'abl%' },
      { kind: 'compare', field: { kind: 'column', column: 'name' }, op: '!=', value: null },
      { kind: 'compare', field: { kind: 'grid' }, op: '=', value: 'g1' },
      { kind: 'compare', field: { kind: 'column', column: 'id' }, op: '=', value: 'r1' },
      {
        kind: 'not',
        operand: { kind: 'in', field: { kind: 'column', column: 'status' }, values: ['failed'] },
      },
    ]);
  });

  it.each([
    ['', 1, 'a comparison'],
    ['status =', 9, 'a value'],
    ["status = 'done'", 10, 'a run status'],
    ['swav.protoypes = 3', 1, 'spec leaf path'],
    ['metrics.accuracy > 1', 1, 'metric name'],
    ["metrics.loss > 'low'", 16, 'a number'],
    ['metrics.loss LIKE 1', 19, 'quoted pattern'],
    ["name = 'x' AND", 15, 'a field'],
    ["(status = 'failed'", 19, '")" to close'],
    ["status = 'failed')", 18, 'closes nothing'],
    ["name = 'unterminated", 8, 'closing'],
    ["tag > 'a'", 5, 'cannot be ordered'],
    ['swav.prototypes < null', 17, 'NULL cannot be ordered'],
    ['model.small_stem > true', 20, 'booleans cannot be ordered'],
    ['seed = 1e999', 8, 'finite number'],
    ['seed = 12abc', 10, 'after a number'],
    ['seed ; 1', 6, 'the character ";"'],
    ['seed NOT = 1', 10, 'IN or LIKE after NOT'],
    ['seed IN ()', 10, 'a value'],
    ['seed IN (1 2)', 12, '"," or ")"'],
  ])('rejects %j at character %i with a clear expectation', (source, position, expected) => {
    const error = errorOf(source);
    expect(error.position).toBe(position);
    expect(error.message).toContain(expected);
  });

  it('bounds nesting, length and size', () => {
    expect(errorOf(`${'('.repeat(40)}seed = 1${')'.repeat(40)}`).message).toContain('nested');
    expect(errorOf(`${'NOT '.repeat(40)}seed = 1`).message).toContain('nested');
    expect(errorOf(`seed = ${'1'.repeat(3000)}`).message).toContain('at most 2000 characters');
    expect(errorOf(Array.from({ length: 70 }, () => 'seed = 1').join(' OR ')).message).toContain(
      'comparisons',
    );
    expect(errorOf(`seed IN (${Array.from({ length: 101 }, (_, i) => i).join(',')})`).message).toContain(
      '100 values',
    );
  });
});

describe('compileSearch', () => {
  it('sends every value as a bind parameter and never splices input into the SQL text', () => {
    const hostile = "x'; DROP TABLE runs; --";
    const query = compileSearch(
      parseSearch(`name = '${hostile.replaceAll("'", "''")}' OR tag LIKE '${hostile.replaceAll("'", "''")}'`),
    );
    const text = query.strings.join('$');
    expect(text).not.toContain('DROP');
    expect(query.values).toEqual([hostile, hostile]);
  });

  it('treats injection attempts outside strings as syntax errors', () => {
    for (const source of [
      "status = 'failed'; DROP TABLE runs; --",
      "name = 'a' -- comment",
      'swav.prototypes = 1 UNION SELECT 1',
      "runs.spec = '{}'",
      'metrics.loss) OR (1 = 1',
      'swav.prototypes = 1 OR 1 = 1',
      'pg_sleep(10) = 1',
    ]) {
      expect(() => parseSearch(source), source).toThrow(SearchSyntaxError);
    }
  });

  it('binds spec path segments and metric names as parameters too', () => {
    const query = compileSearch(parseSearch('swav.prototypes >= 300 and metrics.knn_top1@20 IN (0.5, 1)'));
    // The path appears twice: once to check the JSON type, once to read the number.
    expect(query.values).toEqual([
      'swav',
      'prototypes',
      'swav',
      'prototypes',
      '300',
      'knn_top1@20',
      '0.5',
      '1',
    ]);
  });
});
