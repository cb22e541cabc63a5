import {
  BridgeProtocolError,
  Diverged,
  isProcessAlive,
  PythonCrashed,
  PythonError,
  startJob,
} from '@swavlab/bridge';
import { describe, expect, it } from 'vitest';
import { liveProcesses, PYTHON, startFixture, timed } from './helpers.js';

describe('a job that returns', () => {
  it('delivers every event in order, then the parsed result with the run options', async () => {
    const { job, events } = startFixture(
      { scenario: 'events', count: 300 },
      { runOptions: { outDir: '/tmp/out', resumeFrom: null } },
    );
    const result = await job.result;
    expect(result).toMatchObject({ status: 'succeeded', error: null, count: 300 });
    expect(result.options).toEqual({ out_dir: '/tmp/out', resume_from: null });
    expect(events.map((event) => event.index)).toEqual([...Array(300).keys()]);
    expect(events[1]).toEqual({ type: 'tick', index: 1, value: 0.5 });
  });

  it("calls the module's evaluate entry with the checkpoint when asked to evaluate", async () => {
    const { job, events } = startFixture(
      { eval: { linear: { protocol: 'paper' } } },
      { evaluate: { checkpoint: '/tmp/ckpt.pt' } },
    );
    const result = await job.result;
    expect(result).toMatchObject({ status: 'succeeded', error: null, step: 6, evals: { linear_top1: 0.5 } });
    expect(result.options).toEqual({ checkpoint: '/tmp/ckpt.pt' });
    expect(result.eval).toEqual({ linear: { protocol: 'paper' } });
    expect(events).toEqual([{ type: 'eval', epoch: 1, step: 6, values: { linear_top1: 0.5 } }]);
    expect(() =>
      startJob({
        specJson: '{}',
        pythonBin: PYTHON,
        runOptions: { outDir: '/tmp/out' },
        evaluate: { checkpoint: '/tmp/ckpt.pt' },
      }),
    ).toThrow(/either runs \(runOptions\) or evaluates/);
  });

  it('delivers thousands of events from Python to the parent, each once and in order', async () => {
    // How fast they cross is measured in bench/bridge/overhead.mjs (the event rate), not here.
    const count = 5_000;
    const { job, events } = startFixture({ scenario: 'events', count });
    await job.result;
    expect(events).toHaveLength(count);
    expect(events.map((event) => event.index)).toEqual(Array.from({ length: count }, (_, i) => i));
    expect(events.at(-1)).toEqual({ type: 'tick', index: count - 1, value: (count - 1) * 0.5 });
  });

  it('gives Python the job environment, PYTHONUNBUFFERED and the module folder on PYTHONPATH', async () => {
    const keys = ['CUDA_VISIBLE_DEVICES', 'PYTHONUNBUFFERED', 'PYTHONPATH'];
    const { job } = startFixture({ scenario: 'env', keys }, { env: { CUDA_VISIBLE_DEVICES: '3' } });
    const { env } = (await job.result) as unknown as { env: Record<string, string | null> };
    expect(env.CUDA_VISIBLE_DEVICES).toBe('3');
    expect(env.PYTHONUNBUFFERED).toBe('1');
    expect(env.PYTHONPATH?.split(':')[0]).toMatch(/packages\/bridge\/test\/fixtures\/?$/);
  });

  it('rejects a failed result with PythonError carrying its kind, traceback and result', async () => {
    const { error } = await timed(startFixture({ scenario: 'failed_result' }).job.result);
    expect(error).toBeInstanceOf(PythonError);
    expect(error).toMatchObject({
      kind: 'python',
      errorKind: 'spec',
      message: 'swav.prototypes: too small',
      traceback: 'Traceback: fixture',
      result: { status: 'failed' },
    });
  });

  it('rejects a diverged result with Diverged', async () => {
    const { error } = await timed(startFixture({ scenario: 'diverged' }).job.result);
    expect(error).toBeInstanceOf(Diverged);
    expect(error).toMatchObject({
      message: 'loss is NaN at step 7',
      result: { status: 'diverged', steps: 7 },
    });
  });

  it('rejects a result without a known status, naming the field', async () => {
    const { error } = await timed(startFixture({ scenario: 'bad_result' }).job.result);
    expect(error).toBeInstanceOf(BridgeProtocolError);
    expect((error as Error).message).toMatch(/^result\.status: expected one of succeeded/);
  });
});

describe('non-finite numbers', () => {
  it('arrive as null when Python sends strict JSON', async () => {
    const { job, events } = startFixture({ scenario: 'nan_event' });
    await expect(job.result).resolves.toMatchObject({ status: 'succeeded' });
    expect(events).toEqual([{ type: 'metrics', values: { loss: null, lr: null } }]);
  });

  it('end the job with BridgeProtocolError, not a dead parent, when Python passes a raw NaN', async () => {
    const { job } = startFixture({ scenario: 'raw_nan' });
    const { error } = await timed(job.result);
    expect(error).toBeInstanceOf(BridgeProtocolError);
    expect((error as Error).message).toMatch(/not valid JSON.*NaN/);
    expect(isProcessAlive(job.runnerPid)).toBe(false);
    expect(job.pythonPid !== undefined && isProcessAlive(job.pythonPid)).toBe(false);
  });

  it('end the job with BridgeProtocolError when an event string holds a NaN token', async () => {
    const { error } = await timed(startFixture({ scenario: 'nan_token' }).job.result);
    expect(error).toBeInstanceOf(BridgeProtocolError);
    expect((error as Error).message).toMatch(/^on_event: not valid JSON/);
  });

  it('and an event that is not an object with a type is refused too', async () => {
    const { error } = await timed(startFixture({ scenario: 'not_an_event' }).job.result);
    expect((error as Error).message).toMatch(/^on_event: expected an object with a string "type"/);
  });
});

describe('Python failures', () => {
  it('an exception raised out of run becomes PythonError with the traceback', async () => {
    const { error } = await timed(startFixture({ scenario: 'raise', detail: 'boom' }).job.result);
    expect(error).toBeInstanceOf(PythonError);
    expect(error).toMatchObject({
      errorKind: 'exception',
      message: 'ValueError: fixture failure: boom',
      result: null,
    });
    expect((error as PythonError).traceback).toMatch(/fixture_bridge\.py/);
  });

  it('a module that does not import becomes PythonError naming it', async () => {
    const { error } = await timed(startFixture({}, { module: 'no_such_module_here' }).job.result);
    expect(error).toBeInstanceOf(PythonError);
    expect((error as Error).message).toMatch(/ModuleNotFoundError.*no_such_module_here/);
  });

  it.each([
    [{ scenario: 'segfault' }, { exitCode: null, signal: 'SIGSEGV' }],
    [
      { scenario: 'os_exit', code: 3 },
      { exitCode: 3, signal: null },
    ],
    [
      { scenario: 'sys_exit', code: 4 },
      { exitCode: 4, signal: null },
    ],
  ])('a Python that dies (%j) settles the job with PythonCrashed within 5 s', async (spec, how) => {
    const { job } = startFixture(spec);
    const { error, ms } = await timed(job.result);
    expect(error).toBeInstanceOf(PythonCrashed);
    expect(error).toMatchObject({ kind: 'crashed', process: 'python', ...how });
    expect(ms).toBeLessThan(5_000);
    if (spec.scenario === 'segfault')
      expect((error as PythonCrashed).stderrTail).toMatch(/about to segfault/);
  });

  it('a Python SIGKILLed from outside settles the job with PythonCrashed within 5 s', async () => {
    const { job, eventOfType } = startFixture({ scenario: 'wait_for_stop' });
    await eventOfType('heartbeat');
    process.kill(job.pythonPid!, 'SIGKILL');
    const { error, ms } = await timed(job.result);
    expect(error).toMatchObject({ process: 'python', signal: 'SIGKILL' });
    expect(ms).toBeLessThan(5_000);
    expect(liveProcesses({ pgids: [job.runnerPid] })).toEqual([]);
  });

  it('an interpreter that cannot start becomes PythonCrashed naming it', async () => {
    const { error } = await timed(startFixture({}, { pythonBin: '/nonexistent/python3' }).job.result);
    expect(error).toBeInstanceOf(PythonCrashed);
    expect((error as Error).message).toMatch(/cannot start \/nonexistent\/python3: .*ENOENT/);
  });
});

describe('job options', () => {
  it('are checked before anything starts, naming the field', () => {
    expect(() => startJob({ specJson: '', pythonBin: PYTHON })).toThrow(
      /^specJson: expected a non-empty string/,
    );
    expect(() => startJob({ specJson: '{}', pythonBin: PYTHON, killGraceMs: -1 })).toThrow(
      /^killGraceMs: expected a finite number of milliseconds >= 0, got -1/,
    );
    expect(() => startJob({ specJson: '{}', pythonBin: PYTHON, cancelGraceMs: Number.NaN })).toThrow(
      /^cancelGraceMs:/,
    );
  });
});
