import { describe, expect, it } from 'vitest';
import { Counter, Histogram, probe, renderGauge, renderProcessMetrics } from '../src/index.js';

describe('Prometheus rendering', () => {
  it('writes cumulative histogram buckets, sum and count with escaped labels', () => {
    const histogram = new Histogram('latency_seconds', 'Latency.', [0.1, 1]);
    histogram.observe({ route: '/a"b' }, 0.05);
    histogram.observe({ route: '/a"b' }, 0.5);
    histogram.observe({ route: '/a"b' }, 5);
    expect(histogram.render()).toBe(
      [
        '# HELP latency_seconds Latency.',
        '# TYPE latency_seconds histogram',
        'latency_seconds_bucket{route="/a\\"b",le="0.1"} 1',
        'latency_seconds_bucket{route="/a\\"b",le="1"} 2',
        'latency_seconds_bucket{route="/a\\"b",le="+Inf"} 3',
        'latency_seconds_sum{route="/a\\"b"} 5.55',
        'latency_seconds_count{route="/a\\"b"} 3',
        '',
      ].join('\n'),
    );
    expect(renderGauge('g', 'A gauge.', [{ labels: { s: 'x' }, value: 2 }])).toBe(
      '# HELP g A gauge.\n# TYPE g gauge\ng{s="x"} 2\n',
    );
  });

  it('observes a value several times at once (the mean of several steps)', () => {
    const histogram = new Histogram('step_seconds', 'Step time.', [0.1, 1]);
    histogram.observe({}, 0.5, 4);
    expect(histogram.render()).toContain('step_seconds_bucket{le="0.1"} 0\nstep_seconds_bucket{le="1"} 4\n');
    expect(histogram.render()).toContain('step_seconds_sum 2\nstep_seconds_count 4\n');
  });

  it('counts per label set and renders an unused counter as its header only', () => {
    const counter = new Counter('jobs_total', 'Jobs.');
    expect(counter.render()).toBe('# HELP jobs_total Jobs.\n# TYPE jobs_total counter\n');
    counter.inc({ outcome: 'ok' });
    counter.inc({ outcome: 'failed' }, 2);
    counter.inc({ outcome: 'ok' });
    expect(counter.render()).toBe(
      '# HELP jobs_total Jobs.\n# TYPE jobs_total counter\njobs_total{outcome="ok"} 2\njobs_total{outcome="failed"} 2\n',
    );
  });

  it("renders this process's CPU time, memory and start time", () => {
    const text = renderProcessMetrics();
    const value = (name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
    expect(value('process_resident_memory_bytes')).toBeGreaterThan(1e6);
    expect(value('process_cpu_seconds_total')).toBeGreaterThan(0);
    expect(
      Math.abs(value('process_start_time_seconds') - (Date.now() / 1000 - process.uptime())),
    ).toBeLessThan(2);
  });
});

describe('readiness probes', () => {
  it('pass, fail with the dependency named, and time out', async () => {
    expect(await probe('the database', async () => 1)).toBeNull();
    expect(
      await probe('Redis', async () => {
        throw new Error('ECONNREFUSED');
      }),
    ).toBe('Redis is not reachable');
    const started = Date.now();
    expect(await probe('the database', () => new Promise(() => undefined), 50)).toBe(
      'the database is not reachable',
    );
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
