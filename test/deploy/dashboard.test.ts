// infra/grafana's dashboard and infra/k8s's autoscaler query only metrics that the code exports: the names are
// read from what the API's /metrics and the worker's metrics render (their `# TYPE` lines), not from a list.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { type Harness, startHarness } from '../../apps/api/test/harness.js';
import { WorkerMetrics } from '../../apps/worker/src/metrics.js';
import { REPO_ROOT } from './kubernetes.js';

interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { uid: string };
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: { expr: string; datasource?: { uid: string } }[];
}

const dashboard = JSON.parse(readFileSync(join(REPO_ROOT, 'infra/grafana/swavlab.json'), 'utf8')) as {
  uid: string;
  panels: Panel[];
  templating: { list: { name: string; type: string }[] };
};

/** Series names a Prometheus text exposition defines: each family, and a histogram's _bucket, _sum and _count. */
function exported(text: string): string[] {
  return [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].flatMap(([, name = '', type]) =>
    type === 'histogram' ? [name, `${name}_bucket`, `${name}_sum`, `${name}_count`] : [name],
  );
}

const FUNCTIONS_AND_KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'or',
  'and',
  'unless',
  'offset',
]);

/** The metric names a PromQL expression selects: identifiers outside label matchers, grouping and ranges. */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring)\s*\([^)]*\)/g, ' ');
  return [...bare.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\()?/g)]
    .filter(([, name = '', call]) => call === undefined && !FUNCTIONS_AND_KEYWORDS.has(name))
    .map(([, name = '']) => name);
}

describe('metric names in the dashboard and the autoscaler', () => {
  let harness: Harness;
  let names: Set<string>;

  beforeAll(async () => {
    harness = await startHarness({ backend: 'postgres' });
    const api = await harness.app.inject({ method: 'GET', url: '/metrics' });
    expect(api.statusCode).toBe(200);
    const worker = new WorkerMetrics().render({
      running: { pretrain: 0, evaluate: 0 },
      waitingForSlots: 0,
      slotsTotal: 1,
      slotsBusy: 0,
    });
    // `up` is the one series Prometheus makes itself, per scrape target.
    names = new Set([...exported(api.body), ...exported(worker), 'up']);
  });
  afterAll(() => harness?.close());

  it('finds the names in PromQL', () => {
    expect(
      metricNames(
        'histogram_quantile(0.95, sum by (le, route) (rate(http_request_duration_seconds_bucket{job="a", ns=~"$x"}[5m]))) / count(up == 1) or vector(0)',
      ),
    ).toEqual(['http_request_duration_seconds_bucket', 'up']);
  });

  it('the dashboard charts only exported metrics, from its datasource variable, within 24 columns', () => {
    expect(dashboard.templating.list.map((variable) => variable.name)).toEqual(['datasource', 'namespace']);
    const ids = dashboard.panels.map((panel) => panel.id);
    expect(new Set(ids).size).toBe(ids.length);
    const charted = new Set<string>();
    for (const panel of dashboard.panels.filter((candidate) => candidate.type !== 'row')) {
      expect(panel.gridPos.x + panel.gridPos.w, panel.title).toBeLessThanOrEqual(24);
      expect(panel.datasource?.uid, panel.title).toBe(`\${datasource}`);
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets ?? []) {
        const used = metricNames(target.expr);
        expect(used.length, target.expr).toBeGreaterThan(0);
        for (const name of used) {
          expect(names.has(name), `${panel.title}: ${name} is not exported`).toBe(true);
          charted.add(name);
        }
      }
    }
    // Every worker family of issue 15 point 3 is on the dashboard.
    for (const family of [
      'swavlab_worker_jobs_running',
      'swavlab_worker_slots_busy',
      'swavlab_worker_step_seconds_bucket',
      'swavlab_worker_events_persisted_total',
      'swavlab_worker_failures_total',
      'swavlab_slots_demanded',
    ]) {
      expect(charted, family).toContain(family);
    }
  });

  it("KEDA's query reads a metric the API exports", () => {
    const scaled = parse(readFileSync(join(REPO_ROOT, 'infra/k8s/base/autoscaling.yaml'), 'utf8')) as {
      spec: { triggers: { metadata: { query: string } }[] };
    };
    const used = scaled.spec.triggers.flatMap((trigger) => metricNames(trigger.metadata.query));
    expect(used).toEqual(['swavlab_slots_demanded']);
    for (const name of used) expect(names.has(name)).toBe(true);
  });
});
