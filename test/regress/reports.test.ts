// The report writers of `swavlab regress` on hand-built verdicts: JUnit counts and XML escaping (read back by a
// real XML parser), the Markdown table, number formatting and the verdict → exit code mapping.
import type { MetricComparison, RegressionView } from '@swavlab/spec';
import { RegressionView as RegressionViewSchema } from '@swavlab/spec';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../apps/cli/src/errors.js';
import { inconclusiveExitOption, verdictExitCode } from '../../apps/cli/src/regress/exit-code.js';
import { escapeAttribute, escapeXml, renderJunit } from '../../apps/cli/src/regress/junit.js';
import { escapeCell, renderMarkdown } from '../../apps/cli/src/regress/markdown.js';
import {
  formatDelta,
  formatP,
  formatSample,
  formatThreshold,
  rowLabel,
  shortCommit,
} from '../../apps/cli/src/regress/rows.js';
import { parseJunit } from './junit-parse.js';

const NASTY = `<b>"quoted" & 'single'</b>`;

function sample(values: number[]): MetricComparison['baseline'] {
  const n = values.length;
  const mean = n === 0 ? null : values.reduce((a, b) => a + b, 0) / n;
  const std =
    n < 2 || mean === null ? null : Math.sqrt(values.reduce((sum, v) => sum + (v - mean) ** 2, 0) / (n - 1));
  return { mean, std, n, values };
}

// Four rows, one of each verdict; knn_top1@20 is listed twice (absolute and statistical tolerance).
const ROWS: MetricComparison[] = [
  {
    name: 'knn_top1@20',
    cell: {},
    direction: 'max',
    tolerance: { kind: 'absolute', value: 0.02 },
    baseline: sample([0.625, 0.59375, 0.65625]),
    candidate: sample([0.4, 0.4, 0.4]),
    delta: -0.225,
    threshold: 0.02,
    p_value: 0.0012,
    verdict: 'regression',
    reason: 'worse by 0.225, more than the tolerance 0.02',
  },
  {
    name: 'loss',
    cell: {},
    direction: 'min',
    tolerance: { kind: 'relative', value: 0.05 },
    baseline: sample([2.4, 2.5, 2.6]),
    candidate: sample([2.41, 2.51, 2.61]),
    delta: 0.01,
    threshold: 0.125,
    p_value: 0.4,
    verdict: 'pass',
    reason: 'within the tolerance',
  },
  {
    name: 'knn_top1@20',
    cell: {},
    direction: 'max',
    tolerance: { kind: 'statistical', alpha: 0.05, min_effect: 0 },
    baseline: sample([0.625]),
    candidate: sample([0.4]),
    delta: -0.225,
    threshold: 0,
    p_value: null,
    verdict: 'inconclusive',
    reason: 'needs at least 3 seeds per side',
  },
  {
    name: 'code_entropy',
    cell: {},
    direction: 'max',
    tolerance: { kind: 'absolute', value: 0.5 },
    baseline: sample([2.0, 2.1, 2.2]),
    candidate: sample([]),
    delta: null,
    threshold: 0.5,
    p_value: null,
    verdict: 'error',
    reason: `no candidate value: run failed with ${NASTY}`,
  },
];

function view(overrides: Partial<RegressionView> = {}): RegressionView {
  return RegressionViewSchema.parse({
    id: 'reg_01',
    suite_name: 'tiny-synthetic',
    baseline: { name: 'main', version: 3 },
    commit: '0123456789abcdef0123456789abcdef01234567',
    branch: 'feature/x',
    ci_url: 'https://ci.example.com/jobs/42?x=(1)',
    created_at: '2026-11-29T16:00:00.000Z',
    finished_at: '2026-11-29T16:01:30.000Z',
    status: 'finished',
    verdict: 'error',
    progress: { total: 3, succeeded: 2, failed: 1, running: 0, queued: 0 },
    candidate_run_ids: ['r1', 'r2', 'r3'],
    report: { message: 'one candidate run failed', metrics: ROWS },
    ...overrides,
  });
}

describe('number formatting of a row', () => {
  const [knn, loss, knnStat] = ROWS as [MetricComparison, MetricComparison, MetricComparison];

  it('accuracies in percent and percentage points, other metrics with 4 significant digits', () => {
    expect(formatSample(knn.name, knn.baseline)).toBe('62.5% ± 3.1% (n=3)');
    expect(formatSample(knn.name, knn.candidate)).toBe('40.0% ± 0.0% (n=3)');
    expect(formatSample(loss.name, loss.baseline)).toBe('2.5 ± 0.1 (n=3)');
    expect(formatSample(knnStat.name, knnStat.baseline)).toBe('62.5% (n=1)');
    expect(formatSample('loss', sample([]))).toBe('- (n=0)');
    expect(formatDelta(knn)).toBe('-22.50 pts');
    expect(formatDelta(loss)).toBe('+0.01 (+0.4%)');
    expect(formatDelta({ ...loss, delta: null })).toBe('-');
    expect(formatDelta({ ...loss, baseline: sample([0, 0, 0]) })).toBe('+0.01');
    expect(formatDelta({ ...loss, delta: 0 })).toBe('0');
    expect(formatDelta({ ...knn, delta: 0 })).toBe('0.00 pts');
  });

  it('thresholds say what the tolerance means', () => {
    expect(formatThreshold(knn)).toBe('2.00 pts');
    expect(formatThreshold(loss)).toBe('0.125 (5% of baseline)');
    expect(formatThreshold(knnStat)).toBe('p < 0.05');
    expect(
      formatThreshold({ ...knnStat, tolerance: { kind: 'statistical', alpha: 0.01, min_effect: 0.005 } }),
    ).toBe('p < 0.01, |delta| > 0.50 pts');
  });

  it('p-values keep small values readable, and a missing p is a dash', () => {
    expect(formatP(0.0012)).toBe('0.0012');
    expect(formatP(0.000012)).toBe('1.20e-5');
    expect(formatP(0.5)).toBe('0.5');
    expect(formatP(null)).toBe('-');
  });

  it('labels: metric [cell], with the tolerance kind where a metric is listed twice', () => {
    expect(rowLabel(knn, ROWS)).toBe('knn_top1@20 (absolute)');
    expect(rowLabel(knnStat, ROWS)).toBe('knn_top1@20 (statistical)');
    expect(rowLabel(loss, ROWS)).toBe('loss');
    const cells = [
      { ...loss, cell: { 'swav.prototypes': 30 } },
      { ...loss, cell: { 'swav.prototypes': 60, 'swav.crops': '2x16' } },
    ];
    expect(rowLabel(cells[0] as MetricComparison, cells)).toBe('loss [swav.prototypes=30]');
    expect(rowLabel(cells[1] as MetricComparison, cells)).toBe('loss [swav.prototypes=60, swav.crops=2x16]');
  });

  it('shortens full commit hashes only', () => {
    expect(shortCommit('0123456789abcdef0123456789abcdef01234567')).toBe('0123456789ab');
    expect(shortCommit('v1.2-rc')).toBe('v1.2-rc');
  });
});

describe('JUnit XML', () => {
  it('escapes the five XML special characters and replaces characters XML forbids', () => {
    expect(escapeXml(`a<b>&"c"'d'`)).toBe('a&lt;b&gt;&amp;&quot;c&quot;&apos;d&apos;');
    expect(escapeXml('bell\u0007 tab\t')).toBe('bell\uFFFD tab\t');
    expect(escapeAttribute('a\r\nb\tc')).toBe('a&#13;&#10;b&#9;c');
  });

  it('any text in a reason reaches the parser unchanged (characters XML forbids become U+FFFD)', async () => {
    const texts = fc.sample(
      fc.oneof(
        fc.string({ unit: 'binary', maxLength: 30 }),
        fc.string({ unit: 'binary-ascii', maxLength: 30 }),
      ),
      { numRuns: 300, seed: 7 },
    );
    const [suite] = await parseJunit(
      renderJunit(
        view({
          report: {
            message: '',
            metrics: texts.map((reason) => ({ ...(ROWS[0] as MetricComparison), reason })),
          },
        }),
      ),
    );
    // XML 1.0 allows tab, line feed, carriage return and everything from U+0020 except U+FFFE and U+FFFF.
    const forbidden = (cp: number) =>
      (cp < 0x20 && ![0x9, 0xa, 0xd].includes(cp)) || cp === 0xfffe || cp === 0xffff;
    const allowed = (text: string) =>
      [...text].map((char) => (forbidden(char.codePointAt(0) ?? 0) ? '\uFFFD' : char)).join('');
    expect(suite?.counts.tests).toBe(texts.length);
    for (const [i, text] of texts.entries()) {
      const expected = allowed(`delta -22.50 pts, threshold 2.00 pts, p 0.0012: ${text}`);
      expect(suite?.cases[i]?.message).toBe(expected);
      expect(suite?.cases[i]?.text).toBe(expected);
    }
  });

  it('one testsuite, one testcase per row, and counts that match the outcomes', async () => {
    const suites = await parseJunit(renderJunit(view()));
    expect(suites).toHaveLength(1);
    const [suite] = suites;
    expect(suite?.name).toBe('swavlab regression tiny-synthetic');
    expect(suite?.counts).toEqual({ tests: 4, failures: 1, errors: 1, skipped: 1 });
    expect(suite?.properties).toMatchObject({ verdict: 'error', baseline: 'main@3', branch: 'feature/x' });
    expect(suite?.cases.map((c) => [c.classname, c.name, c.outcome])).toEqual([
      ['tiny-synthetic', 'knn_top1@20 (absolute)', 'failure'],
      ['tiny-synthetic', 'loss', 'passed'],
      ['tiny-synthetic', 'knn_top1@20 (statistical)', 'skipped'],
      ['tiny-synthetic', 'code_entropy', 'error'],
    ]);
  });

  it('a failure names the delta and the threshold; text with special characters parses back unchanged', async () => {
    const [suite] = await parseJunit(renderJunit(view()));
    const failure = suite?.cases[0];
    expect(failure?.message).toContain('delta -22.50 pts, threshold 2.00 pts, p 0.0012');
    expect(failure?.text).toContain('worse by 0.225');
    expect(suite?.cases[3]?.message).toBe(`no candidate value: run failed with ${NASTY}`);
  });

  it('an error before any comparison still gives a failing test case', async () => {
    const [suite] = await parseJunit(
      renderJunit(
        view({
          baseline: null,
          report: {
            message: 'no baseline main for suite tiny-synthetic; create one with --promote',
            metrics: [],
          },
        }),
      ),
    );
    expect(suite?.counts).toEqual({ tests: 1, failures: 0, errors: 1, skipped: 0 });
    expect(suite?.cases[0]?.message).toContain('no baseline main');
  });

  it('a pass has no failures', async () => {
    const passing = ROWS.filter((row) => row.verdict === 'pass');
    const [suite] = await parseJunit(
      renderJunit(view({ verdict: 'pass', report: { message: '', metrics: passing } })),
    );
    expect(suite?.counts).toEqual({ tests: 1, failures: 0, errors: 0, skipped: 0 });
  });
});

describe('Markdown', () => {
  const markdown = renderMarkdown(view({ verdict: 'regression' }));
  const tableLines = markdown.split('\n').filter((line) => line.startsWith('|'));

  it('a heading with the verdict, then baseline name@version, the short commit, branch and CI link', () => {
    expect(markdown.split('\n')[0]).toBe('### ❌ swavlab regression `tiny-synthetic`: **regression**');
    expect(markdown).toContain('baseline `main@3` · commit `0123456789ab` · branch `feature/x`');
    expect(markdown).toContain('[CI run](https://ci.example.com/jobs/42?x=%281%29)');
  });

  it('a table with the contract columns and one row per metric', () => {
    expect(tableLines[0]).toBe(
      '| metric | baseline mean ± std | candidate mean ± std | delta | threshold | p | verdict |',
    );
    expect(tableLines).toHaveLength(2 + ROWS.length);
    // Every row has exactly 8 unescaped pipes: nothing in a cell splits it.
    for (const line of tableLines) expect(line.match(/(?<!\\)\|/g)).toHaveLength(8);
  });

  it('the regression row names the metric and the delta', () => {
    expect(tableLines[2]).toBe(
      '| `knn_top1@20 (absolute)` | 62.5% ± 3.1% (n=3) | 40.0% ± 0.0% (n=3) | -22.50 pts | 2.00 pts | 0.0012 | ❌ regression |',
    );
    expect(markdown).toContain(
      '- ❌ `knn_top1@20 (absolute)` regression: delta -22.50 pts, threshold 2.00 pts, p 0.0012.',
    );
  });

  it('escapes cells and prose so that server text cannot break the table or inject HTML', () => {
    expect(escapeCell('a | b\nc')).toBe('a \\| b c');
    expect(markdown).not.toMatch(/(?<!\\)<\/?b>/);
    expect(markdown).toContain(`\\<b>"quoted" & 'single'\\</b>`);
    expect(markdown).toContain('threshold p < 0.05');
    const piped = renderMarkdown(
      view({
        report: {
          message: '',
          metrics: [{ ...(ROWS[1] as MetricComparison), cell: { 'swav.crops': '2x16|bad' } }],
        },
      }),
    );
    expect(piped).toContain('`loss [swav.crops=2x16\\|bad]`');
  });
});

describe('exit codes', () => {
  it('0 pass, 1 regression, 2 error; inconclusive 2 unless told otherwise', () => {
    expect(verdictExitCode('pass')).toBe(0);
    expect(verdictExitCode('regression')).toBe(1);
    expect(verdictExitCode('error')).toBe(2);
    expect(verdictExitCode('inconclusive')).toBe(2);
    expect(verdictExitCode('inconclusive', inconclusiveExitOption('0'))).toBe(0);
    expect(verdictExitCode('inconclusive', inconclusiveExitOption('1'))).toBe(1);
    expect(inconclusiveExitOption(undefined)).toBe(2);
    expect(() => inconclusiveExitOption('7')).toThrow(UsageError);
  });
});
