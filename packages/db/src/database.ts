// Opens swavlab's database: PostgreSQL when a URL is given (or DATABASE_URL is set), else an embedded PGlite
// under $SWAVLAB_HOME/db, and wires the Prisma client, the migrator and the repositories to it.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { PrismaClient } from './client.js';
import { InvalidInputError } from './errors.js';
import { applyMigrations, type MigrateOptions, type MigrationReport } from './migrator.js';
import { ArtifactsRepository } from './repositories/artifacts.js';
import { BaselinesRepository } from './repositories/baselines.js';
import { CheckpointsRepository } from './repositories/checkpoints.js';
import { EvaluationRequestsRepository } from './repositories/evaluation-requests.js';
import { EvaluationsRepository } from './repositories/evaluations.js';
import { GridsRepository } from './repositories/grids.js';
import { MetricsRepository } from './repositories/metrics.js';
import { RegressionsRepository } from './repositories/regressions.js';
import { RunsRepository } from './repositories/runs.js';
import { TokensRepository } from './repositories/tokens.js';
import { pgliteSessions, postgresSessions, type SessionProvider } from './session.js';

export interface OpenDatabaseOptions {
  /** postgres://… or postgresql://… for PostgreSQL, memory:// for a throw-away PGlite. Default: DATABASE_URL. */
  url?: string;
  /** Where the embedded database lives when no URL is given: `${home}/db`. Default: SWAVLAB_HOME, else ./.swavlab. */
  home?: string;
  /** Apply pending migrations before returning (default true). */
  migrate?: boolean;
  /** Overrides the migrations folder (default: the repository's prisma/migrations). */
  migrationsDir?: string;
}

export type DatabaseTarget =
  | { kind: 'postgres'; url: string }
  | { kind: 'pglite'; dataDir: string | null /* null: in memory */ };

export interface Database {
  readonly kind: 'postgres' | 'pglite';
  readonly runs: RunsRepository;
  readonly grids: GridsRepository;
  readonly metrics: MetricsRepository;
  readonly checkpoints: CheckpointsRepository;
  readonly artifacts: ArtifactsRepository;
  readonly evaluations: EvaluationsRepository;
  readonly evaluationRequests: EvaluationRequestsRepository;
  readonly tokens: TokensRepository;
  readonly regressions: RegressionsRepository;
  readonly baselines: BaselinesRepository;
  /**
   * Applies pending migrations; concurrent calls (from this or other processes) are serialised. Options
   * default to those given to openDatabase.
   */
  migrate(options?: MigrateOptions): Promise<MigrationReport>;
  /**
   * Raw, parameterised SQL for read queries the repositories do not cover: values interpolated into the
   * template are sent as bind parameters, never spliced into the text. bigint columns come back as bigint.
   */
  query<Row = Record<string, unknown>>(strings: TemplateStringsArray, ...values: unknown[]): Promise<Row[]>;
  /** One round trip to the database (readiness probes); rejects when it cannot be reached. */
  ping(): Promise<void>;
  /** Releases connections (or closes the embedded database). Idempotent. */
  close(): Promise<void>;
}

/** Chooses the backend from the options and the environment, without opening anything. */
export function resolveDatabaseTarget(
  options: Pick<OpenDatabaseOptions, 'url' | 'home'> = {},
  env: NodeJS.ProcessEnv = process.env,
): DatabaseTarget {
  const url = options.url ?? (env.DATABASE_URL || undefined);
  if (url === undefined) {
    const home = options.home ?? (env.SWAVLAB_HOME || './.swavlab');
    return { kind: 'pglite', dataDir: resolve(join(home, 'db')) };
  }
  if (url === 'memory://') return { kind: 'pglite', dataDir: null };
  if (/^postgres(ql)?:\/\//.test(url)) return { kind: 'postgres', url };
  throw new InvalidInputError(
    options.url === undefined ? 'DATABASE_URL' : 'url',
    'expected a postgres:// or postgresql:// URL, or memory:// for an in-memory database',
  );
}

export async function openDatabase(options: OpenDatabaseOptions = {}): Promise<Database> {
  const target = resolveDatabaseTarget(options);
  let prisma: PrismaClient;
  let sessions: SessionProvider;
  let closeDriver: () => Promise<void>;
  if (target.kind === 'postgres') {
    // JIT compiling costs ~0.5 s per statement once the planner's estimate crosses jit_above_cost, far more than
    // the dashboard's aggregates themselves take; these are short queries, so it is off for the pool.
    const pool = new pg.Pool({ connectionString: target.url, options: '-c jit=off' });
    // An idle connection dropped by the server must not crash the process; the pool opens a new one.
    pool.on('error', () => {});
    prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
    sessions = postgresSessions(pool);
    closeDriver = () => pool.end();
  } else {
    if (target.dataDir !== null) mkdirSync(target.dataDir, { recursive: true });
    const pglite = target.dataDir === null ? await memoryPGlite() : await PGlite.create(target.dataDir);
    prisma = new PrismaClient({ adapter: new PrismaPGlite(pglite) });
    sessions = pgliteSessions(pglite);
    closeDriver = () => pglite.close();
  }
  const database = new OpenedDatabase(target.kind, prisma, sessions, closeDriver, options.migrationsDir);
  if (options.migrate ?? true) {
    try {
      await database.migrate();
    } catch (error) {
      await database.close();
      throw error;
    }
  }
  return database;
}

// initdb dominates the start of a PGlite (seconds); in-memory databases, which tests open by the dozen,
// start instead from an image of an empty cluster made once per process.
let emptyClusterImage: Promise<Blob> | undefined;

async function memoryPGlite(): Promise<PGlite> {
  emptyClusterImage ??= PGlite.create('memory://').then(async (template) => {
    const image = await template.dumpDataDir('none');
    await template.close();
    return image;
  });
  return PGlite.create({ loadDataDir: await emptyClusterImage });
}

class OpenedDatabase implements Database {
  readonly runs: RunsRepository;
  readonly grids: GridsRepository;
  readonly metrics: MetricsRepository;
  readonly checkpoints: CheckpointsRepository;
  readonly artifacts: ArtifactsRepository;
  readonly evaluations: EvaluationsRepository;
  readonly evaluationRequests: EvaluationRequestsRepository;
  readonly tokens: TokensRepository;
  readonly regressions: RegressionsRepository;
  readonly baselines: BaselinesRepository;
  // PGlite is one session, in which a session advisory lock is re-entrant; this queue is what keeps two
  // migrate() calls on one handle apart (on PostgreSQL the advisory lock alone would do).
  #migrations: Promise<unknown> = Promise.resolve();
  #closed: Promise<void> | undefined;

  constructor(
    readonly kind: 'postgres' | 'pglite',
    private readonly prisma: PrismaClient,
    private readonly sessions: SessionProvider,
    private readonly closeDriver: () => Promise<void>,
    private readonly migrationsDir: string | undefined,
  ) {
    this.runs = new RunsRepository(prisma);
    this.grids = new GridsRepository(prisma);
    this.metrics = new MetricsRepository(prisma);
    this.checkpoints = new CheckpointsRepository(prisma);
    this.artifacts = new ArtifactsRepository(prisma);
    this.evaluations = new EvaluationsRepository(prisma);
    this.evaluationRequests = new EvaluationRequestsRepository(prisma);
    this.tokens = new TokensRepository(prisma);
    this.regressions = new RegressionsRepository(prisma);
    this.baselines = new BaselinesRepository(prisma);
  }

  migrate(options: MigrateOptions = {}): Promise<MigrationReport> {
    const merged = { migrationsDir: this.migrationsDir, ...options };
    const run = this.#migrations.then(() => applyMigrations(this.sessions, merged));
    this.#migrations = run.catch(() => undefined);
    return run;
  }

  query<Row = Record<string, unknown>>(strings: TemplateStringsArray, ...values: unknown[]): Promise<Row[]> {
    return this.prisma.$queryRaw<Row[]>(strings, ...values);
  }

  async ping(): Promise<void> {
    await this.prisma.$queryRaw`SELECT 1`;
  }

  close(): Promise<void> {
    this.#closed ??= this.prisma.$disconnect().finally(() => this.closeDriver());
    return this.#closed;
  }
}
