import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { isProcessAlive, JobKilled, PythonCrashed } from '@swavlab/bridge';
import { describe, expect, it } from 'vitest';
import { FIXTURES_DIR, liveProcesses, PYTHON, startFixture, timed } from './helpers.js';

describe('cancel', () => {
  it('stops cooperatively through the callback, which returns "stop"', async () => {
    const { job, eventOfType } = startFixture({ scenario: 'wait_for_stop', signal: false });
    await eventOfType('heartbeat');
    job.cancel();
    await expect(job.result).resolves.toMatchObject({ status: 'canceled', stopped_by: 'callback' });
  });

  it('also signals SIGUSR1, which reaches a Python that is not calling back', async () => {
    const { job } = startFixture({ scenario: 'wait_for_stop', heartbeat: false });
    // The runner reports the pid at spawn; wait until the module is imported and can take the signal.
    while (job.pythonPid === undefined) await new Promise((resolve) => setTimeout(resolve, 20));
    await new Promise((resolve) => setTimeout(resolve, 500));
    job.cancel();
    await expect(job.result).resolves.toMatchObject({ status: 'canceled', stopped_by: 'signal' });
  });

  it('right after start is held until Python can take it, then stops the run', async () => {
    const { job } = startFixture({ scenario: 'wait_for_stop', heartbeat: false });
    job.cancel();
    await expect(job.result).resolves.toMatchObject({ status: 'canceled', stopped_by: 'signal' });
  });

  it('kills a Python that ignores it once the grace period is over', async () => {
    const { job, eventOfType } = startFixture(
      { scenario: 'stubborn' },
      { cancelGraceMs: 300, killGraceMs: 300 },
    );
    const grandchild = Number((await eventOfType('grandchild')).pid);
    job.cancel();
    await expect(job.result).rejects.toBeInstanceOf(JobKilled);
    expect([job.runnerPid, job.pythonPid!, grandchild].filter(isProcessAlive)).toEqual([]);
  });
});

describe('kill', () => {
  it('removes the whole process tree, even a Python that ignores SIGTERM and its children', async () => {
    const { job, eventOfType } = startFixture({ scenario: 'stubborn' }, { killGraceMs: 500 });
    const grandchild = Number((await eventOfType('grandchild')).pid);
    await eventOfType('stubborn');
    expect(isProcessAlive(grandchild)).toBe(true);
    job.kill();
    const { error, ms } = await timed(job.result);
    expect(error).toBeInstanceOf(JobKilled);
    expect(ms).toBeLessThan(5_000);
    expect([job.runnerPid, job.pythonPid!, grandchild].filter(isProcessAlive)).toEqual([]);
    expect(liveProcesses({ pgids: [job.runnerPid] })).toEqual([]);
  });

  it('of the runner process (SIGKILL) settles the job quickly, and Python does not outlive it', async () => {
    const { job, eventOfType } = startFixture({ scenario: 'wait_for_stop' });
    await eventOfType('heartbeat');
    const pythonPid = job.pythonPid!;
    process.kill(job.runnerPid, 'SIGKILL');
    const { error, ms } = await timed(job.result);
    expect(error).toBeInstanceOf(PythonCrashed);
    expect(error).toMatchObject({ process: 'runner', signal: 'SIGKILL' });
    expect(ms).toBeLessThan(5_000);
    expect(isProcessAlive(pythonPid)).toBe(false);
  });
});

describe('the runner', () => {
  it('stops Python and exits when its parent goes away (the IPC channel closes)', async () => {
    const runnerPath = fileURLToPath(new URL('../src/runner.mjs', import.meta.url));
    const runner = fork(runnerPath, [], { execArgv: [], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    const exited = new Promise((resolve) => runner.once('exit', resolve));
    const messages: { type: string; pid?: number }[] = [];
    const ready = new Promise<void>((resolve) =>
      runner.on('message', (message: { type: string; pid?: number }) => {
        messages.push(message);
        if (message.type === 'event') resolve();
      }),
    );
    runner.send({
      type: 'start',
      config: {
        pythonBin: PYTHON,
        pythonPath: [FIXTURES_DIR],
        module: 'fixture_bridge',
        specJson: JSON.stringify({ scenario: 'wait_for_stop' }),
        optionsJson: '{}',
        exitGraceMs: 1_000,
      },
    });
    await ready;
    const pythonPid = messages.find((message) => message.type === 'spawned')?.pid;
    expect(pythonPid).toBeGreaterThan(0);
    runner.disconnect();
    const { ms } = await timed(exited);
    expect(ms).toBeLessThan(5_000);
    expect(isProcessAlive(pythonPid!)).toBe(false);
  });
});

describe('onEvent', () => {
  it('that throws kills the job, which rejects with that error', async () => {
    const refused = new Error('stale attempt: write refused');
    const { job } = startFixture(
      { scenario: 'wait_for_stop' },
      {
        onEvent: () => {
          throw refused;
        },
      },
    );
    await expect(job.result).rejects.toBe(refused);
    expect(liveProcesses({ pgids: [job.runnerPid] })).toEqual([]);
  });
});

describe('many jobs', () => {
  it('20 start/cancel cycles leave no process behind', async () => {
    const runnerPids: number[] = [];
    for (let cycle = 0; cycle < 20; cycle += 1) {
      const { job, eventOfType } = startFixture({ scenario: 'wait_for_stop', interval: 0.01 });
      runnerPids.push(job.runnerPid);
      await eventOfType('heartbeat');
      job.cancel();
      await expect(job.result).resolves.toMatchObject({ status: 'canceled' });
    }
    expect(new Set(runnerPids).size).toBe(20);
    expect(liveProcesses({ pgids: runnerPids, parent: process.pid })).toEqual([]);
  });
});
