import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../src/index.js';
import { testBackends } from './backends.js';

describe.each(testBackends())('API tokens on $kind', (backend) => {
  let db: Database;

  beforeAll(async () => {
    ({ db } = await backend.fresh());
  });

  it('hands out the plaintext once and stores only its sha256', async () => {
    const { token, apiToken } = await db.tokens.createApiToken('ci', ['runs:write', 'regressions:write']);
    expect(token).toMatch(/^swl_[A-Za-z0-9_-]{43}$/);
    expect(apiToken).toMatchObject({
      name: 'ci',
      scopes: ['runs:write', 'regressions:write'],
      lastUsedAt: null,
    });
    expect(apiToken).not.toHaveProperty('tokenHash');
    const stored = await db.query<{
      token_hash: string;
    }>`SELECT token_hash FROM api_tokens WHERE id = ${apiToken.id}`;
    expect(stored).toEqual([{ token_hash: createHash('sha256').update(token).digest('hex') }]);
  });

  it('finds an active token by its plaintext and marks it used', async () => {
    const { token, apiToken } = await db.tokens.createApiToken('dashboard', ['runs:read']);
    const found = await db.tokens.findApiToken(token);
    expect(found).toMatchObject({ id: apiToken.id, name: 'dashboard', scopes: ['runs:read'] });
    expect(found?.lastUsedAt).toBeInstanceOf(Date);
    // Within the resolution, a lookup is a read: lastUsedAt stays as first written.
    const [before] = await db.query<{
      last_used_at: Date;
    }>`SELECT last_used_at FROM api_tokens WHERE id = ${apiToken.id}`;
    await new Promise((resolve) => setTimeout(resolve, 20));
    await db.tokens.findApiToken(token);
    const [after] = await db.query<{
      last_used_at: Date;
    }>`SELECT last_used_at FROM api_tokens WHERE id = ${apiToken.id}`;
    expect(after?.last_used_at).toEqual(before?.last_used_at);
    expect(await db.tokens.findApiToken(`${token}x`)).toBeNull();
    expect(await db.tokens.findApiToken('')).toBeNull();

    expect(await db.tokens.revokeApiToken(apiToken.id)).toBe(true);
    expect(await db.tokens.revokeApiToken(apiToken.id)).toBe(false);
    expect(await db.tokens.findApiToken(token)).toBeNull();
    const listed = (await db.tokens.listApiTokens()).find((t) => t.id === apiToken.id);
    expect(listed?.revokedAt).toBeInstanceOf(Date);
  });

  it('names the bad field', async () => {
    await expect(db.tokens.createApiToken('', [])).rejects.toThrow(/^name: expected a non-empty string/);
    await expect(db.tokens.createApiToken('x', ['ok', ''])).rejects.toThrow(
      /^scopes\[1\]: expected a non-empty string/,
    );
  });
});
