// `swavlab up`, `swavlab api`, `swavlab worker`: run the service in the foreground until SIGINT/SIGTERM, then stop
// gracefully (the worker hands its jobs back first, then the API, the database and Redis close).
import { redactCredentials } from '@swavlab/queue';
import { type Command, intOption, parseCommand, printLine } from '../command.js';
import { EXIT, type ExitCode } from '../errors.js';
import type { Stack } from '../stack.js';

const HTTP_OPTIONS = { host: { type: 'string' }, port: { type: 'string' } } as const;

interface Parts {
  api: boolean;
  worker: boolean;
  localRedis: boolean;
}

/** Resolves with the first SIGINT or SIGTERM; a second one exits at once. */
function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const first = (signal: NodeJS.Signals) => {
      process.off('SIGINT', first);
      process.off('SIGTERM', first);
      const again = () => {
        process.stderr.write('second signal: exiting now\n');
        process.exit(EXIT.failure);
      };
      process.once('SIGINT', again);
      process.once('SIGTERM', again);
      resolve(signal);
    };
    process.on('SIGINT', first);
    process.on('SIGTERM', first);
  });
}

function describe(stack: Stack, started: number): string[] {
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const lines = [
    stack.url
      ? `swavlab is up at ${stack.url} (ready in ${seconds} s)`
      : `swavlab worker started (ready in ${seconds} s)`,
  ];
  lines.push(
    `  database: ${stack.database === 'pglite' ? `embedded PGlite in ${stack.home}/db` : 'PostgreSQL (DATABASE_URL)'}`,
  );
  lines.push(
    `  redis:    ${redactCredentials(stack.redisUrl)}${stack.redisDir ? ` (redis-server with AOF in ${stack.redisDir})` : ''}`,
  );
  if (stack.url) lines.push(`  API docs: ${stack.url}/docs   queue dashboard: ${stack.url}/admin/queues`);
  lines.push('Logs (JSON lines) go to stderr. Ctrl-C stops gracefully.');
  return lines;
}

async function serve(name: string, parts: Parts, args: string[], command: Command): Promise<ExitCode> {
  const parsed = parts.api ? parseCommand(command, args, HTTP_OPTIONS) : parseCommand(command, args, {});
  if (!parsed) return EXIT.ok;
  const values = parsed.values as { host?: string; port?: string };
  const port = intOption('port', values.port, 0, 65535);
  const env = {
    ...process.env,
    ...(values.host === undefined ? {} : { HOST: values.host }),
    ...(port === undefined ? {} : { PORT: String(port) }),
  };
  const started = Date.now();
  // Loaded here, not at the top: the server side (Fastify, Prisma, BullMQ) would slow every client command.
  const { startStack } = await import('../stack.js');
  const stack = await startStack({
    ...parts,
    command: name,
    env,
    log: process.stderr,
    onStep: (step) => process.stderr.write(`${name}: ${step}\n`),
  });
  for (const line of describe(stack, started)) printLine(line);
  const signal = await untilSignal();
  process.stderr.write(
    `${signal}: stopping${parts.worker ? ' (the worker hands its jobs back first)' : ''}\n`,
  );
  await stack.close();
  printLine('stopped');
  return EXIT.ok;
}

const ENVIRONMENT = `Environment: SWAVLAB_HOME (default ./.swavlab), DATABASE_URL (PostgreSQL; default: embedded PGlite in
$SWAVLAB_HOME/db), REDIS_URL, HOST, PORT, PYTHON_BIN, SWAVLAB_SLOTS, SWAVLAB_ARTIFACTS (a folder or s3://bucket/prefix),
SWAVLAB_DATA_ROOTS, SWAVLAB_API_TOKENS, SWAVLAB_LOG_LEVEL; more in apps/worker/README.md and apps/api/README.md.`;

export const upCommand: Command = {
  name: 'up',
  summary: 'run the API, the worker, the database and (without REDIS_URL) a local redis-server',
  usage: `Usage: swavlab up [--host HOST] [--port PORT]

Applies migrations, opens the database (embedded PGlite unless DATABASE_URL is set), starts a private
redis-server from PATH on a free port with its AOF in $SWAVLAB_HOME/redis (unless REDIS_URL is set), then
the API and the worker, sharing one database handle. Prints the URL once ready. SIGINT/SIGTERM stop it
gracefully: the worker hands its jobs back, then the API, the database and redis-server close.

Options:
  --host HOST      listen address (default: HOST, else 127.0.0.1)
  --port PORT      listen port (default: PORT, else 8080; 0 picks a free one)

${ENVIRONMENT}`,
  run(args) {
    return serve('up', { api: true, worker: true, localRedis: true }, args, this);
  },
};

export const apiCommand: Command = {
  name: 'api',
  summary: 'run the API server alone',
  usage: `Usage: swavlab api [--host HOST] [--port PORT]

Runs the API server alone, against REDIS_URL (default redis://127.0.0.1:6379). To run \`swavlab api\` and
\`swavlab worker\` as separate processes (or on several hosts) set DATABASE_URL to a PostgreSQL database:
the embedded database serves one process.

Options:
  --host HOST      listen address (default: HOST, else 127.0.0.1)
  --port PORT      listen port (default: PORT, else 8080)

${ENVIRONMENT}`,
  run(args) {
    return serve('api', { api: true, worker: false, localRedis: false }, args, this);
  },
};

export const workerCommand: Command = {
  name: 'worker',
  summary: 'run a worker alone (one rank of a run per device slot)',
  usage: `Usage: swavlab worker

Runs a worker alone: it takes pretraining jobs from REDIS_URL (default redis://127.0.0.1:6379) and gives each
run one device slot per rank (SWAVLAB_SLOTS, default one per visible GPU, else 1); it records them in the
database and stores checkpoints in SWAVLAB_ARTIFACTS. Separate
api and worker processes need DATABASE_URL (PostgreSQL): the embedded database serves one process.

${ENVIRONMENT}`,
  run(args) {
    return serve('worker', { api: false, worker: true, localRedis: false }, args, this);
  },
};
