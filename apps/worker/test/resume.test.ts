import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileArtifactStore } from '@swavlab/artifacts';
import { type Database, openDatabase } from '@swavlab/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Logger } from '../src/logger.js';
import { chooseResumePoint } from '../src/resume.js';

describe('choosing the checkpoint to resume from', () => {
  let db: Database;
  let artifacts: string;
  let source: { store: FileArtifactStore; base: string };

  beforeAll(async () => {
    db = await openDatabase({ url: 'memory://' });
    artifacts = await mkdtemp(join(tmpdir(), 'swavlab-resume-'));
    source = { store: new FileArtifactStore(artifacts), base: artifacts };
  });
  afterAll(async () => {
    await db.close();
    await rm(artifacts, { recursive: true, force: true });
  });

  /** A claimed run with one checkpoint per step, written to disk with the recorded sha256. */
  async function runWithCheckpoints(steps: number[]) {
    const hash = createHash('sha256').update(`${Math.random()}`).digest('hex');
    const { run } = await db.runs.createRun({ spec: { seed: 1 }, specHash: hash, seed: 1 });
    const claim = await db.runs.claimRun(run.id, { workerHost: 'test', device: 'cpu' });
    await mkdir(join(artifacts, run.id), { recursive: true });
    for (const step of steps) {
      const content = `checkpoint at ${step}`;
      const path = `${run.id}/ckpt-${step}.pt`;
      await writeFile(join(artifacts, path), content);
      const sha256 = createHash('sha256').update(content).digest('hex');
      await db.checkpoints.addCheckpoint(run.id, claim!.token, {
        epoch: step,
        step,
        path,
        sha256,
        bytes: 14,
      });
    }
    const latest = await db.checkpoints.latestCheckpoint(run.id);
    return { runId: run.id, latest };
  }

  function recordingLogger(): { logger: Logger; warnings: string[] } {
    const warnings: string[] = [];
    const ignore = () => undefined;
    return {
      logger: {
        debug: ignore,
        info: ignore,
        error: ignore,
        warn: (msg, f) => warnings.push(`${msg} ${f?.reason ?? ''}`),
      },
      warnings,
    };
  }

  it('takes the latest checkpoint when its file is intact', async () => {
    const { runId, latest } = await runWithCheckpoints([1, 2]);
    const { logger, warnings } = recordingLogger();
    const point = await chooseResumePoint(db, runId, latest, source, logger);
    expect(point?.checkpoint.step).toBe(2);
    expect(point?.file).toBe(join(artifacts, runId, 'ckpt-2.pt'));
    expect(warnings).toEqual([]);
  });

  it('falls back to the previous checkpoint when the latest file is corrupt', async () => {
    const { runId, latest } = await runWithCheckpoints([1, 2, 3]);
    await writeFile(join(artifacts, runId, 'ckpt-3.pt'), 'torn');
    const { logger, warnings } = recordingLogger();
    const point = await chooseResumePoint(db, runId, latest, source, logger);
    expect(point?.checkpoint.step).toBe(2);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/has sha256 [0-9a-f]{64}, expected/);
  });

  it('starts from scratch, with warnings, when no checkpoint file is usable', async () => {
    const { runId, latest } = await runWithCheckpoints([1, 2]);
    await rm(join(artifacts, runId), { recursive: true });
    const { logger, warnings } = recordingLogger();
    expect(await chooseResumePoint(db, runId, latest, source, logger)).toBeNull();
    expect(warnings).toEqual([
      expect.stringMatching(/ckpt-2.pt does not exist/),
      expect.stringMatching(/ckpt-1.pt does not exist/),
      expect.stringMatching(/starts from scratch/),
    ]);
  });
});
