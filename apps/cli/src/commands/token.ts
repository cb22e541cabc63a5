// `swavlab token create|list|revoke`: API tokens, written straight to the database (a token is shown once; only
// its hash is stored).
import { type Command, parseCommand, printJson, printLine } from '../command.js';
import { withDatabase } from '../database.js';
import { CliError, EXIT, type ExitCode, UsageError } from '../errors.js';
import { formatAge } from '../format.js';
import { renderTable } from '../table.js';

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

const DATABASE_NOTE = `Works on the database directly (DATABASE_URL, else the embedded database in $SWAVLAB_HOME/db). The
embedded database serves one process: with it, run this while \`swavlab up\` is stopped (or use PostgreSQL).`;

const createUsage = `Usage: swavlab token create NAME --scopes SCOPES [--json]

Creates an API token and prints it once: only its hash is stored. SCOPES is a comma-separated subset of
${SCOPE_LIST} (admin implies the others). Clients send it with --token or SWAVLAB_TOKEN.

${DATABASE_NOTE}`;

const listUsage = `Usage: swavlab token list [--json]

Lists the API tokens (never their secrets): id, name, scopes, created, last used (to the minute), revoked.

${DATABASE_NOTE}`;

const revokeUsage = `Usage: swavlab token revoke ID

Revokes a token at once. Once a token has been created, a loopback server without SWAVLAB_API_TOKENS keeps
requiring one: revoking the last active token locks the server until a new token is created.

${DATABASE_NOTE}`;

const usage = `Usage: swavlab token create|list|revoke ...

${createUsage.split('\n')[0]}
${listUsage.split('\n')[0]}
${revokeUsage.split('\n')[0]}

Run \`swavlab token SUBCOMMAND --help\` for details.`;

async function create(args: string[]): Promise<ExitCode> {
  const parsed = parseCommand(
    { name: 'token create', usage: createUsage },
    args,
    { scopes: { type: 'string' }, json: { type: 'boolean' } },
    { min: 1, max: 1, names: 'NAME' },
  );
  if (!parsed) return EXIT.ok;
  const name = parsed.positionals[0] as string;
  // Loaded here: the API's scope list is not needed by other commands.
  const { SCOPES } = await import('@swavlab/api');
  const scopes = parseScopes(parsed.values.scopes, SCOPES);
  await withDatabase('token create', async (db) => {
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
  });
  return EXIT.ok;
}

async function list(args: string[]): Promise<ExitCode> {
  const parsed = parseCommand({ name: 'token list', usage: listUsage }, args, { json: { type: 'boolean' } });
  if (!parsed) return EXIT.ok;
  const tokens = await withDatabase('token list', (db) => db.tokens.listApiTokens());
  if (parsed.values.json) {
    printJson(
      tokens.map((token) => ({
        id: token.id,
        name: token.name,
        scopes: token.scopes,
        created_at: token.createdAt.toISOString(),
        last_used_at: token.lastUsedAt?.toISOString() ?? null,
        revoked_at: token.revokedAt?.toISOString() ?? null,
      })),
    );
    return EXIT.ok;
  }
  if (tokens.length === 0) {
    printLine('no API tokens in the database');
    return EXIT.ok;
  }
  printLine(
    renderTable(
      ['ID', 'NAME', 'SCOPES', 'CREATED', 'LAST USED', 'REVOKED'].map((header) => ({ header })),
      tokens.map((token) => [
        token.id,
        token.name,
        token.scopes.join(','),
        formatAge(token.createdAt.toISOString()),
        token.lastUsedAt === null ? 'never' : formatAge(token.lastUsedAt.toISOString()),
        token.revokedAt === null ? '' : formatAge(token.revokedAt.toISOString()),
      ]),
    ).trimEnd(),
  );
  return EXIT.ok;
}

async function revoke(args: string[]): Promise<ExitCode> {
  const parsed = parseCommand(
    { name: 'token revoke', usage: revokeUsage },
    args,
    {},
    { min: 1, max: 1, names: 'ID' },
  );
  if (!parsed) return EXIT.ok;
  const id = parsed.positionals[0] as string;
  const active = await withDatabase('token revoke', async (db) => {
    if (!(await db.tokens.revokeApiToken(id))) {
      throw new CliError(`token revoke: no active token has the id ${JSON.stringify(id)}`, EXIT.failure, [
        'see `swavlab token list`',
      ]);
    }
    return (await db.tokens.listApiTokens()).filter((token) => token.revokedAt === null).length;
  });
  printLine(`token ${id} revoked`);
  if (active === 0) {
    process.stderr.write(
      'no active token remains: the server refuses every request until `swavlab token create` makes one ' +
        '(or SWAVLAB_API_TOKENS gives one)\n',
    );
  }
  return EXIT.ok;
}

export const tokenCommand: Command = {
  name: 'token',
  summary: 'API tokens: token create NAME --scopes read,submit,admin | token list | token revoke ID',
  usage,

  async run(args) {
    const [sub, ...rest] = args;
    if (sub === undefined || sub === '--help' || sub === '-h') {
      printLine(this.usage);
      return sub === undefined ? EXIT.usage : EXIT.ok;
    }
    if (sub === 'create') return create(rest);
    if (sub === 'list') return list(rest);
    if (sub === 'revoke') return revoke(rest);
    throw new UsageError(`token: unknown subcommand ${JSON.stringify(sub)}; expected create, list or revoke`);
  },
};
