// The number KEDA scales workers on (swavlab_slots_demanded): the device slots that unfinished work needs — the
// ranks of every queued, running or stopping run plus one slot per queued or running later evaluation. Read
// from the database, the source of truth, rather than from Redis: a run whose job Redis lost still counts, so
// a deployment scaled to zero starts a worker whose reconciler queues it again (infra/k8s/README.md).

import { rankCount } from '@swavlab/spec';
import type { Database } from '../database.js';
import { runSql, sql } from '../sql.js';

function count(text: string | null): number | undefined {
  const value = Number(text);
  return text !== null && Number.isSafeInteger(value) && value >= 1 ? value : undefined;
}

export async function slotDemand(db: Database): Promise<number> {
  const [runRows, evaluationRows] = await Promise.all([
    runSql<{ gpus: string | null; processes: string | null; runs: number }>(
      db,
      sql`SELECT spec->'runtime'->>'gpus' AS gpus, spec->'runtime'->>'processes' AS processes,
                 count(*)::int AS runs
          FROM runs WHERE status IN ('queued', 'running', 'stopping') GROUP BY 1, 2`,
    ),
    runSql<{ evaluations: number }>(
      db,
      sql`SELECT count(*)::int AS evaluations FROM evaluation_requests WHERE status IN ('queued', 'running')`,
    ),
  ]);
  let slots = Number(evaluationRows[0]?.evaluations ?? 0);
  for (const row of runRows) {
    const gpus = count(row.gpus);
    const processes = count(row.processes);
    // A spec without readable counts asks for one slot, as the worker's scheduler does.
    const ranks = gpus === undefined || processes === undefined ? 1 : rankCount({ gpus, processes });
    slots += ranks * Number(row.runs);
  }
  return slots;
}
