// Structured logs of the worker: one JSON object per line, so that a log shipper can index runId, attempt, …
import { redactCredentials } from '@swavlab/queue';

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Extra context of a log line; Error values are written with their message and stack. */
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

function plain(value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message, stack: value.stack };
  return value;
}

/** Credentials of connection URLs never reach a log line, wherever they hide (fields, error messages). */
function redacted(line: string): string {
  return line.includes('@') ? redactCredentials(line) : line;
}

/** A logger writing JSON lines (`{time, level, msg, ...fields}`) at or above `level` to `write`. */
export function createJsonLogger(
  level: LogLevel = 'info',
  write: (line: string) => void = (line) => process.stderr.write(line),
): Logger {
  const threshold = LOG_LEVELS.indexOf(level);
  const emit = (at: LogLevel, message: string, fields: LogFields = {}): void => {
    if (LOG_LEVELS.indexOf(at) < threshold) return;
    const entry: Record<string, unknown> = { time: new Date().toISOString(), level: at, msg: message };
    for (const [key, value] of Object.entries(fields)) entry[key] = plain(value);
    write(`${redacted(JSON.stringify(entry))}\n`);
  };
  return {
    debug: (message, fields) => emit('debug', message, fields),
    info: (message, fields) => emit('info', message, fields),
    warn: (message, fields) => emit('warn', message, fields),
    error: (message, fields) => emit('error', message, fields),
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
