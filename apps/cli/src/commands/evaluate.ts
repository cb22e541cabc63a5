// `swavlab evaluate RUN [--file EVAL.json | --linear paper|fast --knn K --semisup F] [--wait]`: evaluate one of a
// run's checkpoints after the fact, with an eval section of the spec validated locally first.
import { setTimeout as sleep } from 'node:timers/promises';
import { Eval, issuesFromZod, SEMISUP_FRACTIONS } from '@swavlab/spec';
import {
  type Command,
  intOption,
  JSON_USAGE,
  parseCommand,
  printJson,
  printLine,
  SERVER_OPTIONS,
  SERVER_USAGE,
} from '../command.js';
import { CliError, EXIT, UsageError } from '../errors.js';
import { formatMetricValue } from '../format.js';
import { ApiClient, serverSettings } from '../http-client.js';
import { issueLines, readJsonFile } from '../spec-file.js';
import { renderTable } from '../table.js';
import type { EvaluationRequest } from '../wire.js';

const POLL_MS = 1_000;

/** The options that build an eval section on the command line. */
interface SectionFlags {
  linear?: string;
  knn?: string;
  semisup?: string;
  epochs?: string;
}

/** The eval section the flags describe: only what they name is evaluated. */
function sectionFromFlags(flags: SectionFlags): Record<string, unknown> {
  const epochs = intOption('epochs', flags.epochs, 1, 10_000);
  const section: Record<string, unknown> = { knn: null, linear: null, semisup: null };
  if (flags.linear !== undefined) {
    if (flags.linear !== 'paper' && flags.linear !== 'fast') {
      throw new UsageError(`--linear: expected paper or fast, got ${JSON.stringify(flags.linear)}`);
    }
    section.linear = { protocol: flags.linear, ...(epochs === undefined ? {} : { epochs }) };
  }
  if (flags.knn !== undefined) {
    section.knn = { k: flags.knn.split(',').map((k) => intOption('knn', k.trim(), 1, 10_000) as number) };
  }
  if (flags.semisup !== undefined) {
    const fraction = Number(flags.semisup);
    if (!(SEMISUP_FRACTIONS as readonly number[]).includes(fraction)) {
      throw new UsageError(
        `--semisup: expected ${SEMISUP_FRACTIONS.join(' or ')}, got ${JSON.stringify(flags.semisup)}`,
      );
    }
    section.semisup = { fraction, ...(epochs === undefined ? {} : { epochs }) };
  }
  if (section.linear === null && section.knn === null && section.semisup === null) {
    throw new UsageError('evaluate: say what to evaluate: --file EVAL.json, --linear, --knn or --semisup', [
      'see `swavlab evaluate --help`',
    ]);
  }
  return section;
}

/** The section, checked with the spec's own schema so that a mistake names the file and the field. */
function checkedSection(section: unknown, source: string): unknown {
  const result = Eval.safeParse(section, { reportInput: true });
  if (result.success) return section;
  throw new CliError(
    `${source}: invalid eval section`,
    EXIT.usage,
    issueLines(issuesFromZod(result.error, { schema: Eval, prefix: ['eval'] })),
  );
}

function printRequest(request: EvaluationRequest): void {
  printLine(
    `evaluation ${request.id} ${request.status}: run ${request.run_id}, checkpoint at step ${request.checkpoint_step}`,
  );
  if (request.error !== null) printLine(`  error: ${request.error.kind}: ${request.error.message}`);
  const results = Object.entries(request.results ?? {}).sort(([a], [b]) => a.localeCompare(b));
  if (results.length === 0) return;
  printLine(
    renderTable(
      [{ header: '  NAME' }, { header: 'VALUE', align: 'right' }],
      results.map(([name, value]) => [`  ${name}`, formatMetricValue(name, value)]),
    ),
  );
}

export const evaluateCommand: Command = {
  name: 'evaluate',
  summary: "evaluate a run's checkpoint later (e.g. the paper's linear protocol)",
  usage: `Usage: swavlab evaluate RUN [--file EVAL.json | --linear paper|fast --knn K,... --semisup F] [options]

Evaluates one of the run's checkpoints (default: its latest) with an eval section of the spec, e.g. the
paper's linear protocol on a run that trained with the fast probe. A worker runs it on one device slot with
the run's spec and data; the results are stored as the run's evaluations at the checkpoint's step, where they
replace an earlier value of the same metric (\`swavlab show\`, grid results and \`ls -q\` see them).

  swavlab evaluate RUN --linear paper --epochs 100 --wait
  swavlab evaluate RUN --file eval.json --checkpoint 1250

What to evaluate (--file, or any of the others):
  --file EVAL.json     an eval section as in a spec, e.g. {"linear": {"protocol": "paper"}, "knn": null}
  --linear PROTOCOL    a linear probe: paper (the authors' protocol, linear_top1/5) or fast (linear_fast_top1/5)
  --knn K[,K...]       k-NN classification with these k (knn_top1@K)
  --semisup FRACTION   semi-supervised fine-tuning on 0.01 or 0.1 of the labels (semisup_top1/5)
  --epochs N           epochs of the linear probe and of the fine-tuning (default: the spec's)

Options:
  --checkpoint STEP    the step of the checkpoint to evaluate (see \`swavlab show RUN --json\`)
  --wait               wait until the evaluation ends and print its results
${JSON_USAGE}
${SERVER_USAGE}

Exit codes: 0 queued (with --wait: succeeded), 1 no such run or checkpoint, or the evaluation failed,
2 usage error or invalid eval section, 3 server unreachable.`,

  async run(args) {
    const parsed = parseCommand(
      this,
      args,
      {
        ...SERVER_OPTIONS,
        file: { type: 'string' },
        linear: { type: 'string' },
        knn: { type: 'string' },
        semisup: { type: 'string' },
        epochs: { type: 'string' },
        checkpoint: { type: 'string' },
        wait: { type: 'boolean' },
        json: { type: 'boolean' },
      },
      { min: 1, max: 1, names: 'RUN' },
    );
    if (!parsed) return EXIT.ok;
    const { values } = parsed;
    const runId = parsed.positionals[0] as string;
    const flagged = [values.linear, values.knn, values.semisup, values.epochs].some((v) => v !== undefined);
    if (values.file !== undefined && flagged) {
      throw new UsageError(
        'evaluate: --file already holds the eval section; leave out --linear, --knn, --semisup, --epochs',
      );
    }
    const section =
      values.file === undefined
        ? checkedSection(sectionFromFlags(values), 'the options')
        : checkedSection(await readJsonFile(values.file), values.file);
    const checkpointStep = intOption('checkpoint', values.checkpoint, 0, 2_147_483_647);
    const client = new ApiClient(serverSettings(values));
    const path = `/v1/runs/${encodeURIComponent(runId)}/evaluations`;
    let { body: request } = await client.request<EvaluationRequest>('POST', path, `evaluate run ${runId}`, {
      body: { eval: section, ...(checkpointStep === undefined ? {} : { checkpoint_step: checkpointStep }) },
    });
    if (values.wait === true) {
      while (request.status === 'queued' || request.status === 'running') {
        await sleep(POLL_MS);
        request = await client.get<EvaluationRequest>(
          `${path}/${encodeURIComponent(request.id)}`,
          `evaluation ${request.id}`,
        );
      }
    }
    if (values.json === true) printJson(request);
    else printRequest(request);
    return request.status === 'failed' ? EXIT.failure : EXIT.ok;
  },
};
