// The statuses of a run, the one list every package and app reads (the database's run_status enum holds the same
// values). No zod here: the dashboard imports this module alone (`@swavlab/spec/run-status`) without bundling zod.

export const RUN_STATUSES = ['queued', 'running', 'stopping', 'succeeded', 'failed', 'canceled'] as const;
export type RunStatusName = (typeof RUN_STATUSES)[number];

/** Statuses a run never leaves on its own (only a new submission or a retry resets failed and canceled runs). */
export const TERMINAL_STATUSES = [
  'succeeded',
  'failed',
  'canceled',
] as const satisfies readonly RunStatusName[];

export function isTerminalStatus(status: RunStatusName): boolean {
  return (TERMINAL_STATUSES as readonly RunStatusName[]).includes(status);
}
