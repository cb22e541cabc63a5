// The `swavlab` command line: dispatches to a subcommand and turns errors into messages and exit codes.

import type { Command } from './command.js';
import { cancelCommand } from './commands/cancel.js';
import { demoCommand } from './commands/demo.js';
import { downloadCommand } from './commands/download.js';
import { evaluateCommand } from './commands/evaluate.js';
import { gridCommand } from './commands/grid.js';
import { lsCommand } from './commands/ls.js';
import { migrateCommand } from './commands/migrate.js';
import { recipesCommand } from './commands/recipes.js';
import { regressCommand } from './commands/regress.js';
import { resultsCommand } from './commands/results.js';
import { apiCommand, upCommand, workerCommand } from './commands/serve.js';
import { showCommand } from './commands/show.js';
import { submitCommand } from './commands/submit.js';
import { tokenCommand } from './commands/token.js';
import { watchCommand } from './commands/watch.js';
import { CliError, EXIT, type ExitCode } from './errors.js';

export const COMMANDS: readonly Command[] = [
  upCommand,
  apiCommand,
  workerCommand,
  demoCommand,
  submitCommand,
  recipesCommand,
  gridCommand,
  lsCommand,
  showCommand,
  watchCommand,
  cancelCommand,
  evaluateCommand,
  downloadCommand,
  resultsCommand,
  regressCommand,
  tokenCommand,
  migrateCommand,
];

export function mainUsage(): string {
  const width = Math.max(...COMMANDS.map((command) => command.name.length)) + 2;
  return `swavlab: SwAV self-supervised pretraining runs and ablation grids

Usage: swavlab COMMAND [options]

Commands:
${COMMANDS.map((command) => `  ${command.name.padEnd(width)}${command.summary}`).join('\n')}

Run \`swavlab COMMAND --help\` for a command's options. Client commands talk to --url / SWAVLAB_URL
(default http://127.0.0.1:8080) with --token / SWAVLAB_TOKEN; read commands take --json.

Exit codes: 0 ok, 1 failure (a run failed, not found, refused), 2 usage or validation error,
3 server unreachable.`;
}

function report(error: CliError): void {
  process.stderr.write(`error: ${error.message}\n`);
  for (const line of error.details) process.stderr.write(`  ${line}\n`);
}

/** Runs the command line `argv` (without node and the script) and returns the exit code. */
export async function runCli(argv: readonly string[]): Promise<ExitCode> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${mainUsage()}\n`);
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  const command = COMMANDS.find((candidate) => candidate.name === name);
  if (command === undefined) {
    report(new CliError(`unknown command ${JSON.stringify(name)}`, EXIT.usage, ['see `swavlab --help`']));
    return EXIT.usage;
  }
  try {
    return await command.run(args);
  } catch (error) {
    if (error instanceof CliError) {
      report(error);
      return error.exitCode;
    }
    process.stderr.write(
      `error: ${name}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    return EXIT.failure;
  }
}
