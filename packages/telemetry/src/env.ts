import { z } from 'zod';
import { LOG_LEVELS } from './logger.js';

/** A bad environment variable; the message starts with its name. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    reason: string,
  ) {
    super(`${variable}: ${reason}`);
    this.name = 'ConfigError';
  }
}

type Variable<T> = z.ZodType<T, unknown>;

// An empty variable counts as unset, as `VAR= command` is the usual way to clear one.
const unsetWhenEmpty = (value: unknown) => (value === '' ? undefined : value);

/** A text variable; `fallback` when unset (undefined without one). */
export function text(): Variable<string | undefined>;
export function text(fallback: string): Variable<string>;
export function text(fallback?: string): Variable<string | undefined> {
  return z.preprocess(unsetWhenEmpty, z.string().optional()).transform((value) => value ?? fallback);
}

export interface WholeNumberLimits {
  min: number;
  /** No upper bound but the largest exact integer when left out. */
  max?: number;
}

/** A whole number within the limits, `fallback` when unset (undefined without one). */
export function wholeNumber(limits: WholeNumberLimits): Variable<number | undefined>;
export function wholeNumber(limits: WholeNumberLimits & { fallback: number }): Variable<number>;
export function wholeNumber({
  min,
  max = Number.MAX_SAFE_INTEGER,
  fallback,
}: WholeNumberLimits & { fallback?: number }): Variable<number | undefined> {
  const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
  return z.preprocess(unsetWhenEmpty, z.string().optional()).transform((raw, ctx) => {
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!/^[0-9]+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < min || value > max) {
      ctx.addIssue({
        code: 'custom',
        message: `expected a whole number ${range}, got ${JSON.stringify(raw)}`,
      });
      return z.NEVER;
    }
    return value;
  });
}

/** SWAVLAB_LOG_LEVEL: one of LOG_LEVELS, `info` when unset. */
export const logLevel = z.preprocess(
  unsetWhenEmpty,
  z
    .enum(LOG_LEVELS, {
      error: (issue) => `expected one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(issue.input)}`,
    })
    .default('info'),
);

/** An app's environment variables, each with its schema (`text`, `wholeNumber`, `logLevel`, …). */
export type EnvShape = Record<string, z.ZodType>;
/** The values of an environment described by `S`, defaults applied. */
export type EnvValues<S extends EnvShape> = z.output<z.ZodObject<S>>;

/** `env` parsed with an app's variables; the first bad one (in the shape's order) is a ConfigError naming it. */
export function parseEnv<S extends EnvShape>(shape: S, env: NodeJS.ProcessEnv): EnvValues<S> {
  const result = z.object(shape).safeParse(env);
  if (result.success) return result.data;
  const [issue] = result.error.issues;
  throw new ConfigError(String(issue?.path[0] ?? 'environment'), issue?.message ?? 'invalid');
}
