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

it('runs the quick multi-crop grid in-process and prints its table with the statistics', async () => {
  const url = `http://127.0.0.1:${await freePort()}`;
  const result = await swavlab(['demo', '--quick', '--url', url], cliEnv({ SWAVLAB_HOME: home }));
  expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
  const out = result.stdout;
  expect(out).toContain(`no server at ${url}: starting one in this process`);
  expect(out).toMatch(/^grid \S+: 4 runs$/m);
  // One line per finished cell.
  for (const crops of ['2x20\\(0\\.3-1\\)', '2x16\\(0\\.3-1\\)\\+4x8\\(0\\.15-0\\.4\\)']) {
    for (const seed of [1, 2]) {
      expect(out).toMatch(
        new RegExp(`\\[\\d/4\\] succeeded +crops=${crops} seed=${seed} +knn_top1@20 [\\d.]+%`),
      );
    }
  }
  // The table: one row per crop setting (in the notation), each with its mark, mean ± std, CI, n and p vs best.
  expect(out).toContain('k-NN top-1 accuracy (%, k=20, held-out images) per crop setting, 2 seeds per cell');
  expect(out).toMatch(/^ +swav\.crops +knn_top1@20 \(%\) mean ± std +95% CI +n +min +max +p vs best$/m);
  const row = (crops: string) =>
    new RegExp(
      `^([★≈ ]) +${crops} +(\\d+\\.\\d) ± [\\d.]+ +\\[-?[\\d.]+, [\\d.]+\\] +2 +[\\d.]+ +[\\d.]+ +(-|[\\d.e-]+)$`,
      'm',
    );
  const rows = ['2x16\\(0\\.3-1\\)\\+4x8\\(0\\.15-0\\.4\\)', '2x20\\(0\\.3-1\\)'].map((crops) =>
    out.match(row(crops)),
  );
  expect(
    rows.every((match) => match !== null),
    out,
  ).toBe(true);
  expect(rows.map((match) => match?.[1]).filter((mark) => mark === '★')).toHaveLength(1);
  // The notes name the test, and the verdict is spelled out either way.
  expect(out).toContain("Welch's two-sided t-test of each group against the best group");
  expect(out).toMatch(
    /^(significant: swav\.crops=\S+ beats swav\.crops=\S+ by [\d.]+ points|no difference in this table is significant with these seeds)/m,
  );
  expect(out).toMatch(/^4\/4 runs succeeded in \S+$/m);
  expect(out).toContain(`dashboard: ${url}/`);

  // The stack it started is gone: lock released, redis-server stopped, logs kept.
  expect(existsSync(join(home, 'swavlab.lock'))).toBe(false);
  const redisPid = Number((await readFile(join(home, 'redis', 'redis.pid'), 'utf8').catch(() => '0')).trim());
  if (redisPid > 0) expect(processExists(redisPid)).toBe(false);
  expect(existsSync(join(home, 'logs', 'demo.log'))).toBe(true);
  expect((await fetch(`${url}/healthz`).catch(() => null))?.ok ?? false).toBe(false);
}, 240_000);
