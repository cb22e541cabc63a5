// docker/entrypoint.sh: secrets given as files become the variables swavlab reads; the database password goes into
// DATABASE_URL percent-encoded; bad input is refused naming the variable; the command replaces the script (exec).
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ENTRYPOINT = fileURLToPath(new URL('../../docker/entrypoint.sh', import.meta.url));
// Prints the variables the tests look at, as JSON.
const PRINT_ENV = `process.stdout.write(JSON.stringify(process.env))`;

interface Outcome {
  code: number;
  env: Record<string, string>;
  stderr: string;
}

function entrypoint(
  env: Record<string, string>,
  command = [process.execPath, '-e', PRINT_ENV],
): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(
      ENTRYPOINT,
      command,
      { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env } },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, env: code === 0 && stdout.startsWith('{') ? JSON.parse(stdout) : {}, stderr });
      },
    );
  });
}

let dir: string;
const file = async (name: string, content: string): Promise<string> => {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'swavlab-entrypoint-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('docker/entrypoint.sh', () => {
  it('reads NAME_FILE into NAME without the trailing newlines, and drops NAME_FILE', async () => {
    const tokens = await file('tokens', 'read+submit:abcdefghijklmnop,qrstuvwxyz0123456789\n\n');
    const outcome = await entrypoint({ SWAVLAB_API_TOKENS_FILE: tokens });
    expect(outcome.stderr).toBe('');
    expect(outcome.env.SWAVLAB_API_TOKENS).toBe('read+submit:abcdefghijklmnop,qrstuvwxyz0123456789');
    expect(outcome.env).not.toHaveProperty('SWAVLAB_API_TOKENS_FILE');
  });

  it('leaves *_FILE variables it does not own alone (the AWS SDK reads this one as a path)', async () => {
    const token = await file('web-identity', 'jwt');
    const outcome = await entrypoint({ AWS_WEB_IDENTITY_TOKEN_FILE: token });
    expect(outcome.env.AWS_WEB_IDENTITY_TOKEN_FILE).toBe(token);
    expect(outcome.env).not.toHaveProperty('AWS_WEB_IDENTITY_TOKEN');
  });

  it('puts the password into DATABASE_URL, percent-encoded, and drops DATABASE_PASSWORD', async () => {
    const password = 'p@ss:w/rd é%#?\n';
    const outcome = await entrypoint({
      DATABASE_URL: 'postgresql://swavlab@postgres:5432/swavlab?application_name=x',
      DATABASE_PASSWORD_FILE: await file('db', password),
    });
    expect(outcome.stderr).toBe('');
    const url = new URL(outcome.env.DATABASE_URL ?? '');
    expect(decodeURIComponent(url.password)).toBe(password.trimEnd());
    expect(url.username).toBe('swavlab');
    expect(url.host).toBe('postgres:5432');
    expect(url.pathname).toBe('/swavlab');
    expect(url.searchParams.get('application_name')).toBe('x');
    expect(outcome.env).not.toHaveProperty('DATABASE_PASSWORD');
    expect(outcome.env).not.toHaveProperty('DATABASE_PASSWORD_FILE');
  });

  it('runs the command in its own place (exec), so that signals reach it directly', async () => {
    const child = execFile(
      ENTRYPOINT,
      [process.execPath, '-e', 'process.stdout.write(String(process.pid))'],
      {
        env: { PATH: process.env.PATH ?? '' },
      },
    );
    let stdout = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    await new Promise((resolve) => child.once('exit', resolve));
    expect(Number(stdout)).toBe(child.pid);
  });

  it.each([
    [
      'NAME and NAME_FILE both set',
      async () => ({ REDIS_URL: 'redis://x', REDIS_URL_FILE: await file('r', 'redis://y') }),
      'REDIS_URL and REDIS_URL_FILE are both set',
    ],
    [
      'a missing file',
      async () => ({ SWAVLAB_TOKEN_FILE: join(dir, 'nope') }),
      'SWAVLAB_TOKEN_FILE: cannot read the file /',
    ],
    [
      'an empty file',
      async () => ({ AWS_SECRET_ACCESS_KEY_FILE: await file('empty', '\n') }),
      'AWS_SECRET_ACCESS_KEY_FILE: the file',
    ],
    [
      'a password without DATABASE_URL',
      async () => ({ DATABASE_PASSWORD_FILE: await file('p1', 'secret') }),
      'DATABASE_PASSWORD is set but DATABASE_URL is not',
    ],
    [
      'a DATABASE_URL that already holds a password',
      async () => ({
        DATABASE_URL: 'postgresql://u:old@h/db',
        DATABASE_PASSWORD_FILE: await file('p2', 'secret'),
      }),
      'DATABASE_URL: expected postgresql://USER@HOST:PORT/DATABASE (no password in it)',
    ],
  ])('refuses %s, naming the variable', async (_what, env, message) => {
    const outcome = await entrypoint(await env());
    expect(outcome.code).toBe(64);
    expect(outcome.stderr).toContain(message);
  });

  it('refuses to start without a command', async () => {
    const outcome = await entrypoint({}, []);
    expect(outcome.code).toBe(64);
    expect(outcome.stderr).toContain('no command given');
  });
});
