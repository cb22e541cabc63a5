// How a later evaluation of a run's checkpoint (POST /v1/runs/{id}/evaluations) looks on the wire: the API answers
// with it and documents it, the CLI and the dashboard read it.
import { z } from 'zod';
import { Eval } from './experiment-spec.js';

export const EVALUATION_REQUEST_STATUSES = ['queued', 'running', 'succeeded', 'failed'] as const;

const Timestamp = z.iso.datetime();

export const EvaluationRequestView = z
  .object({
    id: z.string(),
    run_id: z.string(),
    status: z.enum(EVALUATION_REQUEST_STATUSES),
    eval: Eval.meta({ description: 'the eval section evaluated, defaults applied' }),
    checkpoint_step: z.int().meta({ description: "the step of the run's checkpoint it evaluates" }),
    attempt: z.int().meta({ description: 'deliveries so far (a worker lost mid-way means another one)' }),
    results: z.record(z.string(), z.number().nullable()).nullable().meta({
      description: 'metric values once succeeded (null for a non-finite one); also stored as evaluations',
    }),
    error: z.object({ kind: z.string(), message: z.string(), traceback: z.string().nullable() }).nullable(),
    device: z.string().nullable(),
    worker_host: z.string().nullable(),
    created_at: Timestamp,
    started_at: Timestamp.nullable(),
    finished_at: Timestamp.nullable(),
  })
  .meta({ id: 'EvaluationRequest' });

export type EvaluationRequestView = z.output<typeof EvaluationRequestView>;
