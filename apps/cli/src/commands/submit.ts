// `swavlab submit FILE`: validate a JSON experiment spec locally, submit it, optionally watch it.
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
import { EXIT } from '../errors.js';
import { ApiClient, serverSettings } from '../http-client.js';
import { readRunSubmission } from '../spec-file.js';
import { watchRun } from '../watch-run.js';
import type { SubmittedRun } from '../wire.js';

export const submitCommand: Command = {
  name: 'submit',
  summary: 'submit a run from a JSON experiment spec',
  usage: `Usage: swavlab submit FILE [options]

Validates the experiment spec in FILE (JSON) locally, then submits it. An identical spec that already has a
run (queued, running or succeeded) is not run again: its run is shown instead.

Options:
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
        priority: { type: 'string' },
        watch: { type: 'boolean' },
        json: { type: 'boolean' },
      },
      { min: 1, max: 1, names: 'FILE' },
    );
    if (!parsed) return EXIT.ok;
    const { values, positionals } = parsed;
    const file = positionals[0] as string;
    const priority = intOption('priority', values.priority, 1, 1000);
    const client = new ApiClient(serverSettings(values));
    const body = await readRunSubmission(file);
    if (priority !== undefined) body.priority = priority;
    const { body: run } = await client.request<SubmittedRun>('POST', '/v1/runs', `submit ${file}`, { body });
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
