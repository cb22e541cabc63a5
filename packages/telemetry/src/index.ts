/**
 * @swavlab/telemetry: what the API and the worker expose to operators — Prometheus text exposition, the process's
 * own metrics, and bounded readiness probes (see README.md).
 */
export { PROBE_TIMEOUT_MS, probe, withDeadline } from './deadline.js';
export {
  ConfigError,
  type EnvShape,
  type EnvValues,
  logLevel,
  parseEnv,
  text,
  type WholeNumberLimits,
  wholeNumber,
} from './env.js';
export { createLogger, LOG_LEVELS, type LoggerDestination, type LogLevel, loggerOptions } from './logger.js';
export { renderProcessMetrics } from './process-metrics.js';
export {
  Counter,
  Histogram,
  LATENCY_BUCKETS,
  type Labels,
  PROMETHEUS_CONTENT_TYPE,
  renderCounter,
  renderGauge,
  type Sample,
} from './prometheus.js';
