// RFC 4180 CSV for the export endpoints: a header row, CRLF line ends, fields quoted when they need it.
import { canonicalJson } from '@swavlab/spec';

export const CSV_CONTENT_TYPE = 'text/csv; charset=utf-8';

/** A field's text: empty for null, numbers and strings as they are, other JSON values as canonical JSON. */
function fieldText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
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
