// The API server's configuration, read from the environment; every bad value is reported with its variable.
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { type ArtifactStore, openArtifactStore } from '@swavlab/artifacts';
import {
  ConfigError,
  type EnvShape,
  type LogLevel,
  logLevel,
  parseEnv,
  text,
  wholeNumber,
} from '@swavlab/telemetry';
import { isScope, type Scope } from './scopes.js';

export { ConfigError };

/** A token given in SWAVLAB_API_TOKENS; only its sha256 is kept in memory. */
export interface EnvToken {
  /** `env:<n>` (its position), so logs and metrics never show the secret. */
  name: string;
  sha256: string;
  scopes: Scope[];
}

export interface ApiConfig {
  host: string;
  port: number;
  tokens: EnvToken[];
  /** Absolute folders a `folder` dataset may live in (SWAVLAB_DATA_ROOTS, colon-separated). */
  dataRoots: string[];
  /** Largest accepted request body in bytes. */
  bodyLimit: number;
  /** Requests per minute per token (or per IP without a token); 0 disables rate limiting. */
  rateLimitPerMinute: number;
  /** Failed authentications per minute per client address before it gets 429s; 0 = no limit. */
  authFailuresPerMinute: number;
  /** Host names the Host header may carry (SWAVLAB_ALLOWED_HOSTS; default: the loopback names on loopback, else any). */
  allowedHosts: string[] | '*';
  /** Origins besides the server's own that browsers may send requests from (SWAVLAB_ALLOWED_ORIGINS). */
  allowedOrigins: string[];
  /** Live Idempotency-Keys (of the last 24 h) one client may hold (SWAVLAB_IDEMPOTENCY_KEYS). */
  idempotencyKeys: number;
  /** PostgreSQL URL; undefined selects the embedded PGlite under `home`. */
  databaseUrl: string | undefined;
  home: string;
  /** Where checkpoints and backbones are read from for downloads (SWAVLAB_ARTIFACTS, as the workers). */
  artifacts: ArtifactStore;
  redisUrl: string;
  /** Prefix of the API's own Redis keys (idempotency records, rate-limit counters). */
  redisPrefix: string;
  /** BullMQ key prefix (SWAVLAB_QUEUE_PREFIX, default BullMQ's "bull"); must equal the workers'. */
  queuePrefix: string | undefined;
  /** How often an event stream looks for changes of its run, and how often it sends a heartbeat. */
  ssePollMs: number;
  sseHeartbeatMs: number;
  logLevel: LogLevel;
}

const MIB = 1024 * 1024;
const TOKEN_CHARS = /^[A-Za-z0-9._~=/+-]{16,512}$/;

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** The API's environment variables, their defaults and limits (apps/api/README.md lists them). */
const ApiEnv = {
  SWAVLAB_LOG_LEVEL: logLevel,
  HOST: text('127.0.0.1'),
  PORT: wholeNumber({ min: 0, max: 65535, fallback: 8080 }),
  SWAVLAB_API_TOKENS: text(),
  SWAVLAB_DATA_ROOTS: text(),
  SWAVLAB_API_BODY_LIMIT: wholeNumber({ min: 1024, max: 64 * MIB, fallback: MIB }),
  SWAVLAB_API_RATE_LIMIT: wholeNumber({ min: 0, max: 1_000_000, fallback: 1200 }),
  SWAVLAB_AUTH_FAILURES_PER_MINUTE: wholeNumber({ min: 0, max: 1_000_000, fallback: 30 }),
  SWAVLAB_IDEMPOTENCY_KEYS: wholeNumber({ min: 1, max: 10_000_000, fallback: 10_000 }),
  SWAVLAB_ALLOWED_HOSTS: text(),
  SWAVLAB_ALLOWED_ORIGINS: text(),
  DATABASE_URL: text(),
  SWAVLAB_HOME: text('./.swavlab'),
  SWAVLAB_ARTIFACTS: text(),
  REDIS_URL: text('redis://127.0.0.1:6379'),
  SWAVLAB_REDIS_PREFIX: text('swavlab'),
  SWAVLAB_QUEUE_PREFIX: text(),
  SWAVLAB_SSE_POLL_MS: wholeNumber({ min: 10, max: 60_000, fallback: 500 }),
  SWAVLAB_SSE_HEARTBEAT_MS: wholeNumber({ min: 100, max: 600_000, fallback: 15_000 }),
} satisfies EnvShape;

/**
 * SWAVLAB_API_TOKENS: comma-separated entries `TOKEN` (admin) or `SCOPES:TOKEN`, SCOPES being `+`-separated
 * (`read`, `submit`, `admin`), e.g. `read+submit:ci-4f8a...`. Tokens are at least 16 characters.
 */
export function parseEnvTokens(raw: string | undefined): EnvToken[] {
  if (raw === undefined || raw.trim() === '') return [];
  return raw.split(',').map((entry, i) => {
    const where = `SWAVLAB_API_TOKENS entry ${i + 1}`;
    const trimmed = entry.trim();
    const colon = trimmed.indexOf(':');
    const scopeText = colon === -1 ? 'admin' : trimmed.slice(0, colon);
    const token = colon === -1 ? trimmed : trimmed.slice(colon + 1);
    const scopes = scopeText.split('+');
    for (const scope of scopes) {
      if (!isScope(scope)) {
        throw new ConfigError(
          where,
          `unknown scope ${JSON.stringify(scope)}; expected read, submit or admin`,
        );
      }
    }
    if (!TOKEN_CHARS.test(token)) {
      throw new ConfigError(where, 'a token needs 16 to 512 characters from A-Z a-z 0-9 . _ ~ = / + -');
    }
    return { name: `env:${i + 1}`, sha256: hashToken(token), scopes: scopes as Scope[] };
  });
}

function dataRoots(raw: string | undefined): string[] {
  if (raw === undefined || raw.trim() === '') return [];
  const roots = raw.split(':').filter((root) => root !== '');
  for (const root of roots) {
    if (!root.startsWith('/')) {
      throw new ConfigError(
        'SWAVLAB_DATA_ROOTS',
        `each root must be an absolute path, got ${JSON.stringify(root)}`,
      );
    }
  }
  return roots;
}

function allowedHosts(raw: string | undefined, host: string): string[] | '*' {
  if (raw === undefined || raw.trim() === '') {
    if (!isLoopbackHost(host)) return '*';
    const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
    return [...new Set(['localhost', '127.0.0.1', '::1', bare.toLowerCase()])];
  }
  if (raw.trim() === '*') return '*';
  const names = raw.split(',').map((name) => name.trim().toLowerCase());
  const bad = names.find((name) => !/^[a-z0-9.:-]+$/.test(name));
  if (bad !== undefined) {
    throw new ConfigError(
      'SWAVLAB_ALLOWED_HOSTS',
      `expected host names without port, or *; got ${JSON.stringify(bad)}`,
    );
  }
  return names;
}

function allowedOrigins(raw: string | undefined): string[] {
  if (raw === undefined || raw.trim() === '') return [];
  return raw.split(',').map((entry) => {
    const origin = entry.trim();
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = undefined;
    }
    if (parsed === undefined || parsed.origin !== origin) {
      throw new ConfigError(
        'SWAVLAB_ALLOWED_ORIGINS',
        `expected origins such as https://lab.example.org; got ${JSON.stringify(origin)}`,
      );
    }
    return origin;
  });
}

/** Reads the configuration from `env`, applying the documented defaults. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): ApiConfig {
  const vars = parseEnv(ApiEnv, env);
  return {
    host: vars.HOST,
    port: vars.PORT,
    tokens: parseEnvTokens(vars.SWAVLAB_API_TOKENS),
    dataRoots: dataRoots(vars.SWAVLAB_DATA_ROOTS),
    bodyLimit: vars.SWAVLAB_API_BODY_LIMIT,
    rateLimitPerMinute: vars.SWAVLAB_API_RATE_LIMIT,
    authFailuresPerMinute: vars.SWAVLAB_AUTH_FAILURES_PER_MINUTE,
    idempotencyKeys: vars.SWAVLAB_IDEMPOTENCY_KEYS,
    allowedHosts: allowedHosts(vars.SWAVLAB_ALLOWED_HOSTS, vars.HOST),
    allowedOrigins: allowedOrigins(vars.SWAVLAB_ALLOWED_ORIGINS),
    databaseUrl: vars.DATABASE_URL,
    home: vars.SWAVLAB_HOME,
    artifacts: artifactStore(vars.SWAVLAB_ARTIFACTS ?? join(vars.SWAVLAB_HOME, 'artifacts'), env),
    redisUrl: vars.REDIS_URL,
    redisPrefix: vars.SWAVLAB_REDIS_PREFIX,
    queuePrefix: vars.SWAVLAB_QUEUE_PREFIX,
    ssePollMs: vars.SWAVLAB_SSE_POLL_MS,
    sseHeartbeatMs: vars.SWAVLAB_SSE_HEARTBEAT_MS,
    logLevel: vars.SWAVLAB_LOG_LEVEL,
  };
}

// The S3 settings of an s3:// store are read from `env` by @swavlab/artifacts.
function artifactStore(location: string, env: NodeJS.ProcessEnv): ArtifactStore {
  try {
    return openArtifactStore(location, env);
  } catch (error) {
    const [variable, ...reason] = (error as Error).message.split(': ');
    throw new ConfigError(variable ?? 'SWAVLAB_ARTIFACTS', reason.join(': '));
  }
}

/** Whether `host` only accepts connections from this machine. */
export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost') return true;
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  if (isIP(bare) === 6) return bare === '::1' || bare.toLowerCase().startsWith('::ffff:127.');
  return false;
}
