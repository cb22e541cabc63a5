// `swavlab cancel ID`: cancel a queued run at once, or ask a running one to checkpoint and stop.
import {
  type Command,
  JSON_USAGE,
  parseCommand,
  printJson,
  printLine,
  SERVER_OPTIONS,
  SERVER_USAGE,
} from '../command.js';
import { EXIT } from '../errors.js';
import { ApiClient, serverSettings } from '../http-client.js';
import type { Run } from '../wire.js';

export const cancelCommand: Command = {
  name: 'cancel',
  summary: 'cancel a run',
  usage: `Usage: swavlab cancel ID [options]

A queued run is canceled at once; a running run becomes "stopping" until its worker has written a checkpoint
and then cancels it. Submitting the same spec again re-queues a canceled run, which resumes from its
latest checkpoint.

Options:
${JSON_USAGE}
${SERVER_USAGE}

Exit codes: 0 canceled or stopping, 1 not found or already finished, 3 server unreachable.`,

  async run(args) {
    const parsed = parseCommand(
      this,
      args,
      { ...SERVER_OPTIONS, json: { type: 'boolean' } },
      { min: 1, max: 1, names: 'ID' },
    );
    if (!parsed) return EXIT.ok;
    const id = parsed.positionals[0] as string;
    const client = new ApiClient(serverSettings(parsed.values));
    const { body: run } = await client.request<Run>(
      'POST',
      `/v1/runs/${encodeURIComponent(id)}/cancel`,
      `cancel run ${id}`,
    );
    if (parsed.values.json) printJson(run);
    else if (run.status === 'stopping')
      printLine(`run ${run.id} stopping: its worker checkpoints, then cancels it`);
    else printLine(`run ${run.id} ${run.status}`);
    return EXIT.ok;
  },
};
