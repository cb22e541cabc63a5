// Hash routing: `#/runs?status=failed`, `#/runs/ID`, `#/grids/ID`, `#/compare?ids=a,b`, `#/regressions/ID`.
// Each navigation disposes the shown page's scope and renders the next page into a fresh root.
import { h, replaceChildren } from './dom';
import { PageScope } from './scope';
import { problemBox } from './widgets';

export interface Route {
  /** Path segments after `#/`, e.g. ['runs', 'ID']. */
  segments: string[];
  query: URLSearchParams;
}

export type Page = (root: HTMLElement, route: Route, scope: PageScope) => Promise<void>;

export function parseHash(hash: string): Route {
  const text = hash.replace(/^#\/?/, '');
  const [path = '', search = ''] = text.split('?', 2);
  return {
    segments: path
      .split('/')
      .filter((segment) => segment !== '')
      .map(decodeURIComponent),
    query: new URLSearchParams(search),
  };
}

export function hashOf(segments: readonly string[], query: Record<string, string | undefined> = {}): string {
  const params = new URLSearchParams();
  for (const [name, v] of Object.entries(query)) if (v !== undefined && v !== '') params.set(name, v);
  const search = params.toString();
  return `#/${segments.map(encodeURIComponent).join('/')}${search === '' ? '' : `?${search}`}`;
}

/** Records a page's state in the address without re-rendering it (no hashchange). */
export function replaceQuery(route: Route, query: Record<string, string | undefined>): void {
  history.replaceState(null, '', hashOf(route.segments, query));
}

export function startRouter(root: HTMLElement, resolve: (route: Route) => Page | null): void {
  let scope: PageScope | null = null;
  const show = () => {
    scope?.dispose();
    const current = new PageScope();
    scope = current;
    const route = parseHash(location.hash);
    const page = resolve(route);
    const view = h('div', { class: 'page' });
    replaceChildren(root, view);
    if (page === null) {
      view.append(
        h('h1', {}, 'Not found'),
        h('p', {}, `No page at ${location.hash}. `, h('a', { href: '#/runs' }, 'All runs')),
      );
      return;
    }
    page(view, route, current).catch((error: unknown) => {
      if (!current.disposed) view.append(problemBox(error, 'This page could not be loaded'));
    });
  };
  window.addEventListener('hashchange', show);
  show();
}
