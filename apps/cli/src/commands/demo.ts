// `swavlab demo`: a small SwAV ablation end to end. Uses the server at --url, or starts the whole stack in this
// process when nothing answers there; submits the multi-crop grid, shows progress, and prints the ablation table
// with its statistics and the differences they call significant.
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { groupsTable, significantDifferences, statisticsNotes } from '../ablation-table.js';
import { type Command, parseCommand, printLine, SERVER_OPTIONS, SERVER_USAGE } from '../command.js';
import { DEMO_AXIS, DEMO_METRIC, type DemoSize, demoGrid, FULL_DEMO, QUICK_DEMO } from '../demo-grid.js';
import { CliError, EXIT } from '../errors.js';
import { formatDuration } from '../format.js';
import { waitForRuns } from '../grid-progress.js';
import { resolveHome } from '../home.js';
import { ApiClient, serverSettings } from '../http-client.js';
import type { Stack } from '../stack.js';
import { type CreatedGrid, type GridResults, isTerminal, type Run } from '../wire.js';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** A CPU-only host runs two cells at a time (one torch thread each) unless SWAVLAB_SLOTS says otherwise. */
async function demoSlots(env: NodeJS.ProcessEnv): Promise<Record<string, string>> {
  const { detectGpus } = await import('@swavlab/worker');
  if (env.SWAVLAB_SLOTS || (await detectGpus(env)).length > 0) return {};
  return { SWAVLAB_SLOTS: String(Math.max(1, Math.min(2, availableParallelism()))) };
}

/** Starts api + worker + database + redis-server in this process, listening where `url` points. */
async function startLocalStack(url: string): Promise<Stack> {
  const parsed = new URL(url);
  if (parsed.protocol !== 'http:' || !LOOPBACK.has(parsed.hostname)) {
    throw new CliError(
      `nothing answers at ${url}, and the demo only starts its own server on a loopback http:// URL`,
      EXIT.unreachable,
    );
  }
  const env = {
    ...process.env,
    HOST: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
    PORT: parsed.port || '80',
    ...(await demoSlots(process.env)),
  };
  const logDir = join(resolveHome(env), 'logs');
  await mkdir(logDir, { recursive: true });
  const logFile = join(logDir, 'demo.log');
  const log = createWriteStream(logFile, { flags: 'a' });
  printLine(`no server at ${url}: starting one in this process (logs: ${logFile})`);
  // Loaded only now: the server side (Fastify, Prisma, BullMQ) is not needed when a server answers.
  const { startStack } = await import('../stack.js');
  const stack = await startStack({ api: true, worker: true, localRedis: true, command: 'demo', env, log });
  // The log file closes after the stack, which writes to it until the end.
  return {
    ...stack,
    close: async () => {
      await stack.close();
      await new Promise<void>((resolve) => log.end(resolve));
    },
  };
}

function describeGrid(size: DemoSize): string {
  const [two, multi] = size.crops;
  return (
    `crops ${two} (2 crops) vs ${multi} (multi-crop), ${size.seeds.length} seeds each: ` +
    `${size.crops.length * size.seeds.length} runs of ${size.epochs} epochs on ${size.images} synthetic ` +
    `${size.imageSize} px images, small-data recipe with the tiny backbone, k-NN evaluation`
  );
}

/** One line per collapse warning a run ended with (the worker lists them in final_metrics.warnings). */
function collapseWarnings(runs: readonly Run[]): string[] {
  return runs.flatMap((run) => {
    const warnings: unknown = run.final_metrics?.warnings;
    if (!Array.isArray(warnings)) return [];
    return (warnings as unknown[]).map((warning) => {
      const message =
        typeof warning === 'object' && warning !== null && 'message' in warning ? warning.message : '';
      return `collapse warning, run ${run.id}: ${String(message)}`;
    });
  });
}

/** Cancels what is still queued or running (the runs would otherwise go on at the next start). */
async function cancelUnfinished(client: ApiClient, runs: readonly Run[]): Promise<void> {
  for (const run of runs) {
    if (!isTerminal(run.status)) {
      await client
        .request('POST', `/v1/runs/${run.id}/cancel`, `cancel run ${run.id}`)
        .catch(() => undefined);
    }
  }
}

export const demoCommand: Command = {
  name: 'demo',
  summary: 'run a small SwAV ablation (multi-crop vs 2 crops) and print its table with its statistics',
  usage: `Usage: swavlab demo [--quick] [options]

Submits the paper's multi-crop ablation (Table 4: two crops against multi-crop of about the same compute),
shrunk to run on two CPU cores in a few minutes: ${describeGrid(FULL_DEMO)}.
Shows each run as it finishes, then the table of k-NN top-1 accuracy per crop setting (mean ± std, 95% CI,
n seeds, p against the best; ★ best, ≈ tied with it) and the differences the test calls significant. When no
server answers at the URL (a loopback one), the demo starts the whole stack in this process (like
\`swavlab up\`, with SWAVLAB_HOME) and stops it at the end.

Options:
  --quick          a reduced grid (${describeGrid(QUICK_DEMO)})
${SERVER_USAGE}

Exit codes: 0 every run succeeded, 1 some run failed or was canceled, 3 server unreachable.`,

  async run(args) {
    const parsed = parseCommand(this, args, { ...SERVER_OPTIONS, quick: { type: 'boolean' } });
    if (!parsed) return EXIT.ok;
    const started = Date.now();
    const size = parsed.values.quick ? QUICK_DEMO : FULL_DEMO;
    const client = new ApiClient(serverSettings(parsed.values));

    // First SIGINT/SIGTERM: stop waiting, cancel what is unfinished, stop the local server; a second: exit now.
    const interrupted = new AbortController();
    const onSignal = () => {
      if (interrupted.signal.aborted) {
        process.stderr.write('second signal: exiting now\n');
        process.exit(EXIT.interrupted);
      }
      interrupted.abort();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    let local: Stack | undefined;
    try {
      if (!(await client.isAnswering())) local = await startLocalStack(client.settings.url);
      if (interrupted.signal.aborted) return EXIT.interrupted;
      printLine(`swavlab demo: ${describeGrid(size)}`);
      const { body: grid } = await client.request<CreatedGrid>('POST', '/v1/grids', 'submit the demo grid', {
        body: demoGrid(size),
      });
      const reused =
        grid.runs.deduplicated > 0 ? ` (${grid.runs.deduplicated} reused from earlier identical runs)` : '';
      printLine(`grid ${grid.id}: ${grid.cell_count} runs${reused}`);
      const runs = await waitForRuns(client, grid.runs.run_ids, {
        metric: DEMO_METRIC,
        signal: interrupted.signal,
      });
      if (interrupted.signal.aborted) {
        printLine('interrupted: canceling the demo runs that have not finished');
        await cancelUnfinished(client, runs);
        return EXIT.interrupted;
      }

      // Cells identical to earlier runs stay in the grid that first ran them; their results live there.
      const resultsGrid = runs.find((run) => run.grid_id !== null)?.grid_id ?? grid.id;
      const results = await client.get<GridResults>(`/v1/grids/${resultsGrid}/results`, 'the demo results', {
        metric: DEMO_METRIC,
        group_by: [DEMO_AXIS],
      });
      const seeds = size.seeds.length;
      printLine();
      printLine(
        `k-NN top-1 accuracy (%, k=20, held-out images) per crop setting, ${seeds} seed${seeds === 1 ? '' : 's'} ` +
          'per cell (n counts those that succeeded):',
      );
      printLine();
      if (results.groups.length === 0) printLine('(no run succeeded)');
      else {
        printLine(groupsTable(results));
        printLine();
        for (const line of statisticsNotes(results)) printLine(line);
        const significant = significantDifferences(results);
        printLine();
        for (const line of significant) printLine(line);
        if (significant.length === 0)
          printLine('no difference in this table is significant with these seeds');
        printLine('paper (Table 4, ImageNet, 400 epochs): multi-crop 2x160+4x96 74.1 vs 2 crops 2x224 70.1');
      }
      for (const line of collapseWarnings(runs)) printLine(line);
      printLine();
      const succeeded = runs.filter((run) => run.status === 'succeeded').length;
      const url = client.settings.url;
      printLine(
        `${succeeded}/${runs.length} runs succeeded in ${formatDuration((Date.now() - started) / 1000)}`,
      );
      printLine(`dashboard: ${url}/   API docs: ${url}/docs`);
      printLine(`table again: swavlab results ${resultsGrid} --url ${url}`);
      if (local !== undefined)
        printLine('(this server stops with the demo; `swavlab up` serves the same results again)');
      return succeeded === runs.length ? EXIT.ok : EXIT.failure;
    } finally {
      if (local !== undefined) {
        printLine('stopping the server started by the demo');
        await local.close();
      }
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  },
};
