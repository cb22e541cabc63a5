// Structured logs of the worker: pino's JSON lines (packages/telemetry, shared with the API), so that a log shipper
// can index runId, attempt, …; the worker's code logs through the small Logger interface below.
import { redactCredentials } from '@swavlab/queue';
import { createLogger, type LogLevel } from '@swavlab/telemetry';

export { LOG_LEVELS, type LogLevel } from '@swavlab/telemetry';

/** Extra context of a log line; Error values are written with their message and stack. */
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

// pino writes only an Error's enumerable properties when it is not under `err`; these have none.
function plain(fields: LogFields = {}): LogFields {
  return Object.fromEntries(
    Object.entries(fields).map(([key, value]) => [
      key,
      value instanceof Error ? { name: value.name, message: value.message, stack: value.stack } : value,
    ]),
  );
}

/** Credentials of connection URLs never reach a log line, wherever they hide (fields, error messages). */
function redacted(line: string): string {
  return line.includes('@') ? redactCredentials(line) : line;
}

/** A logger writing JSON lines (`{level, time, pid, hostname, msg, ...fields}`) at or above `level` to `write`. */
export function createJsonLogger(
  level: LogLevel = 'info',
  write: (line: string) => void = (line) => process.stderr.write(line),
): Logger {
  const pino = createLogger(level, { write, redact: redacted });
  return {
    debug: (message, fields) => pino.debug(plain(fields), message),
    info: (message, fields) => pino.info(plain(fields), message),
    warn: (message, fields) => pino.warn(plain(fields), message),
    error: (message, fields) => pino.error(plain(fields), message),
  };
}

/** A logger that adds `fields` (run id, attempt, …) to every line, so that one job's lines can be selected. */
export function childLogger(parent: Logger, fields: LogFields): Logger {
  const merged = (extra: LogFields = {}): LogFields => ({ ...fields, ...extra });
  return {
    debug: (message, extra) => parent.debug(message, merged(extra)),
    info: (message, extra) => parent.info(message, merged(extra)),
    warn: (message, extra) => parent.warn(message, merged(extra)),
    error: (message, extra) => parent.error(message, merged(extra)),
  };
}
