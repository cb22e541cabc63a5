// What a subcommand is, and the argument parsing every subcommand shares (node:util parseArgs, strict).
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { type ExitCode, UsageError } from './errors.js';
import { ApiClient, serverSettings } from './http-client.js';

export interface Command {
  name: string;
  /** One line for `swavlab --help`. */
  summary: string;
  /** The full text of `swavlab NAME --help`. */
  usage: string;
  run(args: string[]): Promise<ExitCode>;
}

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

/** --url and --token: which server a client command talks to. */
export const SERVER_OPTIONS = {
  url: { type: 'string' },
  token: { type: 'string' },
} as const satisfies OptionsConfig;

export const SERVER_USAGE = `  --url URL        server address (default: SWAVLAB_URL, else http://127.0.0.1:8080)
  --token TOKEN    API token (default: SWAVLAB_TOKEN)`;

export const JSON_USAGE = "  --json           print the server's JSON instead of a table";

const HELP = { help: { type: 'boolean', short: 'h' } } as const satisfies OptionsConfig;

/** What parseArgs returns for `options` (plus --help), strict and with positionals. */
export type Parsed<T extends OptionsConfig> = ReturnType<
  typeof parseArgs<{ args: string[]; options: T & typeof HELP; allowPositionals: true; strict: true }>
>;

/**
 * Parses `args` for `command`: unknown options, missing values and a wrong number of positionals are usage
 * errors. Returns undefined after printing the usage when --help is given.
 */
export function parseCommand<const T extends OptionsConfig>(
  command: Pick<Command, 'name' | 'usage'>,
  args: string[],
  options: T,
  positionals: { min: number; max: number; names: string } = { min: 0, max: 0, names: '' },
): Parsed<T> | undefined {
  let parsed: Parsed<T>;
  try {
    parsed = parseArgs({ args, options: { ...options, ...HELP }, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(`${command.name}: ${(error as Error).message.split('. To specify')[0]}`, [
      `see \`swavlab ${command.name} --help\``,
    ]);
  }
  if ((parsed.values as { help?: boolean }).help === true) {
    process.stdout.write(`${command.usage.trimEnd()}\n`);
    return undefined;
  }
  const count = parsed.positionals.length;
  if (count < positionals.min) {
    throw new UsageError(`${command.name}: missing ${positionals.names}`, [
      `see \`swavlab ${command.name} --help\``,
    ]);
  }
  if (count > positionals.max) {
    const extra = parsed.positionals.slice(positionals.max).map((arg) => JSON.stringify(arg));
    throw new UsageError(`${command.name}: unexpected argument ${extra.join(' ')}`, [
      `see \`swavlab ${command.name} --help\``,
    ]);
  }
  return parsed;
}

/** `NAME ID [--json] [--url URL] [--token TOKEN]`: the id, a client of the chosen server and whether --json was given. */
export function parseIdCommand(
  command: Pick<Command, 'name' | 'usage'>,
  args: string[],
): { id: string; client: ApiClient; json: boolean } | undefined {
  const parsed = parseCommand(
    command,
    args,
    { ...SERVER_OPTIONS, json: { type: 'boolean' } },
    { min: 1, max: 1, names: 'ID' },
  );
  if (!parsed) return undefined;
  return {
    id: parsed.positionals[0] as string,
    client: new ApiClient(serverSettings(parsed.values)),
    json: parsed.values.json === true,
  };
}

/** An integer option within bounds; undefined when absent. */
export function intOption(
  name: string,
  raw: string | undefined,
  min: number,
  max: number,
): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^-?\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new UsageError(
      `--${name}: expected a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`,
    );
  }
  return Number(raw);
}

export function printLine(line = ''): void {
  process.stdout.write(`${line}\n`);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
