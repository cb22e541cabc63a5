// `swavlab migrate`: applies the database migrations and exits, for a deployment's one-shot migration step (the
// Kubernetes Job in infra/k8s). The API and the workers apply pending migrations when they start as well, under
// the same advisory lock, so running this first only moves the work (and its failure) before the rollout.
import { type Command, parseCommand, printJson, printLine } from '../command.js';
import { withDatabase } from '../database.js';
import { EXIT, type ExitCode } from '../errors.js';

export const migrateCommand: Command = {
  name: 'migrate',
  summary: 'apply the database migrations, then exit',
  usage: `Usage: swavlab migrate [--json]

Applies the migrations in prisma/migrations that the database lacks (PostgreSQL at DATABASE_URL, else the
embedded database in $SWAVLAB_HOME/db), one process at a time across hosts, and prints what it applied.
Exits 0 when the database is up to date, 1 when a migration fails (the database names the statement).

Options:
  --json           print {"applied": [names], "already_applied": N}`,
  async run(args): Promise<ExitCode> {
    const parsed = parseCommand(this, args, { json: { type: 'boolean' } });
    if (!parsed) return EXIT.ok;
    const report = await withDatabase('migrate', (db) => db.migrate(), { migrate: false });
    if (parsed.values.json === true) {
      printJson({ applied: report.applied, already_applied: report.alreadyApplied });
    } else if (report.applied.length === 0) {
      printLine(`the database is up to date (${report.alreadyApplied} migrations)`);
    } else {
      for (const name of report.applied) printLine(`applied ${name}`);
      printLine(`${report.applied.length} applied, ${report.alreadyApplied} were already applied`);
    }
    return EXIT.ok;
  },
};
