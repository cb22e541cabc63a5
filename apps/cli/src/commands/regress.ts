// `swavlab regress`: run a regression suite against a named baseline (a CI step), wait for the verdict, write
// JUnit and Markdown reports, optionally promote a passing candidate set to the baseline.
import { rename, rm, writeFile } from 'node:fs/promises';
import { RegressionName, type RegressionView } from '@swavlab/spec';
import {
  type Command,
  JSON_USAGE,
  parseCommand,
  printJson,
  printLine,
  SERVER_OPTIONS,
  SERVER_USAGE,
} from '../command.js';
import { CliError, EXIT, type ExitCode, UsageError } from '../errors.js';
import { ApiClient, serverSettings } from '../http-client.js';
import { inconclusiveExitOption, verdictExitCode } from '../regress/exit-code.js';
import { renderJunit } from '../regress/junit.js';
import { renderMarkdown } from '../regress/markdown.js';
import {
  baselineText,
  formatDelta,
  formatP,
  formatSample,
  formatThreshold,
  rowLabel,
} from '../regress/rows.js';
import { readSuiteFile } from '../regress/suite-file.js';
import { createRegression, findBaseline, promoteBaseline, waitForVerdict } from '../regress/wait.js';
import { renderTable } from '../table.js';

const OPTIONS = {
  ...SERVER_OPTIONS,
  suite: { type: 'string' },
  baseline: { type: 'string' },
  commit: { type: 'string' },
  branch: { type: 'string' },
  'ci-url': { type: 'string' },
  wait: { type: 'boolean' },
  junit: { type: 'string' },
  markdown: { type: 'string' },
  promote: { type: 'boolean' },
  'inconclusive-exit': { type: 'string' },
  json: { type: 'boolean' },
} as const;

/** Writes `text` to `file` through a temporary file, so that a failed write leaves no half report behind. */
async function writeReport(file: string, text: string, what: string): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    await writeFile(temporary, text);
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw new CliError(
      `--${what} ${file}: cannot write the report: ${(error as Error).message}`,
      EXIT.failure,
    );
  }
}

function printReport(view: RegressionView): void {
  const rows = view.report?.metrics ?? [];
  printLine(
    `verdict: ${view.verdict ?? 'none'} (suite ${view.suite_name}, baseline ${baselineText(view)}, ${view.progress.total} candidate runs)`,
  );
  if (rows.length > 0) {
    printLine(
      renderTable(
        [
          { header: 'METRIC' },
          { header: 'BASELINE', align: 'right' },
          { header: 'CANDIDATE', align: 'right' },
          { header: 'DELTA', align: 'right' },
          { header: 'THRESHOLD', align: 'right' },
          { header: 'P', align: 'right' },
          { header: 'VERDICT' },
        ],
        rows.map((row) => [
          rowLabel(row, rows),
          formatSample(row.name, row.baseline),
          formatSample(row.name, row.candidate),
          formatDelta(row),
          formatThreshold(row),
          formatP(row.p_value),
          row.verdict,
        ]),
      ),
    );
  }
  for (const row of rows.filter((r) => r.verdict !== 'pass'))
    printLine(`  ${rowLabel(row, rows)}: ${row.reason}`);
  if (view.report !== null && view.report.message !== '') printLine(view.report.message);
}

/** With --promote and a pass: makes the candidate runs the latest version of baseline `name`. */
async function promote(client: ApiClient, view: RegressionView, name: string): Promise<string> {
  if (view.verdict !== 'pass') return `not promoted to baseline ${name}: the verdict is ${view.verdict}`;
  // On a suite's first run the server already made these runs version 1 (promote_if_missing).
  const latest = await findBaseline(client, name, view.suite_name);
  const candidates = new Set(view.candidate_run_ids);
  if (
    latest !== undefined &&
    latest.run_ids.length === candidates.size &&
    latest.run_ids.every((id) => candidates.has(id))
  ) {
    return `baseline ${name}@${latest.version} of suite ${view.suite_name} is this candidate set`;
  }
  const created = await promoteBaseline(client, name, view.id);
  return `promoted: baseline ${created.name}@${created.version} of suite ${created.suite_name}`;
}

export const regressCommand: Command = {
  name: 'regress',
  summary: 'run a regression suite against a baseline (CI): verdict, JUnit and Markdown reports',
  usage: `Usage: swavlab regress --suite FILE --baseline NAME [options]

Submits the regression suite in FILE (JSON: {"name", "spec", "axes", "seeds", "metrics": [{"name",
"direction": "max"|"min", "tolerance": {"kind": "absolute"|"relative"|"statistical", ...}}]}) as fresh
candidate runs, compared with the latest version of the suite's baseline NAME once they have all ended.

Options:
  --suite FILE             the suite file (validated locally first)
  --baseline NAME          the baseline to compare against (e.g. main)
  --commit SHA             recorded with the regression (e.g. $GITHUB_SHA)
  --branch B               recorded with the regression
  --ci-url U               link to the CI job, recorded and shown in the Markdown report
  --wait                   wait for the verdict, showing progress; the exit code is the verdict
  --junit FILE             with --wait: write the verdict as JUnit XML (one test case per metric)
  --markdown FILE          with --wait: write the verdict as Markdown (a PR comment or job summary)
  --promote                with --wait: when the verdict is pass, the candidate runs become the latest
                           version of baseline NAME; a suite without that baseline gets it as version 1
  --inconclusive-exit N    exit code of an inconclusive verdict: 0, 1 or 2 (default 2)
${JSON_USAGE.replace("print the server's JSON instead of a table", "print the regression's JSON (progress goes to stderr)")}
${SERVER_USAGE}

Exit codes (with --wait): 0 pass, 1 regression, 2 error (or an invalid suite or command line), inconclusive
as --inconclusive-exit; 3 server unreachable, 130 interrupted (the regression goes on). Without --wait: 0
once submitted.`,

  async run(args): Promise<ExitCode> {
    const parsed = parseCommand(this, args, OPTIONS);
    if (!parsed) return EXIT.ok;
    const { values } = parsed;
    if (values.suite === undefined) throw new UsageError('regress: missing --suite FILE');
    if (values.baseline === undefined) throw new UsageError('regress: missing --baseline NAME');
    const name = RegressionName.safeParse(values.baseline);
    if (!name.success) {
      throw new UsageError(`--baseline: ${name.error.issues[0]?.message ?? 'invalid name'}`);
    }
    for (const option of ['junit', 'markdown', 'promote'] as const) {
      if (values[option] !== undefined && values.wait !== true) {
        throw new UsageError(`--${option} needs --wait: there is a verdict only once the runs have ended`);
      }
    }
    const inconclusiveExit = inconclusiveExitOption(values['inconclusive-exit']);
    const client = new ApiClient(serverSettings(values));
    const { suite, runs } = await readSuiteFile(values.suite);

    const created = await createRegression(
      client,
      {
        suite,
        baseline: name.data,
        ...(values.commit === undefined ? {} : { commit: values.commit }),
        ...(values.branch === undefined ? {} : { branch: values.branch }),
        ...(values['ci-url'] === undefined ? {} : { ci_url: values['ci-url'] }),
        promote_if_missing: values.promote === true,
      },
      `regress ${values.suite}`,
    );
    const json = values.json === true;
    const say = (line: string) => (json ? process.stderr.write(`${line}\n`) : printLine(line));
    say(
      `regression ${created.id}: suite ${suite.name}, ${runs} candidate runs against baseline ${name.data}`,
    );
    if (values.wait !== true) {
      if (json) printJson(created);
      else
        printLine(`its verdict, once the runs have ended: ${client.urlOf(`/v1/regressions/${created.id}`)}`);
      return EXIT.ok;
    }

    const interrupted = new AbortController();
    const onSigint = () => interrupted.abort();
    process.once('SIGINT', onSigint);
    let view: RegressionView;
    try {
      view = await waitForVerdict(client, created.id, {
        stream: json ? process.stderr : process.stdout,
        signal: interrupted.signal,
      });
    } finally {
      process.off('SIGINT', onSigint);
    }
    if (view.status !== 'finished' || view.verdict === null) {
      process.stderr.write(`stopped waiting; regression ${view.id} goes on\n`);
      return EXIT.interrupted;
    }

    if (values.junit !== undefined) await writeReport(values.junit, renderJunit(view), 'junit');
    if (values.markdown !== undefined) await writeReport(values.markdown, renderMarkdown(view), 'markdown');
    if (json) printJson(view);
    else printReport(view);
    if (values.promote === true) say(await promote(client, view, name.data));
    return verdictExitCode(view.verdict, inconclusiveExit);
  },
};
