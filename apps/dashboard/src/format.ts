// How values read on screen: numbers to four significant digits, bytes, durations, axis keys, statuses with a
// symbol as well as a colour.

import { formatCrops, isCropGroups } from '@swavlab/spec/crop-notation';
import type { RunStatus } from './types';

export function num(value: number | null | undefined, digits = 4): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  if (Number.isInteger(value) && Math.abs(value) < 1e6) return String(value);
  return Math.abs(value) >= 1e-4 && Math.abs(value) < 1e6
    ? Number(value.toPrecision(digits)).toString()
    : value.toExponential(digits - 1);
}

export function meanStd(mean: number | null | undefined, std: number | null | undefined): string {
  if (mean === null || mean === undefined) return '–';
  return std === null || std === undefined ? num(mean) : `${num(mean)} ± ${num(std, 2)}`;
}

export function bytes(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let size = value;
  let unit = 0;
  while (size >= 1024 && unit < units.length - 1) {
    size /= 1024;
    unit++;
  }
  return `${unit === 0 ? size : size.toFixed(1)} ${units[unit]}`;
}

export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '–';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

export function dateTime(iso: string | null | undefined): string {
  if (!iso) return '–';
  return new Date(iso).toISOString().replace('T', ' ').slice(0, 19);
}

/** The tail of an id: ids are ULIDs, whose first characters are a timestamp shared by ids made together. */
export function shortId(id: string): string {
  return `…${id.slice(-8)}`;
}

/** A spec value as text: strings bare, crops in the notation, everything else as JSON. */
export function value(v: unknown): string {
  if (v === null || v === undefined) return '–';
  if (typeof v === 'string') return v;
  return isCropGroups(v) ? formatCrops(v) : JSON.stringify(v);
}

/** `swav.prototypes=30, swav.sinkhorn_iterations=3` */
export function keyLabel(key: Record<string, unknown>): string {
  return Object.entries(key)
    .map(([path, v]) => `${shortPath(path)}=${value(v)}`)
    .join(', ');
}

/** The last segment of a spec path (swav.prototypes → prototypes), for tight labels. */
export function shortPath(path: string): string {
  return path.split('.').at(-1) ?? path;
}

/** Axis values sorted numerically when they all are numbers, else by their text. */
export function sortValues(values: readonly unknown[]): unknown[] {
  const unique = [...new Map(values.map((v) => [JSON.stringify(v), v])).values()];
  return unique.every((v) => typeof v === 'number')
    ? (unique as number[]).sort((a, b) => a - b)
    : unique.sort((a, b) => value(a).localeCompare(value(b)));
}

export const STATUS_SYMBOL: Record<RunStatus, string> = {
  queued: '…',
  running: '▶',
  stopping: '◼',
  succeeded: '✓',
  failed: '✗',
  canceled: '⊘',
};
