// RFC 4180 CSV for the export endpoints: a header row, CRLF line ends, fields quoted when they need it, and text
// that a spreadsheet would run as a formula (OWASP's CSV injection) prefixed with a quote.
import { canonicalJson } from '@swavlab/spec';

export const CSV_CONTENT_TYPE = 'text/csv; charset=utf-8';

// What spreadsheets read as the start of a formula. Numbers are written as numbers, so only text is escaped.
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * A field's text: empty for null, numbers as they are, strings as they are unless they would start a formula
 * (then prefixed with `'`), other JSON values as canonical JSON.
 */
function fieldText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return FORMULA_START.test(value) ? `'${value}` : value;
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  if (typeof value === 'boolean') return String(value);
  return canonicalJson(value);
}

function quote(text: string): string {
  return /[",\r\n]/.test(text) || text !== text.trim() ? `"${text.replaceAll('"', '""')}"` : text;
}

export function toCsv(header: readonly string[], rows: readonly (readonly unknown[])[]): string {
  return [header, ...rows].map((row) => `${row.map((v) => quote(fieldText(v))).join(',')}\r\n`).join('');
}
