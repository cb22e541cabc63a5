// `swavlab token create NAME --scopes ...`: an API token written straight to the database; shown once.
import { type Command, parseCommand, printJson, printLine } from '../command.js';
import { CliError, EXIT, UsageError } from '../errors.js';
import { resolveHome } from '../home.js';
import { lockHome } from '../home-lock.js';

const SCOPE_LIST = 'read, submit, admin';

function parseScopes(raw: string | undefined, known: readonly string[]): string[] {
  if (raw === undefined)
    throw new UsageError(`token create: --scopes is required (comma-separated: ${SCOPE_LIST})`);
  const scopes = [
    ...new Set(
      raw
        .split(',')
        .map((scope) => scope.trim())
        .filter((scope) => scope !== ''),
    ),
  ];
  if (scopes.length === 0) throw new UsageError(`--scopes: expected at least one of ${SCOPE_LIST}`);
  for (const scope of scopes) {
    if (!known.includes(scope)) {
      throw new UsageError(`--scopes: unknown scope ${JSON.stringify(scope)}; expected ${SCOPE_LIST}`);
    }
  }
  return scopes;
}

const createUsage = `Usage: swavlab token create NAME --scopes SCOPES [--json]

Creates an API token in the database (DATABASE_URL, else the embedded database in $SWAVLAB_HOME/db) and
prints it once: only its hash is stored. SCOPES is a comma-separated subset of ${SCOPE_LIST}
(admin implies the others). Clients send it with --token or SWAVLAB_TOKEN.

The embedded database serves one process: with it, create tokens while \`swavlab up\` is stopped (or use
PostgreSQL, or tokens in SWAVLAB_API_TOKENS).`;

export const tokenCommand: Command = {
  name: 'token',
  summary: 'create an API token (token create NAME --scopes read,submit,admin)',
  usage: createUsage,

  async run(args) {
    const [sub, ...rest] = args;
    if (sub === undefined || sub === '--help' || sub === '-h') {
      printLine(this.usage);
      return sub === undefined ? EXIT.usage : EXIT.ok;
    }
    if (sub !== 'create')
      throw new UsageError(`token: unknown subcommand ${JSON.stringify(sub)}; expected create`);
    const parsed = parseCommand(
      { name: 'token create', usage: createUsage },
      rest,
      { scopes: { type: 'string' }, json: { type: 'boolean' } },
      { min: 1, max: 1, names: 'NAME' },
    );
    if (!parsed) return EXIT.ok;
    const name = parsed.positionals[0] as string;
    // Loaded here: the database client and the API's scope list are not needed by other commands.
    const [{ SCOPES }, { openDatabase }] = await Promise.all([import('@swavlab/api'), import('@swavlab/db')]);
    const scopes = parseScopes(parsed.values.scopes, SCOPES);
    const databaseUrl = process.env.DATABASE_URL || undefined;
    const home = resolveHome(process.env);
    const lock = databaseUrl === undefined ? await lockHome(home, 'token create') : undefined;
    try {
      const db = await openDatabase({ home, ...(databaseUrl === undefined ? {} : { url: databaseUrl }) });
      try {
        const { token, apiToken } = await db.tokens.createApiToken(name, scopes).catch((error: unknown) => {
          throw new CliError(`token create: ${(error as Error).message}`, EXIT.usage);
        });
        if (parsed.values.json) {
          printJson({ id: apiToken.id, name: apiToken.name, scopes: apiToken.scopes, token });
        } else {
          printLine(token);
          process.stderr.write(
            `token "${apiToken.name}" (${apiToken.id}, scopes ${apiToken.scopes.join(',')}): shown once, store it now\n`,
          );
        }
      } finally {
        await db.close();
      }
    } finally {
      lock?.release();
    }
    return EXIT.ok;
  },
};
