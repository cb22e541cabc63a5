import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CliResult,
  cliEnv,
  ensureCliBuilt,
  REPO_ROOT,
  type RunningUp,
  removeHome,
  spawnCli,
  startUp,
  swavlab,
  tempHome,
} from '../cli/helpers.js';
import { parseJunit } from './junit-parse.js';

const SUITE = join(REPO_ROOT, 'infra/ci/suites/tiny-synthetic.json');
const PLANTED = join(REPO_ROOT, 'test/regress/fixtures/planted-regression');

let home: string;
let up: RunningUp | undefined;
let env: NodeJS.ProcessEnv;

/** `swavlab up` in `home` with two worker slots; `extra` reaches the worker's Python (PYTHONPATH). */
async function startStack(extra: Record<string, string> = {}): Promise<void> {
  up = await startUp(cliEnv({ SWAVLAB_HOME: home, SWAVLAB_SLOTS: '2', ...extra }));
  env = cliEnv({ SWAVLAB_URL: up.url });
}

async function stopStack(): Promise<void> {
  if (up === undefined) return;
  const stopping = up;
  up = undefined;
  expect(await stopping.stop(), stopping.stderr()).toBe(0);
}

function regress(args: string[]): Promise<CliResult> {
  return swavlab(['regress', '--wait', ...args], env);
}

function explain(result: CliResult): string {
  return `exit ${result.code}\n${result.stdout}\n${result.stderr}\n${up?.stderr().slice(-4000) ?? ''}`;
}

async function writeSuite(name: string, suite: unknown): Promise<string> {
  const file = join(home, name);
  await writeFile(file, JSON.stringify(suite));
  return file;
}

beforeAll(async () => {
  await ensureCliBuilt();
  home = await tempHome();
  await startStack();
}, 120_000);

afterAll(async () => {
  await stopStack();
  if (home !== undefined) await removeHome(home);
}, 120_000);

describe('swavlab regress', () => {
  it('refuses a bad command line or suite before submitting anything (exit 2, the field named)', async () => {
    const missing = await swavlab(['regress', '--baseline', 'main'], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('missing --suite FILE');
    const noWait = await swavlab(
      ['regress', '--suite', SUITE, '--baseline', 'main', '--junit', 'x.xml'],
      env,
    );
    expect(noWait.code).toBe(2);
    expect(noWait.stderr).toContain('--junit needs --wait');
    const file = await writeSuite('bad.json', {
      name: 'bad',
      spec: {},
      seeds: [1],
      metrics: [{ name: 'loss', direction: 'min', tolerance: { kind: 'relative', value: -1 } }],
    });
    const bad = await swavlab(['regress', '--suite', file, '--baseline', 'main', '--wait'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('metrics[0].tolerance.value: must be >= 0');
  });

  it('without a baseline: error (exit 2) that says how to create one', async () => {
    const result = await regress([
      '--suite',
      SUITE,
      '--baseline',
      'absent',
      '--junit',
      join(home, 'absent.xml'),
    ]);
    expect(result.code, explain(result)).toBe(2);
    expect(result.stdout).toContain('verdict: error');
    expect(result.stdout).toContain('no baseline absent for suite tiny-synthetic; create one with --promote');
    const [suite] = await parseJunit(await readFile(join(home, 'absent.xml'), 'utf8'));
    expect(suite?.counts.errors).toBeGreaterThan(0);
  }, 120_000);

  it('--promote on the first run creates the baseline; ten runs of the unchanged code then pass; --promote adds a version', async () => {
    const first = await regress(['--suite', SUITE, '--baseline', 'main', '--promote', '--commit', 'c0']);
    expect(first.code, explain(first)).toBe(0);
    expect(first.stdout).toContain('verdict: pass');
    expect(first.stdout).toContain('baseline main@1 of suite tiny-synthetic');
    // Not a terminal: one progress line per change of the counts.
    expect(first.stdout).toMatch(/tiny-synthetic: [0-3]\/3 runs done .* elapsed \d+s\n/);

    // Submitted together so that both worker slots stay busy; each is its own regression with its own runs.
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        regress([
          '--suite',
          SUITE,
          '--baseline',
          'main',
          '--commit',
          `c${i + 1}`,
          '--junit',
          join(home, `pass-${i + 1}.xml`),
          '--markdown',
          join(home, `pass-${i + 1}.md`),
        ]),
      ),
    );
    for (const result of results) {
      expect(result.code, explain(result)).toBe(0);
      expect(result.stdout).toContain(
        'verdict: pass (suite tiny-synthetic, baseline main@1, 3 candidate runs)',
      );
    }
    const [suite] = await parseJunit(await readFile(join(home, 'pass-10.xml'), 'utf8'));
    expect(suite?.name).toBe('swavlab regression tiny-synthetic');
    expect(suite?.counts).toEqual({ tests: 3, failures: 0, errors: 0, skipped: 0 });
    expect(suite?.cases.map((c) => c.name)).toEqual(['loss (relative)', 'loss (statistical)', 'knn_top1@5']);
    const markdown = await readFile(join(home, 'pass-10.md'), 'utf8');
    expect(markdown).toContain('**pass**');
    expect(markdown).toContain('baseline `main@1` · commit `c10`');

    // A later pass with --promote becomes the next version of the baseline.
    const promoted = await regress(['--suite', SUITE, '--baseline', 'main', '--promote', '--commit', 'c11']);
    expect(promoted.code, explain(promoted)).toBe(0);
    expect(promoted.stdout).toContain('promoted: baseline main@2 of suite tiny-synthetic');
  }, 240_000);

  it('Ctrl-C stops waiting (exit 130) and leaves the regression running', async () => {
    const { child, stdout, stderr, exited } = spawnCli(
      ['regress', '--wait', '--suite', SUITE, '--baseline', 'main'],
      env,
    );
    await expect.poll(stdout, { timeout: 30_000 }).toMatch(/runs done/);
    child.kill('SIGINT');
    expect(await exited, `${stdout()}\n${stderr()}`).toBe(130);
    const id = /regression (\S+): suite/.exec(stdout())?.[1];
    expect(stderr()).toContain(`stopped waiting; regression ${id} goes on`);
    const view = (await (await fetch(`${env.SWAVLAB_URL}/v1/regressions/${id}`)).json()) as {
      progress: { total: number };
    };
    expect(view.progress.total).toBe(3);
  }, 60_000);

  it('one seed with a statistical tolerance is inconclusive: exit 2, or --inconclusive-exit', async () => {
    const suite = JSON.parse(await readFile(SUITE, 'utf8')) as Record<string, unknown>;
    const file = await writeSuite('one-seed.json', {
      ...suite,
      name: 'tiny-one-seed',
      seeds: [1],
      metrics: [{ name: 'loss', direction: 'min', tolerance: { kind: 'statistical', alpha: 0.05 } }],
    });
    const baseline = await regress(['--suite', file, '--baseline', 'main', '--promote']);
    expect(baseline.code, explain(baseline)).toBe(0);

    const junit = join(home, 'one-seed.xml');
    const inconclusive = await regress(['--suite', file, '--baseline', 'main', '--junit', junit]);
    expect(inconclusive.code, explain(inconclusive)).toBe(2);
    expect(inconclusive.stdout).toContain('verdict: inconclusive');
    expect(inconclusive.stdout).toContain('needs at least 3 seeds per side');
    const [parsed] = await parseJunit(await readFile(junit, 'utf8'));
    expect(parsed?.counts).toEqual({ tests: 1, failures: 0, errors: 0, skipped: 1 });

    const tolerated = await regress(['--suite', file, '--baseline', 'main', '--inconclusive-exit', '0']);
    expect(tolerated.code, explain(tolerated)).toBe(0);
    expect(tolerated.stdout).toContain('verdict: inconclusive');
  }, 120_000);

  it('a planted trainer bug is a regression: exit 1, the Markdown names the metric and the delta', async () => {
    // The same home (database, baseline main@1) served by a stack whose Python loads the planted bug.
    await stopStack();
    await startStack({ PYTHONPATH: PLANTED });
    const junit = join(home, 'planted.xml');
    const markdownFile = join(home, 'planted.md');
    const result = await regress([
      '--suite',
      SUITE,
      '--baseline',
      'main',
      '--commit',
      'planted',
      '--junit',
      junit,
      '--markdown',
      markdownFile,
      '--json',
    ]);
    expect(result.code, explain(result)).toBe(1);
    const view = JSON.parse(result.stdout) as {
      verdict: string;
      report: { metrics: { name: string; tolerance: { kind: string }; verdict: string; delta: number }[] };
    };
    expect(view.verdict).toBe('regression');
    const relative = view.report.metrics.find(
      (row) => row.name === 'loss' && row.tolerance.kind === 'relative',
    );
    expect(relative?.verdict).toBe('regression');
    // The plant multiplies the loss many times over (see the fixture's docstring).
    expect(relative?.delta).toBeGreaterThan(10);

    const markdown = await readFile(markdownFile, 'utf8');
    expect(markdown).toContain('**regression**');
    const row = markdown.split('\n').find((line) => line.startsWith('| `loss (relative)`'));
    expect(row).toBeDefined();
    expect(row).toContain('❌ regression');
    expect(row).toMatch(/\| \+\d+(\.\d+)? \(\+\d+%\) \|/);
    expect(markdown).toMatch(/- ❌ `loss \(relative\)` regression: delta \+\d/);

    const [suite] = await parseJunit(await readFile(junit, 'utf8'));
    expect(suite?.counts.tests).toBe(3);
    expect(suite?.counts.errors).toBe(0);
    const failures = suite?.cases.filter((c) => c.outcome === 'failure') ?? [];
    expect(suite?.counts.failures).toBe(failures.length);
    expect(failures.map((c) => c.name)).toContain('loss (relative)');
    expect(failures.find((c) => c.name === 'loss (relative)')?.message).toMatch(/^delta \+\d.*, threshold /);
  }, 180_000);
});
