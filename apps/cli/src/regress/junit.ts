// A finished regression as JUnit XML, the test-report format CI systems display (GitHub, GitLab, Jenkins):
// one <testsuite> with one <testcase> per metric row; a regression is a <failure>, an error row an <error>, an
// inconclusive row is <skipped>.
import type { MetricComparison, RegressionView } from '@swavlab/spec';
import { baselineText, formatDelta, formatP, formatThreshold, rowLabel } from './rows.js';

// XML 1.0 forbids these code points even as character references; a stray one would make the file unreadable.
// biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to match control characters
const NOT_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;

/**
 * Text escaped for XML element content: the five special characters, and a carriage return as a reference
 * (parsers turn a literal one into a line feed).
 */
export function escapeXml(text: string): string {
  return text
    .replace(NOT_XML, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
    .replace(/\r/g, '&#13;');
}

/** Text escaped for an attribute value: parsers turn a literal tab or line feed there into a space. */
export function escapeAttribute(text: string): string {
  return escapeXml(text).replace(/\n/g, '&#10;').replace(/\t/g, '&#9;');
}

function attributes(values: Record<string, string | number>): string {
  return Object.entries(values)
    .map(([name, value]) => ` ${name}="${escapeAttribute(String(value))}"`)
    .join('');
}

/** `delta -2.50 pts, threshold 2.00 pts, p 0.0123`: the numbers behind a row's verdict. */
export function rowNumbers(row: MetricComparison): string {
  const p = row.p_value === null ? '' : `, p ${formatP(row.p_value)}`;
  return `delta ${formatDelta(row)}, threshold ${formatThreshold(row)}${p}`;
}

function outcome(row: MetricComparison): string {
  const message = `${rowNumbers(row)}: ${row.reason}`;
  switch (row.verdict) {
    case 'pass':
      return '';
    case 'regression':
      return `\n      <failure${attributes({ message, type: 'regression' })}>${escapeXml(message)}</failure>\n    `;
    case 'error':
      return `\n      <error${attributes({ message: row.reason, type: 'error' })}>${escapeXml(message)}</error>\n    `;
    case 'inconclusive':
      return `\n      <skipped${attributes({ message: row.reason })}/>\n    `;
  }
}

function seconds(view: RegressionView): number {
  if (view.finished_at === null) return 0;
  return Math.max(0, (Date.parse(view.finished_at) - Date.parse(view.created_at)) / 1000);
}

/**
 * The report of a finished regression as a JUnit XML document. A regression that ended in an error before any
 * metric could be compared (no baseline, every run failed) still yields one <testcase> with the <error>, so that
 * the CI system shows a failed test rather than an empty report.
 */
export function renderJunit(view: RegressionView): string {
  const rows = view.report?.metrics ?? [];
  const suiteName = view.suite_name;
  const cases = rows.map(
    (row) =>
      `    <testcase${attributes({ classname: suiteName, name: rowLabel(row, rows), time: 0 })}>${outcome(row)}</testcase>`,
  );
  let errors = rows.filter((row) => row.verdict === 'error').length;
  if (rows.length === 0 && view.verdict === 'error') {
    const message = view.report?.message ?? 'the regression ended in an error';
    cases.push(
      `    <testcase${attributes({ classname: suiteName, name: 'regression', time: 0 })}>\n      <error${attributes({ message, type: 'error' })}>${escapeXml(message)}</error>\n    </testcase>`,
    );
    errors = 1;
  }
  const counts = {
    tests: cases.length,
    failures: rows.filter((row) => row.verdict === 'regression').length,
    errors,
    skipped: rows.filter((row) => row.verdict === 'inconclusive').length,
  };
  const properties = {
    verdict: view.verdict ?? 'unfinished',
    baseline: baselineText(view),
    commit: view.commit ?? '',
    branch: view.branch ?? '',
    ci_url: view.ci_url ?? '',
    regression_id: view.id,
  };
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites${attributes({ name: 'swavlab regression', ...counts, time: seconds(view) })}>`,
    `  <testsuite${attributes({ name: `swavlab regression ${suiteName}`, ...counts, time: seconds(view), timestamp: view.created_at })}>`,
    '    <properties>',
    ...Object.entries(properties).map(([name, value]) => `      <property${attributes({ name, value })}/>`),
    '    </properties>',
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
