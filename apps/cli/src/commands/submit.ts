// `swavlab submit [FILE] [--recipe NAME] [--set PATH=VALUE]…`: validate an experiment spec locally, submit it,
// show the server's warnings, optionally watch the run.
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
import { EXIT, UsageError } from '../errors.js';
import { ApiClient, serverSettings } from '../http-client.js';
import { readRunSubmission } from '../spec-file.js';
import { watchRun } from '../watch-run.js';
import type { SpecWarning, SubmittedRun } from '../wire.js';

/** Warnings go to stderr, so that `--json` output stays parseable. */
function printWarnings(warnings: readonly SpecWarning[]): void {
  for (const warning of warnings) process.stderr.write(`warning: ${warning.path}: ${warning.message}\n`);
}

export const submitCommand: Command = {
  name: 'submit',
  summary: 'submit a run from a JSON experiment spec',
  usage: `Usage: swavlab submit [FILE] [--recipe NAME] [--set PATH=VALUE ...] [options]

Validates the experiment spec in FILE (JSON), a recipe, or both, locally, then submits it. --set assignments
apply last (VALUE is read as JSON when it parses, else as a string). An identical spec that already has a run
(queued, running or succeeded) is not run again: its run is shown instead. Likely mistakes (e.g. a batch far
smaller than the number of prototypes) are printed as warnings; the run is queued anyway.

  swavlab submit --recipe swav-bs256-queue --set data.path=imagenet --set runtime.gpus=8 --set optim.batch_size=32

Options:
  --recipe NAME    start from a recipe (see \`swavlab recipes\`); FILE and --set override its fields
  --set PATH=VALUE set one spec field, e.g. optim.epochs=10, eval.linear=null (repeatable)
  --priority N     queue priority, 1 (first) to 1000 (default: the file's "priority", else 100)
  --watch          follow the run until it ends; the exit code is its outcome
${JSON_USAGE}
${SERVER_USAGE}

Exit codes: 0 submitted (with --watch: succeeded), 1 failed, 2 invalid file or spec, 3 server unreachable.`,

  async run(args) {
    const parsed = parseCommand(
      this,
      args,
      {
        ...SERVER_OPTIONS,
        recipe: { type: 'string' },
        set: { type: 'string', multiple: true },
        priority: { type: 'string' },
        watch: { type: 'boolean' },
        json: { type: 'boolean' },
      },
      { min: 0, max: 1, names: 'FILE' },
    );
    if (!parsed) return EXIT.ok;
    const { values, positionals } = parsed;
    const file = positionals[0];
    if (file === undefined && values.recipe === undefined && values.set === undefined) {
      throw new UsageError('submit: give a spec FILE, --recipe NAME or --set PATH=VALUE', [
        'see `swavlab submit --help`',
      ]);
    }
    const priority = intOption('priority', values.priority, 1, 1000);
    const client = new ApiClient(serverSettings(values));
    const body = await readRunSubmission({ file, recipe: values.recipe, sets: values.set });
    if (priority !== undefined) body.priority = priority;
    const what = file ?? `recipe ${values.recipe ?? '(none)'}`;
    const { body: run } = await client.request<SubmittedRun>('POST', '/v1/runs', `submit ${what}`, { body });
    printWarnings(run.warnings);
    if (values.json && !values.watch) {
      printJson(run);
      return EXIT.ok;
    }
    if (!values.json) {
      printLine(
        run.deduplicated
          ? `run ${run.id} already exists for this spec (${run.status}); not submitted again`
          : `run ${run.id} ${run.status}`,
      );
    }
    return values.watch ? watchRun(client, run.id, values.json === true) : EXIT.ok;
  },
};
