// Light or dark: the system's `prefers-color-scheme` until the toggle picks one (kept in localStorage). The theme is
// `data-theme` on <html>, which the styles and the charts (option.ts, host.ts) read; a change redraws the page.
const KEY = 'swavlab.theme';
const DARK_QUERY = '(prefers-color-scheme: dark)';

export type Theme = 'light' | 'dark';

export function currentTheme(): Theme {
  return document.documentElement.dataset.theme === 'dark' ? 'dark' : 'light';
}

function chosenTheme(): Theme {
  const stored = localStorage.getItem(KEY);
  if (stored === 'light' || stored === 'dark') return stored;
  return matchMedia(DARK_QUERY).matches ? 'dark' : 'light';
}

/** Redraws the shown page (the router renders it anew), so that its charts take the theme's colours. */
function redraw(): void {
  window.dispatchEvent(new HashChangeEvent('hashchange'));
}

function apply(button: HTMLElement | null): void {
  const theme = chosenTheme();
  document.documentElement.dataset.theme = theme;
  if (button !== null) {
    button.textContent = theme === 'dark' ? '☀ Light' : '☾ Dark';
    button.setAttribute('aria-label', `switch to the ${theme === 'dark' ? 'light' : 'dark'} theme`);
  }
}

/** Applies the theme now, follows the system's preference, and wires the toggle button. */
export function startTheme(button: HTMLElement | null): void {
  apply(button);
  matchMedia(DARK_QUERY).addEventListener('change', () => {
    if (localStorage.getItem(KEY) !== null) return;
    apply(button);
    redraw();
  });
  button?.addEventListener('click', () => {
    localStorage.setItem(KEY, currentTheme() === 'dark' ? 'light' : 'dark');
    apply(button);
    redraw();
  });
}
