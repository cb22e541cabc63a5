// Shared test fixtures: valid specs, runs created as the API would create them, and worker-side writes.
import type { Database, JsonObject, Run } from '@swavlab/db';
import { type ExperimentSpecInput, hashValidSpec, parseExperimentSpec } from '@swavlab/spec';

/** A small valid spec; `overrides` are merged one level deep. */
export function tinySpec(overrides: Record<string, unknown> = {}): ExperimentSpecInput {
  const base: Record<string, Record<string, unknown>> = {
    data: { source: 'synthetic', num_images: 64, image_size: 16 },
    model: { arch: 'tiny' },
    swav: { prototypes: 30, crops: '2x16+2x8' },
    optim: { epochs: 2, batch_size: 16, warmup_epochs: 0 },
  };
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(overrides)) {
    const current = merged[key];
    merged[key] =
      typeof value === 'object' && value !== null && !Array.isArray(value) && typeof current === 'object'
        ? { ...(current as object), ...value }
        : value;
  }
  return merged as ExperimentSpecInput;
}

/** Creates a run directly in the database, the way POST /v1/runs stores one. */
export async function createRun(
  db: Database,
  overrides: Record<string, unknown> = {},
  extra: { name?: string; tags?: string[] } = {},
): Promise<Run> {
  const parsed = parseExperimentSpec(tinySpec(overrides));
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  const { name: _name, tags: _tags, ...spec } = parsed.spec;
  const { run } = await db.runs.createRun({
    spec: spec as unknown as JsonObject,
    specHash: hashValidSpec(parsed.spec),
    seed: parsed.spec.seed,
    name: extra.name ?? null,
    tags: extra.tags ?? [],
  });
  return run;
}

/** Claims a run as a worker would and returns the attempt's fencing token. */
export async function claim(db: Database, runId: string): Promise<string> {
  const claimed = await db.runs.claimRun(runId, { workerHost: 'test-host', device: 'cpu' });
  if (claimed === null) throw new Error(`could not claim ${runId}`);
  return claimed.token;
}
