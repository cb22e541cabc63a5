// Entry point: styles, the routes and the router.
import './style.css';
import { comparePage } from './pages/compare';
import { gridPage } from './pages/grid';
import { regressionPage, regressionsPage } from './pages/regressions';
import { runPage } from './pages/run';
import { runsPage } from './pages/runs';
import { type Page, type Route, startRouter } from './router';

function resolve(route: Route): Page | null {
  const [first, id, extra] = route.segments;
  if (extra !== undefined) return null;
  switch (first) {
    case undefined:
    case 'runs':
      return id === undefined ? runsPage : runPage;
    case 'grids':
      return id === undefined ? null : gridPage;
    case 'compare':
      return id === undefined ? comparePage : null;
    case 'regressions':
      return id === undefined ? regressionsPage : regressionPage;
    default:
      return null;
  }
}

const root = document.getElementById('app');
if (root === null) throw new Error('index.html has no #app element');
startRouter(root, resolve);
