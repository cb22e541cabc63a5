// `swavlab cancel ID`: cancel a queued run at once, or ask a running one to checkpoint and stop.
import { type Command, JSON_USAGE, parseIdCommand, printJson, printLine, SERVER_USAGE } from '../command.js';
import { EXIT } from '../errors.js';
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
    const parsed = parseIdCommand(this, args);
    if (!parsed) return EXIT.ok;
    const { id, client, json } = parsed;
    const { body: run } = await client.request<Run>(
      'POST',
      `/v1/runs/${encodeURIComponent(id)}/cancel`,
      `cancel run ${id}`,
    );
    if (json) printJson(run);
    else if (run.status === 'stopping')
      printLine(`run ${run.id} stopping: its worker checkpoints, then cancels it`);
    else printLine(`run ${run.id} ${run.status}`);
    return EXIT.ok;
  },
};
