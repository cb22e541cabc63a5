// `swavlab demo --quick` end to end: no server answers at the URL, so the demo starts the stack in its own
// process (embedded database, a private redis-server, API, worker), runs the reduced grid and prints the table.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cliEnv, ensureCliBuilt, freePort, processExists, removeHome, swavlab, tempHome } from './helpers.js';

let home: string;

beforeAll(async () => {
  await ensureCliBuilt();
  home = await tempHome();
}, 120_000);

afterAll(async () => {
  if (home !== undefined) await removeHome(home);
});

it('runs the quick ablation grid in-process and prints the prototypes x iterations table', async () => {
  const url = `http://127.0.0.1:${await freePort()}`;
  const result = await swavlab(['demo', '--quick', '--url', url], cliEnv({ SWAVLAB_HOME: home }));
  expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
  const out = result.stdout;
  expect(out).toContain(`no server at ${url}: starting one in this process`);
  expect(out).toMatch(/^grid \S+: 4 runs$/m);
  // One line per finished cell.
  for (const prototypes of [30, 300]) {
    for (const iterations of [1, 3]) {
      expect(out).toMatch(
        new RegExp(
          `\\[\\d/4\\] succeeded +prototypes=${prototypes} sinkhorn_iterations=${iterations} seed=1 +knn_top1@20 [\\d.]+%`,
        ),
      );
    }
  }
  // The table: rows prototypes, columns Sinkhorn iterations, one accuracy (in %) per cell.
  expect(out).toContain('k-NN top-1 accuracy (%, k=20, held-out images), mean ± std over 1 seed:');
  expect(out).toMatch(/^swav\.prototypes \\ swav\.sinkhorn_iterations +1 +3$/m);
  // A cell: ★ (best), ≈ (tied with it) or a space, the mean (± std and [CI] with two seeds or more), n.
  const cellPattern = '[★≈ ] (\\d+\\.\\d)(?: ± [\\d.]+ \\[-?[\\d.]+, [\\d.]+\\])? n=\\d+';
  const rows = [...out.matchAll(new RegExp(`^(30|300) +${cellPattern} +${cellPattern}$`, 'gm'))];
  expect(rows.map((row) => row[1])).toEqual(['30', '300']);
  for (const row of rows) {
    for (const cell of [row[2], row[3]]) expect(Number(cell)).toBeGreaterThanOrEqual(0);
    for (const cell of [row[2], row[3]]) expect(Number(cell)).toBeLessThanOrEqual(100);
  }
  expect(out).toMatch(/^4\/4 runs succeeded in \S+$/m);
  expect(out).toContain(`dashboard: ${url}/`);

  // The stack it started is gone: lock released, redis-server stopped, logs kept.
  expect(existsSync(join(home, 'swavlab.lock'))).toBe(false);
  const redisPid = Number((await readFile(join(home, 'redis', 'redis.pid'), 'utf8').catch(() => '0')).trim());
  if (redisPid > 0) expect(processExists(redisPid)).toBe(false);
  expect(existsSync(join(home, 'logs', 'demo.log'))).toBe(true);
  expect((await fetch(`${url}/healthz`).catch(() => null))?.ok ?? false).toBe(false);
}, 240_000);
