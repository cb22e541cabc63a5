// Exit codes scripts can rely on, and the error that carries one up to the entry point.

export const EXIT = {
  ok: 0,
  /** The operation failed: a run failed or was canceled, something was not found, the server refused. */
  failure: 1,
  /** Bad command line, unreadable or invalid spec file, or the server rejected the input as invalid. */
  usage: 2,
  /** Nothing answered at the server URL. */
  unreachable: 3,
  /** Interrupted by SIGINT (128 + 2, the shell convention). */
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An error the CLI reports as `error: <message>` plus detail lines (e.g. `path: message`), then exits with `exitCode`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    readonly details: readonly string[] = [],
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** A bad command line: reported with a pointer to the command's --help. */
export class UsageError extends CliError {
  constructor(message: string, details: readonly string[] = []) {
    super(message, EXIT.usage, details);
    this.name = 'UsageError';
  }
}
