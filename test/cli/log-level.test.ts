// SWAVLAB_LOG_LEVEL is one vocabulary (pino's) for the API and the worker: `swavlab up` starts with any of its levels
// and both apps log pino JSON lines at it; a level outside it is a usage error naming the variable.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEnv, ensureCliBuilt, removeHome, startUp, swavlab, tempHome } from './helpers.js';

let home: string;
beforeAll(async () => {
  await ensureCliBuilt();
  home = await tempHome();
}, 300_000);
afterAll(() => removeHome(home));

/** The JSON log lines among what a process printed on stderr (the stack also prints plain progress lines). */
function logLines(stderr: string): Record<string, unknown>[] {
  return stderr
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('SWAVLAB_LOG_LEVEL', () => {
  it('trace: swavlab up starts, and the API and the worker log at that level', async () => {
    const up = await startUp(cliEnv({ SWAVLAB_HOME: home, SWAVLAB_LOG_LEVEL: 'trace' }));
    try {
      expect((await fetch(`${up.url}/readyz`)).status).toBe(200);
      const lines = logLines(up.stderr());
      // The API logs each request (a request id), the worker its start (its slots); both as level names.
      expect(lines.some((line) => line.reqId !== undefined && line.level === 'info')).toBe(true);
      expect(lines.some((line) => line.slots !== undefined)).toBe(true);
      expect(lines.every((line) => typeof line.level === 'string' && typeof line.time === 'string')).toBe(
        true,
      );
    } finally {
      expect(await up.stop()).toBe(0);
    }
  }, 120_000);

  it('outside the vocabulary: a usage error naming the variable and the levels', async () => {
    const refused = await swavlab(
      ['up', '--port', '0'],
      cliEnv({ SWAVLAB_HOME: home, SWAVLAB_LOG_LEVEL: 'verbose' }),
    );
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(
      'SWAVLAB_LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent, got "verbose"',
    );
  }, 60_000);
});
