// Prometheus text exposition (format 0.0.4), written by hand: histograms and counters kept in the process, and
// gauges or counters rendered at scrape time from elsewhere (a queue, a database, Redis).

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export type Labels = Record<string, string>;

export interface Sample {
  labels: Labels;
  value: number;
}

/** Upper bounds in seconds; API requests are mostly milliseconds, event streams last minutes. */
export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function renderLabels(labels: Labels): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return '';
  return `{${entries.map(([name, value]) => `${name}="${escapeLabelValue(value)}"`).join(',')}}`;
}

function renderNumber(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

interface Series {
  labels: Labels;
  /** Cumulative counts per bucket, as exposed. */
  buckets: number[];
  sum: number;
  count: number;
}

export class Histogram {
  private readonly series = new Map<string, Series>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly bounds: readonly number[] = LATENCY_BUCKETS,
  ) {}

  /** Records `value` `count` times (e.g. the mean time of `count` steps measured together). */
  observe(labels: Labels, value: number, count = 1): void {
    const key = renderLabels(labels);
    let series = this.series.get(key);
    if (series === undefined) {
      series = { labels, buckets: this.bounds.map(() => 0), sum: 0, count: 0 };
      this.series.set(key, series);
    }
    this.bounds.forEach((bound, i) => {
      if (value <= bound) (series as Series).buckets[i] = ((series as Series).buckets[i] ?? 0) + count;
    });
    series.sum += value * count;
    series.count += count;
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const series of this.series.values()) {
      this.bounds.forEach((bound, i) => {
        const labels = renderLabels({ ...series.labels, le: renderNumber(bound) });
        lines.push(`${this.name}_bucket${labels} ${series.buckets[i] ?? 0}`);
      });
      lines.push(`${this.name}_bucket${renderLabels({ ...series.labels, le: '+Inf' })} ${series.count}`);
      lines.push(`${this.name}_sum${renderLabels(series.labels)} ${renderNumber(series.sum)}`);
      lines.push(`${this.name}_count${renderLabels(series.labels)} ${series.count}`);
    }
    return `${lines.join('\n')}\n`;
  }
}

/** A counter kept in this process, one series per label set. */
export class Counter {
  private readonly series = new Map<string, Sample>();

  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  inc(labels: Labels, by = 1): void {
    const key = renderLabels(labels);
    const series = this.series.get(key);
    if (series === undefined) this.series.set(key, { labels, value: by });
    else series.value += by;
  }

  render(): string {
    return renderCounter(this.name, this.help, [...this.series.values()]);
  }
}

function renderFamily(
  type: 'gauge' | 'counter',
  name: string,
  help: string,
  samples: readonly Sample[],
): string {
  const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`];
  for (const sample of samples)
    lines.push(`${name}${renderLabels(sample.labels)} ${renderNumber(sample.value)}`);
  return `${lines.join('\n')}\n`;
}

/** A gauge family whose samples are computed when scraped. */
export function renderGauge(name: string, help: string, samples: readonly Sample[]): string {
  return renderFamily('gauge', name, help, samples);
}

/** A counter family kept elsewhere (e.g. in Redis) and read when scraped. */
export function renderCounter(name: string, help: string, samples: readonly Sample[]): string {
  return renderFamily('counter', name, help, samples);
}
