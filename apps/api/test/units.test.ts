// Unit tests of the pure helpers: downsampling, statistics, configuration, data roots, JSON shape checks and
// CSV escaping.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOG_LEVELS } from '@swavlab/telemetry';
import fc from 'fast-check';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createApiLogger } from '../src/app.js';
import { ConfigError, hashToken, isLoopbackHost, loadConfig, parseEnvTokens } from '../src/config.js';
import { checkDataPath } from '../src/data-roots.js';
import { downsampleMinMax } from '../src/downsample.js';
import { checkJsonShape, MAX_JSON_DEPTH } from '../src/json-body.js';
import { ProblemError } from '../src/problem.js';
import { toCsv } from '../src/queries/csv.js';
import { summarize } from '../src/stats.js';
import { jsonSerializerCompiler } from '../src/validation.js';

describe('downsampleMinMax', () => {
  const series = (values: number[]) => values.map((value, step) => ({ step, value }));

  it('returns short series unchanged', () => {
    const points = series([3, 1, 2]);
    expect(downsampleMinMax(points, 3)).toEqual(points);
  });

  it('keeps the first and last points and every bucket extreme, within max_points, in step order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ noNaN: true, min: -1e6, max: 1e6 }), { minLength: 3, maxLength: 400 }),
        fc.integer({ min: 2, max: 50 }),
        (values, maxPoints) => {
          const points = series(values);
          const out = downsampleMinMax(points, maxPoints);
          expect(out.length).toBeLessThanOrEqual(maxPoints);
          expect(out[0]).toBe(points[0]);
          expect(out.at(-1)).toBe(points.at(-1));
          for (let i = 1; i < out.length; i++)
            expect((out[i] as { step: number }).step).toBeGreaterThan((out[i - 1] as { step: number }).step);
          if (points.length > maxPoints && maxPoints >= 4) {
            const interior = values.slice(1, -1);
            const kept = out.map((p) => p.value);
            expect(kept).toContain(Math.max(...interior));
            expect(kept).toContain(Math.min(...interior));
          }
        },
      ),
    );
  });

  it('keeps a NaN spike visible', () => {
    const values = Array.from({ length: 100 }, (_, i) => (i === 40 ? Number.NaN : 1));
    expect(downsampleMinMax(series(values), 10).some((p) => Number.isNaN(p.value))).toBe(true);
  });
});

describe('summarize', () => {
  it('computes mean, sample std, min and max', () => {
    expect(summarize([2, 4, 4, 4, 5, 5, 7, 9])).toEqual({
      n: 8,
      mean: 5,
      std: Math.sqrt(32 / 7),
      min: 2,
      max: 9,
    });
    expect(summarize([0.5])).toEqual({ n: 1, mean: 0.5, std: null, min: 0.5, max: 0.5 });
    expect(summarize([])).toEqual({ n: 0, mean: null, std: null, min: null, max: null });
  });

  it('stays accurate for values with a large common offset', () => {
    const s = summarize([1e9 + 4, 1e9 + 7, 1e9 + 13, 1e9 + 16]);
    expect(s.std).toBeCloseTo(Math.sqrt(30), 6);
  });
});

describe('configuration', () => {
  it('applies the documented defaults', () => {
    expect(loadConfig({})).toMatchObject({
      host: '127.0.0.1',
      port: 8080,
      tokens: [],
      dataRoots: [],
      bodyLimit: 1024 * 1024,
      databaseUrl: undefined,
      redisUrl: 'redis://127.0.0.1:6379',
      queuePrefix: undefined,
    });
    // The API enqueues under the same BullMQ prefix the worker reads from SWAVLAB_QUEUE_PREFIX.
    expect(loadConfig({ SWAVLAB_QUEUE_PREFIX: 'lab' }).queuePrefix).toBe('lab');
  });

  it('parses tokens with scopes and keeps only their hashes', () => {
    const tokens = parseEnvTokens('read+submit:ci-token-0123456789abcdef, admin-token-0123456789abcdef');
    expect(tokens).toEqual([
      { name: 'env:1', sha256: hashToken('ci-token-0123456789abcdef'), scopes: ['read', 'submit'] },
      { name: 'env:2', sha256: hashToken('admin-token-0123456789abcdef'), scopes: ['admin'] },
    ]);
    expect(JSON.stringify(tokens)).not.toContain('0123456789abcdef');
  });

  it.each([
    [{ PORT: 'eighty' }, /^PORT: expected a whole number/],
    [{ PORT: '70000' }, /^PORT: expected a whole number from 0 to 65535, got "70000"$/],
    [{ SWAVLAB_API_TOKENS: 'short' }, /^SWAVLAB_API_TOKENS entry 1: a token needs 16/],
    [{ SWAVLAB_API_TOKENS: 'root:abcdefghijklmnopqrstuvwxyz' }, /unknown scope "root"/],
    [{ SWAVLAB_DATA_ROOTS: 'relative/path' }, /^SWAVLAB_DATA_ROOTS: each root must be an absolute path/],
    [{ SWAVLAB_API_BODY_LIMIT: '10' }, /^SWAVLAB_API_BODY_LIMIT: expected a whole number from 1024 to/],
    [
      { SWAVLAB_LOG_LEVEL: 'loud' },
      /^SWAVLAB_LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent/,
    ],
  ])('reports %j by its variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('takes every log level of the shared vocabulary (pino’s, as the worker)', () => {
    for (const level of LOG_LEVELS) expect(loadConfig({ SWAVLAB_LOG_LEVEL: level }).logLevel).toBe(level);
  });

  it('tells loopback hosts from the others', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]'])
      expect(isLoopbackHost(host), host).toBe(true);
    for (const host of ['0.0.0.0', '::', '10.0.0.1', 'example.org', '128.0.0.1'])
      expect(isLoopbackHost(host), host).toBe(false);
  });
});

describe('checkDataPath', () => {
  let base: string;
  let root: string;
  beforeAll(() => {
    base = mkdtempSync(join(tmpdir(), 'swavlab-dataroots-'));
    root = join(base, 'root');
    mkdirSync(join(root, 'imagenet', 'train'), { recursive: true });
    mkdirSync(join(base, 'secret'));
    symlinkSync(join(base, 'secret'), join(root, 'leak'));
    symlinkSync(join(root, 'imagenet'), join(root, 'alias'));
  });
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  it('accepts folders inside a root, relative or absolute, also through symlinks that stay inside', async () => {
    expect(await checkDataPath('imagenet/train', [root])).toMatchObject({ ok: true });
    expect(await checkDataPath(join(root, 'imagenet'), [root])).toMatchObject({ ok: true });
    expect(await checkDataPath('alias/train', [root])).toMatchObject({ ok: true });
  });

  it('refuses escapes, files that are not folders, missing folders and unset roots', async () => {
    expect(await checkDataPath('../secret', [root])).toMatchObject({
      ok: false,
      message: expect.stringContaining('outside'),
    });
    expect(await checkDataPath('leak', [root])).toMatchObject({
      ok: false,
      message: expect.stringContaining('outside'),
    });
    expect(await checkDataPath(join(base, 'secret'), [root])).toMatchObject({ ok: false });
    expect(await checkDataPath('imagenet/val', [root])).toMatchObject({
      ok: false,
      message: expect.stringContaining('not an existing folder'),
    });
    expect(await checkDataPath('imagenet', [])).toMatchObject({
      ok: false,
      message: expect.stringContaining('SWAVLAB_DATA_ROOTS is not set'),
    });
  });
});

describe('checkJsonShape', () => {
  it(`allows ${MAX_JSON_DEPTH} levels and refuses deeper nesting with its path`, () => {
    let ok: unknown = 1;
    for (let i = 0; i < MAX_JSON_DEPTH; i++) ok = [ok];
    expect(() => checkJsonShape(ok)).not.toThrow();
    const error = (() => {
      try {
        checkJsonShape({ a: [ok] });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ProblemError);
    expect((error as ProblemError).errors[0]?.path).toMatch(/^a\[0\]/);
  });
});

describe('CSV export', () => {
  it('quotes what needs quoting and keeps text from starting a spreadsheet formula', () => {
    const csv = toCsv(
      ['name', 'value'],
      [
        ['=HYPERLINK("http://evil")', -0.5],
        ['+cmd', 1],
        ['-2+3', null],
        ['@SUM(A1)', Number.NaN],
        ['\tx', 2],
        ['a,b', { k: [1, 2] }],
        ['plain', 3],
      ],
    );
    expect(csv.split('\r\n')).toEqual([
      'name,value',
      `"'=HYPERLINK(""http://evil"")",-0.5`,
      "'+cmd,1",
      "'-2+3,",
      "'@SUM(A1),",
      "'\tx,2",
      '"a,b","{""k"":[1,2]}"',
      'plain,3',
      '',
    ]);
  });
});

describe('response validation (tests)', () => {
  it('parses each response with its route schema and fails the request when it strays', async () => {
    const app = Fastify();
    app.setSerializerCompiler(jsonSerializerCompiler(true));
    const View = z.object({ n: z.int(), when: z.iso.datetime() });
    const body: { n: unknown; when: unknown } = { n: 1, when: new Date(0) };
    app.get('/view', { schema: { response: { 200: View } } }, async () => body);
    const good = await app.inject({ method: 'GET', url: '/view' });
    expect(good.json()).toEqual({ n: 1, when: '1970-01-01T00:00:00.000Z' });
    body.n = 'one';
    const bad = await app.inject({ method: 'GET', url: '/view' });
    expect(bad.statusCode).toBe(500);
    const lenient = Fastify();
    lenient.setSerializerCompiler(jsonSerializerCompiler(false));
    lenient.get('/view', { schema: { response: { 200: View } } }, async () => body);
    expect((await lenient.inject({ method: 'GET', url: '/view' })).json()).toMatchObject({ n: 'one' });
  });
});

describe('API logs', () => {
  it('never show the arguments of a failed Redis command (AUTH carries the password)', () => {
    const lines: string[] = [];
    const app = Fastify({ loggerInstance: createApiLogger('info', (line) => lines.push(line)) });
    const error = Object.assign(new Error('WRONGPASS invalid username-password pair'), {
      command: { name: 'auth', args: ['app', 'hunter2'] },
    });
    app.log.error({ err: error }, 'redis refused');
    app.log.warn({ redisUrl: 'redis://app:hunter2@redis:6379' }, 'waiting for Redis');
    expect(lines.join('')).toContain('WRONGPASS');
    expect(lines.join('')).not.toContain('hunter2');
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({ level: 'error', msg: 'redis refused' });
  });
});
