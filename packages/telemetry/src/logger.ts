import { type Logger, type LoggerOptions, pino } from 'pino';

/** The log levels of both apps (SWAVLAB_LOG_LEVEL), pino's own, most severe first; `silent` logs nothing. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LoggerDestination {
  /** Where each JSON line goes (default: standard error). */
  write?: (line: string) => void;
  /** Applied to every line before it is written (e.g. masking the credentials of connection URLs). */
  redact?: (line: string) => string;
}

/**
 * pino's options for both apps: level names instead of numbers, ISO times, and the arguments of a failed ioredis
 * command (the password, when AUTH failed) never written.
 */
export function loggerOptions(level: LogLevel): LoggerOptions {
  return {
    level,
    formatters: { level: (label) => ({ level: label }) },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: ['err.command.args', 'err.previousErrors[*].command.args'], censor: '[redacted]' },
  };
}

/** A pino logger writing one JSON object per line (`{level, time, pid, hostname, msg, ...fields}`). */
export function createLogger(level: LogLevel, destination: LoggerDestination = {}): Logger {
  const write = destination.write ?? ((line: string) => process.stderr.write(line));
  const redact = destination.redact ?? ((line: string) => line);
  return pino(loggerOptions(level), { write: (line: string) => write(redact(line)) });
}
