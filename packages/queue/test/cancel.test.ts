import { CANCEL_CHANNEL, publishCancel, redisConnectionOptions, subscribeCancels } from '@swavlab/queue';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDIS_URL, uniquePrefix } from './helpers.js';

// A channel of this file's own, so that parallel test runs on the same Redis do not hear each other.
const channel = `${uniquePrefix()}:cancel`;
const publisher = new Redis(redisConnectionOptions(REDIS_URL, 'producer'));
const subscriber = new Redis(redisConnectionOptions(REDIS_URL, 'worker'));
// A producer connection refuses commands until it is ready (no offline queue): wait for it, as the API does.
beforeAll(async () => {
  if (publisher.status !== 'ready') await new Promise((resolve) => publisher.once('ready', resolve));
});
afterAll(() => {
  publisher.disconnect();
  subscriber.disconnect();
});

function nextCall<T>(): { promise: Promise<T>; call: (value: T) => void } {
  let call!: (value: T) => void;
  const promise = new Promise<T>((resolve) => {
    call = resolve;
  });
  return { promise, call };
}

describe('cancel broadcast', () => {
  it('has a fixed default channel name', () => {
    expect(CANCEL_CHANNEL).toBe('swavlab:cancel');
  });

  it('delivers a published run id to the subscribed worker, and ignores malformed messages', async () => {
    const received = nextCall<string>();
    const invalid = nextCall<string>();
    const unsubscribe = await subscribeCancels(subscriber, received.call, {
      channel,
      onInvalid: invalid.call,
    });

    await publisher.publish(channel, '{"run": 1}');
    expect(await invalid.promise).toBe('{"run": 1}');

    expect(await publishCancel(publisher, 'run-42', { channel })).toBe(1);
    expect(await received.promise).toBe('run-42');

    await unsubscribe();
    expect(await publishCancel(publisher, 'run-43', { channel })).toBe(0);
  });

  it('refuses an empty run id', async () => {
    await expect(publishCancel(publisher, '', { channel })).rejects.toThrow(
      'runId: expected a non-empty string',
    );
  });
});
