import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  createLogger,
  LOG_LEVELS,
  logLevel,
  parseEnv,
  text,
  wholeNumber,
} from '../src/index.js';

const shape = {
  SWAVLAB_LOG_LEVEL: logLevel,
  HOST: text('127.0.0.1'),
  TOKEN: text(),
  PORT: wholeNumber({ min: 0, max: 65535, fallback: 8080 }),
  SLOTS: wholeNumber({ min: 1 }),
};

describe('parseEnv', () => {
  it('applies defaults, treats empty variables as unset and converts numbers', () => {
    expect(parseEnv(shape, {})).toEqual({
      SWAVLAB_LOG_LEVEL: 'info',
      HOST: '127.0.0.1',
      TOKEN: undefined,
      PORT: 8080,
      SLOTS: undefined,
    });
    expect(parseEnv(shape, { SWAVLAB_LOG_LEVEL: '', HOST: '', PORT: '0', SLOTS: '3', TOKEN: 'x' })).toEqual({
      SWAVLAB_LOG_LEVEL: 'info',
      HOST: '127.0.0.1',
      TOKEN: 'x',
      PORT: 0,
      SLOTS: 3,
    });
  });

  it.each([
    [{ PORT: '65536' }, 'PORT: expected a whole number from 0 to 65535, got "65536"'],
    [{ PORT: '8080.5' }, 'PORT: expected a whole number from 0 to 65535, got "8080.5"'],
    [{ PORT: '-1' }, 'PORT: expected a whole number from 0 to 65535, got "-1"'],
    [{ SLOTS: '0' }, 'SLOTS: expected a whole number >= 1, got "0"'],
    [{ SLOTS: '99999999999999999999' }, 'SLOTS: expected a whole number >= 1, got "99999999999999999999"'],
    [
      { SWAVLAB_LOG_LEVEL: 'TRACE' },
      'SWAVLAB_LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent, got "TRACE"',
    ],
    // The first bad variable in the shape's order is the one reported.
    [{ SLOTS: 'x', SWAVLAB_LOG_LEVEL: 'loud' }, /^SWAVLAB_LOG_LEVEL:/],
  ])('refuses %j naming the variable', (env, message) => {
    expect(() => parseEnv(shape, env)).toThrow(ConfigError);
    expect(() => parseEnv(shape, env)).toThrow(message);
  });

  it('accepts every level of the vocabulary', () => {
    for (const level of LOG_LEVELS)
      expect(parseEnv(shape, { SWAVLAB_LOG_LEVEL: level }).SWAVLAB_LOG_LEVEL).toBe(level);
  });
});

describe('createLogger', () => {
  it('writes JSON lines with level names at or above its level, each through the redaction', () => {
    const lines: string[] = [];
    const logger = createLogger('debug', {
      write: (line) => lines.push(line),
      redact: (line) => line.replaceAll('hunter2', '***'),
    });
    logger.trace('below the level');
    logger.debug({ runId: 'R1' }, 'kept');
    logger.error(
      { err: Object.assign(new Error('auth'), { command: { args: ['app', 'pw'] } }) },
      'with hunter2',
    );
    const parsed = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(parsed).toEqual([
      expect.objectContaining({ level: 'debug', msg: 'kept', runId: 'R1', time: expect.any(String) }),
      expect.objectContaining({ level: 'error', msg: 'with ***' }),
    ]);
    expect(lines.join('')).not.toMatch(/hunter2|"pw"/);
    expect(new Date(String(parsed[0]?.time)).getTime()).not.toBeNaN();
  });

  it('logs nothing at silent', () => {
    const lines: string[] = [];
    createLogger('silent', { write: (line) => lines.push(line) }).fatal('nothing');
    expect(lines).toEqual([]);
  });
});
