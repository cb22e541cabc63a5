import { describe, expect, it } from 'vitest';
import { workerConfigFromEnv } from '../src/config.js';
import { childLogger, createJsonLogger, LOG_LEVELS } from '../src/logger.js';
import { detectGpus, planSlots } from '../src/slots.js';

describe('worker configuration', () => {
  it('defaults to one CPU slot, queue lock settings and artifacts under SWAVLAB_HOME', () => {
    const config = workerConfigFromEnv({ SWAVLAB_HOME: '/srv/swavlab' }, []);
    expect(config.slots).toEqual([{ index: 0, device: 'cpu' }]);
    expect(config.reserveAfterMs).toBe(600_000);
    expect(config.artifacts.location).toBe('file:/srv/swavlab/artifacts');
    expect(config.scratchDir).toBe('/srv/swavlab/scratch');
    expect(config.lock).toEqual({
      lockDuration: 180_000,
      lockRenewTime: 60_000,
      stalledInterval: 60_000,
      maxStalledCount: 1,
    });
    expect(config.shutdownTimeoutMs).toBe(60_000);
    expect(config.redisUrl).toBeUndefined();
    expect(config.databaseUrl).toBeUndefined();
  });

  it('reads overrides from the environment', () => {
    const config = workerConfigFromEnv(
      {
        SWAVLAB_ARTIFACTS: '/data/artifacts',
        SWAVLAB_SLOTS: '3',
        SWAVLAB_LOCK_DURATION_MS: '9000',
        SWAVLAB_STALLED_INTERVAL_MS: '2000',
        SWAVLAB_SHUTDOWN_TIMEOUT_MS: '15000',
        SWAVLAB_QUEUE_PREFIX: 'tenant-a',
        SWAVLAB_WORKER_NAME: 'gpu-host-7',
        SWAVLAB_LOG_LEVEL: 'debug',
        SWAVLAB_RESERVE_AFTER_MS: '0',
      },
      ['0', '1'],
    );
    expect(config.artifacts.location).toBe('file:/data/artifacts');
    expect(config.slots.map((slot) => slot.device)).toEqual(['cuda:0', 'cuda:1', 'cuda:0']);
    expect(config.lock).toMatchObject({ lockDuration: 9000, lockRenewTime: 3000, stalledInterval: 2000 });
    expect(config).toMatchObject({
      shutdownTimeoutMs: 15_000,
      queuePrefix: 'tenant-a',
      workerName: 'gpu-host-7',
      logLevel: 'debug',
      reserveAfterMs: 0,
    });
  });

  it.each([
    [{ SWAVLAB_SLOTS: '0' }, /^SWAVLAB_SLOTS: expected a whole number >= 1, got "0"$/],
    [{ SWAVLAB_SLOTS: '2.5' }, /^SWAVLAB_SLOTS:/],
    [{ SWAVLAB_LOCK_DURATION_MS: 'soon' }, /^SWAVLAB_LOCK_DURATION_MS:/],
    [{ SWAVLAB_SHUTDOWN_TIMEOUT_MS: '-1' }, /^SWAVLAB_SHUTDOWN_TIMEOUT_MS:/],
    [
      { SWAVLAB_RESERVE_AFTER_MS: '-5' },
      /^SWAVLAB_RESERVE_AFTER_MS: expected a whole number >= 0, got "-5"$/,
    ],
    [{ SWAVLAB_ARTIFACTS: 's3://x' }, /^SWAVLAB_ARTIFACTS: expected s3:\/\/<bucket>/],
    [{ SWAVLAB_ARTIFACTS: 's3://bucket', SWAVLAB_S3_ENDPOINT: 'nohttp' }, /^SWAVLAB_S3_ENDPOINT:/],
    [
      { SWAVLAB_LOG_LEVEL: 'loud' },
      /^SWAVLAB_LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent/,
    ],
    [
      { SWAVLAB_WORKER_PORT: 'http' },
      /^SWAVLAB_WORKER_PORT: expected a whole number from 0 to 65535, got "http"$/,
    ],
    [
      { SWAVLAB_WORKER_PORT: '70000' },
      /^SWAVLAB_WORKER_PORT: expected a whole number from 0 to 65535, got "70000"$/,
    ],
    [
      { SWAVLAB_WORKER_PORT: '9464', SWAVLAB_WORKER_HOST: '0.0.0.0:9464' },
      /^SWAVLAB_WORKER_HOST: .*without a port/,
    ],
  ])('rejects %o naming the variable', (env, message) => {
    expect(() => workerConfigFromEnv(env, [])).toThrow(message);
  });

  it('takes every log level of the shared vocabulary (pino’s, as the API)', () => {
    for (const level of LOG_LEVELS) {
      expect(workerConfigFromEnv({ SWAVLAB_LOG_LEVEL: level }, []).logLevel).toBe(level);
    }
  });
});

describe('operations endpoints address', () => {
  it('serves nothing unless SWAVLAB_WORKER_PORT is set to a port, on loopback unless SWAVLAB_WORKER_HOST says', () => {
    expect(workerConfigFromEnv({}, []).http).toBeUndefined();
    expect(workerConfigFromEnv({ SWAVLAB_WORKER_PORT: '0' }, []).http).toBeUndefined();
    expect(workerConfigFromEnv({ SWAVLAB_WORKER_PORT: '9464' }, []).http).toEqual({
      host: '127.0.0.1',
      port: 9464,
    });
    expect(workerConfigFromEnv({ SWAVLAB_WORKER_PORT: '9464', SWAVLAB_WORKER_HOST: '::' }, []).http).toEqual({
      host: '::',
      port: 9464,
    });
  });
});

describe('device slots', () => {
  it('pins one GPU per slot by default, and GPUs from CUDA_VISIBLE_DEVICES when it is set', async () => {
    expect(planSlots(['2', '5'])).toEqual([
      { index: 0, device: 'cuda:2', gpu: '2' },
      { index: 1, device: 'cuda:5', gpu: '5' },
    ]);
    expect(await detectGpus({ CUDA_VISIBLE_DEVICES: '2, 5' })).toEqual(['2', '5']);
    expect(await detectGpus({ CUDA_VISIBLE_DEVICES: '' })).toEqual([]);
    expect(await detectGpus({ CUDA_VISIBLE_DEVICES: '-1' })).toEqual([]);
  });
});

describe('the JSON logger', () => {
  it("adds a job logger's fields (run id, attempt) to each of its lines", () => {
    const lines: string[] = [];
    const job = childLogger(
      createJsonLogger('info', (line) => lines.push(line)),
      { runId: 'R1', attempt: 2 },
    );
    job.info('trainer started', { runnerPid: 7 });
    job.debug('not at this level');
    expect(lines.map((line) => JSON.parse(line))).toEqual([
      expect.objectContaining({
        level: 'info',
        msg: 'trainer started',
        runId: 'R1',
        attempt: 2,
        runnerPid: 7,
      }),
    ]);
  });

  it('keeps the credentials of connection URLs out of every line', () => {
    const lines: string[] = [];
    const logger = createJsonLogger('debug', (line) => lines.push(line));
    logger.warn('waiting for Redis', { redisUrl: 'redis://app:hunter2@redis:6379' });
    logger.error('failed', { error: new Error('connect to postgresql://u:pw@db/x refused') });
    expect(lines.join('')).not.toMatch(/hunter2|:pw@/);
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({ redisUrl: 'redis://app:***@redis:6379' });
  });
});
