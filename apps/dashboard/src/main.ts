// Entry point: styles, the routes and the router.
import './style.css';
import { forgetPersistentToken, storedToken, storeToken } from './api';
import { comparePage } from './pages/compare';
import { gridPage } from './pages/grid';
import { gridsPage } from './pages/grids';
import { regressionPage, regressionsPage } from './pages/regressions';
import { runPage } from './pages/run';
import { runsPage } from './pages/runs';
import { type Page, type Route, startRouter } from './router';
import { startTheme } from './theme';

function resolve(route: Route): Page | null {
  const [first, id, extra] = route.segments;
  if (extra !== undefined) return null;
  switch (first) {
    case undefined:
    case 'runs':
      return id === undefined ? runsPage : runPage;
    case 'grids':
      return id === undefined ? gridsPage : gridPage;
    case 'compare':
      return id === undefined ? comparePage : null;
    case 'regressions':
      return id === undefined ? regressionsPage : regressionPage;
    default:
      return null;
  }
}

/** A server with tokens needs one (read scope) on every request; it stays in this tab's sessionStorage. */
function askForToken(): void {
  const entered = prompt('API token (empty to forget the stored one)', storedToken() ?? '');
  if (entered === null) return;
  storeToken(entered.trim());
  location.reload();
}

const root = document.getElementById('app');
if (root === null) throw new Error('index.html has no #app element');
document.getElementById('token')?.addEventListener('click', askForToken);
forgetPersistentToken();
startTheme(document.getElementById('theme'));
startRouter(root, resolve);
