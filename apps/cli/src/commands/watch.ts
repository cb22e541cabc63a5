// `swavlab watch ID`: a live progress bar until the run ends.
import { type Command, JSON_USAGE, parseIdCommand, SERVER_USAGE } from '../command.js';
import { EXIT } from '../errors.js';
import { watchRun } from '../watch-run.js';

export const watchCommand: Command = {
  name: 'watch',
  summary: 'follow a run with a progress bar until it ends',
  usage: `Usage: swavlab watch ID [options]

Shows epoch, step/total, loss, images/s and ETA, redrawn in place on a terminal and one line per update
otherwise. Uses the run's event stream (/v1/runs/ID/events) and falls back to polling.

Options:
${JSON_USAGE.replace("print the server's JSON instead of a table", 'print one JSON object per update, then the final run')}
${SERVER_USAGE}

Exit codes: 0 the run succeeded, 1 it failed or was canceled (or does not exist), 3 server unreachable,
130 interrupted (the run goes on).`,

  async run(args) {
    const parsed = parseIdCommand(this, args);
    if (!parsed) return EXIT.ok;
    const { id, client, json } = parsed;
    return watchRun(client, id, json);
  },
};
