// Small building blocks shared by the pages: status badges, progress, problem boxes, sections, tables.
import { ApiError, downloadWithToken, storedToken } from './api';
import { type Child, h } from './dom';
import { duration, num, STATUS_SYMBOL } from './format';
import type { RunProgress, RunStatus } from './types';

export function statusBadge(status: RunStatus): HTMLElement {
  return h(
    'span',
    { class: `status status-${status}`, data: { status } },
    `${STATUS_SYMBOL[status]} ${status}`,
  );
}

export function progressView(progress: RunProgress, status: RunStatus): HTMLElement {
  const parts: string[] = [];
  if (progress.epoch !== null) parts.push(`epoch ${progress.epoch}`);
  if (progress.step !== null)
    parts.push(`step ${progress.step}${progress.total_steps !== null ? `/${progress.total_steps}` : ''}`);
  if (progress.fraction !== null) parts.push(`${Math.round(progress.fraction * 100)}%`);
  if (progress.eta_seconds !== null && (status === 'running' || status === 'stopping'))
    parts.push(`ETA ${duration(progress.eta_seconds)}`);
  // No bar without a known fraction: an empty <progress> would animate as if work were going on.
  let bar: HTMLProgressElement | null = null;
  if (progress.fraction !== null) {
    bar = h('progress', { aria: { label: 'progress' } });
    bar.max = 1;
    bar.value = progress.fraction;
  }
  return h(
    'span',
    { class: 'progress' },
    bar,
    h('span', { class: 'progress-text' }, parts.join(' · ') || '–'),
  );
}

/** An error for the user: the problem's detail and each `errors` entry (path: message). */
export function problemBox(error: unknown, what: string): HTMLElement {
  const box = h('div', { class: 'problem', role: 'alert' });
  if (error instanceof ApiError) {
    box.append(h('strong', {}, `${what}: ${error.message}`));
    if (error.status === 401 || error.status === 403)
      box.append(
        h('p', {}, 'This server needs an API token with the read scope: use the "API token" button.'),
      );
    const errors = error.problem.errors ?? [];
    if (errors.length > 0)
      box.append(
        h(
          'ul',
          { class: 'problem-errors' },
          ...errors.map((e) => h('li', {}, h('code', {}, e.path), `: ${e.message}`)),
        ),
      );
  } else {
    box.append(h('strong', {}, `${what}: ${error instanceof Error ? error.message : String(error)}`));
  }
  return box;
}

export function section(title: string, ...children: Child[]): HTMLElement {
  return h('section', { class: 'panel' }, h('h2', {}, title), ...children);
}

export function chartBox(tall = false): HTMLDivElement {
  return h('div', { class: tall ? 'chart chart-tall' : 'chart' });
}

export function note(text: string): HTMLElement {
  return h('p', { class: 'note' }, text);
}

/** A wide element (a table) that scrolls sideways inside its panel instead of widening the page. */
export function scrollBox(child: HTMLElement): HTMLElement {
  return h('div', { class: 'scroll-x' }, child);
}

/** A plain table: header cells, then rows of cells. */
export function table(
  headers: readonly Child[],
  rows: readonly (readonly Child[])[],
  label: string,
): HTMLTableElement {
  return h(
    'table',
    { aria: { label } },
    h('thead', {}, h('tr', {}, ...headers.map((header) => h('th', { scope: 'col' }, header)))),
    h('tbody', {}, ...rows.map((row) => h('tr', {}, ...row.map((cell) => h('td', {}, cell))))),
  );
}

/** Key/value rows (final metrics, run facts). */
export function facts(entries: readonly [string, Child][], label: string): HTMLElement {
  return h(
    'table',
    { class: 'facts', aria: { label } },
    h(
      'tbody',
      {},
      ...entries.map(([key, val]) => h('tr', {}, h('th', { scope: 'row' }, key), h('td', {}, val))),
    ),
  );
}

export function metricValue(value: unknown): string {
  return typeof value === 'number' ? num(value) : value === null ? '–' : JSON.stringify(value);
}

/** An export link; with a stored token the file is fetched with it (a plain link cannot send the header). */
export function exportLink(label: string, url: string, filename: string): HTMLAnchorElement {
  return h(
    'a',
    {
      href: url,
      download: filename,
      onclick: (event) => {
        if (storedToken() === null) return;
        event.preventDefault();
        downloadWithToken(url, filename).catch((error: unknown) => alert(`${label}: ${String(error)}`));
      },
    },
    label,
  );
}
