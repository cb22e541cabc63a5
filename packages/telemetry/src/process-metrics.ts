// The process's own resources, under the names Prometheus client libraries use, so that stock dashboards and
// alerts apply. Only this Node process: a worker's training runs in child processes, which are not counted.
import { renderCounter, renderGauge } from './prometheus.js';

const startTimeSeconds = (Date.now() - process.uptime() * 1000) / 1000;

export function renderProcessMetrics(): string {
  const cpu = process.cpuUsage();
  const memory = process.memoryUsage();
  return [
    renderCounter('process_cpu_seconds_total', 'User and system CPU time spent, in seconds.', [
      { labels: {}, value: (cpu.user + cpu.system) / 1e6 },
    ]),
    renderGauge('process_resident_memory_bytes', 'Resident memory size in bytes.', [
      { labels: {}, value: memory.rss },
    ]),
    renderGauge('process_start_time_seconds', 'Start time of the process since the Unix epoch, in seconds.', [
      { labels: {}, value: Math.round(startTimeSeconds) },
    ]),
    renderGauge('nodejs_heap_size_used_bytes', 'V8 heap in use, in bytes.', [
      { labels: {}, value: memory.heapUsed },
    ]),
  ].join('');
}
