import type { DeviceDemand } from '@swavlab/spec';
import { describe, expect, it } from 'vitest';
import { DeviceScheduler, NeverFits, type Reservation, WaitAborted } from '../src/device-scheduler.js';
import { planSlots } from '../src/slots.js';

const cpu = (ranks: number): DeviceDemand => ({ ranks, kind: 'cpu' });
const gpu = (ranks: number): DeviceDemand => ({ ranks, kind: 'gpu' });
const any: DeviceDemand = { ranks: 1, kind: 'any' };

/** A scheduler on a clock the test moves, with every grant recorded in order. */
function harness(slots = planSlots([], 4), reserveAfterMs = 1_000) {
  let now = 0;
  const scheduler = new DeviceScheduler(slots, { reserveAfterMs, now: () => now });
  const granted: string[] = [];
  const request = (name: string, demand: DeviceDemand, signal?: AbortSignal): Promise<Reservation> =>
    scheduler.acquire(demand, signal).then((reservation) => {
      granted.push(name);
      return reservation;
    });
  return {
    scheduler,
    granted,
    request,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('DeviceScheduler', () => {
  it('gives a run as many slots as it has ranks, and never more slots than the worker has', async () => {
    const { scheduler, request } = harness();
    const four = await request('four', cpu(4));
    expect(four.slots.map((slot) => slot.index)).toEqual([0, 1, 2, 3]);
    expect(four).toMatchObject({ device: 'cpu×4', env: { CUDA_VISIBLE_DEVICES: '' } });
    expect(scheduler.busy).toBe(4);
    const one = request('one', any);
    await settle();
    expect(scheduler.waiting).toBe(1);
    scheduler.release(four);
    expect((await one).device).toBe('cpu');
    expect(scheduler.busy).toBe(1);
  });

  it('refuses a run the worker can never hold', async () => {
    const { scheduler } = harness();
    await expect(scheduler.acquire(cpu(5))).rejects.toThrow(NeverFits);
    await expect(scheduler.acquire(gpu(1))).rejects.toThrow('the run needs 1 GPUs; this worker has 0');
  });

  it('lets later runs that fit overtake one that does not, until it has waited long enough', async () => {
    const { scheduler, granted, request, advance } = harness();
    const running = [await request('a', any), await request('b', any), await request('c', any)];
    const big = request('big', cpu(4));
    const small = await request('d', any); // one slot is free and the big run is not reserved yet
    expect(granted).toEqual(['a', 'b', 'c', 'd']);
    scheduler.release(small);
    advance(1_000); // the big run now holds a reservation
    const late = request('e', any);
    await settle();
    expect(granted).toEqual(['a', 'b', 'c', 'd']); // the free slot stays free for the big run
    for (const reservation of running) scheduler.release(reservation);
    scheduler.release(await big);
    await late;
    expect(granted).toEqual(['a', 'b', 'c', 'd', 'big', 'e']);
  });

  it('takes distinct GPUs for a multi-GPU run and lists them in CUDA_VISIBLE_DEVICES', async () => {
    const { scheduler, request } = harness(planSlots(['3', '7'], 4));
    expect(scheduler.capacity('gpu')).toBe(2);
    expect(scheduler.capacity('cpu')).toBe(4);
    const first = await request('one', any);
    expect(first).toMatchObject({ device: 'cuda:3', env: { CUDA_VISIBLE_DEVICES: '3' } });
    const pair = await request('pair', gpu(2)); // slot 1 (GPU 7) and slot 2 (GPU 3 again)
    expect(pair).toMatchObject({ device: 'cuda:7,3', env: { CUDA_VISIBLE_DEVICES: '7,3' } });
    const cpuRun = await request('cpu', cpu(1));
    expect(cpuRun).toMatchObject({ device: 'cpu', env: { CUDA_VISIBLE_DEVICES: '' } });
  });

  it('forgets a wait that is aborted and serves the next one', async () => {
    const { scheduler, request } = harness(planSlots([], 2), 0);
    const held = await request('held', cpu(2));
    const abort = new AbortController();
    const big = request('big', cpu(2), abort.signal);
    const small = request('small', any);
    await settle();
    expect(scheduler.waiting).toBe(2);
    abort.abort();
    await expect(big).rejects.toThrow(WaitAborted);
    scheduler.release(held);
    expect((await small).slots).toHaveLength(1);
    expect(scheduler.waiting).toBe(0);
  });

  it('never has more ranks out than slots, whatever the mix (random order, every run finishes)', async () => {
    for (let seed = 1; seed <= 20; seed += 1) {
      const { scheduler, request, advance } = harness(planSlots([], 4), 50);
      let random = seed;
      const next = () => {
        random = (random * 16807) % 2147483647;
        return random / 2147483647;
      };
      const held = new Set<Reservation>();
      const pending = Array.from({ length: 30 }, (_, i) =>
        request(`r${i}`, cpu(1 + Math.floor(next() * 4))).then((reservation) => held.add(reservation)),
      );
      let finished = 0;
      while (finished < pending.length) {
        await settle();
        expect([...held].reduce((sum, r) => sum + r.slots.length, 0)).toBeLessThanOrEqual(4);
        const first = held.values().next();
        if (!first.done) {
          held.delete(first.value);
          scheduler.release(first.value);
          finished += 1;
        }
        advance(10);
      }
      expect(scheduler.busy).toBe(0);
    }
  });
});
