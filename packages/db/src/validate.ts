// Input checks shared by the repositories; each failure names the field (path) and the reason.
import { InvalidInputError } from './errors.js';

const INT4_MAX = 2_147_483_647;

/** An integer that fits PostgreSQL's `integer`, within [min, max]. */
export function requireInt(value: unknown, path: string, min = -INT4_MAX - 1, max = INT4_MAX): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new InvalidInputError(path, `expected an integer, got ${JSON.stringify(value)}`);
  }
  if (value < min || value > max) throw new InvalidInputError(path, `must be between ${min} and ${max}`);
  return value;
}

export function requireNonNegativeInt(value: unknown, path: string): number {
  return requireInt(value, path, 0);
}

/** A finite number, or null; used for optional measurements such as an ETA. */
export function optionalFinite(value: unknown, path: string): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new InvalidInputError(path, `expected a finite number, got ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * A measured value. Prisma serialises ±Infinity as NaN, so every non-finite value is stored as NaN on
 * purpose (a diverged loss stays visible as NaN rather than being rejected).
 */
export function measuredValue(value: unknown, path: string): number {
  if (typeof value !== 'number')
    throw new InvalidInputError(path, `expected a number, got ${JSON.stringify(value)}`);
  return Number.isFinite(value) ? value : Number.NaN;
}

export function requireString(value: unknown, path: string, maxLength = 10_000): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidInputError(path, 'expected a non-empty string');
  }
  if (value.length > maxLength) throw new InvalidInputError(path, `longer than ${maxLength} characters`);
  return value;
}

export function optionalString(value: unknown, path: string, maxLength = 10_000): string | null {
  return value === undefined || value === null ? null : requireString(value, path, maxLength);
}

export function requireStringArray(value: unknown, path: string): string[] {
  if (!Array.isArray(value)) throw new InvalidInputError(path, 'expected an array of strings');
  return value.map((item, i) => requireString(item, `${path}[${i}]`, 200));
}

export function requireOneOf<const T extends readonly string[]>(
  value: unknown,
  allowed: T,
  path: string,
): T[number] {
  if (typeof value !== 'string' || !allowed.includes(value)) {
    throw new InvalidInputError(path, `expected one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
  }
  return value;
}

export function requireJsonObject<T>(value: T, path: string): T {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidInputError(path, 'expected a JSON object');
  }
  return value;
}

/** A size in bytes: a safe integer >= 0 (files may exceed PostgreSQL's `integer`; stored as bigint). */
export function requireByteCount(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new InvalidInputError(path, `expected a non-negative integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** A sha256 digest: 64 lowercase hex characters. */
export function requireSha256(value: unknown, path: string): string {
  if (typeof value !== 'string' || !/^[0-9a-f]{64}$/.test(value)) {
    throw new InvalidInputError(path, 'expected 64 lowercase hex characters');
  }
  return value;
}
